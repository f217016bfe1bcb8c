/**
 * Runs SOQL (docs/soql.md) against storage: parse (src/domain/soql.ts), resolve the object, fields
 * and relationships against the metadata, type-check every literal against its field, add the
 * caller's sharing to every object the query reaches (the queried object, each parent through a
 * relationship, each child subquery), compile to one storage `select` per query level, and return
 * `{ totalSize, done, records }` shaped as Salesforce shapes it (`attributes` on every record,
 * parents nested and null when absent or unreadable, subqueries as nested results or null,
 * aggregate rows as `AggregateResult` with `expr0`, `expr1`… for unaliased aggregates).
 */
import { EngineError } from '../errors.js';
import { parseId } from '../domain/ids.js';
import { INT32_MAX, INT32_MIN } from '../domain/records.js';
import { findChildRelationship, findField, findObject, findParentRelationship, type FieldDef, type ObjectDef } from '../domain/objects.js';
import {
  dateLiteralRange,
  parseSoql,
  SoqlError,
  type SoqlCondition,
  type SoqlExpr,
  type SoqlQueryBase,
  type SoqlSubquery,
  type SoqlValue,
} from '../domain/soql.js';
import type { Caller } from './facts.js';
import { isAdmin, scopeFor, type Scope } from './access.js';
import type { AggregateFn, ColumnRef, Predicate, Row, SelectColumn, SelectJoin, SelectPlan, StorageOps } from '../storage/port.js';

/** A query result in Salesforce's shape. */
export interface QueryResult {
  totalSize: number;
  done: boolean;
  records: Record<string, unknown>[];
}

/** Parent relationships a field path may cross (Salesforce: five levels). */
const MAX_PARENT_DEPTH = 5;
/** Distinct parent relationships one query level may join (Salesforce: 55 child-to-parent relationships). */
const MAX_PARENT_JOINS = 55;
/** Parent ids per child-subquery statement. */
const CHILD_CHUNK = 500;

const malformed = (msg: string) => new EngineError('MALFORMED_QUERY', msg);
const noColumn = (path: string, object: string) =>
  new EngineError('INVALID_FIELD', `No such column '${path}' on entity '${object}'.`, [path]);

/** A field path resolved to a column of the plan, with the relationships it crosses. */
interface Resolved {
  ref: ColumnRef;
  field: FieldDef;
  object: ObjectDef;
  /** Relationship hops from the queried object: name as the metadata spells it, target object, join alias. */
  hops: { name: string; object: string; alias: string }[];
  path: string;
}

/** Builds one storage `select` for one query level: joins for relationships, sharing on each. */
class PlanBuilder {
  readonly joins: SelectJoin[] = [];
  private readonly joinAlias = new Map<string, string>();

  constructor(
    private readonly tx: StorageOps,
    private readonly caller: Caller,
    readonly object: ObjectDef,
    private readonly scopes: Map<string, Promise<Scope>>,
    private readonly now: Date,
    private readonly access: QueryAccess = USER_QUERY_ACCESS,
  ) {}

  /** The caller's read scope of an object, computed once per query. */
  scope(object: string): Promise<Scope> {
    let s = this.scopes.get(object);
    if (!s) {
      s = this.access.rows === 'all' ? Promise.resolve<Scope>('all') : scopeFor(this.tx, this.caller, object, 'read');
      this.scopes.set(object, s);
    }
    return s;
  }

  /** A scope as a predicate on the table `alias`. */
  static scopePredicate(scope: Scope, alias: string): Predicate | undefined {
    if (scope === 'all') return undefined;
    if (scope === 'none') return { or: [] };
    return { and: scope.map((f) => ({ ...f, alias })) };
  }

  /** Resolves `Name` or `Account.Owner.Name`, adding a sharing-filtered left join per relationship. */
  async resolve(path: string): Promise<Resolved> {
    const parts = path.split('.');
    if (parts.length - 1 > MAX_PARENT_DEPTH) throw malformed(`Field path '${path}' crosses more than ${MAX_PARENT_DEPTH} relationships.`);
    let object = this.object;
    let alias = 't0';
    let key = '';
    const hops: Resolved['hops'] = [];
    for (const rel of parts.slice(0, -1)) {
      const ref = findParentRelationship(object.name, rel);
      if (!ref) {
        throw new EngineError(
          'INVALID_FIELD',
          `Didn't understand relationship '${rel}' in field path '${path}' on entity '${object.name}'.`,
          [path],
        );
      }
      const target = findObject(ref.to![0]!)!;
      const name = ref.name.slice(0, -2);
      key += `${name.toLowerCase()}.`;
      let next = this.joinAlias.get(key);
      if (!next) {
        if (this.joins.length >= MAX_PARENT_JOINS) throw malformed(`A query may use at most ${MAX_PARENT_JOINS} parent relationships.`);
        next = `t${this.joins.length + 1}`;
        this.joinAlias.set(key, next);
        const on = PlanBuilder.scopePredicate(await this.scope(target.name), next);
        this.joins.push({ alias: next, object: target.name, from: { alias, field: ref.name }, ...(on ? { on } : {}) });
      }
      hops.push({ name, object: target.name, alias: next });
      object = target;
      alias = next;
    }
    const last = parts[parts.length - 1]!;
    const field = findField(object.name, last);
    // A field the caller may not read doesn't exist for it (write-only; ModifyAllData-only for others).
    if (!field || field.writeOnly || (field.read === 'admin' && !isAdmin(this.caller) && this.access.fields !== 'all'))
      throw noColumn(path, object.name);
    return { ref: { alias, field: field.name }, field, object, hops, path };
  }

  /** A WHERE tree as a storage predicate. */
  async where(e: SoqlExpr): Promise<Predicate> {
    if ('and' in e) return { and: await Promise.all(e.and.map((x) => this.where(x))) };
    if ('or' in e) return { or: await Promise.all(e.or.map((x) => this.where(x))) };
    if ('not' in e) return { not: await this.where(e.not) };
    return this.condition(e);
  }

  private async condition(c: SoqlCondition): Promise<Predicate> {
    const r = await this.resolve(c.field);
    const { field, ref } = r;
    const at = (p: { op: string; value?: unknown }): Predicate => ({ ...p, ...ref }) as Predicate;
    const label = `${r.object.name}.${field.name}`;
    if (field.type === 'stringList' || field.type === 'password') {
      throw new EngineError('INVALID_FIELD', `${label} is a ${field.type} field; it can't be filtered.`, [c.field]);
    }
    if (c.op === 'LIKE') {
      if (!['string', 'picklist', 'reference'].includes(field.type)) {
        throw new EngineError('INVALID_FIELD', `LIKE needs a text field; ${label} is a ${field.type} field.`, [c.field]);
      }
      return at({ op: 'like', value: c.value as string });
    }
    if (c.op === 'IN' || c.op === 'NOT IN') {
      const values = c.value as SoqlValue[];
      const ranged = values.some((v) => this.range(field, v));
      let p: Predicate;
      if (ranged) p = { or: values.map((v) => this.compare(r, '=', v)) };
      else p = at({ op: 'in', value: values.map((v) => this.literal(r, v)) });
      return c.op === 'IN' ? p : ranged ? { not: p } : at({ op: 'not in', value: (p as { value: unknown[] }).value });
    }
    return this.compare(r, c.op, c.value as SoqlValue);
  }

  /** The UTC interval a date or date literal covers, when compared with a date or date-time field. */
  private range(field: FieldDef, v: SoqlValue): { start: string; end: string } | undefined {
    if (v === null || typeof v !== 'object' || 'datetime' in v) return undefined;
    if (field.type !== 'date' && field.type !== 'datetime') return undefined;
    if ('date' in v && field.type === 'date') return undefined;
    const days =
      'date' in v
        ? { start: v.date, end: new Date(Date.parse(`${v.date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10) }
        : dateLiteralRange(v.dateLiteral, v.n, this.now);
    return field.type === 'date' ? days : { start: `${days.start}T00:00:00.000Z`, end: `${days.end}T00:00:00.000Z` };
  }

  private compare(r: Resolved, op: Exclude<SoqlCondition['op'], 'LIKE' | 'IN' | 'NOT IN'> | '=', v: SoqlValue): Predicate {
    const { field, ref } = r;
    const span = this.range(field, v);
    if (span) {
      const ge = { ...ref, op: '>=', value: span.start } as Predicate;
      const lt = { ...ref, op: '<', value: span.end } as Predicate;
      switch (op) {
        case '=':
          return { and: [ge, lt] };
        case '!=':
          return { not: { and: [ge, lt] } };
        case '<':
          return { ...ref, op: '<', value: span.start };
        case '<=':
          return lt;
        case '>':
          return { ...ref, op: '>=', value: span.end };
        case '>=':
          return ge;
      }
    }
    const value = this.literal(r, v);
    if (value === null) {
      if (op === '=') return { ...ref, op: 'is null' };
      if (op === '!=') return { ...ref, op: 'is not null' };
      throw new EngineError('INVALID_FIELD', `${r.object.name}.${field.name}: only = and != compare with NULL.`, [r.path]);
    }
    return { ...ref, op, value } as Predicate;
  }

  /** Converts one literal to the stored representation of the field, or throws naming the field. */
  private literal(r: Resolved, v: SoqlValue): unknown {
    const { field } = r;
    const bad = (what: string) =>
      new EngineError('INVALID_FIELD', `${r.object.name}.${field.name} is a ${field.type} field; ${what}.`, [r.path]);
    if (v === null) return null;
    switch (field.type) {
      case 'number':
      case 'currency':
        if (typeof v !== 'number') throw bad('compare it with a number');
        return v;
      case 'integer':
        // PostgreSQL reads the parameter as an integer: a fraction or a value past 32 bits was a database error (a 500).
        if (typeof v !== 'number' || !Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX)
          throw bad(`compare it with a whole number from ${INT32_MIN} to ${INT32_MAX}`);
        return v;
      case 'boolean':
        if (typeof v !== 'boolean') throw bad('compare it with TRUE or FALSE');
        return v;
      case 'date':
        if (typeof v === 'object' && 'date' in v) return v.date;
        throw bad('compare it with an unquoted date such as 2026-01-31 or a date literal such as TODAY');
      case 'datetime':
        if (typeof v === 'object' && 'datetime' in v) return new Date(v.datetime).toISOString();
        throw bad('compare it with an unquoted date-time such as 2026-01-31T00:00:00Z or a date literal such as TODAY');
      case 'reference': {
        if (typeof v !== 'string') throw bad('compare it with a quoted id');
        const p = parseId(v);
        return p.ok ? p.id : v;
      }
      default:
        if (typeof v !== 'string') throw bad('compare it with a quoted string');
        return v;
    }
  }
}

/** What the compiled select returns and how its rows become records. */
interface Shape {
  plan: SelectPlan;
  fields: Resolved[];
  subqueries: SoqlSubquery[];
}

const AGGREGATE_TYPES: Record<string, readonly FieldDef['type'][] | undefined> = {
  SUM: ['number', 'currency', 'integer'],
  AVG: ['number', 'currency', 'integer'],
  MIN: ['number', 'currency', 'integer', 'date', 'datetime', 'string', 'picklist', 'reference'],
  MAX: ['number', 'currency', 'integer', 'date', 'datetime', 'string', 'picklist', 'reference'],
};

async function compile(
  b: PlanBuilder,
  q: SoqlQueryBase,
  extra: Predicate[],
  kind: 'records' | 'aggregate' | 'count',
): Promise<Shape & { aggregates: { as: string; key: string }[]; groups: Resolved[] }> {
  const columns: SelectColumn[] = [];
  const fields: Resolved[] = [];
  const subqueries: SoqlSubquery[] = [];
  const aggregates: { as: string; key: string }[] = [];
  let expr = 0;
  for (const item of q.select) {
    if (item.kind === 'field') {
      const r = await b.resolve(item.field);
      fields.push(r);
      columns.push({ as: `c${columns.length}`, ref: r.ref });
    } else if (item.kind === 'subquery') {
      subqueries.push(item.query);
    } else if (kind === 'aggregate') {
      const fn = item.fn.toLowerCase() as AggregateFn;
      const key = item.alias ?? `expr${expr++}`;
      if (!item.field) {
        columns.push({ as: `c${columns.length}`, fn: 'count' });
      } else {
        const r = await b.resolve(item.field);
        const allowed = AGGREGATE_TYPES[item.fn];
        if ((allowed && !allowed.includes(r.field.type)) || r.field.type === 'stringList' || r.field.type === 'password') {
          throw new EngineError('INVALID_FIELD', `field ${item.field} does not support aggregate operator ${item.fn}`, [item.field]);
        }
        columns.push({ as: `c${columns.length}`, fn, ref: r.ref });
      }
      aggregates.push({ as: `c${columns.length - 1}`, key });
    }
  }
  const groups: Resolved[] = [];
  for (const g of q.groupBy) {
    const r = await b.resolve(g);
    if (r.field.type === 'stringList' || r.field.type === 'password')
      throw new EngineError('INVALID_FIELD', `field ${g} can not be grouped in a query call`, [g]);
    groups.push(r);
  }
  const grouped = (r: Resolved) => groups.some((g) => g.ref.alias === r.ref.alias && g.ref.field === r.ref.field);
  if (kind === 'aggregate') {
    for (const f of fields) if (!grouped(f)) throw malformed(`Field must be grouped or aggregated: ${f.path}`);
  }
  const orderBy: NonNullable<SelectPlan['orderBy']>[number][] = [];
  for (const o of q.orderBy) {
    const r = await b.resolve(o.field);
    if (kind === 'aggregate' && !grouped(r)) throw malformed(`Ordered field must be grouped or aggregated: ${o.field}`);
    orderBy.push({ ...r.ref, direction: o.direction === 'ASC' ? 'asc' : 'desc', nulls: o.nulls === 'FIRST' ? 'first' : 'last' });
  }
  const where: Predicate[] = [...extra];
  if (q.where) where.push(await b.where(q.where));
  const own = PlanBuilder.scopePredicate(await b.scope(b.object.name), 't0');
  if (own) where.push(own);
  if (kind === 'records') {
    columns.push({ as: 't0_Id', ref: { alias: 't0', field: 'Id' } });
    for (const j of b.joins) columns.push({ as: `${j.alias}_Id`, ref: { alias: j.alias, field: 'Id' } });
  }
  if (kind === 'count') columns.splice(0, columns.length, { as: 'n', fn: 'count' });
  const plan: SelectPlan = {
    object: b.object.name,
    joins: b.joins,
    columns,
    ...(where.length ? { where: { and: where } } : {}),
    ...(groups.length ? { groupBy: groups.map((g) => g.ref) } : {}),
    ...(orderBy.length ? { orderBy } : {}),
  };
  return { plan, fields, subqueries, aggregates, groups };
}

const url = (apiVersion: string, object: string, id: unknown) => `/services/data/v${apiVersion}/sobjects/${object}/${id}`;

/** One row of a records query as a Salesforce record, parents nested. */
function toRecord(row: Row, object: string, fields: Resolved[], apiVersion: string): Record<string, unknown> {
  const rec: Record<string, unknown> = { attributes: { type: object, url: url(apiVersion, object, row.t0_Id) } };
  fields.forEach((f, i) => {
    let container: Record<string, unknown> = rec;
    for (const hop of f.hops) {
      const id = row[`${hop.alias}_Id`];
      if (id === null || id === undefined) {
        container[hop.name] = null;
        return;
      }
      const existing = container[hop.name];
      if (existing === null) return;
      if (existing === undefined) container[hop.name] = { attributes: { type: hop.object, url: url(apiVersion, hop.object, id) } };
      container = container[hop.name] as Record<string, unknown>;
    }
    container[f.field.name] = row[`c${i}`] ?? null;
  });
  return rec;
}

/**
 * What a query reaches besides the caller's own rules: `rows: 'all'` skips sharing (a flow in system
 * mode without sharing), `fields: 'all'` skips field-level reads (ModifyAllData-only fields; a flow
 * in either system mode). Write-only fields never exist for a query.
 */
export interface QueryAccess {
  readonly rows: 'shared' | 'all';
  readonly fields: 'user' | 'all';
}

/** The caller's own rules: rows shared with them, fields they may read. */
export const USER_QUERY_ACCESS: QueryAccess = { rows: 'shared', fields: 'user' };

/** Parses and runs a SOQL query as `caller`; record `attributes.url`s name `apiVersion` (e.g. '64.0'). */
export async function runQuery(
  tx: StorageOps,
  caller: Caller,
  soql: unknown,
  now: Date,
  apiVersion = '64.0',
  access: QueryAccess = USER_QUERY_ACCESS,
): Promise<QueryResult> {
  if (typeof soql !== 'string' || !soql.trim()) throw malformed('A SOQL query string is required (q).');
  let q;
  try {
    q = parseSoql(soql);
  } catch (e) {
    if (e instanceof SoqlError) throw malformed(e.message);
    throw e;
  }
  const object = findObject(q.object);
  if (!object) throw new EngineError('INVALID_TYPE', `sObject type '${q.object}' is not supported.`);
  const scopes = new Map<string, Promise<Scope>>();
  const builder = new PlanBuilder(tx, caller, object, scopes, now, access);
  const aggregate = !q.count && (q.groupBy.length > 0 || q.select.some((s) => s.kind === 'aggregate'));
  if (aggregate && q.select.some((s) => s.kind === 'subquery')) throw malformed('A subquery cannot be used in an aggregate query.');
  const shape = await compile(builder, q, [], q.count ? 'count' : aggregate ? 'aggregate' : 'records');

  if (q.count) {
    const [row] = await tx.select(shape.plan);
    const n = Math.max(0, Number(row?.n ?? 0) - (q.offset ?? 0));
    return { totalSize: q.limit === undefined ? n : Math.min(n, q.limit), done: true, records: [] };
  }
  const plan: SelectPlan = {
    ...shape.plan,
    ...(q.limit !== undefined ? { limit: q.limit } : {}),
    ...(q.offset !== undefined ? { offset: q.offset } : {}),
  };
  const rows = await tx.select(plan);

  if (aggregate) {
    const keys = new Set<string>();
    const names = [...shape.fields.map((f) => f.field.name), ...shape.aggregates.map((a) => a.key)];
    for (const k of names) {
      if (keys.has(k.toLowerCase())) throw malformed(`duplicate alias: ${k}`);
      keys.add(k.toLowerCase());
    }
    const records = rows.map((row) => {
      const rec: Record<string, unknown> = { attributes: { type: 'AggregateResult' } };
      let agg = 0;
      q.select.forEach((item, i) => {
        const value = row[`c${i}`] ?? null;
        if (item.kind === 'field') rec[shape.fields.find((f) => f.path === item.field)!.field.name] = value;
        else if (item.kind === 'aggregate') rec[shape.aggregates[agg++]!.key] = value;
      });
      return rec;
    });
    return { totalSize: records.length, done: true, records };
  }

  const records = rows.map((r) => toRecord(r, object.name, shape.fields, apiVersion));
  for (const sub of shape.subqueries) {
    const rel = findChildRelationship(object.name, sub.relationship);
    if (!rel) {
      throw new EngineError(
        'INVALID_TYPE',
        `Didn't understand relationship '${sub.relationship}' in FROM part of query call on entity '${object.name}'.`,
      );
    }
    const child = findObject(rel.object)!;
    const byParent = new Map<string, Record<string, unknown>[]>();
    const ids = rows.map((r) => String(r.t0_Id));
    for (let i = 0; i < ids.length; i += CHILD_CHUNK) {
      const b = new PlanBuilder(tx, caller, child, scopes, now, access);
      const parentIn: Predicate = { alias: 't0', field: rel.field, op: 'in', value: ids.slice(i, i + CHILD_CHUNK) };
      const s = await compile(b, sub, [parentIn], 'records');
      const childRows = await tx.select({
        ...s.plan,
        columns: [...s.plan.columns, { as: 'parent_Id', ref: { alias: 't0', field: rel.field } }],
      });
      for (const cr of childRows) {
        const list = byParent.get(String(cr.parent_Id)) ?? [];
        list.push(toRecord(cr, child.name, s.fields, apiVersion));
        byParent.set(String(cr.parent_Id), list);
      }
    }
    rows.forEach((r, i) => {
      const all = byParent.get(String(r.t0_Id)) ?? [];
      const from = sub.offset ?? 0;
      const list = all.slice(from, sub.limit === undefined ? undefined : from + sub.limit);
      records[i]![rel.name] = list.length ? { totalSize: list.length, done: true, records: list } : null;
    });
  }
  return { totalSize: records.length, done: true, records };
}
