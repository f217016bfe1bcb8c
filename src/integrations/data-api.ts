/**
 * The engine's data API for integrations: reads go to storage directly (outside any transaction,
 * so a slow integration holds no locks), writes are validated against the object schemas when
 * staged and applied by `applyStagedWrites` inside the step's completion transaction, scoped to
 * the step's cart. Anything else an integration tries is refused with a message naming it.
 */
import { EngineError } from '../errors.js';
import { publicRecord, validateFields, withDefaults } from '../domain/records.js';
import { OBJECTS, findObject } from '../domain/objects.js';
import { StepFailed, type EngineCore } from '../engine/core.js';
import { recomputeCart, withDerivedLine } from '../engine/cart.js';
import { setHolds, type HoldRequest } from '../engine/reservations.js';
import type { Filter, Row, StorageOps } from '../storage/port.js';
import type { CartDataApi, IntegrationValidation, Match, StagedWrite } from './contract.js';

/** What each object allows an integration to do, and which fields it may update. */
const WRITABLE: Record<string, { insert?: boolean; delete?: boolean; update?: readonly string[] }> = {
  CartItem: { update: ['SalesPrice', 'ListPrice', 'AdjustmentAmount'] },
  CartTax: { insert: true, delete: true, update: ['Amount', 'TaxRate', 'TaxType', 'Name', 'Description', 'TaxCalculationDate'] },
  CartDeliveryGroupMethod: { insert: true, delete: true, update: ['ShippingFee', 'Name', 'Carrier', 'ClassOfService', 'ExternalProvider'] },
  ProductInventory: { update: ['QuantityAvailable', 'QuantityReserved'] },
};

function refuse(what: string): never {
  throw new Error(`integration write refused: ${what}`);
}

function filters(match: Match | undefined): Filter[] {
  return Object.entries(match ?? {}).map(([field, value]): Filter =>
    Array.isArray(value) ? { field, op: 'in', value } : value === null || value === undefined ? { field, op: 'is null' } : { field, op: '=', value },
  );
}

function schemaChecked(object: string, fields: Row, mode: 'create' | 'update'): Row {
  try {
    return validateFields(object, fields, mode);
  } catch (e) {
    if (e instanceof EngineError) refuse(`${object}: ${e.message}`);
    throw e;
  }
}

/** The staged result of one integration run. */
export interface StagedResult {
  writes: StagedWrite[];
  validations: IntegrationValidation[];
}

/** A CartDataApi over the engine's storage for one cart and step; `result()` returns what it staged. */
export class StagingCartDataApi implements CartDataApi {
  private readonly writes: StagedWrite[] = [];
  private readonly validations: IntegrationValidation[] = [];

  constructor(
    private readonly core: EngineCore,
    readonly cart: Row,
    readonly now: Date,
    readonly signal: AbortSignal,
  ) {}

  async items(): Promise<Row[]> {
    return this.find('CartItem', { CartId: this.cart.Id });
  }

  async deliveryGroups(): Promise<Row[]> {
    return this.find('CartDeliveryGroup', { CartId: this.cart.Id });
  }

  async find(object: string, match?: Match): Promise<Row[]> {
    const def = findObject(object);
    if (!def) throw new Error(`integration read refused: no object named '${object}'`);
    const rows = await this.core.storage.find(def.name, { where: filters(match), orderBy: [{ field: 'CreatedDate', direction: 'asc' }, { field: 'Id', direction: 'asc' }] });
    return rows.map((r) => publicRecord(def.name, r) as Row);
  }

  addValidation(v: IntegrationValidation): void {
    if (!v || typeof v.Message !== 'string' || !v.Message) refuse('a validation needs a Message');
    this.validations.push({ ...v });
  }

  insert(object: string, fields: Row): void {
    if (!WRITABLE[object]?.insert) refuse(`integrations can't create ${object} records`);
    this.writes.push({ op: 'insert', object, fields: schemaChecked(object, fields, 'create') });
  }

  update(object: string, id: string, fields: Row, expect?: Match): void {
    const allowed = WRITABLE[object]?.update;
    if (!allowed) refuse(`integrations can't update ${object} records`);
    for (const k of Object.keys(fields)) if (!allowed.includes(k)) refuse(`integrations can't update ${object}.${k}`);
    if (typeof id !== 'string' || !id) refuse(`${object} update needs an id`);
    this.writes.push({ op: 'update', object, id, fields: schemaChecked(object, fields, 'update'), ...(expect ? { expect } : {}) });
  }

  delete(object: string, ids: string[]): void {
    if (!WRITABLE[object]?.delete) refuse(`integrations can't delete ${object} records`);
    if (ids.length) this.writes.push({ op: 'delete', object, ids: ids.map(String) });
  }

  reserve(inventoryId: string, quantity: number, info: { sku?: string; relatedEntityId?: string } = {}): void {
    if (typeof inventoryId !== 'string' || !inventoryId) refuse('a reservation needs a ProductInventory id');
    if (typeof quantity !== 'number' || !Number.isFinite(quantity) || quantity <= 0) refuse('a reservation needs a positive quantity');
    this.writes.push({ op: 'reserve', object: 'ProductInventory', id: inventoryId, quantity, sku: info.sku, relatedEntityId: info.relatedEntityId });
  }

  /** Everything staged so far. */
  result(): StagedResult {
    return { writes: [...this.writes], validations: [...this.validations] };
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

/**
 * Applies staged writes in the step's transaction: every cart-owned row must belong to `cartId`,
 * CartItem prices re-derive line totals, CartTax gets its CartId, reservations become the cart's
 * holds (src/engine/reservations.ts), and the cart's roll-ups are recomputed once at the end. A failed `expect` fails the step (someone changed the row meanwhile).
 */
export async function applyStagedWrites(core: EngineCore, tx: StorageOps, cartId: string, staged: StagedResult, operationId: string, stepType: string, now: Date): Promise<void> {
  const stamp = now.toISOString();
  const foreign = (object: string, id: string) => new StepFailed(`The integration wrote ${object} ${id}, which isn't part of cart ${cartId}.`);
  const inserts = new Map<string, Row[]>();
  /** Reservations staged by this run, summed per inventory row: the cart's holds after the step. */
  const holds = new Map<string, HoldRequest>();
  let lines: Map<string, Row> | undefined;
  for (const w of staged.writes) {
    const def = OBJECTS.get(w.object)!;
    if (w.op === 'insert') {
      const row: Row = { ...withDefaults(def, w.fields), Id: core.mint(w.object), CreatedDate: stamp, LastModifiedDate: stamp };
      if (w.object === 'CartTax') {
        const item = await tx.get('CartItem', String(row.CartItemId));
        if (!item || item.CartId !== cartId) throw foreign('CartItem', String(row.CartItemId));
        row.CartId = cartId;
      } else if (w.object === 'CartDeliveryGroupMethod') {
        if ((await cartOfRow(tx, w.object, row)) !== cartId) throw foreign('CartDeliveryGroup', String(row.CartDeliveryGroupId));
        row.WebCartId = cartId;
      }
      (inserts.get(w.object) ?? inserts.set(w.object, []).get(w.object)!).push(row);
      continue;
    }
    // Updates and deletes see earlier inserts.
    for (const [object, rows] of inserts) await tx.insert(object, rows);
    inserts.clear();
    if (w.op === 'reserve') {
      const h = holds.get(w.id);
      holds.set(w.id, { quantity: (h?.quantity ?? 0) + w.quantity, sku: h?.sku ?? w.sku, relatedEntityId: h?.relatedEntityId ?? w.relatedEntityId });
      continue;
    }
    if (w.op === 'delete') {
      const rows = await tx.find(w.object, { where: [{ field: 'Id', op: 'in', value: w.ids }] });
      for (const r of rows) if ((await cartOfRow(tx, w.object, r)) !== cartId) throw foreign(w.object, String(r.Id));
      await tx.delete(w.object, rows.map((r) => String(r.Id)));
      continue;
    }
    // Cart lines are read once per commit (a 2,000-line repricing is one query, not 2,000).
    if (w.object === 'CartItem' && !lines) lines = new Map((await tx.find('CartItem', { where: [{ field: 'CartId', op: '=', value: cartId }] })).map((r) => [String(r.Id), r]));
    const current = w.object === 'CartItem' ? lines!.get(w.id) : await tx.get(w.object, w.id, { forUpdate: true });
    if (!current && w.object === 'CartItem' && (await tx.get('CartItem', w.id))) throw foreign(w.object, w.id);
    if (!current) throw new StepFailed(`The integration updated ${w.object} ${w.id}, which doesn't exist.`);
    if (w.object !== 'ProductInventory' && (await cartOfRow(tx, w.object, current)) !== cartId) throw foreign(w.object, w.id);
    let values: Row = { ...w.fields, LastModifiedDate: stamp };
    if (w.object === 'CartItem') {
      const merged = withDerivedLine({ ...current, ...w.fields });
      values = { ...values, TotalLineAmount: merged.TotalLineAmount, TotalListPrice: merged.TotalListPrice, TotalPrice: merged.TotalPrice };
    }
    if (w.object === 'CartItem') lines!.set(w.id, { ...current, ...values });
    if (!(await tx.update(w.object, w.id, values, filters(w.expect)))) {
      throw new StepFailed(`${w.object} ${w.id} changed while the step ran; run the checkout again.`, [
        { Message: `${w.object} ${w.id} changed while the step ran; run the checkout again.`, RelatedEntityId: w.id },
      ]);
    }
  }
  for (const [object, rows] of inserts) await tx.insert(object, rows);
  // The inventory step sets the cart's holds (a re-run sets, never adds; products it no longer
  // reserves give their stock back); other steps reserve only if their integration asks to.
  if (holds.size || stepType === 'Inventory') await setHolds(core, tx, cartId, holds, operationId, now);
  if (staged.validations.length) {
    await tx.insert(
      'CartValidationOutput',
      staged.validations.map((v) => ({
        Id: core.mint('CartValidationOutput'),
        CreatedDate: stamp,
        LastModifiedDate: stamp,
        CartId: cartId,
        BackgroundOperationId: operationId,
        Name: `${cartId}:${operationId}`,
        Level: v.Level ?? 'Error',
        Type: v.Type ?? stepType,
        Message: v.Message.slice(0, 255),
        RelatedEntityId: v.RelatedEntityId ?? null,
        RelatedEntityPrefix: v.RelatedEntityId ? String(v.RelatedEntityId).slice(0, 3) : null,
        IsDismissed: false,
      })),
    );
  }
  await recomputeCart(tx, cartId, now);
}
