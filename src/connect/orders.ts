/**
 * The Connect Checkout API's place order (`checkouts/{id}/orders`, and v64's `orders/actions`
 * prepare / submit).
 *
 * Place order checks what the order needs (delivery method, payment, an unchanged cart since the
 * payment, contact info), then in this order: the cart becomes PendingClosed, the session moves to
 * `checkoutSummary`, and cartToOrder is claimed and queued as a durable BackgroundOperation (New).
 * The answer (201, the order reference number = the checkout id) comes after those commits. The
 * rest — the order (cartToOrder, exactly once per session: the engine's unique `_sessionId` key),
 * the payment authorization, activation with its OrderSummary under the completion invariants, and
 * the cart Closed — is the engine's checkout runner in the background. After a crash, the worker
 * recovers the queued operation and `resumePlacements` (run by the library's createCheckoutEngine
 * on start, and again when the Connect routes start) runs the runner again for every PendingClosed
 * cart, which continues from the stored session.
 */
import { EngineError, toEngineError } from '../errors.js';
import type { CheckoutEngine } from '../engine/engine.js';
import { loadCaller } from '../engine/facts.js';
import type { Row } from '../storage/port.js';
import { COMPLETION_INVARIANTS, parseStamps, type Computation } from '../domain/completion-invariants.js';
import { loadCompletionFacts } from '../engine/completion.js';
import type { StoreContext } from './context.js';
import {
  activeSession,
  connectData,
  CONNECT_FLOW_ID,
  invoke,
  isRunning,
  lock,
  lockCheckout,
  lockedInDatabase,
  type Arrival,
  resolveCheckout,
  writeConnectData,
  type CheckoutRef,
} from './checkouts.js';

const ORDER_ERROR_TITLE = 'We are unable to place the order. Please correct the error and try again.';

/** The computations an order needs, each stamped on the session by a successful calculation. */
const NEEDED: readonly Computation[] = ['inventory', 'pricing', 'promotions', 'shipping', 'taxes'];

/** What placing the order of `ref` lacks, as the error the Connect API answers, or null. */
async function placeProblem(engine: CheckoutEngine, ctx: StoreContext, ref: CheckoutRef): Promise<EngineError | null> {
  const { session } = ref;
  const cart = (await engine.admin.get('WebCart', String(ref.cart.Id)))!;
  if (session.IsError === true)
    return new EngineError('CHECKOUT_UNPROCESSABLE', 'A calculator failed: read the checkout errors, cancel and start again.', [
      'checkoutId',
    ]);
  const groups = await engine.admin.find('CartDeliveryGroup', { where: [{ field: 'CartId', op: '=', value: String(cart.Id) }] });
  const items = await engine.admin.find('CartItem', { where: [{ field: 'CartId', op: '=', value: String(cart.Id) }] });
  const used = new Set(items.filter((i) => i.Type !== 'Charge').map((i) => String(i.CartDeliveryGroupId)));
  if (used.size === 0) return new EngineError('CHECKOUT_UNPROCESSABLE', 'Looks like your cart is empty.', ['checkoutId']);
  if (session.State !== 'paymentAndBillingAddress' || groups.some((g) => used.has(String(g.Id)) && !g.DeliveryMethodId))
    return new EngineError('CHECKOUT_UNPROCESSABLE', 'A delivery group has no delivery method: set a delivery address and method first.', [
      'deliveryMethodId',
    ]);
  const computed = parseStamps(session._stamps).computed ?? {};
  const uncomputed = NEEDED.filter((c) => computed[c] === undefined);
  if (uncomputed.length)
    return new EngineError('CHECKOUT_UNPROCESSABLE', `The checkout isn't calculated (${uncomputed.join(', ')}).`, ['checkoutId']);
  const data = connectData(session);
  const total = Number(cart.GrandTotalAmount ?? 0);
  if (data.payment && data.payment.grandTotal !== total)
    return new EngineError(
      'CHECKOUT_CART_CHANGED',
      `Paid for ${data.payment.grandTotal.toFixed(2)}, the cart is now ${total.toFixed(2)}.`,
      ['checkoutId'],
    );
  const paid =
    (data.payment && cart.PaymentMethodId === data.payment.token && data.payment.resultCode === 'Success' && data.payment.token) ||
    (typeof cart.PoNumber === 'string' && cart.PoNumber.trim() !== '');
  if (!paid && total > 0)
    return new EngineError('CHECKOUT_UNPROCESSABLE', 'The checkout has no authorized payment: submit a payment first.', ['paymentToken']);
  // The stock the inventory calculator reserved must still be held for every line (the order keeps
  // it): a reservation released since (expired, or taken back by the store) is v63's 412 (422 before).
  const stock = await stockProblem(engine, session);
  if (stock)
    return new EngineError(
      ctx.version >= 63 ? 'CHECKOUT_PRECONDITION' : 'CHECKOUT_UNPROCESSABLE',
      `Inventory reservation failed: the stock is no longer available (${stock}): cancel the checkout (DELETE) and start it again to reserve it anew.`,
      ['cartItems'],
    );
  if (ctx.version >= 63 && data.contactInfo) {
    const missing = ['email', 'firstName', 'lastName'].filter(
      (k) => typeof data.contactInfo![k] !== 'string' || data.contactInfo![k] === '',
    );
    if (missing.length)
      return new EngineError(
        'CHECKOUT_PRECONDITION',
        `The contact info is incomplete: ${missing.map((k) => `contactInfo.${k}`).join(', ')}.`,
        missing.map((k) => `contactInfo.${k}`),
      );
  }
  return null;
}

const STOCK_HELD = COMPLETION_INVARIANTS.find((i) => i.id === 'stock-held')!;

/** What the engine's `stock-held` invariant would refuse at Cart to Order for this session, or null. */
async function stockProblem(engine: CheckoutEngine, session: Row): Promise<string | null> {
  return engine.core.atomically(async (tx) => {
    const facts = await loadCompletionFacts(engine.core, tx, 'cartToOrder', session);
    return STOCK_HELD.check(facts)?.detail.replace(/: check the cart inventory again\.?$/, '') ?? null;
  });
}

/** POST checkouts/{id}/orders: places the order (see the module comment). A cart already PendingClosed or Closed answers its order reference number again. */
export async function placeOrder(
  engine: CheckoutEngine,
  ctx: StoreContext,
  checkoutId: unknown,
  arrival?: Arrival,
  resolved?: CheckoutRef,
): Promise<{ orderReferenceNumber: string }> {
  // `resolved`: the checkout read with the store context (resolveCheckoutContext), else resolved here as always.
  const ref = resolved ?? (await resolveCheckout(engine, ctx, checkoutId));
  const cartId = String(ref.cart.Id);
  const orn = String(ref.session.Id);
  if (ref.session._flow !== CONNECT_FLOW_ID) throw new EngineError('CHECKOUT_NOT_CONNECT', '', ['checkoutId']);
  if (ref.cart.Status === 'PendingClosed' || ref.cart.Status === 'Closed') {
    // Continued here unless it runs already, in this process or (its lock live in the database) another.
    if (ref.cart.Status === 'PendingClosed' && !isRunning(engine, cartId) && !lockedInDatabase(ref.session))
      continuePlacement(engine, cartId);
    return { orderReferenceNumber: orn };
  }
  if (ref.session.IsProcessing === true) throw new EngineError('CHECKOUT_IN_PROGRESS', '', ['checkoutId']);
  const held = await lockCheckout(engine, ref, arrival);
  try {
    const session = (await engine.admin.get('CartCheckoutSession', orn))!;
    const problem = await placeProblem(engine, ctx, { session, cart: ref.cart });
    if (problem) throw problem;
    await markPendingClosed(engine, cartId);
  } catch (e) {
    await held.release();
    throw e;
  }
  held.hand(() => place(engine, cartId, ctx.caller.Id));
  return { orderReferenceNumber: orn };
}

/** Checkout → PendingClosed (compare-and-set on the status: a cart that moved meanwhile is a conflict). */
async function markPendingClosed(engine: CheckoutEngine, cartId: string): Promise<void> {
  const n = await engine.core.atomically((tx) =>
    tx.updateWhere(
      'WebCart',
      [
        { field: 'Id', op: '=', value: cartId },
        { field: 'Status', op: '=', value: 'Checkout' },
      ],
      { Status: 'PendingClosed', LastModifiedDate: engine.core.now().toISOString() },
    ),
  );
  if (!n) throw new EngineError('CHECKOUT_IN_PROGRESS', 'The cart changed meanwhile.', ['checkoutId']);
}

/**
 * The placement of a PendingClosed cart's order: queue cartToOrder durably (when the session still
 * rests before it), then the engine's runner to the end. Idempotent: each piece continues from the
 * stored session.
 */
async function place(engine: CheckoutEngine, cartId: string, userId: string): Promise<void> {
  try {
    const caller = await loadCaller(engine.core.storage, userId);
    const session = await activeSession(engine, cartId);
    if (!session) return;
    if (session.IsProcessing !== true && session.State === 'paymentAndBillingAddress') {
      await engine.updateRecordAs(caller, 'CartCheckoutSession', String(session.Id), { State: 'checkoutSummary' });
    }
    const now = await activeSession(engine, cartId);
    if (now && now.IsProcessing !== true && now.State === 'checkoutSummary') {
      await invoke(engine, caller, 'updateCheckoutSessionStateAction', {
        checkoutSessionId: String(now.Id),
        expCurrentState: 'checkoutSummary',
        nextState: 'cartToOrder',
      });
      // Durable: a New BackgroundOperation the worker (this process's or, after a crash, the next one's) runs.
      await invoke(engine, caller, 'cartToOrderAction', { cartId, runAsync: true });
    }
    const run = await engine.runCheckout(cartId, { userId });
    if (run.status === 'error') {
      const detail = run.errors.join(' ') || 'The order could not be placed.';
      await writeConnectData(engine, run.sessionId, {
        errors: [{ type: '/commerce/errors/order-failure', title: ORDER_ERROR_TITLE, detail }],
      });
    }
  } catch (e) {
    if (engine.core.closed) return; // shutting down: resumed by the next start
    if (!(e instanceof EngineError)) engine.core.onInternalError(e);
    const s = await activeSession(engine, cartId).catch(() => undefined);
    const detail = toEngineError(e).message;
    if (s)
      await writeConnectData(engine, String(s.Id), {
        errors: [{ type: '/commerce/errors/order-failure', title: ORDER_ERROR_TITLE, detail }],
      }).catch(() => {});
  }
}

/** Runs the placement of a PendingClosed cart in the background under its lock (no-op when one runs). */
function continuePlacement(engine: CheckoutEngine, cartId: string, ownerId?: string): void {
  let held: ReturnType<typeof lock>;
  try {
    held = lock(engine, cartId);
  } catch {
    return;
  }
  held.hand(async () => {
    const cart = await engine.admin.get('WebCart', cartId);
    const owner = ownerId ?? (cart?.OwnerId as string | undefined);
    if (owner) await place(engine, cartId, owner);
  });
}

/**
 * After a restart: every PendingClosed cart of a Connect checkout continues its placement (as its
 * owner). Called on engine start (src/index.ts wires it) and when the Connect routes start; a cart
 * whose placement already runs in this process is skipped.
 */
export async function resumePlacements(engine: CheckoutEngine): Promise<number> {
  const carts = await engine.admin.find('WebCart', { where: [{ field: 'Status', op: '=', value: 'PendingClosed' }] });
  let n = 0;
  for (const c of carts) {
    const s = await activeSession(engine, String(c.Id));
    if (!s || s._flow !== CONNECT_FLOW_ID) continue;
    continuePlacement(engine, String(c.Id), (c.OwnerId as string | null) ?? undefined);
    n++;
  }
  return n;
}

/** POST checkouts/{id}/orders/actions (v64): `prepare` checks what the order needs; `submit` places it. */
export async function orderActions(
  engine: CheckoutEngine,
  ctx: StoreContext,
  checkoutId: unknown,
  body: unknown,
  arrival?: Arrival,
  resolved?: CheckoutRef,
): Promise<Row> {
  const actions = (body as { actions?: unknown } | null)?.actions;
  if (!Array.isArray(actions) || actions.length !== 1)
    throw new EngineError('INVALID_INPUT', 'actions must be a list of one action: [{ "action": "prepare" }] or [{ "action": "submit" }].', [
      'actions',
    ]);
  const a = actions[0] as { action?: unknown; parameters?: unknown } | null;
  if (!a || typeof a !== 'object' || (a.action !== 'prepare' && a.action !== 'submit'))
    throw new EngineError('INVALID_INPUT', "actions[0].action must be 'prepare' or 'submit'.", ['actions[0].action']);
  if (a.parameters !== undefined && (a.parameters === null || typeof a.parameters !== 'object' || Array.isArray(a.parameters)))
    throw new EngineError('INVALID_INPUT', 'actions[0].parameters must be an object.', ['actions[0].parameters']);
  const asUnprocessable = (e: unknown) => {
    if (e instanceof EngineError && (e.status === 409 || e.status === 412))
      return new EngineError('CHECKOUT_UNPROCESSABLE', e.message, e.fields);
    return e;
  };
  if (a.action === 'submit') {
    try {
      const { orderReferenceNumber } = await placeOrder(engine, ctx, checkoutId, arrival, resolved);
      return { action: 'submit', orderReferenceNumber, errors: [] };
    } catch (e) {
      throw asUnprocessable(e);
    }
  }
  // `resolved`: the checkout read with the store context (resolveCheckoutContext), else resolved here as always.
  const ref = resolved ?? (await resolveCheckout(engine, ctx, checkoutId));
  // Early return when the order is already being placed.
  if (ref.cart.Status === 'PendingClosed' || ref.cart.Status === 'Closed')
    return { action: 'prepare', orderReferenceNumber: String(ref.session.Id), errors: [] };
  if (ref.session.IsProcessing === true) throw new EngineError('CHECKOUT_IN_PROGRESS', '', ['checkoutId']);
  const held = await lockCheckout(engine, ref, arrival);
  try {
    const problem = await placeProblem(engine, ctx, ref);
    // Prepare runs before the payment: a missing payment isn't its problem.
    if (problem && !problem.fields.includes('paymentToken')) throw asUnprocessable(problem);
  } finally {
    await held.release();
  }
  return { action: 'prepare', orderReferenceNumber: null, errors: [] };
}
