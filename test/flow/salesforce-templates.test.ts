/**
 * Salesforce's own checkout templates, replayed call by call as the template makes them: the
 * Re-entrant Checkout (`salesforce-reentrant`) and the Main Checkout (`salesforce-main`). Each
 * replay runs through the library and through jsforce over HTTP, and after every call checks the
 * session's State, NextState and IsProcessing, the order and the cart.
 */
import jsforce from 'jsforce';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckoutEngine } from '../../src/index.js';
import { seedDemoCheckout } from '../../src/demo/run-demo.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { PASSWORD, startTestServer } from '../http/helpers.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLOW_BACKENDS, activeSession, demoCheckout, rows } from './helpers.js';

afterAll(dropTestSchemas);

/** What a replay needs from a client: invoke an action, write and read records, as the buyer. */
interface Client {
  invoke(action: string, input: Record<string, unknown>): Promise<{ ok: true; out: Record<string, unknown> } | { ok: false; code: string }>;
  update(type: string, id: string, fields: Record<string, unknown>): Promise<void>;
  get(type: string, id: string): Promise<Record<string, any>>;
}

function libraryClient(engine: CheckoutEngine, userId: string): Client {
  return {
    async invoke(action, input) {
      const [r] = await engine.invoke(action, [input], { userId });
      return r!.isSuccess ? { ok: true, out: r!.outputValues ?? {} } : { ok: false, code: r!.errors![0]!.statusCode };
    },
    update: (type, id, fields) => engine.updateRecord(type, id, fields, { userId }),
    get: (type, id) => engine.getRecord(type, id, { userId }) as Promise<Record<string, any>>,
  };
}

function jsforceClient(conn: jsforce.Connection): Client {
  return {
    async invoke(action, input) {
      try {
        const [r] = await conn.requestPost<any[]>(`/services/data/v62.0/actions/standard/${action}`, { inputs: [input] });
        return { ok: true, out: r.outputValues ?? {} };
      } catch (e) {
        return { ok: false, code: String((e as { errorCode?: string }).errorCode) };
      }
    },
    async update(type, id, fields) {
      await conn.sobject(type).update({ Id: id, ...fields });
    },
    get: (type, id) => conn.sobject(type).retrieve(id) as Promise<Record<string, any>>,
  };
}

/** The replay's view: checks after every call. */
function checker(c: Client, engine: CheckoutEngine, cartId: string) {
  let sessionId = '';
  return {
    set session(id: string) {
      sessionId = id;
    },
    get session() {
      return sessionId;
    },
    async ok(action: string, input: Record<string, unknown>) {
      const r = await c.invoke(action, input);
      expect(r, `${action} ${JSON.stringify(input)}`).toMatchObject({ ok: true });
      return (r as { out: Record<string, unknown> }).out;
    },
    /** The template's wait screen: re-reads the session until IsProcessing is false. */
    async waitScreen() {
      for (let i = 0; i < 400; i++) {
        if ((await c.get('CartCheckoutSession', sessionId)).IsProcessing !== true) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('the operation never finished');
    },
    async expect(session: { State: string; NextState: string | null; IsProcessing: boolean }, cart: string, order: string | null) {
      const s = await c.get('CartCheckoutSession', sessionId);
      expect({ State: s.State, NextState: s.NextState ?? null, IsProcessing: s.IsProcessing }).toEqual(session);
      expect((await c.get('WebCart', cartId)).Status).toBe(cart);
      if (order === null) expect(s.OrderId ?? null).toBeNull();
      else expect((await c.get('Order', s.OrderId)).Status).toBe(order);
      return s;
    },
    engine,
  };
}

/** The Re-entrant template (its hub dispatches on State; async steps claim their successor). */
async function replayReentrant(c: Client, engine: CheckoutEngine, cartId: string) {
  const x = checker(c, engine, cartId);
  x.session = String((await x.ok('checkoutSessionAction', { cartId, initialState: 'Start' })).requestId);
  await x.expect({ State: 'Start', NextState: null, IsProcessing: false }, 'Checkout', null);
  // Start screen: the address (geolocation included) goes on the delivery groups; Update Checkout State writes the next state.
  for (const g of await rows(engine, 'CartDeliveryGroup', { CartId: cartId })) {
    await c.update('CartDeliveryGroup', String(g.Id), {
      DeliverToLatitude: 37.7983,
      DeliverToLongitude: -122.2835,
      DeliverToGeocodeAccuracy: 'Address',
      CompanyName: 'Acme Receiving',
    });
  }
  await c.update('CartCheckoutSession', x.session, { State: 'Inventory' });
  await x.expect({ State: 'Inventory', NextState: null, IsProcessing: false }, 'Checkout', null);
  const asyncStep = async (state: string, next: string, action: string, input: Record<string, unknown> = {}) => {
    await x.ok('updateCheckoutSessionStateAction', { checkoutSessionId: x.session, expCurrentState: state, nextState: next });
    await x.expect({ State: state, NextState: next, IsProcessing: false }, 'Checkout', null);
    await x.ok(action, { cartId, ...input });
    await x.waitScreen();
    return x.expect({ State: next, NextState: null, IsProcessing: false }, 'Checkout', null);
  };
  await asyncStep('Inventory', 'Confirm Price', 'checkCartInventoryAction');
  await asyncStep('Confirm Price', 'Calculate Promotions', 'priceCart');
  await asyncStep('Calculate Promotions', 'Shipping Cost', 'calcCartPromotionsAction');
  await asyncStep('Shipping Cost', 'Delivery Method', 'calcCartShipmentAction');
  const [option] = await rows(engine, 'CartDeliveryGroupMethod', { WebCartId: cartId });
  await x.ok('setCheckoutDeliveryMethod', { cartId, deliveryMethodId: option!.DeliveryMethodId });
  await c.update('CartCheckoutSession', x.session, { State: 'Taxes' });
  await x.expect({ State: 'Taxes', NextState: null, IsProcessing: false }, 'Checkout', null);
  await asyncStep('Taxes', 'Payment And Billing Address', 'calcCartTaxesAction');
  await c.update('WebCart', cartId, {
    PoNumber: 'PO-REENTRANT',
    BillingCity: 'Oakland',
    BillingCountry: 'US',
    BillingLatitude: 37.8044,
    BillingLongitude: -122.2712,
    BillingGeocodeAccuracy: 'City',
  });
  await c.update('CartCheckoutSession', x.session, { State: 'Checkout Summary' });
  await x.expect({ State: 'Checkout Summary', NextState: null, IsProcessing: false }, 'Checkout', null);
  await c.update('CartCheckoutSession', x.session, { State: 'Cart To Order' });
  await x.expect({ State: 'Cart To Order', NextState: null, IsProcessing: false }, 'Checkout', null);
  // Cart To Order: the managed subflow with runAsync = true, then the wait screen.
  await x.ok('updateCheckoutSessionStateAction', {
    checkoutSessionId: x.session,
    expCurrentState: 'Cart To Order',
    nextState: 'Authorize Payment',
  });
  await x.expect({ State: 'Cart To Order', NextState: 'Authorize Payment', IsProcessing: false }, 'Checkout', null);
  await x.ok('cartToOrderAction', { cartId, runAsync: true });
  await x.waitScreen();
  const atAuth = await x.expect({ State: 'Authorize Payment', NextState: null, IsProcessing: false }, 'Checkout', 'Draft');
  const draft = await c.get('Order', atAuth.OrderId);
  expect([draft.BillingLatitude, draft.BillingLongitude, draft.BillingGeocodeAccuracy]).toEqual([37.8044, -122.2712, 'City']);
  for (const g of await rows(engine, 'OrderDeliveryGroup', { OrderId: atAuth.OrderId })) {
    expect([g.DeliverToLatitude, g.DeliverToLongitude, g.DeliverToGeocodeAccuracy, g.DeliverToCompanyName]).toEqual([
      37.7983,
      -122.2835,
      'Address',
      'Acme Receiving',
    ]);
  }
  // A PO order: nothing to authorize, so the template writes the next state.
  await c.update('CartCheckoutSession', x.session, { State: 'Activate Order' });
  await x.expect({ State: 'Activate Order', NextState: null, IsProcessing: false }, 'Checkout', 'Draft');
  await x.ok('updateCheckoutSessionStateAction', {
    checkoutSessionId: x.session,
    expCurrentState: 'Activate Order',
    nextState: 'Order Confirmation',
  });
  await x.ok('activateOrderAction', { cartId, orderStatus: 'Activated', runAsync: true, orderLifeCycleType: 'UNMANAGED' });
  await x.waitScreen();
  await x.expect({ State: 'Order Confirmation', NextState: null, IsProcessing: false }, 'Checkout', 'Activated');
  // Order Confirmation: cart still Checkout → claim Complete, then the cart record write.
  await x.ok('updateCheckoutSessionStateAction', {
    checkoutSessionId: x.session,
    expCurrentState: 'Order Confirmation',
    nextState: 'Complete',
  });
  await x.expect({ State: 'Order Confirmation', NextState: 'Complete', IsProcessing: false }, 'Checkout', 'Activated');
  await c.update('WebCart', cartId, { Status: 'Closed' });
  const end = await x.expect({ State: 'Order Confirmation', NextState: 'Complete', IsProcessing: false }, 'Closed', 'Activated');
  expect(end.OrderId).toBe(atAuth.OrderId);
  expect(await rows(engine, 'OrderSummary', { OriginalOrderId: end.OrderId })).toHaveLength(1);
  return x.session;
}

/** The Main template (synchronous; async calculators wrapped between record-written states). */
async function replayMain(c: Client, engine: CheckoutEngine, cartId: string, adminId: string) {
  const x = checker(c, engine, cartId);
  // First thing: cancel whatever another tab runs — on a cart with no session it changes nothing.
  await x.ok('cancelCartAsyncOperation', { cartId });
  expect((await c.get('WebCart', cartId)).Status).toBe('Active');
  expect(await activeSession(engine, cartId)).toBeUndefined();
  x.session = String((await x.ok('checkoutSessionAction', { cartId, initialState: 'Start' })).requestId);
  await x.expect({ State: 'Start', NextState: null, IsProcessing: false }, 'Checkout', null);
  await c.update('CartCheckoutSession', x.session, { State: 'Pre-Pricing', NextState: 'Post-Pricing' });
  await x.expect({ State: 'Pre-Pricing', NextState: 'Post-Pricing', IsProcessing: false }, 'Checkout', null);
  await x.ok('priceCart', { cartId });
  await x.expect({ State: 'Post-Pricing', NextState: null, IsProcessing: false }, 'Checkout', null);
  await c.update('CartCheckoutSession', x.session, { State: 'Pre-Promotions', NextState: 'Post-Promotions' });
  await x.expect({ State: 'Pre-Promotions', NextState: 'Post-Promotions', IsProcessing: false }, 'Checkout', null);
  await x.ok('calcCartPromotionsAction', { cartId });
  await x.expect({ State: 'Post-Promotions', NextState: null, IsProcessing: false }, 'Checkout', null);
  // The template's delivery options come from the store's own synchronous code: written as the admin.
  const [method] = await rows(engine, 'OrderDeliveryMethod', { IsActive: true });
  for (const group of await rows(engine, 'CartDeliveryGroup', { CartId: cartId })) {
    await engine.createRecord(
      'CartDeliveryGroupMethod',
      { CartDeliveryGroupId: group.Id, WebCartId: cartId, DeliveryMethodId: method!.Id, Name: String(method!.Name), ShippingFee: 10 },
      { userId: adminId },
    );
  }
  await x.ok('setCheckoutDeliveryMethod', { cartId, deliveryMethodId: method!.Id });
  await c.update('WebCart', cartId, { PoNumber: 'PO-MAIN' });
  await x.expect({ State: 'Post-Promotions', NextState: null, IsProcessing: false }, 'Checkout', null);
  await c.update('CartCheckoutSession', x.session, { NextState: 'Authorize Payment', IsProcessing: false });
  await x.expect({ State: 'Post-Promotions', NextState: 'Authorize Payment', IsProcessing: false }, 'Checkout', null);
  await x.ok('cartToOrderAction', { cartId, runAsync: false });
  const draft = await x.expect({ State: 'Authorize Payment', NextState: null, IsProcessing: false }, 'Checkout', 'Draft');
  const order = await c.get('Order', draft.OrderId);
  expect(order.GrandTotalAmount).toBe((await c.get('WebCart', cartId)).GrandTotalAmount);
  expect(order.PoNumber).toBe('PO-MAIN');
  await c.update('CartCheckoutSession', x.session, { NextState: 'Activate Order' });
  await x.expect({ State: 'Authorize Payment', NextState: 'Activate Order', IsProcessing: false }, 'Checkout', 'Draft');
  await x.ok('activateOrderAction', { cartId, orderStatus: 'Activated', runAsync: false });
  await x.expect({ State: 'Activate Order', NextState: null, IsProcessing: false }, 'Closed', 'Activated');
  return x.session;
}

describe.each(FLOW_BACKENDS)('Salesforce templates through the library on $name', (backend) => {
  it('the Re-entrant template runs unchanged: labels stored as written, async steps claim their successor, the buyer closes the cart', async () => {
    const { engine, cartId, as, outsiderId } = await demoCheckout(backend.location(), {}, { defaultFlow: 'salesforce-reentrant' });
    try {
      const sessionId = await replayReentrant(libraryClient(engine, as.userId), engine, cartId);
      // A second account can neither write the session nor close the cart.
      await expect(
        engine.updateRecord('CartCheckoutSession', sessionId, { State: 'Complete' }, { userId: outsiderId }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await engine.close();
    }
  });

  it('the Main template runs unchanged: cancel without a session, record-written Pre/Post states, NextState := Authorize Payment', async () => {
    const { engine, cartId, as, adminId } = await demoCheckout(backend.location(), {}, { defaultFlow: 'salesforce-main' });
    try {
      const sessionId = await replayMain(libraryClient(engine, as.userId), engine, cartId, adminId);
      // OrderId is the engine's link: writing the value it holds is a no-op, any other value is refused.
      const linked = (await activeSession(engine, cartId))!.OrderId;
      await engine.updateRecord('CartCheckoutSession', sessionId, { OrderId: linked }, as);
      await expect(engine.updateRecord('CartCheckoutSession', sessionId, { OrderId: null }, as)).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        fields: ['OrderId'],
      });
      expect((await activeSession(engine, cartId))!.OrderId).toBe(linked);
    } finally {
      await engine.close();
    }
  });

  it('refuses what the template statechart does not allow, naming the field, and changes nothing', async () => {
    const { engine, cartId, as, outsiderId } = await demoCheckout(backend.location(), {}, { defaultFlow: 'salesforce-reentrant' });
    try {
      const c = libraryClient(engine, as.userId);
      const [r] = await engine.invoke('checkoutSessionAction', [{ cartId, initialState: 'start' }], as);
      const id = String(r!.outputValues!.requestId);
      const before = await activeSession(engine, cartId);
      expect(before!.State).toBe('start');
      // An async step can't be skipped by a State write; a claim must name the successor.
      await c.update('CartCheckoutSession', id, { State: 'INVENTORY' });
      await expect(c.update('CartCheckoutSession', id, { State: 'Confirm Price' })).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        fields: ['State'],
      });
      await expect(c.update('CartCheckoutSession', id, { NextState: 'Taxes' })).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        fields: ['NextState'],
      });
      expect(
        await c.invoke('updateCheckoutSessionStateAction', { checkoutSessionId: id, expCurrentState: 'Inventory', nextState: 'Taxes' }),
      ).toMatchObject({ ok: false, code: 'INVALID_OPERATION' });
      // Unclaimed, the step's action is requirement 7; another step's action too.
      expect(await c.invoke('checkCartInventoryAction', { cartId })).toMatchObject({ ok: false, code: 'INVALID_OPERATION' });
      await c.update('CartCheckoutSession', id, { NextState: 'confirm price' });
      expect(await c.invoke('priceCart', { cartId })).toMatchObject({ ok: false, code: 'INVALID_OPERATION' });
      // Statechart fields can't be forced, and OrderId never links an order.
      await expect(c.update('CartCheckoutSession', id, { IsProcessing: true })).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        fields: ['IsProcessing'],
      });
      await expect(c.update('CartCheckoutSession', id, { IsArchived: true })).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        fields: ['IsArchived'],
      });
      // The cart can't be closed before the order is activated, and not by someone else.
      await expect(c.update('WebCart', cartId, { Status: 'Closed' })).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        fields: ['Status'],
      });
      await expect(engine.updateRecord('WebCart', cartId, { Status: 'Closed' }, { userId: outsiderId })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      const after = await activeSession(engine, cartId);
      expect([after!.State, after!.NextState, after!.IsProcessing, after!.OrderId]).toEqual(['INVENTORY', 'confirm price', false, null]);
      expect((await c.get('WebCart', cartId)).Status).toBe('Checkout');
      // The claimed step runs with the names as written, and completes to NextState as written.
      expect(await c.invoke('checkCartInventoryAction', { cartId })).toMatchObject({ ok: true });
      await engine.whenIdle();
      const done = await activeSession(engine, cartId);
      expect([done!.State, done!.NextState, done!.IsProcessing]).toEqual(['confirm price', null, false]);
    } finally {
      await engine.close();
    }
  });

  it('a store chooses its flow with storeFlows; the default flow is unchanged beside it', async () => {
    const location = backend.name === 'postgres' ? backend.location() : join(mkdtempSync(join(tmpdir(), 'flows-')), 'store.db');
    const first = await demoCheckout(location);
    try {
      const plain = await first.engine.invoke('cancelCartAsyncOperation', [{ cartId: first.cartId }], first.as);
      expect(plain[0]).toMatchObject({ isSuccess: false, httpStatus: 403 });
      await first.engine.invoke('checkoutSessionAction', [{ cartId: first.cartId }], first.as);
      expect((await activeSession(first.engine, first.cartId))!._flow).toBe('default');
    } finally {
      await first.engine.close();
    }
    const second = await demoCheckout(location, {}, { storeFlows: { [first.storeId]: 'salesforce-main' } });
    try {
      expect((await second.engine.invoke('cancelCartAsyncOperation', [{ cartId: second.cartId }], second.as))[0]).toMatchObject({
        isSuccess: true,
      });
      expect((await second.engine.getRecord('WebCart', second.cartId)).Status).toBe('Active');
      await second.engine.invoke('checkoutSessionAction', [{ cartId: second.cartId }], second.as);
      expect((await activeSession(second.engine, second.cartId))!._flow).toBe('salesforce-main');
      // The first cart's session keeps the flow it started with.
      expect((await activeSession(second.engine, first.cartId))!._flow).toBe('default');
    } finally {
      await second.engine.close();
    }
    await expect(demoCheckout(':memory:', {}, { defaultFlow: 'no-such-flow' })).rejects.toMatchObject({ code: 'INVALID_FLOW' });
  });
});

describe('Salesforce templates through jsforce over HTTP', () => {
  for (const flow of ['salesforce-reentrant', 'salesforce-main'] as const) {
    it(`replays the ${flow} template with jsforce`, async () => {
      const t = await startTestServer(':memory:', { engine: { defaultFlow: flow } });
      try {
        const { cartId } = await seedDemoCheckout(t.engine);
        const conn = new jsforce.Connection({
          oauth2: {
            loginUrl: t.url,
            clientId: 'checkout-client',
            clientSecret: 'checkout-secret',
            redirectUri: 'http://localhost/callback',
          },
          version: '62.0',
        });
        await conn.login('buyer@acme.example', PASSWORD);
        const c = jsforceClient(conn);
        if (flow === 'salesforce-reentrant') await replayReentrant(c, t.engine, cartId);
        else await replayMain(c, t.engine, cartId, t.ids.admin!);
        // A refused write comes back in Salesforce's shape, naming the field.
        const [s] = await rows(t.engine, 'CartCheckoutSession', { WebCartId: cartId });
        await expect(conn.sobject('CartCheckoutSession').update({ Id: String(s!.Id), IsError: true })).rejects.toMatchObject({
          errorCode: 'INVALID_OPERATION',
        });
      } finally {
        await t.close();
      }
    });
  }
});
