/**
 * A small in-memory FlowHost for the flow language tests: a real record store in a Map. Rows with an
 * OwnerId are shared with their owner only, except in `system` mode (the flow's record access mode).
 */
import {
  FlowFault,
  type FlowData,
  type FlowHost,
  type FlowRecord,
  type RecordAccessMode,
  type RecordFilter,
  type RecordQuery,
} from '../../src/flows/contract.js';
import { applyOperator, evaluateConditions } from '../../src/flows/values.js';

export class MemoryHost implements FlowHost {
  readonly tables: Map<string, Map<string, FlowRecord>>;
  readonly calls: Array<{ kind: string; name: string; mode?: RecordAccessMode; inputs?: Record<string, FlowData> }> = [];
  /** Core actions and Apex classes by name. */
  readonly actions = new Map<string, (inputs: Record<string, FlowData>) => Record<string, FlowData>>();
  private next = 1;

  constructor(
    readonly userId = '005000000000001AAA',
    shared?: MemoryHost,
  ) {
    this.tables = shared?.tables ?? new Map();
  }
  /** Row visibility: everything in system mode, otherwise rows without an owner or owned by the user. */
  private visible(rec: FlowRecord, mode: RecordAccessMode): boolean {
    return mode === 'system' || rec.OwnerId === undefined || rec.OwnerId === null || rec.OwnerId === this.userId;
  }

  insert(object: string, rec: FlowRecord): string {
    const id = typeof rec.Id === 'string' ? rec.Id : `a0${String(this.next++).padStart(16, '0')}`;
    if (!this.tables.has(object)) this.tables.set(object, new Map());
    this.tables.get(object)!.set(id, { ...rec, Id: id });
    return id;
  }
  get(object: string, id: string): FlowRecord | undefined {
    return this.tables.get(object)?.get(id);
  }
  private match(rec: FlowRecord, filters: RecordFilter[], logic: string): boolean {
    return evaluateConditions(
      { logic, conditions: filters.map((f, i) => ({ left: String(i), operator: f.operator, right: null })) },
      (c) => {
        const f = filters[Number(c.left)];
        if (f.operator === 'IsNull') return applyOperator('IsNull', rec[f.field] ?? null, f.value);
        if (f.value === null) return false;
        return applyOperator(f.operator, rec[f.field] ?? null, f.value);
      },
    );
  }
  async invokeCoreAction(name: string, inputs: Record<string, FlowData>) {
    this.calls.push({ kind: 'core', name, inputs });
    const fn = this.actions.get(name);
    if (!fn) throw new FlowFault(`no core action ${name}`);
    return fn(inputs);
  }
  async invokeApex(name: string, inputs: Record<string, FlowData>) {
    this.calls.push({ kind: 'apex', name, inputs });
    const fn = this.actions.get(name);
    if (!fn) throw new FlowFault(`no Apex class ${name}`);
    return fn(inputs);
  }
  async queryRecords(q: RecordQuery, mode: RecordAccessMode) {
    this.calls.push({ kind: 'query', name: q.object, mode });
    let rows = [...(this.tables.get(q.object)?.values() ?? [])].filter(
      (r) => this.visible(r, mode) && this.match(r, q.filters, q.filterLogic),
    );
    if (q.sortField) {
      const f = q.sortField;
      rows.sort((a, b) => (String(a[f]) < String(b[f]) ? -1 : String(a[f]) > String(b[f]) ? 1 : 0) * (q.sortOrder === 'Desc' ? -1 : 1));
    }
    if (q.limit !== undefined) rows = rows.slice(0, q.limit);
    return rows.map((r) => (q.fields ? Object.fromEntries(q.fields.map((k) => [k, r[k] ?? null])) : { ...r }));
  }
  async updateRecords(object: string, records: FlowRecord[], mode: RecordAccessMode) {
    this.calls.push({ kind: 'update', name: object, mode });
    for (const r of records) {
      const cur = this.get(object, String(r.Id));
      if (!cur || !this.visible(cur, mode)) throw new FlowFault(`insufficient access rights on object id: ${String(r.Id)}`);
      this.tables.get(object)!.set(String(r.Id), { ...cur, ...r });
    }
  }
  async updateWhere(object: string, filters: RecordFilter[], logic: string, fields: FlowRecord, mode: RecordAccessMode) {
    this.calls.push({ kind: 'updateWhere', name: object, mode });
    let n = 0;
    for (const [id, r] of this.tables.get(object) ?? [])
      if (this.visible(r, mode) && this.match(r, filters, logic)) {
        this.tables.get(object)!.set(id, { ...r, ...fields });
        n++;
      }
    return n;
  }
  async createRecord(object: string, fields: FlowRecord, mode: RecordAccessMode) {
    this.calls.push({ kind: 'create', name: object, mode });
    return this.insert(object, fields);
  }
  async deleteRecords(object: string, ids: string[], mode: RecordAccessMode) {
    this.calls.push({ kind: 'delete', name: object, mode });
    for (const id of ids) {
      const cur = this.tables.get(object)?.get(id);
      if (cur && !this.visible(cur, mode)) throw new FlowFault(`insufficient access rights on object id: ${id}`);
      this.tables.get(object)?.delete(id);
    }
  }
  async runComponent(name: string, inputs: Record<string, FlowData>, answers: Record<string, FlowData>) {
    this.calls.push({ kind: 'component', name, inputs });
    if (name === 'c:addressPicker' && answers.city === 'Atlantis') throw new FlowFault('We do not ship to Atlantis.');
    return answers;
  }
  async isSessionProcessing(sessionId: string) {
    return this.get('CartCheckoutSession', sessionId)?.IsProcessing === true;
  }
}
