/**
 * A whole B2B checkout through the library: a cart goes from Active to Closed with an Activated
 * Order and its OrderSummary, following the default flow (spec §2) with the default integrations
 * reading their records (price book, stock, promotions, delivery methods, tax rates).
 *
 *   1. Seed the demo store, its catalog records and a cart of 8 lines in 2 delivery groups.
 *   2. engine.runCheckout(cartId, { userId, answers }) makes the calls of the spec's call-by-call
 *      table as the buyer: session, shipping address, claim + action for each async step, delivery
 *      method, payment method and billing address, summary, order, payment, activation, confirmation.
 *   3. Print the trajectory (every state with its operation and timing) and read the results back.
 *
 * Run: npx tsx examples/full-checkout.ts
 */
import { createCheckoutEngine, demo } from 'checkout-engine';

const engine = await createCheckoutEngine({ storage: ':memory:' });
try {
  const { buyerId, cartId } = await demo.newCart(engine, { lines: 8, groups: 2 });
  const as = { userId: buyerId };

  const run = await engine.runCheckout(cartId, {
    ...as,
    answers: {
      deliveryAddress: {
        DeliverToName: 'Acme Receiving',
        DeliverToStreet: '500 Harbor Way',
        DeliverToCity: 'Oakland',
        DeliverToState: 'CA',
        DeliverToPostalCode: '94607',
        DeliverToCountry: 'US',
      },
      paymentMethodId: 'pm_test_visa', // the default TestPaymentGateway authorizes it
      billingAddress: {
        BillingStreet: '1 Market St',
        BillingCity: 'San Francisco',
        BillingState: 'CA',
        BillingPostalCode: '94105',
        BillingCountry: 'US',
      },
    },
  });
  for (const line of demo.formatTrajectory(run)) console.log(line);
  if (run.status !== 'complete') throw new Error(`checkout stopped in ${run.state}: ${run.errors.join('; ')}`);

  const cart = await engine.getRecord('WebCart', cartId, as);
  const order = await engine.getRecord('Order', run.orderId!, as);
  const { records: summaries } = await engine.query(
    `SELECT Id, OrderLifeCycleType, GrandTotalAmount FROM OrderSummary WHERE OriginalOrderId = '${run.orderId}'`,
    { userId: buyerId },
  );
  const { records: taxes } = await engine.query(`SELECT Id FROM CartTax WHERE CartId = '${cartId}'`, as);
  console.log(
    `\nCart ${cartId}: ${cart.Status}; products ${cart.TotalProductAmount}, charges ${cart.TotalChargeAmount}, tax ${cart.TotalTaxAmount} (${taxes.length} CartTax rows), total ${cart.GrandTotalAmount}`,
  );
  console.log(`Order ${order.Id}: ${order.Status}, total ${order.GrandTotalAmount}, payment authorized ${order.PaymentAuthorizationCode}`);
  console.log(`OrderSummary ${summaries[0]?.Id}: ${summaries[0]?.OrderLifeCycleType}`);
  if (
    cart.Status !== 'Closed' ||
    order.Status !== 'Activated' ||
    summaries.length !== 1 ||
    order.GrandTotalAmount !== cart.GrandTotalAmount
  ) {
    throw new Error('the checkout did not end as expected');
  }
  console.log(`✓ ${run.trajectory.length} states, cart Closed, order Activated with its OrderSummary`);
} finally {
  await engine.close();
}
