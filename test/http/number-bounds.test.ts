/**
 * Bounds on quantities and money over HTTP, as a hostile buyer and as an admin: PATCH/POST of an
 * out-of-range Quantity or amount is NUMBER_OUTSIDE_VALID_RANGE 400 naming the field in Salesforce's
 * error shape; the stored record, the cart totals and the running checkout stay as they were.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { startTestServer, V, type TestServer } from './helpers.js';

afterAll(dropTestSchemas);

const TOTALS = ['TotalListPrice', 'TotalProductAmount', 'TotalChargeAmount', 'TotalTaxAmount', 'TotalAdjustmentAmount', 'GrandTotalAmount'];

describe.each([BACKENDS[0]!, BACKENDS[2]!])('number bounds over HTTP on $name', (backend) => {
  let t: TestServer;
  let buyer: string;
  let admin: string;
  let line: Record<string, unknown>;

  beforeAll(async () => {
    t = await startTestServer(backend.location());
    buyer = await t.token();
    admin = await t.token('admin@store.example');
    const q = await t.call(
      'GET',
      `${V}/query?q=${encodeURIComponent(`SELECT Id, CartDeliveryGroupId, Product2Id, Sku FROM CartItem WHERE CartId = '${t.ids.cart}' AND Type = 'Product'`)}`,
      { token: buyer },
    );
    line = q.body.records[0];
  });
  afterAll(() => t.close());

  /** The cart, the line and the session as stored now. */
  const state = async () => ({
    cart: (await t.call('GET', `${V}/sobjects/WebCart/${t.ids.cart}`, { token: admin })).body,
    line: (await t.call('GET', `${V}/sobjects/CartItem/${String(line.Id)}`, { token: admin })).body,
    session: (await t.call('GET', `${V}/sobjects/CartCheckoutSession/${t.ids.session}`, { token: admin })).body,
  });

  function expectRefused(r: { status: number; body: any }, field: string) {
    expect(r.status).toBe(400);
    expect(r.body).toHaveLength(1);
    expect(r.body[0]).toMatchObject({ errorCode: 'NUMBER_OUTSIDE_VALID_RANGE', fields: [field] });
    expect(r.body[0].message).toMatch(new RegExp(`^Value outside of valid range on numeric field: \\w+\\.${field}: `));
  }

  it.each([
    ['-5', '-5'],
    ['0', '0'],
    ['1e21', '1e21'],
    ['1e400 (Infinity once parsed)', '1e400'],
    ['0.001', '0.001'],
  ])('a buyer PATCHing CartItem Quantity %s gets 400 naming Quantity; nothing changes, the checkout goes on', async (_, raw) => {
    const before = await state();
    expect(before.cart.Status).toBe('Checkout');
    const r = await t.call('PATCH', `${V}/sobjects/CartItem/${String(line.Id)}`, { token: buyer, raw: `{"Quantity": ${raw}}` });
    expectRefused(r, 'Quantity');
    const after = await state();
    expect(after).toEqual(before);
    for (const f of TOTALS) expect(Number.isFinite(after.cart[f]), f).toBe(true);
  });

  it('a buyer POSTing a line with Quantity 0 or 1e21 gets 400 and no line is added', async () => {
    const count = async () =>
      (
        await t.call('GET', `${V}/query?q=${encodeURIComponent(`SELECT COUNT() FROM CartItem WHERE CartId = '${t.ids.cart}'`)}`, {
          token: buyer,
        })
      ).body.totalSize;
    const n = await count();
    const before = await state();
    for (const Quantity of [0, 1e21, -5]) {
      const r = await t.call('POST', `${V}/sobjects/CartItem`, {
        token: buyer,
        body: {
          CartId: t.ids.cart,
          CartDeliveryGroupId: line.CartDeliveryGroupId,
          Product2Id: line.Product2Id,
          Sku: line.Sku,
          Name: 'More',
          Quantity,
        },
      });
      expectRefused(r, 'Quantity');
    }
    expect(await count()).toBe(n);
    expect(await state()).toEqual(before);
  });

  it.each([
    ['1e308', '1e308'],
    ['1e17', '1e17'],
    ['-1e308', '-1e308'],
    ['1e400 (Infinity once parsed)', '1e400'],
  ])('an admin PATCHing CartItem SalesPrice %s gets 400 naming SalesPrice; nothing changes', async (_, raw) => {
    const before = await state();
    const r = await t.call('PATCH', `${V}/sobjects/CartItem/${String(line.Id)}`, { token: admin, raw: `{"SalesPrice": ${raw}}` });
    expectRefused(r, 'SalesPrice');
    expect(await state()).toEqual(before);
  });

  it('an admin PATCH whose derived total would overflow is refused naming the total; nothing changes', async () => {
    const before = await state();
    const r = await t.call('PATCH', `${V}/sobjects/CartItem/${String(line.Id)}`, {
      token: admin,
      body: { SalesPrice: 9_999_999_999_999.99, Quantity: 5 },
    });
    expectRefused(r, 'TotalLineAmount');
    expect(await state()).toEqual(before);
  });

  it('describe gives every currency field precision 18 and scale 2, and Quantity its bounds in OpenAPI', async () => {
    const d = await t.call('GET', `${V}/sobjects/CartItem/describe`, { token: buyer });
    expect(d.status).toBe(200);
    const field = (name: string) => d.body.fields.find((f: { name: string }) => f.name === name);
    expect(field('SalesPrice')).toMatchObject({ type: 'currency', precision: 18, scale: 2 });
    expect(field('Quantity')).toMatchObject({ type: 'double', precision: 18, scale: 2 });
    const doc = await t.call('GET', '/openapi.json', { token: buyer });
    const props = doc.body.components.schemas.CartItemWrite.properties;
    expect(props.Quantity.anyOf[0]).toEqual({ type: 'number', exclusiveMinimum: 0, maximum: 9_999_999_999_999.99 });
    expect(props.SalesPrice.anyOf[0]).toEqual({ type: 'number', minimum: -9_999_999_999_999.99, maximum: 9_999_999_999_999.99 });
  });
});
