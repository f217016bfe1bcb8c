/**
 * The Fastify plugin (`app.register(checkoutEngine, { engine })`): the host's own routes keep
 * working beside the engine's Salesforce API, a whole checkout step runs through the mounted API,
 * unknown Salesforce paths get Salesforce's 404 body and other unknown paths the host's, and under
 * a prefix the API lives below it.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createCheckoutEngine, demo, type CheckoutEngine } from '../../src/index.js';
import { checkoutEngine } from '../../src/http/index.js';

const V = '/services/data/v62.0';
let open: { app: FastifyInstance; engine: CheckoutEngine }[] = [];
afterEach(async () => {
  for (const o of open) {
    await o.app.close();
    await o.engine.close();
  }
  open = [];
});

async function host(prefix?: string) {
  const engine = await createCheckoutEngine({ storage: ':memory:', onError: () => {} });
  const app = Fastify({ logger: false });
  app.get('/health', async () => ({ ok: true }));
  await app.register(checkoutEngine, { engine, ...(prefix ? { prefix } : {}) });
  await app.ready();
  open.push({ app, engine });
  const { buyerId, cartId } = await demo.newCart(engine);
  const login = await app.inject({
    method: 'POST',
    url: `${prefix ?? ''}/services/oauth2/token`,
    payload: { grant_type: 'password', client_id: 'x', client_secret: 'y', username: demo.users.buyer, password: demo.users.password },
  });
  expect(login.statusCode, login.body).toBe(200);
  const auth = { authorization: `Bearer ${login.json().access_token as string}` };
  return { app, engine, buyerId, cartId, auth, p: prefix ?? '' };
}

describe('checkoutEngine Fastify plugin', () => {
  it('mounts the Salesforce API beside the host routes: an action runs, records read back, host routes and 404s stay the host’s', async () => {
    const { app, cartId, auth } = await host();
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toEqual({ ok: true });

    const invoked = await app.inject({
      method: 'POST',
      url: `${V}/actions/standard/checkoutSessionAction`,
      headers: auth,
      payload: { inputs: [{ cartId }] },
    });
    expect(invoked.statusCode, invoked.body).toBe(200);
    const [result] = invoked.json();
    expect(result).toMatchObject({ actionName: 'checkoutSessionAction', isSuccess: true, errors: null });
    const cart = await app.inject({ method: 'GET', url: `${V}/sobjects/WebCart/${cartId}`, headers: auth });
    expect(cart.json()).toMatchObject({ Id: cartId, Status: 'Checkout' });

    // Salesforce's answers for its own paths, the host's for everything else.
    const unknownSf = await app.inject({ method: 'GET', url: `${V}/no-such-resource`, headers: auth });
    expect(unknownSf.statusCode).toBe(404);
    expect(unknownSf.json()[0]).toMatchObject({ errorCode: 'NOT_FOUND' });
    const unknownHost = await app.inject({ method: 'GET', url: '/no-such-page' });
    expect(unknownHost.statusCode).toBe(404);
    expect(unknownHost.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
    // Without a token the mounted API refuses, as the standalone server does.
    const anon = await app.inject({ method: 'GET', url: `${V}/sobjects/WebCart/${cartId}` });
    expect(anon.statusCode).toBe(401);
    expect(anon.json()[0]).toMatchObject({ errorCode: 'INVALID_SESSION_ID' });
  });

  it('under a prefix, the API lives below it and nothing is served at the root', async () => {
    const { app, cartId, auth, p } = await host('/sf');
    const invoked = await app.inject({
      method: 'POST',
      url: `${p}${V}/actions/standard/checkoutSessionAction`,
      headers: auth,
      payload: { inputs: [{ cartId }] },
    });
    expect(invoked.json()[0]).toMatchObject({ isSuccess: true });
    expect((await app.inject({ method: 'GET', url: `${V}/sobjects/WebCart/${cartId}`, headers: auth })).json()).toMatchObject({
      statusCode: 404,
      error: 'Not Found',
    });
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('refuses to register without an engine', async () => {
    const app = Fastify({ logger: false });
    await expect(app.register(checkoutEngine, {} as never).ready()).rejects.toThrow(/pass the engine/);
    await app.close();
  });
});
