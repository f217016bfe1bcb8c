/**
 * The engine's Salesforce-shaped HTTP API inside your own Fastify app.
 *
 *   1. Your app has its own routes (/health); `app.register(checkoutEngine, { engine })` mounts the
 *      engine's API (OAuth token endpoint, /services/data/…, the statechart page) beside them.
 *   2. A demo buyer gets a token with the OAuth password flow, as any Salesforce client does.
 *   3. The buyer starts a checkout on a fresh demo cart with the REST action, and reads the cart
 *      back with SOQL over REST.
 *
 * Run: npx tsx examples/http-plugin.ts
 */
import Fastify from 'fastify';
import { createCheckoutEngine, demo } from 'checkout-engine';
import { checkoutEngine } from 'checkout-engine/http';

const engine = await createCheckoutEngine({ storage: ':memory:' });
const app = Fastify({ logger: false });
app.get('/health', async () => ({ ok: true }));
await app.register(checkoutEngine, { engine });
const base = await app.listen({ port: 0, host: '127.0.0.1' });
try {
  console.log(`✓ your route: GET /health → ${JSON.stringify(await (await fetch(`${base}/health`)).json())}`);

  const { cartId } = await demo.newCart(engine);
  const login = await fetch(`${base}/services/oauth2/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'demo',
      client_secret: 'demo',
      username: demo.users.buyer,
      password: demo.users.password,
    }),
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  console.log(`✓ ${demo.users.buyer} logged in (HTTP ${login.status})`);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  const started = await fetch(`${base}/services/data/v64.0/actions/standard/checkoutSessionAction`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ inputs: [{ cartId }] }),
  });
  const [result] = (await started.json()) as { isSuccess: boolean; outputValues: { requestId: string } | null; errors: unknown }[];
  if (!result?.isSuccess) throw new Error(`checkoutSessionAction failed: ${JSON.stringify(result?.errors)}`);
  console.log(`✓ checkoutSessionAction → session ${result.outputValues!.requestId}`);

  const soql = encodeURIComponent(`SELECT Id, Status, GrandTotalAmount FROM WebCart WHERE Id = '${cartId}'`);
  const { records } = (await (await fetch(`${base}/services/data/v64.0/query?q=${soql}`, { headers })).json()) as {
    records: Record<string, unknown>[];
  };
  console.log(`✓ cart ${String(records[0]?.Id)} is ${String(records[0]?.Status)}`);
  if (records[0]?.Status !== 'Checkout') throw new Error('the cart did not move to Checkout');
} finally {
  await app.close(); // closes the mounted API; the engine is yours to close
  await engine.close();
}
