/**
 * The Commerce Connect Checkout API (start, get, update, cancel) on the engine's checkout session.
 *
 * A Connect checkout is a CartCheckoutSession of the built-in `connect` flow (src/domain/flow.ts):
 * the caller never names states; the engine drives the session. Every calculator run goes through
 * one function, `runCalculators`, by the buyer action that triggered it (Cart Calculate's
 * `checkoutStarted`, `deliveryGroupChanged`, `deliveryMethodSelected`): it claims and runs the
 * flow's steps with the engine's own actions and checkout runner, so the usage requirements,
 * the compare-and-set claims, the BackgroundOperations and the completion invariants all apply.
 *
 * A run goes on in the background after the request answered 202. While it runs the checkout is
 * locked: GET answers 202 and any other write 409 CHECKOUT_CONFLICT. The lock is this process's
 * (the run's promise, per cart) plus the session's own IsProcessing for a step in flight, which
 * another process sees too; two processes racing for the same claim get one winner from the
 * claim's compare-and-set, and the loser answers 409.
 */
import { EngineError, toEngineError } from '../errors.js';
import type { CheckoutEngine } from '../engine/engine.js';
import type { Caller } from '../engine/facts.js';
import type { InvocationResult } from '../actions/typed.js';
import { ERRORS, type ErrorKey } from '../errors.js';
import type { Row } from '../storage/port.js';
import { idOf, type StoreContext } from './context.js';

/** The session flow of Connect checkouts. */
export const CONNECT_FLOW_ID = 'connect';

/** Where a Connect checkout rests when its calculators are done, with and without an address. */
const READY_STATE = 'paymentAndBillingAddress';
const NO_ADDRESS_STATE = 'calculatePromotions';

/** The buyer actions a calculator run is triggered by (Cart Calculate's CartExtension.BuyerActions). */
export type BuyerAction =
  | { kind: 'checkoutStarted' }
  | { kind: 'deliveryGroupChanged'; keepMethodId?: string | null }
  | { kind: 'deliveryMethodSelected'; deliveryMethodId: string };

/** The Connect data kept on the session (`_connect`). */
export interface ConnectData {
  contactInfo?: Record<string, string | null>;
  payment?: {
    requestType: string;
    token: string | null;
    poNumber: string | null;
    resultCode: string;
    authorizationCode: string | null;
    /** The cart's GrandTotalAmount the payment was made for (a change means the cart changed after it). */
    grandTotal: number;
    /** Earlier authorizations reversed by a re-entry (v63+). */
    reversed: string[];
  };
  /** The last calculator run that failed outside a step (its step failures are the session's own). */
  runError?: string | null;
}

// ── Locks: runs in flight, per engine and cart ─────────────────────────────────────────────────────

const runs = new WeakMap<CheckoutEngine, Map<string, Promise<void>>>();

function runsOf(engine: CheckoutEngine): Map<string, Promise<void>> {
  let m = runs.get(engine);
  if (!m) runs.set(engine, (m = new Map()));
  return m;
}

/** Whether a calculator run or an order placement of this cart is in flight in this process. */
export function isRunning(engine: CheckoutEngine, cartId: string): boolean {
  return runsOf(engine).has(cartId);
}

/** Waits for the cart's run in flight, if any (tests, shutdown). */
export async function settled(engine: CheckoutEngine, cartId?: string): Promise<void> {
  const m = runsOf(engine);
  const list = cartId ? [m.get(cartId)] : [...m.values()];
  for (const p of list) if (p) await p.catch(() => {});
}

/**
 * Takes the cart's lock synchronously (no await between the check and the set, so of two requests
 * in this process exactly one gets it) or throws 409 CHECKOUT_CONFLICT. Returns the release.
 */
export function lock(engine: CheckoutEngine, cartId: string): { release: () => void; hand: (work: () => Promise<void>) => void } {
  const m = runsOf(engine);
  if (m.has(cartId)) throw new EngineError('CHECKOUT_IN_PROGRESS', '', ['checkoutId']);
  let done!: () => void;
  let current: Promise<void> = new Promise<void>((r) => (done = r));
  m.set(cartId, current);
  const release = () => {
    if (m.get(cartId) === current) m.delete(cartId);
    done();
  };
  return {
    release,
    // Hands the lock to background work: released when it ends, whatever the outcome.
    hand: (work) => {
      const p = work().finally(release);
      current = p;
      m.set(cartId, p);
      p.catch(() => {});
    },
  };
}

// ── Lookups ────────────────────────────────────────────────────────────────────────────────────────

/** The error of a failed action result, as the table declares it (same code and status), else CHECKOUT_REFUSED. */
export function resultError(r: InvocationResult, field = 'checkoutId'): EngineError {
  const e = r.errors![0]!;
  const key = (Object.keys(ERRORS) as ErrorKey[]).find((k) => ERRORS[k].code === e.statusCode && ERRORS[k].status === r.httpStatus);
  const err = new EngineError(key ?? 'CHECKOUT_REFUSED', key ? e.message.replace(ERRORS[key].message, '').trim() : e.message, [field]);
  return err;
}

/** Invokes an action as the caller; its outputs, or its error thrown. */
export async function invoke(engine: CheckoutEngine, caller: Caller, action: string, input: Record<string, unknown>, field?: string) {
  const [r] = await engine.invokeAs(caller, action, [input], CONNECT_FLOW_ID);
  if (!r!.isSuccess) throw resultError(r!, field);
  return r!.outputValues ?? {};
}

/**
 * The cart a request names (`active`, or an id) if it is the context account's cart in the
 * context store that the caller can read; anything else answers as missing (404 naming `field`).
 */
export async function resolveCart(engine: CheckoutEngine, ctx: StoreContext, input: unknown, field = 'cartId'): Promise<Row> {
  const missing = () => new EngineError('NOT_FOUND', `${field}: no cart '${String(input)}' in this store for this account.`, [field]);
  if (input === 'active' || input === 'current') {
    const carts = await engine.admin.find('WebCart', {
      where: [
        { field: 'WebStoreId', op: '=', value: ctx.webstoreId },
        { field: 'AccountId', op: '=', value: ctx.accountId },
        { field: 'Status', op: 'in', value: ['Active', 'Checkout', 'PendingClosed'] },
      ],
      orderBy: [{ field: 'LastModifiedDate', direction: 'desc' }],
    });
    for (const c of carts) if (await canRead(engine, ctx.caller, String(c.Id))) return c;
    throw missing();
  }
  if (typeof input !== 'string' || input === '') {
    throw new EngineError('REQUIRED_FIELD_MISSING', `${field}: a cart id or 'active'.`, [field]);
  }
  const id = idOf('WebCart', input, field);
  const cart = await engine.admin.get('WebCart', id);
  if (!cart || cart.WebStoreId !== ctx.webstoreId || cart.AccountId !== ctx.accountId) throw missing();
  if (!(await canRead(engine, ctx.caller, id))) throw missing();
  return cart;
}

async function canRead(engine: CheckoutEngine, caller: Caller, cartId: string): Promise<boolean> {
  try {
    await engine.getRecordAs(caller, 'WebCart', cartId);
    return true;
  } catch (e) {
    if (e instanceof EngineError && (e.status === 404 || e.status === 403 || e.key === 'INSUFFICIENT_ACCESS')) return false;
    throw e;
  }
}

/** A checkout and its cart. */
export interface CheckoutRef {
  readonly session: Row;
  readonly cart: Row;
}

/**
 * The checkout a path names (`active` or a CartCheckoutSession id): the non-archived session of a
 * cart the context account may use; anything else (archived, another account's) answers as missing.
 */
export async function resolveCheckout(engine: CheckoutEngine, ctx: StoreContext, input: unknown): Promise<CheckoutRef> {
  const missing = () =>
    new EngineError('NOT_FOUND', `checkoutId: no checkout '${String(input)}' for this account in this store.`, ['checkoutId']);
  let session: Row | undefined;
  let cart: Row;
  if (input === 'active') {
    try {
      cart = await resolveCart(engine, ctx, 'active', 'checkoutId');
    } catch {
      throw missing();
    }
    session = await activeSession(engine, String(cart.Id));
  } else {
    const id = idOf('CartCheckoutSession', input, 'checkoutId');
    session = await engine.admin.get('CartCheckoutSession', id);
    if (!session || session.IsArchived === true) throw missing();
    try {
      cart = await resolveCart(engine, ctx, String(session.WebCartId), 'checkoutId');
    } catch {
      throw missing();
    }
  }
  if (!session) throw missing();
  return { session, cart };
}

/** The cart's non-archived session (also the one that completed a Closed cart). */
export async function activeSession(engine: CheckoutEngine, cartId: string): Promise<Row | undefined> {
  const [s] = await engine.admin.find('CartCheckoutSession', {
    where: [
      { field: 'WebCartId', op: '=', value: cartId },
      { field: 'IsArchived', op: '=', value: false },
    ],
    limit: 1,
  });
  return s;
}

export function connectData(session: Row): ConnectData {
  try {
    return typeof session._connect === 'string' ? (JSON.parse(session._connect) as ConnectData) : {};
  } catch {
    return {};
  }
}

/** Merges `patch` into the session's Connect data (one small transaction). */
export async function writeConnectData(engine: CheckoutEngine, sessionId: string, patch: Partial<ConnectData>): Promise<void> {
  await engine.core.atomically(async (tx) => {
    const s = await tx.get('CartCheckoutSession', sessionId, { forUpdate: true });
    if (!s) return;
    await tx.update('CartCheckoutSession', sessionId, { _connect: JSON.stringify({ ...connectData(s), ...patch }) });
  });
}

// ── Input ──────────────────────────────────────────────────────────────────────────────────────────

const ADDRESS_FIELDS: Record<string, string> = {
  name: 'DeliverToName',
  firstName: 'DeliverToFirstName',
  lastName: 'DeliverToLastName',
  companyName: 'CompanyName',
  street: 'DeliverToStreet',
  city: 'DeliverToCity',
  region: 'DeliverToState',
  postalCode: 'DeliverToPostalCode',
  country: 'DeliverToCountry',
};

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A CheckoutAddressInput as CartDeliveryGroup fields: `{id}` of a ContactPointAddress of the
 * context account (another account's answers as missing), or the address fields (street, city and
 * country required). `field` names the input in errors.
 */
export async function deliveryFields(engine: CheckoutEngine, ctx: StoreContext, input: unknown, field: string): Promise<Row> {
  if (!isObject(input)) throw new EngineError('INVALID_INPUT', `${field} must be an object: {id} or address fields.`, [field]);
  for (const [k, v] of Object.entries(input)) {
    if (k !== 'id' && !(k in ADDRESS_FIELDS))
      throw new EngineError(
        'INVALID_INPUT',
        `${field}.${k} is not an address field (${['id', ...Object.keys(ADDRESS_FIELDS)].join(', ')}).`,
        [`${field}.${k}`],
      );
    if (v !== null && typeof v !== 'string') throw new EngineError('INVALID_INPUT', `${field}.${k} must be a string.`, [`${field}.${k}`]);
    if (typeof v === 'string' && v.length > 255)
      throw new EngineError('INVALID_INPUT', `${field}.${k} is longer than 255 characters.`, [`${field}.${k}`]);
  }
  if (input.id !== undefined && input.id !== null) {
    const id = idOf('ContactPointAddress', input.id, `${field}.id`);
    const cpa = await engine.admin.get('ContactPointAddress', id);
    if (!cpa || cpa.ParentId !== ctx.accountId) {
      throw new EngineError('NOT_FOUND', `${field}.id: no address '${String(input.id)}' of this account.`, [`${field}.id`]);
    }
    return {
      DeliverToName: cpa.Name ?? null,
      DeliverToStreet: cpa.Street ?? null,
      DeliverToCity: cpa.City ?? null,
      DeliverToState: cpa.StateCode ?? cpa.State ?? null,
      DeliverToPostalCode: cpa.PostalCode ?? null,
      DeliverToCountry: cpa.CountryCode ?? cpa.Country ?? null,
    };
  }
  for (const req of ['street', 'city', 'country']) {
    const v = input[req];
    if (typeof v !== 'string' || v.trim() === '')
      throw new EngineError('REQUIRED_FIELD_MISSING', `${field}.${req} (or ${field}.id of a saved address).`, [`${field}.${req}`]);
  }
  const out: Row = {};
  for (const [k, col] of Object.entries(ADDRESS_FIELDS)) out[col] = typeof input[k] === 'string' ? (input[k] as string).trim() : null;
  return out;
}

/** `customFields`: accepted only as an empty list (custom fields of WebCart and CartDeliveryGroup aren't supported). */
export function checkCustomFields(v: unknown): void {
  if (v === undefined || v === null) return;
  if (!Array.isArray(v)) throw new EngineError('INVALID_INPUT', 'customFields must be a list.', ['customFields']);
  if (v.length > 0)
    throw new EngineError(
      'INVALID_INPUT',
      'customFields: custom fields of WebCart and CartDeliveryGroup are not supported by this engine.',
      ['customFields'],
    );
}

const hasAddress = (g: Row) =>
  ['DeliverToStreet', 'DeliverToCity', 'DeliverToCountry'].every((k) => typeof g[k] === 'string' && g[k] !== '');

async function groupsOf(engine: CheckoutEngine, cartId: string): Promise<Row[]> {
  return engine.admin.find('CartDeliveryGroup', {
    where: [{ field: 'CartId', op: '=', value: cartId }],
    orderBy: [{ field: 'Id', direction: 'asc' }],
  });
}

/** Writes delivery-group fields (the engine's own write: a Connect address change re-runs shipping instead of canceling). */
async function writeGroups(engine: CheckoutEngine, cartId: string, fields: Row): Promise<void> {
  if (!Object.keys(fields).length) return;
  await engine.core.atomically(async (tx) => {
    const stamp = engine.core.now().toISOString();
    for (const g of await tx.find('CartDeliveryGroup', { where: [{ field: 'CartId', op: '=', value: cartId }] })) {
      await tx.update('CartDeliveryGroup', String(g.Id), { ...fields, LastModifiedDate: stamp });
    }
  });
}

/** Clears the cart's payment information (a delivery method change invalidates it, as Salesforce documents). */
async function clearPayment(engine: CheckoutEngine, session: Row): Promise<void> {
  await engine.core.atomically(async (tx) => {
    const fields: Row = { PaymentMethodId: null, PoNumber: null, LastModifiedDate: engine.core.now().toISOString() };
    for (const part of ['Street', 'City', 'State', 'PostalCode', 'Country']) fields[`Billing${part}`] = null;
    await tx.update('WebCart', String(session.WebCartId), fields);
    const s = await tx.get('CartCheckoutSession', String(session.Id), { forUpdate: true });
    if (s) await tx.update('CartCheckoutSession', String(s.Id), { _connect: JSON.stringify({ ...connectData(s), payment: undefined }) });
  });
}

// ── The calculator run ─────────────────────────────────────────────────────────────────────────────

/** The delivery methods offered to every delivery group of the cart. */
async function offeredToAll(engine: CheckoutEngine, cartId: string): Promise<Set<string>> {
  const groups = await groupsOf(engine, cartId);
  const options = await engine.admin.find('CartDeliveryGroupMethod', { where: [{ field: 'WebCartId', op: '=', value: cartId }] });
  const count = new Map<string, number>();
  for (const o of options) count.set(String(o.DeliveryMethodId), (count.get(String(o.DeliveryMethodId)) ?? 0) + 1);
  return new Set([...count].filter(([, n]) => n === groups.length).map(([id]) => id));
}

/**
 * THE calculator run of a Connect checkout, by buyer action (see the module comment):
 * - `checkoutStarted`: inventory, pricing, promotions; with an address also shipping, the delivery
 *   method (the cheapest offered to every group) and taxes;
 * - `deliveryGroupChanged`: shipping again (the kept method if still offered, else the cheapest), then taxes;
 * - `deliveryMethodSelected`: the method on every group, then taxes.
 * A step that fails leaves the session in error (GET answers 422 with its validation outputs).
 */
export async function runCalculators(engine: CheckoutEngine, caller: Caller, cartId: string, action: BuyerAction): Promise<void> {
  const userId = caller.Id;
  let session = await activeSession(engine, cartId);
  if (!session) return;
  const state = String(session.State);
  if (action.kind === 'checkoutStarted') {
    const address = (await groupsOf(engine, cartId)).every(hasAddress);
    await runTo(engine, cartId, userId, address ? READY_STATE : NO_ADDRESS_STATE, undefined);
    return;
  }
  if (action.kind === 'deliveryGroupChanged') {
    // Still before shipping (started without an address): the checkout goes on from where it rests.
    if (state !== NO_ADDRESS_STATE && state !== 'start' && state !== 'inventory' && state !== 'confirmPrice') {
      await invoke(engine, caller, 'updateCheckoutSessionStateAction', {
        checkoutSessionId: String(session.Id),
        expCurrentState: state,
        nextState: 'shippingCost',
      });
      await invoke(engine, caller, 'calcCartShipmentAction', { cartId, runAsync: false });
      session = await activeSession(engine, cartId);
      if (!session || session.IsError === true) return;
    }
    const keep = action.keepMethodId && (await offeredToAll(engine, cartId)).has(action.keepMethodId) ? action.keepMethodId : undefined;
    await runTo(engine, cartId, userId, READY_STATE, keep);
    return;
  }
  // deliveryMethodSelected: back to the delivery method screen, the method, then taxes.
  if (state !== 'deliveryMethod') {
    await engine.updateRecordAs(caller, 'CartCheckoutSession', String(session.Id), { State: 'deliveryMethod' });
  }
  await invoke(engine, caller, 'setCheckoutDeliveryMethod', { cartId, deliveryMethodId: action.deliveryMethodId }, 'deliveryMethodId');
  await runTo(engine, cartId, userId, READY_STATE, undefined);
}

/** The engine's checkout runner up to `stopAt` (the flow's forward edges), failing the run on a refusal. */
async function runTo(engine: CheckoutEngine, cartId: string, userId: string, stopAt: string, deliveryMethodId: string | undefined) {
  const run = await engine.runCheckout(cartId, { userId, stopAt, answers: deliveryMethodId ? { deliveryMethodId } : {} });
  return run;
}

/** Starts `runCalculators` in the background under the cart's lock; a failure outside a step is kept for GET. */
export function startRun(
  engine: CheckoutEngine,
  held: ReturnType<typeof lock>,
  caller: Caller,
  sessionId: string,
  cartId: string,
  action: BuyerAction,
) {
  held.hand(async () => {
    try {
      await writeConnectData(engine, sessionId, { runError: null });
      await runCalculators(engine, caller, cartId, action);
    } catch (e) {
      if (engine.core.closed) return;
      const err = toEngineError(e);
      if (!(e instanceof EngineError)) engine.core.onInternalError(e);
      await writeConnectData(engine, sessionId, { runError: err.message }).catch(() => {});
    }
  });
}

// ── The endpoints' services ────────────────────────────────────────────────────────────────────────

/** POST/PUT checkouts: get or create the session and run the calculators of a start. Answers the checkout id. */
export async function startCheckout(engine: CheckoutEngine, ctx: StoreContext, body: unknown): Promise<{ checkoutId: string }> {
  const input = isObject(body) ? body : {};
  if (!isObject(body) && body !== undefined && body !== null) throw new EngineError('INVALID_INPUT', 'The body must be a JSON object.', []);
  for (const k of Object.keys(input))
    if (!['cartId', 'deliveryAddress', 'customFields', 'effectiveAccountId'].includes(k))
      throw new EngineError('INVALID_INPUT', `Unknown field '${k}' (cartId, deliveryAddress, customFields).`, [k]);
  checkCustomFields(input.customFields);
  const cart = await resolveCart(engine, ctx, input.cartId ?? 'active', 'cartId');
  const cartId = String(cart.Id);
  const address =
    input.deliveryAddress === undefined || input.deliveryAddress === null
      ? null
      : await deliveryFields(engine, ctx, input.deliveryAddress, 'deliveryAddress');
  const existing = await activeSession(engine, cartId);
  if (existing) {
    // Salesforce answers the existing checkout.
    if (existing._flow !== CONNECT_FLOW_ID) throw new EngineError('CHECKOUT_NOT_CONNECT', '', ['cartId']);
    if (
      address &&
      !isRunning(engine, cartId) &&
      existing.IsProcessing !== true &&
      !['PendingClosed', 'Closed'].includes(String(cart.Status))
    ) {
      const held = lock(engine, cartId);
      try {
        await writeGroups(engine, cartId, address);
      } catch (e) {
        held.release();
        throw e;
      }
      startRun(engine, held, ctx.caller, String(existing.Id), cartId, { kind: 'deliveryGroupChanged', keepMethodId: null });
    }
    return { checkoutId: String(existing.Id) };
  }
  const held = lock(engine, cartId);
  let sessionId: string;
  try {
    if (address) await writeGroups(engine, cartId, address);
    const out = await invoke(engine, ctx.caller, 'checkoutSessionAction', { cartId }, 'cartId');
    sessionId = String(out.requestId);
  } catch (e) {
    held.release();
    throw e;
  }
  startRun(engine, held, ctx.caller, sessionId, cartId, { kind: 'checkoutStarted' });
  return { checkoutId: sessionId };
}

/** Whether the checkout is busy: a run in this process, or a step in flight. */
export function isBusy(engine: CheckoutEngine, ref: CheckoutRef): boolean {
  return isRunning(engine, String(ref.cart.Id)) || ref.session.IsProcessing === true;
}

/** The Checkout Error items of a checkout in error: the error-level validation outputs of its failed step, or the run's failure. */
async function checkoutErrors(engine: CheckoutEngine, ref: CheckoutRef): Promise<{ type: string; title: string; detail: string }[]> {
  const errors: { type: string; title: string; detail: string }[] = [];
  const title = 'We are unable to continue the checkout. Please correct the error and try again.';
  if (ref.session.IsError === true && ref.session.BackgroundOperationId) {
    const cvos = await engine.admin.find('CartValidationOutput', {
      where: [
        { field: 'BackgroundOperationId', op: '=', value: ref.session.BackgroundOperationId },
        { field: 'Level', op: '=', value: 'Error' },
      ],
    });
    for (const v of cvos)
      errors.push({ type: `/commerce/errors/${String(v.Type).toLowerCase()}-failure`, title, detail: String(v.Message) });
    if (!errors.length) {
      const op = await engine.admin.get('BackgroundOperation', String(ref.session.BackgroundOperationId));
      errors.push({ type: '/commerce/errors/checkout-failure', title, detail: String(op?.Error ?? 'A calculator failed.') });
    }
  }
  const runError = connectData(ref.session).runError;
  if (runError) errors.push({ type: '/commerce/errors/checkout-failure', title, detail: runError });
  return errors;
}

/** The Checkout output and its HTTP status: 202 while calculators run, 422 when one failed, else 200. */
export async function checkoutOutput(
  engine: CheckoutEngine,
  ctx: StoreContext,
  ref: CheckoutRef,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const cartId = String(ref.cart.Id);
  const placing = ref.cart.Status === 'PendingClosed' || ref.cart.Status === 'Closed';
  const errors = await checkoutErrors(engine, ref);
  const status = errors.length ? 422 : isBusy(engine, ref) && !placing ? 202 : 200;
  const groups = await groupsOf(engine, cartId);
  const options = await engine.admin.find('CartDeliveryGroupMethod', { where: [{ field: 'WebCartId', op: '=', value: cartId }] });
  const methods = new Map<string, Row>();
  for (const m of await engine.admin.find('OrderDeliveryMethod', {
    where: [{ field: 'Id', op: 'in', value: [...new Set(options.map((o) => String(o.DeliveryMethodId)))] }],
  })) {
    methods.set(String(m.Id), m);
  }
  const methodOut = (o: Row) => {
    const m = methods.get(String(o.DeliveryMethodId));
    return {
      id: String(o.DeliveryMethodId),
      name: String(o.Name ?? m?.Name ?? ''),
      shippingFee: String(Number(o.ShippingFee ?? 0).toFixed(2)),
      currencyIsoCode: String(ref.cart.CurrencyIsoCode ?? 'USD'),
      carrier: (o.Carrier ?? m?.Carrier ?? null) as string | null,
      classOfService: (o.ClassOfService ?? m?.ClassOfService ?? null) as string | null,
    };
  };
  const items = groups.map((g, i) => {
    const available = options.filter((o) => o.CartDeliveryGroupId === g.Id).map(methodOut);
    const selected = available.find((a) => a.id === g.DeliveryMethodId);
    return {
      id: String(g.Id),
      name: String(g.Name),
      isDefault: i === 0,
      deliveryAddress: {
        name: g.DeliverToName ?? null,
        firstName: g.DeliverToFirstName ?? null,
        lastName: g.DeliverToLastName ?? null,
        companyName: g.CompanyName ?? null,
        street: g.DeliverToStreet ?? null,
        city: g.DeliverToCity ?? null,
        region: g.DeliverToState ?? null,
        postalCode: g.DeliverToPostalCode ?? null,
        country: g.DeliverToCountry ?? null,
      },
      availableDeliveryMethods: available,
      ...(selected ? { selectedDeliveryMethod: selected } : {}),
      desiredDeliveryDate: g.DesiredDeliveryDate ?? null,
      shippingInstructions: g.ShippingInstructions ?? null,
    };
  });
  const data = connectData(ref.session);
  const body: Record<string, unknown> = {
    checkoutId: String(ref.session.Id),
    deliveryGroups: { count: items.length, items },
    contactInfo: data.contactInfo ?? null,
    errors,
  };
  if (ctx.version >= 57) body.statusCode = String(status);
  if (ctx.version >= 61) {
    const cart = (await engine.admin.get('WebCart', cartId)) ?? ref.cart;
    const money = (k: string) => String(Number(cart[k] ?? 0).toFixed(2));
    body.cartSummary = {
      cartId,
      status: String(cart.Status),
      currencyIsoCode: String(cart.CurrencyIsoCode ?? 'USD'),
      totalListPrice: money('TotalListPrice'),
      totalProductAmount: money('TotalProductAmount'),
      totalChargeAmount: money('TotalChargeAmount'),
      totalTaxAmount: money('TotalTaxAmount'),
      totalAdjustmentAmount: money('TotalAdjustmentAmount'),
      grandTotalAmount: money('GrandTotalAmount'),
      uniqueProductCount: Number(cart.UniqueProductCount ?? 0),
    };
    body.orderReferenceNumber = placing ? String(ref.session.Id) : null;
  }
  if (ctx.version >= 62) body.customFields = [];
  return { status, body };
}

const CONTACT_FIELDS = ['email', 'firstName', 'lastName', 'phoneNumber'];

/**
 * PATCH checkouts/{id}: contact info, delivery address, delivery method, desired date and
 * instructions; an address change re-runs shipping and taxes, a method change re-runs taxes (and
 * clears the payment). Answers once the writes are done and the run has started (202).
 */
export async function updateCheckout(engine: CheckoutEngine, ctx: StoreContext, checkoutId: unknown, body: unknown): Promise<CheckoutRef> {
  if (!isObject(body)) throw new EngineError('INVALID_INPUT', 'The body must be a JSON object.', []);
  const known = [
    'contactInfo',
    'deliveryAddress',
    'deliveryMethodId',
    'desiredDeliveryDate',
    'shippingInstructions',
    'customFields',
    'effectiveAccountId',
  ];
  for (const k of Object.keys(body))
    if (!known.includes(k)) throw new EngineError('INVALID_INPUT', `Unknown field '${k}' (${known.slice(0, 6).join(', ')}).`, [k]);
  checkCustomFields(body.customFields);
  let contact: Record<string, string | null> | undefined;
  if (body.contactInfo !== undefined) {
    if (!isObject(body.contactInfo)) throw new EngineError('INVALID_INPUT', 'contactInfo must be an object.', ['contactInfo']);
    contact = {};
    for (const [k, v] of Object.entries(body.contactInfo)) {
      if (!CONTACT_FIELDS.includes(k))
        throw new EngineError('INVALID_INPUT', `contactInfo.${k} is not a contact field (${CONTACT_FIELDS.join(', ')}).`, [
          `contactInfo.${k}`,
        ]);
      if (v !== null && (typeof v !== 'string' || v.length > 255))
        throw new EngineError('INVALID_INPUT', `contactInfo.${k} must be a string (255 characters at most).`, [`contactInfo.${k}`]);
      contact[k] = v as string | null;
    }
    if (typeof contact.email === 'string' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(contact.email))
      throw new EngineError('INVALID_INPUT', `contactInfo.email '${contact.email}' is not an email address.`, ['contactInfo.email']);
  }
  const groupFields: Row = {};
  if (body.desiredDeliveryDate !== undefined) {
    const d = body.desiredDeliveryDate;
    if (d !== null && (typeof d !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(d) || Number.isNaN(Date.parse(d.slice(0, 10)))))
      throw new EngineError('INVALID_INPUT', 'desiredDeliveryDate must be a date (YYYY-MM-DD).', ['desiredDeliveryDate']);
    groupFields.DesiredDeliveryDate = d === null ? null : d.slice(0, 10);
  }
  if (body.shippingInstructions !== undefined) {
    const v = body.shippingInstructions;
    if (v !== null && (typeof v !== 'string' || v.length > 255))
      throw new EngineError('INVALID_INPUT', 'shippingInstructions must be a string (255 characters at most).', ['shippingInstructions']);
    groupFields.ShippingInstructions = v;
  }
  let methodId: string | undefined;
  if (body.deliveryMethodId !== undefined) methodId = idOf('OrderDeliveryMethod', body.deliveryMethodId, 'deliveryMethodId');
  const ref = await resolveCheckout(engine, ctx, checkoutId);
  const address = body.deliveryAddress === undefined ? null : await deliveryFields(engine, ctx, body.deliveryAddress, 'deliveryAddress');
  const cartId = String(ref.cart.Id);
  if (ref.session._flow !== CONNECT_FLOW_ID) throw new EngineError('CHECKOUT_NOT_CONNECT', '', ['checkoutId']);
  const held = lock(engine, cartId);
  try {
    // Re-read under the lock: the session as it is now (another process may have moved it).
    const session = await engine.admin.get('CartCheckoutSession', String(ref.session.Id));
    if (!session || session.IsArchived === true)
      throw new EngineError('NOT_FOUND', `checkoutId: no checkout '${String(checkoutId)}'.`, ['checkoutId']);
    if (session.IsProcessing === true) throw new EngineError('CHECKOUT_IN_PROGRESS', '', ['checkoutId']);
    const cart = (await engine.admin.get('WebCart', cartId))!;
    if (cart.Status !== 'Checkout')
      throw new EngineError('CHECKOUT_REFUSED', `The cart is ${String(cart.Status)}: the order is placed or being placed.`, ['checkoutId']);
    if (session.IsError === true && (address || methodId))
      throw new EngineError('CHECKOUT_REFUSED', 'A calculator failed: cancel the checkout (DELETE) and start again.', ['checkoutId']);
    if (methodId) {
      const state = String(session.State);
      if (!['deliveryMethod', 'taxes', READY_STATE].includes(state) && !address)
        throw new EngineError('CHECKOUT_REFUSED', 'No delivery methods are offered yet: set a delivery address first.', [
          'deliveryMethodId',
        ]);
      if (!address && !(await offeredToAll(engine, cartId)).has(methodId))
        throw new EngineError(
          'INVALID_INPUT',
          `deliveryMethodId: '${methodId}' is not one of the delivery group's available delivery methods.`,
          ['deliveryMethodId'],
        );
    }
    if (contact)
      await writeConnectData(engine, String(session.Id), { contactInfo: { ...(connectData(session).contactInfo ?? {}), ...contact } });
    await writeGroups(engine, cartId, { ...groupFields, ...(address ?? {}) });
    if (methodId) await clearPayment(engine, session);
    if (address) {
      const current = (await groupsOf(engine, cartId))[0]?.DeliveryMethodId as string | undefined;
      startRun(engine, held, ctx.caller, String(session.Id), cartId, {
        kind: 'deliveryGroupChanged',
        keepMethodId: methodId ?? current ?? null,
      });
    } else if (methodId) {
      startRun(engine, held, ctx.caller, String(session.Id), cartId, { kind: 'deliveryMethodSelected', deliveryMethodId: methodId });
    } else {
      held.release();
    }
  } catch (e) {
    held.release();
    throw e;
  }
  return resolveCheckout(engine, ctx, String(ref.session.Id));
}

/** DELETE checkouts/{id}: cancels the checkout (cancelCartAsyncOperation's rules); 409 while a call is in progress. */
export async function cancelCheckout(engine: CheckoutEngine, ctx: StoreContext, checkoutId: unknown): Promise<void> {
  const ref = await resolveCheckout(engine, ctx, checkoutId);
  const cartId = String(ref.cart.Id);
  if (ref.cart.Status === 'PendingClosed')
    throw new EngineError('CHECKOUT_REFUSED', 'The order is being placed: the checkout can no longer be canceled.', ['checkoutId']);
  const held = lock(engine, cartId);
  try {
    await invoke(engine, ctx.caller, 'cancelCartAsyncOperation', { cartId }, 'checkoutId');
  } finally {
    held.release();
  }
}
