/**
 * A parser for the SOQL subset the engine answers:
 *
 *   SELECT field (, field)* | COUNT()
 *   FROM ObjectName
 *   [WHERE condition (AND condition)*]
 *   [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST] (, ...)*]
 *   [LIMIT n] [OFFSET n]
 *
 * Conditions are `field op value`, `field [NOT] IN (values)` or a parenthesized AND-group (flattened).
 * Everything else — OR, boolean NOT, subqueries, relationship fields, GROUP BY, aggregates other than
 * COUNT(), bind variables — is rejected with a SoqlError naming what is unsupported and where.
 *
 * String values are fully unescaped, except for LIKE: a LIKE condition's value is the pattern in
 * LIKE form (`\%`, `\_` and `\\` kept as escapes) ready for {@link likeToRegExp}.
 */

/** A literal value in a condition. */
export type SoqlValue =
  | string
  | number
  | boolean
  | null
  | { date: string }
  | { datetime: string }
  | { dateLiteral: 'TODAY' | 'YESTERDAY' | 'TOMORROW' };

/** Comparison operators after normalization (`<>` becomes `!=`). */
export type SoqlOperator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'IN' | 'NOT IN';

/** One WHERE condition; `value` is an array exactly for IN and NOT IN. */
export type SoqlCondition = { field: string; op: SoqlOperator; value: SoqlValue | SoqlValue[] };

/** One ORDER BY term with Salesforce's defaults filled in. */
export interface SoqlOrderBy {
  field: string;
  direction: 'ASC' | 'DESC';
  nulls: 'FIRST' | 'LAST';
}

/** A parsed query. */
export interface SoqlQuery {
  fields: string[];
  count: boolean;
  object: string;
  where: SoqlCondition[];
  orderBy: SoqlOrderBy[];
  limit?: number;
  offset?: number;
}

/** A syntax error or an unsupported construct, with the 0-based character position it was found at. */
export class SoqlError extends Error {
  /** Creates an error for the given 0-based position in the query text. */
  constructor(
    message: string,
    public readonly position: number,
  ) {
    super(message);
    this.name = 'SoqlError';
  }
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

type Token =
  | { kind: 'word'; text: string; upper: string; dotted: boolean; pos: number }
  | { kind: 'string'; text: string; value: string; likeValue: string; likeOnlyEscape: boolean; pos: number }
  | { kind: 'number'; text: string; value: number; pos: number }
  | { kind: 'date'; text: string; pos: number }
  | { kind: 'datetime'; text: string; pos: number }
  | { kind: 'punct'; text: string; pos: number }
  | { kind: 'eof'; text: ''; pos: number };

const WORD_START = /[A-Za-z_]/;
const WORD_CHAR = /[A-Za-z0-9_]/;
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{3})?(Z|[+-](\d{2}):(\d{2}))/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})/;
const NUMBER_RE = /^-?\d+(\.\d+)?/;
/** Characters that may not directly follow a number or date literal. */
const LITERAL_TAIL = /[A-Za-z0-9_.:+-]/;

const STRING_ESCAPES: Record<string, string> = {
  "'": "'",
  '"': '"',
  '\\': '\\',
  n: '\n',
  N: '\n',
  r: '\r',
  R: '\r',
  t: '\t',
  T: '\t',
  b: '\b',
  B: '\b',
  f: '\f',
  F: '\f',
};

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function validDate(y: string, m: string, d: string): boolean {
  const month = Number(m);
  const day = Number(d);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(Number(y), month);
}

class Lexer {
  private pos = 0;

  constructor(private readonly src: string) {}

  next(): Token {
    const src = this.src;
    while (this.pos < src.length && /\s/.test(src[this.pos])) this.pos++;
    const start = this.pos;
    if (start >= src.length) return { kind: 'eof', text: '', pos: start };
    const ch = src[start];

    if (WORD_START.test(ch)) return this.word(start);
    if (ch === "'") return this.string(start);
    if (/\d/.test(ch) || (ch === '-' && /\d/.test(src[start + 1] ?? ''))) return this.numberOrDate(start);

    const two = src.slice(start, start + 2);
    if (two === '<=' || two === '>=' || two === '!=' || two === '<>') {
      this.pos += 2;
      return { kind: 'punct', text: two, pos: start };
    }
    if ('=<>(),'.includes(ch)) {
      this.pos++;
      return { kind: 'punct', text: ch, pos: start };
    }
    if (ch === ':') {
      let end = start + 1;
      while (end < src.length && WORD_CHAR.test(src[end])) end++;
      const text = src.slice(start, end);
      if (end > start + 1 && WORD_START.test(src[start + 1])) {
        throw new SoqlError(
          `bind variable '${text}' at position ${start} is not supported in this SOQL subset; write the value as a literal`,
          start,
        );
      }
      this.pos++;
      return { kind: 'punct', text: ':', pos: start };
    }
    if (ch === '"') {
      throw new SoqlError(`unexpected character '"' at position ${start}: SOQL strings use single quotes`, start);
    }
    if (ch === '*') {
      throw new SoqlError(`'*' at position ${start} is not supported in SOQL; list the fields to select explicitly`, start);
    }
    throw new SoqlError(`unexpected character '${ch}' at position ${start}`, start);
  }

  private word(start: number): Token {
    const src = this.src;
    let end = start + 1;
    let dotted = false;
    for (;;) {
      while (end < src.length && WORD_CHAR.test(src[end])) end++;
      if (src[end] === '.' && WORD_START.test(src[end + 1] ?? '')) {
        dotted = true;
        end += 2;
        continue;
      }
      break;
    }
    this.pos = end;
    const text = src.slice(start, end);
    return { kind: 'word', text, upper: text.toUpperCase(), dotted, pos: start };
  }

  private string(start: number): Token {
    const src = this.src;
    let value = '';
    let likeValue = '';
    let likeOnlyEscape = false;
    let i = start + 1;
    for (;;) {
      if (i >= src.length) {
        throw new SoqlError(`unterminated string starting at position ${start}`, start);
      }
      const c = src[i];
      if (c === "'") break;
      if (c === '\\') {
        const e = src[i + 1];
        if (e === undefined) throw new SoqlError(`unterminated string starting at position ${start}`, start);
        if (e === '%' || e === '_') {
          likeOnlyEscape = true;
          value += e;
          likeValue += '\\' + e;
        } else if (e in STRING_ESCAPES) {
          const unescaped = STRING_ESCAPES[e];
          value += unescaped;
          likeValue += unescaped === '\\' ? '\\\\' : unescaped;
        } else {
          throw new SoqlError(`invalid escape sequence '\\${e}' at position ${i} in string literal`, i);
        }
        i += 2;
        continue;
      }
      value += c;
      likeValue += c;
      i++;
    }
    this.pos = i + 1;
    return { kind: 'string', text: src.slice(start, i + 1), value, likeValue, likeOnlyEscape, pos: start };
  }

  private numberOrDate(start: number): Token {
    const src = this.src;
    const rest = src.slice(start);
    const tail = (len: number, what: string): void => {
      const after = src[start + len];
      if (after !== undefined && LITERAL_TAIL.test(after)) {
        let end = start + len;
        while (end < src.length && /[A-Za-z0-9_.:+-]/.test(src[end])) end++;
        throw new SoqlError(`invalid ${what} '${src.slice(start, end)}' at position ${start}`, start);
      }
    };
    if (src[start] !== '-') {
      const dt = DATETIME_RE.exec(rest);
      if (dt) {
        const [text, y, mo, d, h, mi, s, , , oh, om] = dt;
        const timeOk =
          Number(h) <= 23 &&
          Number(mi) <= 59 &&
          Number(s) <= 59 &&
          (oh === undefined || (Number(oh) <= 23 && Number(om) <= 59));
        if (!validDate(y, mo, d) || !timeOk) {
          throw new SoqlError(`invalid datetime literal '${text}' at position ${start}`, start);
        }
        tail(text.length, 'datetime literal');
        this.pos = start + text.length;
        return { kind: 'datetime', text, pos: start };
      }
      const date = DATE_RE.exec(rest);
      if (date) {
        const [text, y, mo, d] = date;
        tail(text.length, src[start + text.length] === 'T' ? 'datetime literal' : 'date literal');
        if (!validDate(y, mo, d)) {
          throw new SoqlError(`invalid date literal '${text}' at position ${start}`, start);
        }
        this.pos = start + text.length;
        return { kind: 'date', text, pos: start };
      }
    }
    const num = NUMBER_RE.exec(rest)!;
    const text = num[0];
    tail(text.length, 'number');
    this.pos = start + text.length;
    return { kind: 'number', text, value: Number(text), pos: start };
  }
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

/** SOQL reserved words: never accepted as a field or object name. */
const RESERVED = new Set([
  'AND',
  'ASC',
  'DESC',
  'EXCLUDES',
  'FIRST',
  'FROM',
  'GROUP',
  'HAVING',
  'IN',
  'INCLUDES',
  'LAST',
  'LIKE',
  'LIMIT',
  'NOT',
  'NULL',
  'NULLS',
  'OR',
  'SELECT',
  'WHERE',
  'WITH',
]);

const AGGREGATES = new Set(['AVG', 'COUNT_DISTINCT', 'MIN', 'MAX', 'SUM']);

/** Clauses that may follow FROM, in the order SOQL requires them. */
const CLAUSES = ['WHERE', 'ORDER BY', 'LIMIT', 'OFFSET'] as const;
type Clause = (typeof CLAUSES)[number];

/** Clause keywords outside the subset, with the message tail to show. */
const UNSUPPORTED_CLAUSES: Record<string, string> = {
  GROUP: 'GROUP BY is not supported in this SOQL subset',
  HAVING: 'HAVING is not supported in this SOQL subset',
  WITH: 'WITH is not supported in this SOQL subset',
  USING: 'USING SCOPE is not supported in this SOQL subset',
  FOR: 'FOR VIEW/REFERENCE/UPDATE is not supported in this SOQL subset',
  UPDATE: 'UPDATE TRACKING/VIEWSTAT is not supported in this SOQL subset',
};

const OPERATORS: Record<string, SoqlOperator> = {
  '=': '=',
  '!=': '!=',
  '<>': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

function show(tok: Token): string {
  if (tok.kind === 'eof') return 'end of query';
  if (tok.kind === 'string') return `string ${tok.text}`;
  return `token '${tok.text}'`;
}

class Parser {
  private readonly lexer: Lexer;
  private readonly buf: Token[] = [];

  constructor(src: string) {
    this.lexer = new Lexer(src);
  }

  private peek(k = 0): Token {
    while (this.buf.length <= k) {
      const last = this.buf[this.buf.length - 1];
      this.buf.push(last?.kind === 'eof' ? last : this.lexer.next());
    }
    return this.buf[k];
  }

  private take(): Token {
    const tok = this.peek();
    this.buf.shift();
    return tok;
  }

  private isWord(upper: string, k = 0): boolean {
    const tok = this.peek(k);
    return tok.kind === 'word' && tok.upper === upper;
  }

  private isPunct(text: string, k = 0): boolean {
    const tok = this.peek(k);
    return tok.kind === 'punct' && tok.text === text;
  }

  private unexpected(expected: string, tok: Token = this.peek()): SoqlError {
    return new SoqlError(`unexpected ${show(tok)} at position ${tok.pos}: expected ${expected}`, tok.pos);
  }

  private unsupported(what: string, tok: Token): SoqlError {
    return new SoqlError(`${what} (at position ${tok.pos})`, tok.pos);
  }

  private expectWord(upper: string): void {
    if (!this.isWord(upper)) throw this.unexpected(upper);
    this.take();
  }

  private expectPunct(text: string, expected = `'${text}'`): void {
    if (!this.isPunct(text)) throw this.unexpected(expected);
    this.take();
  }

  parse(): SoqlQuery {
    if (this.peek().kind === 'eof') throw new SoqlError('empty SOQL query: expected SELECT', 0);
    this.expectWord('SELECT');
    const { fields, count } = this.selectList();
    this.expectWord('FROM');
    const object = this.objectName();
    const query: SoqlQuery = { fields, count, object, where: [], orderBy: [] };

    let nextClause = 0;
    for (;;) {
      const tok = this.peek();
      if (tok.kind === 'eof') break;
      const clause = this.clauseAt();
      if (clause === undefined) {
        if (tok.kind === 'word' && tok.upper in UNSUPPORTED_CLAUSES) {
          throw this.unsupported(UNSUPPORTED_CLAUSES[tok.upper], tok);
        }
        if (tok.kind === 'word' && tok.upper === 'OR') {
          throw this.unsupported('OR is not supported in this SOQL subset; join conditions with AND', tok);
        }
        const rest = CLAUSES.slice(nextClause);
        throw this.unexpected(rest.length ? `${rest.join(', ')} or end of query` : 'end of query');
      }
      const index = CLAUSES.indexOf(clause);
      if (index < nextClause) {
        const seenLater = CLAUSES[nextClause - 1];
        throw new SoqlError(
          clause === seenLater
            ? `duplicate ${clause} clause at position ${tok.pos}`
            : `${clause} at position ${tok.pos} must come before ${seenLater}`,
          tok.pos,
        );
      }
      nextClause = index + 1;
      this.take();
      switch (clause) {
        case 'WHERE':
          query.where = this.conditionList();
          break;
        case 'ORDER BY':
          if (count) throw this.unsupported('ORDER BY cannot be used with COUNT()', tok);
          this.expectWord('BY');
          query.orderBy = this.orderByList();
          break;
        case 'LIMIT':
          query.limit = this.nonNegativeInteger('LIMIT');
          break;
        case 'OFFSET':
          query.offset = this.nonNegativeInteger('OFFSET');
          break;
      }
    }
    return query;
  }

  /** The clause keyword at the cursor, if any. */
  private clauseAt(): Clause | undefined {
    const tok = this.peek();
    if (tok.kind !== 'word') return undefined;
    if (tok.upper === 'ORDER') return 'ORDER BY';
    if (tok.upper === 'WHERE' || tok.upper === 'LIMIT' || tok.upper === 'OFFSET') return tok.upper;
    return undefined;
  }

  private selectList(): { fields: string[]; count: boolean } {
    const fields: string[] = [];
    const seen = new Set<string>();
    let countTok: Token | undefined;
    for (;;) {
      const tok = this.peek();
      if (tok.kind === 'word' && tok.upper === 'COUNT' && this.isPunct('(', 1)) {
        this.take();
        this.take();
        if (!this.isPunct(')')) {
          throw this.unsupported('COUNT(field) is not supported in this SOQL subset; use COUNT()', tok);
        }
        this.take();
        if (fields.length > 0 || countTok) {
          throw this.unsupported('COUNT() must be the only item in the SELECT list', tok);
        }
        countTok = tok;
      } else if (this.isPunct('(')) {
        const inner = this.peek(1);
        if (inner.kind === 'word' && inner.upper === 'SELECT') {
          throw this.unsupported('subqueries are not supported in this SOQL subset', tok);
        }
        throw this.unexpected('a field name or COUNT()');
      } else {
        if (countTok) throw this.unsupported('COUNT() must be the only item in the SELECT list', countTok);
        const name = this.fieldName('a field name or COUNT()');
        const key = name.toLowerCase();
        if (seen.has(key)) throw new SoqlError(`duplicate field selected: '${name}' at position ${tok.pos}`, tok.pos);
        seen.add(key);
        fields.push(name);
      }
      if (!this.isPunct(',')) break;
      this.take();
    }
    return { fields, count: countTok !== undefined };
  }

  /** A plain field name: rejects relationship paths, function calls, reserved words and non-identifiers. */
  private fieldName(expected: string): string {
    const tok = this.peek();
    if (tok.kind !== 'word') throw this.unexpected(expected);
    if (tok.upper === 'TYPEOF') throw this.unsupported('TYPEOF is not supported in this SOQL subset', tok);
    if (tok.dotted) {
      throw this.unsupported(
        `relationship field '${tok.text}' is not supported in this SOQL subset; query the related object separately`,
        tok,
      );
    }
    if (this.isPunct('(', 1)) {
      if (AGGREGATES.has(tok.upper) || tok.upper === 'COUNT') {
        throw this.unsupported(
          `aggregate function ${tok.text}() is not supported in this SOQL subset; only COUNT() is supported`,
          tok,
        );
      }
      throw this.unsupported(`function ${tok.text}() is not supported in this SOQL subset`, tok);
    }
    if (RESERVED.has(tok.upper)) throw this.unexpected(expected);
    this.take();
    return tok.text;
  }

  private objectName(): string {
    const tok = this.peek();
    if (tok.kind === 'word' && tok.dotted) {
      throw this.unsupported(`relationship path '${tok.text}' is not supported in FROM in this SOQL subset`, tok);
    }
    if (tok.kind !== 'word' || RESERVED.has(tok.upper)) throw this.unexpected('an object name');
    this.take();
    const after = this.peek();
    if (after.kind === 'punct' && after.text === ',') {
      throw this.unsupported('multiple objects in FROM are not supported in this SOQL subset', after);
    }
    return tok.text;
  }

  /** condition (AND condition)*, with parenthesized groups flattened. */
  private conditionList(): SoqlCondition[] {
    const out: SoqlCondition[] = [];
    for (;;) {
      this.conditionTerm(out);
      const tok = this.peek();
      if (tok.kind === 'word' && tok.upper === 'OR') {
        throw this.unsupported('OR is not supported in this SOQL subset; join conditions with AND', tok);
      }
      if (!this.isWord('AND')) return out;
      this.take();
    }
  }

  private conditionTerm(out: SoqlCondition[]): void {
    const tok = this.peek();
    if (tok.kind === 'punct' && tok.text === '(') {
      const inner = this.peek(1);
      if (inner.kind === 'word' && inner.upper === 'SELECT') {
        throw this.unsupported('subqueries are not supported in this SOQL subset', inner);
      }
      this.take();
      out.push(...this.conditionList());
      this.expectPunct(')', "AND or ')'");
      return;
    }
    if (tok.kind === 'word' && tok.upper === 'NOT') {
      throw this.unsupported(
        'NOT as a boolean operator is not supported in this SOQL subset; use !=, <> or NOT IN instead',
        tok,
      );
    }
    const field = this.fieldName('a condition (field name or parenthesized condition)');
    const opTok = this.peek();
    if (opTok.kind === 'punct' && opTok.text in OPERATORS) {
      this.take();
      out.push({ field, op: OPERATORS[opTok.text], value: this.value() });
      return;
    }
    if (opTok.kind === 'word') {
      switch (opTok.upper) {
        case 'LIKE':
          this.take();
          out.push({ field, op: 'LIKE', value: this.likePattern() });
          return;
        case 'IN':
          this.take();
          out.push({ field, op: 'IN', value: this.valueList('IN') });
          return;
        case 'NOT':
          this.take();
          if (this.isWord('IN')) {
            this.take();
            out.push({ field, op: 'NOT IN', value: this.valueList('NOT IN') });
            return;
          }
          if (this.isWord('LIKE')) {
            throw this.unsupported('NOT LIKE is not supported in this SOQL subset; NOT may only be used in NOT IN', opTok);
          }
          throw this.unexpected('IN after NOT');
        case 'INCLUDES':
        case 'EXCLUDES':
          throw this.unsupported(`${opTok.upper} is not supported in this SOQL subset`, opTok);
      }
    }
    throw this.unexpected('a comparison operator (=, !=, <>, <, <=, >, >=, LIKE, IN or NOT IN)');
  }

  private likePattern(): string {
    const tok = this.peek();
    if (tok.kind !== 'string') {
      if (tok.kind === 'eof') throw this.unexpected('a string pattern after LIKE');
      throw new SoqlError(`LIKE requires a string pattern, but got ${show(tok)} at position ${tok.pos}`, tok.pos);
    }
    this.take();
    return tok.likeValue;
  }

  private valueList(op: 'IN' | 'NOT IN'): SoqlValue[] {
    const open = this.peek();
    if (!(open.kind === 'punct' && open.text === '(')) {
      if (open.kind === 'punct' && open.text === ':') this.bindVariable(open);
      throw this.unexpected(`'(' after ${op}`);
    }
    this.take();
    const inner = this.peek();
    if (inner.kind === 'word' && inner.upper === 'SELECT') {
      throw this.unsupported(`semi-joins (${op} with a subquery) are not supported in this SOQL subset`, inner);
    }
    if (inner.kind === 'punct' && inner.text === ')') throw this.unexpected(`a value in the ${op} list`);
    const values: SoqlValue[] = [];
    for (;;) {
      values.push(this.value());
      if (this.isPunct(',')) {
        this.take();
        continue;
      }
      this.expectPunct(')', `',' or ')' in the ${op} list`);
      return values;
    }
  }

  private bindVariable(tok: Token): never {
    throw this.unsupported('bind variables are not supported in this SOQL subset; write the value as a literal', tok);
  }

  private value(): SoqlValue {
    const tok = this.peek();
    const expected =
      'a value (string, number, TRUE, FALSE, NULL, date, datetime, TODAY, YESTERDAY or TOMORROW)';
    switch (tok.kind) {
      case 'string':
        if (tok.likeOnlyEscape) {
          throw new SoqlError(
            `the escapes \\% and \\_ in the string at position ${tok.pos} are only allowed in LIKE patterns`,
            tok.pos,
          );
        }
        this.take();
        return tok.value;
      case 'number':
        this.take();
        return tok.value;
      case 'date':
        this.take();
        return { date: tok.text };
      case 'datetime':
        this.take();
        return { datetime: tok.text };
      case 'word':
        switch (tok.upper) {
          case 'TRUE':
            this.take();
            return true;
          case 'FALSE':
            this.take();
            return false;
          case 'NULL':
            this.take();
            return null;
          case 'TODAY':
          case 'YESTERDAY':
          case 'TOMORROW':
            this.take();
            return { dateLiteral: tok.upper };
        }
        if (/^(LAST|NEXT|THIS)_|_N_/.test(tok.upper)) {
          throw this.unsupported(
            `date literal ${tok.text} is not supported in this SOQL subset; only TODAY, YESTERDAY and TOMORROW are`,
            tok,
          );
        }
        if (tok.upper === 'SELECT') throw this.unsupported('subqueries are not supported in this SOQL subset', tok);
        throw this.unexpected(expected);
      case 'punct':
        if (tok.text === ':') this.bindVariable(tok);
        if (tok.text === '(') {
          const inner = this.peek(1);
          if (inner.kind === 'word' && inner.upper === 'SELECT') {
            throw this.unsupported('subqueries are not supported in this SOQL subset', inner);
          }
        }
        throw this.unexpected(expected);
      case 'eof':
        throw this.unexpected(expected);
    }
  }

  private orderByList(): SoqlOrderBy[] {
    const out: SoqlOrderBy[] = [];
    for (;;) {
      const field = this.fieldName('a field name to order by');
      let direction: 'ASC' | 'DESC' = 'ASC';
      if (this.isWord('ASC') || this.isWord('DESC')) {
        direction = (this.take() as { upper: 'ASC' | 'DESC' }).upper;
      }
      let nulls: 'FIRST' | 'LAST' = direction === 'ASC' ? 'FIRST' : 'LAST';
      if (this.isWord('NULLS')) {
        this.take();
        if (this.isWord('FIRST') || this.isWord('LAST')) {
          nulls = (this.take() as { upper: 'FIRST' | 'LAST' }).upper;
        } else {
          throw this.unexpected('FIRST or LAST after NULLS');
        }
      }
      out.push({ field, direction, nulls });
      if (!this.isPunct(',')) return out;
      this.take();
    }
  }

  private nonNegativeInteger(clause: 'LIMIT' | 'OFFSET'): number {
    const tok = this.peek();
    if (tok.kind === 'eof') throw this.unexpected(`a non-negative integer after ${clause}`);
    if (tok.kind === 'punct' && tok.text === ':') this.bindVariable(tok);
    if (tok.kind !== 'number' || !/^\d+$/.test(tok.text) || !Number.isSafeInteger(tok.value)) {
      throw new SoqlError(
        `${clause} must be a non-negative integer, but got '${tok.text}' at position ${tok.pos}`,
        tok.pos,
      );
    }
    this.take();
    return tok.value;
  }
}

/** Parses a query in the supported SOQL subset; throws SoqlError on syntax errors and unsupported constructs. */
export function parseSoql(text: string): SoqlQuery {
  return new Parser(text).parse();
}

/** Compiles a SOQL LIKE pattern (% = any run, _ = one char, backslash escapes) to an anchored case-insensitive RegExp. */
export function likeToRegExp(pattern: string): RegExp {
  let source = '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '%') source += '.*';
    else if (c === '_') source += '.';
    else if (c === '\\' && i + 1 < chars.length) source += escapeRegExp(chars[++i]);
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, 'isu');
}

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}
