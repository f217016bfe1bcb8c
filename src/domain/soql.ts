/**
 * SOQL text → a checked, engine-neutral query model. The grammar is Salesforce's, parsed by
 * `@jetstreamapp/soql-parser-js` (a maintained SOQL parser); this module adds what the library leaves
 * to its callers: the length and nesting limits (checked before parsing), error positions as
 * Salesforce reports them (`ERROR at Row:r:Column:c`), a real boolean tree for WHERE (the library
 * returns a flat chain with parenthesis counts), unescaped literals, and the refusal of constructs
 * the engine does not run (HAVING, TYPEOF, semi-joins, bind variables, …) with MALFORMED_QUERY.
 *
 * Supported: SELECT fields, parent relationship paths (`Account.Name`), one level of child
 * subqueries, COUNT(), COUNT/COUNT_DISTINCT/SUM/AVG/MIN/MAX(field) with optional aliases; FROM one
 * object; WHERE with AND, OR, NOT, parentheses, =, !=, <>, <, <=, >, >=, LIKE, IN, NOT IN, and date
 * literals (TODAY, LAST_N_DAYS:n, …); GROUP BY fields; ORDER BY; LIMIT; OFFSET.
 */
import {
  parseQuery,
  type Condition,
  type FieldType as AstField,
  type Query,
  type Subquery,
  type WhereClause,
} from '@jetstreamapp/soql-parser-js';

/** Longest query text accepted (Salesforce: 100,000 characters). */
export const SOQL_MAX_LENGTH = 100_000;
/** Deepest parenthesis nesting accepted, checked before parsing. */
export const SOQL_MAX_DEPTH = 50;
/** Most items in one SELECT list (an engine limit; SQL backends cap result columns). */
export const SOQL_MAX_SELECT = 500;
/** Most child subqueries in one query (Salesforce: 20). */
export const SOQL_MAX_SUBQUERIES = 20;
/** Most ORDER BY and GROUP BY terms (Salesforce orders by at most 32 fields). */
export const SOQL_MAX_TERMS = 32;

/** A literal value in a condition. */
export type SoqlValue = string | number | boolean | null | { date: string } | { datetime: string } | { dateLiteral: string; n?: number };

/** Comparison operators after normalization (`<>` becomes `!=`). */
export type SoqlOperator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'IN' | 'NOT IN';

/** One WHERE comparison; `field` is a dotted path (`Name`, `Account.Name`); `value` is an array exactly for IN and NOT IN. */
export type SoqlCondition = { field: string; op: SoqlOperator; value: SoqlValue | SoqlValue[] };

/** A WHERE expression: a comparison, or AND / OR of several, or NOT of one. */
export type SoqlExpr = SoqlCondition | { and: SoqlExpr[] } | { or: SoqlExpr[] } | { not: SoqlExpr };

/** One ORDER BY term with Salesforce's defaults filled in. */
export interface SoqlOrderBy {
  field: string;
  direction: 'ASC' | 'DESC';
  nulls: 'FIRST' | 'LAST';
}

/** Aggregate functions the engine computes. */
export type SoqlAggregateFn = 'COUNT' | 'COUNT_DISTINCT' | 'SUM' | 'AVG' | 'MIN' | 'MAX';

/** One item of a SELECT list. */
export type SoqlSelectItem =
  | { kind: 'field'; field: string }
  | { kind: 'aggregate'; fn: SoqlAggregateFn; field: string; alias?: string }
  | { kind: 'subquery'; relationship: string; query: SoqlSubquery };

/** The clauses a query and a child subquery share. */
export interface SoqlQueryBase {
  select: SoqlSelectItem[];
  where?: SoqlExpr;
  groupBy: string[];
  orderBy: SoqlOrderBy[];
  limit?: number;
  offset?: number;
}

/** A child subquery: FROM names a child relationship of the outer object. */
export interface SoqlSubquery extends SoqlQueryBase {
  relationship: string;
}

/** A parsed query. `count` is true for the `SELECT COUNT() FROM …` form. */
export interface SoqlQuery extends SoqlQueryBase {
  object: string;
  count: boolean;
}

/** A syntax error or an unsupported construct, with where it was found (0-based offset, 1-based line and column). */
export class SoqlError extends Error {
  /** Creates an error at `position` (0-based) in `text`; the message carries Salesforce's `ERROR at Row:r:Column:c`. */
  constructor(
    readonly detail: string,
    readonly position: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(`ERROR at Row:${line}:Column:${column}\n${detail}`);
    this.name = 'SoqlError';
  }
}

/** Builds a SoqlError for a 0-based offset in `text`. */
function errorAt(text: string, position: number, detail: string): SoqlError {
  const pos = Math.max(0, Math.min(position, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return new SoqlError(detail, pos, line, pos - lineStart + 1);
}

/** `text` with every string literal's content blanked, so searches and paren counts skip strings. */
function maskStrings(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') {
        out += '  ';
        i++;
        continue;
      }
      if (c === "'") {
        inString = false;
        out += c;
      } else out += ' ';
    } else {
      if (c === "'") inString = true;
      out += c;
    }
  }
  return out;
}

/**
 * Checks the length and the parenthesis nesting depth before any parsing, so a hostile query can
 * neither exhaust the stack nor the CPU. Throws SoqlError at the offending position.
 */
export function checkSoqlLimits(text: string): void {
  if (text.length > SOQL_MAX_LENGTH) {
    throw errorAt(text, SOQL_MAX_LENGTH, `Query is too long: ${text.length} characters; the maximum is ${SOQL_MAX_LENGTH}.`);
  }
  // PostgreSQL can't take U+0000 in a parameter (a database error, a 500); no stored text holds one.
  const nul = text.indexOf('\u0000');
  if (nul >= 0) throw errorAt(text, nul, 'invalid character U+0000 (NUL) in the query.');
  const masked = maskStrings(text);
  let depth = 0;
  for (let i = 0; i < masked.length; i++) {
    const c = masked[i];
    if (c === '(') {
      depth++;
      if (depth > SOQL_MAX_DEPTH) {
        throw errorAt(text, i, `Query nests parentheses more than ${SOQL_MAX_DEPTH} levels deep.`);
      }
    } else if (c === ')') depth = Math.max(0, depth - 1);
  }
}

/** Where `needle` (a word or symbol) first occurs outside string literals, from `from`; 0 when absent. */
function locate(text: string, needle: string, from = 0): number {
  const masked = maskStrings(text).toUpperCase();
  const n = needle.toUpperCase();
  const word = /^\w/.test(n);
  let i = masked.indexOf(n, from);
  while (i >= 0 && word && ((i > 0 && /\w/.test(masked[i - 1]!)) || /\w/.test(masked[i + n.length] ?? ''))) {
    i = masked.indexOf(n, i + 1);
  }
  return i < 0 ? 0 : i;
}

/** Friendlier names for the library's token types in "expected …" hints. */
const TOKEN_NAMES: Record<string, string> = {
  Identifier: 'a name',
  RParen: "')'",
  R_PAREN: "')'",
  L_PAREN: "'('",
  UNSIGNED_INTEGER: 'a non-negative integer',
  COMMA: "','",
};

interface RecognitionError {
  message?: string;
  token?: { image?: string; startOffset?: number; tokenType?: { name?: string } };
}

/** Runs the library parser; turns its errors into SoqlErrors at the token's position. */
function parseWithLibrary(text: string): Query {
  try {
    return parseQuery(text);
  } catch (first) {
    const message = first instanceof Error ? first.message : String(first);
    const lex = /unexpected character: ->(.)<- at offset: (\d+)/.exec(message);
    if (lex) throw errorAt(text, Number(lex[2]), `unexpected character: '${lex[1]}'`);
    // The library keeps the offending token only in its log output: run it again, capturing that
    // (synchronous, so nothing else can log in between).
    const captured: unknown[][] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void captured.push(args);
    try {
      // ignoreParseErrors must be given as false: the library rebuilds its parser (self-analysis,
      // ~100 ms of CPU) whenever the option differs from the cached parser's, and an omitted
      // option differs; so every malformed query cost a rebuild.
      parseQuery(text, { logErrors: true, ignoreParseErrors: false });
    } catch {
      // expected: the same error again
    } finally {
      console.log = log;
    }
    const errors = captured.find((a) => Array.isArray(a[0]))?.[0] as RecognitionError[] | undefined;
    const token = errors?.[0]?.token;
    const expected = /^Expecting (?:a )?token (?:of )?type --> (\w+) <--/.exec(message)?.[1];
    const hint = expected && expected !== 'RParenMismatch' ? `; expected ${TOKEN_NAMES[expected] ?? expected}` : '';
    if (!token || token.tokenType?.name === 'EOF' || !Number.isFinite(token.startOffset)) {
      throw errorAt(text, text.trimEnd().length, `unexpected end of query${hint}`);
    }
    throw errorAt(text, token.startOffset!, `unexpected token: '${token.image}'${hint}`);
  }
}

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

/** Date literals and their unit/direction, for {@link dateLiteralRange}. */
const DATE_LITERALS =
  /^(TODAY|YESTERDAY|TOMORROW|(LAST|THIS|NEXT)_(WEEK|MONTH|QUARTER|YEAR|FISCAL_QUARTER|FISCAL_YEAR)|(LAST|NEXT)_90_DAYS)$/;
const DATE_N_LITERALS = /^((LAST|NEXT)_N_|N_)(DAYS|WEEKS|MONTHS|QUARTERS|YEARS|FISCAL_QUARTERS|FISCAL_YEARS)(_AGO)?$/;
/**
 * How far a date literal's `:n` may reach, in years: ranges stay inside the four-digit years that
 * date strings compare correctly in (a bigger n made an invalid Date, and a 500 on `/query`).
 * Salesforce documents no bound.
 */
export const DATE_N_YEARS = 1000;
const DATE_N_MAX: Record<string, number> = {
  DAYS: DATE_N_YEARS * 366,
  WEEKS: DATE_N_YEARS * 53,
  MONTHS: DATE_N_YEARS * 12,
  QUARTERS: DATE_N_YEARS * 4,
  YEARS: DATE_N_YEARS,
};

class Converter {
  constructor(private readonly text: string) {}

  private fail(detail: string, near: string, from = 0): never {
    throw errorAt(this.text, locate(this.text, near, from), detail);
  }

  /** Fails at the first occurrence of `raw` (a literal, searched in the unmasked text). */
  private failAt(detail: string, raw: string): never {
    throw errorAt(this.text, Math.max(0, this.text.indexOf(raw, this.whereAt)), detail);
  }

  /** Where the (first) WHERE keyword is: condition errors are searched for from there. */
  private get whereAt(): number {
    return locate(this.text, 'WHERE');
  }

  query(ast: Query): SoqlQuery {
    if (!ast.sObject) this.fail('unexpected end of query; expected an object name', 'FROM');
    const dotted = /\bFROM\s+([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)+)/i.exec(maskStrings(this.text));
    if (dotted)
      throw errorAt(
        this.text,
        dotted.index + dotted[0].length - dotted[1]!.length,
        `a relationship path in FROM is not supported ('${dotted[1]!.replace(/\s+/g, '')}')`,
      );
    const base = this.base(ast, false);
    const count = base.select.some((s) => s.kind === 'aggregate' && s.fn === 'COUNT' && s.field === '');
    return { ...base, object: ast.sObject!, count };
  }

  private base(ast: Query | Subquery, sub: boolean): SoqlQueryBase {
    if (ast.sObjectAlias) this.fail(`object aliases are not supported ('${ast.sObjectAlias}')`, ast.sObjectAlias);
    if (ast.usingScope) this.fail('USING SCOPE is not supported', 'USING');
    if (ast.having) this.fail('HAVING is not supported', 'HAVING');
    if (ast.withSecurityEnforced || ast.withAccessLevel || ast.withDataCategory) this.fail('WITH is not supported', 'WITH');
    if (ast.for) this.fail('FOR VIEW/REFERENCE/UPDATE is not supported', 'FOR');
    if (ast.update) this.fail('UPDATE TRACKING/VIEWSTAT is not supported', 'UPDATE');
    const select = (ast.fields ?? []).map((f) => this.selectItem(f, sub));
    if (select.length > SOQL_MAX_SELECT) this.fail(`more than ${SOQL_MAX_SELECT} items in the SELECT list`, 'SELECT');
    const subqueries = select.filter((s) => s.kind === 'subquery').length;
    if (subqueries > SOQL_MAX_SUBQUERIES) this.fail(`more than ${SOQL_MAX_SUBQUERIES} child subqueries`, 'SELECT', 1);
    const seen = new Set<string>();
    for (const item of select) {
      const name = item.kind === 'field' ? item.field : item.kind === 'subquery' ? item.relationship : undefined;
      if (name === undefined) continue;
      const key = `${item.kind}:${name.toLowerCase()}`;
      if (seen.has(key)) this.fail(`duplicate field selected: ${name}`, name, locate(this.text, name) + 1);
      seen.add(key);
    }
    const countAll = select.findIndex((s) => s.kind === 'aggregate' && s.fn === 'COUNT' && s.field === '');
    if (countAll >= 0 && select.length > 1) this.fail('COUNT() must be the only item in the SELECT list', 'COUNT');
    const groupBy = this.groupBy(ast);
    if (countAll >= 0 && groupBy.length) this.fail('COUNT() cannot be used with GROUP BY; use COUNT(field)', 'GROUP');
    const orderBy = this.orderBy(ast);
    if (countAll >= 0 && orderBy.length) this.fail('ORDER BY cannot be used with COUNT()', 'ORDER');
    const out: SoqlQueryBase = { select, groupBy, orderBy };
    if (ast.where) out.where = this.where(ast.where);
    if (ast.limit !== undefined) out.limit = this.nonNegative(ast.limit, 'LIMIT');
    if (ast.offset !== undefined) out.offset = this.nonNegative(ast.offset, 'OFFSET');
    return out;
  }

  private nonNegative(n: unknown, clause: string): number {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) this.fail(`${clause} must be a non-negative integer`, clause);
    return n as number;
  }

  private path(raw: string): string {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(raw)) this.fail(`unexpected token: '${raw}'`, raw);
    return raw;
  }

  private selectItem(f: AstField, sub: boolean): SoqlSelectItem {
    switch (f.type) {
      case 'Field':
        if (f.alias) this.fail(`an alias ('${f.alias}') may only name an aggregate`, f.alias);
        return { kind: 'field', field: this.path(f.field) };
      case 'FieldRelationship':
        return { kind: 'field', field: this.path(f.rawValue ?? [...f.relationships, f.field].join('.')) };
      case 'FieldFunctionExpression': {
        const fn = f.functionName.toUpperCase();
        const raw = f.rawValue ?? f.functionName;
        if (!f.isAggregateFn || !['COUNT', 'COUNT_DISTINCT', 'SUM', 'AVG', 'MIN', 'MAX'].includes(fn)) {
          this.fail(`function ${f.functionName}() is not supported`, f.functionName);
        }
        if (f.parameters.length > 1 || f.parameters.some((p) => typeof p !== 'string'))
          this.fail(`${fn}() takes one field`, f.functionName);
        const field = (f.parameters[0] as string | undefined) ?? '';
        if (field === '' && fn !== 'COUNT') this.fail(`${fn}() needs a field`, raw);
        if (field === '' && f.alias) this.fail('COUNT() cannot have an alias', f.alias);
        const item: SoqlSelectItem = { kind: 'aggregate', fn: fn as SoqlAggregateFn, field: field ? this.path(field) : '' };
        if (f.alias) item.alias = f.alias;
        return item;
      }
      case 'FieldSubquery': {
        if (sub) this.fail('a subquery may not contain another subquery', 'SELECT', locate(this.text, 'SELECT') + 1);
        const q = f.subquery;
        if (q.sObjectPrefix?.length) this.fail(`relationship path in a subquery's FROM is not supported`, q.relationshipName);
        const base = this.base(q, true);
        if (base.groupBy.length || base.select.some((s) => s.kind === 'aggregate'))
          this.fail('aggregates and GROUP BY are not supported in a subquery', q.relationshipName);
        return { kind: 'subquery', relationship: q.relationshipName, query: { ...base, relationship: q.relationshipName } };
      }
      default:
        return this.fail('TYPEOF is not supported', 'TYPEOF');
    }
  }

  private groupBy(ast: Query | Subquery): string[] {
    if (!ast.groupBy) return [];
    const list = Array.isArray(ast.groupBy) ? ast.groupBy : [ast.groupBy];
    if (list.length > SOQL_MAX_TERMS) this.fail(`more than ${SOQL_MAX_TERMS} GROUP BY fields`, 'GROUP');
    return list.map((g) => {
      if (!('field' in g) || typeof g.field !== 'string')
        return this.fail('GROUP BY ROLLUP, CUBE and functions are not supported', 'GROUP');
      return this.path(g.field);
    });
  }

  private orderBy(ast: Query | Subquery): SoqlOrderBy[] {
    if (!ast.orderBy) return [];
    const list = Array.isArray(ast.orderBy) ? ast.orderBy : [ast.orderBy];
    if (list.length > SOQL_MAX_TERMS) this.fail(`more than ${SOQL_MAX_TERMS} ORDER BY fields`, 'ORDER');
    return list.map((clause) => {
      const o = clause as { field?: string; order?: string; nulls?: 'FIRST' | 'LAST' };
      if (!o.field) return this.fail('ORDER BY a function is not supported; order by a field', 'ORDER');
      const direction = o.order === 'DESC' ? 'DESC' : 'ASC';
      const nulls = o.nulls ?? (direction === 'ASC' ? 'FIRST' : 'LAST');
      return { field: this.path(o.field), direction, nulls };
    });
  }

  /** Rebuilds a boolean tree from the library's chain with parenthesis counts (iteratively: no deep recursion). */
  private where(clause: WhereClause): SoqlExpr {
    type Tok = '(' | ')' | 'AND' | 'OR' | 'NOT' | { cond: SoqlCondition };
    const toks: Tok[] = [];
    let node: WhereClause | undefined = clause;
    while (node) {
      const left = node.left as (Condition & { openParen?: number; closeParen?: number }) | null;
      for (let i = 0; i < (left?.openParen ?? 0); i++) toks.push('(');
      if ((node as { operator?: string }).operator === 'NOT' && (left === null || !('field' in left || 'fn' in left))) {
        toks.push('NOT');
        node = (node as { right: WhereClause }).right;
        continue;
      }
      if (!left) this.fail('unexpected token in WHERE', 'WHERE');
      toks.push({ cond: this.condition(left) });
      for (let i = 0; i < (left.closeParen ?? 0); i++) toks.push(')');
      const link = node as { operator?: string; right?: WhereClause };
      if (link.operator && link.right) {
        toks.push(link.operator as 'AND' | 'OR');
        node = link.right;
      } else node = undefined;
    }
    let i = 0;
    const expr = (): SoqlExpr => {
      const parts = [term()];
      let joiner: 'AND' | 'OR' | undefined;
      while (toks[i] === 'AND' || toks[i] === 'OR') {
        const op = toks[i] as 'AND' | 'OR';
        if (joiner && joiner !== op) {
          const other = op;
          this.fail(`unexpected token: '${other}'; use parentheses when mixing AND and OR`, other, locate(this.text, 'WHERE'));
        }
        joiner = op;
        i++;
        parts.push(term());
      }
      if (parts.length === 1) return parts[0]!;
      return joiner === 'AND' ? { and: parts } : { or: parts };
    };
    const term = (): SoqlExpr => {
      let nots = 0;
      while (toks[i] === 'NOT') {
        nots++;
        i++;
      }
      let inner: SoqlExpr;
      const t = toks[i];
      if (t === '(') {
        i++;
        inner = expr();
        if (toks[i] !== ')') this.fail("unexpected end of condition; expected ')'", 'WHERE');
        i++;
      } else if (t && typeof t === 'object') {
        inner = t.cond;
        i++;
      } else return this.fail('expected a condition', 'WHERE');
      // NOT NOT x is x under SOQL's two-valued logic: keep the parity, not a chain a hostile query could make deep.
      return nots % 2 ? { not: inner } : inner;
    };
    const out = expr();
    if (i !== toks.length) this.fail(`unexpected token: '${String(toks[i])}'`, String(toks[i]), locate(this.text, 'WHERE'));
    return out;
  }

  private condition(c: Condition): SoqlCondition {
    if ('fn' in c && c.fn) this.fail(`function ${c.fn.functionName ?? ''}() in WHERE is not supported`, c.fn.functionName ?? 'WHERE');
    const cond = c as Condition & {
      field: string;
      operator: string;
      value?: string | string[];
      literalType?: string | string[];
      valueQuery?: unknown;
      dateLiteralVariable?: number | number[];
    };
    const field = this.path(cond.field);
    if (cond.valueQuery) this.fail(`semi-joins (${cond.operator} with a subquery) are not supported`, 'SELECT', locate(this.text, 'WHERE'));
    const op = cond.operator.toUpperCase();
    if (op === 'INCLUDES' || op === 'EXCLUDES') this.fail(`${op} is not supported`, op);
    const normalized = (op === '<>' ? '!=' : op) as SoqlOperator;
    if (!['=', '!=', '<', '<=', '>', '>=', 'LIKE', 'IN', 'NOT IN'].includes(normalized)) this.fail(`operator ${op} is not supported`, op);
    const list = normalized === 'IN' || normalized === 'NOT IN';
    const rawValues = Array.isArray(cond.value) ? cond.value : [cond.value ?? ''];
    const types = Array.isArray(cond.literalType) ? cond.literalType : rawValues.map(() => cond.literalType as string);
    const vars = Array.isArray(cond.dateLiteralVariable)
      ? cond.dateLiteralVariable
      : rawValues.map(() => cond.dateLiteralVariable as number);
    if (list !== Array.isArray(cond.value))
      this.fail(`${normalized} needs ${list ? 'a parenthesized list' : 'a single value'}`, cond.operator, this.whereAt);
    const values = rawValues.map((raw, k) => this.value(raw, types[k] ?? 'STRING', vars[k], normalized === 'LIKE'));
    if (normalized === 'LIKE' && typeof values[0] !== 'string') this.fail(`LIKE requires a string pattern`, 'LIKE', this.whereAt);
    return { field, op: normalized, value: list ? values : values[0]! };
  }

  private value(raw: string, type: string, n: number | undefined, like: boolean): SoqlValue {
    switch (type) {
      case 'STRING':
        return this.string(raw, like);
      case 'INTEGER':
      case 'DECIMAL':
        return Number(raw);
      case 'BOOLEAN':
        return raw.toUpperCase() === 'TRUE';
      case 'NULL':
        return null;
      case 'DATE': {
        const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
        if (!m || !validDate(m[1]!, m[2]!, m[3]!)) this.fail(`invalid date literal: ${raw}`, raw);
        return { date: raw };
      }
      case 'DATETIME': {
        const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):?(\d{2}))$/.exec(raw);
        const ok =
          m &&
          validDate(m[1]!, m[2]!, m[3]!) &&
          Number(m[4]) <= 23 &&
          Number(m[5]) <= 59 &&
          Number(m[6]) <= 59 &&
          (m[9] === undefined || (Number(m[9]) <= 23 && Number(m[10]) <= 59));
        if (!ok || Number.isNaN(Date.parse(raw))) this.fail(`invalid datetime literal: ${raw}`, raw);
        return { datetime: raw };
      }
      case 'DATE_LITERAL': {
        const name = raw.toUpperCase();
        if (!DATE_LITERALS.test(name)) this.fail(`date literal ${raw} is not supported`, raw);
        return { dateLiteral: name };
      }
      case 'DATE_N_LITERAL': {
        const name = raw.split(':')[0]!.toUpperCase();
        const count = Number(n ?? raw.split(':')[1]);
        if (!DATE_N_LITERALS.test(name) || !Number.isSafeInteger(count) || count < 0) this.fail(`invalid date literal: ${raw}`, raw);
        const unit = /(DAYS|WEEKS|MONTHS|QUARTERS|YEARS)/.exec(name)![1]!;
        if (count > DATE_N_MAX[unit]!)
          this.fail(`invalid date literal: ${raw}; n may reach at most ${DATE_N_YEARS} years (${unit} up to ${DATE_N_MAX[unit]})`, raw);
        return { dateLiteral: name, n: count };
      }
      default:
        return this.fail(`${type === 'APEX_BIND_VARIABLE' ? 'bind variables are' : `${type.toLowerCase()} values are`} not supported`, raw);
    }
  }

  /** Unquotes a string literal; LIKE patterns keep `\%`, `\_` and `\\` as escapes for the LIKE matcher. */
  private string(raw: string, like: boolean): string {
    const body = raw.startsWith("'") && raw.endsWith("'") && raw.length >= 2 ? raw.slice(1, -1) : raw;
    let out = '';
    for (let i = 0; i < body.length; i++) {
      const c = body[i]!;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = body[i + 1];
      i++;
      if (e === '%' || e === '_') {
        if (!like) this.failAt(`the escapes \\% and \\_ are only allowed in LIKE patterns`, raw);
        out += '\\' + e;
      } else if (e !== undefined && e in STRING_ESCAPES) {
        const u = STRING_ESCAPES[e]!;
        out += like && u === '\\' ? '\\\\' : u;
      } else this.failAt(`invalid escape sequence '\\${e ?? ''}' in string literal`, raw);
    }
    return out;
  }
}

/** Parses a query; throws SoqlError (with row and column) on syntax errors, limits and unsupported constructs. */
export function parseSoql(text: string): SoqlQuery {
  checkSoqlLimits(text);
  if (!text.trim()) throw errorAt(text, 0, 'unexpected end of query; expected SELECT');
  if (/^\s*\(/.test(text)) throw errorAt(text, text.indexOf('('), "unexpected token: '('");
  return new Converter(text).query(parseWithLibrary(text));
}

/** A half-open range of UTC days `[start, end)` as `YYYY-MM-DD` strings. */
export interface DayRange {
  start: string;
  end: string;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const utc = (y: number, m: number, d: number) => new Date(Date.UTC(y, m, d));

/**
 * The days a date literal covers at `now` (UTC; weeks start on Sunday, fiscal years are calendar
 * years), as Salesforce defines them: LAST_N_DAYS:n runs from n days ago through today,
 * NEXT_N_DAYS:n from tomorrow for n days, LAST_N_MONTHS:n covers the n whole months before this one…
 */
export function dateLiteralRange(literal: string, n: number | undefined, now: Date): DayRange {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  const weekStart = d - now.getUTCDay();
  const quarterStart = m - (m % 3);
  const span = (a: Date, b: Date): DayRange => ({ start: day(a), end: day(b) });
  const lit = literal.toUpperCase().replace('FISCAL_', '');
  const k = n ?? 0;
  switch (lit) {
    case 'TODAY':
      return span(utc(y, m, d), utc(y, m, d + 1));
    case 'YESTERDAY':
      return span(utc(y, m, d - 1), utc(y, m, d));
    case 'TOMORROW':
      return span(utc(y, m, d + 1), utc(y, m, d + 2));
    case 'LAST_90_DAYS':
      return span(utc(y, m, d - 90), utc(y, m, d + 1));
    case 'NEXT_90_DAYS':
      return span(utc(y, m, d + 1), utc(y, m, d + 91));
    case 'LAST_N_DAYS':
      return span(utc(y, m, d - k), utc(y, m, d + 1));
    case 'NEXT_N_DAYS':
      return span(utc(y, m, d + 1), utc(y, m, d + 1 + k));
    case 'N_DAYS_AGO':
      return span(utc(y, m, d - k), utc(y, m, d - k + 1));
    case 'THIS_WEEK':
      return span(utc(y, m, weekStart), utc(y, m, weekStart + 7));
    case 'LAST_WEEK':
      return span(utc(y, m, weekStart - 7), utc(y, m, weekStart));
    case 'NEXT_WEEK':
      return span(utc(y, m, weekStart + 7), utc(y, m, weekStart + 14));
    case 'LAST_N_WEEKS':
      return span(utc(y, m, weekStart - 7 * k), utc(y, m, weekStart));
    case 'NEXT_N_WEEKS':
      return span(utc(y, m, weekStart + 7), utc(y, m, weekStart + 7 + 7 * k));
    case 'N_WEEKS_AGO':
      return span(utc(y, m, weekStart - 7 * k), utc(y, m, weekStart - 7 * k + 7));
    case 'THIS_MONTH':
      return span(utc(y, m, 1), utc(y, m + 1, 1));
    case 'LAST_MONTH':
      return span(utc(y, m - 1, 1), utc(y, m, 1));
    case 'NEXT_MONTH':
      return span(utc(y, m + 1, 1), utc(y, m + 2, 1));
    case 'LAST_N_MONTHS':
      return span(utc(y, m - k, 1), utc(y, m, 1));
    case 'NEXT_N_MONTHS':
      return span(utc(y, m + 1, 1), utc(y, m + 1 + k, 1));
    case 'N_MONTHS_AGO':
      return span(utc(y, m - k, 1), utc(y, m - k + 1, 1));
    case 'THIS_QUARTER':
      return span(utc(y, quarterStart, 1), utc(y, quarterStart + 3, 1));
    case 'LAST_QUARTER':
      return span(utc(y, quarterStart - 3, 1), utc(y, quarterStart, 1));
    case 'NEXT_QUARTER':
      return span(utc(y, quarterStart + 3, 1), utc(y, quarterStart + 6, 1));
    case 'LAST_N_QUARTERS':
      return span(utc(y, quarterStart - 3 * k, 1), utc(y, quarterStart, 1));
    case 'NEXT_N_QUARTERS':
      return span(utc(y, quarterStart + 3, 1), utc(y, quarterStart + 3 + 3 * k, 1));
    case 'N_QUARTERS_AGO':
      return span(utc(y, quarterStart - 3 * k, 1), utc(y, quarterStart - 3 * k + 3, 1));
    case 'THIS_YEAR':
      return span(utc(y, 0, 1), utc(y + 1, 0, 1));
    case 'LAST_YEAR':
      return span(utc(y - 1, 0, 1), utc(y, 0, 1));
    case 'NEXT_YEAR':
      return span(utc(y + 1, 0, 1), utc(y + 2, 0, 1));
    case 'LAST_N_YEARS':
      return span(utc(y - k, 0, 1), utc(y, 0, 1));
    case 'NEXT_N_YEARS':
      return span(utc(y + 1, 0, 1), utc(y + 1 + k, 0, 1));
    case 'N_YEARS_AGO':
      return span(utc(y - k, 0, 1), utc(y - k + 1, 0, 1));
  }
  throw new Error(`unknown date literal ${literal}`);
}

/** Compiles a SOQL LIKE pattern (% = any run, _ = one char, backslash escapes) to an anchored case-insensitive RegExp. */
export function likeToRegExp(pattern: string): RegExp {
  let source = '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '%') source += '.*';
    else if (c === '_') source += '.';
    else if (c === '\\' && i + 1 < chars.length) source += escapeRegExp(chars[++i]!);
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, 'isu');
}

function escapeRegExp(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}
