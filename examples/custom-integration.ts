/**
 * A store's own integrations: a custom async step and a replacement calculator.
 *
 * The store's flow adds a "Credit Check" step (its own async step, run by the integration
 * registered under its action name) before the order is created, and replaces the default
 * shipping calculator with one that ships free above 100.00. Both implement the calculator
 * contract, modelled on sfdc_checkout.AsyncCartProcessor: startCartProcessAsync(info, cartId, data)
 * resolves to { status: 'SUCCESS' | 'FAILED' }, reads through `data`, edits the cart's draft
 * (`data.state()`, `data.edit(cart => …)`) and reports CartValidationOutput rows; the engine applies
 * the edits atomically, as batched writes of only what changed, when the step completes.
 *
 *   1. The buyer's credit limit is too low: the Credit Check step fails, the session is in `error`
 *      with the integration's message as a CartValidationOutput.
 *   2. The buyer cancels; credit is raised; a new checkout runs from the start and completes.
 *
 * Run: npx tsx examples/custom-integration.ts
 */
import {
  createCheckoutEngine,
  DEFAULT_FLOW,
  demo,
  formatMoney,
  mintId,
  sumMoney,
  type CartProcessor,
  type FlowDefinition,
} from 'checkout-engine';

/** The store's credit service (an external system in real life). */
const creditLimits = new Map<string, number>();

const creditCheck: CartProcessor = {
  async startCartProcessAsync(_info, cartId, data) {
    const limit = creditLimits.get(String(data.cart.AccountId)) ?? 0;
    const total = Number(data.cart.GrandTotalAmount);
    if (total > limit) {
      data.addValidation({
        Message: `Credit limit exceeded: the order total ${formatMoney(total)} is over the account's limit of ${formatMoney(limit)}.`,
        RelatedEntityId: cartId,
      });
      return { status: 'FAILED' };
    }
    data.addValidation({
      Level: 'Info',
      Message: `Credit approved (${formatMoney(total)} of ${formatMoney(limit)}).`,
      RelatedEntityId: cartId,
    });
    return { status: 'SUCCESS' };
  },
};

const freeShippingOver100: CartProcessor = {
  async startCartProcessAsync(_info, _cartId, data) {
    const methods = await data.find('OrderDeliveryMethod', { IsActive: true });
    // The cart's draft: read once, edited with an immer recipe; the engine writes what the edit changed.
    const { items, deliveryGroups } = await data.state();
    await data.edit((cart) => {
      cart.deliveryMethods = {}; // replaces the cart's earlier options
      for (const group of Object.values(deliveryGroups)) {
        const goods = sumMoney(
          Object.values(items)
            .filter((i) => i.CartDeliveryGroupId === group.Id && i.Type === 'Product')
            .map((i) => Number(i.TotalPrice)),
        );
        for (const m of methods) {
          cart.deliveryMethods[`${String(group.Id)}:${String(m.Id)}`] = {
            CartDeliveryGroupId: group.Id,
            DeliveryMethodId: m.Id,
            Name: m.Name,
            ShippingFee: goods > 100 ? 0 : Number(m.ShippingFee),
            Carrier: m.Carrier,
          };
        }
      }
    });
    return { status: 'SUCCESS' };
  },
};

const flow: FlowDefinition = {
  id: 'with-credit-check',
  steps: DEFAULT_FLOW.steps.flatMap((s) =>
    s.key === 'cartToOrder'
      ? [
          {
            key: 'creditCheck',
            label: 'Credit Check',
            kind: 'async' as const,
            action: 'creditCheckAction',
            validationType: 'Other',
            description: 'Checks the account’s credit.',
          },
          s,
        ]
      : [s],
  ),
};

const storeId = mintId('0ZE');
const engine = await createCheckoutEngine({
  storage: ':memory:',
  flows: [flow],
  storeFlows: { [storeId]: flow.id },
  integrations: { stores: { [storeId]: { creditCheckAction: creditCheck, shipping: freeShippingOver100 } } },
});
try {
  // The demo store (with its price book, stock, promotions and tax rates) under this store's id.
  const fixture = demo.fixture({ lines: 6, groups: 1, taxes: false, adjustments: false });
  fixture.WebStore![0]!.Id = storeId;
  const ids = await engine.seed(fixture);
  const as = { userId: ids.buyer! };
  creditLimits.set(ids.acme!, 100);

  console.log('1. Checkout with a credit limit of 100.00:');
  const refused = await engine.runCheckout(ids.cart!, { ...as, answers: { poNumber: 'PO-2024-17' } });
  for (const line of demo.formatTrajectory(refused)) console.log(line);
  console.log(`   → ${refused.status} in ${refused.state}: ${refused.errors.join(' | ')}`);
  if (refused.status !== 'error' || refused.trajectory.at(-1)?.state !== 'creditCheck')
    throw new Error('the credit check should have refused the order');

  console.log('\n2. Cancel, raise the limit to 1,000.00 and check out again:');
  const [cancel] = await engine.invoke('cancelCartAsyncOperation', [{ cartId: ids.cart }], as);
  if (!cancel!.isSuccess) throw new Error(cancel!.errors![0]!.message);
  creditLimits.set(ids.acme!, 1000);
  const run = await engine.runCheckout(ids.cart!, as);
  for (const line of demo.formatTrajectory(run)) console.log(line);
  const charges = (await engine.query(`SELECT Name, TotalPrice FROM CartItem WHERE CartId = '${ids.cart}' AND Type = 'Charge'`, as))
    .records;
  console.log(`   → ${run.status}; order ${run.orderId}; delivery charge ${charges.map((c) => `${c.Name} ${c.TotalPrice}`).join(', ')}`);
  if (run.status !== 'complete' || charges.some((c) => c.TotalPrice !== 0))
    throw new Error('expected a completed checkout with free shipping');
  console.log('✓ the store’s own credit-check step refused, then approved; its shipping calculator shipped for free');
} finally {
  await engine.close();
}
