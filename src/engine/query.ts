/**
 * Runs the SOQL subset (spec §5) against storage: parse, resolve the object and fields against the
 * metadata, type-check every literal against its field, add the caller's sharing scope, and return
 * `{ totalSize, done, records }` with Salesforce's `attributes` on every record.
 */
import { EngineError } from '../errors.js';
import { parseId } from '../domain/ids.js';
import { allFields, findField, findObject, type FieldDef, type ObjectDef } from '../domain/objects.js';
import { parseSoql, SoqlError, type SoqlCondition, type SoqlValue } from '../domain/soql.js';
import type { Caller } from './facts.js';
import { scopeFor } from './access.js';
import type { Filter, OrderBy, StorageOps } from '../storage/port.js';

/** A query result in Salesforce's shape. */
export interface QueryResult {
  totalSize: number;
  done: boolean;
  records: Record<string, unknown>[];
}

const malformed = (msg: string) => new EngineError('MALFORMED_QUERY', msg);

function dayOffset(now: Date, days: number): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days));
  return d.toISOString().slice(0, 10);
}

/** Converts one literal to the stored representation of `field`, or throws naming the field. */
function literal(object: ObjectDef, field: FieldDef, v: SoqlValue, now: Date): unknown {
  const bad = (what: string) => new EngineError('INVALID_FIELD', `${object.name}.${field.name} is a ${field.type} field; ${what}.`, [field.name]);
  if (v === null) return null;
  switch (field.type) {
    case 'number':
    case 'currency':
    case 'integer':
      if (typeof v !== 'number') throw bad('compare it with a number');
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('compare it with TRUE or FALSE');
      return v;
    case 'date':
      if (typeof v === 'object' && 'date' in v) return v.date;
      if (typeof v === 'object' && 'dateLiteral' in v) return dayOffset(now, v.dateLiteral === 'TODAY' ? 0 : v.dateLiteral === 'YESTERDAY' ? -1 : 1);
      throw bad('compare it with an unquoted date such as 2026-01-31 or TODAY');
    case 'datetime':
      if (typeof v === 'object' && 'datetime' in v) return new Date(v.datetime).toISOString();
      throw bad('compare it with an unquoted date-time such as 2026-01-31T00:00:00Z');
    case 'stringList':
    case 'password':
      throw bad("it can't be filtered");
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

function toFilters(object: ObjectDef, c: SoqlCondition, now: Date): Filter[] {
  const field = findField(object.name, c.field);
  if (!field || field.writeOnly) throw new EngineError('INVALID_FIELD', `No such column '${c.field}' on entity '${object.name}'.`, [c.field]);
  const name = field.name;
  if (c.op === 'IN' || c.op === 'NOT IN') {
    const values = (c.value as SoqlValue[]).map((v) => literal(object, field, v, now));
    return [{ field: name, op: c.op === 'IN' ? 'in' : 'not in', value: values }];
  }
  const v = c.value as SoqlValue;
  if (c.op === 'LIKE') {
    if (!['string', 'picklist', 'reference'].includes(field.type)) {
      throw new EngineError('INVALID_FIELD', `LIKE needs a text field; ${object.name}.${name} is a ${field.type} field.`, [name]);
    }
    return [{ field: name, op: 'like', value: String(v).replace(/\\([%_\\])/g, '$1') }];
  }
  // A date literal against a date-time field means the whole UTC day.
  if (field.type === 'datetime' && v !== null && typeof v === 'object' && ('date' in v || 'dateLiteral' in v)) {
    const day = 'date' in v ? v.date : dayOffset(now, v.dateLiteral === 'TODAY' ? 0 : v.dateLiteral === 'YESTERDAY' ? -1 : 1);
    const start = `${day}T00:00:00.000Z`;
    const end = new Date(Date.parse(start) + 86_400_000).toISOString();
    switch (c.op) {
      case '=':
        return [
          { field: name, op: '>=', value: start },
          { field: name, op: '<', value: end },
        ];
      case '<':
        return [{ field: name, op: '<', value: start }];
      case '<=':
        return [{ field: name, op: '<', value: end }];
      case '>':
        return [{ field: name, op: '>=', value: end }];
      case '>=':
        return [{ field: name, op: '>=', value: start }];
      default:
        throw new EngineError('INVALID_FIELD', `${object.name}.${name}: use =, <, <=, > or >= with a date literal.`, [name]);
    }
  }
  const value = literal(object, field, v, now);
  if (value === null) {
    if (c.op === '=') return [{ field: name, op: 'is null' }];
    if (c.op === '!=') return [{ field: name, op: 'is not null' }];
    throw new EngineError('INVALID_FIELD', `${object.name}.${name}: only = and != compare with NULL.`, [name]);
  }
  return [{ field: name, op: c.op as '=' | '!=' | '<' | '<=' | '>' | '>=', value }];
}

/** Parses and runs a SOQL query as `caller`; record `attributes.url`s name `apiVersion` (e.g. '64.0'). */
export async function runQuery(tx: StorageOps, caller: Caller, soql: unknown, now: Date, apiVersion = '64.0'): Promise<QueryResult> {
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
  const fields = q.fields.map((f) => {
    const def = findField(object.name, f);
    if (!def || def.writeOnly) throw new EngineError('INVALID_FIELD', `No such column '${f}' on entity '${object.name}'.`, [f]);
    return def.name;
  });
  const where: Filter[] = q.where.flatMap((c) => toFilters(object, c, now));
  const orderBy: OrderBy[] = q.orderBy.map((o) => {
    const def = findField(object.name, o.field);
    if (!def || def.writeOnly) throw new EngineError('INVALID_FIELD', `No such column '${o.field}' on entity '${object.name}'.`, [o.field]);
    return { field: def.name, direction: o.direction === 'ASC' ? 'asc' : 'desc', nulls: o.nulls === 'FIRST' ? 'first' : 'last' };
  });
  const scope = await scopeFor(tx, caller, object.name, 'read');
  if (scope === 'none') return { totalSize: 0, done: true, records: [] };
  if (scope !== 'all') where.push(...scope);
  if (q.count) {
    const n = await tx.count(object.name, where);
    return { totalSize: n, done: true, records: [] };
  }
  const rows = await tx.find(object.name, { where, orderBy, limit: q.limit, offset: q.offset });
  const known = new Set(allFields(object).map((f) => f.name));
  const records = rows.map((r) => {
    const rec: Record<string, unknown> = { attributes: { type: object.name, url: `/services/data/v${apiVersion}/sobjects/${object.name}/${r.Id}` } };
    for (const f of fields) if (known.has(f)) rec[f] = r[f] ?? null;
    return rec;
  });
  return { totalSize: records.length, done: true, records };
}
