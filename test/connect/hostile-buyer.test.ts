/**
 * A hostile buyer sweep over every Commerce Connect route, over HTTP with fetch, on SQLite and
 * PostgreSQL. The first buyer (Acme) has a placed order, a cart with items in a ready checkout and
 * saved addresses; a buyer of another account (Globex) aims every Connect route at them — by id in
 * the path, in the body, and as `effectiveAccountId`. Each call answers 404 exactly as the same call
 * with an id that names nothing (the message differing only by the id), and a dump of every stored
 * row is unchanged afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../http/helpers.js';
import { dropTestSchemas, freshPgUrl } from '../helpers/backends.js';

afterAll(dropTestSchemas);

/** Well-formed ids that name nothing, one per key prefix. */
const MISSING = {
  cart: '0a6000000000999',
  item: '0a9000000000999',
  checkout: '2z9000000000999',
  address: '8lW000000000999',
  summary: '1Os000000000999',
  account: '001000000000999',
};

describe.each([
  { name: 'sqlite', location: () => ':memory:' },
  { name: 'postgres', location: freshPgUrl },
])('hostile buyer on $name', (backend) => {
  let t: TestServer;
  let acme: string;
  let globex: string;
  let base: string;
  let v64: string;
  /** The first buyer's things. */
  const mine = { cart: '', item: '', checkout: '', address: '', summary: '', placedCart: '' };

  const poll = async (path: string) => {
    for (let i = 0; i < 400; i++) {
      const r = await t.call('GET', path, { token: acme });
      if (r.status !== 202) return r;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`still 202: ${path}`);
  };

  beforeAll(async () => {
    t = await startTestServer(backend.location(), { sessionState: '' });
    acme = await t.token('buyer@acme.example');
    globex = await t.token('buyer@globex.example');
    base = `/services/data/v62.0/commerce/webstores/${t.ids.store}`;
    v64 = `/services/data/v64.0/commerce/webstores/${t.ids.store}`;

    // A placed order: the demo cart checked out with a purchase order number.
    const first = await t.call('POST', `${base}/checkouts`, { token: acme, body: { cartId: 'active' } });
    expect(first.status).toBe(202);
    expect((await poll(`${base}/checkouts/${first.body.checkoutId}`)).status).toBe(200);
    const po = { requestType: 'SimplePurchaseOrder', paymentToken: 'PO-1' };
    expect((await t.call('POST', `${base}/checkouts/${first.body.checkoutId}/payments`, { token: acme, body: po })).status).toBe(201);
    expect((await t.call('POST', `${base}/checkouts/${first.body.checkoutId}/orders`, { token: acme })).status).toBe(201);
    for (let i = 0; i < 400 && !mine.summary; i++) {
      const list = await t.call('GET', `${base}/order-summaries`, { token: acme });
      mine.summary = list.body.orderSummaries[0]?.orderSummaryId ?? '';
      if (!mine.summary) await new Promise((res) => setTimeout(res, 25));
    }
    expect(mine.summary).toMatch(/^1Os/);
    for (let i = 0; i < 400; i++) {
      if ((await t.call('GET', `${base}/carts/${t.ids.cart}`, { token: acme })).body.status === 'Closed') break;
      await new Promise((res) => setTimeout(res, 25));
    }
    expect((await t.call('GET', `${base}/carts/${t.ids.cart}`, { token: acme })).body.status).toBe('Closed');
    mine.placedCart = t.ids.cart!;

    // A new cart with an item, in a checkout ready for payment (not paid).
    const cart = await t.call('POST', `${base}/carts`, { token: acme, body: { name: 'Second' } });
    expect(cart.status).toBe(201);
    mine.cart = cart.body.cartId;
    const item = await t.call('POST', `${base}/carts/${mine.cart}/cart-items`, {
      token: acme,
      body: { productId: t.ids.product0, quantity: '2', type: 'Product' },
    });
    expect(item.status).toBe(201);
    mine.item = item.body.cartItemId;
    const start = await t.call('POST', `${base}/checkouts`, {
      token: acme,
      body: { cartId: mine.cart, deliveryAddress: { id: t.ids.acmeShipping } },
    });
    expect(start.status).toBe(202);
    mine.checkout = start.body.checkoutId;
    expect((await poll(`${base}/checkouts/${mine.checkout}`)).status).toBe(200);
    mine.address = t.ids.acmeShipping!;
  });
  afterAll(() => t.close());

  /** Every Connect route aimed at the first buyer's things, and the same call at an id that names nothing. */
  function attacks(): {
    name: string;
    method: string;
    path: string;
    body?: unknown;
    missingPath: string;
    missingBody?: unknown;
    id: string;
    missing: string;
  }[] {
    const card = { requestType: 'SimplePurchaseOrder', paymentToken: 'PO-EVIL' };
    const item = { productId: t.ids.product1, quantity: 1, type: 'Product' };
    const list: ReturnType<typeof attacks> = [];
    const at = (name: string, method: string, path: (id: string) => string, id: string, missing: string, body?: (id: string) => unknown) =>
      list.push({ name, method, path: path(id), missingPath: path(missing), body: body?.(id), missingBody: body?.(missing), id, missing });
    // Carts and items.
    for (const cart of [mine.cart, mine.placedCart]) {
      at('GET cart', 'GET', (c) => `${base}/carts/${c}`, cart, MISSING.cart);
      at('DELETE cart', 'DELETE', (c) => `${base}/carts/${c}`, cart, MISSING.cart);
      at('GET items', 'GET', (c) => `${base}/carts/${c}/cart-items`, cart, MISSING.cart);
      at(
        'POST item',
        'POST',
        (c) => `${base}/carts/${c}/cart-items`,
        cart,
        MISSING.cart,
        () => item,
      );
      at(
        'POST batch',
        'POST',
        (c) => `${base}/carts/${c}/cart-items/batch`,
        cart,
        MISSING.cart,
        () => ({ inputs: [{ richInput: item }] }),
      );
      at(
        'POST calculate',
        'POST',
        (c) => `${base}/carts/${c}/actions/calculate`,
        cart,
        MISSING.cart,
        () => ({}),
      );
      at(
        'start checkout on the cart',
        'POST',
        () => `${base}/checkouts`,
        cart,
        MISSING.cart,
        (c) => ({ cartId: c }),
      );
      at(
        'PUT checkouts on the cart',
        'PUT',
        () => `${base}/checkouts`,
        cart,
        MISSING.cart,
        (c) => ({ cartId: c }),
      );
    }
    at(
      'PATCH item',
      'PATCH',
      (i) => `${base}/carts/${mine.cart}/cart-items/${i}`,
      mine.item,
      MISSING.item,
      () => ({ quantity: '9' }),
    );
    at('DELETE item', 'DELETE', (i) => `${base}/carts/${mine.cart}/cart-items/${i}`, mine.item, MISSING.item);
    // Checkouts, payments, orders.
    at('GET checkout', 'GET', (c) => `${base}/checkouts/${c}`, mine.checkout, MISSING.checkout);
    at(
      'PATCH checkout',
      'PATCH',
      (c) => `${base}/checkouts/${c}`,
      mine.checkout,
      MISSING.checkout,
      () => ({ shippingInstructions: 'leave it' }),
    );
    at('DELETE checkout', 'DELETE', (c) => `${base}/checkouts/${c}`, mine.checkout, MISSING.checkout);
    at(
      'pay',
      'POST',
      (c) => `${base}/checkouts/${c}/payments`,
      mine.checkout,
      MISSING.checkout,
      () => card,
    );
    at('place order', 'POST', (c) => `${base}/checkouts/${c}/orders`, mine.checkout, MISSING.checkout);
    at(
      'submit (v64)',
      'POST',
      (c) => `${v64}/checkouts/${c}/orders/actions`,
      mine.checkout,
      MISSING.checkout,
      () => ({
        actions: [{ action: 'submit' }],
      }),
    );
    // Addresses: the other account in the path, and the other account's address under one's own account.
    at('GET addresses', 'GET', (a) => `${base}/accounts/${a}/addresses`, t.ids.acme!, MISSING.account);
    at(
      'POST address',
      'POST',
      (a) => `${base}/accounts/${a}/addresses`,
      t.ids.acme!,
      MISSING.account,
      () => ({
        name: 'Evil',
        street: '1 Evil St',
        city: 'X',
        country: 'US',
        addressType: 'Shipping',
      }),
    );
    at('GET address', 'GET', (a) => `${base}/accounts/${t.ids.globex}/addresses/${a}`, mine.address, MISSING.address);
    at(
      'PATCH address',
      'PATCH',
      (a) => `${base}/accounts/${t.ids.globex}/addresses/${a}`,
      mine.address,
      MISSING.address,
      () => ({ city: 'X' }),
    );
    at('DELETE address', 'DELETE', (a) => `${base}/accounts/${t.ids.globex}/addresses/${a}`, mine.address, MISSING.address);
    at('GET address via its account', 'GET', (a) => `${base}/accounts/${a}/addresses/${mine.address}`, t.ids.acme!, MISSING.account);
    // Order summaries.
    at('GET order summary', 'GET', (s) => `${base}/order-summaries/${s}`, mine.summary, MISSING.summary);
    // Acting for the other account.
    for (const [name, method, path, body] of [
      ['search as', 'POST', `${base}/search/product-search`, { searchTerm: 'widget' }],
      ['product as', 'GET', `${base}/products/${t.ids.product0}`, undefined],
      ['price as', 'GET', `${base}/pricing/products/${t.ids.product0}`, undefined],
      ['prices as', 'GET', `${base}/pricing/products?productIds=${t.ids.product0}`, undefined],
      ['active cart as', 'GET', `${base}/carts/active`, undefined],
      ['new cart as', 'POST', `${base}/carts`, { name: 'Evil' }],
      ['summaries as', 'GET', `${base}/order-summaries`, undefined],
      ['active checkout as', 'GET', `${base}/checkouts/active`, undefined],
      ['token as', 'POST', `${base}/payments/token`, undefined],
    ] as const) {
      const q = (a: string) => `${path}${path.includes('?') ? '&' : '?'}effectiveAccountId=${a}`;
      list.push({
        name,
        method,
        path: q(t.ids.acme!),
        missingPath: q(MISSING.account),
        body,
        missingBody: body,
        id: t.ids.acme!,
        missing: MISSING.account,
      });
    }
    return list;
  }

  it('every Connect route answers the other account’s things like missing ones, and nothing changes', async () => {
    const before = await t.engine.admin.dump();
    const list = attacks();
    expect(list.length).toBeGreaterThan(30);
    for (const a of list) {
      const hostile = await t.call(a.method, a.path, { token: globex, body: a.body });
      const missing = await t.call(a.method, a.missingPath, { token: globex, body: a.missingBody });
      expect([a.name, a.method, a.path, hostile.status]).toEqual([a.name, a.method, a.path, 404]);
      expect([a.name, missing.status]).toEqual([a.name, 404]);
      expect([a.name, hostile.body[0].errorCode]).toEqual([a.name, 'NOT_FOUND']);
      const same = (b: unknown, id: string) => JSON.stringify(b).split(id).join('<id>');
      expect([a.name, same(hostile.body, a.id)]).toEqual([a.name, same(missing.body, a.missing)]);
    }
    // The second account's own checkout can't ship to the first account's address.
    const own = await t.call('POST', `${base}/checkouts`, {
      token: globex,
      body: { cartId: 'active', deliveryAddress: { id: mine.address } },
    });
    expect(own.status).toBe(404);
    expect(await t.engine.admin.dump()).toEqual(before);
  });

  it('the first buyer still reaches every one of them', async () => {
    expect((await t.call('GET', `${base}/carts/${mine.cart}`, { token: acme })).status).toBe(200);
    expect((await t.call('GET', `${base}/carts/${mine.cart}/cart-items`, { token: acme })).body.count).toBe(1);
    expect((await poll(`${base}/checkouts/${mine.checkout}`)).status).toBe(200);
    expect((await t.call('GET', `${base}/accounts/${t.ids.acme}/addresses/${mine.address}`, { token: acme })).status).toBe(200);
    expect((await t.call('GET', `${base}/order-summaries/${mine.summary}`, { token: acme })).status).toBe(200);
  });

  it('malformed JSON is still refused on Connect routes; an empty body is no body', async () => {
    const bad = await t.call('POST', `${base}/checkouts/${mine.checkout}/payments`, { token: acme, raw: '{"requestType":' });
    expect(bad.status).toBe(400);
    expect(bad.body[0].errorCode).toBe('JSON_PARSER_ERROR');
    const poisoned = await t.call('POST', `${base}/search/product-search`, { token: acme, raw: '{"__proto__":{"x":1},"searchTerm":"w"}' });
    expect(poisoned.status).toBe(400);
    expect(poisoned.body[0].errorCode).toBe('JSON_PARSER_ERROR');
    const charset = await t.call('POST', `${base}/search/product-search`, {
      token: acme,
      raw: '{"searchTerm":"widget"}',
      contentType: 'application/json; charset=UTF-8',
    });
    expect(charset.status).toBe(201);
    const empty = await t.call('POST', `${base}/search/product-search`, { token: acme, raw: '' });
    expect(empty.status).toBe(400);
    expect(empty.body[0].errorCode).not.toBe('JSON_PARSER_ERROR');
  });
});
