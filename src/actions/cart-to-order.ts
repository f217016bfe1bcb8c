/**
 * cartToOrderAction(cartId, runAsync): a cart in checkout becomes a draft Order, tracked by a
 * BackgroundOperation (source: cart-to-order-action.txt; spec §3). The effect runs in the
 * operation's completion transaction and is keyed by the session: the Order's internal
 * `_sessionId` column is the session id, unique in storage and written only here, so a session
 * yields at most one Order however often the operation is retried or raced, and no order created
 * or edited through record writes is ever adopted. The session's link to its order (OrderId) is a
 * read-only field the statechart sets from this step's output.
 */
import { mapCartToOrder } from '../domain/cart-to-order.js';
import { StepFailed, type StepService } from '../engine/core.js';
import { asyncStepAction } from './async-step.js';
import { lineProblems } from '../domain/line-rules.js';
import type { Row, StorageOps } from '../storage/port.js';

/** The Product2 records the lines name, by Id. */
export async function productsOf(tx: StorageOps, lines: readonly Row[]): Promise<Map<string, Row>> {
  const ids = [...new Set(lines.map((l) => l.Product2Id).filter((x): x is string => typeof x === 'string'))];
  const rows = ids.length ? await tx.find('Product2', { where: [{ field: 'Id', op: 'in', value: ids }] }) : [];
  return new Map(rows.map((p) => [String(p.Id), p]));
}

/**
 * Fails the step when a product line breaks a line rule (domain/line-rules.ts: a quantity outside
 * its product's scale, a priced line rounding to 0.00), with an Error-level Pricing validation per line.
 */
export function refuseLineProblems(lines: readonly Row[], products: ReadonlyMap<string, Row>): void {
  const problems = lineProblems(lines, products);
  if (!problems.length) return;
  throw new StepFailed(
    problems[0]!.message,
    problems.map((p) => ({ Level: 'Error' as const, Type: 'Pricing', Message: p.message, RelatedEntityId: p.lineId })),
  );
}

/** Creates the draft order of the session's cart (idempotent per session). */
export const cartToOrderService: StepService = {
  async commit(ctx, tx) {
    const session = ctx.session;
    if (session.OrderId) return { output: { OrderId: String(session.OrderId) } };
    const orn = String(session.Id);
    const [existing] = await tx.find('Order', { where: [{ field: '_sessionId', op: '=', value: orn }], limit: 1 });
    if (existing) return { output: { OrderId: String(existing.Id) }, sessionFields: { OrderReferenceNumber: orn } };
    const cart = await tx.get('WebCart', ctx.cartId);
    if (!cart) throw new StepFailed('The cart no longer exists.');
    // A cart becomes at most one order, ever (Order.CartId is unique; docs/sessions-and-stock.md §3).
    const [other] = await tx.find('Order', { where: [{ field: 'CartId', op: '=', value: ctx.cartId }], limit: 1 });
    if (other) throw new StepFailed(`The cart already has order ${String(other.Id)}: a cart becomes at most one order.`);
    const byCart = [{ field: 'CartId', op: '=' as const, value: ctx.cartId }];
    const [groups, items, taxes] = [
      await tx.find('CartDeliveryGroup', { where: byCart }),
      await tx.find('CartItem', { where: byCart }),
      await tx.find('CartTax', { where: byCart }),
    ];
    if (items.length === 0) {
      throw new StepFailed('Looks like your cart is empty.', [{ Type: 'Other', Message: 'Looks like your cart is empty.', RelatedEntityId: ctx.cartId }]);
    }
    const products = await productsOf(tx, items);
    // --- line rules (issue 17; to move into the completion-invariants table) -----------------
    refuseLineProblems(items, products);
    // ---------------------------------------------------------------------------------------------
    const draft = mapCartToOrder(
      { cart: cart as never, groups: groups as never, items: items as never, taxes: taxes as never, products },
      { now: ctx.now, orderReferenceNumber: orn, mintId: (o) => ctx.core.mint(o) },
    );
    await tx.insert('Order', [{ ...draft.order, _sessionId: orn }]);
    await tx.insert('OrderDeliveryGroup', draft.deliveryGroups);
    await tx.insert('OrderItem', draft.items);
    await tx.insert('OrderItemTaxLineItem', draft.taxLines);
    await tx.insert('OrderItemAdjustmentLineItem', draft.adjustmentLines);
    return { output: { OrderId: draft.order.Id }, sessionFields: { OrderReferenceNumber: orn } };
  },
};

/** The cartToOrderAction definition. */
export const cartToOrderAction = asyncStepAction({
  name: 'cartToOrderAction',
  label: 'Cart to Order',
  description: 'In a B2B Commerce Checkout flow, create a Salesforce standard order in draft mode.',
  operationName: 'Cart to Order',
  service: cartToOrderService,
});
