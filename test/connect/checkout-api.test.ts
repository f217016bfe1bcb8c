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
import { placeThenCrash, until } from './crash-helpers.js';
import type { CartProcessor } from '../../src/integrations/contract.js';

afterAll(dropTestSchemas);

/** A taxes calculator that takes a while (so a run is observably in flight); `fail` makes it report an error. */
function slowTaxes(ms: number, state: { fail: boolean } = { fail: false }): CartProcessor {
  return {
    async startCartProcessAsync() {
      await new Promise((r) => setTimeout(r, ms));
      return state.fail ? { status: 'FAILED', message: 'The tax service rejected the address.' } : { status: 'SUCCESS' };
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
    // A store administrator acts for the buyer's account with effectiveAccountId (and only with it).
    const admin = await t.token('admin@store.example');
    expect((await t.call('GET', `${base}/checkouts/${id}?effectiveAccountId=${t.ids.acme}`, { token: admin })).status).toBe(200);
    expect((await t.call('GET', `${base}/checkouts/${id}?effectiveAccountId=${t.ids.globex}`, { token: admin })).status).toBe(404);
    expect((await t.call('GET', `${base}/checkouts/${id}`, { token: admin })).status).toBe(400);
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

describe.each([
  { name: 'sqlite', location: () => ':memory:' },
  { name: 'postgres', location: freshPgUrl },
])('Checkout API conflicts, failures and versions on $name', (backend) => {
  let t: TestServer;
  let token: string;
  const taxes = { fail: false };
  const at = (v: number) => `/services/data/v${v}.0/commerce/webstores/${t.ids.store}`;
  const poll = async (path: string) => {
    for (let i = 0; i < 400; i++) {
      const r = await t.call('GET', path, { token });
      if (r.status !== 202) return r;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`still 202: ${path}`);
  };

  beforeAll(async () => {
    t = await startTestServer(backend.location(), { sessionState: '', engine: { integrations: { taxes: slowTaxes(300, taxes) } } });
    token = await t.token();
  });
  afterAll(() => t.close());

  it('version gating: POST before v55 and PUT before v57 answer 404; PUT from v57 starts; fields by version', async () => {
    expect((await t.call('POST', `${at(54)}/checkouts`, { token, body: { cartId: 'active' } })).status).toBe(404);
    const put56 = await t.call('PUT', `${at(56)}/checkouts`, { token, body: { cartId: 'active' } });
    expect(put56.status).toBe(404);
    expect(put56.body[0]).toMatchObject({ errorCode: 'NOT_FOUND', fields: ['version'] });
    const put = await t.call('PUT', `${at(57)}/checkouts`, { token, body: { cartId: t.ids.cart } });
    expect(put.status).toBe(202);
    const id = put.body.checkoutId;
    // While the calculators run: 202, and any other call is 409 CHECKOUT_CONFLICT.
    const [running, conflict] = await Promise.all([
      t.call('GET', `${at(62)}/checkouts/${id}`, { token }),
      t.call('PATCH', `${at(62)}/checkouts/${id}`, { token, body: { shippingInstructions: 'x' } }),
    ]);
    expect(running.status).toBe(202);
    expect(running.body.statusCode).toBe('202');
    expect(conflict.status).toBe(409);
    expect(conflict.body[0].errorCode).toBe('CHECKOUT_CONFLICT');
    const v56 = await poll(`${at(56)}/checkouts/${id}`);
    expect(v56.status).toBe(200);
    expect(v56.body).not.toHaveProperty('statusCode');
    expect(v56.body).not.toHaveProperty('cartSummary');
    const v61 = await t.call('GET', `${at(61)}/checkouts/${id}`, { token });
    expect(v61.body).toHaveProperty('cartSummary');
    expect(v61.body).toHaveProperty('orderReferenceNumber', null);
    expect(v61.body).not.toHaveProperty('customFields');
    expect((await t.call('GET', `${at(62)}/checkouts/${id}`, { token })).body.customFields).toEqual([]);
    // orders/actions is v64+.
    expect(
      (await t.call('POST', `${at(63)}/checkouts/${id}/orders/actions`, { token, body: { actions: [{ action: 'prepare' }] } })).status,
    ).toBe(404);
  });

  it("two tabs PATCH at once: exactly one 202, the other 409; the stored checkout is the winner's", async () => {
    const id = (await poll(`${at(62)}/checkouts/active`)).body.checkoutId;
    const [a, b] = await Promise.all([
      t.call('PATCH', `${at(62)}/checkouts/${id}`, { token, body: { deliveryMethodId: t.ids.express, shippingInstructions: 'tab A' } }),
      t.call('PATCH', `${at(62)}/checkouts/${id}`, { token, body: { deliveryMethodId: t.ids.ground, shippingInstructions: 'tab B' } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body[0].errorCode).toBe('CHECKOUT_CONFLICT');
    const winner = a.status === 202 ? 'A' : 'B';
    const done = await poll(`${at(62)}/checkouts/${id}`);
    expect(done.status).toBe(200);
    const g = done.body.deliveryGroups.items[0];
    expect(g.shippingInstructions).toBe(`tab ${winner}`);
    expect(g.selectedDeliveryMethod.id).toBe(winner === 'A' ? t.ids.express : t.ids.ground);
    const charges = await t.engine.admin.find('CartItem', {
      where: [
        { field: 'CartId', op: '=', value: t.ids.cart },
        { field: 'Type', op: '=', value: 'Charge' },
      ],
    });
    expect(charges).toHaveLength(1);
  });

  it('a calculator that fails: GET 422 with the Checkout Error; a later address change that succeeds answers 200 again', async () => {
    const id = (await poll(`${at(62)}/checkouts/active`)).body.checkoutId;
    taxes.fail = true;
    const p = await t.call('PATCH', `${at(62)}/checkouts/${id}`, {
      token,
      body: { deliveryAddress: { street: '1 Main St', city: 'Portland', region: 'OR', postalCode: '97201', country: 'US' } },
    });
    expect(p.status).toBe(202);
    const failed = await poll(`${at(62)}/checkouts/${id}`);
    expect(failed.status).toBe(422);
    expect(failed.body.errors).toEqual([
      { type: '/commerce/errors/taxes-failure', title: expect.any(String), detail: 'The tax service rejected the address.' },
    ]);
    // The order can't be placed from a failed calculation.
    expect((await t.call('POST', `${at(62)}/checkouts/${id}/orders`, { token })).status).toBe(422);
    taxes.fail = false;
    expect(
      (await t.call('PATCH', `${at(62)}/checkouts/${id}`, { token, body: { deliveryAddress: { id: t.ids.acmeShipping } } })).status,
    ).toBe(202);
    const ok = await poll(`${at(62)}/checkouts/${id}`);
    expect(ok.status).toBe(200);
    expect(ok.body.errors).toEqual([]);
  });

  it('place order refusals: 422 without payment, 409 when the cart changed after the payment, v63 412 for incomplete contact info; prepare/submit (v64)', async () => {
    const id = (await poll(`${at(62)}/checkouts/active`)).body.checkoutId;
    // The method change cleared the cart's PO number: no payment.
    const noPay = await t.call('POST', `${at(62)}/checkouts/${id}/orders`, { token });
    expect(noPay.status).toBe(422);
    expect(noPay.body[0]).toMatchObject({ errorCode: 'UNPROCESSABLE_ENTITY', fields: ['paymentToken'] });
    const prepared = await t.call('POST', `${at(64)}/checkouts/${id}/orders/actions`, {
      token,
      body: { actions: [{ action: 'prepare' }] },
    });
    expect(prepared.status).toBe(200);
    const badAction = await t.call('POST', `${at(64)}/checkouts/${id}/orders/actions`, { token, body: { actions: [{ action: 'ship' }] } });
    expect(badAction.status).toBe(400);
    expect(badAction.body[0].fields).toEqual(['actions[0].action']);
    const pay = await t.call('POST', `${at(62)}/checkouts/${id}/payments`, {
      token,
      body: { requestType: 'SimplePurchaseOrder', paymentToken: 'PO-77' },
    });
    expect(pay.status).toBe(201);
    expect(pay.body.salesforceResultCode).toBe('Success');
    // A PO number can be entered again from v64 (it replaces the first), not on v63.
    const v63 = await t.call('POST', `${at(63)}/checkouts/${id}/payments`, {
      token,
      body: { requestType: 'SimplePurchaseOrder', paymentToken: 'PO-78' },
    });
    expect(v63.status).toBe(400);
    expect(v63.body[0].fields).toEqual(['paymentToken']);
    const v64 = await t.call('POST', `${at(64)}/checkouts/${id}/payments`, {
      token,
      body: { requestType: 'SimplePurchaseOrder', paymentToken: 'PO-78' },
    });
    expect(v64).toMatchObject({ status: 201, body: { salesforceResultCode: 'Success', paymentData: { poNumber: 'PO-78' } } });
    // Custom code changes the cart's total after the payment: 409.
    const cart = (await t.engine.admin.get('WebCart', t.ids.cart))!;
    await t.engine.core.atomically((tx) => tx.update('WebCart', t.ids.cart, { GrandTotalAmount: Number(cart.GrandTotalAmount) + 1 }));
    const changed = await t.call('POST', `${at(62)}/checkouts/${id}/orders`, { token });
    expect(changed.status).toBe(409);
    expect(changed.body[0].errorCode).toBe('CHECKOUT_CONFLICT');
    await t.engine.core.atomically((tx) => tx.update('WebCart', t.ids.cart, { GrandTotalAmount: cart.GrandTotalAmount }));
    expect(
      (await t.call('PATCH', `${at(62)}/checkouts/${id}`, { token, body: { contactInfo: { email: 'bea@acme.example' } } })).status,
    ).toBe(202);
    const incomplete = await t.call('POST', `${at(63)}/checkouts/${id}/orders`, { token });
    expect(incomplete.status).toBe(412);
    expect(incomplete.body[0].fields).toEqual(['contactInfo.firstName', 'contactInfo.lastName']);
    expect(
      (await t.call('PATCH', `${at(62)}/checkouts/${id}`, { token, body: { contactInfo: { firstName: 'Bea', lastName: 'Buyer' } } }))
        .status,
    ).toBe(202);
    const submitted = await t.call('POST', `${at(64)}/checkouts/${id}/orders/actions`, {
      token,
      body: { actions: [{ action: 'submit' }] },
    });
    expect(submitted).toMatchObject({ status: 200, body: { action: 'submit', orderReferenceNumber: id } });
    await settled(t.engine, t.ids.cart);
    const orders = await t.engine.admin.find('Order', { where: [{ field: 'CartId', op: '=', value: t.ids.cart }] });
    expect(orders.map((o) => [o.Status, o.PoNumber])).toEqual([['Activated', 'PO-78']]);
    // A placed checkout can't be canceled or changed.
    expect((await t.call('DELETE', `${at(62)}/checkouts/${id}`, { token })).status).toBe(403);
  });
});

describe('DELETE checkouts/{id}', () => {
  it('cancels the checkout (204): the cart is Active again and the checkout is gone (404)', async () => {
    const t = await startTestServer(':memory:', { sessionState: '' });
    try {
      const token = await t.token();
      const base = `/services/data/v62.0/commerce/webstores/${t.ids.store}`;
      const id = (await t.call('POST', `${base}/checkouts`, { token, body: { cartId: 'active' } })).body.checkoutId;
      await settled(t.engine, t.ids.cart);
      expect((await t.call('DELETE', `${base}/checkouts/${id}`, { token })).status).toBe(204);
      expect((await t.engine.admin.get('WebCart', t.ids.cart))!.Status).toBe('Active');
      expect((await t.call('GET', `${base}/checkouts/${id}`, { token })).status).toBe(404);
      expect((await t.call('DELETE', `${base}/checkouts/${id}`, { token })).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe('a checkout started without an address; input validation', () => {
  it('runs prices, promotions, inventory only; an address PATCH then offers methods, selects the cheapest and computes taxes', async () => {
    const t = await startTestServer(':memory:', { sessionState: '' });
    try {
      const token = await t.token();
      const base = `/services/data/v62.0/commerce/webstores/${t.ids.store}`;
      await t.engine.core.atomically(async (tx) => {
        for (const g of await tx.find('CartDeliveryGroup', { where: [{ field: 'CartId', op: '=', value: t.ids.cart }] }))
          await tx.update('CartDeliveryGroup', String(g.Id), {
            DeliverToStreet: null,
            DeliverToCity: null,
            DeliverToCountry: null,
            DeliveryMethodId: null,
          });
        const charges = await tx.find('CartItem', {
          where: [
            { field: 'CartId', op: '=', value: t.ids.cart },
            { field: 'Type', op: '=', value: 'Charge' },
          ],
        });
        const taxes = await tx.find('CartTax', { where: [{ field: 'CartItemId', op: 'in', value: charges.map((c) => String(c.Id)) }] });
        await tx.delete(
          'CartTax',
          taxes.map((x) => String(x.Id)),
        );
        await tx.delete(
          'CartItem',
          charges.map((c) => String(c.Id)),
        );
      });
      const bad = [
        [{ cartId: 'active', customFields: [{ attributes: { type: 'WebCart' }, Note__c: 'x' }] }, 'customFields'],
        [{ cartId: 'active', deliveryAddress: { city: 'Oakland', country: 'US' } }, 'deliveryAddress.street'],
        [
          { cartId: 'active', deliveryAddress: { street: '1 Main', city: 'Oakland', country: 'US', planet: 'Earth' } },
          'deliveryAddress.planet',
        ],
        [{ cartId: 'active', coupon: 'X' }, 'coupon'],
        [{ cartId: '0a6notanid' }, 'cartId'],
      ] as const;
      for (const [body, field] of bad) {
        const r = await t.call('POST', `${base}/checkouts`, { token, body });
        expect([field, r.status, r.body[0].fields]).toEqual([field, 400, [field]]);
      }
      expect(await t.engine.admin.count('CartCheckoutSession', [{ field: 'WebCartId', op: '=', value: t.ids.cart }])).toBe(0);
      const id = (await t.call('POST', `${base}/checkouts`, { token, body: {} })).body.checkoutId;
      await settled(t.engine, t.ids.cart);
      const got = await t.call('GET', `${base}/checkouts/${id}`, { token });
      expect(got.status).toBe(200);
      expect(got.body.deliveryGroups.items[0].availableDeliveryMethods).toEqual([]);
      expect(got.body.deliveryGroups.items[0]).not.toHaveProperty('selectedDeliveryMethod');
      // Not ready: no payment, no place order, no method.
      const pay = await t.call('POST', `${base}/checkouts/${id}/payments`, {
        token,
        body: { requestType: 'SimplePurchaseOrder', paymentToken: 'PO-1' },
      });
      expect(pay.status).toBe(400);
      expect((await t.call('POST', `${base}/checkouts/${id}/orders`, { token })).status).toBe(422);
      expect((await t.call('PATCH', `${base}/checkouts/${id}`, { token, body: { deliveryMethodId: t.ids.ground } })).status).toBe(400);
      const dates = await t.call('PATCH', `${base}/checkouts/${id}`, { token, body: { desiredDeliveryDate: 'soon' } });
      expect(dates.body[0].fields).toEqual(['desiredDeliveryDate']);
      const email = await t.call('PATCH', `${base}/checkouts/${id}`, { token, body: { contactInfo: { email: 'not-an-email' } } });
      expect(email.body[0].fields).toEqual(['contactInfo.email']);
      const p = await t.call('PATCH', `${base}/checkouts/${id}`, {
        token,
        body: {
          deliveryAddress: { name: 'Dock', street: '500 Harbor Way', city: 'Oakland', region: 'CA', postalCode: '94607', country: 'US' },
          desiredDeliveryDate: '2027-01-15',
        },
      });
      expect(p.status).toBe(202);
      await settled(t.engine, t.ids.cart);
      const ready = await t.call('GET', `${base}/checkouts/${id}`, { token });
      expect(ready.status).toBe(200);
      const g = ready.body.deliveryGroups.items[0];
      expect(g.deliveryAddress).toMatchObject({ name: 'Dock', street: '500 Harbor Way', region: 'CA' });
      expect(g.desiredDeliveryDate).toBe('2027-01-15');
      const cheapest = [...g.availableDeliveryMethods].sort((a: any, b: any) => Number(a.shippingFee) - Number(b.shippingFee))[0];
      expect(g.selectedDeliveryMethod).toEqual(cheapest);
      expect(Number(ready.body.cartSummary.totalChargeAmount)).toBe(Number(cheapest.shippingFee));
      expect(Number(ready.body.cartSummary.totalTaxAmount)).toBeGreaterThan(0);
      expect((await t.engine.admin.get('CartCheckoutSession', id))!.State).toBe('paymentAndBillingAddress');
    } finally {
      await t.close();
    }
  });

  it("'active' with no cart in the store for the account answers 404", async () => {
    const t = await startTestServer(':memory:', { sessionState: '' });
    try {
      const other = await t.token('buyer@globex.example');
      const base = `/services/data/v62.0/commerce/webstores/${t.ids.store}`;
      const r = await t.call('POST', `${base}/checkouts`, { token: other, body: { cartId: 'active' } });
      expect(r.status).toBe(404);
      expect(r.body[0].fields).toEqual(['cartId']);
      expect((await t.call('GET', `${base}/checkouts/active`, { token: other })).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe('a placement that fails in the background', () => {
  it("the gateway declines the order's authorization: GET 422 with the failure, the cart stays PendingClosed; DELETE cancels it", async () => {
    // Authorizes the checkout payment, declines the order's own authorization (placed in the background).
    const gateway = {
      authorize: async (r: { orderId: string }) =>
        r.orderId
          ? { status: 'DECLINED' as const, message: 'Insufficient funds.' }
          : { status: 'AUTHORIZED' as const, authorizationCode: 'OK-1' },
    };
    const t = await startTestServer(':memory:', { sessionState: '', engine: { paymentGateway: gateway } });
    try {
      const token = await t.token();
      const base = `/services/data/v62.0/commerce/webstores/${t.ids.store}`;
      // This gateway doesn't tokenize.
      const tok = await t.call('POST', `${base}/payments/token`, { token, body: { cardPaymentMethod: VISA } });
      expect(tok.status).toBe(400);
      expect(tok.body[0].errorCode).toBe('FUNCTIONALITY_NOT_ENABLED');
      const id = (await t.call('POST', `${base}/checkouts`, { token, body: { cartId: 'active' } })).body.checkoutId;
      await settled(t.engine, t.ids.cart);
      const pay = await t.call('POST', `${base}/checkouts/${id}/payments`, {
        token,
        body: { requestType: 'ClientRequest', paymentToken: 'pm_client_1' },
      });
      expect(pay.body.salesforceResultCode).toBe('Success');
      // The checkout's authorization no longer covers the order (as for a total that changed after
      // it): the order's own authorizePayment asks the gateway, which declines.
      const { parseStamps } = await import('../../src/domain/completion-invariants.js');
      await t.engine.core.atomically(async (tx) => {
        const s = (await tx.get('CartCheckoutSession', id, { forUpdate: true }))!;
        const stamps = parseStamps(s._stamps);
        await tx.update('CartCheckoutSession', id, {
          _stamps: JSON.stringify({ ...stamps, preauthorization: { ...stamps.preauthorization!, amount: 0.01 } }),
        });
      });
      expect((await t.call('POST', `${base}/checkouts/${id}/orders`, { token })).status).toBe(201);
      await settled(t.engine, t.ids.cart);
      const got = await t.call('GET', `${base}/checkouts/${id}`, { token });
      expect(got.status).toBe(422);
      expect(got.body.errors.map((e: any) => e.detail).join(' ')).toMatch(/Insufficient funds/);
      expect((await t.engine.admin.get('WebCart', t.ids.cart))!.Status).toBe('PendingClosed');
      const orders = await t.engine.admin.find('Order', { where: [{ field: 'CartId', op: '=', value: t.ids.cart }] });
      expect(orders.map((o) => o.Status)).toEqual(['Draft']);
      expect((await t.call('DELETE', `${base}/checkouts/${id}`, { token })).status).toBe(204);
      expect((await t.engine.admin.get('WebCart', t.ids.cart))!.Status).toBe('Active');
      expect(await t.engine.admin.count('Order', [{ field: 'CartId', op: '=', value: t.ids.cart }])).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe.each([
  { name: 'sqlite-file', location: freshSqliteFile },
  { name: 'postgres', location: freshPgUrl },
])('place order survives a crash before the order is created ($name)', (backend) => {
  it('engine closed after the 201, a new engine on the same database: exactly one order, activated, cart Closed', async () => {
    const location = backend.location();
    const { cartId, checkoutId: id, base } = await placeThenCrash(location);

    const t2 = await startTestServer(location, { seed: false });
    try {
      await until('the cart to close', async () => (await t2.engine.admin.get('WebCart', cartId))?.Status === 'Closed');
      const orders = await t2.engine.admin.find('Order', { where: [{ field: 'CartId', op: '=', value: cartId }] });
      expect(orders).toHaveLength(1);
      expect(orders[0]).toMatchObject({ Status: 'Activated', OrderReferenceNumber: id });
      expect(await t2.engine.admin.count('OrderSummary', [{ field: 'OriginalOrderId', op: '=', value: orders[0]!.Id }])).toBe(1);
      // Placing again answers the same reference number and creates nothing.
      const token2 = await t2.token();
      expect(await t2.call('POST', `${base}/checkouts/${id}/orders`, { token: token2 })).toMatchObject({
        status: 201,
        body: { orderReferenceNumber: id },
      });
      expect(await t2.engine.admin.count('Order', [{ field: 'CartId', op: '=', value: cartId }])).toBe(1);
    } finally {
      await t2.close();
    }
  });
});
