/**
 * Record reads and writes on behalf of a user, with the same rules as the actions (spec §5):
 * field validation from the schemas; the write rules declared in the object metadata (who may
 * create, update, delete each object and write each field, fixed parent links, frozen Closed carts
 * and Activated orders — objects.ts, applied through domain/write-rules.ts); sharing on the stored
 * row, on the written row and on every reference the write sets; derived cart totals; a write that
 * changes what checkout computed from cancels the cart's checkout; and a session's State moves
 * only as the statechart allows (screen steps). What stays object-specific here is what the
 * metadata doesn't say: cascades, a new line's store price, a new cart's owner, password hashing.
 */
import { EngineError } from '../errors.js';
import type { CompiledFlow } from '../domain/flow.js';
import { parseId } from '../domain/ids.js';
import { BUYER_OPEN_CART_STATUSES, cartStatusChange, findField, FROZEN, type ObjectDef } from '../domain/objects.js';
import { roundMoney } from '../domain/money.js';
import {
  cancelsAfterFirstState,
  cancelsCheckout,
  checkFieldWrite,
  checkObjectWrite,
  checkRestrictDelete,
  checkRowDelete,
  checkScaledFields,
  copiedFieldWrite,
  deleteAccess,
  editNotDelete,
  refTargetAllowed,
  roleOf,
  type Refusal,
  type Role,
  type Verb,
} from '../domain/write-rules.js';
import { freeLineProblem } from '../domain/line-rules.js';
import { publicRecord, requireObject, validateFields, withDefaults, type SObject } from '../domain/records.js';
import type { EngineCore } from './core.js';
import { CallerFailed, CallerRead, type Caller, type CallerRef } from './facts.js';
import { CART_CHILDREN, isAdmin, ORDER_CHILDREN, rowAccessible, scopeFor } from './access.js';
import { cancelCheckout, ordersOfCart, recomputeCart, withDerivedLine } from './cart.js';
import { prepareUserCredentials } from './passwords.js';
import { revokeUserTokens } from './tokens.js';
import { applySessionEvent, contextFromRow } from './sessions.js';
import type { EventOrigin, Tx } from './transaction.js';
import { keepHoldsForOrder } from './reservations.js';
import { closeCartProblem, sessionFieldProblem, sessionWriteEvents, SESSION_MACHINE_FIELDS } from '../domain/session-rules.js';
import { findActiveSession } from './facts.js';
import { UniqueViolation, type Filter, type OrderBy, type Row, type StorageOps } from '../storage/port.js';
import type { RecordAccessMode } from '../flows/contract.js';
import { runQuery, type QueryAccess, type QueryResult } from './query.js';

export type { RecordAccessMode };

/**
 * How a record call reaches the data (docs/flows.md "Run modes"). `user` (the default): the
 * caller's object, field and sharing rules — what a buyer's REST or library call gets. A flow's
 * record element runs `systemWithSharing` (SystemModeWithSharing: no object or field permission
 * checks, the caller's row sharing kept) or `system` (SystemModeWithoutSharing: all rows). In both
 * flow modes a write-back of a record's unchanged fields (engine-owned ones included) is accepted,
 * as the templates write back whole records they read; the engine's own rules (statechart, frozen
 * records, cart status moves, completion invariants) hold whatever the mode.
 */
export interface RecordCallOptions {
  readonly mode?: RecordAccessMode;
  /** The call, as the history of the session events the write offers (or a checkout it cancels) names it. */
  readonly origin?: EventOrigin;
  /**
   * A CartItem create, update or delete keeps the cart's checkout instead of canceling it (the
   * Connect Cart API from v63, "simplified cart cleanup"; the caller re-runs the calculators):
   * still refused once the checkout made an order (CART_LOCKED_BY_ORDER) and while a step of it
   * runs (CONFLICT). Other objects' writes follow the usual rules.
   */
  readonly keepCheckout?: boolean;
}

/** A `find`: AND-ed filters on the object's fields, an order and a limit. */
export interface RecordFind {
  readonly where?: readonly Filter[];
  readonly orderBy?: readonly OrderBy[];
  readonly limit?: number;
}

const MODES: readonly RecordAccessMode[] = ['user', 'systemWithSharing', 'system'];

/**
 * Who a call acts as, per rule: `caller` for the engine's own rules (`role`), `sharer` for row
 * sharing (ModifyAllData's reach in `system` mode), `permRole` for object and field permissions
 * (ModifyAllData's in either flow mode).
 */
interface Access {
  readonly caller: Caller;
  readonly sharer: Caller;
  readonly role: Role;
  readonly permRole: Role;
  readonly flow: boolean;
}

function accessOf(caller: Caller, opts: RecordCallOptions | undefined): Access {
  const mode = opts?.mode ?? 'user';
  if (!MODES.includes(mode)) throw new EngineError('INVALID_INPUT', `mode must be one of ${MODES.join(', ')}.`, ['mode']);
  const role = roleOf(caller.Permissions);
  if (mode === 'user') return { caller, sharer: caller, role, permRole: role, flow: false };
  const sharer = mode === 'system' && !isAdmin(caller) ? { ...caller, Permissions: [...caller.Permissions, 'ModifyAllData'] } : caller;
  return { caller, sharer, role, permRole: 'admin', flow: true };
}

/** Whether a written value equals the stored one (null and absent alike; a number and its text alike). */
function sameValue(stored: unknown, written: unknown): boolean {
  const a = stored ?? null;
  const b = written ?? null;
  if (a === b) return true;
  if (typeof a === 'number' || typeof b === 'number') return a !== null && b !== null && a !== '' && b !== '' && Number(a) === Number(b);
  if (Array.isArray(a) && Array.isArray(b)) return JSON.stringify(a) === JSON.stringify(b);
  return false;
}

/** The fields of a flow's write-back that change something (Id and unchanged values dropped). */
function changedFields(object: ObjectDef, row: Row, fields: unknown): unknown {
  if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) return fields;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields as Record<string, unknown>)) {
    const f = findField(object.name, k);
    if (f && !f.writeOnly && sameValue(row[f.name], v)) continue;
    out[k] = v;
  }
  return out;
}

/** Children deleted with their cart (master-detail). */
const CASCADE_FROM_CART = ['CartTax', 'CartItem', 'CartDeliveryGroupMethod', 'CartDeliveryGroup', 'CartValidationOutput', 'WebCartShare'];
/** Children deleted with their order (master-detail), deepest first. */
const CASCADE_FROM_ORDER = ['OrderItemTaxLineItem', 'OrderItemAdjustmentLineItem', 'OrderItem', 'OrderDeliveryGroup'];
/** Children deleted with an order line. */
const CASCADE_FROM_ORDER_ITEM = ['OrderItemTaxLineItem', 'OrderItemAdjustmentLineItem'];

function requireId(object: ObjectDef, id: unknown): string {
  const p = parseId(id, [object.keyPrefix]);
  if (!p.ok) throw new EngineError('INVALID_ID_FIELD', p.message, ['Id']);
  return p.id;
}

function refuse(r: Refusal | null): void {
  if (r) throw new EngineError(r.key, r.detail, r.fields);
}

/**
 * Every reference a write sets is checked against the caller's access to its target: a target the
 * caller can't read, or one the field's `refWhere` excludes (a share's user of another account, an
 * inactive one), answers as if it didn't exist; a parent link (`refAccess: 'edit'`) needs edit
 * access. `row` is the record as it will be (for `refWhere.sameAs`). Returns the targets by field.
 */
async function checkReferences(
  tx: StorageOps,
  caller: Caller,
  object: ObjectDef,
  values: Row,
  row: Row = values,
): Promise<Map<string, Row>> {
  const targets = new Map<string, Row>();
  for (const f of object.fields) {
    if (f.type !== 'reference' || typeof values[f.name] !== 'string') continue;
    const id = String(values[f.name]);
    let found: { type: string; row: Row } | undefined;
    for (const t of f.to ?? []) {
      const row = await tx.get(t, id);
      if (row) found = { type: t, row };
    }
    const missing = () =>
      new EngineError('INVALID_CROSS_REFERENCE', `${object.name}.${f.name}: no ${(f.to ?? []).join('/')} with id ${id}.`, [f.name]);
    if (!found) throw missing();
    if (f.refWhere) {
      const via = f.refWhere.sameAs ? row[f.refWhere.sameAs.via] : undefined;
      const viaType = f.refWhere.sameAs ? findField(object.name, f.refWhere.sameAs.via)?.to?.[0] : undefined;
      const viaRow = typeof via === 'string' && viaType ? ((await tx.get(viaType, via)) ?? null) : null;
      if (!refTargetAllowed(f, found.row, viaRow)) throw missing();
    }
    if (f.refAccess !== 'exists') {
      if (!(await rowAccessible(tx, caller, found.type, found.row, 'read'))) throw missing();
      if (f.refAccess === 'edit' && !(await rowAccessible(tx, caller, found.type, found.row, 'edit'))) {
        throw new EngineError('INSUFFICIENT_ACCESS', `${object.name}.${f.name}: you can't edit ${found.type} ${id}.`, [f.name]);
      }
    }
    targets.set(f.name, found.row);
  }
  return targets;
}

/**
 * Fills fields copied from a referenced record (`derivedFrom`, `sameAs` when empty) and checks
 * `sameAs` integrity (a CartItem's delivery group belongs to the same cart).
 */
async function deriveAndMatch(tx: StorageOps, object: ObjectDef, row: Row, changed: Row): Promise<void> {
  for (const f of object.fields) {
    if (f.derivedFrom && (f.derivedFrom.via in changed || row[f.name] === undefined)) {
      const via = row[f.derivedFrom.via];
      const parentType = findField(object.name, f.derivedFrom.via)?.to?.[0];
      const parent = typeof via === 'string' && parentType ? await tx.get(parentType, via) : undefined;
      row[f.name] = parent?.[f.derivedFrom.field] ?? null;
    }
  }
  for (const f of object.fields) {
    if (!f.sameAs || typeof row[f.name] !== 'string') continue;
    if (!(f.name in changed) && !(f.sameAs.field in changed)) continue;
    const target = await tx.get(f.to![0]!, String(row[f.name]));
    const want = target?.[f.sameAs.targetField] ?? null;
    if (row[f.sameAs.field] === null || row[f.sameAs.field] === undefined) row[f.sameAs.field] = want;
    else if (row[f.sameAs.field] !== want) {
      throw new EngineError(
        'FIELD_INTEGRITY',
        `${object.name}.${f.name}: ${f.to![0]} ${String(row[f.name])} belongs to ${String(want)}, not to this record's ${f.sameAs.field} ${String(row[f.sameAs.field])}.`,
        [f.name],
      );
    }
  }
}

/**
 * The records the `copiedFrom` and `scaleFrom` fields of `object` read, by their `via` field (null
 * when the row names none): the targets the write's reference check already read, else the stored one.
 */
async function fieldSources(tx: StorageOps, object: ObjectDef, row: Row, targets: Map<string, Row>): Promise<Record<string, Row | null>> {
  const out: Record<string, Row | null> = {};
  for (const f of object.fields) {
    const via = (f.copiedFrom ?? f.scaleFrom)?.via;
    if (!via || via in out) continue;
    const id = row[via];
    const type = findField(object.name, via)?.to?.[0];
    out[via] = targets.get(via) ?? (typeof id === 'string' && type ? ((await tx.get(type, id)) ?? null) : null);
  }
  return out;
}

/**
 * Applies the metadata's field sources to a write (`row`: the record as the write leaves it, filled
 * in place): copies (`copiedFrom`) filled or their conflicting values refused, then the decimals
 * of `scaleFrom` fields checked. Returns the filled values.
 */
async function applyFieldSources(
  tx: StorageOps,
  object: ObjectDef,
  verb: 'create' | 'update',
  role: Role,
  values: Row,
  row: Row,
  targets: Map<string, Row>,
): Promise<Row> {
  if (!object.fields.some((f) => f.copiedFrom || f.scaleFrom)) return {};
  const sources = await fieldSources(tx, object, row, targets);
  const copies = copiedFieldWrite(object, verb, role, values, row, sources);
  if ('refusal' in copies) refuse(copies.refusal);
  const fill = 'fill' in copies ? copies.fill : {};
  Object.assign(row, fill);
  refuse(checkScaledFields(object, verb, role, values, row, sources));
  return fill;
}

/** A buyer's product line that would round to a free line is refused (domain/line-rules.ts). */
function refuseFreeLine(line: Row, role: Role): void {
  if (role !== 'buyer') return;
  const p = freeLineProblem(line);
  if (p) throw new EngineError(p.code, p.message, [p.field]);
}

/** The lowest active price of a product in the store's active price books (what add-to-cart shows), or null. */
async function storePrice(tx: StorageOps, storeId: unknown, productId: unknown): Promise<number | null> {
  if (typeof storeId !== 'string' || typeof productId !== 'string') return null;
  const links = await tx.find('WebStorePricebook', {
    where: [
      { field: 'WebStoreId', op: '=', value: storeId },
      { field: 'IsActive', op: '=', value: true },
    ],
  });
  if (!links.length) return null;
  const books = await tx.find('Pricebook2', {
    where: [
      { field: 'Id', op: 'in', value: links.map((l) => l.Pricebook2Id) },
      { field: 'IsActive', op: '=', value: true },
    ],
  });
  if (!books.length) return null;
  const entries = await tx.find('PricebookEntry', {
    where: [
      { field: 'Pricebook2Id', op: 'in', value: books.map((b) => b.Id) },
      { field: 'Product2Id', op: '=', value: productId },
      { field: 'IsActive', op: '=', value: true },
    ],
  });
  return entries.length ? roundMoney(Math.min(...entries.map((e) => Number(e.UnitPrice)))) : null;
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
  await keepHoldsForOrder(tx, String(session.WebCartId), String(session.OrderId), now);
  await tx.updateWhere(
    'WebCart',
    [
      { field: 'Id', op: '=', value: session.WebCartId },
      // PendingClosed: a Connect place order (src/connect/orders.ts) whose order is now placed.
      { field: 'Status', op: 'in', value: ['Checkout', 'PendingClosed'] },
    ],
    { Status: 'Closed', LastModifiedDate: now.toISOString() },
  );
}

/**
 * Closes the cart of a checkout that is done: its active session's order is Activated and the cart is
 * still Checkout (a finished flow interview whose flow left the close to the platform, as the
 * Re-entrant template does with `shouldCloseCart` false). The stock holds become the order's.
 * Returns whether it closed the cart; any other cart is left as it is.
 */
export async function closeCartOfCompletedCheckout(tx: StorageOps, cartId: string, now: Date): Promise<boolean> {
  const cart = await tx.get('WebCart', cartId, { forUpdate: true });
  if (!cart || cart.Status !== 'Checkout') return false;
  const session = await findActiveSession(tx, cartId, true);
  if (!session?.OrderId || session.IsProcessing === true) return false;
  const order = await tx.get('Order', String(session.OrderId));
  if (!order || order.Status !== 'Activated') return false;
  await keepHoldsForOrder(tx, cartId, String(order.Id), now);
  const n = await tx.updateWhere(
    'WebCart',
    [
      { field: 'Id', op: '=', value: cartId },
      { field: 'Status', op: '=', value: 'Checkout' },
    ],
    { Status: 'Closed', LastModifiedDate: now.toISOString() },
  );
  return n > 0;
}

/** The caller `pending` stands for, read alone unless already read; an unknown one is INVALID_SESSION. */
async function callerAlone(pending: CallerRead): Promise<Caller> {
  try {
    return await pending.load();
  } catch (e) {
    throw e instanceof CallerFailed ? e.cause : e;
  }
}

/** Record operations as a user. */
export class RecordService {
  constructor(private readonly core: EngineCore) {}

  /** One record; with a caller, only if they may read it (NOT_FOUND otherwise). */
  async get(type: string, id: unknown, caller?: Caller, opts?: RecordCallOptions): Promise<SObject> {
    const object = requireObject(type);
    const rid = requireId(object, id);
    const access = caller ? accessOf(caller, opts) : null;
    const row = await this.core.storage.get(object.name, rid);
    if (!row) throw new EngineError('NOT_FOUND', `No ${object.name} with id ${rid}.`, ['Id']);
    if (access && !(await rowAccessible(this.core.storage, access.sharer, object.name, row, 'read'))) {
      throw new EngineError('NOT_FOUND', `No ${object.name} with id ${rid}.`, ['Id']);
    }
    return publicRecord(object.name, row, !access || access.permRole === 'admin');
  }

  /**
   * The records of `type` matching `find` that `caller` reaches in `opts.mode` (sharing unless
   * `system`; every readable field, ModifyAllData-only ones too in a flow mode). Filters name the
   * object's fields (INVALID_FIELD otherwise).
   */
  async find(type: string, find: RecordFind, caller: Caller, opts?: RecordCallOptions): Promise<SObject[]> {
    const object = requireObject(type);
    const access = accessOf(caller, opts);
    const admin = access.permRole === 'admin';
    const known = (name: string, what: string) => {
      const f = findField(object.name, name);
      if (!f || f.writeOnly || (f.read === 'admin' && !admin))
        throw new EngineError('INVALID_FIELD', `No such column '${String(name)}' on entity '${object.name}' (${what}).`, [String(name)]);
      return f.name;
    };
    const where: Filter[] = (find.where ?? []).map((f) => ({ ...f, field: known(f.field, 'filter') }) as Filter);
    const orderBy: OrderBy[] = (find.orderBy ?? []).map((o) => ({ ...o, field: known(o.field, 'order') }));
    if (find.limit !== undefined && (!Number.isInteger(find.limit) || find.limit < 0))
      throw new EngineError('INVALID_INPUT', 'limit must be a whole number ≥ 0.', ['limit']);
    const scope = await scopeFor(this.core.storage, access.sharer, object.name, 'read');
    if (scope === 'none') return [];
    const rows = await this.core.storage.find(object.name, {
      where: [...where, ...(scope === 'all' ? [] : scope)],
      ...(orderBy.length ? { orderBy } : {}),
      ...(find.limit !== undefined ? { limit: find.limit } : {}),
    });
    return rows.map((r) => publicRecord(object.name, r, admin));
  }

  /** A SOQL query as `caller` in `opts.mode` (see `find`). */
  async query(soql: string, caller: Caller, opts?: RecordCallOptions & { apiVersion?: string }): Promise<QueryResult> {
    const access = accessOf(caller, opts);
    const q: QueryAccess = { rows: opts?.mode === 'system' ? 'all' : 'shared', fields: access.flow ? 'all' : 'user' };
    return runQuery(this.core.storage, caller, soql, this.core.now(), opts?.apiVersion, q);
  }

  /**
   * The stored row for an update (mode 'edit') or delete (mode from deleteAccess): a row the caller
   * can't read is NOT_FOUND exactly like a missing id; a readable one it may not change is refused.
   */
  private async requireEditable(
    tx: StorageOps,
    caller: Caller,
    object: ObjectDef,
    id: string,
    mode: 'edit' | 'delete' = 'edit',
  ): Promise<Row> {
    const row = await tx.get(object.name, id, { forUpdate: true });
    if (!row) throw new EngineError('NOT_FOUND', `No ${object.name} with id ${id}.`, ['Id']);
    if (!(await rowAccessible(tx, caller, object.name, row, mode))) {
      if (!(await rowAccessible(tx, caller, object.name, row, 'read')))
        throw new EngineError('NOT_FOUND', `No ${object.name} with id ${id}.`, ['Id']);
      if (mode === 'delete' && (await rowAccessible(tx, caller, object.name, row, 'edit'))) refuse(editNotDelete(object, id));
      throw new EngineError('INSUFFICIENT_ACCESS', `You can't ${mode} ${object.name} ${id}.`);
    }
    return row;
  }

  /** The cart a row belongs to, for cart and cart-child objects. */
  private cartOf(object: ObjectDef, row: Row): string | null {
    if (object.name === 'WebCart') return String(row.Id);
    const f = CART_CHILDREN[object.name];
    return f && typeof row[f] === 'string' ? String(row[f]) : null;
  }

  /**
   * Refuses a write to a frozen record (FROZEN in objects.ts: a Closed cart, an Activated order)
   * or to the records under one, and a buyer's write under a cart that isn't Active or in Checkout.
   */
  private async checkNotFrozen(tx: StorageOps, object: ObjectDef, row: Row, role: Role, verb: Verb): Promise<void> {
    const own = FROZEN[object.name];
    if (own && own.values.includes(row[own.field] as string) && (verb !== 'delete' || !own.deletable)) {
      throw new EngineError('RECORD_LOCKED', `${object.name} ${String(row.Id)} is ${String(row[own.field])}.`, [own.field]);
    }
    // A session's State moves are governed by its statechart (screen steps, also after the order).
    if (object.name === 'CartCheckoutSession') return;
    const cartId = object.name === 'WebCart' ? null : this.cartOf(object, row);
    const cart = cartId ? await tx.get('WebCart', cartId) : object.name === 'WebCart' && verb !== 'create' ? row : undefined;
    if (cart && object.name !== 'WebCart' && cart.Status === 'Closed') {
      throw new EngineError('RECORD_LOCKED', `Its cart ${String(cart.Id)} is Closed.`, [CART_CHILDREN[object.name]!]);
    }
    if (
      cart &&
      role === 'buyer' &&
      !(object.name === 'WebCart' && verb === 'delete') &&
      !BUYER_OPEN_CART_STATUSES.includes(String(cart.Status))
    ) {
      throw new EngineError(
        'RECORD_LOCKED',
        `Cart ${String(cart.Id)} is ${String(cart.Status)}; a buyer changes a cart only while it is ${BUYER_OPEN_CART_STATUSES.join(' or ')}.`,
        [object.name === 'WebCart' ? 'Status' : CART_CHILDREN[object.name]!],
      );
    }
    const orderField = ORDER_CHILDREN[object.name];
    const orderId = orderField ? row[orderField] : undefined;
    const order = typeof orderId === 'string' ? await tx.get('Order', orderId) : undefined;
    if (order && FROZEN.Order!.values.includes(order.Status as string)) {
      throw new EngineError('RECORD_LOCKED', `Its order ${String(order.Id)} is ${String(order.Status)}.`, [orderField!]);
    }
  }

  /** Creates a record as `caller`; returns the Salesforce create response. */
  async create(
    type: string,
    fields: unknown,
    caller: Caller,
    opts?: RecordCallOptions,
  ): Promise<{ id: string; success: true; errors: [] }> {
    const object = requireObject(type);
    const access = accessOf(caller, opts);
    const role = access.role;
    refuse(checkObjectWrite(object, 'create', access.permRole));
    const values = validateFields(object.name, fields, 'create');
    refuse(checkFieldWrite(object, 'create', access.permRole, values));
    const now = this.core.now();
    const id = this.core.mint(object.name);
    let row: Row = { ...withDefaults(object, values), Id: id, CreatedDate: now.toISOString(), LastModifiedDate: now.toISOString() };
    if (object.name === 'WebCart') {
      row.OwnerId = row.OwnerId ?? caller.Id;
      if (row.Status === 'Checkout') throw new EngineError('CART_STATUS_MANAGED', '', ['Status']);
      if (role === 'buyer' && (row.OwnerId !== caller.Id || row.AccountId !== caller.AccountId)) {
        throw new EngineError('INSUFFICIENT_ACCESS', 'A buyer can only create carts they own, for their own account.', [
          'OwnerId',
          'AccountId',
        ]);
      }
    }
    if (object.name === 'User') await prepareUserCredentials(row);
    try {
      await this.core.atomically(
        async (tx) => {
          const targets = await checkReferences(tx, access.sharer, object, row, row);
          await deriveAndMatch(tx, object, row, row);
          await this.checkNotFrozen(tx, object, row, role, 'create');
          if (object.name !== 'WebCart' && !(await rowAccessible(tx, access.sharer, object.name, row, 'edit'))) {
            throw new EngineError('INSUFFICIENT_ACCESS', `You can't create ${object.name} records here.`);
          }
          await applyFieldSources(tx, object, 'create', role, values, row, targets);
          if (object.name === 'CartItem') {
            if (row.Type !== 'Charge' && row.ListPrice === null && row.SalesPrice === null) {
              // Add to cart: the line shows the store's price; the pricing step reprices it in checkout.
              const cart = await tx.get('WebCart', String(row.CartId));
              const price = await storePrice(tx, cart?.WebStoreId, row.Product2Id);
              if (price !== null) Object.assign(row, { ListPrice: price, SalesPrice: price });
            }
            row = withDerivedLine(row);
            refuseFreeLine(row, role);
          }
          const cartId = this.cartOf(object, row);
          if (cartId && cancelsCheckout(object, 'create')) await this.leaveOrKeepCheckout(tx, cartId, object, opts);
          await tx.insert(object.name, [row]);
          if ((object.name === 'CartItem' || object.name === 'CartTax') && cartId) await recomputeCart(tx, cartId, now);
        },
        { origin: opts?.origin },
      );
    } catch (e) {
      if (e instanceof UniqueViolation)
        throw new EngineError('DUPLICATE_VALUE', `A ${object.name} with one of these unique values already exists.`);
      throw e;
    }
    return { id, success: true, errors: [] };
  }

  /**
   * A change that cancels the checkout of a cart in Checkout: canceled (cancelIfInCheckout), or,
   * for a CartItem write with `keepCheckout`, kept — refused once the checkout made an order and
   * while a step of it runs.
   */
  private async leaveOrKeepCheckout(tx: Tx, cartId: string, object: ObjectDef, opts: RecordCallOptions | undefined): Promise<void> {
    if (!opts?.keepCheckout || object.name !== 'CartItem') return this.cancelIfInCheckout(tx, cartId, false, object);
    const cart = await tx.get('WebCart', cartId);
    if (cart?.Status !== 'Checkout') return;
    const orders = await ordersOfCart(tx, cartId);
    if (orders.length) {
      throw new EngineError('CART_LOCKED_BY_ORDER', `Its checkout made ${orders.map((o) => String(o.Id)).join(', ')}.`, ['CartId']);
    }
    const session = await findActiveSession(tx, cartId, true);
    if (session?.IsProcessing === true) {
      throw new EngineError(
        'CONFLICT',
        `A step of the cart's checkout is running (NextState '${String(session.NextState)}'); try again when it is done.`,
        ['CartId'],
      );
    }
  }

  /**
   * Cancels the checkout of a cart in Checkout; with `pastFirstState`, only when its session has left
   * the flow's first state (what later steps computed from the written values would be stale).
   * Once the checkout made an order, the write is refused instead (CART_LOCKED_BY_ORDER naming
   * the written object's cart field), as a cart becomes at most one order.
   */
  private async cancelIfInCheckout(tx: Tx, cartId: string, pastFirstState = false, object?: ObjectDef): Promise<void> {
    const cart = await tx.get('WebCart', cartId);
    if (cart?.Status !== 'Checkout') return;
    if (pastFirstState) {
      const session = await findActiveSession(tx, cartId);
      if (session && this.core.flowIds().includes(String(session._flow))) {
        const { flow } = this.core.flow(String(session._flow));
        if (flow.resolve(session.State) === flow.def.steps[0]!.key && session.IsProcessing !== true) return;
      }
    }
    // Once the checkout made an order the cart is locked: the change is refused (src/domain/abandon.ts).
    const fields = [object && object.name !== 'WebCart' ? (CART_CHILDREN[object.name] ?? 'Id') : 'Id'];
    await cancelCheckout(this.core, tx, cartId, this.core.now(), 'cartChange', undefined, fields);
  }

  /**
   * Updates a record as `caller`. A caller still to be read (`CallerRead`) is read with the
   * transaction's first read, the row locked for the write (`readTogether`: one round trip where
   * the backend pipelines statements), and settled first: the call fails as if the caller had been
   * read before it (an unknown caller is INVALID_SESSION whatever else the call met; a failed read
   * of it is the call's failure once the caller read alone fails too). A User write and a flow-mode
   * write read the caller first, as before.
   */
  async update(type: string, id: unknown, fields: unknown, who: CallerRef, opts?: RecordCallOptions): Promise<void> {
    const pending = who instanceof CallerRead && !who.known ? who : null;
    let object: ObjectDef;
    let rid: string;
    try {
      object = requireObject(type);
      rid = requireId(object, id);
    } catch (e) {
      if (pending) await callerAlone(pending);
      throw e;
    }
    const together = pending !== null && object.name !== 'User' && (opts?.mode ?? 'user') === 'user';
    const known = who instanceof CallerRead ? (together ? undefined : (who.known ?? (await callerAlone(who)))) : who;
    /** The checks made before any write, once the caller is known. */
    const prepare = async (caller: Caller) => {
      const access = accessOf(caller, opts);
      let written = fields;
      if (access.flow) {
        // A flow writes back the record it read: what it didn't change isn't part of the write.
        const stored = await this.core.storage.get(object.name, rid);
        if (!stored || !(await rowAccessible(this.core.storage, access.sharer, object.name, stored, 'read'))) {
          throw new EngineError('NOT_FOUND', `No ${object.name} with id ${rid}.`, ['Id']);
        }
        written = changedFields(object, stored, fields);
      }
      refuse(checkObjectWrite(object, 'update', access.permRole));
      const values = validateFields(object.name, written, 'update');
      refuse(checkFieldWrite(object, 'update', access.permRole, values));
      if (object.name === 'User') await prepareUserCredentials(values);
      return { access, values };
    };
    const before = known ? await prepare(known) : undefined;
    const now = this.core.now();
    try {
      await this.core.atomically(
        async (tx) => {
          let checked = before;
          if (!checked) {
            // The caller and the row to change, read together (the row's read is the one requireEditable makes).
            const [user, locked] = await tx.readTogether(
              (o) => o.get('User', pending!.Id),
              (o) => o.get(object.name, rid, { forUpdate: true }),
            );
            const caller = pending!.settle(user);
            if (locked.status === 'rejected') throw locked.reason;
            checked = await prepare(caller);
          }
          const { access, values } = checked;
          const role = access.role;
          const row = await this.requireEditable(tx, access.sharer, object, rid);
          // A password change ends the user's access tokens (in this transaction: only if the change commits).
          if (object.name === 'User' && 'Password' in values) await revokeUserTokens(tx, rid);
          refuse(checkFieldWrite(object, 'update', access.permRole, values, row));
          await this.checkNotFrozen(tx, object, row, role, 'update');
          if (object.name === 'WebCart' && 'Status' in values && values.Status !== row.Status) {
            // The one Status move a buyer makes: a template flow's own Checkout → Closed at Order
            // Confirmation (session-rules closeCartProblem). Every other move follows cartStatusChange,
            // and only ModifyAllData makes those.
            if (row.Status === 'Checkout' && values.Status === 'Closed') {
              const problem = await this.buyerCloseProblem(tx, rid);
              if (problem) throw new EngineError('CART_STATUS_MANAGED', problem.detail, ['Status']);
            } else {
              const bad = cartStatusChange(row.Status, values.Status) ?? (role === 'admin' ? null : 'FIELD_NOT_WRITABLE');
              if (bad) throw new EngineError(bad, `Cart ${rid} is ${String(row.Status)}.`, ['Status']);
            }
          }
          const merged: Row = { ...row, ...values };
          const targets = await checkReferences(tx, access.sharer, object, values, merged);
          await deriveAndMatch(tx, object, merged, values);
          if (!(await rowAccessible(tx, access.sharer, object.name, merged, 'edit'))) {
            throw new EngineError('INSUFFICIENT_ACCESS', `You can't move ${object.name} ${rid} there.`, Object.keys(values));
          }
          const copied = await applyFieldSources(tx, object, 'update', role, values, merged, targets);
          if (object.name === 'CartCheckoutSession') {
            await this.writeSession(tx, row, values, now);
            return;
          }
          let next: Row = { ...values, ...copied, LastModifiedDate: now.toISOString() };
          for (const f of object.fields) if ((f.derivedFrom || f.sameAs) && merged[f.name] !== row[f.name]) next[f.name] = merged[f.name];
          if (object.name === 'CartItem') {
            if (role === 'buyer' && 'Product2Id' in values && values.Product2Id !== row.Product2Id && merged.Type !== 'Charge') {
              const cart = await tx.get('WebCart', String(row.CartId));
              const price = await storePrice(tx, cart?.WebStoreId, values.Product2Id);
              Object.assign(next, { ListPrice: price, SalesPrice: price });
              Object.assign(merged, { ListPrice: price, SalesPrice: price });
            }
            const derived = withDerivedLine(merged);
            refuseFreeLine(derived, role);
            next = {
              ...next,
              TotalLineAmount: derived.TotalLineAmount,
              TotalListPrice: derived.TotalListPrice,
              TotalPrice: derived.TotalPrice,
            };
          }
          const cartId = this.cartOf(object, row);
          if (cartId && cancelsCheckout(object, 'update', values, row)) await this.leaveOrKeepCheckout(tx, cartId, object, opts);
          else if (cartId && cancelsAfterFirstState(object, values, row)) await this.cancelIfInCheckout(tx, cartId, true, object);
          await tx.update(object.name, rid, next);
          if (object.name === 'CartItem' || object.name === 'CartTax') {
            for (const c of new Set([row.CartId, next.CartId].filter((x): x is string => typeof x === 'string')))
              await recomputeCart(tx, c, now);
          }
        },
        { origin: opts?.origin },
      );
    } catch (e) {
      if (e instanceof CallerFailed) throw e.cause;
      // The caller's read failed or was never made: the caller read alone decides, as before the call.
      if (pending) await callerAlone(pending);
      if (e instanceof UniqueViolation)
        throw new EngineError('DUPLICATE_VALUE', `A ${object.name} with one of these unique values already exists.`);
      throw e;
    }
  }

  /**
   * A record write of a session: State is a screen step's move, NextState a claim (session-rules
   * `sessionWriteEvents`), both offered to the statechart; any other statechart field the write
   * names must equal what the statechart made of it. Refusals name the field and change nothing.
   */
  private async writeSession(tx: Tx, session: Row, values: Row, now: Date): Promise<void> {
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

  /** Deletes a record as `caller` (a cart takes its lines, groups, taxes and shares with it; an order its lines). */
  async delete(type: string, id: unknown, caller: Caller, opts?: RecordCallOptions): Promise<void> {
    const object = requireObject(type);
    const rid = requireId(object, id);
    const access = accessOf(caller, opts);
    const role = access.role;
    refuse(checkObjectWrite(object, 'delete', access.permRole));
    const now = this.core.now();
    await this.core.atomically(
      async (tx) => {
        const row = await this.requireEditable(tx, access.sharer, object, rid, deleteAccess(object));
        refuse(checkRowDelete(object, access.permRole, row));
        await this.checkNotFrozen(tx, object, row, role, 'delete');
        // Children that block the delete (a delivery group's lines): refused, naming them; nothing changes.
        const counts: Record<string, number> = {};
        for (const r of object.restrictDelete ?? [])
          counts[r.object] = (await tx.find(r.object, { where: [{ field: r.field, op: '=', value: rid }], limit: 1 })).length;
        refuse(checkRestrictDelete(object, rid, counts));
        const children = async (types: string[], field: (t: string) => string, parent: string) => {
          for (const child of types) {
            const ids = (await tx.find(child, { where: [{ field: field(child), op: '=', value: parent }] })).map((r) => String(r.Id));
            await tx.delete(child, ids);
          }
        };
        if (object.name === 'WebCart') {
          await this.cancelIfInCheckout(tx, rid, false, object);
          await children(CASCADE_FROM_CART, (c) => CART_CHILDREN[c]!, rid);
          await tx.delete('WebCart', [rid]);
          return;
        }
        if (object.name === 'Order') await children(CASCADE_FROM_ORDER, (c) => ORDER_CHILDREN[c]!, rid);
        if (object.name === 'OrderItem') await children(CASCADE_FROM_ORDER_ITEM, () => 'OrderItemId', rid);
        const cartId = this.cartOf(object, row);
        if (cartId && cancelsCheckout(object, 'delete')) await this.leaveOrKeepCheckout(tx, cartId, object, opts);
        if (object.name === 'CartItem') await children(['CartTax'], () => 'CartItemId', rid);
        // An empty delivery group takes its offered delivery methods with it.
        if (object.name === 'CartDeliveryGroup') await children(['CartDeliveryGroupMethod'], () => 'CartDeliveryGroupId', rid);
        await tx.delete(object.name, [rid]);
        if ((object.name === 'CartItem' || object.name === 'CartTax') && typeof row.CartId === 'string')
          await recomputeCart(tx, row.CartId, now);
      },
      { origin: opts?.origin },
    );
  }
}
