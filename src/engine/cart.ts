/**
 * Cart bookkeeping shared by record writes, fixtures and steps: line and header roll-ups, and
 * leaving a checkout (the session archived, its operation Canceled, a draft order deleted, the
 * cart Active again — or refused once the checkout has placed its order).
 */
import { rollUpCart, sumMoney } from '../domain/money.js';
import { assertInRange } from '../domain/records.js';
import type { EngineCore } from './core.js';
import { findActiveSession } from './facts.js';
import { applySessionEvent } from './sessions.js';
import type { EventOrigin, Tx } from './transaction.js';
import { releaseHolds } from './reservations.js';
import { abandonPlan, orderStanding, type AbandonPath, type OrderStanding } from '../domain/abandon.js';
import { EngineError } from '../errors.js';
import type { Row, StorageOps } from '../storage/port.js';
import type { HeldCart } from '../integrations/port.js';

export { withDerivedLine } from '../domain/records.js';

export type { HeldCart } from '../integrations/port.js';

/**
 * Recomputes line tax totals and the cart header totals from the cart's lines and taxes (decimal
 * sums of line values); a total outside the currency range is NUMBER_OUTSIDE_VALID_RANGE naming it,
 * so the write that caused it is refused and rolled back. `held`: the lines and taxes as the
 * caller already holds them, current in its transaction (an integration step's cart, loaded
 * once: any other change to the cart's lines or taxes cancels the step's checkout, and a canceled
 * operation doesn't commit), so they aren't read again.
 */
export async function recomputeCart(tx: StorageOps, cartId: string, now: Date, held?: HeldCart): Promise<void> {
  const byCart = [{ field: 'CartId', op: '=' as const, value: cartId }];
  // The lines and their taxes in one findAll (one round trip where the backend batches reads).
  const [items, taxes] = held
    ? [held.items, held.taxes]
    : await tx.findAll([
        { object: 'CartItem', where: byCart },
        { object: 'CartTax', where: byCart },
      ]);
  const taxByItem = new Map<string, number[]>();
  for (const t of taxes) {
    const k = String(t.CartItemId);
    (taxByItem.get(k) ?? taxByItem.set(k, []).get(k)!).push(Number(t.Amount ?? 0));
  }
  const changed = new Map<string, number>();
  const lines = items.map((item) => {
    const tax = sumMoney(taxByItem.get(String(item.Id)) ?? []);
    assertInRange('CartItem', 'TotalLineTaxAmount', tax, `the sum of the taxes of CartItem ${String(item.Id)}`);
    if (item.TotalLineTaxAmount === tax) return item;
    changed.set(String(item.Id), tax);
    return { ...item, TotalLineTaxAmount: tax };
  });
  if (changed.size) await tx.updateColumn('CartItem', 'TotalLineTaxAmount', changed);
  const totals = rollUpCart(lines);
  for (const [field, value] of Object.entries(totals)) assertInRange('WebCart', field, value, `the sum of the lines of cart ${cartId}`);
  // Object.assign: a spread copy given a new key takes V8's slow path on every call on Node 20.
  await tx.update('WebCart', cartId, Object.assign({} as Row, totals, { LastModifiedDate: now.toISOString() }));
}

/** Children deleted with a draft order, deepest first (master-detail, as a record delete of the order). */
const DRAFT_ORDER_CHILDREN = ['OrderItemTaxLineItem', 'OrderItemAdjustmentLineItem', 'OrderItem', 'OrderDeliveryGroup'] as const;

/** The orders checkout made of the cart (cartToOrder sets Order.CartId; a unique key keeps it to one), locked. */
export async function ordersOfCart(tx: StorageOps, cartId: string): Promise<Row[]> {
  return tx.find('Order', {
    where: [{ field: 'CartId', op: '=', value: cartId }],
    orderBy: [{ field: 'Id', direction: 'asc' }],
    forUpdate: true,
  });
}

/** The standing of the cart's order(s): placed if any is, else draft if any exists, else none. */
export function standingOf(orders: readonly Row[]): OrderStanding {
  const standings = orders.map((o) => orderStanding(o.Status));
  return standings.includes('placed') ? 'placed' : standings.includes('draft') ? 'draft' : 'none';
}

/**
 * Leaves the cart's checkout by `path` (cancel, expiry or a buyer's cart change), as
 * src/domain/abandon.ts decides from the order the checkout has made:
 * - no order, or a draft one: a New or Running operation becomes Canceled, the session is archived
 *   (statechart CANCEL), the cart's stock is released (`Canceled`/`Expired`; the draft's Ordered
 *   holds too), a draft order is deleted with its lines, groups, tax and adjustment rows, and a
 *   cart in Checkout goes back to Active;
 * - refused (a placed order on cancel, any order on a cart change): throws before any write;
 * - kept (expiry of a placed order's checkout): nothing changes.
 * Returns whether a session was canceled. `fields`: what a refusal names.
 */
export async function cancelCheckout(
  core: EngineCore,
  tx: Tx,
  cartId: string,
  now: Date,
  path: Exclude<AbandonPath, 'stepError'> = 'cancel',
  origin?: EventOrigin,
  fields: string[] = ['cartId'],
): Promise<boolean> {
  const session = await findActiveSession(tx, cartId, true);
  const orders = await ordersOfCart(tx, cartId);
  const plan = abandonPlan(path, standingOf(orders), orders.map((o) => String(o.Id)).join(', '));
  if (plan.kind === 'refuse') throw new EngineError(plan.error, plan.detail, fields);
  if (plan.kind !== 'abandon') return false;
  if (session) {
    if (session.BackgroundOperationId) {
      await tx.updateWhere(
        'BackgroundOperation',
        [
          { field: 'Id', op: '=', value: session.BackgroundOperationId },
          { field: 'Status', op: 'in', value: ['New', 'Running'] },
        ],
        { Status: 'Canceled', FinishedAt: now.toISOString(), LastModifiedDate: now.toISOString() },
      );
    }
    // Cancel is the way out of any row, one whose flow is no longer registered included.
    const flowId = typeof session._flow === 'string' && core.flowIds().includes(session._flow) ? session._flow : 'default';
    await applySessionEvent(tx, core.flow(flowId).machine, session, { type: 'CANCEL' }, now, {}, origin);
  }
  // The cart's stock goes back: a canceled, expired or changed checkout holds nothing, nor does its deleted draft.
  await releaseHolds(tx, cartId, plan.reason, now);
  if (plan.deleteDraft) {
    for (const order of orders) {
      await releaseHolds(tx, cartId, plan.reason, now, String(order.Id));
      for (const child of DRAFT_ORDER_CHILDREN) {
        const ids = (await tx.find(child, { where: [{ field: 'OrderId', op: '=', value: order.Id }] })).map((r) => String(r.Id));
        await tx.delete(child, ids);
      }
    }
    await tx.delete(
      'Order',
      orders.map((o) => String(o.Id)),
    );
  }
  await tx.updateWhere(
    'WebCart',
    [
      { field: 'Id', op: '=', value: cartId },
      { field: 'Status', op: '=', value: 'Checkout' },
    ],
    { Status: 'Active', LastModifiedDate: now.toISOString() },
  );
  return !!session;
}
