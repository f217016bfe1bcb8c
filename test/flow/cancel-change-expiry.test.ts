/**
 * Leaving a checkout: cancel from every state, a buyer's cart change mid-checkout, and expiry by
 * the store's CheckoutTimeToLive and CheckoutValidAfterDate against an injected clock. Each ends
 * with the cart Active (or Closed when already converted) and a new checkout that works.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_FLOW } from '../../src/index.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { activeSession, CA_ADDRESS, call, cartOn, failure, FLOW_BACKENDS, ok, rows, sharedEngine } from './helpers.js';

afterAll(dropTestSchemas);

const MINUTE = 60_000;

describe.each(FLOW_BACKENDS)('cancel, cart changes and expiry on $name', (backend) => {
  let offset = 0;
  const shared = sharedEngine(backend.location, { clock: () => new Date(Date.now() + offset) });

  it('cancel works from every state until the order is Activated (a draft order is deleted), and is refused after', async () => {
    for (const step of DEFAULT_FLOW.steps) {
      const { engine, cartId, as } = await cartOn(shared.get(), { lines: 2 });
      const run = await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-5' }, stopAt: step.key });
      expect(run.state, step.key).toBe(step.key);
      const s = (await activeSession(engine, cartId))!;
      const r = await call(engine, 'cancelCartAsyncOperation', { cartId }, as.userId);
      if (step.key === 'orderConfirmation' || step.key === 'complete') {
        expect(failure(r), step.key).toMatchObject({ code: 'INVALID_OPERATION', status: 403 });
        expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Closed');
        expect((await engine.admin.get('CartCheckoutSession', String(s.Id)))!.IsArchived).toBe(false);
        continue;
      }
      if (step.key === 'activateOrder') {
        // The order is placed: cancel can't reopen the cart (a cart becomes at most one order).
        expect(failure(r), step.key).toMatchObject({ code: 'INVALID_OPERATION', status: 403, message: expect.stringMatching(/Activated/) });
        expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Checkout');
        expect((await engine.admin.get('CartCheckoutSession', String(s.Id)))!.IsArchived).toBe(false);
        expect((await rows(engine, 'Order', { CartId: cartId })).map((o) => o.Status)).toEqual(['Activated']);
        continue;
      }
      ok(r);
      // A draft order (cartToOrder, authorizePayment) is deleted with its checkout.
      expect(await rows(engine, 'Order', { CartId: cartId }), step.key).toEqual([]);
      const after = (await engine.admin.get('CartCheckoutSession', String(s.Id)))!;
      expect([after.IsArchived, after.IsProcessing], step.key).toEqual([true, false]);
      expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Active');
      expect(await activeSession(engine, cartId)).toBeUndefined();
    }
  }, 60_000);

  it('cancel of a claimed step (NextState set, operation not started) archives the session; a new checkout starts over', async () => {
    const { engine, cartId, as } = await cartOn(shared.get(), { lines: 2 });
    await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS }, stopAt: 'inventory' });
    const s = (await activeSession(engine, cartId))!;
    ok(
      await call(
        engine,
        'updateCheckoutSessionStateAction',
        { checkoutSessionId: s.Id, expCurrentState: 'inventory', nextState: 'confirmPrice' },
        as.userId,
      ),
    );
    ok(await call(engine, 'cancelCartAsyncOperation', { cartId }, as.userId));
    expect((await engine.admin.get('CartCheckoutSession', String(s.Id)))!.IsArchived).toBe(true);
    const run = await engine.runCheckout(cartId, { ...as, answers: { poNumber: 'PO-6' } });
    expect(run.status).toBe('complete');
    expect(run.sessionId).not.toBe(s.Id);
    expect(run.trajectory.map((t) => t.state)).toEqual(DEFAULT_FLOW.steps.map((x) => x.key));
  });

  it("a buyer's change to product lines mid-checkout cancels the checkout; the engine's own writes don't; the next checkout sees the change", async () => {
    const { engine, cartId, as } = await cartOn(shared.get(), { lines: 3 });
    let run = await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-7' }, stopAt: 'taxes' });
    // The engine repriced, discounted, charged and taxed the cart without canceling anything.
    expect(run.state).toBe('taxes');
    const s = (await activeSession(engine, cartId))!;
    expect((await rows(engine, 'CartCheckoutSession', { WebCartId: cartId })).length).toBe(1);
    const [item] = await rows(engine, 'CartItem', { CartId: cartId, Type: 'Product' });
    await engine.updateRecord('CartItem', String(item!.Id), { Quantity: Number(item!.Quantity) + 2 }, as);
    expect((await engine.admin.get('CartCheckoutSession', String(s.Id)))!.IsArchived).toBe(true);
    expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Active');
    // Adding a line to the new checkout cancels it too.
    run = await engine.runCheckout(cartId, { ...as, stopAt: 'inventory' });
    expect(run.state).toBe('inventory');
    const s2 = (await activeSession(engine, cartId))!;
    expect(s2.Id).not.toBe(s.Id);
    await engine.createRecord(
      'CartItem',
      { CartId: cartId, CartDeliveryGroupId: item!.CartDeliveryGroupId, Product2Id: item!.Product2Id, Sku: item!.Sku, Quantity: 1 },
      as,
    );
    expect((await engine.admin.get('CartCheckoutSession', String(s2.Id)))!.IsArchived).toBe(true);
    run = await engine.runCheckout(cartId, as);
    expect(run.status, run.errors.join()).toBe('complete');
    const orderItems = await rows(engine, 'OrderItem', { OrderId: run.orderId, CartItemId: item!.Id });
    expect(orderItems[0]!.Quantity).toBe(Number(item!.Quantity) + 2);
    expect(await rows(engine, 'OrderItem', { OrderId: run.orderId, Type: 'Order Product' })).toHaveLength(4);
  });

  it('a delivery address change at Start is taken; after shipping and taxes were computed from it, it cancels the checkout', async () => {
    const { engine, cartId, as } = await cartOn(shared.get(), { lines: 2 });
    let run = await engine.runCheckout(cartId, { ...as, stopAt: 'start' });
    expect(run.state).toBe('start');
    const [group] = await rows(engine, 'CartDeliveryGroup', { CartId: cartId });
    await engine.updateRecord('CartDeliveryGroup', String(group!.Id), { ...CA_ADDRESS, DeliverToCity: 'Oakland' }, as);
    const s = (await activeSession(engine, cartId))!;
    expect(s.State).toBe('start');
    run = await engine.runCheckout(cartId, { ...as, answers: { poNumber: 'PO-A' }, stopAt: 'taxes' });
    expect(run.state).toBe('taxes');
    // Taxes were computed for California; moving the address to another state now would leave them stale.
    await engine.updateRecord('CartDeliveryGroup', String(group!.Id), { DeliverToState: 'NY' }, as);
    expect((await engine.admin.get('CartCheckoutSession', String(s.Id)))!.IsArchived).toBe(true);
    expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Active');
    // Names and instructions are no input of any step: they never cancel.
    run = await engine.runCheckout(cartId, { ...as, answers: { poNumber: 'PO-B' }, stopAt: 'taxes' });
    expect(run.state).toBe('taxes');
    const s2 = (await activeSession(engine, cartId))!;
    await engine.updateRecord('CartDeliveryGroup', String(group!.Id), { ShippingInstructions: 'Leave at the door' }, as);
    expect((await activeSession(engine, cartId))!.Id).toBe(s2.Id);
  });

  it('CheckoutTimeToLive expires a session after its minutes (null never does); the next call starts a fresh checkout', async () => {
    const { engine, cartId, as, adminId, storeId } = await cartOn(shared.get(), { lines: 2 });
    const admin = { userId: adminId };
    try {
      await engine.updateRecord('WebStore', storeId, { CheckoutTimeToLive: 60 }, admin);
      await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-8' }, stopAt: 'deliveryMethod' });
      const first = (await activeSession(engine, cartId))!;
      offset += 59 * MINUTE;
      let run = await engine.runCheckout(cartId, { ...as, stopAt: 'taxes' });
      expect(run.sessionId).toBe(first.Id);
      offset += 2 * MINUTE;
      // A screen move on the expired session is refused, and the session is archived.
      await expect(
        engine.updateRecord('CartCheckoutSession', String(first.Id), { State: 'paymentAndBillingAddress' }, as),
      ).rejects.toMatchObject({ code: 'INVALID_OPERATION' });
      expect((await engine.admin.get('CartCheckoutSession', String(first.Id)))!.IsArchived).toBe(true);
      expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Active');
      run = await engine.runCheckout(cartId, as);
      expect(run.status).toBe('complete');
      expect(run.sessionId).not.toBe(first.Id);
      expect(run.trajectory[0]).toMatchObject({ state: 'start', status: 'started' });
      expect(run.trajectory.map((t) => t.state)).toEqual(DEFAULT_FLOW.steps.map((x) => x.key));

      await engine.updateRecord('WebStore', storeId, { CheckoutTimeToLive: null }, admin);
      const other = await cartOn(engine, { lines: 1 });
      await engine.runCheckout(other.cartId, { ...as, answers: { poNumber: 'PO-9' }, stopAt: 'inventory' });
      const kept = (await activeSession(engine, other.cartId))!;
      offset += 10 * 365 * 24 * 60 * MINUTE;
      expect(await engine.expireCheckouts()).toBe(0);
      run = await engine.runCheckout(other.cartId, as);
      expect([run.status, run.sessionId]).toEqual(['complete', kept.Id]);
    } finally {
      await engine.updateRecord('WebStore', storeId, { CheckoutTimeToLive: 2880 }, admin);
    }
  });

  it('CheckoutTimeToLive 0 disables checkout (open sessions expire); CheckoutValidAfterDate expires sessions started before it', async () => {
    const { engine, cartId, as, adminId, storeId } = await cartOn(shared.get(), { lines: 2 });
    const admin = { userId: adminId };
    try {
      await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-10' }, stopAt: 'confirmPrice' });
      const first = (await activeSession(engine, cartId))!;
      await engine.updateRecord('WebStore', storeId, { CheckoutTimeToLive: 0 }, admin);
      await expect(engine.runCheckout(cartId, as)).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        message: expect.stringMatching(/CheckoutTimeToLive = 0/),
      });
      expect((await engine.admin.get('CartCheckoutSession', String(first.Id)))!.IsArchived).toBe(true);
      expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Active');

      await engine.updateRecord('WebStore', storeId, { CheckoutTimeToLive: 2880 }, admin);
      await engine.runCheckout(cartId, { ...as, stopAt: 'confirmPrice' });
      const second = (await activeSession(engine, cartId))!;
      offset += MINUTE;
      await engine.updateRecord('WebStore', storeId, { CheckoutValidAfterDate: new Date(Date.now() + offset).toISOString() }, admin);
      expect(await engine.expireCheckouts()).toBeGreaterThanOrEqual(1);
      expect((await engine.admin.get('CartCheckoutSession', String(second.Id)))!.IsArchived).toBe(true);
      // A step action on the expired checkout sees an Active cart (requirement 6).
      expect(failure(await call(engine, 'priceCart', { cartId }, as.userId))).toMatchObject({ code: 'INVALID_OPERATION', status: 403 });
      offset += MINUTE;
      const run = await engine.runCheckout(cartId, as);
      expect(run.status).toBe('complete');
      expect(run.sessionId).not.toBe(second.Id);
    } finally {
      await engine.updateRecord('WebStore', storeId, { CheckoutTimeToLive: 2880, CheckoutValidAfterDate: null }, admin);
    }
  });
});
