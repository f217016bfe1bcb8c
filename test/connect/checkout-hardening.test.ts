/**
 * The Checkout API across processes and without a server: two engines (two servers) on one
 * PostgreSQL schema racing for the same checkout (the database lock: exactly one 202, the other 409);
 * a placement left by a crash resumed by a plain library engine (createCheckoutEngine, no HTTP);
 * one gateway authorization per Auth payment (the order uses the checkout's authorization).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../http/helpers.js';
import { dropTestSchemas, freshPgUrl, freshSqliteFile } from '../helpers/backends.js';
import { settled } from '../../src/connect/checkouts.js';
import { placeThenCrash, until } from './crash-helpers.js';
import { createCheckoutEngine } from '../../src/index.js';
import type { CartProcessor } from '../../src/integrations/contract.js';
import { TestPaymentGateway } from '../../src/integrations/payment.js';

afterAll(dropTestSchemas);

/** A taxes calculator that takes a while, so a run is observably in flight. */
function slowTaxes(ms: number): CartProcessor {
  return {
    async startCartProcessAsync() {
      await new Promise((r) => setTimeout(r, ms));
      return { status: 'SUCCESS' };
    },
  };
}

async function poll(t: TestServer, path: string, token: string) {
  for (let i = 0; i < 400; i++) {
    const r = await t.call('GET', path, { token });
    if (r.status !== 202) return r;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`still 202: ${path}`);
}

describe('two engine processes on one PostgreSQL schema', () => {
  it("race a PATCH on the same checkout: exactly one 202, the other 409; the stored checkout is the winner's", async () => {
    const location = freshPgUrl();
    const engine = { integrations: { taxes: slowTaxes(300) } };
    const a = await startTestServer(location, { sessionState: '', engine });
    const b = await startTestServer(location, { seed: false, engine });
    try {
      const tokenA = await a.token();
      const tokenB = await b.token();
      const base = `/services/data/v62.0/commerce/webstores/${a.ids.store}`;
      const id = (await a.call('POST', `${base}/checkouts`, { token: tokenA, body: { cartId: 'active' } })).body.checkoutId;
      // The other process sees the run in flight (202) and refuses a change meanwhile (409).
      const [seen, refused] = await Promise.all([
        b.call('GET', `${base}/checkouts/${id}`, { token: tokenB }),
        b.call('PATCH', `${base}/checkouts/${id}`, { token: tokenB, body: { shippingInstructions: 'too early' } }),
      ]);
      expect(seen.status).toBe(202);
      expect(refused.status).toBe(409);
      expect(refused.body[0].errorCode).toBe('CHECKOUT_CONFLICT');
      expect((await poll(a, `${base}/checkouts/${id}`, tokenA)).status).toBe(200);

      for (let round = 0; round < 3; round++) {
        const [ra, rb] = await Promise.all([
          a.call('PATCH', `${base}/checkouts/${id}`, {
            token: tokenA,
            body: { deliveryMethodId: round % 2 ? a.ids.ground : a.ids.express, shippingInstructions: `A${round}` },
          }),
          b.call('PATCH', `${base}/checkouts/${id}`, {
            token: tokenB,
            body: { deliveryMethodId: round % 2 ? a.ids.express : a.ids.ground, shippingInstructions: `B${round}` },
          }),
        ]);
        expect([ra.status, rb.status].sort()).toEqual([202, 409]);
        const loser = ra.status === 409 ? ra : rb;
        expect(loser.body[0].errorCode).toBe('CHECKOUT_CONFLICT');
        const winnerA = ra.status === 202;
        const done = await poll(winnerA ? a : b, `${base}/checkouts/${id}`, winnerA ? tokenA : tokenB);
        expect(done.status).toBe(200);
        await settled(a.engine);
        await settled(b.engine);
        const g = (await poll(b, `${base}/checkouts/${id}`, tokenB)).body.deliveryGroups.items[0];
        expect(g.shippingInstructions).toBe(`${winnerA ? 'A' : 'B'}${round}`);
        const method = winnerA ? (round % 2 ? a.ids.ground : a.ids.express) : round % 2 ? a.ids.express : a.ids.ground;
        expect(g.selectedDeliveryMethod.id).toBe(method);
        const charges = await a.engine.admin.find('CartItem', {
          where: [
            { field: 'CartId', op: '=', value: a.ids.cart },
            { field: 'Type', op: '=', value: 'Charge' },
          ],
        });
        expect(charges).toHaveLength(1);
        expect(charges[0]!.CartDeliveryGroupId).toBeTruthy();
      }
      // Once both are idle, either process may change the checkout again.
      const later = await b.call('PATCH', `${base}/checkouts/${id}`, { token: tokenB, body: { shippingInstructions: 'after' } });
      expect(later.status).toBe(202);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('a holder that crashed blocks no one once its lease ran out', async () => {
    const location = freshPgUrl();
    const a = await startTestServer(location, { sessionState: '', engine: { leaseMs: 1_000 } });
    const token = await a.token();
    const base = `/services/data/v62.0/commerce/webstores/${a.ids.store}`;
    const id = (await a.call('POST', `${base}/checkouts`, { token, body: { cartId: 'active' } })).body.checkoutId;
    await settled(a.engine);
    // A process that took the lock and died without releasing it.
    const { connectData } = await import('../../src/connect/checkouts.js');
    await a.engine.core.atomically(async (tx) => {
      const s = (await tx.get('CartCheckoutSession', id, { forUpdate: true }))!;
      await tx.update('CartCheckoutSession', id, {
        _connect: JSON.stringify({ ...connectData(s), lock: { owner: 'dead-process', until: Date.now() + 1_000 } }),
      });
    });
    const blocked = await a.call('PATCH', `${base}/checkouts/${id}`, { token, body: { shippingInstructions: 'x' } });
    expect(blocked.status).toBe(409);
    await new Promise((r) => setTimeout(r, 1_100));
    const after = await a.call('PATCH', `${base}/checkouts/${id}`, { token, body: { shippingInstructions: 'y' } });
    expect(after.status).toBe(202);
    expect(after.body.deliveryGroups.items[0].shippingInstructions).toBe('y');
    await a.close();
  });
});

describe.each([
  { name: 'sqlite-file', location: freshSqliteFile },
  { name: 'postgres', location: freshPgUrl },
])('a placement left by a crash, resumed by a library engine ($name)', (backend) => {
  it('place order over HTTP, close after the 201, createCheckoutEngine on the same database: one order, activated, cart Closed', async () => {
    const location = backend.location();
    const { cartId, checkoutId: id } = await placeThenCrash(location);

    // A library user: no server, no routes.
    const engine = await createCheckoutEngine({ storage: location, onError: () => {} });
    try {
      await until('the cart to close', async () => (await engine.admin.get('WebCart', cartId))?.Status === 'Closed');
      await settled(engine);
      await engine.whenIdle();
      const orders = await engine.admin.find('Order', { where: [{ field: 'CartId', op: '=', value: cartId }] });
      expect(orders).toHaveLength(1);
      expect(orders[0]).toMatchObject({ Status: 'Activated', OrderReferenceNumber: id });
      expect(await engine.admin.count('OrderSummary', [{ field: 'OriginalOrderId', op: '=', value: orders[0]!.Id }])).toBe(1);
    } finally {
      await engine.close();
    }
  });
});

describe.each([
  { name: 'sqlite', location: () => ':memory:' },
  { name: 'postgres', location: freshPgUrl },
])('one gateway authorization per Auth payment ($name)', (backend) => {
  const VISA = {
    cardHolderName: 'Bea Buyer',
    cardNumber: '4111111111111111',
    expiryMonth: 12,
    expiryYear: 2035,
    cvv: '123',
    cardType: 'Visa',
  };

  it("the order uses the checkout's authorization: one authorize call, the order's code is the payment's", async () => {
    const gateway = new TestPaymentGateway();
    const t = await startTestServer(backend.location(), { sessionState: '', engine: { paymentGateway: gateway } });
    try {
      const token = await t.token();
      const base = `/services/data/v63.0/commerce/webstores/${t.ids.store}`;
      const id = (await t.call('POST', `${base}/checkouts`, { token, body: { cartId: 'active' } })).body.checkoutId;
      await settled(t.engine, t.ids.cart);
      const pm = (await t.call('POST', `${base}/payments/token`, { token, body: { cardPaymentMethod: VISA } })).body.token;
      const first = await t.call('POST', `${base}/checkouts/${id}/payments`, { token, body: { requestType: 'Auth', paymentToken: pm } });
      expect(first.body.salesforceResultCode).toBe('Success');
      // v63 re-entry: a second payment is a second authorization, and the one the order uses.
      const second = await t.call('POST', `${base}/checkouts/${id}/payments`, { token, body: { requestType: 'Auth', paymentToken: pm } });
      expect(second.body.salesforceResultCode).toBe('Success');
      expect(gateway.requests).toHaveLength(2);
      expect((await t.call('POST', `${base}/checkouts/${id}/orders`, { token })).status).toBe(201);
      await settled(t.engine, t.ids.cart);
      await t.engine.whenIdle();
      const [order] = await t.engine.admin.find('Order', { where: [{ field: 'CartId', op: '=', value: t.ids.cart }] });
      expect(order).toMatchObject({
        Status: 'Activated',
        PaymentMethodId: pm,
        PaymentAuthorizationCode: second.body.paymentData.authorizationCode,
      });
      expect(gateway.requests).toHaveLength(2);
      expect(gateway.requests.every((r) => r.orderId === '')).toBe(true);
      expect((await t.engine.admin.get('WebCart', t.ids.cart))!.Status).toBe('Closed');
    } finally {
      await t.close();
    }
  });

  it('a delivery method change clears the authorization: the next payment authorizes again, the order uses that one', async () => {
    const gateway = new TestPaymentGateway();
    const t = await startTestServer(backend.location(), { sessionState: '', engine: { paymentGateway: gateway } });
    try {
      const token = await t.token();
      const base = `/services/data/v62.0/commerce/webstores/${t.ids.store}`;
      const id = (await t.call('POST', `${base}/checkouts`, { token, body: { cartId: 'active' } })).body.checkoutId;
      await settled(t.engine, t.ids.cart);
      const pay = () =>
        t.call('POST', `${base}/checkouts/${id}/payments`, { token, body: { requestType: 'Auth', paymentToken: 'pm_cnt_1' } });
      expect((await pay()).body.salesforceResultCode).toBe('Success');
      const express = await t.call('PATCH', `${base}/checkouts/${id}`, { token, body: { deliveryMethodId: t.ids.express } });
      expect(express.status).toBe(202);
      await settled(t.engine, t.ids.cart);
      // The payment (and its authorization) is gone: placing now is refused.
      expect((await t.call('POST', `${base}/checkouts/${id}/orders`, { token })).status).toBe(422);
      const again = await pay();
      expect(again.body.salesforceResultCode).toBe('Success');
      expect(gateway.requests).toHaveLength(2);
      expect(gateway.requests[1]!.amount).toBe(Number(again.body.paymentData.amount));
      expect((await t.call('POST', `${base}/checkouts/${id}/orders`, { token })).status).toBe(201);
      await settled(t.engine, t.ids.cart);
      await t.engine.whenIdle();
      const [order] = await t.engine.admin.find('Order', { where: [{ field: 'CartId', op: '=', value: t.ids.cart }] });
      expect(order).toMatchObject({ Status: 'Activated', PaymentAuthorizationCode: again.body.paymentData.authorizationCode });
      expect(Number(order!.GrandTotalAmount)).toBe(Number(again.body.paymentData.amount));
      expect(gateway.requests).toHaveLength(2);
    } finally {
      await t.close();
    }
  });
});

describe.each([
  { name: 'sqlite', location: () => ':memory:' },
  { name: 'postgres', location: freshPgUrl },
])('place order when the reserved stock was released ($name)', (backend) => {
  it('v63+: 412 naming the inventory reservation (422 before v63), nothing placed; a new checkout reserves again and places', async () => {
    const t = await startTestServer(backend.location(), { sessionState: '' });
    try {
      const token = await t.token();
      const at = (v: number) => `/services/data/v${v}.0/commerce/webstores/${t.ids.store}`;
      const ready = async () => {
        const id = (await t.call('POST', `${at(63)}/checkouts`, { token, body: { cartId: t.ids.cart } })).body.checkoutId as string;
        await settled(t.engine, t.ids.cart);
        const pay = await t.call('POST', `${at(63)}/checkouts/${id}/payments`, {
          token,
          body: { requestType: 'SimplePurchaseOrder', paymentToken: 'PO-412' },
        });
        expect(pay.body.salesforceResultCode).toBe('Success');
        return id;
      };
      const id = await ready();
      const held = () =>
        t.engine.admin.count('ProductReservation', [
          { field: 'WebCartId', op: '=', value: t.ids.cart },
          { field: 'Status', op: '=', value: 'Held' },
        ]);
      expect(await held()).toBeGreaterThan(0);
      // The reservation lapses (the engine's own release, as an expiry does it).
      const { releaseHolds } = await import('../../src/engine/reservations.js');
      await t.engine.core.atomically((tx) => releaseHolds(tx, t.ids.cart, 'Expired', new Date()));
      expect(await held()).toBe(0);

      const refused = await t.call('POST', `${at(63)}/checkouts/${id}/orders`, { token });
      expect(refused.status).toBe(412);
      expect(refused.body[0]).toMatchObject({ errorCode: 'PRECONDITION_FAILED', fields: ['cartItems'] });
      expect(refused.body[0].message).toMatch(
        /Inventory reservation failed: the stock is no longer available \(\d+ of product 01t\w+ needed, 0 held/,
      );
      const before63 = await t.call('POST', `${at(62)}/checkouts/${id}/orders`, { token });
      expect(before63.status).toBe(422);
      expect(before63.body[0].message).toMatch(/Inventory reservation failed/);
      const prepare = await t.call('POST', `${at(64)}/checkouts/${id}/orders/actions`, {
        token,
        body: { actions: [{ action: 'prepare' }] },
      });
      expect(prepare.status).toBe(422);
      expect((await t.engine.admin.get('WebCart', t.ids.cart))!.Status).toBe('Checkout');
      expect(await t.engine.admin.count('Order', [{ field: 'CartId', op: '=', value: t.ids.cart }])).toBe(0);

      // Cancel and start again: the inventory calculator reserves the stock anew; the order is placed.
      expect((await t.call('DELETE', `${at(63)}/checkouts/${id}`, { token })).status).toBe(204);
      const again = await ready();
      expect(again).not.toBe(id);
      expect(await held()).toBeGreaterThan(0);
      expect((await t.call('POST', `${at(63)}/checkouts/${again}/orders`, { token })).status).toBe(201);
      await settled(t.engine, t.ids.cart);
      await t.engine.whenIdle();
      const orders = await t.engine.admin.find('Order', { where: [{ field: 'CartId', op: '=', value: t.ids.cart }] });
      expect(orders.map((o) => o.Status)).toEqual(['Activated']);
    } finally {
      await t.close();
    }
  });
});
