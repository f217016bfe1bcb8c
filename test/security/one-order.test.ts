/**
 * Issue 17 item 2: a cart becomes at most one order, ever. Each exploit, replayed over HTTP by
 * buyer A (Acme) with buyer B (Globex) competing for the same scarce stock:
 * - stock drained for good (activateOrderAction {orderStatus: 'Draft'}, then cancel): the cancel
 *   now deletes the draft order and gives back its stock, so B can buy it;
 * - a second order for one cart (cancel after activation, then check out again): the cancel is
 *   refused (CANCEL_ORDER_PLACED) and changes nothing; the checkout finishes with one order;
 * - a cart change or an expiry after the order: a line edit is refused (CART_LOCKED_BY_ORDER),
 *   expiry of a placed order's checkout leaves it alone, expiry of a draft's deletes the draft.
 * Refusals leave every stored record (reservations and stock included) as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestSchemas } from '../helpers/backends.js';
import { CA_ADDRESS, FLOW_BACKENDS } from '../flow/helpers.js';
import { checkInvariants } from '../../src/scenarios/invariants.js';
import { ANSWERS, actionRefused, dump, refused, twoBuyers, V, type Buyers } from './helpers.js';

afterAll(dropTestSchemas);

const sob = (type: string, id?: string) => `${V}/sobjects/${type}${id ? `/${id}` : ''}`;
const act = (name: string) => `${V}/actions/standard/${name}`;

describe.each(FLOW_BACKENDS)('a cart becomes at most one order (issue 17 item 2) on $name', (backend) => {
  let s: Buyers;
  let n = 0;
  beforeAll(async () => {
    s = await twoBuyers(backend.location());
  });
  afterAll(async () => {
    await s.t.close();
    await s.t.engine.close();
  });

  const storage = () => s.t.engine.admin;
  const find = (type: string, where: Record<string, unknown>) =>
    storage().find(type, { where: Object.entries(where).map(([field, value]) => ({ field, op: '=' as const, value })) });
  /** Every watched record plus the stock ledger and the stock itself. */
  const fullDump = async () => ({
    ...(await dump(s.t)),
    ProductReservation: await find('ProductReservation', {}),
    ProductInventory: await find('ProductInventory', {}),
  });

  /**
   * A product with 5 units in stock, A's cart of all 5 and B's cart of 1 (both Active).
   */
  async function scarce(): Promise<{ productId: string; inventoryId: string; cartA: string; itemA: string; cartB: string }> {
    n++;
    const [link] = await storage().find('WebStorePricebook', { where: [{ field: 'WebStoreId', op: '=', value: s.storeId }], limit: 1 });
    const userA = (await storage().get('User', s.aId))!;
    const userB = (await storage().get('User', s.bId))!;
    const ids = await s.t.engine.seed({
      Product2: [{ ref: 'p', Name: `Scarce ${n}`, StockKeepingUnit: `SCARCE-${backend.name}-${n}` }],
      PricebookEntry: [{ Pricebook2Id: String(link!.Pricebook2Id), Product2Id: '@p', UnitPrice: 10, IsActive: true }],
      ProductInventory: [{ ref: 'inv', Product2Id: '@p', QuantityAvailable: 5, QuantityReserved: 0 }],
      WebCart: [
        { ref: 'ca', Name: 'A scarce', WebStoreId: s.storeId, AccountId: userA.AccountId, OwnerId: s.aId, Status: 'Active' },
        { ref: 'cb', Name: 'B scarce', WebStoreId: s.storeId, AccountId: userB.AccountId, OwnerId: s.bId, Status: 'Active' },
      ],
      CartDeliveryGroup: [
        { ref: 'ga', CartId: '@ca', Name: 'A dock', ...CA_ADDRESS },
        { ref: 'gb', CartId: '@cb', Name: 'B dock', ...CA_ADDRESS },
      ],
      CartItem: [
        {
          ref: 'ia',
          CartId: '@ca',
          CartDeliveryGroupId: '@ga',
          Product2Id: '@p',
          Name: 'Scarce',
          Sku: `SCARCE-${backend.name}-${n}`,
          Quantity: 5,
          ListPrice: 10,
          SalesPrice: 10,
        },
        {
          ref: 'ib',
          CartId: '@cb',
          CartDeliveryGroupId: '@gb',
          Product2Id: '@p',
          Name: 'Scarce',
          Sku: `SCARCE-${backend.name}-${n}`,
          Quantity: 1,
          ListPrice: 10,
          SalesPrice: 10,
        },
      ],
    });
    return { productId: ids.p!, inventoryId: ids.inv!, cartA: ids.ca!, itemA: ids.ia!, cartB: ids.cb! };
  }

  const runA = async (cartId: string, stopAt?: string) => {
    const r = await s.t.engine.runCheckout(cartId, { userId: s.aId, answers: ANSWERS, ...(stopAt ? { stopAt } : {}) });
    expect(r.status, r.errors.join('; ')).toBe(stopAt ? 'stopped' : 'complete');
    return r;
  };
  const reserved = async (inventoryId: string) => Number((await storage().get('ProductInventory', inventoryId))!.QuantityReserved);
  const activeSession = async (cartId: string) => (await find('CartCheckoutSession', { WebCartId: cartId, IsArchived: false }))[0];
  const cancel = (cartId: string, token = s.a) =>
    s.t.call('POST', act('cancelCartAsyncOperation'), { token, body: { inputs: [{ cartId }] } });
  /** Every row a draft order has, by object. */
  const orderRows = async (orderId: string) => ({
    Order: (await storage().get('Order', orderId)) ? 1 : 0,
    OrderItem: (await find('OrderItem', { OrderId: orderId })).length,
    OrderDeliveryGroup: (await find('OrderDeliveryGroup', { OrderId: orderId })).length,
    OrderItemTaxLineItem: (await find('OrderItemTaxLineItem', { OrderId: orderId })).length,
    OrderItemAdjustmentLineItem: (await find('OrderItemAdjustmentLineItem', { OrderId: orderId })).length,
  });
  /** The engine's invariants (at most one order per cart, reservations matching QuantityReserved …). */
  const invariantsHold = async () => expect(await checkInvariants(s.t.engine)).toEqual([]);

  it("stock drained for good: activateOrderAction {orderStatus: 'Draft'} then cancel deletes the draft and gives all 5 units back; B can buy them", async () => {
    const { t, a } = s;
    const { inventoryId, cartA, cartB } = await scarce();
    await runA(cartA, 'authorizePayment');
    const session = (await activeSession(cartA))!;
    const claim = await t.call('POST', act('updateCheckoutSessionStateAction'), {
      token: a,
      body: { inputs: [{ checkoutSessionId: session.Id, expCurrentState: 'authorizePayment', nextState: 'activateOrder' }] },
    });
    expect(claim.status, JSON.stringify(claim.body)).toBe(200);
    const activated = await t.call('POST', act('activateOrderAction'), {
      token: a,
      body: { inputs: [{ cartId: cartA, orderStatus: 'Draft' }] },
    });
    expect(activated.body[0].isSuccess, JSON.stringify(activated.body)).toBe(true);
    const orderId = String((await storage().get('CartCheckoutSession', String(session.Id)))!.OrderId);
    expect((await storage().get('Order', orderId))!.Status).toBe('Draft');
    expect((await find('ProductReservation', { WebCartId: cartA })).map((r) => [r.Status, r.OrderId])).toEqual([['Ordered', orderId]]);
    expect(await reserved(inventoryId)).toBe(5);
    await invariantsHold();

    const r = await cancel(cartA);
    expect(r.body[0].isSuccess, JSON.stringify(r.body)).toBe(true);
    // The documented outcome: the draft is deleted with every row of it, its stock goes back.
    expect(await orderRows(orderId)).toEqual({
      Order: 0,
      OrderItem: 0,
      OrderDeliveryGroup: 0,
      OrderItemTaxLineItem: 0,
      OrderItemAdjustmentLineItem: 0,
    });
    expect(await find('Order', { CartId: cartA })).toEqual([]);
    expect(await reserved(inventoryId)).toBe(0);
    expect((await find('ProductReservation', { WebCartId: cartA })).map((x) => [x.Status, x.ReleaseReason])).toEqual([
      ['Released', 'Canceled'],
    ]);
    expect((await storage().get('WebCart', cartA))!.Status).toBe('Active');
    await invariantsHold();

    // Another account now gets the stock (before the fix: "0 available").
    const b = await t.engine.runCheckout(cartB, { userId: s.bId, answers: ANSWERS, stopAt: 'inventory' });
    expect(b.status, b.errors.join('; ')).toBe('stopped');
    expect(await reserved(inventoryId)).toBe(1);
    expect((await cancel(cartB, s.b)).body[0].isSuccess).toBe(true);
    // A checks out again: one order, the 5 units kept for it.
    const done = await runA(cartA);
    expect(await find('Order', { CartId: cartA })).toHaveLength(1);
    expect((await storage().get('Order', done.orderId!))!.Status).toBe('Activated');
    expect(await reserved(inventoryId)).toBe(5);
    await invariantsHold();
  });

  it('a second order for one cart: cancel after activateOrder is refused (CANCEL_ORDER_PLACED) and changes nothing; the checkout ends with one order', async () => {
    const { t, a } = s;
    const { inventoryId, cartA } = await scarce();
    const stopped = await runA(cartA, 'activateOrder');
    const orderId = stopped.orderId ?? String((await activeSession(cartA))!.OrderId);
    expect((await storage().get('Order', orderId))!.Status).toBe('Activated');
    const before = await fullDump();
    const r = await cancel(cartA);
    actionRefused(r, 403, 'INVALID_OPERATION', ['cartId']);
    expect(r.body[0].errors[0].message).toMatch(/Activated/);
    expect(r.body[0].errors[0].message).toContain(orderId);
    // An administrator can't either: the order stands.
    actionRefused(await cancel(cartA, s.admin), 403, 'INVALID_OPERATION', ['cartId']);
    expect(await fullDump()).toEqual(before);
    // Checking out again continues the same checkout: no second session, no second order.
    const again = await t.call('POST', act('checkoutSessionAction'), { token: a, body: { inputs: [{ cartId: cartA }] } });
    expect(again.body[0].outputValues.requestId).toBe(stopped.sessionId);
    const done = await runA(cartA);
    expect(done.orderId).toBe(orderId);
    expect(await find('Order', { CartId: cartA })).toHaveLength(1);
    expect((await storage().get('WebCart', cartA))!.Status).toBe('Closed');
    expect(await reserved(inventoryId)).toBe(5);
    await invariantsHold();
  });

  it('a cart change after the order is refused (CART_LOCKED_BY_ORDER), with a draft or an Activated order; after canceling a draft the cart is editable again', async () => {
    const { t, a, admin } = s;
    for (const stopAt of ['cartToOrder', 'activateOrder']) {
      const { cartA, itemA, productId } = await scarce();
      await runA(cartA, stopAt);
      const [group] = await find('CartDeliveryGroup', { CartId: cartA });
      const before = await fullDump();
      for (const token of [a, admin]) {
        refused(await t.call('PATCH', sob('CartItem', itemA), { token, body: { Quantity: 1 } }), 400, 'ENTITY_IS_LOCKED', ['CartId']);
        refused(await t.call('DELETE', sob('CartItem', itemA), { token }), 400, 'ENTITY_IS_LOCKED', ['CartId']);
        refused(
          await t.call('POST', sob('CartItem'), {
            token,
            body: { CartId: cartA, CartDeliveryGroupId: group!.Id, Product2Id: productId, Quantity: 1 },
          }),
          400,
          'ENTITY_IS_LOCKED',
          ['CartId'],
        );
        refused(await t.call('DELETE', sob('WebCart', cartA), { token }), 400, 'ENTITY_IS_LOCKED', ['Id']);
      }
      expect(await fullDump(), stopAt).toEqual(before);
      if (stopAt === 'cartToOrder') {
        expect((await cancel(cartA)).body[0].isSuccess).toBe(true);
        expect(await find('Order', { CartId: cartA })).toEqual([]);
        const edit = await t.call('PATCH', sob('CartItem', itemA), { token: a, body: { Quantity: 1 } });
        expect(edit.status, JSON.stringify(edit.body)).toBe(204);
      } else {
        await runA(cartA);
        expect(await find('Order', { CartId: cartA })).toHaveLength(1);
      }
      await invariantsHold();
    }
  });

  it("expiry never reopens a cart with an Activated order; it deletes a draft order and frees the draft's stock", async () => {
    const { t, a, admin } = s;
    const setTtl = async (ttl: number | null) => {
      const r = await t.call('PATCH', sob('WebStore', s.storeId), { token: admin, body: { CheckoutTimeToLive: ttl } });
      expect(r.status, JSON.stringify(r.body)).toBe(204);
    };
    const ttl = (await storage().get('WebStore', s.storeId))!.CheckoutTimeToLive as number | null;
    try {
      // Activated: with checkout disabled (CheckoutTimeToLive 0, every session stale) the checkout goes on.
      const placed = await scarce();
      const stopped = await runA(placed.cartA, 'activateOrder');
      await setTtl(0);
      const before = await fullDump();
      const again = await t.call('POST', act('checkoutSessionAction'), { token: a, body: { inputs: [{ cartId: placed.cartA }] } });
      expect(again.body[0].outputValues?.requestId, JSON.stringify(again.body)).toBe(stopped.sessionId);
      expect(await t.engine.expireCheckouts()).toBe(0);
      expect(await fullDump()).toEqual(before);
      const done = await runA(placed.cartA);
      expect(done.sessionId).toBe(stopped.sessionId);
      expect((await storage().get('WebCart', placed.cartA))!.Status).toBe('Closed');
      expect(await find('Order', { CartId: placed.cartA })).toHaveLength(1);
      expect(await reserved(placed.inventoryId)).toBe(5);

      // Draft (the default flow's cartToOrder, and activateOrderAction {orderStatus: 'Draft'}): expiry deletes it.
      await setTtl(ttl);
      const draft = await scarce();
      await runA(draft.cartA, 'authorizePayment');
      const session = (await activeSession(draft.cartA))!;
      await t.call('POST', act('updateCheckoutSessionStateAction'), {
        token: a,
        body: { inputs: [{ checkoutSessionId: session.Id, expCurrentState: 'authorizePayment', nextState: 'activateOrder' }] },
      });
      expect(
        (await t.call('POST', act('activateOrderAction'), { token: a, body: { inputs: [{ cartId: draft.cartA, orderStatus: 'Draft' }] } }))
          .body[0].isSuccess,
      ).toBe(true);
      const orderId = String((await storage().get('CartCheckoutSession', String(session.Id)))!.OrderId);
      expect(await reserved(draft.inventoryId)).toBe(5);
      await setTtl(0);
      const refusedStart = await t.call('POST', act('checkoutSessionAction'), { token: a, body: { inputs: [{ cartId: draft.cartA }] } });
      expect(refusedStart.body[0].isSuccess).toBe(false);
      expect(await orderRows(orderId)).toEqual({
        Order: 0,
        OrderItem: 0,
        OrderDeliveryGroup: 0,
        OrderItemTaxLineItem: 0,
        OrderItemAdjustmentLineItem: 0,
      });
      expect((await storage().get('CartCheckoutSession', String(session.Id)))!.IsArchived).toBe(true);
      expect((await storage().get('WebCart', draft.cartA))!.Status).toBe('Active');
      expect(await reserved(draft.inventoryId)).toBe(0);
      expect((await find('ProductReservation', { WebCartId: draft.cartA })).map((x) => [x.Status, x.ReleaseReason])).toEqual([
        ['Released', 'Expired'],
      ]);
      await invariantsHold();
    } finally {
      await setTtl(ttl);
    }
  });

  it('a failed step after the draft order (declined payment → error), then cancel: the draft is deleted and every unit goes back', async () => {
    const { inventoryId, cartA, itemA } = await scarce();
    const failed = await s.t.engine.runCheckout(cartA, {
      userId: s.aId,
      answers: { ...ANSWERS, poNumber: undefined, paymentMethodId: 'pm_decline_card' },
    });
    expect([failed.status, failed.state]).toEqual(['error', 'error']);
    const session = (await activeSession(cartA))!;
    const orderId = String(session.OrderId);
    // The checkout in error holds no stock of its own; its draft still stands until cancel or expiry.
    expect((await storage().get('Order', orderId))!.Status).toBe('Draft');
    expect(await reserved(inventoryId)).toBe(0);
    // Its cart is locked by the draft: the buyer cancels first.
    refused(await s.t.call('PATCH', sob('CartItem', itemA), { token: s.a, body: { Quantity: 1 } }), 400, 'ENTITY_IS_LOCKED', ['CartId']);
    expect((await cancel(cartA)).body[0].isSuccess).toBe(true);
    expect(await orderRows(orderId)).toEqual({
      Order: 0,
      OrderItem: 0,
      OrderDeliveryGroup: 0,
      OrderItemTaxLineItem: 0,
      OrderItemAdjustmentLineItem: 0,
    });
    expect((await storage().get('WebCart', cartA))!.Status).toBe('Active');
    expect(await reserved(inventoryId)).toBe(0);
    expect(await find('Order', { CartId: cartA })).toEqual([]);
    await invariantsHold();
  });
});
