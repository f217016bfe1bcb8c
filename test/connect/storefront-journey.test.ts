/**
 * A storefront developer's happy path through the Commerce Connect API, over HTTP with fetch against
 * a started server, on SQLite and PostgreSQL — the requests a storefront (or an API client collection
 * for B2B Commerce) sends, in the shapes they send them:
 *
 * - login with the SOAP Partner API `login` (a `LoginScopeHeader`, CDATA credentials, `SOAPAction:
 *   login`), reading `sessionId`, `serverUrl` (whose protocol and host are the instance URL),
 *   `userId` and `userInfo.organizationId`; and with the OAuth password flow;
 * - the store's id from a SOQL query with `+` for spaces and a trailing slash on `/query/`;
 * - product search (201), detail, prices (with `productPriceEntries`), the active cart, an item
 *   with `quantity` as a string and a batch (`inputs` of `richInput`) with numbers;
 * - start checkout (`POST checkouts/` with a trailing slash), poll to 200, a ContactPointAddress as
 *   delivery address, a delivery method, poll, `payments/token` with numeric card fields, the Auth
 *   payment, place order with `Content-Type: application/json` and an empty body (201 + order
 *   reference number), polling until the order summary exists, list and detail;
 * - a second purchase paid by purchase order number.
 */
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, startTestServer, type TestServer } from '../http/helpers.js';
import { dropTestSchemas, freshPgUrl } from '../helpers/backends.js';

afterAll(dropTestSchemas);

/** A Partner API login envelope as storefront tools write it. */
const loginEnvelope = (username: string, password: string, orgId = '') =>
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n' +
  (orgId
    ? `  <soap:Header><LoginScopeHeader xmlns="urn:partner.soap.sforce.com"><organizationId>${orgId}</organizationId></LoginScopeHeader></soap:Header>\n`
    : '') +
  `  <soap:Body><login xmlns="urn:partner.soap.sforce.com"><username><![CDATA[${username}]]></username>` +
  `<password><![CDATA[${password}]]></password></login></soap:Body>\n</soap:Envelope>`;

const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

describe.each([
  { name: 'sqlite', location: () => ':memory:' },
  { name: 'postgres', location: freshPgUrl },
])('storefront journey on $name', (backend) => {
  let t: TestServer;
  let instanceUrl: string;
  let token: string;
  let base: string;

  /** A JSON request as a storefront sends it: bearer token, JSON content type whenever a body (even empty) is given. */
  async function send(method: string, path: string, body?: unknown, tk = token) {
    const headers: Record<string, string> = { authorization: `Bearer ${tk}` };
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await fetch(instanceUrl + path, { method, headers, body: payload });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  }

  /** Polls a GET until it stops answering 202. */
  async function poll(path: string) {
    for (let i = 0; i < 400; i++) {
      const r = await send('GET', path);
      if (r.status !== 202) return r;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`still 202: ${path}`);
  }

  /** Polls the order summaries until one for `orderReferenceNumber` exists. */
  async function summaryOf(orderReferenceNumber: string) {
    for (let i = 0; i < 400; i++) {
      const list = await send('GET', `${base}/order-summaries`);
      expect(list.status).toBe(200);
      const found = (list.body.orderSummaries as { orderNumber: string; orderSummaryId: string }[]).find(
        (s) => s.orderNumber === orderReferenceNumber,
      );
      if (found) return found;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`no order summary for ${orderReferenceNumber}`);
  }

  beforeAll(async () => {
    t = await startTestServer(backend.location(), { sessionState: '' });
  });
  afterAll(() => t.close());

  it('logs in with the SOAP Partner API and with OAuth; both tokens reach the Connect API', async () => {
    // The administrator's login: `env:` and `n1:` prefixes, CDATA credentials.
    const admin = await fetch(`${t.url}/services/Soap/u/62.0`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=UTF-8', soapaction: 'login', accept: 'text/xml' },
      body:
        '<?xml version="1.0" encoding="utf-8" ?>\r\n<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" ' +
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:n1="urn:partner.soap.sforce.com" ' +
        'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">\r\n  <env:Body>\r\n    <n1:login>\r\n' +
        `      <n1:username><![CDATA[admin@store.example]]></n1:username>\r\n      <n1:password><![CDATA[${PASSWORD}]]></n1:password>\r\n` +
        '    </n1:login>\r\n  </env:Body>\r\n</env:Envelope>',
    });
    expect(admin.status).toBe(200);
    const adminXml = await admin.text();
    const orgId = tag(adminXml, 'organizationId')!;
    expect(orgId).toMatch(/^00D/);
    // The buyer's login names the org in a LoginScopeHeader, as community logins do.
    const res = await fetch(`${t.url}/services/Soap/u/62.0`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=UTF-8', soapaction: 'login', accept: 'text/xml' },
      body: loginEnvelope('buyer@acme.example', PASSWORD, orgId),
    });
    expect(res.status).toBe(200);
    const xml = await res.text();
    expect(xml).toContain('<soapenv:Envelope');
    expect(xml).toContain('<loginResponse>');
    const serverUrl = tag(xml, 'serverUrl')!;
    const parts = serverUrl.split('/');
    instanceUrl = `${parts[0]}//${parts[2]}`;
    expect(instanceUrl).toBe(t.url);
    expect(tag(xml, 'userId')).toBe(t.ids.buyer);
    token = tag(xml, 'sessionId')!;
    // The same buyer through the OAuth password flow; instance_url is the same instance.
    const form = await fetch(`${t.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'app',
        client_secret: 'secret',
        username: 'buyer@acme.example',
        password: PASSWORD,
      }),
    });
    expect(form.status).toBe(200);
    const granted = (await form.json()) as { access_token: string; instance_url: string };
    expect(granted.instance_url).toBe(t.url);
    const oauth = granted.access_token;
    for (const tk of [token, oauth]) {
      const cart = await send('GET', `/services/data/v62.0/commerce/webstores/${t.ids.store}/carts/active`, undefined, tk);
      expect(cart.status).toBe(200);
      expect(cart.body.accountId).toBe(t.ids.acme);
    }
    // A wrong password is a SOAP fault, not a token.
    const bad = await fetch(`${t.url}/services/Soap/u/62.0`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml; charset=UTF-8', soapaction: 'login' },
      body: loginEnvelope('buyer@acme.example', 'wrong-password'),
    });
    expect(bad.status).toBe(500);
    expect(await bad.text()).toContain('INVALID_LOGIN');
  });

  it('jsforce without OAuth options logs in over SOAP and drives the Connect API', async () => {
    const conn = new jsforce.Connection({ loginUrl: t.url, version: '62.0' });
    const info = await conn.login('buyer@acme.example', PASSWORD);
    expect(info.id).toBe(t.ids.buyer);
    expect(conn.instanceUrl).toBe(t.url);
    const store = `/services/data/v62.0/commerce/webstores/${t.ids.store}`;
    const found = await conn.requestPost<{ productsPage: { total: number } }>(`${store}/search/product-search`, { searchTerm: 'widget' });
    expect(found.productsPage.total).toBe(3);
    const cart = await conn.requestGet<{ accountId: string; status: string }>(`${store}/carts/active`);
    expect(cart).toMatchObject({ accountId: t.ids.acme, status: 'Active' });
  });

  it('finds the store by SOQL, searches, reads a product and its prices, fills the cart', async () => {
    const stores = await send('GET', `/services/data/v62.0/query/?q=SELECT+Id,+Name+FROM+WebStore+WHERE+Name+=+'Demo+B2B+Store'`);
    expect(stores.status).toBe(200);
    expect(stores.body.records.map((r: { Id: string }) => r.Id)).toEqual([t.ids.store]);
    base = `/services/data/v62.0/commerce/webstores/${t.ids.store}`;

    const search = await send('POST', `${base}/search/product-search`, { searchTerm: 'widget', includePrices: true });
    expect(search.status).toBe(201);
    const products = search.body.productsPage.products as { id: string; name: string; prices: { unitPrice: string } }[];
    expect(products.map((p) => p.name).sort()).toEqual(['Widget 1', 'Widget 2', 'Widget 3']);
    const product = products.find((p) => p.name === 'Widget 2')!;

    const detail = await send('GET', `${base}/products/${product.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.fields.Name).toBe('Widget 2');
    expect(detail.body.fields.LastModifiedDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    // What the collection's product check reads: a description, the default image and the first group's first image.
    expect(detail.body.fields.Description).toEqual(expect.any(String));
    expect(detail.body.defaultImage.id).toEqual(expect.any(String));
    expect(detail.body.mediaGroups[0].id).toEqual(expect.any(String));
    expect(detail.body.mediaGroups[0].mediaItems[0]).toMatchObject({ url: '/img/products/SKU-0002.svg', mediaType: 'Image' });
    expect((await fetch(`${t.url}${detail.body.mediaGroups[0].mediaItems[0].url}`)).status).toBe(200);
    const price = await send('GET', `${base}/pricing/products/${product.id}?effectiveAccountId=${t.ids.acme}`);
    expect(price.status).toBe(200);
    expect(price.body.unitPrice).toBe(product.prices.unitPrice);
    expect(price.body.productPriceEntries.length).toBeGreaterThan(0);
    expect(price.body.productPriceEntries[0]).toMatchObject({ pricebookEntryId: price.body.pricebookEntryId, success: true });
    const many = await send(
      'GET',
      `${base}/pricing/products?productIds=${products.map((p) => p.id).join(',')}&effectiveAccountId=${t.ids.acme}`,
    );
    expect(many.status).toBe(200);
    expect(many.body.success).toBe(true);

    const cart = await send('GET', `${base}/carts/active?effectiveAccountId=${t.ids.acme}`);
    expect(cart.status).toBe(200);
    const before = Number(cart.body.totalProductCount);
    const added = await send('POST', `${base}/carts/${cart.body.cartId}/cart-items?effectiveAccountId=${t.ids.acme}`, {
      productId: product.id,
      quantity: '1',
      type: 'Product',
    });
    expect(added.status).toBe(201);
    expect(added.body.cartItemId).toMatch(/^0a9/);
    const batch = await send(
      'POST',
      `${base}/carts/${cart.body.cartId}/cart-items/batch?effectiveAccountId=${t.ids.acme}&currencyIsoCode=USD`,
      {
        inputs: products.filter((p) => p.id !== product.id).map((p) => ({ richInput: { productId: p.id, quantity: 2, type: 'Product' } })),
      },
    );
    expect(batch.status).toBe(200);
    expect(batch.body.hasErrors).toBe(false);
    const after = await send('GET', `${base}/carts/${cart.body.cartId}`);
    expect(Number(after.body.totalProductCount)).toBe(before + 5);
    // A line removed the way request chains do it: a trailing slash, a JSON content type and `{}`.
    const lines = await send('GET', `${base}/carts/${cart.body.cartId}/cart-items?effectiveAccountId=${t.ids.acme}`);
    const last = lines.body.cartItems.find((c: { cartItem: { productId: string } }) => c.cartItem.productId !== product.id).cartItem;
    const removed = await send(
      'DELETE',
      `${base}/carts/${cart.body.cartId}/cart-items/${last.cartItemId}/?effectiveAccountId=${t.ids.acme}`,
      '{}',
    );
    expect(removed.status).toBe(204);
    const left = await send('GET', `${base}/carts/${cart.body.cartId}`);
    expect(Number(left.body.totalProductCount)).toBe(before + 5 - Number(last.quantity));
  });

  it('checks out: start, poll, saved address, delivery method, token, Auth payment, place order, order summary', async () => {
    const cartId = (await send('GET', `${base}/carts/active`)).body.cartId as string;
    const start = await send('POST', `${base}/checkouts/`, { cartId });
    expect(start.status).toBe(202);
    const checkoutId = start.body.checkoutId as string;
    expect(start.headers.get('location')).toContain(`/checkouts/${checkoutId}`);
    const ready = await poll(`${base}/checkouts/${checkoutId}`);
    expect(ready.status).toBe(200);

    // A new saved address, then the checkout ships to it by id.
    const saved = await send('POST', `${base}/accounts/${t.ids.acme}/addresses`, {
      city: 'Portland',
      country: 'US',
      isDefault: false,
      name: 'Portland warehouse',
      postalCode: '97201',
      region: 'OR',
      street: '7 Dock Road',
      addressType: 'Shipping',
    });
    expect(saved.status).toBe(201);
    const list = await send(
      'GET',
      `${base}/accounts/${t.ids.acme}/addresses?addressType=Shipping&sortOrder=CreatedDateDesc&excludeUnsupportedCountries=true`,
    );
    expect(list.status).toBe(200);
    expect(list.body.items.map((a: { addressId: string }) => a.addressId)).toContain(saved.body.addressId);
    const shipTo = await send('PATCH', `${base}/checkouts/${checkoutId}`, {
      deliveryAddress: { id: saved.body.addressId },
      desiredDeliveryDate: '2031-05-28T16:41:41.090Z',
      shippingInstructions: 'Ring at the loading dock',
    });
    expect(shipTo.status).toBe(202);
    const shipped = await poll(`${base}/checkouts/${checkoutId}`);
    expect(shipped.status).toBe(200);
    const group = shipped.body.deliveryGroups.items[0];
    expect(group.deliveryAddress).toMatchObject({ city: 'Portland', street: '7 Dock Road', postalCode: '97201' });
    expect(group.shippingInstructions).toBe('Ring at the loading dock');
    expect(group.desiredDeliveryDate).toMatch(/^2031-05-28/);

    const express = (group.availableDeliveryMethods as { id: string; name: string }[]).find((m) => m.name === 'Express')!;
    const method = await send('PATCH', `${base}/checkouts/active`, { deliveryMethodId: express.id });
    expect(method.status).toBe(202);
    const chosen = await poll(`${base}/checkouts/active`);
    expect(chosen.status).toBe(200);
    expect(chosen.body.deliveryGroups.items[0].selectedDeliveryMethod.id).toBe(express.id);
    const total = chosen.body.cartSummary.grandTotalAmount as string;

    const tokenized = await send('POST', `${base}/payments/token`, {
      billingAddress: { name: 'Bea Buyer', street: '1 Main St', city: 'Oakland', country: 'United States', postalCode: '94607' },
      cardPaymentMethod: {
        cardHolderName: 'Bea Buyer',
        cardNumber: '4242424242424242',
        expiryMonth: 12,
        expiryYear: 2035,
        cvv: 111,
        cardType: 'Visa',
      },
    });
    expect(tokenized.status).toBe(201);
    const paid = await send('POST', `${base}/checkouts/${checkoutId}/payments`, {
      paymentToken: tokenized.body.token,
      requestType: 'Auth',
      billingAddress: {
        name: 'Bea Buyer',
        street: '1 Main St',
        city: 'Oakland',
        region: 'California',
        country: 'United States',
        postalCode: '94607',
      },
    });
    expect(paid.status).toBe(201);
    expect(paid.body.salesforceResultCode).toBe('Success');
    expect(paid.body.paymentData.amount).toBe(total);

    const placed = await send('POST', `${base}/checkouts/${checkoutId}/orders`, '');
    expect(placed.status).toBe(201);
    expect(placed.body.orderReferenceNumber).toBe(checkoutId);

    const summary = await summaryOf(placed.body.orderReferenceNumber);
    const one = await send('GET', `${base}/order-summaries/${summary.orderSummaryId}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ orderSummaryId: summary.orderSummaryId, accountId: t.ids.acme, totalAmount: total });
    await expect
      .poll(async () => (await send('GET', `${base}/carts/${cartId}`)).body.status, { timeout: 10_000, interval: 25 })
      .toBe('Closed');
    const orders = await t.engine.admin.find('Order', { where: [{ field: 'OrderReferenceNumber', op: '=', value: checkoutId }] });
    expect(orders).toHaveLength(1);
    expect(orders[0]!.Status).toBe('Activated');
  });

  it('buys again with a purchase order number (OAuth token, a new cart, an address given by fields)', async () => {
    token = await t.token('buyer@acme.example', PASSWORD);
    const created = await send('POST', `${base}/carts`, {
      name: 'Reorder',
      type: 'Cart',
      currencyIsoCode: 'USD',
      effectiveAccountId: t.ids.acme,
    });
    expect(created.status).toBe(201);
    const cartId = created.body.cartId as string;
    const search = await send('POST', `${base}/search/product-search`, { searchTerm: 'widget 3' });
    const productId = search.body.productsPage.products[0].id as string;
    expect((await send('POST', `${base}/carts/${cartId}/cart-items`, { productId, quantity: 4, type: 'Product' })).status).toBe(201);

    const start = await send('POST', `${base}/checkouts?effectiveAccountId=${t.ids.acme}`, {
      cartId,
      deliveryAddress: { name: 'Seattle yard', street: '9 Pier St', city: 'Seattle', region: 'WA', postalCode: '98101', country: 'US' },
    });
    expect(start.status).toBe(202);
    const checkoutId = start.body.checkoutId as string;
    const ready = await poll(`${base}/checkouts/${checkoutId}`);
    expect(ready.status).toBe(200);
    expect(ready.body.deliveryGroups.items[0].deliveryAddress.city).toBe('Seattle');
    expect(ready.body.deliveryGroups.items[0].selectedDeliveryMethod).toBeTruthy();

    const po = await send('POST', `${base}/checkouts/${checkoutId}/payments`, {
      requestType: 'SimplePurchaseOrder',
      paymentToken: 'PO-7781',
    });
    expect(po.status).toBe(201);
    expect(po.body.salesforceResultCode).toBe('Success');
    const placed = await send('POST', `${base}/checkouts/${checkoutId}/orders`, '');
    expect(placed.status).toBe(201);
    const summary = await summaryOf(placed.body.orderReferenceNumber);
    expect((await send('GET', `${base}/order-summaries/${summary.orderSummaryId}`)).status).toBe(200);
    const orders = await t.engine.admin.find('Order', { where: [{ field: 'OrderReferenceNumber', op: '=', value: checkoutId }] });
    expect(orders).toHaveLength(1);
    expect(orders[0]!.PoNumber).toBe('PO-7781');
    // Both orders are the buyer's, newest first.
    const list = await send('GET', `${base}/order-summaries`);
    expect(list.body.orderSummaries.length).toBe(2);
    expect(list.body.orderSummaries[0].orderSummaryId).toBe(summary.orderSummaryId);
  });
});
