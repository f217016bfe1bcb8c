import { describe, expect, it } from 'vitest';
import { likeToRegExp, parseSoql, SoqlError, type SoqlQuery } from '../../src/domain/soql.js';

/** Parses and expects a SoqlError; returns it for further assertions. */
function fail(text: string): SoqlError {
  try {
    parseSoql(text);
  } catch (e) {
    expect(e).toBeInstanceOf(SoqlError);
    return e as SoqlError;
  }
  throw new Error(`expected a SoqlError for: ${text}`);
}

/** The single WHERE condition's value of `SELECT Id FROM A WHERE X <op> <value>`. */
function whereValue(value: string, op = '='): unknown {
  const q = parseSoql(`SELECT Id FROM A WHERE X ${op} ${value}`);
  expect(q.where).toHaveLength(1);
  return q.where[0].value;
}

describe('parseSoql: SELECT and FROM', () => {
  it('parses a minimal query', () => {
    expect(parseSoql('SELECT Id FROM Account')).toEqual<SoqlQuery>({
      fields: ['Id'],
      count: false,
      object: 'Account',
      where: [],
      orderBy: [],
    });
  });

  it('omits limit and offset when absent', () => {
    const q = parseSoql('SELECT Id FROM Account');
    expect('limit' in q).toBe(false);
    expect('offset' in q).toBe(false);
  });

  it('parses several fields and keeps their spelling', () => {
    const q = parseSoql('SELECT id, NAME, Custom_Field__c, _x1 FROM my_Object__c');
    expect(q.fields).toEqual(['id', 'NAME', 'Custom_Field__c', '_x1']);
    expect(q.object).toBe('my_Object__c');
  });

  it('accepts keywords in any case and any whitespace', () => {
    const q = parseSoql('  sElEcT\tId ,Name\nfRoM\r\n  Account  ');
    expect(q.fields).toEqual(['Id', 'Name']);
    expect(q.object).toBe('Account');
  });

  it('accepts non-reserved words like Order as object and field names', () => {
    const q = parseSoql('SELECT Id, Order, Count FROM Order ORDER BY Order');
    expect(q.fields).toEqual(['Id', 'Order', 'Count']);
    expect(q.object).toBe('Order');
    expect(q.orderBy).toEqual([{ field: 'Order', direction: 'ASC', nulls: 'FIRST' }]);
  });

  it('parses COUNT()', () => {
    expect(parseSoql('SELECT COUNT() FROM Account')).toEqual<SoqlQuery>({
      fields: [],
      count: true,
      object: 'Account',
      where: [],
      orderBy: [],
    });
    expect(parseSoql('select count( ) from Account WHERE Name = \'x\' LIMIT 5')).toMatchObject({
      count: true,
      fields: [],
      limit: 5,
    });
  });

  it('rejects COUNT() combined with fields', () => {
    expect(fail('SELECT COUNT(), Id FROM A').message).toContain('COUNT() must be the only item in the SELECT list');
    expect(fail('SELECT Id, COUNT() FROM A').message).toContain('COUNT() must be the only item in the SELECT list');
    expect(fail('SELECT COUNT(), COUNT() FROM A').message).toContain('COUNT() must be the only item');
  });

  it('rejects COUNT(field)', () => {
    const e = fail('SELECT COUNT(Id) FROM A');
    expect(e.message).toBe('COUNT(field) is not supported in this SOQL subset; use COUNT() (at position 7)');
    expect(e.position).toBe(7);
  });

  it.each(['SUM', 'avg', 'MIN', 'MAX', 'COUNT_DISTINCT'])('rejects the aggregate %s()', (fn) => {
    const e = fail(`SELECT ${fn}(Amount) FROM A`);
    expect(e.message).toContain(`aggregate function ${fn}() is not supported in this SOQL subset; only COUNT() is supported`);
    expect(e.position).toBe(7);
  });

  it('rejects other functions in the SELECT list', () => {
    expect(fail('SELECT toLabel(Status) FROM A').message).toContain('function toLabel() is not supported');
    expect(fail('SELECT FIELDS(ALL) FROM A').message).toContain('function FIELDS() is not supported');
  });

  it('rejects a relationship field', () => {
    const e = fail('SELECT Id, Account.Name FROM Contact');
    expect(e.message).toContain("relationship field 'Account.Name' is not supported in this SOQL subset");
    expect(e.position).toBe(11);
  });

  it('rejects a subquery in the SELECT list', () => {
    const e = fail('SELECT Id, (SELECT Id FROM Contacts) FROM Account');
    expect(e.message).toContain('subqueries are not supported in this SOQL subset');
    expect(e.position).toBe(11);
  });

  it('rejects TYPEOF', () => {
    expect(fail('SELECT TYPEOF What WHEN Account THEN Name END FROM Event').message).toContain('TYPEOF is not supported');
  });

  it('rejects SELECT *', () => {
    const e = fail('SELECT * FROM Account');
    expect(e.message).toContain("'*' at position 7 is not supported");
    expect(e.position).toBe(7);
  });

  it('rejects duplicate fields case-insensitively', () => {
    const e = fail('SELECT Id, Name, id FROM A');
    expect(e.message).toBe("duplicate field selected: 'id' at position 17");
    expect(e.position).toBe(17);
  });

  it('names the misspelled FROM', () => {
    const e = fail('SELECT Name FORM Account');
    expect(e.message).toBe("unexpected token 'FORM' at position 12: expected FROM");
    expect(e.position).toBe(12);
  });

  it('rejects a missing SELECT', () => {
    const e = fail('FROM Account');
    expect(e.message).toBe("unexpected token 'FROM' at position 0: expected SELECT");
  });

  it('rejects an empty select list', () => {
    const e = fail('SELECT FROM Account');
    expect(e.message).toBe("unexpected token 'FROM' at position 7: expected a field name or COUNT()");
  });

  it('rejects a trailing comma in the select list', () => {
    const e = fail('SELECT Id, FROM Account');
    expect(e.message).toBe("unexpected token 'FROM' at position 11: expected a field name or COUNT()");
  });

  it('rejects a reserved word as a field', () => {
    expect(fail('SELECT Id, Limit FROM A').message).toBe("unexpected token 'Limit' at position 11: expected a field name or COUNT()");
  });

  it('rejects a number as a field', () => {
    expect(fail('SELECT 1 FROM A').message).toBe("unexpected token '1' at position 7: expected a field name or COUNT()");
  });

  it('rejects a missing object', () => {
    expect(fail('SELECT Id FROM').message).toBe('unexpected end of query at position 14: expected an object name');
    expect(fail('SELECT Id FROM WHERE').message).toBe("unexpected token 'WHERE' at position 15: expected an object name");
  });

  it('rejects a relationship path or several objects in FROM', () => {
    expect(fail('SELECT Id FROM Account.Contacts').message).toContain("relationship path 'Account.Contacts' is not supported");
    expect(fail('SELECT Id FROM Account, Contact').message).toContain('multiple objects in FROM are not supported');
  });

  it('rejects a missing comma between fields', () => {
    expect(fail('SELECT Id Name FROM A').message).toBe("unexpected token 'Name' at position 10: expected FROM");
  });
});

describe('parseSoql: WHERE', () => {
  it('parses every comparison operator and normalizes <> to !=', () => {
    const q = parseSoql(
      "SELECT Id FROM A WHERE a = 1 AND b != 2 AND c <> 3 AND d < 4 AND e <= 5 AND f > 6 AND g >= 7 AND h LIKE 'x%'",
    );
    expect(q.where).toEqual([
      { field: 'a', op: '=', value: 1 },
      { field: 'b', op: '!=', value: 2 },
      { field: 'c', op: '!=', value: 3 },
      { field: 'd', op: '<', value: 4 },
      { field: 'e', op: '<=', value: 5 },
      { field: 'f', op: '>', value: 6 },
      { field: 'g', op: '>=', value: 7 },
      { field: 'h', op: 'LIKE', value: 'x%' },
    ]);
  });

  it('needs no whitespace around operators', () => {
    expect(parseSoql("SELECT Id FROM A WHERE a='x'AND b>=2").where).toEqual([
      { field: 'a', op: '=', value: 'x' },
      { field: 'b', op: '>=', value: 2 },
    ]);
  });

  it('accepts lowercase like, in, not in and and', () => {
    const q = parseSoql("select Id from A where Name like 'a%' and Id in ('1') and Type not in ('x', 'y')");
    expect(q.where.map((c) => c.op)).toEqual(['LIKE', 'IN', 'NOT IN']);
  });

  it('parses IN and NOT IN lists of mixed values', () => {
    const q = parseSoql("SELECT Id FROM A WHERE Id IN ('a', 'b') AND n NOT IN (1, -2.5, NULL, TRUE, 2024-02-29, TODAY)");
    expect(q.where).toEqual([
      { field: 'Id', op: 'IN', value: ['a', 'b'] },
      { field: 'n', op: 'NOT IN', value: [1, -2.5, null, true, { date: '2024-02-29' }, { dateLiteral: 'TODAY' }] },
    ]);
  });

  it('parses a single-value IN list as an array', () => {
    expect(whereValue("('only')", 'IN')).toEqual(['only']);
  });

  it('flattens parenthesized AND groups', () => {
    const q = parseSoql('SELECT Id FROM A WHERE (a = 1 AND (b = 2)) AND ((c = 3 AND d = 4))');
    expect(q.where.map((c) => c.field)).toEqual(['a', 'b', 'c', 'd']);
  });

  describe('values', () => {
    it('parses strings with escapes', () => {
      expect(whereValue("'plain'")).toBe('plain');
      expect(whereValue("''")).toBe('');
      expect(whereValue("'O\\'Brien'")).toBe("O'Brien");
      expect(whereValue("'a\\\\b'")).toBe('a\\b');
      expect(whereValue("'say \\\"hi\\\"'")).toBe('say "hi"');
      expect(whereValue("'l1\\nl2\\tx\\r\\b\\f'")).toBe('l1\nl2\tx\r\b\f');
      expect(whereValue("'L1\\NL2\\TX'")).toBe('L1\nL2\tX');
      expect(whereValue("'keeps  spaces and (parens), AND keywords'")).toBe('keeps  spaces and (parens), AND keywords');
      expect(whereValue("'ünï ✓'")).toBe('ünï ✓');
    });

    it('parses numbers', () => {
      expect(whereValue('42')).toBe(42);
      expect(whereValue('0')).toBe(0);
      expect(whereValue('-7')).toBe(-7);
      expect(whereValue('3.25')).toBe(3.25);
      expect(whereValue('-0.5')).toBe(-0.5);
      expect(whereValue('007')).toBe(7);
    });

    it('parses booleans and null case-insensitively', () => {
      expect(whereValue('TRUE')).toBe(true);
      expect(whereValue('false')).toBe(false);
      expect(whereValue('Null')).toBe(null);
    });

    it('parses date and datetime literals', () => {
      expect(whereValue('2024-01-31')).toEqual({ date: '2024-01-31' });
      expect(whereValue('2024-02-29')).toEqual({ date: '2024-02-29' });
      expect(whereValue('2024-01-31T23:59:59Z')).toEqual({ datetime: '2024-01-31T23:59:59Z' });
      expect(whereValue('2024-01-31T23:59:59.123Z')).toEqual({ datetime: '2024-01-31T23:59:59.123Z' });
      expect(whereValue('2024-01-31T08:00:00+05:30')).toEqual({ datetime: '2024-01-31T08:00:00+05:30' });
      expect(whereValue('2024-01-31T08:00:00.000-08:00')).toEqual({ datetime: '2024-01-31T08:00:00.000-08:00' });
    });

    it('parses TODAY, YESTERDAY and TOMORROW in any case', () => {
      expect(whereValue('TODAY')).toEqual({ dateLiteral: 'TODAY' });
      expect(whereValue('yesterday')).toEqual({ dateLiteral: 'YESTERDAY' });
      expect(whereValue('Tomorrow')).toEqual({ dateLiteral: 'TOMORROW' });
    });

    it.each([
      ['2024-13-01', "invalid date literal '2024-13-01' at position 27"],
      ['2023-02-29', "invalid date literal '2023-02-29' at position 27"],
      ['2024-04-31', "invalid date literal '2024-04-31' at position 27"],
      ['2024-00-10', "invalid date literal '2024-00-10' at position 27"],
      ['2024-01-01x', "invalid date literal '2024-01-01x' at position 27"],
      ['2024-01-01T24:00:00Z', "invalid datetime literal '2024-01-01T24:00:00Z' at position 27"],
      ['2024-01-01T10:60:00Z', "invalid datetime literal '2024-01-01T10:60:00Z' at position 27"],
      ['2024-01-01T10:00:00+05:99', "invalid datetime literal '2024-01-01T10:00:00+05:99' at position 27"],
      ['2024-01-01T10:00:00', "invalid datetime literal '2024-01-01T10:00:00' at position 27"],
      ['2024-01-01T10:00', "invalid datetime literal '2024-01-01T10:00' at position 27"],
      ['2024-01-01T10:00:00.5Z', "invalid datetime literal '2024-01-01T10:00:00.5Z' at position 27"],
      ['2024-01-01T10:00:00ZZ', "invalid datetime literal '2024-01-01T10:00:00ZZ' at position 27"],
      ['1.', "invalid number '1.' at position 27"],
      ['1.2.3', "invalid number '1.2.3' at position 27"],
      ['12abc', "invalid number '12abc' at position 27"],
      ['1e5', "invalid number '1e5' at position 27"],
    ])('rejects the malformed literal %s', (literal, message) => {
      const e = fail(`SELECT Id FROM A WHERE X = ${literal}`);
      expect(e.message).toBe(message);
      expect(e.position).toBe(27);
    });

    it('rejects an unterminated string', () => {
      const e = fail("SELECT Id FROM A WHERE Name = 'abc");
      expect(e.message).toBe('unterminated string starting at position 30');
      expect(e.position).toBe(30);
      expect(fail("SELECT Id FROM A WHERE Name = 'abc\\'").message).toBe('unterminated string starting at position 30');
      expect(fail("SELECT Id FROM A WHERE Name = 'abc\\").message).toBe('unterminated string starting at position 30');
    });

    it('rejects an unknown escape sequence', () => {
      const e = fail("SELECT Id FROM A WHERE Name = 'a\\qb'");
      expect(e.message).toBe("invalid escape sequence '\\q' at position 32 in string literal");
      expect(e.position).toBe(32);
    });

    it('rejects \\% and \\_ outside LIKE', () => {
      expect(fail("SELECT Id FROM A WHERE Name = '100\\%'").message).toBe(
        'the escapes \\% and \\_ in the string at position 30 are only allowed in LIKE patterns',
      );
      expect(fail("SELECT Id FROM A WHERE Name IN ('a\\_b')").message).toContain('only allowed in LIKE patterns');
    });

    it('rejects double-quoted strings', () => {
      expect(fail('SELECT Id FROM A WHERE Name = "x"').message).toBe(
        "unexpected character '\"' at position 30: SOQL strings use single quotes",
      );
    });

    it('rejects a missing value', () => {
      expect(fail('SELECT Id FROM A WHERE Name =').message).toMatch(
        /^unexpected end of query at position 29: expected a value \(string, number, TRUE, FALSE, NULL, date, datetime, TODAY, YESTERDAY or TOMORROW\)$/,
      );
      expect(fail('SELECT Id FROM A WHERE Name = AND').message).toContain("unexpected token 'AND' at position 30: expected a value");
      expect(fail('SELECT Id FROM A WHERE Name = Other').message).toContain("unexpected token 'Other' at position 30: expected a value");
    });

    it('rejects relative date literals other than TODAY, YESTERDAY and TOMORROW', () => {
      const e = fail('SELECT Id FROM A WHERE CreatedDate = LAST_N_DAYS:30');
      expect(e.message).toContain('date literal LAST_N_DAYS is not supported in this SOQL subset');
      expect(e.position).toBe(37);
      expect(fail('SELECT Id FROM A WHERE CreatedDate = THIS_MONTH').message).toContain('date literal THIS_MONTH is not supported');
    });
  });

  describe('LIKE', () => {
    it('keeps the pattern in LIKE form', () => {
      expect(whereValue("'a%b_c'", 'LIKE')).toBe('a%b_c');
      expect(whereValue("'100\\%'", 'LIKE')).toBe('100\\%');
      expect(whereValue("'a\\_b'", 'LIKE')).toBe('a\\_b');
      expect(whereValue("'back\\\\slash%'", 'LIKE')).toBe('back\\\\slash%');
      expect(whereValue("'O\\'B%'", 'LIKE')).toBe("O'B%");
    });

    it('round-trips through likeToRegExp', () => {
      const re = (lit: string) => likeToRegExp(whereValue(lit, 'LIKE') as string);
      expect(re("'100\\%'").test('100%')).toBe(true);
      expect(re("'100\\%'").test('1000')).toBe(false);
      expect(re("'a\\_b'").test('a_b')).toBe(true);
      expect(re("'a\\_b'").test('axb')).toBe(false);
      expect(re("'c:\\\\%'").test('C:\\dir')).toBe(true);
      expect(re("'c:\\\\%'").test('C:dir')).toBe(false);
    });

    it('requires a string pattern', () => {
      const e = fail('SELECT Id FROM A WHERE Name LIKE 5');
      expect(e.message).toBe("LIKE requires a string pattern, but got token '5' at position 33");
      expect(e.position).toBe(33);
      expect(fail('SELECT Id FROM A WHERE Name LIKE').message).toBe(
        'unexpected end of query at position 32: expected a string pattern after LIKE',
      );
    });

    it('rejects NOT LIKE', () => {
      expect(fail("SELECT Id FROM A WHERE Name NOT LIKE 'a%'").message).toContain('NOT LIKE is not supported in this SOQL subset');
    });
  });

  describe('IN lists', () => {
    it('rejects an empty list', () => {
      expect(fail('SELECT Id FROM A WHERE Id IN ()').message).toBe("unexpected token ')' at position 30: expected a value in the IN list");
      expect(fail('SELECT Id FROM A WHERE Id NOT IN ()').message).toContain('expected a value in the NOT IN list');
    });

    it('rejects a missing parenthesis', () => {
      expect(fail("SELECT Id FROM A WHERE Id IN 'a'").message).toBe("unexpected string 'a' at position 29: expected '(' after IN");
      expect(fail("SELECT Id FROM A WHERE Id IN ('a'").message).toBe(
        "unexpected end of query at position 33: expected ',' or ')' in the IN list",
      );
      expect(fail("SELECT Id FROM A WHERE Id IN ('a' 'b')").message).toBe(
        "unexpected string 'b' at position 34: expected ',' or ')' in the IN list",
      );
    });

    it('rejects a trailing comma', () => {
      expect(fail("SELECT Id FROM A WHERE Id IN ('a', )").message).toContain("unexpected token ')' at position 35: expected a value");
    });

    it('rejects semi-joins', () => {
      const e = fail('SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)');
      expect(e.message).toContain('semi-joins (IN with a subquery) are not supported in this SOQL subset');
      expect(e.position).toBe(36);
      expect(fail('SELECT Id FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)').message).toContain(
        'semi-joins (NOT IN with a subquery) are not supported',
      );
    });

    it('rejects NOT without IN', () => {
      expect(fail('SELECT Id FROM A WHERE Id NOT = 1').message).toBe("unexpected token '=' at position 30: expected IN after NOT");
    });
  });

  describe('unsupported constructs', () => {
    it('rejects OR', () => {
      const e = fail('SELECT Id FROM A WHERE a = 1 OR b = 2');
      expect(e.message).toBe('OR is not supported in this SOQL subset; join conditions with AND (at position 29)');
      expect(e.position).toBe(29);
    });

    it('rejects OR inside parentheses and after a group', () => {
      expect(fail('SELECT Id FROM A WHERE (a = 1 or b = 2)').message).toContain('OR is not supported');
      expect(fail('SELECT Id FROM A WHERE (a = 1) OR b = 2').message).toContain('OR is not supported');
    });

    it('rejects boolean NOT', () => {
      const e = fail('SELECT Id FROM A WHERE NOT a = 1');
      expect(e.message).toContain('NOT as a boolean operator is not supported in this SOQL subset');
      expect(e.position).toBe(23);
      expect(fail('SELECT Id FROM A WHERE a = 1 AND NOT (b = 2)').message).toContain('NOT as a boolean operator is not supported');
    });

    it('rejects relationship fields in WHERE and ORDER BY', () => {
      expect(fail("SELECT Id FROM Contact WHERE Account.Name = 'x'").message).toContain(
        "relationship field 'Account.Name' is not supported",
      );
      expect(fail('SELECT Id FROM Contact ORDER BY Account.Name').message).toContain("relationship field 'Account.Name'");
    });

    it('rejects functions in WHERE', () => {
      expect(fail('SELECT Id FROM A WHERE CALENDAR_YEAR(CreatedDate) = 2024').message).toContain(
        'function CALENDAR_YEAR() is not supported',
      );
    });

    it('rejects subqueries as values', () => {
      expect(fail('SELECT Id FROM A WHERE Id = (SELECT Id FROM B)').message).toContain('subqueries are not supported');
      expect(fail('SELECT Id FROM A WHERE (SELECT Id FROM B)').message).toContain('subqueries are not supported');
    });

    it('rejects bind variables anywhere', () => {
      const e = fail('SELECT Id FROM A WHERE Id = :recordId');
      expect(e.message).toBe(
        "bind variable ':recordId' at position 28 is not supported in this SOQL subset; write the value as a literal",
      );
      expect(e.position).toBe(28);
      expect(fail('SELECT Id FROM A WHERE Id IN :ids').message).toContain("bind variable ':ids'");
      expect(fail('SELECT Id FROM A LIMIT :n').message).toContain("bind variable ':n'");
    });

    it.each(['INCLUDES', 'EXCLUDES'])('rejects %s', (op) => {
      expect(fail(`SELECT Id FROM A WHERE Tags__c ${op} ('a')`).message).toContain(`${op} is not supported in this SOQL subset`);
    });

    it.each([
      ['GROUP BY Name', 'GROUP BY is not supported'],
      ['HAVING COUNT(Id) > 1', 'HAVING is not supported'],
      ['WITH SECURITY_ENFORCED', 'WITH is not supported'],
      ['USING SCOPE mine', 'USING SCOPE is not supported'],
      ['FOR UPDATE', 'FOR VIEW/REFERENCE/UPDATE is not supported'],
      ['UPDATE TRACKING', 'UPDATE TRACKING/VIEWSTAT is not supported'],
    ])('rejects the clause %s', (clause, message) => {
      const e = fail(`SELECT Id FROM A ${clause}`);
      expect(e.message).toContain(message);
      expect(e.message).toContain('(at position 17)');
      expect(e.position).toBe(17);
      expect(fail(`SELECT Id FROM A WHERE a = 1 ${clause}`).message).toContain(message);
    });
  });

  it('rejects an empty WHERE', () => {
    expect(fail('SELECT Id FROM A WHERE').message).toBe(
      'unexpected end of query at position 22: expected a condition (field name or parenthesized condition)',
    );
    expect(fail('SELECT Id FROM A WHERE LIMIT 5').message).toContain("unexpected token 'LIMIT' at position 23: expected a condition");
  });

  it('rejects a dangling AND', () => {
    expect(fail('SELECT Id FROM A WHERE a = 1 AND').message).toBe(
      'unexpected end of query at position 32: expected a condition (field name or parenthesized condition)',
    );
  });

  it('rejects a missing operator', () => {
    expect(fail("SELECT Id FROM A WHERE Name 'x'").message).toBe(
      "unexpected string 'x' at position 28: expected a comparison operator (=, !=, <>, <, <=, >, >=, LIKE, IN or NOT IN)",
    );
    expect(fail('SELECT Id FROM A WHERE Name == 1').message).toContain("unexpected token '=' at position 29: expected a value");
  });

  it('rejects unbalanced parentheses', () => {
    expect(fail('SELECT Id FROM A WHERE (a = 1').message).toBe("unexpected end of query at position 29: expected AND or ')'");
    expect(fail('SELECT Id FROM A WHERE a = 1)').message).toBe(
      "unexpected token ')' at position 28: expected ORDER BY, LIMIT, OFFSET or end of query",
    );
    expect(fail('SELECT Id FROM A WHERE ()').message).toContain("unexpected token ')' at position 24: expected a condition");
  });
});

describe('parseSoql: ORDER BY', () => {
  it('defaults to ASC NULLS FIRST', () => {
    expect(parseSoql('SELECT Id FROM A ORDER BY Name').orderBy).toEqual([{ field: 'Name', direction: 'ASC', nulls: 'FIRST' }]);
  });

  it('defaults DESC to NULLS LAST', () => {
    expect(parseSoql('SELECT Id FROM A ORDER BY Name DESC').orderBy).toEqual([{ field: 'Name', direction: 'DESC', nulls: 'LAST' }]);
  });

  it('honours explicit NULLS and several terms', () => {
    const q = parseSoql('SELECT Id FROM A order by a asc nulls last, b DESC NULLS FIRST, c, d nulls last, e desc');
    expect(q.orderBy).toEqual([
      { field: 'a', direction: 'ASC', nulls: 'LAST' },
      { field: 'b', direction: 'DESC', nulls: 'FIRST' },
      { field: 'c', direction: 'ASC', nulls: 'FIRST' },
      { field: 'd', direction: 'ASC', nulls: 'LAST' },
      { field: 'e', direction: 'DESC', nulls: 'LAST' },
    ]);
  });

  it('rejects a missing BY or field', () => {
    expect(fail('SELECT Id FROM A ORDER Name').message).toBe("unexpected token 'Name' at position 23: expected BY");
    expect(fail('SELECT Id FROM A ORDER BY').message).toBe('unexpected end of query at position 25: expected a field name to order by');
    expect(fail('SELECT Id FROM A ORDER BY Name,').message).toBe(
      'unexpected end of query at position 31: expected a field name to order by',
    );
  });

  it('rejects NULLS without FIRST or LAST', () => {
    expect(fail('SELECT Id FROM A ORDER BY Name NULLS').message).toBe(
      'unexpected end of query at position 36: expected FIRST or LAST after NULLS',
    );
    expect(fail('SELECT Id FROM A ORDER BY Name NULLS HIGH').message).toContain("unexpected token 'HIGH'");
  });

  it('rejects NULLS before the direction', () => {
    expect(fail('SELECT Id FROM A ORDER BY Name NULLS LAST DESC').message).toBe(
      "unexpected token 'DESC' at position 42: expected LIMIT, OFFSET or end of query",
    );
  });

  it('rejects ORDER BY with COUNT()', () => {
    expect(fail('SELECT COUNT() FROM A ORDER BY Name').message).toContain('ORDER BY cannot be used with COUNT()');
  });

  it('rejects aggregate ordering', () => {
    expect(fail('SELECT Id FROM A ORDER BY COUNT(Id)').message).toContain('aggregate function COUNT() is not supported');
  });
});

describe('parseSoql: LIMIT and OFFSET', () => {
  it('parses LIMIT and OFFSET', () => {
    const q = parseSoql('SELECT Id FROM A WHERE a = 1 ORDER BY a LIMIT 10 OFFSET 20');
    expect(q.limit).toBe(10);
    expect(q.offset).toBe(20);
  });

  it('accepts LIMIT 0 and OFFSET alone', () => {
    expect(parseSoql('SELECT Id FROM A LIMIT 0').limit).toBe(0);
    const q = parseSoql('SELECT Id FROM A offset 5');
    expect(q.offset).toBe(5);
    expect(q.limit).toBeUndefined();
  });

  it.each([
    ['-1', 23],
    ['1.5', 23],
    ['abc', 23],
    ["'10'", 23],
    ['TRUE', 23],
    ['99999999999999999999', 23],
  ])('rejects LIMIT %s', (value, position) => {
    const e = fail(`SELECT Id FROM A LIMIT ${value}`);
    expect(e.message).toBe(`LIMIT must be a non-negative integer, but got '${value}' at position ${position}`);
    expect(e.position).toBe(position);
  });

  it('rejects a missing LIMIT value', () => {
    expect(fail('SELECT Id FROM A LIMIT').message).toBe('unexpected end of query at position 22: expected a non-negative integer after LIMIT');
  });

  it('rejects a bad OFFSET', () => {
    expect(fail('SELECT Id FROM A OFFSET -5').message).toBe("OFFSET must be a non-negative integer, but got '-5' at position 24");
    expect(fail('SELECT Id FROM A LIMIT 5 OFFSET').message).toContain('expected a non-negative integer after OFFSET');
  });
});

describe('parseSoql: clause order, trailing garbage and empty input', () => {
  it.each(['', '   ', '\n\t'])('rejects the empty query %j', (text) => {
    const e = fail(text);
    expect(e.message).toBe('empty SOQL query: expected SELECT');
    expect(e.position).toBe(0);
  });

  it('rejects clauses out of order', () => {
    expect(fail('SELECT Id FROM A LIMIT 1 WHERE a = 1').message).toBe('WHERE at position 25 must come before LIMIT');
    expect(fail('SELECT Id FROM A OFFSET 1 LIMIT 2').message).toBe('LIMIT at position 26 must come before OFFSET');
    expect(fail('SELECT Id FROM A LIMIT 1 ORDER BY Id').message).toBe('ORDER BY at position 25 must come before LIMIT');
  });

  it('rejects duplicate clauses', () => {
    expect(fail('SELECT Id FROM A LIMIT 1 LIMIT 2').message).toBe('duplicate LIMIT clause at position 25');
    expect(fail('SELECT Id FROM A WHERE a = 1 WHERE b = 2').message).toBe('duplicate WHERE clause at position 29');
  });

  it('rejects trailing garbage', () => {
    expect(fail('SELECT Id FROM A LIMIT 5 OFFSET 1 extra').message).toBe(
      "unexpected token 'extra' at position 34: expected end of query",
    );
    expect(fail('SELECT Id FROM A a').message).toBe(
      "unexpected token 'a' at position 17: expected WHERE, ORDER BY, LIMIT, OFFSET or end of query",
    );
    expect(fail("SELECT Id FROM A WHERE a = 1 'x'").message).toBe(
      "unexpected string 'x' at position 29: expected ORDER BY, LIMIT, OFFSET or end of query",
    );
  });

  it('rejects a trailing semicolon and unknown characters', () => {
    const e = fail('SELECT Id FROM A;');
    expect(e.message).toBe("unexpected character ';' at position 16");
    expect(e.position).toBe(16);
    expect(fail('SELECT Id FROM A WHERE a = 1 -- comment').message).toBe("unexpected character '-' at position 29");
    expect(fail('SELECT Id FROM A WHERE a = 1 && b = 2').message).toBe("unexpected character '&' at position 29");
  });

  it('reports the first error in text order', () => {
    // The bad FROM comes before the bind variable, so it is what gets reported.
    expect(fail('SELECT Id FORM A WHERE X = :x').message).toBe("unexpected token 'FORM' at position 10: expected FROM");
  });

  it('throws SoqlError, an Error subclass with a name and position', () => {
    const e = fail('SELECT Id FORM A');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SoqlError');
    expect(e.position).toBe(10);
  });

  it('parses a full query', () => {
    const q = parseSoql(
      "SELECT Id, Name, Amount__c FROM WebCart WHERE Status = 'Checkout' AND (Amount__c >= 10.5 AND CreatedDate < TODAY) " +
        "AND OwnerId IN ('005000000000001AAA') AND Name LIKE 'Cart\\_%' ORDER BY CreatedDate DESC, Name NULLS LAST LIMIT 50 OFFSET 100",
    );
    expect(q).toEqual<SoqlQuery>({
      fields: ['Id', 'Name', 'Amount__c'],
      count: false,
      object: 'WebCart',
      where: [
        { field: 'Status', op: '=', value: 'Checkout' },
        { field: 'Amount__c', op: '>=', value: 10.5 },
        { field: 'CreatedDate', op: '<', value: { dateLiteral: 'TODAY' } },
        { field: 'OwnerId', op: 'IN', value: ['005000000000001AAA'] },
        { field: 'Name', op: 'LIKE', value: 'Cart\\_%' },
      ],
      orderBy: [
        { field: 'CreatedDate', direction: 'DESC', nulls: 'LAST' },
        { field: 'Name', direction: 'ASC', nulls: 'LAST' },
      ],
      limit: 50,
      offset: 100,
    });
  });
});

describe('likeToRegExp', () => {
  it('anchors the pattern', () => {
    const re = likeToRegExp('abc');
    expect(re.test('abc')).toBe(true);
    expect(re.test('xabc')).toBe(false);
    expect(re.test('abcx')).toBe(false);
  });

  it('treats % as any sequence, including empty and newlines', () => {
    const re = likeToRegExp('a%z');
    expect(re.test('az')).toBe(true);
    expect(re.test('a-long-z')).toBe(true);
    expect(re.test('a\nz')).toBe(true);
    expect(re.test('ay')).toBe(false);
    expect(likeToRegExp('%').test('')).toBe(true);
  });

  it('treats _ as exactly one character', () => {
    const re = likeToRegExp('a_c');
    expect(re.test('abc')).toBe(true);
    expect(re.test('ac')).toBe(false);
    expect(re.test('abbc')).toBe(false);
    expect(re.test('a\nc')).toBe(true);
    expect(likeToRegExp('_').test('😀')).toBe(true);
  });

  it('is case-insensitive', () => {
    expect(likeToRegExp('acme%').test('ACME Corp')).toBe(true);
    expect(likeToRegExp('ÉCOLE').test('école')).toBe(true);
  });

  it('honours backslash escapes', () => {
    expect(likeToRegExp('100\\%').test('100%')).toBe(true);
    expect(likeToRegExp('100\\%').test('1000')).toBe(false);
    expect(likeToRegExp('a\\_b').test('a_b')).toBe(true);
    expect(likeToRegExp('a\\_b').test('axb')).toBe(false);
    expect(likeToRegExp('a\\\\b').test('a\\b')).toBe(true);
    expect(likeToRegExp('a\\xb').test('axb')).toBe(true);
    expect(likeToRegExp('end\\').test('end\\')).toBe(true);
  });

  it('escapes regular-expression metacharacters', () => {
    const meta = '.*+?^$()[]{}|/-';
    expect(likeToRegExp(meta).test(meta)).toBe(true);
    expect(likeToRegExp('a.c').test('abc')).toBe(false);
    expect(likeToRegExp('(a|b)').test('a')).toBe(false);
    expect(likeToRegExp('a+').test('aa')).toBe(false);
  });
});
