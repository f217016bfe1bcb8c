/**
 * The Commerce Connect access matrix (test/security/connect-access-matrix.ts) performed over HTTP
 * on SQLite and PostgreSQL: each call, for each role (no token, inactive user, buyer of the other
 * account, store administrator, buyer of the account), with a real token of that role, compared
 * with the expected answer. A refused call changes nothing (the account's carts, items, sessions,
 * addresses and orders are compared before and after); the calls that succeed build the world the
 * later rows use (a checkout, a payment, a placed order and its summary).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, PASSWORD, type TestServer } from '../http/helpers.js';
import { dropTestSchemas, freshPgUrl } from '../helpers/backends.js';
import { settled } from '../../src/connect/checkouts.js';
import { CONNECT_MATRIX, CONNECT_ROLES, type ConnectRole } from './connect-access-matrix.js';

afterAll(dropTestSchemas);

/** Refused calls are performed first, the permitted ones (administrator, then the buyer) last. */
const ORDER: readonly ConnectRole[] = ['none', 'inactive', 'otherAccount', 'admin', 'owner'];
const WATCHED = ['WebCart', 'CartItem', 'CartCheckoutSession', 'ContactPointAddress', 'Order', 'OrderSummary', 'CartDeliveryGroup'];

describe.each([
  { name: 'sqlite', location: () => ':memory:' },
  { name: 'postgres', location: freshPgUrl },
])('Commerce Connect access matrix over HTTP on $name', (backend) => {
  let t: TestServer;
  const tokens = {} as Record<ConnectRole, string | undefined>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestServer(backend.location(), { sessionState: '' });
    const [buyer] = await t.engine.admin.find('User', { where: [{ field: 'Username', op: '=', value: 'buyer@acme.example' }] });
    ids.acme = String(buyer!.AccountId);
    const seeded = await t.engine.seed({
      User: [
        {
          ref: 'inactive',
          Username: 'inactive@acme.example',
          Name: 'Ina Inactive',
          AccountId: ids.acme,
          Permissions: ['B2BCommerceIntegrator'],
          Password: PASSWORD,
        },
      ],
    });
    tokens.owner = await t.token();
    tokens.otherAccount = await t.token('buyer@globex.example');
    tokens.admin = await t.token('admin@store.example');
    tokens.inactive = await t.token('inactive@acme.example');
    tokens.none = undefined;
    await t.engine.core.storage.update('User', seeded.inactive!, { IsActive: false });
    const [product] = await t.engine.admin.find('Product2', { where: [{ field: 'IsActive', op: '=', value: true }], limit: 1 });
    ids.product = String(product!.Id);
    const [cpa] = await t.engine.admin.find('ContactPointAddress', { where: [{ field: 'ParentId', op: '=', value: ids.acme }], limit: 1 });
    ids.address = String(cpa!.Id);
    const [item] = await t.engine.admin.find('CartItem', {
      where: [
        { field: 'CartId', op: '=', value: t.ids.cart },
        { field: 'Type', op: '=', value: 'Product' },
      ],
      limit: 1,
    });
    ids.item = String(item!.Id);
  });
  afterAll(() => t.close());

  /** Performs one call as `role`. */
  async function perform(call: string, role: ConnectRole): Promise<{ status: number; body: any }> {
    const base = `/services/data/v63.0/commerce/webstores/${t.ids.store}`;
    const q = role === 'admin' ? `?effectiveAccountId=${ids.acme}` : '';
    const token = tokens[role];
    const go = (method: string, path: string, body?: unknown) => t.call(method, `${base}/${path}${q}`, { token, body });
    switch (call) {
      case 'POST search/product-search':
        return go('POST', 'search/product-search', { searchTerm: 'widget' });
      case 'GET products/{product}':
        return go('GET', `products/${ids.product}`);
      case 'GET pricing/products/{product}':
        return go('GET', `pricing/products/${ids.product}`);
      case 'GET accounts/{account A}/addresses':
        return go('GET', `accounts/${ids.acme}/addresses`);
      case 'POST accounts/{account A}/addresses':
        return go('POST', `accounts/${ids.acme}/addresses`, {
          addressType: 'Shipping',
          name: `Dock of ${role}`,
          street: '1 Harbor Way',
          city: 'Oakland',
          country: 'US',
        });
      case 'PATCH accounts/{account A}/addresses/{address of A}':
        return go('PATCH', `accounts/${ids.acme}/addresses/${ids.address}`, { city: `City of ${role}` });
      case 'GET carts/{cart A}':
        return go('GET', `carts/${t.ids.cart}`);
      case 'GET carts/{cart A}/cart-items':
        return go('GET', `carts/${t.ids.cart}/cart-items`);
      case 'POST carts/{cart A}/cart-items':
        return go('POST', `carts/${t.ids.cart}/cart-items`, { productId: ids.product, quantity: '1', type: 'Product' });
      case 'PATCH carts/{cart A}/cart-items/{item of A}':
        return go('PATCH', `carts/${t.ids.cart}/cart-items/${ids.item}`, { quantity: '2' });
      case 'POST checkouts {cartId: cart A}': {
        const r = await go('POST', 'checkouts', { cartId: t.ids.cart });
        if (r.status === 202) ids.checkout = r.body.checkoutId;
        return r;
      }
      case 'GET checkouts/{checkout A}':
        return go('GET', `checkouts/${ids.checkout}`);
      case 'PATCH checkouts/{checkout A}':
        return go('PATCH', `checkouts/${ids.checkout}`, { shippingInstructions: `Left by ${role}` });
      case 'POST payments/token':
        return go('POST', 'payments/token', {
          cardPaymentMethod: {
            cardHolderName: 'Card Holder',
            cardNumber: '4111111111111111',
            expiryMonth: 12,
            expiryYear: 2035,
            cvv: '123',
            cardType: 'Visa',
          },
        });
      case 'POST checkouts/{checkout A}/payments':
        return go('POST', `checkouts/${ids.checkout}/payments`, { requestType: 'Auth', paymentToken: `pm_mx_${ORDER.indexOf(role)}` });
      case 'POST checkouts/{checkout A}/orders':
        return go('POST', `checkouts/${ids.checkout}/orders`);
      case 'GET order-summaries/{summary of A}':
        return go('GET', `order-summaries/${ids.summary}`);
      case 'GET order-summaries':
        return go('GET', 'order-summaries');
      default:
        throw new Error(`no call ${call}`);
    }
  }

  async function watched(): Promise<string> {
    const out: Record<string, unknown> = {};
    for (const o of WATCHED) out[o] = (await t.engine.admin.find(o, {})).sort((a, b) => String(a.Id).localeCompare(String(b.Id)));
    return JSON.stringify(out);
  }

  async function quiet(): Promise<void> {
    await settled(t.engine);
    await t.engine.whenIdle();
  }

  it('every cell answers as the matrix says, and a refused call changes nothing', async () => {
    const mismatches: string[] = [];
    for (const row of CONNECT_MATRIX) {
      if (row.call === 'GET order-summaries/{summary of A}') {
        const [summary] = await t.engine.admin.find('OrderSummary', { where: [{ field: 'AccountId', op: '=', value: ids.acme }] });
        ids.summary = String(summary!.Id);
      }
      for (const role of ORDER) {
        await quiet();
        const before = await watched();
        const r = await perform(row.call, role);
        const want = row.expected[role];
        const got =
          r.status === row.success && want === 'ok'
            ? 'ok'
            : Array.isArray(r.body) && r.body[0]?.errorCode
              ? `${r.body[0].errorCode} ${r.status}`
              : `${r.status} ${JSON.stringify(r.body).slice(0, 200)}`;
        if (got !== want) mismatches.push(`${row.call} as ${role}: expected ${want}, got ${got}`);
        if (want !== 'ok') {
          await quiet();
          if ((await watched()) !== before) mismatches.push(`${row.call} as ${role}: refused but changed stored data`);
        }
        if (row.call === 'GET order-summaries' && role === 'otherAccount' && r.status === 200) {
          if (JSON.stringify(r.body).includes(ids.summary!)) mismatches.push("buyer B's order-summaries list A's summary");
        }
        if (row.call === 'GET order-summaries' && role === 'owner' && r.status === 200) {
          if (!JSON.stringify(r.body).includes(ids.summary!)) mismatches.push("buyer A's order-summaries miss A's summary");
        }
      }
    }
    expect(mismatches).toEqual([]);
    // The world the permitted calls built: one order of account A, activated.
    const orders = await t.engine.admin.find('Order', { where: [{ field: 'CartId', op: '=', value: t.ids.cart }] });
    expect(orders.map((o) => o.Status)).toEqual(['Activated']);
    expect(CONNECT_ROLES).toHaveLength(ORDER.length);
  });
});
