// Plain Node ESM in a project that installed the packed tarball: the library, a whole checkout on
// the demo data, then the HTTP server answering one authenticated request.
import { createCheckoutEngine, demo, demoFixture } from 'checkout-engine';

const engine = await createCheckoutEngine({ storage: ':memory:', onError: () => {} });
const ids = await engine.seed(demoFixture());
const first = await engine.runCheckout(ids.cart, { userId: ids.buyer, answers: demo.answers });
if (first.status !== 'complete') throw new Error(`demoFixture checkout: ${first.status} ${first.errors.join('; ')}`);
const { buyerId, cartId } = await demo.newCart(engine);
const second = await engine.runCheckout(cartId, { userId: buyerId, answers: demo.answers });
if (second.status !== 'complete') throw new Error(`demo.newCart checkout: ${second.status} ${second.errors.join('; ')}`);
console.log(`checkouts: ${first.status} ${second.status}`);

const { startServer } = await import('checkout-engine/http');
const server = await startServer(engine, { port: 0, log: false });
try {
  const login = await fetch(`${server.url}/services/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'c',
      client_secret: 's',
      username: demo.users.buyer,
      password: demo.users.password,
    }),
  });
  const { access_token } = await login.json();
  const res = await fetch(`${server.url}/services/data/v64.0/sobjects/Order/${second.orderId}`, {
    headers: { authorization: `Bearer ${access_token}` },
  });
  const order = await res.json();
  console.log(`http: ${res.status} ${order.Status}`);
} finally {
  await server.close();
}
