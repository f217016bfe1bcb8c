/**
 * The Commerce Cart Connect API over HTTP (src/http/routes/connect-carts.ts, src/connect/carts.ts),
 * through a real client against a started server, on SQLite and PostgreSQL: each endpoint's
 * statuses and errors, the recalculation after a change, the version rule for a cart in Checkout
 * (v62 cancels the checkout, v63 keeps it and re-runs the calculators), the 202 while a checkout
 * step runs, batch partial failures, and a hostile second account.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { demoFixture } from '../../src/demo/fixture.js';
import { mintId } from '../../src/domain/ids.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { startTestServer, type TestServer } from './helpers.js';

afterAll(dropTestSchemas);

interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

/** A JSON request returning status, body and headers. */
async function send(t: TestServer, method: string, path: string, token: string, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(t.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null, headers: res.headers };
}

const OUTSIDER = 'buyer@globex.example';

for (const backend of [BACKENDS[0]!, BACKENDS[2]!]) {
  describe(`Cart API on ${backend.name}`, () => {
    let t: TestServer;
    afterEach(async () => {
      await t?.engine.close();
      await t?.close();
    });

    /** A server with the demo store; `checkout`: the cart in Checkout with a session at checkoutSummary. */
    async function start(checkout = false) {
      t = await startTestServer(backend.location(), { seed: false });
      const fixture = demoFixture(checkout ? { sessionState: 'checkoutSummary' } : {});
      // Products the cart doesn't hold: two the store prices, one it doesn't sell (no price).
      fixture.Product2!.push(
        { ref: 'extra0', Name: 'Gadget A', StockKeepingUnit: 'SKU-X0' },
        { ref: 'extra1', Name: 'Gadget B', StockKeepingUnit: 'SKU-X1' },
        { ref: 'unpriced', Name: 'Unpriced', StockKeepingUnit: 'SKU-U' },
      );
      fixture.PricebookEntry!.push(
        { Pricebook2Id: '@demoPricebook', Product2Id: '@extra0', UnitPrice: 12.5, IsActive: true },
        { Pricebook2Id: '@demoPricebook', Product2Id: '@extra1', UnitPrice: 7.25, IsActive: true },
      );
      t.ids = await t.engine.seed(fixture);
      const token = await t.token();
      const base = (v = 'v62.0') => `/services/data/${v}/commerce/webstores/${t.ids.store}`;
      return { token, base };
    }

    const productLines = async (cartId: string) =>
      (await t.engine.admin.find('CartItem', { where: [{ field: 'CartId', op: '=', value: cartId }] })).filter((i) => i.Type !== 'Charge');

    it('carts: GET by id, active and current; POST and PUT active answer the active cart; DELETE; 404s', async () => {
      const { token, base } = await start();
      const byId = await send(t, 'GET', `${base()}/carts/${t.ids.cart}`, token);
      expect(byId.status).toBe(200);
      expect(byId.body).toMatchObject({
        cartId: t.ids.cart,
        accountId: t.ids.acme,
        ownerId: t.ids.buyer,
        status: 'Active',
        currencyIsoCode: 'USD',
        isSecondary: false,
        taxType: 'Net',
        type: 'Cart',
        webstoreId: t.ids.store,
        asyncOperationStatus: 'Completed',
      });
      const stored = (await t.engine.admin.get('WebCart', t.ids.cart!))!;
      expect(byId.body.grandTotalAmount).toBe(Number(stored.GrandTotalAmount).toFixed(2));
      expect((await send(t, 'GET', `${base()}/carts/active`, token)).body.cartId).toBe(t.ids.cart);
      expect((await send(t, 'GET', `${base()}/carts/current`, token)).body.cartId).toBe(t.ids.cart);
      // Before v59 the summary has no asyncOperationStatus.
      expect((await send(t, 'GET', `${base('v58.0')}/carts/active`, token)).body).not.toHaveProperty('asyncOperationStatus');
      // An active cart exists: POST and PUT active answer it (200), create nothing.
      const post = await send(t, 'POST', `${base()}/carts`, token, { name: 'Another', type: 'Cart' });
      expect(post.status).toBe(200);
      expect(post.body.cartId).toBe(t.ids.cart);
      expect((await send(t, 'PUT', `${base()}/carts/active`, token)).status).toBe(200);
      expect(await t.engine.admin.count('WebCart')).toBe(1);
      expect((await send(t, 'PUT', `${base()}/carts/${t.ids.cart}`, token)).status).toBe(400);
      // DELETE: 204, then the cart is gone (404 by id and as active).
      expect((await send(t, 'DELETE', `${base()}/carts/active`, token)).status).toBe(204);
      expect((await send(t, 'GET', `${base()}/carts/${t.ids.cart}`, token)).status).toBe(404);
      const none = await send(t, 'GET', `${base()}/carts/active`, token);
      expect(none.status).toBe(404);
      expect(none.body[0]).toMatchObject({ errorCode: 'NOT_FOUND' });
      // PUT active creates the active cart (201, Location), POST then answers it.
      const put = await send(t, 'PUT', `${base()}/carts/active?currencyIsoCode=USD`, token);
      expect(put.status).toBe(201);
      expect(put.headers.get('location')).toBe(`${base()}/carts/${put.body.cartId}`);
      expect(put.body).toMatchObject({ status: 'Active', name: 'Cart', grandTotalAmount: '0.00', totalProductCount: '0.0' });
      expect((await send(t, 'POST', `${base()}/carts`, token, {})).body.cartId).toBe(put.body.cartId);
      // The new cart has no delivery group: a refused first item leaves none behind; an added one makes 'Default Delivery'.
      const groupsOf = (cartId: string) =>
        t.engine.admin.find('CartDeliveryGroup', { where: [{ field: 'CartId', op: '=', value: cartId }] });
      const refused = await send(t, 'POST', `${base()}/carts/active/cart-items`, token, { productId: t.ids.extra0, quantity: '1.5' });
      expect(refused.status).toBe(400);
      expect(await groupsOf(put.body.cartId)).toEqual([]);
      const first = await send(t, 'POST', `${base()}/carts/active/cart-items`, token, { productId: t.ids.extra0, quantity: '1' });
      expect(first.status).toBe(201);
      expect((await groupsOf(put.body.cartId)).map((g) => [g.Id, g.Name])).toEqual([[first.body.cartDeliveryGroupId, 'Default Delivery']]);
      expect((await send(t, 'GET', `${base()}/carts/active`, token)).body).toMatchObject({
        totalProductAmount: '12.50',
        totalProductAmountAfterAdjustments: '11.87', // the store's 5% promotion: 0.625 off, rounded half-up
        uniqueProductCount: 1,
      });
      // Bad input names the field.
      const eur = await send(t, 'POST', `${base()}/carts`, token, { currencyIsoCode: 'EUR' });
      expect(eur.status).toBe(400);
      expect(eur.body[0].fields).toEqual(['currencyIsoCode']);
      const secondary = await send(t, 'POST', `${base()}/carts`, token, { isSecondary: true });
      expect(secondary.body[0]).toMatchObject({ errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', fields: ['isSecondary'] });
      const extra = await send(t, 'POST', `${base()}/carts`, token, { colour: 'red' });
      expect(extra.body[0]).toMatchObject({ errorCode: 'INVALID_FIELD', fields: ['colour'] });
      expect((await send(t, 'GET', `${base()}/carts/not-an-id`, token)).status).toBe(400);
      expect((await send(t, 'GET', `/services/data/v62.0/commerce/webstores/${mintId('0ZE')}/carts/active`, token)).status).toBe(404);
    });

    it('items: add (recalculated, merged per product), list with page tokens and sorts, patch, delete', async () => {
      const { token, base } = await start();
      const lines = await productLines(t.ids.cart!);
      const fresh = (await t.engine.admin.get('Product2', t.ids.extra0!))!;
      const held = lines[0]!;
      const add = await send(t, 'POST', `${base()}/carts/active/cart-items`, token, {
        productId: fresh.Id,
        quantity: '2',
        type: 'Product',
      });
      expect(add.status).toBe(201);
      const entry = (await t.engine.admin.find('PricebookEntry', { where: [{ field: 'Product2Id', op: '=', value: fresh.Id }] }))[0]!;
      const price = Number(entry.UnitPrice).toFixed(2);
      expect(add.body).toMatchObject({
        cartId: t.ids.cart,
        productId: fresh.Id,
        name: fresh.Name,
        quantity: '2.0',
        type: 'Product',
        salesPrice: price,
        listPrice: price,
        totalPrice: (Number(price) * 2).toFixed(2),
      });
      // The recalculation ran: a Cart Calculate operation with pricing and promotions.
      const ops = (await t.engine.admin.find('BackgroundOperation')).filter((o) => o.Name === 'Cart Calculate');
      expect(ops).toHaveLength(1);
      // Adding a product the cart holds adds to its line.
      const more = await send(t, 'POST', `${base()}/carts/${t.ids.cart}/cart-items`, token, { productId: held.Product2Id, quantity: 3 });
      expect(more.status).toBe(201);
      expect(more.body).toMatchObject({ cartItemId: held.Id, quantity: `${Number(held.Quantity) + 3}.0` });
      const count = lines.length + 1;
      // Paging: pages of 2 with tokens until the end, every item once.
      const seen: string[] = [];
      let path: string | null = `${base()}/carts/active/cart-items?pageSize=2&sort=NameAsc&productFields=StockKeepingUnit`;
      let pages = 0;
      while (path) {
        const page: Reply = await send(t, 'GET', path, token);
        expect(page.status).toBe(200);
        expect(page.body.count).toBe(count);
        expect(page.body.cartItems.length).toBeLessThanOrEqual(2);
        for (const r of page.body.cartItems) {
          expect(r.status).toBe('Success');
          expect(r.cartItem.productDetails.fields).toHaveProperty('StockKeepingUnit');
          seen.push(r.cartItem.name);
        }
        pages++;
        path = page.body.nextPageUrl;
      }
      expect(pages).toBe(Math.ceil(count / 2));
      expect(seen).toEqual([...seen].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
      expect(new Set(seen).size).toBe(count);
      const first = await send(t, 'GET', `${base()}/carts/active/cart-items`, token);
      expect(first.body).toMatchObject({ previousPageToken: null, nextPageToken: null, hasErrors: false });
      expect(first.body.cartSummary.cartId).toBe(t.ids.cart);
      const byPrice = await send(t, 'GET', `${base()}/carts/active/cart-items?sort=SalesPriceDesc`, token);
      const prices = byPrice.body.cartItems.map((r: { cartItem: { salesPrice: string } }) => Number(r.cartItem.salesPrice));
      expect(prices).toEqual([...prices].sort((a, b) => b - a));
      for (const [q, field] of [
        ['pageSize=0', 'pageSize'],
        ['pageSize=101', 'pageSize'],
        ['page=bogus', 'page'],
        ['sort=PriceAsc', 'sort'],
        ['productFields=Secret__c', 'productFields'],
      ]) {
        const bad = await send(t, 'GET', `${base()}/carts/active/cart-items?${q}`, token);
        expect(bad.status, q).toBe(400);
        expect(bad.body[0].fields).toEqual([field]);
      }
      // PATCH the quantity: 200 with the recalculated line.
      const patch = await send(t, 'PATCH', `${base()}/carts/active/cart-items/${add.body.cartItemId}`, token, { quantity: '5' });
      expect(patch.status).toBe(200);
      expect(patch.body).toMatchObject({ quantity: '5.0', totalPrice: (Number(price) * 5).toFixed(2) });
      expect((await send(t, 'GET', `${base()}/carts/active`, token)).body.totalProductCount).toBe(
        `${(await productLines(t.ids.cart!)).reduce((s, l) => s + Number(l.Quantity), 0)}.0`,
      );
      // DELETE: 204; the item is gone, a second delete is 404.
      expect((await send(t, 'DELETE', `${base()}/carts/active/cart-items/${add.body.cartItemId}`, token)).status).toBe(204);
      expect(await t.engine.admin.get('CartItem', add.body.cartItemId)).toBeUndefined();
      expect((await send(t, 'DELETE', `${base()}/carts/active/cart-items/${add.body.cartItemId}`, token)).status).toBe(404);
    });

    it('item writes refuse bad input naming the field, with the record API line rules, and change nothing', async () => {
      const { token, base } = await start();
      const before = await t.engine.admin.dump(['CartItem', 'WebCart']);
      const product = (await productLines(t.ids.cart!))[0]!.Product2Id;
      const cases: [unknown, number, string, string][] = [
        [{ productId: product, quantity: '1.5' }, 400, 'NUMBER_OUTSIDE_VALID_RANGE', 'Quantity'],
        [{ productId: t.ids.extra0, quantity: '1.5' }, 400, 'NUMBER_OUTSIDE_VALID_RANGE', 'Quantity'],
        [{ productId: t.ids.unpriced, quantity: '1' }, 404, 'NOT_FOUND', 'productId'],
        [{ productId: product, quantity: 'two' }, 400, 'INVALID_TYPE_ON_FIELD_IN_RECORD', 'quantity'],
        [{ productId: product, quantity: '0' }, 400, 'NUMBER_OUTSIDE_VALID_RANGE', 'quantity'],
        [{ productId: product }, 400, 'REQUIRED_FIELD_MISSING', 'quantity'],
        [{ productId: 'nope', quantity: '1' }, 400, 'MALFORMED_ID', 'productId'],
        [{ productId: '01t000000000000AAA', quantity: '1' }, 404, 'NOT_FOUND', 'productId'],
        [{ productId: product, quantity: '1', type: 'Charge' }, 400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', 'type'],
        [{ productId: product, quantity: '1', price: '0.01' }, 400, 'INVALID_FIELD', 'price'],
        [{ productId: product, quantity: '100000000000000000' }, 400, 'NUMBER_OUTSIDE_VALID_RANGE', 'Quantity'],
      ];
      for (const [body, status, code, field] of cases) {
        const r = await send(t, 'POST', `${base()}/carts/active/cart-items`, token, body);
        expect([r.status, r.body[0]?.errorCode, r.body[0]?.fields], JSON.stringify(body)).toEqual([status, code, [field]]);
      }
      const item = (await productLines(t.ids.cart!))[0]!;
      const patch = await send(t, 'PATCH', `${base()}/carts/active/cart-items/${item.Id}`, token, {});
      expect(patch.status).toBe(400);
      expect(
        (
          await send(t, 'PATCH', `${base('v58.0')}/carts/active/cart-items/${item.Id}`, token, {
            cartDeliveryGroupId: item.CartDeliveryGroupId,
          })
        ).status,
      ).toBe(400);
      expect(await t.engine.admin.dump(['CartItem', 'WebCart'])).toEqual(before);
    });

    it('batch: each item on its own, one recalculation; a refused item leaves the others', async () => {
      const { token, base } = await start();
      const lines = await productLines(t.ids.cart!);
      const fresh = [{ Id: t.ids.extra0 }, { Id: t.ids.extra1 }];
      const r = await send(t, 'POST', `${base()}/carts/active/cart-items/batch`, token, {
        cartItems: [
          { productId: fresh[0]!.Id, quantity: '1', type: 'Product' },
          { productId: fresh[1]!.Id, quantity: '1.25', type: 'Product' },
          { productId: '01t000000000000AAA', quantity: '1', type: 'Product' },
          { productId: lines[0]!.Product2Id, quantity: '2', type: 'Product' },
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.hasErrors).toBe(true);
      expect(r.body.results.map((x: { statusCode: number }) => x.statusCode)).toEqual([201, 400, 404, 201]);
      expect(r.body.results[0].result).toMatchObject({ productId: fresh[0]!.Id, quantity: '1.0' });
      expect(r.body.results[1].result[0]).toMatchObject({ errorCode: 'NUMBER_OUTSIDE_VALID_RANGE' });
      expect(r.body.results[1].result[0].message).toMatch(/Quantity 1\.25/);
      expect(r.body.results[2].result[0]).toMatchObject({ errorCode: 'NOT_FOUND' });
      expect(r.body.results[2].result[0].message).toMatch(/cartItems\[2\]\.productId/);
      expect(r.body.results[3].result).toMatchObject({ cartItemId: lines[0]!.Id, quantity: `${Number(lines[0]!.Quantity) + 2}.0` });
      const after = await productLines(t.ids.cart!);
      expect(after.map((l) => l.Product2Id).sort()).toEqual([...lines.map((l) => l.Product2Id), fresh[0]!.Id].sort());
      expect((await t.engine.admin.find('BackgroundOperation')).filter((o) => o.Name === 'Cart Calculate')).toHaveLength(1);
      // Connect's batch input: { batchRequests: [{ richInput }] }, errors naming the entry.
      const rich = await send(t, 'POST', `${base()}/carts/active/cart-items/batch`, token, {
        batchRequests: [
          { richInput: { productId: fresh[1]!.Id, quantity: '2', type: 'Product' } },
          { richInput: { productId: 'bad' } },
          {},
        ],
      });
      expect(rich.status).toBe(200);
      expect(rich.body.results.map((x: { statusCode: number }) => x.statusCode)).toEqual([201, 400, 400]);
      expect(rich.body.results[0].result).toMatchObject({ productId: fresh[1]!.Id, quantity: '2.0', salesPrice: '7.25' });
      expect(rich.body.results[1].result[0].message).toMatch(/batchRequests\[1\]\.richInput\.productId/);
      expect(rich.body.results[2].result[0].message).toMatch(/batchRequests\[2\]\.richInput/);
      expect((await send(t, 'POST', `${base()}/carts/active/cart-items/batch`, token, { cartItems: [] })).status).toBe(400);
      const both = await send(t, 'POST', `${base()}/carts/active/cart-items/batch`, token, { cartItems: [{}], batchRequests: [{}] });
      expect(both.status).toBe(400);
      const tooMany = Array.from({ length: 101 }, () => ({ productId: fresh[0]!.Id, quantity: '1' }));
      const big = await send(t, 'POST', `${base()}/carts/active/cart-items/batch`, token, { cartItems: tooMany });
      expect([big.status, big.body[0].errorCode]).toEqual([400, 'LIMIT_EXCEEDED']);
    });

    it('a cart in Checkout, v62: an item change cancels the checkout; only prices and promotions run on the Active cart', async () => {
      const { token, base } = await start(true);
      const [line] = await productLines(t.ids.cart!);
      const v62 = await send(t, 'PATCH', `${base('v62.0')}/carts/active/cart-items/${line!.Id}`, token, { quantity: '4' });
      expect(v62.status).toBe(200);
      expect((await t.engine.admin.get('WebCart', t.ids.cart!))!.Status).toBe('Active');
      expect((await t.engine.admin.get('CartCheckoutSession', t.ids.session!))!.IsArchived).toBe(true);
      expect((await t.engine.admin.find('ProductReservation')).every((r) => r.Status !== 'Held')).toBe(true);
      // Only prices and promotions ran on the now Active cart.
      const [op62] = (await t.engine.admin.find('BackgroundOperation')).filter((o) => o.Name === 'Cart Calculate');
      expect(op62).toMatchObject({ Status: 'Complete' });
      expect(
        await t.engine.admin.count('CartValidationOutput', [{ field: 'Type', op: 'in', value: ['Inventory', 'Taxes', 'Shipping'] }]),
      ).toBe(0);
    });

    it('v63: the checkout is kept, inventory, shipping and taxes re-run; the session is stamped', async () => {
      const { token, base } = await start(true);
      const [line] = await productLines(t.ids.cart!);
      const r = await send(t, 'PATCH', `${base('v63.0')}/carts/active/cart-items/${line!.Id}`, token, { quantity: '4' });
      expect(r.status).toBe(200);
      expect(r.body.quantity).toBe('4.0');
      expect((await t.engine.admin.get('WebCart', t.ids.cart!))!.Status).toBe('Checkout');
      const session = (await t.engine.admin.get('CartCheckoutSession', t.ids.session!))!;
      expect(session.IsArchived).toBe(false);
      // Inventory re-ran: the line's stock hold follows the new quantity.
      const hold = (await t.engine.admin.find('ProductReservation')).find((h) => h.Product2Id === line!.Product2Id && h.Status === 'Held');
      expect(Number(hold!.Quantity)).toBe(4);
      // Shipping and taxes re-ran: delivery options exist and the line's tax follows its new total.
      expect((await t.engine.admin.find('CartDeliveryGroupMethod')).length).toBeGreaterThan(0);
      const stamps = JSON.parse(String(session._stamps)) as { computed: Record<string, { at: string }> };
      expect(Object.keys(stamps.computed).sort()).toEqual(['inventory', 'pricing', 'promotions', 'shipping', 'taxes']);
      const summary = await send(t, 'GET', `${base('v63.0')}/carts/active`, token);
      expect(summary.body).toMatchObject({ status: 'Checkout', asyncOperationStatus: 'Completed' });
    });

    it('202 with Location and Retry-After while a checkout step runs; a v63 write is refused with 409 then', async () => {
      const { token, base } = await start(true);
      await t.engine.core.storage.update('CartCheckoutSession', t.ids.session!, { IsProcessing: true, NextState: 'inventory' });
      const get = await send(t, 'GET', `${base()}/carts/${t.ids.cart}`, token);
      expect(get.status).toBe(202);
      expect(get.headers.get('location')).toBe(`${base()}/carts/${t.ids.cart}`);
      expect(get.headers.get('retry-after')).toBe('1');
      expect(get.body).toMatchObject({ cartId: t.ids.cart, asyncOperationStatus: 'Processing' });
      const calc = await send(t, 'POST', `${base()}/carts/active/actions/calculate`, token, {});
      expect(calc.status).toBe(202);
      expect((await t.engine.admin.find('BackgroundOperation')).filter((o) => o.Name === 'Cart Calculate')).toEqual([]);
      const [line] = await productLines(t.ids.cart!);
      const write = await send(t, 'PATCH', `${base('v63.0')}/carts/active/cart-items/${line!.Id}`, token, { quantity: '4' });
      expect(write.status).toBe(409);
      expect(write.body[0].errorCode).toBe('CHECKOUT_CONFLICT');
      expect(Number((await t.engine.admin.get('CartItem', String(line!.Id)))!.Quantity)).toBe(Number(line!.Quantity));
    });

    it('actions/calculate (v62+): recalculationRequested, the summary with its outcome; 404 before v62', async () => {
      const { token, base } = await start();
      const [line] = await productLines(t.ids.cart!);
      await t.engine.core.storage.update('CartItem', String(line!.Id), { SalesPrice: 999 });
      const r = await send(t, 'POST', `${base()}/carts/${t.ids.cart}/actions/calculate`, token);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ cartId: t.ids.cart, asyncOperationStatus: 'Completed' });
      expect(Number((await t.engine.admin.get('CartItem', String(line!.Id)))!.SalesPrice)).not.toBe(999);
      expect((await send(t, 'POST', `${base('v61.0')}/carts/${t.ids.cart}/actions/calculate`, token)).status).toBe(404);
      // A failing calculator: the summary says Errored.
      t.engine.registerIntegration('promotions', { startCartProcessAsync: () => Promise.resolve({ status: 'FAILED', message: 'down' }) });
      const failed = await send(t, 'POST', `${base()}/carts/active/actions/calculate`, token, {});
      expect(failed.body.asyncOperationStatus).toBe('Errored');
    });

    it('a hostile second account: the other account’s cart and items answer 404 and nothing changes', async () => {
      const { token, base } = await start(true);
      const outsider = await t.token(OUTSIDER);
      const [line] = await productLines(t.ids.cart!);
      const before = await t.engine.admin.dump(['WebCart', 'CartItem', 'CartCheckoutSession', 'BackgroundOperation', 'ProductReservation']);
      const acmeCart = `${base()}/carts/${t.ids.cart}`;
      const tries: [string, string, unknown?][] = [
        ['GET', acmeCart],
        ['DELETE', acmeCart],
        ['GET', `${acmeCart}/cart-items`],
        ['POST', `${acmeCart}/cart-items`, { productId: line!.Product2Id, quantity: '1' }],
        ['POST', `${acmeCart}/cart-items/batch`, { cartItems: [{ productId: line!.Product2Id, quantity: '1' }] }],
        ['PATCH', `${acmeCart}/cart-items/${line!.Id}`, { quantity: '9' }],
        ['DELETE', `${acmeCart}/cart-items/${line!.Id}`],
        ['POST', `${acmeCart}/actions/calculate`, {}],
        ['GET', `${base()}/carts/active?effectiveAccountId=${t.ids.acme}`],
      ];
      for (const [method, path, body] of tries) {
        const r = await send(t, method, path, outsider, body);
        expect([method, path, r.status, r.body?.[0]?.errorCode]).toEqual([method, path, 404, 'NOT_FOUND']);
      }
      // The outsider's own cart: the acme item isn't in it.
      const own = await send(t, 'PUT', `${base()}/carts/active`, outsider);
      expect(own.status).toBe(201);
      for (const [method, body] of [
        ['PATCH', { quantity: '9' }],
        ['DELETE', undefined],
      ] as const) {
        const r = await send(t, method, `${base()}/carts/active/cart-items/${line!.Id}`, outsider, body);
        expect(r.status).toBe(404);
        expect(r.body[0].fields).toEqual(['cartItemId']);
      }
      // Moving the outsider's own item into the acme cart's delivery group: 404 naming the group, nothing moved.
      const mine = await send(t, 'POST', `${base()}/carts/active/cart-items`, outsider, { productId: t.ids.extra0, quantity: '1' });
      expect(mine.status).toBe(201);
      const move = await send(t, 'PATCH', `${base()}/carts/active/cart-items/${mine.body.cartItemId}`, outsider, {
        cartDeliveryGroupId: line!.CartDeliveryGroupId,
      });
      expect([move.status, move.body[0].fields]).toEqual([404, ['cartDeliveryGroupId']]);
      expect((await t.engine.admin.get('CartItem', mine.body.cartItemId))!.CartDeliveryGroupId).toBe(mine.body.cartDeliveryGroupId);
      const after = await t.engine.admin.dump(['WebCart', 'CartItem', 'CartCheckoutSession', 'BackgroundOperation', 'ProductReservation']);
      const outsiders = (rows: Record<string, unknown>[]) =>
        rows.filter((r) => r.Id !== own.body.cartId && r.CartId !== own.body.cartId && r._cartId !== own.body.cartId);
      expect(Object.fromEntries(Object.entries(after).map(([k, rows]) => [k, outsiders(rows)]))).toEqual(before);
      // The same answers for a cart id that doesn't exist: no existence oracle.
      const missing = await send(t, 'GET', `${base()}/carts/0a6000000000000AAA`, outsider);
      const other = await send(t, 'GET', acmeCart, outsider);
      expect(other.body[0].message.replace(String(t.ids.cart), 'X')).toBe(missing.body[0].message.replace('0a6000000000000AAA', 'X'));
      // The buyer still reaches it.
      expect((await send(t, 'GET', acmeCart, token)).status).toBe(200);
    });
  });
}
