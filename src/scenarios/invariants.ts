/**
 * Invariants that hold after every step of every checkout, read straight from storage (bypassing
 * sharing): used by the scenario runner (`totals` expectations), the model-based tests and the
 * property tests.
 */
import type { CompiledFlow } from '../domain/flow.js';
import { sumMoney } from '../domain/money.js';
import type { CheckoutEngine } from '../engine/engine.js';
import type { Row } from '../storage/port.js';

const IN_FLIGHT = ['New', 'Running'];
const cents = (v: unknown) => Math.round(Number(v ?? 0) * 100);

/** The cart's totals computed from its lines and CartTax rows (not its stored header). */
export async function computedCartTotals(engine: CheckoutEngine, cartId: string): Promise<{ total: number; tax: number; grand: number }> {
  const s = engine.admin;
  const byCart = [{ field: 'CartId', op: '=' as const, value: cartId }];
  const items = await s.find('CartItem', { where: byCart });
  const taxes = await s.find('CartTax', { where: byCart });
  const total = sumMoney(items.map((i) => Number(i.TotalPrice ?? 0)));
  const tax = sumMoney(taxes.map((t) => Number(t.Amount ?? 0)));
  return { total, tax, grand: sumMoney([total, tax]) };
}

/** Whether the order's totals equal the cart's computed totals; null when they do, else why not. */
export async function orderTotalsProblem(engine: CheckoutEngine, order: Row, cartId: string): Promise<string | null> {
  const c = await computedCartTotals(engine, cartId);
  const pairs: [string, unknown, number][] = [
    ['TotalAmount', order.TotalAmount, c.total],
    ['TotalTaxAmount', order.TotalTaxAmount, c.tax],
    ['GrandTotalAmount', order.GrandTotalAmount, c.grand],
  ];
  const bad = pairs.filter(([, o, want]) => cents(o) !== cents(want));
  return bad.length
    ? `Order ${String(order.Id)}: ${bad.map(([f, o, w]) => `${f} ${String(o)} but the cart computes ${w}`).join('; ')}`
    : null;
}

/**
 * Checks every invariant and returns the violations (empty when all hold):
 * - every session's State is a state of its flow (or `error`);
 * - a session whose operation is New or Running has IsProcessing = true, and a session with
 *   IsProcessing = true either has such an operation or is claimed (NextState set) awaiting its action;
 * - at most one active session per cart;
 * - at most one Order per session, and a checkout's Order (one cartToOrder wrote) exists only as
 *   the order of a session whose cartToOrder operation completed;
 * - the order of an active session (or of a Closed cart) has the totals its cart computes;
 * - at most one Order per cart, and no Active cart with an order (a cart becomes at most one order);
 * - each inventory row's QuantityReserved equals its live (Held and Ordered) reservations.
 */
export async function checkInvariants(engine: CheckoutEngine): Promise<string[]> {
  const s = engine.admin;
  const problems: string[] = [];
  const sessions = await s.find('CartCheckoutSession', {});
  const ops = new Map((await s.find('BackgroundOperation', {})).map((o) => [String(o.Id), o]));
  const activePerCart = new Map<string, number>();
  const sessionByOrder = new Map<string, Row[]>();
  const flowOf = new Map<string, CompiledFlow>();
  for (const row of sessions) {
    const id = String(row.Id);
    let flow;
    try {
      flow = engine.core.flow(row._flow as string).flow;
    } catch {
      problems.push(`session ${id}: unknown flow '${String(row._flow)}'`);
      continue;
    }
    const state = flow.resolve(row.State) ?? String(row.State ?? '');
    // A row the engine never wrote (seeded or imported, `_version` 0) is an input the actions must
    // answer, not a state the engine reached; archiving keeps whatever State the row had. Only the
    // State of an active session the engine wrote must belong to the flow.
    const engineWritten = Number(row._version ?? 0) > 0 && row.IsArchived !== true;
    if (engineWritten && state !== 'error' && !flow.steps.has(state))
      problems.push(`session ${id}: State '${state}' isn't a state of flow '${flow.def.id}'`);
    const op = row.BackgroundOperationId ? ops.get(String(row.BackgroundOperationId)) : undefined;
    const inFlight = !!op && IN_FLIGHT.includes(String(op.Status));
    if (row.IsArchived !== true) {
      if (inFlight && row.IsProcessing !== true)
        problems.push(`session ${id}: operation ${String(op!.Id)} is ${String(op!.Status)} but IsProcessing is false`);
      if (row.IsProcessing === true && !inFlight && !row.NextState)
        problems.push(`session ${id}: IsProcessing is true with no operation in flight and no NextState`);
      // Under the template convention a claim sets NextState alone; the action then sets IsProcessing.
      if (row.IsProcessing !== true && row.NextState && flow.convention.claimSetsProcessing)
        problems.push(`session ${id}: NextState '${String(row.NextState)}' set while IsProcessing is false`);
      const cart = String(row.WebCartId);
      activePerCart.set(cart, (activePerCart.get(cart) ?? 0) + 1);
    } else if (inFlight) {
      problems.push(`archived session ${id}: operation ${String(op!.Id)} is still ${String(op!.Status)}`);
    }
    flowOf.set(id, flow);
    if (row.OrderId)
      (sessionByOrder.get(String(row.OrderId)) ?? sessionByOrder.set(String(row.OrderId), []).get(String(row.OrderId))!).push(row);
  }
  for (const [cart, n] of activePerCart) if (n > 1) problems.push(`cart ${cart}: ${n} active checkout sessions`);
  const orders = await s.find('Order', {});
  const ordersPerSession = new Map<string, number>();
  for (const order of orders) {
    const oid = String(order.Id);
    const owners = sessionByOrder.get(oid) ?? [];
    const ref = String(order.OrderReferenceNumber ?? '');
    if (ref) ordersPerSession.set(ref, (ordersPerSession.get(ref) ?? 0) + 1);
    if (owners.length === 0) {
      // Only checkout's orders carry `_sessionId` (cartToOrder writes it); an order an admin created
      // with a record write (ModifyAllData may) is outside checkout, like a row the engine never wrote.
      if (order._sessionId) problems.push(`Order ${oid} belongs to no checkout session (an order exists only after cartToOrder)`);
      continue;
    }
    for (const session of owners) {
      // The step that runs cartToOrderAction: cartToOrder in the default flow, Post-Promotions in salesforce-main.
      const step = flowOf.get(String(session.Id))?.byAction.get('cartToOrderAction')?.key ?? 'cartToOrder';
      const c2o = [...ops.values()].some((o) => o._sessionId === session.Id && o._step === step && o.Status === 'Complete');
      if (!c2o) problems.push(`Order ${oid} of session ${String(session.Id)} exists but its cartToOrder operation never completed`);
      const cart = await s.get('WebCart', String(session.WebCartId));
      if (cart && (session.IsArchived !== true || cart.Status === 'Closed')) {
        const p = await orderTotalsProblem(engine, order, String(cart.Id));
        if (p) problems.push(p);
      }
    }
  }
  for (const [ref, n] of ordersPerSession) if (n > 1) problems.push(`session ${ref}: ${n} orders`);
  problems.push(...(await oneOrderPerCartProblems(engine, orders)));
  problems.push(...(await stockProblems(engine)));
  return problems;
}

/**
 * A cart becomes at most one order, ever (src/domain/abandon.ts): at most one Order per CartId (an
 * abandoned draft is deleted, so every stored order is live), and a cart with an order is in
 * Checkout or Closed, never Active again.
 */
async function oneOrderPerCartProblems(engine: CheckoutEngine, orders: readonly Row[]): Promise<string[]> {
  const problems: string[] = [];
  const byCart = new Map<string, string[]>();
  for (const o of orders)
    if (typeof o.CartId === 'string') (byCart.get(o.CartId) ?? byCart.set(o.CartId, []).get(o.CartId)!).push(String(o.Id));
  for (const [cartId, ids] of byCart) {
    if (ids.length > 1) problems.push(`cart ${cartId}: ${ids.length} orders (${ids.join(', ')}); a cart becomes at most one order`);
    const cart = await engine.admin.get('WebCart', cartId);
    if (cart?.Status === 'Active') problems.push(`cart ${cartId} is Active again while its order ${ids.join(', ')} stands`);
  }
  return problems;
}

/**
 * Each ProductInventory row's QuantityReserved equals its live holds (the Held and Ordered
 * reservations against it). A row no checkout ever reserved from (no reservation rows at all) is
 * left out: seeded stock may start reserved.
 */
async function stockProblems(engine: CheckoutEngine): Promise<string[]> {
  const s = engine.admin;
  const live = new Map<string, number>();
  const touched = new Set<string>();
  for (const r of await s.find('ProductReservation', {})) {
    const inv = String(r.ProductInventoryId);
    touched.add(inv);
    if (r.Status === 'Held' || r.Status === 'Ordered') live.set(inv, (live.get(inv) ?? 0) + Number(r.Quantity ?? 0));
  }
  if (!touched.size) return [];
  const problems: string[] = [];
  for (const inv of await s.find('ProductInventory', { where: [{ field: 'Id', op: 'in', value: [...touched] }] })) {
    const want = live.get(String(inv.Id)) ?? 0;
    if (Number(inv.QuantityReserved ?? 0) !== want)
      problems.push(
        `ProductInventory ${String(inv.Id)}: QuantityReserved ${String(inv.QuantityReserved)} but its live reservations hold ${want}`,
      );
  }
  return problems;
}
