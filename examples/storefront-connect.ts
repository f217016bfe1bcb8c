/**
 * A headless storefront against the engine's Commerce Connect API, over HTTP with fetch — the calls a
 * B2B storefront makes to a Salesforce store, against a started server on the demo data.
 *
 *   1. The buyer logs in with the SOAP Partner API `login` (as API tools do) and reads the instance
 *      URL from `serverUrl`; the store's id comes from a SOQL query.
 *   2. Product search, the product's price, the buyer's active cart, an item added.
 *   3. Checkout: start (202), poll until 200, ship to a saved address, choose a delivery method,
 *      poll, tokenize a card, authorize the payment, place the order (201 + order reference number).
 *   4. Poll the buyer's order summaries until the order is there.
 *
 * Run: npx tsx examples/storefront-connect.ts
 */
import { createCheckoutEngine, demo } from 'checkout-engine';
import { startServer } from 'checkout-engine/http';

const engine = await createCheckoutEngine({ storage: ':memory:' });
await demo.newCart(engine); // seeds the demo store, its catalog and an Active cart of the buyer
const server = await startServer(engine, { port: 0, log: false });
try {
  // 1. SOAP login: the session id is a bearer token for every REST call.
  const envelope =
    '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<soap:Body><login xmlns="urn:partner.soap.sforce.com"><username>${demo.users.buyer}</username>` +
    `<password>${demo.users.password}</password></login></soap:Body></soap:Envelope>`;
  const login = await fetch(`${server.url}/services/Soap/u/64.0`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=UTF-8', soapaction: 'login' },
    body: envelope,
  });
  const xml = await login.text();
  const read = (tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1] ?? '';
  const [protocol, , host] = read('serverUrl').split('/');
  const instance = `${protocol}//${host}`;
  const token = read('sessionId');
  console.log(`✓ ${demo.users.buyer} logged in over SOAP (HTTP ${login.status}), instance ${instance}`);

  /** A Connect call: JSON in, JSON out, failing loudly on an unexpected status. */
  async function call(method: string, path: string, body?: unknown, expect: number[] = [200]) {
    const res = await fetch(instance + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!expect.includes(res.status)) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return { status: res.status, body: (text ? JSON.parse(text) : null) as any };
  }
  /** Polls a checkout GET until it stops answering 202. */
  async function settled(path: string) {
    for (let i = 0; i < 400; i++) {
      const r = await call('GET', path, undefined, [200, 202]);
      if (r.status === 200) return r.body;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`${path} is still calculating`);
  }

  const stores = await call(
    'GET',
    `/services/data/v64.0/query/?q=${encodeURIComponent("SELECT Id FROM WebStore WHERE Name = 'Demo B2B Store'")}`,
  );
  const base = `/services/data/v64.0/commerce/webstores/${stores.body.records[0].Id}`;

  // 2. Search, price, cart.
  const search = await call('POST', `${base}/search/product-search`, { searchTerm: 'widget', includePrices: true }, [201]);
  const product = search.body.productsPage.products[0];
  console.log(`✓ product search: ${search.body.productsPage.total} widgets; first ${product.name} at ${product.prices.unitPrice}`);
  const cart = await call('GET', `${base}/carts/active`);
  const item = await call(
    'POST',
    `${base}/carts/${cart.body.cartId}/cart-items`,
    { productId: product.id, quantity: '3', type: 'Product' },
    [201],
  );
  console.log(`✓ added ${item.body.quantity} × ${item.body.name} to cart ${cart.body.cartId}`);

  // 3. Checkout.
  const start = await call('POST', `${base}/checkouts`, { cartId: cart.body.cartId }, [202]);
  const checkoutPath = `${base}/checkouts/${start.body.checkoutId}`;
  await settled(checkoutPath);
  console.log(`✓ checkout ${start.body.checkoutId} started and calculated`);
  const account = cart.body.accountId as string;
  let addresses = (await call('GET', `${base}/accounts/${account}/addresses?addressType=Shipping`)).body.items;
  if (addresses.length === 0) {
    const made = await call(
      'POST',
      `${base}/accounts/${account}/addresses`,
      {
        name: 'Main dock',
        street: '100 Harbor Way',
        city: 'Oakland',
        region: 'CA',
        postalCode: '94607',
        country: 'US',
        addressType: 'Shipping',
      },
      [201],
    );
    addresses = [made.body];
  }
  await call('PATCH', checkoutPath, { deliveryAddress: { id: addresses[0].addressId } }, [202]);
  const shipped = await settled(checkoutPath);
  const group = shipped.deliveryGroups.items[0];
  const methods = group.availableDeliveryMethods as { id: string; name: string; shippingFee: string }[];
  console.log(`✓ shipping to ${group.deliveryAddress.city}; methods ${methods.map((m) => `${m.name} ${m.shippingFee}`).join(', ')}`);
  const fastest = methods.find((m) => m.name === 'Express') ?? methods[0]!;
  await call('PATCH', checkoutPath, { deliveryMethodId: fastest.id }, [202]);
  const ready = await settled(checkoutPath);
  console.log(`✓ ${fastest.name} chosen; total ${ready.cartSummary.grandTotalAmount} ${ready.cartSummary.currencyIsoCode}`);

  const card = {
    cardHolderName: 'Bea Buyer',
    cardNumber: '4242424242424242',
    expiryMonth: 12,
    expiryYear: 2035,
    cvv: '123',
    cardType: 'Visa',
  };
  const tokenized = await call('POST', `${base}/payments/token`, { cardPaymentMethod: card }, [201]);
  const payment = await call('POST', `${checkoutPath}/payments`, { requestType: 'Auth', paymentToken: tokenized.body.token }, [201]);
  console.log(`✓ payment ${payment.body.salesforceResultCode}: ${payment.body.paymentData.amount} authorized`);
  const placed = await call('POST', `${checkoutPath}/orders`, undefined, [201]);
  console.log(`✓ order placed: reference number ${placed.body.orderReferenceNumber}`);

  // 4. The order summary appears once the order is created and activated in the background.
  for (let i = 0; ; i++) {
    const list = await call('GET', `${base}/order-summaries`);
    const mine = (list.body.orderSummaries as { orderNumber: string; orderSummaryId: string; status: string; totalAmount: string }[]).find(
      (s) => s.orderNumber === placed.body.orderReferenceNumber,
    );
    if (mine) {
      console.log(`✓ order summary ${mine.orderSummaryId}: ${mine.status}, ${mine.totalAmount}`);
      break;
    }
    if (i > 400) throw new Error('the order summary never appeared');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
} finally {
  await server.close(); // also closes the engine
}
