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
import { checkCompletionAtCommit } from '../engine/completion.js';
import { setHolds, type HoldRequest } from '../engine/reservations.js';
import type { Row } from '../storage/port.js';

/** Creates the draft order of the session's cart (idempotent per session). */
export const cartToOrderService: StepService = {
  async commit(ctx, tx) {
    const session = ctx.session;
    if (session.OrderId) return { output: { OrderId: String(session.OrderId) } };
    const orn = String(session.Id);
    // One read answers both: a retry finds this session's order; any other order of the cart means
    // the cart already became an order — at most one, ever (Order.CartId is unique; docs/sessions-and-stock.md §3).
    const [existing] = await tx.find('Order', { where: [{ field: 'CartId', op: '=', value: ctx.cartId }], limit: 1 });
    if (existing && existing._sessionId === orn)
      return { output: { OrderId: String(existing.Id) }, sessionFields: { OrderReferenceNumber: orn } };
    if (existing) throw new StepFailed(`The cart already has order ${String(existing.Id)}: a cart becomes at most one order.`);
    const cart = await tx.get('WebCart', ctx.cartId);
    if (!cart) throw new StepFailed('The cart no longer exists.');
    // The completion invariants hold now (checked at the claim; again here when this isn't its transaction).
    const facts = await checkCompletionAtCommit(ctx.core, tx, 'cartToOrder', session, ctx.completionFacts);
    const { groups, items, taxes } = facts;
    if (items.length === 0) {
      throw new StepFailed('Looks like your cart is empty.', [
        { Type: 'Other', Message: 'Looks like your cart is empty.', RelatedEntityId: ctx.cartId },
      ]);
    }
    const products = facts.products as ReadonlyMap<string, Row>;
    const draft = mapCartToOrder(
      { cart: cart as never, groups: groups as never, items: items as never, taxes: taxes as never, products },
      { now: ctx.now, orderReferenceNumber: orn, mintId: (o) => ctx.core.mint(o) },
    );
    // A flow without an inventory step (Salesforce's Main template: the store's own synchronous code)
    // gets its stock held here, as the Main template's inventory check does before the order.
    if (!facts.flowComputes.includes('inventory') && facts.inventories.length) {
      const target = new Map<string, HoldRequest>();
      for (const inv of facts.inventories) {
        const quantity = items
          .filter((i) => i.Type !== 'Charge' && i.Product2Id === inv.Product2Id)
          .reduce((s, i) => s + Number(i.Quantity ?? 0), 0);
        const first = items.find((i) => i.Type !== 'Charge' && i.Product2Id === inv.Product2Id);
        if (quantity > 0) target.set(String(inv.Id), { quantity, relatedEntityId: first ? String(first.Id) : undefined });
      }
      await setHolds(ctx.core, tx, ctx.cartId, target, String(ctx.operation.Id), ctx.now);
    }
    // The order and its children: one statement where the backend batches writes (else one insert each).
    await tx.writeBatch([
      { kind: 'insert', object: 'Order', rows: [Object.assign({}, draft.order, { _sessionId: orn })] },
      { kind: 'insert', object: 'OrderDeliveryGroup', rows: draft.deliveryGroups },
      { kind: 'insert', object: 'OrderItem', rows: draft.items },
      { kind: 'insert', object: 'OrderItemTaxLineItem', rows: draft.taxLines },
      { kind: 'insert', object: 'OrderItemAdjustmentLineItem', rows: draft.adjustmentLines },
    ]);
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
  completion: 'cartToOrder',
});
