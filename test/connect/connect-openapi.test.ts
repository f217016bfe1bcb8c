/**
 * The OpenAPI document (GET /openapi.json) lists every Commerce Connect route with the statuses
 * docs/connect-api.md documents for it (and 401 for a missing token).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../http/helpers.js';

const STORE = '/services/data/{version}/commerce/webstores/{webstoreId}';

/** Method and path under the store → the statuses docs/connect-api.md gives it. */
const DOCUMENTED: Record<string, number[]> = {
  'POST /search/product-search': [201, 400, 404],
  'GET /products/{productId}': [200, 400, 404],
  'GET /pricing/products/{productId}': [200, 400, 404],
  'GET /pricing/products': [200, 400, 404],
  'POST /pricing/products': [201, 400, 404],
  'GET /accounts/{accountId}/addresses': [200, 400, 404],
  'POST /accounts/{accountId}/addresses': [201, 400, 404],
  'GET /accounts/{accountId}/addresses/{addressId}': [200, 400, 404],
  'PATCH /accounts/{accountId}/addresses/{addressId}': [200, 400, 404],
  'DELETE /accounts/{accountId}/addresses/{addressId}': [204, 400, 404],
  'GET /order-summaries': [200, 400, 404],
  'GET /order-summaries/{orderSummaryId}': [200, 400, 404],
  'POST /carts': [200, 201, 400, 404],
  'GET /carts/{cartStateOrId}': [200, 202, 400, 404],
  'PUT /carts/{cartStateOrId}': [200, 201, 400, 404],
  'DELETE /carts/{cartStateOrId}': [204, 400, 404],
  'GET /carts/{cartStateOrId}/cart-items': [200, 400, 404],
  'POST /carts/{cartStateOrId}/cart-items': [201, 400, 404, 409],
  'POST /carts/{cartStateOrId}/cart-items/batch': [200, 400, 404],
  'PATCH /carts/{cartStateOrId}/cart-items/{cartItemId}': [200, 400, 404, 409],
  'DELETE /carts/{cartStateOrId}/cart-items/{cartItemId}': [204, 400, 404, 409],
  'POST /carts/{cartStateOrId}/actions/calculate': [200, 202, 400, 404, 409],
  'POST /checkouts': [202, 400, 404, 409],
  'PUT /checkouts': [202, 400, 404, 409],
  'GET /checkouts/{checkoutId}': [200, 202, 400, 404, 422],
  'PATCH /checkouts/{checkoutId}': [202, 400, 404, 409],
  'DELETE /checkouts/{checkoutId}': [204, 400, 404, 409],
  'POST /payments/token': [201, 400, 404],
  'POST /checkouts/{checkoutId}/payments': [201, 400, 404, 409],
  'POST /checkouts/{checkoutId}/orders': [201, 400, 404, 409, 412, 422],
  'POST /checkouts/{checkoutId}/orders/actions': [200, 400, 404, 422],
};

describe('OpenAPI document of the Connect routes', () => {
  let t: TestServer;
  let paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  beforeAll(async () => {
    t = await startTestServer(':memory:', { seed: false });
    const admin = await t.engine.seed({
      User: [{ ref: 'u', Username: 'reader@store.example', Name: 'Reader', Password: 'reader-password-1' }],
    });
    expect(admin.u).toBeTruthy();
    const token = await t.token('reader@store.example', 'reader-password-1');
    const doc = await t.call('GET', '/openapi.json', { token });
    expect(doc.status).toBe(200);
    paths = doc.body.paths;
  });
  afterAll(() => t.close());

  it('lists every Connect route, and no Connect route it does not document', () => {
    const listed = Object.entries(paths)
      .filter(([p]) => p.startsWith(STORE))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.slice(STORE.length)}`));
    expect(listed.sort()).toEqual(Object.keys(DOCUMENTED).sort());
  });

  it.each(Object.entries(DOCUMENTED))('%s answers its documented statuses and 401', (route, statuses) => {
    const [method, path] = route.split(' ') as [string, string];
    const responses = Object.keys(paths[STORE + path]![method.toLowerCase()]!.responses ?? {}).map(Number);
    for (const s of [...statuses, 401]) expect([route, responses.includes(s)]).toEqual([route, true]);
  });
});
