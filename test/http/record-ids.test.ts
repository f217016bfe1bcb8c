/**
 * Non-action paths answer a malformed or unknown record id with Salesforce's 4xx — MALFORMED_ID 400
 * or NOT_FOUND 404 — never a 500 (an action's malformed cartId stays spec requirement 1's
 * UNKNOWN_EXCEPTION 500, pinned elsewhere). Also the placeholder of older docs ("0a6…").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, demo, type CheckoutEngine } from '../../src/index.js';
import { buildServer } from '../../src/http/index.js';

const V = '/services/data/v64.0';
let engine: CheckoutEngine;
let app: ReturnType<typeof buildServer>['app'];
let headers: Record<string, string>;
let cartId: string;

beforeAll(async () => {
  engine = await createCheckoutEngine({ storage: ':memory:', onError: () => {} });
  ({ cartId } = await demo.newCart(engine));
  ({ app } = buildServer(engine, { log: false }));
  const login = await app.inject({
    method: 'POST',
    url: '/services/oauth2/token',
    payload: { grant_type: 'password', username: demo.users.buyer, password: demo.users.password, client_id: 'a', client_secret: 'b' },
  });
  headers = { authorization: `Bearer ${login.json().access_token as string}` };
});
afterAll(async () => {
  await app.close();
  await engine.close();
});

const MALFORMED = ['0a6…', 'abc', 'zzzzzzzzzzzzzzz', '0a6000000000000AAA!', "0a6' OR '1'='1"];
const UNKNOWN = ['0a6000000000000AAA', '0a6000000000000', '801000000000000AAA'];

describe('record ids on non-action paths', () => {
  const paths = (id: string) =>
    [
      ['GET', `${V}/sobjects/WebCart/${encodeURIComponent(id)}`],
      ['PATCH', `${V}/sobjects/WebCart/${encodeURIComponent(id)}`],
      ['DELETE', `${V}/sobjects/WebCart/${encodeURIComponent(id)}`],
      ['GET', `${V}/sobjects/Order/${encodeURIComponent(id)}`],
      ['PATCH', `${V}/sobjects/CartCheckoutSession/${encodeURIComponent(id)}`],
      ['GET', `${V}/checkout-sessions/${encodeURIComponent(id)}/history`],
    ] as const;

  it('a malformed id is a 4xx with Salesforce’s code (MALFORMED_ID or NOT_FOUND), never a 500', async () => {
    for (const id of MALFORMED) {
      for (const [method, url] of paths(id)) {
        const r = await app.inject({ method, url, headers, ...(method === 'PATCH' ? { payload: { Name: 'x' } } : {}) });
        expect([400, 404], `${method} ${url}: ${r.body}`).toContain(r.statusCode);
        expect(['MALFORMED_ID', 'NOT_FOUND', 'INVALID_ID_FIELD'], `${method} ${url}`).toContain(r.json()[0].errorCode);
      }
    }
  });

  it('a well-formed id of no record is NOT_FOUND 404 or MALFORMED_ID 400 (an id of another type), never a 500', async () => {
    for (const id of UNKNOWN) {
      for (const [method, url] of paths(id)) {
        const r = await app.inject({ method, url, headers, ...(method === 'PATCH' ? { payload: { Name: 'x' } } : {}) });
        expect([400, 404], `${method} ${url}: ${r.body}`).toContain(r.statusCode);
        expect(['MALFORMED_ID', 'NOT_FOUND'], `${method} ${url}`).toContain(r.json()[0].errorCode);
      }
    }
  });

  it('a real id still works (15 and 18 characters)', async () => {
    for (const id of [cartId, cartId.slice(0, 15)])
      expect((await app.inject({ method: 'GET', url: `${V}/sobjects/WebCart/${id}`, headers })).statusCode).toBe(200);
  });
});
