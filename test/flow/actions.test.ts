/**
 * Every remaining core action: its inputs, outputs, usage requirements (spec §3, checked in order)
 * and error table, on SQLite and PostgreSQL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ACTIONS, mintId } from '../../src/index.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { activeSession, CA_ADDRESS, call, cartOn, sharedEngine, failure, FLOW_BACKENDS, ok, rows } from './helpers.js';

afterAll(dropTestSchemas);

/** The async (and sync) step actions and the state each claims. */
const STEP_ACTIONS = [
  { action: 'checkCartInventoryAction', state: 'inventory', from: 'start' },
  { action: 'priceCart', state: 'confirmPrice', from: 'inventory' },
  { action: 'calcCartPromotionsAction', state: 'calculatePromotions', from: 'confirmPrice' },
  { action: 'calcCartShipmentAction', state: 'shippingCost', from: 'calculatePromotions' },
  { action: 'calcCartTaxesAction', state: 'taxes', from: 'deliveryMethod' },
  { action: 'authorizePaymentAction', state: 'authorizePayment', from: 'cartToOrder' },
  { action: 'activateOrderAction', state: 'activateOrder', from: 'authorizePayment' },
];

describe('action catalogue', () => {
  it('registers every core action, both spellings of the update action, with described inputs and outputs', () => {
    for (const name of [
      'checkoutSessionAction',
      'updateCheckoutSessionStateAction',
      'updateCheckoutSessionAction',
      'checkCartInventoryAction',
      'priceCart',
      'calcCartPromotionsAction',
      'calcCartShipmentAction',
      'setCheckoutDeliveryMethod',
      'calcCartTaxesAction',
      'cartToOrderAction',
      'authorizePaymentAction',
      'activateOrderAction',
      'cancelCartAsyncOperation',
    ]) {
      expect(ACTIONS.has(name), name).toBe(true);
    }
    for (const { action } of STEP_ACTIONS) {
      const def = ACTIONS.get(action)!;
      expect(def.inputs[0]).toMatchObject({ name: 'cartId', type: 'ID', required: true });
      expect(def.outputs.map((o) => o.name)).toEqual(['backgroundOperationId']);
      // authorizePayment is the sync step: it always finishes in the call.
      expect(def.inputs.some((i) => i.name === 'runAsync')).toBe(action !== 'authorizePaymentAction');
    }
    expect(ACTIONS.get('activateOrderAction')!.inputs.map((i) => i.name)).toEqual([
      'cartId',
      'orderStatus',
      'orderLifeCycleType',
      'runAsync',
    ]);
    expect(ACTIONS.get('setCheckoutDeliveryMethod')!.inputs.map((i) => i.name)).toEqual(['cartId', 'deliveryMethodId']);
    expect(ACTIONS.get('cancelCartAsyncOperation')!.inputs.map((i) => i.name)).toEqual(['cartId']);
  });
});

describe.each(FLOW_BACKENDS)('actions on $name', (backend) => {
  const shared = sharedEngine(backend.location);
  it('step actions check requirements 1 to 8 in order, with the documented codes', async () => {
    const { engine, cartId, as, outsiderId, adminId } = await cartOn(shared.get());
    try {
      // A user of the buyer's account without the integrator permission.
      const buyer = (await engine.admin.get('User', as.userId))!;
      const plainId = (
        await engine.seed({
          User: [
            {
              ref: `plain${backend.name}`,
              Username: `plain-${backend.name}@acme.example`,
              AccountId: String(buyer.AccountId),
              Permissions: [],
            },
          ],
        })
      )[`plain${backend.name}`]!;
      // 4: a buyer whose account isn't a member of the store; 5: a colleague of the same account without an Edit share.
      const cart = (await engine.admin.get('WebCart', cartId))!;
      const extra = await engine.seed({
        Account: [{ ref: `initech${backend.name}`, Name: 'Initech' }],
        BuyerAccount: [{ BuyerId: `@initech${backend.name}`, BuyerStatus: 'Active' }],
        User: [
          {
            ref: `initechBuyer${backend.name}`,
            Username: `buyer-${backend.name}@initech.example`,
            AccountId: `@initech${backend.name}`,
            Permissions: ['B2BCommerceIntegrator'],
          },
          {
            ref: `colleague${backend.name}`,
            Username: `colleague-${backend.name}@acme.example`,
            AccountId: String(cart.AccountId),
            Permissions: ['B2BCommerceIntegrator'],
          },
        ],
        WebCart: [
          {
            ref: `initechCart${backend.name}`,
            Name: 'Initech cart',
            WebStoreId: String(cart.WebStoreId),
            AccountId: `@initech${backend.name}`,
            OwnerId: `@initechBuyer${backend.name}`,
          },
        ],
        // plain sees the cart (Read share), so requirement 2 is what refuses it; the outsider owns an
        // Acme cart an administrator made (it sees it; Acme isn't its account: requirement 3).
        WebCartShare: [
          { ParentId: cartId, UserOrGroupId: `@colleague${backend.name}`, AccessLevel: 'Read' },
          { ParentId: cartId, UserOrGroupId: plainId, AccessLevel: 'Read' },
        ],
      });
      const acmeOfOutsider = (
        await engine.seed({
          WebCart: [
            {
              ref: `acmeOfOutsider${backend.name}`,
              Name: 'Acme cart of a Globex buyer',
              WebStoreId: String(cart.WebStoreId),
              AccountId: String(cart.AccountId),
              OwnerId: outsiderId,
            },
          ],
        })
      )[`acmeOfOutsider${backend.name}`]!;
      for (const { action } of STEP_ACTIONS) {
        expect(
          failure(await call(engine, action, { cartId: extra[`initechCart${backend.name}`] }, extra[`initechBuyer${backend.name}`]!)),
          action,
        ).toMatchObject({
          code: 'INSUFFICIENT_ACCESS_OR_READONLY',
          status: 500,
          message: expect.stringMatching(/^User Isn't a Member of the Store/),
        });
        expect(failure(await call(engine, action, { cartId }, extra[`colleague${backend.name}`]!))).toMatchObject({
          code: 'BAD_REQUEST',
          status: 400,
          message: expect.stringMatching(/^User Doesn't Have Access to the Cart/),
        });
      }
      for (const { action } of STEP_ACTIONS) {
        // 1: malformed and unknown cart ids.
        expect(failure(await call(engine, action, { cartId: 'nope' }, as.userId)), action).toMatchObject({
          code: 'UNKNOWN_EXCEPTION',
          status: 500,
          fields: ['cartId'],
        });
        expect(failure(await call(engine, action, { cartId: mintId('0a6') }, as.userId))).toMatchObject({
          code: 'UNKNOWN_EXCEPTION',
          status: 500,
        });
        // 2: no permission.
        expect(failure(await call(engine, action, { cartId }, plainId))).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
        // 1 again: another account's cart the caller can't see answers as a missing one.
        expect(failure(await call(engine, action, { cartId }, outsiderId))).toMatchObject({ code: 'UNKNOWN_EXCEPTION', status: 500 });
        // 3: a cart the caller sees (owns) of an account it doesn't act for.
        expect(failure(await call(engine, action, { cartId: acmeOfOutsider }, outsiderId))).toMatchObject({
          code: 'INSUFFICIENT_ACCESS_OR_READONLY',
          status: 500,
        });
        // 6: the cart is Active, not in Checkout (the admin passes 1–5).
        expect(failure(await call(engine, action, { cartId }, adminId))).toMatchObject({ code: 'INVALID_OPERATION', status: 403 });
      }
      const sessionId = String(ok(await call(engine, 'checkoutSessionAction', { cartId, initialState: 'Start' }, as.userId)).requestId);
      for (const { action } of STEP_ACTIONS) {
        // 7: the session isn't waiting for this step.
        const e = failure(await call(engine, action, { cartId }, as.userId));
        expect(e).toMatchObject({ code: 'INVALID_OPERATION', status: 403 });
        expect(e.message).toMatch(/^Cart Isn't in the Checkout State/);
      }
      // 8: a step already in flight. A slow inventory integration keeps the operation Running.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      engine.registerIntegration('inventory', { startCartProcessAsync: async () => (await gate, { status: 'SUCCESS' }) });
      ok(
        await call(
          engine,
          'updateCheckoutSessionStateAction',
          { checkoutSessionId: sessionId, expCurrentState: 'start', nextState: 'inventory' },
          as.userId,
        ),
      );
      const opId = String(ok(await call(engine, 'checkCartInventoryAction', { cartId, runAsync: true }, as.userId)).backgroundOperationId);
      expect(failure(await call(engine, 'checkCartInventoryAction', { cartId }, as.userId))).toMatchObject({
        code: 'ALREADY_IN_PROCESS',
        status: 400,
      });
      expect(
        failure(await call(engine, 'setCheckoutDeliveryMethod', { cartId, deliveryMethodId: '2Dm000000000001AAA' }, as.userId)),
      ).toMatchObject({ code: 'ALREADY_IN_PROCESS', status: 400 });
      release();
      await engine.whenIdle();
      expect((await engine.admin.get('BackgroundOperation', opId))!.Status).toBe('Complete');
      expect((await activeSession(engine, cartId))!.State).toBe('inventory');
    } finally {
      await engine.whenIdle();
      // The shared engine's later checkouts hold stock again (completion invariant stock-held).
      engine.registerIntegration('inventory', (await import('../../src/integrations/defaults.js')).DEFAULT_INTEGRATIONS.inventory!);
    }
  });

  it('both spellings of the update action claim with a compare-and-set; a stale expectation is INVALID_OPERATION 409', async () => {
    const { engine, cartId, as } = await cartOn(shared.get());
    try {
      const sessionId = String(ok(await call(engine, 'checkoutSessionAction', { cartId }, as.userId)).requestId);
      ok(
        await call(
          engine,
          'updateCheckoutSessionAction',
          { checkoutSessionId: sessionId, expCurrentState: 'Start', nextState: 'Inventory' },
          as.userId,
        ),
      );
      let s = (await activeSession(engine, cartId))!;
      expect([s.State, s.NextState, s.IsProcessing]).toEqual(['start', 'Inventory', true]);
      expect(
        failure(
          await call(
            engine,
            'updateCheckoutSessionStateAction',
            { checkoutSessionId: sessionId, expCurrentState: 'start', nextState: 'inventory' },
            as.userId,
          ),
        ),
      ).toMatchObject({
        code: 'INVALID_OPERATION',
        status: 409,
      });
      const opId = ok(await call(engine, 'checkCartInventoryAction', { cartId }, as.userId)).backgroundOperationId;
      s = (await activeSession(engine, cartId))!;
      expect([s.State, s.NextState, s.IsProcessing, s.BackgroundOperationId]).toEqual(['inventory', null, false, opId]);
      expect(
        failure(
          await call(
            engine,
            'updateCheckoutSessionStateAction',
            { checkoutSessionId: sessionId, expCurrentState: 'start', nextState: 'confirmPrice' },
            as.userId,
          ),
        ).status,
      ).toBe(409);
      expect(
        failure(
          await call(
            engine,
            'updateCheckoutSessionAction',
            { checkoutSessionId: mintId('2z9'), expCurrentState: 'inventory', nextState: 'confirmPrice' },
            as.userId,
          ),
        ),
      ).toMatchObject({
        code: 'UNKNOWN_EXCEPTION',
        status: 403,
      });
    } finally {
      await engine.whenIdle();
    }
  });

  it('setCheckoutDeliveryMethod sets the method and replaces the charge line; it refuses methods not offered and late changes', async () => {
    const { engine, cartId, as } = await cartOn(shared.get(), { lines: 4, groups: 2 });
    try {
      const run = await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS }, stopAt: 'shippingCost' });
      expect(run.status).toBe('stopped');
      const [express] = await rows(engine, 'OrderDeliveryMethod', { Name: 'Express' });
      const [ground] = await rows(engine, 'OrderDeliveryMethod', { Name: 'Ground' });
      expect(failure(await call(engine, 'setCheckoutDeliveryMethod', { cartId, deliveryMethodId: 'x' }, as.userId))).toMatchObject({
        code: 'INVALID_INPUT',
        status: 400,
        fields: ['deliveryMethodId'],
      });
      const unknown = failure(await call(engine, 'setCheckoutDeliveryMethod', { cartId, deliveryMethodId: mintId('2Dm') }, as.userId));
      expect(unknown).toMatchObject({ code: 'INVALID_INPUT', fields: ['deliveryMethodId'] });
      expect(unknown.message).toMatch(/isn't offered/);
      ok(await call(engine, 'setCheckoutDeliveryMethod', { cartId, deliveryMethodId: ground!.Id }, as.userId));
      ok(await call(engine, 'setCheckoutDeliveryMethod', { cartId, deliveryMethodId: express!.Id }, as.userId));
      const groups = await rows(engine, 'CartDeliveryGroup', { CartId: cartId });
      const charges = (await rows(engine, 'CartItem', { CartId: cartId })).filter((i) => i.Type === 'Charge');
      expect(charges).toHaveLength(2);
      for (const g of groups) {
        expect(g.DeliveryMethodId).toBe(express!.Id);
        const units = (await rows(engine, 'CartItem', { CartDeliveryGroupId: g.Id, Type: 'Product' })).reduce(
          (n, i) => n + Number(i.Quantity),
          0,
        );
        // Express: 24.99 flat + 1.00 per unit.
        expect(charges.find((c) => c.CartDeliveryGroupId === g.Id)!.SalesPrice).toBe(Math.round((24.99 + units) * 100) / 100);
      }
      const cart = (await engine.admin.get('WebCart', cartId))!;
      expect(cart.TotalChargeAmount).toBe(Math.round(charges.reduce((n, c) => n + Number(c.TotalPrice), 0) * 100) / 100);
      expect(cart.Status).toBe('Checkout');
      await engine.runCheckout(cartId, { ...as, answers: { deliveryMethodId: String(express!.Id) }, stopAt: 'taxes' });
      const late = failure(await call(engine, 'setCheckoutDeliveryMethod', { cartId, deliveryMethodId: ground!.Id }, as.userId));
      expect(late).toMatchObject({ code: 'INVALID_OPERATION', status: 403 });
      expect(late.message).toMatch(/can't change in state 'taxes'/);
    } finally {
      await engine.whenIdle();
    }
  });

  it('activateOrderAction: Activated with an OrderSummary of the requested OrderLifeCycleType; Draft leaves no summary; bad options are refused', async () => {
    for (const variant of [
      { input: { orderStatus: 'Activated', orderLifeCycleType: 'MANAGED' }, status: 'Activated', summary: 'MANAGED' },
      { input: { orderStatus: 'Draft' }, status: 'Draft', summary: null },
    ]) {
      const { engine, cartId, as } = await cartOn(shared.get(), { lines: 2 });
      try {
        await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-1' }, stopAt: 'authorizePayment' });
        const s = (await activeSession(engine, cartId))!;
        expect(failure(await call(engine, 'activateOrderAction', { cartId, orderStatus: 'Shipped' }, as.userId))).toMatchObject({
          code: 'INVALID_INPUT',
          status: 400,
          fields: ['orderStatus'],
        });
        expect(failure(await call(engine, 'activateOrderAction', { cartId, orderLifeCycleType: 'SOMETIMES' }, as.userId))).toMatchObject({
          code: 'INVALID_INPUT',
          fields: ['orderLifeCycleType'],
        });
        expect((await activeSession(engine, cartId))!.State).toBe('authorizePayment');
        ok(
          await call(
            engine,
            'updateCheckoutSessionStateAction',
            { checkoutSessionId: s.Id, expCurrentState: 'authorizePayment', nextState: 'activateOrder' },
            as.userId,
          ),
        );
        ok(await call(engine, 'activateOrderAction', { cartId, ...variant.input }, as.userId));
        const order = (await engine.admin.get('Order', String(s.OrderId)))!;
        expect(order.Status).toBe(variant.status);
        const summaries = await rows(engine, 'OrderSummary', { OriginalOrderId: s.OrderId });
        expect(summaries.map((x) => x.OrderLifeCycleType)).toEqual(variant.summary ? [variant.summary] : []);
        expect((await activeSession(engine, cartId))!.State).toBe('activateOrder');
      } finally {
        await engine.whenIdle();
      }
    }
  });

  it('cancelCartAsyncOperation: operation Canceled, session archived, cart Active; a Closed cart is refused with INVALID_OPERATION 403', async () => {
    const { engine, cartId, as, outsiderId } = await cartOn(shared.get(), { lines: 2 });
    try {
      expect(failure(await call(engine, 'cancelCartAsyncOperation', { cartId }, as.userId))).toMatchObject({
        code: 'INVALID_OPERATION',
        status: 403,
      });
      expect(failure(await call(engine, 'cancelCartAsyncOperation', { cartId: 'bad' }, as.userId))).toMatchObject({
        code: 'UNKNOWN_EXCEPTION',
        status: 500,
      });
      // Another account's cart answers as a missing one (requirement 1).
      expect(failure(await call(engine, 'cancelCartAsyncOperation', { cartId }, outsiderId))).toMatchObject({
        code: 'UNKNOWN_EXCEPTION',
        status: 500,
      });
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      engine.registerIntegration('pricing', { startCartProcessAsync: async () => (await gate, { status: 'SUCCESS' }) });
      const sessionId = String(ok(await call(engine, 'checkoutSessionAction', { cartId }, as.userId)).requestId);
      await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS }, stopAt: 'inventory' });
      ok(
        await call(
          engine,
          'updateCheckoutSessionStateAction',
          { checkoutSessionId: sessionId, expCurrentState: 'inventory', nextState: 'confirmPrice' },
          as.userId,
        ),
      );
      const opId = String(ok(await call(engine, 'priceCart', { cartId, runAsync: true }, as.userId)).backgroundOperationId);
      const out = ok(await call(engine, 'cancelCartAsyncOperation', { cartId }, as.userId));
      expect(out.backgroundOperationId).toBe(opId);
      release();
      await engine.whenIdle();
      expect((await engine.admin.get('BackgroundOperation', opId))!.Status).toBe('Canceled');
      const s = (await engine.admin.get('CartCheckoutSession', sessionId))!;
      expect([s.IsArchived, s.IsProcessing]).toEqual([true, false]);
      expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Active');
      expect(await activeSession(engine, cartId)).toBeUndefined();
      // A finished checkout's cart is Closed: cancel is refused.
      engine.registerIntegration('pricing', (await import('../../src/integrations/defaults.js')).DEFAULT_INTEGRATIONS.pricing!);
      const run = await engine.runCheckout(cartId, { ...as, answers: { poNumber: 'PO-9' } });
      expect(run.status).toBe('complete');
      const closed = failure(await call(engine, 'cancelCartAsyncOperation', { cartId }, as.userId));
      expect(closed).toMatchObject({ code: 'INVALID_OPERATION', status: 403, fields: ['cartId'] });
      expect(closed.message).toMatch(/^Cancel a Closed Cart/);
    } finally {
      await engine.whenIdle();
    }
  });
});
