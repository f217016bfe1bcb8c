/**
 * Record reads and writes on behalf of a user, with the same rules as the actions (spec §5):
 * field validation from the schemas, sharing, referential integrity, derived cart totals, a
 * buyer's change to product lines of a cart in Checkout cancels the checkout, and a session's
 * State moves only as the statechart allows (screen steps).
 */
import { EngineError } from '../errors.js';
import type { CompiledFlow } from '../../machines/flow.js';
import { parseId } from '../domain/ids.js';
import type { ObjectDef } from '../domain/objects.js';
import { publicRecord, requireObject, validateFields, withDefaults, type SObject } from '../domain/records.js';
import type { EngineCore } from './core.js';
import type { Caller } from './facts.js';
import { CART_CHILDREN, isAdmin, rowInScope, scopeFor } from './access.js';
import { cancelCheckout, recomputeCart, withDerivedLine } from './cart.js';
import { hashPassword } from './passwords.js';
import { applySessionEvent, contextFromRow } from './sessions.js';
import { closeCartProblem, sessionFieldProblem, sessionWriteEvents, SESSION_MACHINE_FIELDS } from '../domain/session-rules.js';
import { findActiveSession } from './facts.js';
import { UniqueViolation, type Row, type StorageOps } from '../storage/port.js';

/** Objects only the checkout actions create or delete. */
const ENGINE_MANAGED = new Set(['CartCheckoutSession', 'BackgroundOperation']);
/** CartItem fields whose change by a buyer cancels a running checkout. */
const LINE_CHANGING = ['Quantity', 'Product2Id', 'Type', 'CartDeliveryGroupId'];
/** Children deleted with their cart (master-detail). */
const CASCADE_FROM_CART = ['CartTax', 'CartItem', 'CartDeliveryGroupMethod', 'CartDeliveryGroup', 'CartValidationOutput', 'WebCartShare'];

function requireId(object: ObjectDef, id: unknown): string {
  const p = parseId(id, [object.keyPrefix]);
  if (!p.ok) throw new EngineError('INVALID_ID_FIELD', p.message, ['Id']);
  return p.id;
}

async function checkReferences(tx: StorageOps, object: ObjectDef, values: Row): Promise<void> {
  for (const f of object.fields) {
    if (f.type !== 'reference' || typeof values[f.name] !== 'string') continue;
    let found = false;
    for (const t of f.to ?? []) if (await tx.get(t, String(values[f.name]))) found = true;
    if (!found) {
      throw new EngineError('INVALID_CROSS_REFERENCE', `${object.name}.${f.name}: no ${(f.to ?? []).join('/')} with id ${values[f.name]}.`, [f.name]);
    }
  }
}

/**
 * Entering the confirmation screen (`orderConfirmation`, or a final state) of a session that has an
 * order closes its cart: the checkout is converted, so the cart no longer accepts changes. Under the
 * template convention only a final state does; the Re-entrant template's buyer closes the cart with
 * a record write on its Order Confirmation screen.
 */
export async function closeCartOnConfirmation(tx: StorageOps, flow: CompiledFlow, session: Row, now: Date): Promise<void> {
  const step = flow.steps.get(flow.resolve(session.State) ?? '');
  if (!session.OrderId || !step) return;
  const closes = step.kind === 'final' || (flow.convention.closesCartOn === 'confirmation' && step.key === 'orderConfirmation');
  if (!closes) return;
  await tx.updateWhere(
    'WebCart',
    [
      { field: 'Id', op: '=', value: session.WebCartId },
      { field: 'Status', op: '=', value: 'Checkout' },
    ],
    { Status: 'Closed', LastModifiedDate: now.toISOString() },
  );
}

/** Record operations as a user. */
export class RecordService {
  constructor(private readonly core: EngineCore) {}

  /** One record; with a caller, only if they may read it (NOT_FOUND otherwise). */
  async get(type: string, id: unknown, caller?: Caller): Promise<SObject> {
    const object = requireObject(type);
    const rid = requireId(object, id);
    const row = await this.core.storage.get(object.name, rid);
    if (!row) throw new EngineError('NOT_FOUND', `No ${object.name} with id ${rid}.`, ['Id']);
    if (caller && !rowInScope(await scopeFor(this.core.storage, caller, object.name, 'read'), row)) {
      throw new EngineError('NOT_FOUND', `No ${object.name} with id ${rid}.`, ['Id']);
    }
    return publicRecord(object.name, row);
  }

  private async requireEditable(tx: StorageOps, caller: Caller, object: ObjectDef, id: string): Promise<Row> {
    const row = await tx.get(object.name, id, { forUpdate: true });
    if (!row) throw new EngineError('NOT_FOUND', `No ${object.name} with id ${id}.`, ['Id']);
    if (!rowInScope(await scopeFor(tx, caller, object.name, 'edit'), row)) {
      if (!rowInScope(await scopeFor(tx, caller, object.name, 'read'), row)) throw new EngineError('NOT_FOUND', `No ${object.name} with id ${id}.`, ['Id']);
      throw new EngineError('INSUFFICIENT_ACCESS', `You can't edit ${object.name} ${id}.`);
    }
    return row;
  }

  /** The cart a row belongs to, for cart and cart-child objects. */
  private cartOf(object: ObjectDef, row: Row): string | null {
    if (object.name === 'WebCart') return String(row.Id);
    const f = CART_CHILDREN[object.name];
    return f && typeof row[f] === 'string' ? String(row[f]) : null;
  }

  /** Creates a record as `caller`; returns the Salesforce create response. */
  async create(type: string, fields: unknown, caller: Caller): Promise<{ id: string; success: true; errors: [] }> {
    const object = requireObject(type);
    if (ENGINE_MANAGED.has(object.name)) throw new EngineError('ENGINE_MANAGED', `Use checkoutSessionAction to create a ${object.name}.`);
    const values = validateFields(object.name, fields, 'create');
    const now = this.core.now();
    const id = this.core.mint(object.name);
    let row: Row = { ...withDefaults(object, values), Id: id, CreatedDate: now.toISOString(), LastModifiedDate: now.toISOString() };
    if (object.name === 'WebCart') {
      row.OwnerId = row.OwnerId ?? caller.Id;
      if (row.Status === 'Checkout') throw new EngineError('CART_STATUS_MANAGED', '', ['Status']);
      if (!isAdmin(caller) && (row.OwnerId !== caller.Id || row.AccountId !== caller.AccountId)) {
        throw new EngineError('INSUFFICIENT_ACCESS', 'A buyer can only create carts they own, for their own account.', ['OwnerId', 'AccountId']);
      }
    }
    if (object.name === 'User' && typeof row.Password === 'string') row.Password = hashPassword(row.Password);
    try {
      await this.core.atomically(async (tx) => {
        await checkReferences(tx, object, row);
        if (object.name === 'CartTax') row.CartId = (await tx.get('CartItem', String(row.CartItemId)))?.CartId ?? null;
        if (object.name === 'CartItem') row = withDerivedLine(row);
        const cartId = this.cartOf(object, row);
        if (object.name !== 'WebCart') {
          const scope = cartId ? await scopeFor(tx, caller, 'WebCart', 'edit') : await scopeFor(tx, caller, object.name, 'edit');
          const probe = cartId ? { Id: cartId } : row;
          if (!rowInScope(scope, probe)) throw new EngineError('INSUFFICIENT_ACCESS', `You can't create ${object.name} records here.`);
        }
        if (object.name === 'CartItem' && row.Type !== 'Charge') await this.cancelIfInCheckout(tx, String(row.CartId));
        await tx.insert(object.name, [row]);
        if ((object.name === 'CartItem' || object.name === 'CartTax') && cartId) await recomputeCart(tx, cartId, now);
      });
    } catch (e) {
      if (e instanceof UniqueViolation) throw new EngineError('DUPLICATE_VALUE', `A ${object.name} with one of these unique values already exists.`);
      throw e;
    }
    return { id, success: true, errors: [] };
  }

  private async cancelIfInCheckout(tx: StorageOps, cartId: string): Promise<void> {
    const cart = await tx.get('WebCart', cartId);
    if (cart?.Status === 'Checkout') await cancelCheckout(this.core, tx, cartId, this.core.now());
  }

  /** Updates a record as `caller`. */
  async update(type: string, id: unknown, fields: unknown, caller: Caller): Promise<void> {
    const object = requireObject(type);
    const rid = requireId(object, id);
    const values = validateFields(object.name, fields, 'update');
    if (object.name === 'User' && typeof values.Password === 'string') values.Password = hashPassword(values.Password);
    const now = this.core.now();
    try {
      await this.core.atomically(async (tx) => {
        const row = await this.requireEditable(tx, caller, object, rid);
        await checkReferences(tx, object, values);
        if (object.name === 'BackgroundOperation') throw new EngineError('ENGINE_MANAGED');
        if (object.name === 'WebCart' && 'Status' in values && values.Status !== row.Status && (values.Status === 'Checkout' || row.Status === 'Checkout')) {
          const problem = values.Status === 'Closed' ? await this.buyerCloseProblem(tx, rid) : { detail: '' };
          if (problem) throw new EngineError('CART_STATUS_MANAGED', problem.detail, ['Status']);
        }
        if (object.name === 'CartCheckoutSession') {
          await this.writeSession(tx, row, values, now);
          return;
        }
        let next: Row = { ...values, LastModifiedDate: now.toISOString() };
        if (object.name === 'CartItem') {
          const merged = withDerivedLine({ ...row, ...values });
          next = { ...next, TotalLineAmount: merged.TotalLineAmount, TotalListPrice: merged.TotalListPrice, TotalPrice: merged.TotalPrice };
          const changesLines = LINE_CHANGING.some((f) => f in values && values[f] !== row[f]);
          if (changesLines && (row.Type !== 'Charge' || values.Type === 'Product')) await this.cancelIfInCheckout(tx, String(row.CartId));
        }
        if (object.name === 'CartTax' && typeof values.CartItemId === 'string') {
          next.CartId = (await tx.get('CartItem', values.CartItemId))?.CartId ?? null;
        }
        await tx.update(object.name, rid, next);
        if (object.name === 'CartItem' || object.name === 'CartTax') {
          for (const c of new Set([row.CartId, next.CartId].filter((x): x is string => typeof x === 'string'))) await recomputeCart(tx, c, now);
        }
      });
    } catch (e) {
      if (e instanceof UniqueViolation) throw new EngineError('DUPLICATE_VALUE', `A ${object.name} with one of these unique values already exists.`);
      throw e;
    }
  }

  /**
   * A record write of a session: State is a screen step's move, NextState a claim (session-rules
   * `sessionWriteEvents`), both offered to the statechart; any other statechart field the write
   * names must equal what the statechart made of it. Refusals name the field and change nothing.
   */
  private async writeSession(tx: StorageOps, session: Row, values: Row, now: Date): Promise<void> {
    const { flow, machine } = this.core.flow(session._flow as string);
    const rest: Row = {};
    for (const [k, v] of Object.entries(values)) if (!(SESSION_MACHINE_FIELDS as readonly string[]).includes(k)) rest[k] = v;
    const planned = sessionWriteEvents(contextFromRow(session), flow, values);
    if (!Array.isArray(planned)) throw new EngineError(planned.error, planned.detail, [planned.field ?? 'State']);
    let row = session;
    for (const event of planned) {
      const t = await applySessionEvent(tx, machine, row, event, now);
      if (!t.ok) {
        const field = event.type === 'SET_STATE' ? 'State' : 'NextState';
        throw new EngineError(event.type === 'SET_STATE' ? t.rejection.error : 'SESSION_FIELD_NOT_WRITABLE', t.rejection.detail, [field]);
      }
      row = t.row;
    }
    const problem = sessionFieldProblem(row, values);
    if (problem) throw new EngineError(problem.error, problem.detail, [problem.field!]);
    if (Object.keys(rest).length) await tx.update('CartCheckoutSession', String(row.Id), { ...rest, LastModifiedDate: now.toISOString() });
    if (planned.length) await closeCartOnConfirmation(tx, flow, row, now);
  }

  /** Why a buyer's write Checkout → Closed of this cart is refused (null: the flow lets the buyer close it). */
  private async buyerCloseProblem(tx: StorageOps, cartId: string): Promise<{ detail?: string } | null> {
    const session = await findActiveSession(tx, cartId);
    const flow = session ? this.core.flow(session._flow as string).flow : null;
    const order = session?.OrderId ? await tx.get('Order', String(session.OrderId)) : undefined;
    return closeCartProblem(session ? contextFromRow(session) : null, flow, order ? String(order.Status) : null);
  }

  /** Deletes a record as `caller` (a cart takes its lines, groups, taxes and shares with it). */
  async delete(type: string, id: unknown, caller: Caller): Promise<void> {
    const object = requireObject(type);
    const rid = requireId(object, id);
    const now = this.core.now();
    await this.core.atomically(async (tx) => {
      const row = await this.requireEditable(tx, caller, object, rid);
      if (ENGINE_MANAGED.has(object.name)) throw new EngineError('ENGINE_MANAGED');
      if (object.name === 'WebCart') {
        await this.cancelIfInCheckout(tx, rid);
        for (const child of CASCADE_FROM_CART) {
          const ids = (await tx.find(child, { where: [{ field: CART_CHILDREN[child]!, op: '=', value: rid }] })).map((r) => String(r.Id));
          await tx.delete(child, ids);
        }
        await tx.delete('WebCart', [rid]);
        return;
      }
      if (object.name === 'CartItem') {
        if (row.Type !== 'Charge') await this.cancelIfInCheckout(tx, String(row.CartId));
        const taxes = await tx.find('CartTax', { where: [{ field: 'CartItemId', op: '=', value: rid }] });
        await tx.delete('CartTax', taxes.map((t) => String(t.Id)));
      }
      await tx.delete(object.name, [rid]);
      if ((object.name === 'CartItem' || object.name === 'CartTax') && typeof row.CartId === 'string') await recomputeCart(tx, row.CartId, now);
    });
  }
}

