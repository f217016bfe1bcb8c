/**
 * One checkout reaching a draft order, call by call, through the library.
 *
 * The store uses a short flow of its own (Start → Checkout Summary → Cart To Order → Complete), so
 * the story needs nothing but the session, two screen steps and cartToOrderAction:
 *   1. checkoutSessionAction creates the session; the cart moves Active → Checkout.
 *   2. The buyer sets the shipping address on the delivery group (a record update).
 *   3. The session's State moves to Checkout Summary (a screen step).
 *   4. updateCheckoutSessionStateAction claims Cart To Order (the compare-and-set).
 *   5. cartToOrderAction runs asynchronously; we poll its BackgroundOperation, as a wait screen does.
 *   6. The draft Order and its lines are read back with SOQL.
 *
 * Run: npx tsx examples/first-draft-order.ts
 */
import { createCheckoutEngine, demo, mintId, type FlowDefinition } from 'checkout-engine';

const quickFlow: FlowDefinition = {
  id: 'quick-order',
  steps: [
    { key: 'start', label: 'Start', kind: 'screen' },
    { key: 'checkoutSummary', label: 'Checkout Summary', kind: 'screen' },
    { key: 'cartToOrder', label: 'Cart To Order', kind: 'async', action: 'cartToOrderAction', validationType: 'SystemError' },
    { key: 'complete', label: 'Complete', kind: 'final' },
  ],
};

const storeId = mintId('0ZE');
const engine = await createCheckoutEngine({ storage: ':memory:', flows: [quickFlow], storeFlows: { [storeId]: 'quick-order' } });
const fixture = demo.fixture({ lines: 5, groups: 2 });
fixture.WebStore![0]!.Id = storeId;
const ids = await engine.seed(fixture);
const as = { userId: ids.buyer! };

const check = <T extends { isSuccess: boolean; errors: unknown }>(label: string, [r]: T[]) => {
  if (!r?.isSuccess) throw new Error(`${label} failed: ${JSON.stringify(r?.errors)}`);
  console.log(`✓ ${label}`);
  return r as T & { outputValues: Record<string, string> };
};

const session = check(
  'checkoutSessionAction',
  await engine.invoke('checkoutSessionAction', [{ cartId: ids.cart, initialState: 'Start' }], as),
);
const sessionId = session.outputValues.requestId!;
console.log(`  session ${sessionId}, cart status ${(await engine.getRecord('WebCart', ids.cart!)).Status}`);

await engine.updateRecord(
  'CartDeliveryGroup',
  ids.group0!,
  { DeliverToStreet: '500 Howard St', DeliverToCity: 'San Francisco', DeliverToPostalCode: '94105' },
  as,
);
console.log('✓ shipping address set on the delivery group');

await engine.updateRecord('CartCheckoutSession', sessionId, { State: 'Checkout Summary' }, as);
console.log(`✓ State → ${(await engine.getRecord('CartCheckoutSession', sessionId)).State}`);

check(
  'updateCheckoutSessionStateAction (claim cartToOrder)',
  await engine.invoke(
    'updateCheckoutSessionStateAction',
    [{ checkoutSessionId: sessionId, expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' }],
    as,
  ),
);

const run = check('cartToOrderAction (runAsync)', await engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: true }], as));
const opId = run.outputValues.backgroundOperationId!;
let op = await engine.getRecord('BackgroundOperation', opId, as);
const deadline = Date.now() + 30_000; // a wait screen gives up eventually too
while (op.Status === 'New' || op.Status === 'Running') {
  if (Date.now() > deadline) throw new Error(`operation ${opId} still ${op.Status} after 30 s`);
  await new Promise((r) => setTimeout(r, 5));
  op = await engine.getRecord('BackgroundOperation', opId, as);
}
console.log(`  operation ${opId}: ${op.Status}`);

const s = await engine.getRecord('CartCheckoutSession', sessionId);
const [order] = (
  await engine.query(`SELECT Id, Status, GrandTotalAmount, TotalTaxAmount, PoNumber FROM Order WHERE Id = '${s.OrderId}'`, as)
).records;
const lines = await engine.query(
  `SELECT Type, Description, Quantity, UnitPrice, TotalLineAmount FROM OrderItem WHERE OrderId = '${s.OrderId}' ORDER BY Type`,
  as,
);
const cart = await engine.getRecord('WebCart', ids.cart!);
console.log(
  `✓ draft order ${order!.Id}: Status ${order!.Status}, GrandTotalAmount ${order!.GrandTotalAmount} (cart ${cart.GrandTotalAmount}), PO ${order!.PoNumber}`,
);
for (const l of lines.records)
  console.log(`  ${String(l.Type).padEnd(16)} ${String(l.Description).padEnd(10)} × ${l.Quantity} @ ${l.UnitPrice} = ${l.TotalLineAmount}`);
console.log(`  session State ${s.State}, NextState ${s.NextState}, IsProcessing ${s.IsProcessing}`);
if (order!.Status !== 'Draft' || order!.GrandTotalAmount !== cart.GrandTotalAmount)
  throw new Error('the draft order does not match the cart');
await engine.close();
