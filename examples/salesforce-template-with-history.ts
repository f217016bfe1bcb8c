/**
 * Salesforce's own Re-entrant checkout template, run unchanged up to its draft order, then the
 * session's history as the engine recorded it.
 *
 * The engine is created with `defaultFlow: 'salesforce-reentrant'`: State names the step about to
 * run, screen steps write the next State as a record update, and an async step is claimed with its
 * successor (`updateCheckoutSessionStateAction(expCurrentState = State, nextState = <next>)`) before
 * its action runs; when the operation completes, State := NextState exactly as written.
 *
 * Run: npx tsx examples/salesforce-template-with-history.ts
 */
import { createCheckoutEngine, demo } from 'checkout-engine';

const engine = await createCheckoutEngine({ storage: ':memory:', defaultFlow: 'salesforce-reentrant' });
// The demo store with its price book, stock, promotions, delivery methods and tax rates, and a cart.
const { buyerId, cartId } = await demo.newCart(engine, { lines: 3 });
const as = { userId: buyerId };

const invoke = async (action: string, input: Record<string, unknown>) => {
  const [r] = await engine.invokeAny(action, [input], as);
  if (!r?.isSuccess) throw new Error(`${action} failed: ${JSON.stringify(r?.errors)}`);
  return r.outputValues as Record<string, string>;
};
const session = async () => engine.getRecord('CartCheckoutSession', sessionId, as);
/** The template's wait screen: poll the operation until it is no longer New or Running. */
const waitFor = async (operationId: string) => {
  for (let i = 0; i < 6000; i++) {
    const op = await engine.getRecord('BackgroundOperation', operationId, as);
    if (op.Status !== 'New' && op.Status !== 'Running') return op.Status;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`operation ${operationId} did not finish`);
};
const show = async (what: string) => {
  const s = await session();
  console.log(`✓ ${what.padEnd(44)} State '${s.State}', NextState ${s.NextState === null ? 'null' : `'${s.NextState}'`}`);
};

const sessionId = (await invoke('checkoutSessionAction', { cartId, initialState: 'Start' })).requestId!;
await show('checkoutSessionAction');
await engine.updateRecord('CartCheckoutSession', sessionId, { State: 'Inventory' }, as);
await show('Start screen writes State := Inventory');

const asyncStep = async (state: string, next: string, action: string) => {
  await invoke('updateCheckoutSessionStateAction', { checkoutSessionId: sessionId, expCurrentState: state, nextState: next });
  const { backgroundOperationId } = await invoke(action, { cartId, runAsync: true });
  await waitFor(backgroundOperationId!);
  await show(`${action} (claimed '${next}')`);
};
await asyncStep('Inventory', 'Confirm Price', 'checkCartInventoryAction');
await asyncStep('Confirm Price', 'Calculate Promotions', 'priceCart');
await asyncStep('Calculate Promotions', 'Shipping Cost', 'calcCartPromotionsAction');
await asyncStep('Shipping Cost', 'Delivery Method', 'calcCartShipmentAction');
const [option] = (
  await engine.query(`SELECT DeliveryMethodId FROM CartDeliveryGroupMethod WHERE WebCartId = '${cartId}' ORDER BY ShippingFee`, as)
).records;
await invoke('setCheckoutDeliveryMethod', { cartId, deliveryMethodId: option!.DeliveryMethodId });
await engine.updateRecord('CartCheckoutSession', sessionId, { State: 'Taxes' }, as);
await asyncStep('Taxes', 'Payment And Billing Address', 'calcCartTaxesAction');
await engine.updateRecord('WebCart', cartId, { PoNumber: 'PO-TEMPLATE', BillingCity: 'Oakland', BillingCountry: 'US' }, as);
await engine.updateRecord('CartCheckoutSession', sessionId, { State: 'Checkout Summary' }, as);
await engine.updateRecord('CartCheckoutSession', sessionId, { State: 'Cart To Order' }, as);
await show('screens write Checkout Summary, Cart To Order');
await asyncStep('Cart To Order', 'Authorize Payment', 'cartToOrderAction');

const {
  records: [order],
} = await engine.query(`SELECT Id, Status, GrandTotalAmount FROM Order WHERE Id = '${(await session()).OrderId}'`, as);
const cart = await engine.getRecord('WebCart', cartId, as);
console.log(
  `✓ draft order ${order!.Id}: Status ${order!.Status}, GrandTotalAmount ${order!.GrandTotalAmount} (cart ${cart.GrandTotalAmount})`,
);
if (order!.Status !== 'Draft' || order!.GrandTotalAmount !== cart.GrandTotalAmount)
  throw new Error('the draft order does not match the cart');

const history = await engine.getHistory(sessionId, as);
console.log(`✓ history: ${history.length} events recorded`);
for (const h of history)
  console.log(
    `  ${String(h.seq).padStart(2)} ${String(h.event.type).padEnd(26)} ${h.from} → ${h.to}${h.operation ? `  (${h.operation})` : ''}`,
  );
await engine.close();
