/**
 * The engine's data API for integrations: reads go to storage directly (outside any transaction,
 * so a slow integration holds no locks); the step's cart is loaded once as an immer draft
 * (src/integrations/cart-draft.ts) that integrations edit, and the staged calls (`insert`,
 * `update`, `delete`) are folded into that draft too, in call order. Everything is checked when
 * staged and applied by `applyStagedWrites` inside the step's completion transaction, as few
 * batched statements, scoped to the step's cart. Anything else an integration tries is refused
 * with a message naming it.
 */
import { publicRecord, withDefaults } from '../domain/records.js';
import { validationOutputRows } from '../domain/validation-output.js';
import { OBJECTS, findObject } from '../domain/objects.js';
import { StepFailed } from '../errors.js';
import { withDerivedLine } from '../domain/records.js';
import type { Filter, MultiRead, Row, StorageOps } from '../storage/port.js';
import {
  CART_COLLECTIONS,
  CartEditor,
  cartState,
  collectionOf,
  refuse,
  schemaChecked,
  WRITABLE,
  type CartDraft,
  type CartState,
  type WritePlan,
} from './cart-draft.js';
import type { CartDataApi, IntegrationValidation, Match, StagedWrite } from './contract.js';
import type { CartPort, CartReadPort, HeldCart, HoldRequest } from './port.js';

function filters(match: Match | undefined): Filter[] {
  return Object.entries(match ?? {}).map(([field, value]): Filter =>
    Array.isArray(value)
      ? { field, op: 'in', value }
      : value === null || value === undefined
        ? { field, op: 'is null' }
        : { field, op: '=', value },
  );
}

/** Whether a row holds what a `Match` expects (the JS reading of `filters(match)`). */
function matches(row: Row, match: Match): boolean {
  return Object.entries(match).every(([field, value]) => {
    const v = row[field];
    if (Array.isArray(value)) return value.includes(v);
    if (value === null || value === undefined) return v === null || v === undefined;
    return v === value;
  });
}

const ORDER = [
  { field: 'CreatedDate', direction: 'asc' as const },
  { field: 'Id', direction: 'asc' as const },
];

/** The draft's writes, prepared for commit: CartItem updates carry their re-derived line totals. */
export interface PreparedPlan extends WritePlan {
  /** Staged updates with `expect` on draft rows: checked (one read per object) before anything is written. */
  readonly guards: { object: string; id: string; expect: Match }[];
  /** The cart's lines and taxes after the step: the roll-ups are computed from them, not re-read. */
  readonly held: HeldCart;
}

/** The staged result of one integration run. */
export interface StagedResult {
  /** Writes outside the draft (ProductInventory, rows the draft doesn't hold) and reservations, applied in order. */
  writes: StagedWrite[];
  validations: IntegrationValidation[];
  /** The draft's writes, when the integration's run loaded the cart. */
  plan?: PreparedPlan;
}

/** A CartDataApi over the engine's storage for one cart and step; `result()` returns what it staged. */
export class StagingCartDataApi implements CartDataApi {
  /** Staged insert/update/delete calls on cart rows, folded into the draft (in order) on its next use. */
  private queued: StagedWrite[] = [];
  private readonly writes: StagedWrite[] = [];
  private readonly validations: IntegrationValidation[] = [];
  private readonly guards: PreparedPlan['guards'] = [];
  private editor?: CartEditor;
  private loading?: Promise<CartEditor>;
  /** A staged call that turned out to point outside the cart: fails the step when the run ends. */
  private failure?: unknown;
  private newKeys = 0;
  /** The reads started in this turn of a transaction's step, sent together (`inTurn`). */
  private turn?: { reads: MultiRead[]; resolve: (rows: Row[][]) => void; reject: (e: unknown) => void }[];

  constructor(
    /** The kernel's read port (src/integrations/port.ts). */
    private readonly port: CartReadPort,
    readonly cart: Row,
    readonly now: Date,
    readonly signal: AbortSignal,
    /** Where it reads: the storage, or the transaction the step runs in. */
    private readonly reads: StorageOps = port.storage,
  ) {}

  /** Loads the cart once: one read per table (in parallel outside a transaction). */
  private async load(): Promise<CartEditor> {
    const cartId = String(this.cart.Id);
    const read = async (object: string, field: string) =>
      (await this.reads.find(object, { where: [{ field, op: '=', value: cartId }], orderBy: ORDER })).map(
        (r) => publicRecord(object, r) as Row,
      );
    const tables: [string, string][] = [
      ['CartItem', 'CartId'],
      ['CartDeliveryGroup', 'CartId'],
      ['CartTax', 'CartId'],
      ['CartDeliveryGroupMethod', 'WebCartId'],
    ];
    // One connection runs a transaction's statements one at a time: there the four reads are one
    // `findAll` (one round trip where the backend batches them), with the finds started with them (`inTurn`).
    const [items, deliveryGroups, taxes, deliveryMethods] =
      this.reads === this.port.storage
        ? await Promise.all(tables.map(([o, f]) => read(o, f)))
        : (
            await this.inTurn(tables.map(([object, field]) => ({ object, where: [{ field, op: '=', value: cartId }], orderBy: ORDER })))
          ).map((rows, i) => rows.map((r) => publicRecord(tables[i]![0], r) as Row));
    return new CartEditor(cartState(publicRecord('WebCart', this.cart) as Row, { items, deliveryGroups, taxes, deliveryMethods }), cartId);
  }

  private async ready(): Promise<CartEditor> {
    if (!this.editor) this.editor = await (this.loading ??= this.load());
    this.flush(this.editor);
    return this.editor;
  }

  /** Folds the queued staged calls into the draft as one edit; rows it doesn't hold go to the commit as they are. */
  private flush(editor: CartEditor): void {
    if (!this.queued.length) return;
    const queued = this.queued;
    this.queued = [];
    const outside: StagedWrite[] = [];
    const guards: PreparedPlan['guards'] = [];
    try {
      editor.edit((d: CartDraft) => {
        for (const w of queued) {
          if (w.op === 'reserve') continue;
          const c = collectionOf(w.object);
          const rows = c ? (d[c] as Record<string, Row>) : undefined;
          if (w.op === 'insert') {
            rows![`(staged insert ${++this.newKeys})`] = { ...w.fields };
          } else if (w.op === 'update') {
            if (rows && Object.hasOwn(rows, w.id)) {
              Object.assign(rows[w.id]!, w.fields);
              if (w.expect) guards.push({ object: w.object, id: w.id, expect: w.expect });
            } else outside.push(w);
          } else {
            const elsewhere = w.ids.filter((id) => !rows || !Object.hasOwn(rows, id));
            for (const id of w.ids) if (rows && Object.hasOwn(rows, id)) delete rows[id];
            if (elsewhere.length) outside.push({ ...w, ids: elsewhere });
          }
        }
      });
    } catch (e) {
      this.failure ??= e;
      return;
    }
    this.writes.push(...outside);
    this.guards.push(...guards);
  }

  async state(): Promise<CartState> {
    return (await this.ready()).state;
  }

  async edit(recipe: (draft: CartDraft) => void): Promise<CartState> {
    if (typeof recipe !== 'function') refuse('edit needs a recipe function (draft => { … })');
    return (await this.ready()).edit(recipe);
  }

  async items(): Promise<Row[]> {
    return Object.values((await this.state()).items).map((r) => ({ ...r }));
  }

  async deliveryGroups(): Promise<Row[]> {
    return Object.values((await this.state()).deliveryGroups).map((r) => ({ ...r }));
  }

  async find(object: string, match?: Match): Promise<Row[]> {
    const def = findObject(object);
    if (!def) throw new Error(`integration read refused: no object named '${object}'`);
    const where = filters(match);
    const rows =
      this.reads === this.port.storage
        ? await this.reads.find(def.name, { where, orderBy: ORDER })
        : (await this.inTurn([{ object: def.name, where, orderBy: ORDER }]))[0]!;
    return rows.map((r) => publicRecord(def.name, r) as Row);
  }

  /**
   * Reads of a step that runs in a transaction (one connection: its statements go one at a time):
   * the reads an integration starts together (before awaiting any, e.g. `state()` and finds under
   * one `Promise.all`) go out as one `findAll` (one round trip where the backend batches reads); a
   * find started alone is a find.
   */
  private inTurn(reads: MultiRead[]): Promise<Row[][]> {
    return new Promise<Row[][]>((resolve, reject) => {
      const turn = this.turn ?? (this.turn = []);
      turn.push({ reads, resolve, reject });
      if (turn.length === 1) queueMicrotask(() => this.sendTurn());
    });
  }

  private sendTurn(): void {
    const turn = this.turn ?? [];
    this.turn = undefined;
    const reads = turn.flatMap((t) => t.reads);
    const sent =
      reads.length === 1
        ? this.reads.find(reads[0]!.object, { where: reads[0]!.where, orderBy: ORDER }).then((rows) => [rows])
        : this.reads.findAll(reads);
    sent.then(
      (found) => {
        let at = 0;
        for (const t of turn) t.resolve(found.slice(at, (at += t.reads.length)));
      },
      (e: unknown) => turn.forEach((t) => t.reject(e)),
    );
  }

  addValidation(v: IntegrationValidation): void {
    if (!v || typeof v.Message !== 'string' || !v.Message) refuse('a validation needs a Message');
    this.validations.push({ ...v });
  }

  insert(object: string, fields: Row): void {
    if (!WRITABLE[object]?.insert) refuse(`integrations can't create ${object} records`);
    this.queued.push({ op: 'insert', object, fields: schemaChecked(object, fields, 'create') });
  }

  update(object: string, id: string, fields: Row, expect?: Match): void {
    const allowed = WRITABLE[object]?.update;
    if (!allowed) refuse(`integrations can't update ${object} records`);
    for (const k of Object.keys(fields)) if (!allowed.includes(k)) refuse(`integrations can't update ${object}.${k}`);
    if (typeof id !== 'string' || !id) refuse(`${object} update needs an id`);
    const w: StagedWrite = { op: 'update', object, id, fields: schemaChecked(object, fields, 'update'), ...(expect ? { expect } : {}) };
    // Rows the draft can't hold (stock) go straight to the commit.
    if (collectionOf(object)) this.queued.push(w);
    else this.writes.push(w);
  }

  delete(object: string, ids: string[]): void {
    if (!WRITABLE[object]?.delete) refuse(`integrations can't delete ${object} records`);
    if (ids.length) this.queued.push({ op: 'delete', object, ids: ids.map(String) });
  }

  reserve(inventoryId: string, quantity: number, info: { sku?: string; relatedEntityId?: string } = {}): void {
    if (typeof inventoryId !== 'string' || !inventoryId) refuse('a reservation needs a ProductInventory id');
    if (typeof quantity !== 'number' || !Number.isFinite(quantity) || quantity <= 0) refuse('a reservation needs a positive quantity');
    this.writes.push({
      op: 'reserve',
      object: 'ProductInventory',
      id: inventoryId,
      quantity,
      sku: info.sku,
      relatedEntityId: info.relatedEntityId,
    });
  }

  /** The validations reported so far. */
  reported(): IntegrationValidation[] {
    return [...this.validations];
  }

  /**
   * Everything staged: the queued calls folded into the draft (loading the cart if they need it),
   * and the draft's writes prepared for commit — line totals re-derived, so a total out of range
   * fails the step here, before the commit transaction.
   */
  async result(): Promise<StagedResult> {
    if (this.queued.length || this.editor || this.loading) await this.ready();
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the integration threw, unchanged
    if (this.failure) throw this.failure;
    const validations = [...this.validations];
    if (!this.editor) return { writes: [...this.writes], validations };
    const plan = this.editor.plan();
    const state = this.editor.state;
    const items = { ...state.items };
    const updates = plan.updates.map((u) => {
      if (u.object !== 'CartItem') return u;
      const before = this.editor!.base.items[u.id]!;
      const line = withDerivedLine(state.items[u.id]!);
      items[u.id] = line;
      const values = { ...u.values };
      for (const f of ['TotalLineAmount', 'TotalListPrice', 'TotalPrice']) if (line[f] !== before[f]) values[f] = line[f];
      return { ...u, values };
    });
    const held: HeldCart = { items: Object.values(items), taxes: Object.values(state.taxes) };
    // Object.assign: a spread copy given new keys takes V8's slow path on every call on Node 20.
    return { writes: [...this.writes], validations, plan: Object.assign({}, plan, { updates, guards: [...this.guards], held }) };
  }
}

/** The cart a row of a cart-owned object belongs to. */
async function cartOfRow(tx: StorageOps, object: string, row: Row): Promise<string | null> {
  switch (object) {
    case 'CartItem':
    case 'CartTax':
    case 'CartDeliveryGroup':
      return (row.CartId as string | null) ?? null;
    case 'CartDeliveryGroupMethod': {
      const g = await tx.get('CartDeliveryGroup', String(row.CartDeliveryGroupId));
      return (g?.CartId as string | null) ?? null;
    }
    default:
      return null;
  }
}

/** Staged writes outside the draft, in order: stock updates, and writes naming rows the cart doesn't hold (which fail the step). */
async function applyOutsideWrites(
  tx: StorageOps,
  cartId: string,
  writes: readonly StagedWrite[],
  holds: Map<string, HoldRequest>,
  stamp: string,
): Promise<void> {
  const foreign = (object: string, id: string) =>
    new StepFailed(`The integration wrote ${object} ${id}, which isn't part of cart ${cartId}.`);
  for (const w of writes) {
    if (w.op === 'insert') throw new Error('staged inserts are folded into the draft');
    if (w.op === 'reserve') {
      const h = holds.get(w.id);
      holds.set(w.id, {
        quantity: (h?.quantity ?? 0) + w.quantity,
        sku: h?.sku ?? w.sku,
        relatedEntityId: h?.relatedEntityId ?? w.relatedEntityId,
      });
      continue;
    }
    if (w.op === 'delete') {
      const rows = await tx.find(w.object, { where: [{ field: 'Id', op: 'in', value: w.ids }] });
      for (const r of rows) if ((await cartOfRow(tx, w.object, r)) !== cartId) throw foreign(w.object, String(r.Id));
      await tx.delete(
        w.object,
        rows.map((r) => String(r.Id)),
      );
      continue;
    }
    const current = await tx.get(w.object, w.id, { forUpdate: true });
    if (!current) throw new StepFailed(`The integration updated ${w.object} ${w.id}, which doesn't exist.`);
    if (w.object !== 'ProductInventory' && (await cartOfRow(tx, w.object, current)) !== cartId) throw foreign(w.object, w.id);
    if (!(await tx.update(w.object, w.id, Object.assign({}, w.fields, { LastModifiedDate: stamp }), filters(w.expect))))
      throw changed(w.object, w.id);
  }
}

function changed(object: string, id: string): StepFailed {
  const message = `${object} ${id} changed while the step ran; run the checkout again.`;
  return new StepFailed(message, [{ Message: message, RelatedEntityId: id }]);
}

/** Checks the draft's compare-and-set expectations: one locked read per object. */
async function checkGuards(tx: StorageOps, guards: PreparedPlan['guards']): Promise<void> {
  const byObject = new Map<string, PreparedPlan['guards'][number][]>();
  for (const g of guards) (byObject.get(g.object) ?? byObject.set(g.object, []).get(g.object)!).push(g);
  for (const [object, list] of byObject) {
    const rows = new Map(
      (await tx.find(object, { where: [{ field: 'Id', op: 'in', value: [...new Set(list.map((g) => g.id))] }], forUpdate: true })).map(
        (r) => [String(r.Id), r],
      ),
    );
    for (const g of list) {
      const row = rows.get(g.id);
      if (!row || !matches(row, g.expect)) throw changed(object, g.id);
    }
  }
}

/** Writes the draft's plan: one delete per object, one multi-row insert per object, batched updates. */
async function applyPlan(port: CartPort, tx: StorageOps, cartId: string, plan: PreparedPlan, stamp: string): Promise<void> {
  await checkGuards(tx, plan.guards);
  for (const d of plan.deletes) await tx.delete(d.object, d.ids);
  const inserts = new Map<string, Row[]>();
  for (const i of plan.inserts) {
    const row: Row = {
      ...withDefaults(OBJECTS.get(i.object)!, i.values),
      Id: port.mint(i.object),
      CreatedDate: stamp,
      LastModifiedDate: stamp,
    };
    if (i.object === CART_COLLECTIONS.taxes) row.CartId = cartId;
    if (i.object === CART_COLLECTIONS.deliveryMethods) row.WebCartId = cartId;
    (inserts.get(i.object) ?? inserts.set(i.object, []).get(i.object)!).push(row);
  }
  for (const [object, rows] of inserts) await tx.insert(object, rows);
  const updates = new Map<string, { id: string; values: Row }[]>();
  for (const u of plan.updates)
    (updates.get(u.object) ?? updates.set(u.object, []).get(u.object)!).push({
      id: u.id,
      // Object.assign: a spread copy given a new key takes V8's slow path on every call on Node 20.
      values: Object.assign({}, u.values, { LastModifiedDate: stamp }),
    });
  for (const [object, rows] of updates) {
    const n = await tx.updateRows(object, rows);
    // A row of the cart deleted meanwhile (which cancels the checkout, so this is a lost race).
    if (n !== rows.length) throw new StepFailed(`${object} rows of cart ${cartId} changed while the step ran; run the checkout again.`);
  }
}

/**
 * Applies a step's staged result in its transaction: writes outside the draft (stock; rows not of
 * the cart fail the step), the draft's plan, reservations as the cart's holds
 * (the port's holdStock), the validations, and the cart's roll-ups, computed once from the
 * lines and taxes the step holds when it loaded the cart (else read).
 */
export async function applyStagedWrites(
  port: CartPort,
  tx: StorageOps,
  cartId: string,
  staged: StagedResult,
  operationId: string,
  stepType: string,
  now: Date,
): Promise<void> {
  const stamp = now.toISOString();
  /** Reservations staged by this run, summed per inventory row: the cart's holds after the step. */
  const holds = new Map<string, HoldRequest>();
  await applyOutsideWrites(tx, cartId, staged.writes, holds, stamp);
  if (staged.plan) await applyPlan(port, tx, cartId, staged.plan, stamp);
  // The inventory step sets the cart's holds (a re-run sets, never adds; products it no longer
  // reserves give their stock back); other steps reserve only if their integration asks to.
  if (holds.size || stepType === 'Inventory') await port.holdStock(tx, cartId, holds, operationId, now);
  if (staged.validations.length) {
    await tx.insert(
      'CartValidationOutput',
      validationOutputRows({ cartId, operationId, type: stepType, now, mint: () => port.mint('CartValidationOutput') }, staged.validations),
    );
  }
  await port.recomputeCart(tx, cartId, now, staged.plan?.held);
}
