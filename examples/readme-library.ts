import { createCheckoutEngine, demo } from 'checkout-engine';

const engine = await createCheckoutEngine({ storage: ':memory:' }); // or './checkout.db', or 'postgres://…'
const { buyerId, cartId } = await demo.newCart(engine);               // the demo store, its catalog and a fresh cart
const as = { userId: buyerId };

const [session] = await engine.invoke('checkoutSessionAction', [{ cartId }], as);
if (!session?.isSuccess) throw new Error(session?.errors[0]?.message);
console.log(`✓ checkout session ${session.outputValues.requestId}`);

const run = await engine.runCheckout(cartId, { ...as, answers: demo.answers }); // every step of the default flow
const { records } = await engine.query(`SELECT Id, Status, GrandTotalAmount FROM Order WHERE Id = '${run.orderId}'`, as);
console.log(`✓ ${run.status}: order ${records[0]?.Id} ${records[0]?.Status}, total ${records[0]?.GrandTotalAmount}`);
await engine.close();
