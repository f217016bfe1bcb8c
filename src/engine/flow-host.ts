/**
 * The engine side of a running flow interview (`FlowHost` of src/flows/contract.ts): what the flow
 * language calls to reach the engine. Everything runs as the interview's user (the buyer who
 * started it):
 * - core actions go through the engine's own action invocation (`invokeAny`): same input checks,
 *   same outputs, same errors; a failed result is a `FlowFault` carrying the action's error message,
 *   so a fault connector sees it as `$Flow.FaultMessage`;
 * - Apex classes and screen components go to the stand-ins registered by name (the engine's
 *   `apex` and `components` options merged over the built-in stand-ins);
 * - record elements go through the record layer in the flow frame's access mode (`user`: the
 *   buyer's object, field and sharing rules; `systemWithSharing`; `system`), see record-service.ts;
 * - a wait screen asks the checkout session row whether a step is still processing.
 */
import { EngineError } from '../errors.js';
import { allFields, findField, findObject } from '../domain/objects.js';
import {
  FlowFault,
  type FlowData,
  type FlowHost,
  type FlowRecord,
  type FlowScalar,
  type RecordAccessMode,
  type RecordFilter,
  type RecordQuery,
} from '../flows/contract.js';
import type { IntegrationRegistry } from '../integrations/registry.js';
import type { EngineCore } from './core.js';
import type { InvocationResult } from '../actions/index.js';
import type { Caller } from './facts.js';
import { type ApexContext, type ApexStandIn, type ComponentStandIn } from './flow-standins.js';
import type { RecordService } from './record-service.js';

const SOQL_OPERATORS: Record<Exclude<RecordFilter['operator'], 'IsNull' | 'StartsWith' | 'EndsWith' | 'Contains'>, string> = {
  EqualTo: '=',
  NotEqualTo: '!=',
  GreaterThan: '>',
  GreaterThanOrEqualTo: '>=',
  LessThan: '<',
  LessThanOrEqualTo: '<=',
};

/** A value as a SOQL literal for `field` of `object` (dates and numbers bare, text quoted and escaped). */
function literal(object: string, field: string, value: FlowScalar): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  const type = findField(object, field)?.type;
  if ((type === 'date' || type === 'datetime') && /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return value;
  if ((type === 'number' || type === 'currency' || type === 'integer') && value.trim() !== '' && Number.isFinite(Number(value)))
    return String(Number(value));
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const likeEscape = (v: FlowScalar) =>
  String(v ?? '')
    .replace(/\\/g, '\\\\')
    .replace(/'/g, "\\'")
    .replace(/%/g, '\\%')
    .replace(/_/g, '\\_');

/** One filter as a SOQL condition. */
function condition(object: string, f: RecordFilter): string {
  if (typeof f.field !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(f.field))
    throw new FlowFault(`Invalid filter field '${String(f.field)}' on ${object}.`);
  switch (f.operator) {
    case 'IsNull':
      return f.value === false || f.value === 'false' ? `${f.field} != null` : `${f.field} = null`;
    case 'StartsWith':
      return `${f.field} LIKE '${likeEscape(f.value)}%'`;
    case 'EndsWith':
      return `${f.field} LIKE '%${likeEscape(f.value)}'`;
    case 'Contains':
      return `${f.field} LIKE '%${likeEscape(f.value)}%'`;
    default: {
      // A filter value that resolves to null matches nothing (docs/flow-runtime.md).
      if (f.value === null && (f.operator === 'EqualTo' || f.operator === 'NotEqualTo')) return 'Id = null';
      const op = SOQL_OPERATORS[f.operator];
      if (!op) throw new FlowFault(`Unsupported filter operator '${String(f.operator)}' on ${object}.${f.field}.`);
      return `${f.field} ${op} ${literal(object, f.field, f.value)}`;
    }
  }
}

/** The filters joined by the element's logic: `and`, `or`, or custom (`1 AND (2 OR 3)`). */
export function whereClause(object: string, filters: RecordFilter[], logic: string): string {
  if (!filters.length) return '';
  const conds = filters.map((f) => `(${condition(object, f)})`);
  const l = (logic ?? 'and').trim();
  if (/^and$/i.test(l) || l === '') return conds.join(' AND ');
  if (/^or$/i.test(l)) return conds.join(' OR ');
  if (!/^[\d\s()]*(\s*(AND|OR|NOT)\s*[\d\s()]*)*$/i.test(l)) throw new FlowFault(`Invalid filter logic '${l}' on ${object}.`);
  return l.replace(/\d+/g, (n) => {
    const c = conds[Number(n) - 1];
    if (!c) throw new FlowFault(`Filter logic '${l}' on ${object} names condition ${n}, but there are ${conds.length}.`);
    return c;
  });
}

/** A Get Records query as SOQL text. */
export function querySoql(q: RecordQuery): string {
  const object = findObject(q.object);
  if (!object) throw new FlowFault(`sObject type '${String(q.object)}' is not supported.`);
  const fields = q.fields?.length ? [...new Set(['Id', ...q.fields])] : allFields(object).map((f) => f.name);
  const where = whereClause(object.name, q.filters, q.filterLogic);
  let soql = `SELECT ${fields.join(', ')} FROM ${object.name}`;
  if (where) soql += ` WHERE ${where}`;
  if (q.sortField) soql += ` ORDER BY ${q.sortField} ${q.sortOrder === 'Desc' ? 'DESC' : 'ASC'}`;
  if (q.limit !== undefined) soql += ` LIMIT ${Math.max(0, Math.floor(q.limit))}`;
  return soql;
}

/** A query result record as a flow record: its fields, without `attributes` and relationship objects. */
function flowRecord(rec: Record<string, unknown>): FlowRecord {
  const out: FlowRecord = {};
  for (const [k, v] of Object.entries(rec)) {
    if (k === 'attributes') continue;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.join(';');
  }
  return out;
}

/** What an `EngineFlowHost` runs with. */
export interface EngineFlowHostOptions {
  /** Apex stand-ins by class name (built-ins with the engine's `apex` option over them). */
  apex: ReadonlyMap<string, ApexStandIn>;
  /** Component stand-ins by extension name (built-ins with the engine's `components` option over them). */
  components: ReadonlyMap<string, ComponentStandIn>;
  core: EngineCore;
  records: RecordService;
  integrations: IntegrationRegistry;
  /** The top flow of the interview (its template's session flow, for a checkout session it creates). */
  flowApiName: string;
  /** The session flow a checkout session the interview creates follows (null: the store's flow). */
  sessionFlow: string | null;
}

/** The access mode Apex and component stand-ins run their own record work in (the quickstart classes are `with sharing`). */
const STAND_IN_MODE: RecordAccessMode = 'systemWithSharing';

/** The one facade call a flow host makes: a core action as the interview's user (the engine's `invokeAs`). */
export interface ActionInvoker {
  invokeAs(caller: Caller, actionName: string, inputs: unknown, sessionFlow?: string): Promise<InvocationResult[]>;
}

/** `FlowHost` over a checkout engine, as one user. */
export class EngineFlowHost implements FlowHost {
  readonly userId: string;
  private readonly sessionFlow: string | undefined;

  constructor(
    private readonly engine: ActionInvoker,
    private readonly caller: Caller,
    private readonly opts: EngineFlowHostOptions,
  ) {
    this.userId = caller.Id;
    this.sessionFlow = opts.sessionFlow ?? undefined;
  }

  private context(): ApexContext {
    return {
      core: this.opts.core,
      caller: this.caller,
      records: this.opts.records,
      integrations: this.opts.integrations,
      mode: STAND_IN_MODE,
    };
  }

  async invokeCoreAction(actionName: string, inputs: Record<string, FlowData>): Promise<Record<string, FlowData>> {
    const [result] = await this.engine.invokeAs(this.caller, actionName, [inputs], this.sessionFlow);
    if (!result) throw new FlowFault(`The action ${actionName} returned no result.`);
    if (!result.isSuccess) throw new FlowFault((result.errors ?? []).map((e) => e.message).join(' ') || `The action ${actionName} failed.`);
    return (result.outputValues ?? {}) as Record<string, FlowData>;
  }

  async invokeApex(className: string, inputs: Record<string, FlowData>): Promise<Record<string, FlowData>> {
    const fn = this.opts.apex.get(className);
    if (!fn) throw new FlowFault(`No Apex class '${className}' is registered with the engine (apex option).`);
    const out: unknown = await fn(inputs, this.context());
    // A method returning a plain list has one output, `output`.
    if (out !== null && typeof out === 'object' && !Array.isArray(out)) return out as Record<string, FlowData>;
    return { output: (out ?? null) as FlowData };
  }

  async runComponent(
    extensionName: string,
    inputs: Record<string, FlowData>,
    answers: Record<string, FlowData>,
  ): Promise<Record<string, FlowData>> {
    const fn = this.opts.components.get(extensionName);
    // A component that does no work of its own hands the buyer's answers to the flow.
    if (!fn) return answers;
    return fn(inputs, answers, this.context());
  }

  async queryRecords(query: RecordQuery, mode: RecordAccessMode): Promise<FlowRecord[]> {
    const result = await this.opts.records.query(querySoql(query), this.caller, { mode });
    return result.records.map((r) => flowRecord(r as Record<string, unknown>));
  }

  async updateRecords(object: string, records: FlowRecord[], mode: RecordAccessMode): Promise<void> {
    for (const rec of records) {
      const id = rec.Id;
      if (typeof id !== 'string' || !id) throw new FlowFault(`Update Records on ${object}: a record has no Id.`);
      const { Id: _id, ...fields } = rec;
      // The record layer accepts a flow's write-back of unchanged fields in the flow modes; in user
      // mode only what changed is written (a record variable holds read-only fields too).
      let changes: Record<string, unknown> = fields;
      if (mode === 'user') {
        const stored = await this.opts.records.get(object, id, this.caller, { mode });
        changes = {};
        for (const [k, v] of Object.entries(fields)) {
          const field = findField(object, k);
          if (!field) throw new EngineError('INVALID_FIELD', `No such column '${k}' on sObject of type ${object}.`, [k]);
          if (stored[field.name] !== v) changes[field.name] = v;
        }
        if (!Object.keys(changes).length) continue;
      }
      await this.opts.records.update(object, id, changes, this.caller, { mode });
    }
  }

  async updateWhere(
    object: string,
    filters: RecordFilter[],
    filterLogic: string,
    fields: FlowRecord,
    mode: RecordAccessMode,
  ): Promise<number> {
    const rows = await this.queryRecords({ object, filters, filterLogic, fields: ['Id'] }, mode);
    for (const row of rows) await this.opts.records.update(object, String(row.Id), { ...fields }, this.caller, { mode });
    return rows.length;
  }

  async createRecord(object: string, fields: FlowRecord, mode: RecordAccessMode): Promise<string> {
    const { id } = await this.opts.records.create(object, { ...fields }, this.caller, { mode });
    return id;
  }

  async deleteRecords(object: string, ids: string[], mode: RecordAccessMode): Promise<void> {
    for (const id of ids) await this.opts.records.delete(object, id, this.caller, { mode });
  }

  async isSessionProcessing(sessionId: string): Promise<boolean> {
    const session = await this.opts.records.get('CartCheckoutSession', sessionId, this.caller, { mode: 'systemWithSharing' });
    return session.IsProcessing === true;
  }
}
