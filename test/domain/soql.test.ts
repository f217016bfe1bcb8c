import { describe, expect, it } from 'vitest';
import {
  checkSoqlLimits,
  dateLiteralRange,
  likeToRegExp,
  parseSoql,
  SOQL_MAX_DEPTH,
  SOQL_MAX_LENGTH,
  SoqlError,
  type SoqlCondition,
  type SoqlQuery,
} from '../../src/domain/soql.js';
import { CHILD_RELATIONSHIPS, findChildRelationship, findField, findParentRelationship } from '../../src/domain/objects.js';

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
  return (q.where as SoqlCondition).value;
}

const fields = (q: SoqlQuery) => q.select.map((s) => (s.kind === 'field' ? s.field : s.kind));

describe('parseSoql: SELECT and FROM', () => {
  it('parses a minimal query', () => {
    expect(parseSoql('SELECT Id FROM Account')).toEqual<SoqlQuery>({
      select: [{ kind: 'field', field: 'Id' }],
      count: false,
      object: 'Account',
      groupBy: [],
      orderBy: [],
    });
  });

  it('omits where, limit and offset when absent', () => {
    const q = parseSoql('SELECT Id FROM Account');
    expect('where' in q).toBe(false);
    expect('limit' in q).toBe(false);
    expect('offset' in q).toBe(false);
  });

  it('parses several fields and keeps their spelling', () => {
    const q = parseSoql('SELECT id, NAME, Custom_Field__c FROM my_Object__c');
    expect(fields(q)).toEqual(['id', 'NAME', 'Custom_Field__c']);
    expect(q.object).toBe('my_Object__c');
  });

  it('accepts keywords in any case and any whitespace', () => {
    const q = parseSoql('  sElEcT\tId ,Name\nfRoM\r\n  Account  ');
    expect(fields(q)).toEqual(['Id', 'Name']);
    expect(q.object).toBe('Account');
  });

  it('accepts non-reserved words like Order as object and field names', () => {
    const q = parseSoql('SELECT Id, Order, Count FROM Order ORDER BY Order');
    expect(fields(q)).toEqual(['Id', 'Order', 'Count']);
    expect(q.object).toBe('Order');
    expect(q.orderBy).toEqual([{ field: 'Order', direction: 'ASC', nulls: 'FIRST' }]);
  });

  it('parses COUNT()', () => {
    const q = parseSoql('SELECT COUNT() FROM Account');
    expect(q.count).toBe(true);
    expect(q.select).toEqual([{ kind: 'aggregate', fn: 'COUNT', field: '' }]);
    expect(parseSoql("select count( ) from Account WHERE Name = 'x' LIMIT 5")).toMatchObject({ count: true, limit: 5 });
  });

  it('rejects COUNT() combined with fields, GROUP BY or ORDER BY', () => {
    expect(fail('SELECT COUNT(), Id FROM A').detail).toBe('COUNT() must be the only item in the SELECT list');
    expect(fail('SELECT Id, COUNT() FROM A').detail).toBe('COUNT() must be the only item in the SELECT list');
    expect(fail('SELECT COUNT() FROM A GROUP BY Name').detail).toContain('COUNT() cannot be used with GROUP BY');
    expect(fail('SELECT COUNT() FROM A ORDER BY Name').detail).toContain('ORDER BY cannot be used with COUNT()');
  });

  it('parses COUNT(field), SUM, AVG, MIN, MAX and COUNT_DISTINCT with aliases (was refused by the old parser; Salesforce has them)', () => {
    const q = parseSoql(
      'SELECT Type, COUNT(Id), SUM(Quantity) total, avg(Quantity), MIN(CreatedDate), MAX(Name), COUNT_DISTINCT(Sku) FROM CartItem GROUP BY Type',
    );
    expect(q.count).toBe(false);
    expect(q.groupBy).toEqual(['Type']);
    expect(q.select).toEqual([
      { kind: 'field', field: 'Type' },
      { kind: 'aggregate', fn: 'COUNT', field: 'Id' },
      { kind: 'aggregate', fn: 'SUM', field: 'Quantity', alias: 'total' },
      { kind: 'aggregate', fn: 'AVG', field: 'Quantity' },
      { kind: 'aggregate', fn: 'MIN', field: 'CreatedDate' },
      { kind: 'aggregate', fn: 'MAX', field: 'Name' },
      { kind: 'aggregate', fn: 'COUNT_DISTINCT', field: 'Sku' },
    ]);
  });

  it('rejects other functions in the SELECT list', () => {
    expect(fail('SELECT toLabel(Status) FROM A').detail).toBe('function toLabel() is not supported');
    expect(fail('SELECT FIELDS(ALL) FROM A').detail).toBe('function FIELDS() is not supported');
  });

  it('parses relationship fields (was refused by the old parser)', () => {
    const q = parseSoql('SELECT Id, Account.Name, WebStore.Name, Cart.Account.Owner.Username FROM WebCart');
    expect(fields(q)).toEqual(['Id', 'Account.Name', 'WebStore.Name', 'Cart.Account.Owner.Username']);
  });

  it('parses one level of child subquery (was refused by the old parser)', () => {
    const q = parseSoql(
      "SELECT Id, (SELECT Id, Quantity FROM CartItems WHERE Type = 'Product' ORDER BY Quantity DESC LIMIT 2) FROM WebCart",
    );
    expect(q.select[1]).toEqual({
      kind: 'subquery',
      relationship: 'CartItems',
      query: {
        relationship: 'CartItems',
        select: [
          { kind: 'field', field: 'Id' },
          { kind: 'field', field: 'Quantity' },
        ],
        where: { field: 'Type', op: '=', value: 'Product' },
        groupBy: [],
        orderBy: [{ field: 'Quantity', direction: 'DESC', nulls: 'LAST' }],
        limit: 2,
      },
    });
  });

  it('rejects a subquery inside a subquery, and aggregates in a subquery', () => {
    expect(fail('SELECT Id, (SELECT Id, (SELECT Id FROM C) FROM B) FROM A').detail).toBe('a subquery may not contain another subquery');
    expect(fail('SELECT Id, (SELECT COUNT(Id) FROM B) FROM A').detail).toContain('aggregates and GROUP BY are not supported in a subquery');
  });

  it('rejects TYPEOF, SELECT * and duplicate fields', () => {
    expect(fail('SELECT TYPEOF What WHEN Account THEN Name END FROM Event').detail).toBe('TYPEOF is not supported');
    const star = fail('SELECT * FROM Account');
    expect(star.detail).toBe("unexpected token: '*'");
    expect([star.line, star.column, star.position]).toEqual([1, 8, 7]);
    const dup = fail('SELECT Id, Name, id FROM A');
    expect(dup.detail).toBe('duplicate field selected: id');
    expect(dup.column).toBe(18);
  });

  it('names the misspelled FROM, with row and column as Salesforce reports them', () => {
    const e = fail('SELECT Name FORM Account');
    expect(e.message).toBe("ERROR at Row:1:Column:18\nunexpected token: 'Account'; expected FROM");
    expect([e.line, e.column, e.position]).toEqual([1, 18, 17]);
  });

  it('counts rows and columns across lines', () => {
    const e = fail('SELECT Id\nFROM A\n  WHERE a == 1');
    expect([e.line, e.column]).toEqual([3, 12]);
    expect(e.message).toMatch(/^ERROR at Row:3:Column:12\nunexpected token: '='/);
  });

  it.each([
    ['FROM Account', 1, "unexpected token: 'FROM'; expected SELECT"],
    ['SELECT FROM Account', 8, "unexpected token: 'FROM'"],
    ['SELECT Id, FROM Account', 12, "unexpected token: 'FROM'"],
    ['SELECT Id, Limit FROM A', 12, "unexpected token: 'Limit'"],
    ['SELECT 1 FROM A', 8, "unexpected token: '1'"],
    ['SELECT Id FROM', 15, 'unexpected end of query; expected a name'],
    ['SELECT Id FROM WHERE', 16, "unexpected token: 'WHERE'; expected a name"],
    ['SELECT Id FROM Account, Contact', 23, "unexpected token: ','"],
    ['SELECT Id Name FROM A', 11, "an alias ('Name') may only name an aggregate"],
  ])('rejects %j at column %i', (text, column, detail) => {
    const e = fail(text);
    expect(e.detail).toBe(detail);
    expect(e.column).toBe(column);
  });

  it('rejects a relationship path in FROM', () => {
    expect(fail('SELECT Id FROM Account.Contacts').detail).toContain("a relationship path in FROM is not supported ('Account.Contacts')");
  });
});

describe('parseSoql: WHERE', () => {
  it('parses every comparison operator and normalizes <> to !=', () => {
    const q = parseSoql("SELECT Id FROM A WHERE a = 1 AND b != 2 AND c <> 3 AND d < 4 AND e <= 5 AND f > 6 AND g >= 7 AND h LIKE 'x%'");
    expect(q.where).toEqual({
      and: [
        { field: 'a', op: '=', value: 1 },
        { field: 'b', op: '!=', value: 2 },
        { field: 'c', op: '!=', value: 3 },
        { field: 'd', op: '<', value: 4 },
        { field: 'e', op: '<=', value: 5 },
        { field: 'f', op: '>', value: 6 },
        { field: 'g', op: '>=', value: 7 },
        { field: 'h', op: 'LIKE', value: 'x%' },
      ],
    });
  });

  it('needs no whitespace around operators', () => {
    expect(parseSoql("SELECT Id FROM A WHERE a='x'AND b>=2").where).toEqual({
      and: [
        { field: 'a', op: '=', value: 'x' },
        { field: 'b', op: '>=', value: 2 },
      ],
    });
  });

  it('parses IN and NOT IN lists of mixed values', () => {
    const q = parseSoql("SELECT Id FROM A WHERE Id IN ('a', 'b') AND n NOT IN (1, -2.5, NULL, TRUE, 2024-02-29, TODAY)");
    expect(q.where).toEqual({
      and: [
        { field: 'Id', op: 'IN', value: ['a', 'b'] },
        { field: 'n', op: 'NOT IN', value: [1, -2.5, null, true, { date: '2024-02-29' }, { dateLiteral: 'TODAY' }] },
      ],
    });
    expect(whereValue("('only')", 'IN')).toEqual(['only']);
  });

  it('parses OR, NOT and parentheses into a tree (the old parser refused OR and NOT)', () => {
    expect(parseSoql('SELECT Id FROM A WHERE (a = 1 OR b = 2) AND NOT c = 3').where).toEqual({
      and: [
        {
          or: [
            { field: 'a', op: '=', value: 1 },
            { field: 'b', op: '=', value: 2 },
          ],
        },
        { not: { field: 'c', op: '=', value: 3 } },
      ],
    });
    expect(parseSoql('SELECT Id FROM A WHERE a = 1 OR (b = 2 AND (c = 3 OR d = 4))').where).toEqual({
      or: [
        { field: 'a', op: '=', value: 1 },
        {
          and: [
            { field: 'b', op: '=', value: 2 },
            {
              or: [
                { field: 'c', op: '=', value: 3 },
                { field: 'd', op: '=', value: 4 },
              ],
            },
          ],
        },
      ],
    });
    expect(parseSoql('SELECT Id FROM A WHERE NOT (a = 1 OR b = 2) AND c = 3').where).toEqual({
      and: [
        {
          not: {
            or: [
              { field: 'a', op: '=', value: 1 },
              { field: 'b', op: '=', value: 2 },
            ],
          },
        },
        { field: 'c', op: '=', value: 3 },
      ],
    });
    expect(parseSoql('SELECT Id FROM A WHERE (NOT a = 1) AND b = 2').where).toEqual({
      and: [{ not: { field: 'a', op: '=', value: 1 } }, { field: 'b', op: '=', value: 2 }],
    });
    expect(parseSoql('SELECT Id FROM A WHERE ((a = 1))').where).toEqual({ field: 'a', op: '=', value: 1 });
  });

  it('refuses AND and OR mixed without parentheses, as Salesforce does', () => {
    const e = fail('SELECT Id FROM A WHERE a = 1 AND b = 2 OR c = 3');
    expect(e.detail).toBe("unexpected token: 'OR'; use parentheses when mixing AND and OR");
    expect(e.column).toBe(40);
  });

  it('parses relationship fields in WHERE and ORDER BY (was refused)', () => {
    const q = parseSoql("SELECT Id FROM CartItem WHERE Cart.Account.Name = 'x' ORDER BY Cart.Name DESC");
    expect(q.where).toEqual({ field: 'Cart.Account.Name', op: '=', value: 'x' });
    expect(q.orderBy).toEqual([{ field: 'Cart.Name', direction: 'DESC', nulls: 'LAST' }]);
  });

  describe('values', () => {
    it('parses strings with escapes', () => {
      expect(whereValue("'plain'")).toBe('plain');
      expect(whereValue("''")).toBe('');
      expect(whereValue("'O\\'Brien'")).toBe("O'Brien");
      expect(whereValue("'a\\\\b'")).toBe('a\\b');
      expect(whereValue('\'say \\"hi\\"\'')).toBe('say "hi"');
      expect(whereValue("'l1\\nl2\\tx\\r\\b\\f'")).toBe('l1\nl2\tx\r\b\f');
      expect(whereValue("'keeps  spaces and (parens), AND keywords'")).toBe('keeps  spaces and (parens), AND keywords');
      expect(whereValue("'ünï ✓'")).toBe('ünï ✓');
    });

    it('parses numbers', () => {
      expect(whereValue('42')).toBe(42);
      expect(whereValue('0')).toBe(0);
      expect(whereValue('-7')).toBe(-7);
      expect(whereValue('3.25')).toBe(3.25);
      expect(whereValue('-0.5')).toBe(-0.5);
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
    });

    it('parses date literals, with and without N (the old parser had only TODAY, YESTERDAY, TOMORROW)', () => {
      expect(whereValue('TODAY')).toEqual({ dateLiteral: 'TODAY' });
      expect(whereValue('yesterday')).toEqual({ dateLiteral: 'YESTERDAY' });
      expect(whereValue('THIS_MONTH')).toEqual({ dateLiteral: 'THIS_MONTH' });
      expect(whereValue('LAST_N_DAYS:7')).toEqual({ dateLiteral: 'LAST_N_DAYS', n: 7 });
      expect(whereValue('N_WEEKS_AGO:2')).toEqual({ dateLiteral: 'N_WEEKS_AGO', n: 2 });
    });

    it.each([
      ['2024-13-01', 'invalid date literal: 2024-13-01'],
      ['2023-02-29', 'invalid date literal: 2023-02-29'],
      ['2024-04-31', 'invalid date literal: 2024-04-31'],
      ['2024-01-01T24:00:00Z', 'invalid datetime literal: 2024-01-01T24:00:00Z'],
      ['2024-01-01T10:60:00Z', 'invalid datetime literal: 2024-01-01T10:60:00Z'],
    ])('rejects the malformed literal %s at its column', (literal, detail) => {
      const e = fail(`SELECT Id FROM A WHERE X = ${literal}`);
      expect(e.detail).toBe(detail);
      expect(e.column).toBe(28);
    });

    it.each(['2024-01-01T10:00:00', '1.2.3', '1e5', '12abc', '007'])('rejects the malformed literal %s', (literal) => {
      expect(fail(`SELECT Id FROM A WHERE X = ${literal}`).message).toMatch(/^ERROR at Row:1:Column:\d+\nunexpected/);
    });

    it('rejects an unterminated string and double quotes at their column', () => {
      const e = fail("SELECT Id FROM A WHERE Name = 'abc");
      expect(e.detail).toBe("unexpected character: '''");
      expect(e.column).toBe(31);
      expect(fail('SELECT Id FROM A WHERE Name = "x"').detail).toBe(`unexpected character: '"'`);
    });

    it('rejects an unknown escape, and \\% or \\_ outside LIKE, at the string', () => {
      const e = fail("SELECT Id FROM A WHERE Name = 'a\\qb'");
      expect(e.detail).toBe("invalid escape sequence '\\q' in string literal");
      expect(e.column).toBe(31);
      expect(fail("SELECT Id FROM A WHERE Name = '100\\%'").detail).toBe('the escapes \\% and \\_ are only allowed in LIKE patterns');
      expect(fail("SELECT Id FROM A WHERE Name IN ('a\\_b')").detail).toContain('only allowed in LIKE patterns');
    });

    it('rejects a missing value', () => {
      expect(fail('SELECT Id FROM A WHERE Name =').detail).toBe('unexpected end of query');
      expect(fail('SELECT Id FROM A WHERE Name = AND').detail).toBe("unexpected token: 'AND'");
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
    });

    it('requires a string pattern', () => {
      expect(fail('SELECT Id FROM A WHERE Name LIKE 5').detail).toBe('LIKE requires a string pattern');
    });

    it('NOT LIKE is not SOQL: NOT goes before the condition', () => {
      expect(fail("SELECT Id FROM A WHERE Name NOT LIKE 'a%'").detail).toBe("unexpected token: 'LIKE'; expected IN");
      expect(parseSoql("SELECT Id FROM A WHERE NOT Name LIKE 'a%'").where).toEqual({ not: { field: 'Name', op: 'LIKE', value: 'a%' } });
    });
  });

  describe('IN lists', () => {
    it('rejects an empty list, a missing parenthesis and a trailing comma', () => {
      expect(fail('SELECT Id FROM A WHERE Id IN ()').column).toBe(30);
      expect(fail("SELECT Id FROM A WHERE Id IN 'a'").detail).toBe('IN needs a parenthesized list');
      expect(fail("SELECT Id FROM A WHERE Id IN ('a'").detail).toBe("unexpected end of query; expected ')'");
      expect(fail("SELECT Id FROM A WHERE Id IN ('a', )").detail).toBe("unexpected token: ')'");
    });

    it('rejects semi-joins', () => {
      const e = fail('SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)');
      expect(e.detail).toBe('semi-joins (IN with a subquery) are not supported');
      expect(e.column).toBe(37);
      expect(fail('SELECT Id FROM A WHERE Id = (SELECT Id FROM B)').detail).toContain('semi-joins');
    });

    it('rejects NOT without IN', () => {
      expect(fail('SELECT Id FROM A WHERE Id NOT = 1').detail).toBe("unexpected token: '='; expected IN");
    });
  });

  describe('unsupported constructs', () => {
    it('rejects functions in WHERE', () => {
      expect(fail('SELECT Id FROM A WHERE CALENDAR_YEAR(CreatedDate) = 2024').detail).toBe(
        'function CALENDAR_YEAR() in WHERE is not supported',
      );
    });

    it('rejects bind variables', () => {
      const e = fail('SELECT Id FROM A WHERE Id = :recordId');
      expect(e.detail).toBe("unexpected token: ':'");
      expect(e.column).toBe(29);
    });

    it.each(['INCLUDES', 'EXCLUDES'])('rejects %s', (op) => {
      expect(fail(`SELECT Id FROM A WHERE Tags__c ${op} ('a')`).detail).toBe(`${op} is not supported`);
    });

    it.each([
      ['WITH SECURITY_ENFORCED', 'WITH is not supported'],
      ['USING SCOPE mine', 'USING SCOPE is not supported'],
      ['FOR UPDATE', 'FOR VIEW/REFERENCE/UPDATE is not supported'],
      ['UPDATE TRACKING', 'UPDATE TRACKING/VIEWSTAT is not supported'],
      ['GROUP BY ROLLUP(Name)', 'GROUP BY ROLLUP, CUBE and functions are not supported'],
    ])('rejects the clause %s', (clause, detail) => {
      const e = fail(`SELECT Id FROM A ${clause}`);
      expect(e.detail).toBe(detail);
      expect(e.column).toBe(18);
    });

    it('rejects HAVING and ORDER BY an aggregate', () => {
      expect(fail('SELECT Name, COUNT(Id) FROM A GROUP BY Name HAVING COUNT(Id) > 1').detail).toBe('HAVING is not supported');
      expect(fail('SELECT Name, COUNT(Id) FROM A GROUP BY Name ORDER BY COUNT(Id)').detail).toContain(
        'ORDER BY a function is not supported',
      );
    });
  });

  it.each([
    ['SELECT Id FROM A WHERE', 'unexpected end of query'],
    ['SELECT Id FROM A WHERE a = 1 AND', 'unexpected end of query'],
    ['SELECT Id FROM A WHERE (a = 1', 'unexpected end of query'],
    ['SELECT Id FROM A WHERE a = 1)', "unexpected token: ')'"],
    ['SELECT Id FROM A WHERE ()', "unexpected token: ')'"],
  ])('rejects the broken condition %j', (text, detail) => {
    expect(fail(text).detail).toBe(detail);
  });
});

describe('parseSoql: ORDER BY, LIMIT, OFFSET and clause order', () => {
  it('defaults ASC to NULLS FIRST and DESC to NULLS LAST; honours explicit NULLS', () => {
    expect(parseSoql('SELECT Id FROM A ORDER BY Name').orderBy).toEqual([{ field: 'Name', direction: 'ASC', nulls: 'FIRST' }]);
    expect(parseSoql('SELECT Id FROM A ORDER BY Name DESC').orderBy).toEqual([{ field: 'Name', direction: 'DESC', nulls: 'LAST' }]);
    expect(parseSoql('SELECT Id FROM A order by a asc nulls last, b DESC NULLS FIRST, c').orderBy).toEqual([
      { field: 'a', direction: 'ASC', nulls: 'LAST' },
      { field: 'b', direction: 'DESC', nulls: 'FIRST' },
      { field: 'c', direction: 'ASC', nulls: 'FIRST' },
    ]);
  });

  it('rejects a missing BY, field or NULLS order', () => {
    expect(fail('SELECT Id FROM A ORDER Name').column).toBe(24);
    expect(fail('SELECT Id FROM A ORDER BY').detail).toBe('unexpected end of query');
    expect(fail('SELECT Id FROM A ORDER BY Name NULLS').detail).toBe('unexpected end of query');
  });

  it('parses LIMIT and OFFSET', () => {
    const q = parseSoql('SELECT Id FROM A WHERE a = 1 ORDER BY a LIMIT 10 OFFSET 20');
    expect([q.limit, q.offset]).toEqual([10, 20]);
    expect(parseSoql('SELECT Id FROM A LIMIT 0').limit).toBe(0);
    expect(parseSoql('SELECT Id FROM A offset 5')).toMatchObject({ offset: 5 });
  });

  it.each(['-1', '1.5', "'10'", ''])('rejects LIMIT %j', (value) => {
    const e = fail(`SELECT Id FROM A LIMIT ${value}`.trimEnd());
    expect(e.detail).toMatch(/expected a non-negative integer$/);
  });

  it('rejects a LIMIT beyond safe integers', () => {
    expect(fail('SELECT Id FROM A LIMIT 99999999999999999999').detail).toBe('LIMIT must be a non-negative integer');
  });

  it.each([
    ['SELECT Id FROM A LIMIT 1 WHERE a = 1', 26, "unexpected token: 'WHERE'"],
    ['SELECT Id FROM A OFFSET 1 LIMIT 2', 27, "unexpected token: 'LIMIT'"],
    ['SELECT Id FROM A LIMIT 1 LIMIT 2', 26, "unexpected token: 'LIMIT'"],
    ['SELECT Id FROM A LIMIT 5 OFFSET 1 extra', 35, "unexpected token: 'extra'"],
    ['SELECT Id FROM A;', 17, "unexpected token: ';'"],
    ['SELECT Id FROM A WHERE a = 1 && b = 2', 30, "unexpected character: '&'"],
  ])('rejects clauses out of order and trailing garbage: %j', (text, column, detail) => {
    const e = fail(text);
    expect(e.detail).toBe(detail);
    expect(e.column).toBe(column);
  });

  it.each(['', '   ', '\n\t'])('rejects the empty query %j', (text) => {
    const e = fail(text);
    expect(e.detail).toBe('unexpected end of query; expected SELECT');
    expect(e.position).toBe(0);
  });

  it('throws SoqlError, an Error subclass with a name, position, row and column', () => {
    const e = fail('SELECT Id FORM A');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SoqlError');
  });
});

describe('limits, checked before parsing', () => {
  it(`accepts ${SOQL_MAX_LENGTH} characters and refuses one more`, () => {
    const base = "SELECT Id FROM A WHERE Name = ''";
    const at = (n: number) => `SELECT Id FROM A WHERE Name = '${'x'.repeat(n - base.length)}'`;
    expect(at(SOQL_MAX_LENGTH)).toHaveLength(SOQL_MAX_LENGTH);
    expect(() => parseSoql(at(SOQL_MAX_LENGTH))).not.toThrow();
    const e = fail(at(SOQL_MAX_LENGTH + 1));
    expect(e.detail).toBe(`Query is too long: ${SOQL_MAX_LENGTH + 1} characters; the maximum is ${SOQL_MAX_LENGTH}.`);
  });

  it(`accepts ${SOQL_MAX_DEPTH} levels of parentheses and refuses more, even 5,000, without a stack overflow`, () => {
    const nested = (n: number) => `SELECT Id FROM A WHERE ${'(b = 1 OR NOT ('.repeat(n)}a = 1${'))'.repeat(n)}`;
    expect(() => parseSoql(nested(SOQL_MAX_DEPTH / 2))).not.toThrow();
    const e = fail(nested(SOQL_MAX_DEPTH / 2 + 1));
    expect(e.detail).toBe(`Query nests parentheses more than ${SOQL_MAX_DEPTH} levels deep.`);
    const deep = fail(`SELECT Id FROM A WHERE ${'('.repeat(5000)}a = 1${')'.repeat(5000)}`);
    expect(deep.detail).toContain('nests parentheses');
    expect(deep.column).toBe(23 + SOQL_MAX_DEPTH + 1);
  });

  it('refuses (never crashes on) more than nine consecutive redundant parentheses, a limit of the library parser', () => {
    expect(parseSoql(`SELECT Id FROM A WHERE ${'('.repeat(8)}a = 1${')'.repeat(8)}`).where).toEqual({ field: 'a', op: '=', value: 1 });
    expect(fail(`SELECT Id FROM A WHERE ${'('.repeat(12)}a = 1${')'.repeat(12)}`).detail).toMatch(/^unexpected token/);
  });

  it('does not count parentheses inside string literals', () => {
    expect(() => checkSoqlLimits(`SELECT Id FROM A WHERE Name = '${'('.repeat(500)}\\'${'('.repeat(10)}'`)).not.toThrow();
    expect(parseSoql(`SELECT Id FROM A WHERE Name = '${'('.repeat(500)}'`).where).toEqual({
      field: 'Name',
      op: '=',
      value: '('.repeat(500),
    });
  });
});

describe('dateLiteralRange (UTC, weeks from Sunday)', () => {
  const now = new Date('2026-05-14T15:30:00Z'); // a Thursday
  it.each([
    ['TODAY', undefined, '2026-05-14', '2026-05-15'],
    ['YESTERDAY', undefined, '2026-05-13', '2026-05-14'],
    ['TOMORROW', undefined, '2026-05-15', '2026-05-16'],
    ['LAST_N_DAYS', 3, '2026-05-11', '2026-05-15'],
    ['NEXT_N_DAYS', 2, '2026-05-15', '2026-05-17'],
    ['N_DAYS_AGO', 4, '2026-05-10', '2026-05-11'],
    ['THIS_WEEK', undefined, '2026-05-10', '2026-05-17'],
    ['LAST_WEEK', undefined, '2026-05-03', '2026-05-10'],
    ['LAST_N_WEEKS', 2, '2026-04-26', '2026-05-10'],
    ['THIS_MONTH', undefined, '2026-05-01', '2026-06-01'],
    ['LAST_MONTH', undefined, '2026-04-01', '2026-05-01'],
    ['LAST_N_MONTHS', 2, '2026-03-01', '2026-05-01'],
    ['N_MONTHS_AGO', 12, '2025-05-01', '2025-06-01'],
    ['THIS_QUARTER', undefined, '2026-04-01', '2026-07-01'],
    ['LAST_QUARTER', undefined, '2026-01-01', '2026-04-01'],
    ['THIS_YEAR', undefined, '2026-01-01', '2027-01-01'],
    ['THIS_FISCAL_YEAR', undefined, '2026-01-01', '2027-01-01'],
    ['NEXT_N_YEARS', 2, '2027-01-01', '2029-01-01'],
    ['LAST_90_DAYS', undefined, '2026-02-13', '2026-05-15'],
  ])('%s:%s covers [%s, %s)', (literal, n, start, end) => {
    expect(dateLiteralRange(literal, n, now)).toEqual({ start, end });
  });
});

describe('likeToRegExp', () => {
  it('matches literally, with % and _ as wildcards, case-insensitively', () => {
    expect(likeToRegExp('abc').test('ABC')).toBe(true);
    expect(likeToRegExp('abc').test('abcd')).toBe(false);
    expect(likeToRegExp('a%z').test('a-long-z')).toBe(true);
    expect(likeToRegExp('%').test('')).toBe(true);
    expect(likeToRegExp('a_c').test('abc')).toBe(true);
    expect(likeToRegExp('a_c').test('ac')).toBe(false);
    expect(likeToRegExp('_').test('😀')).toBe(true);
    expect(likeToRegExp('ÉCOLE').test('école')).toBe(true);
  });

  it('honours backslash escapes and treats regex metacharacters literally', () => {
    expect(likeToRegExp('100\\%').test('100%')).toBe(true);
    expect(likeToRegExp('100\\%').test('1000')).toBe(false);
    expect(likeToRegExp('a\\\\b').test('a\\b')).toBe(true);
    expect(likeToRegExp('end\\').test('end\\')).toBe(true);
    const meta = '^$.*+?()[]{}|/';
    expect(likeToRegExp(meta).test(meta)).toBe(true);
    expect(likeToRegExp('a.c').test('abc')).toBe(false);
    expect(likeToRegExp('(a|b)').test('a')).toBe(false);
  });
});

describe('relationship metadata', () => {
  it('every child relationship names a reference field of the child pointing at the parent', () => {
    for (const [parent, rels] of Object.entries(CHILD_RELATIONSHIPS)) {
      for (const rel of rels) {
        const field = findField(rel.object, rel.field);
        expect(field, `${parent}.${rel.name}`).toMatchObject({ type: 'reference', to: [parent] });
        expect(findChildRelationship(parent, rel.name.toLowerCase())).toBe(rel);
      }
    }
    expect(findChildRelationship('WebCart', 'Nope')).toBeUndefined();
  });

  it('a parent relationship is the reference field minus Id', () => {
    expect(findParentRelationship('WebCart', 'account')?.name).toBe('AccountId');
    expect(findParentRelationship('CartItem', 'Product2')?.name).toBe('Product2Id');
    expect(findParentRelationship('CartItem', 'Cart')?.to).toEqual(['WebCart']);
    expect(findParentRelationship('WebCart', 'Name')).toBeUndefined();
    expect(findParentRelationship('WebCart', '')).toBeUndefined();
  });
});
