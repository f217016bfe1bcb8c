/**
 * Issue 8, items 1–3: each attack a hostile buyer made on the record API, replayed over HTTP by
 * buyer A (Acme) against its own records and against buyer B (Globex). Every attack is refused
 * with the code, status and fields a Salesforce client expects, stored data is unchanged, and a
 * full checkout afterwards yields an order whose totals are the ones checkout computed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestSchemas } from '../helpers/backends.js';
import { FLOW_BACKENDS } from '../flow/helpers.js';
import { ANSWERS, actionRefused, dump, refused, twoBuyers, V, type Buyers } from './helpers.js';

afterAll(dropTestSchemas);

const sob = (type: string, id?: string) => `${V}/sobjects/${type}${id ? `/${id}` : ''}`;
const act = (name: string) => `${V}/actions/standard/${name}`;

describe.each(FLOW_BACKENDS)('attacks of issue 8 (items 1-3) on $name', (backend) => {
  let s: Buyers;
  beforeAll(async () => {
    s = await twoBuyers(backend.location());
  });
  afterAll(async () => {
    await s.t.close();
    await s.t.engine.close();
  });

  /** Runs A's checkout until it rests at `stopAt` (or to the end). */
  const run = (cartId: string, stopAt?: string) =>
    s.t.engine.runCheckout(cartId, { userId: s.aId, answers: ANSWERS, ...(stopAt ? { stopAt } : {}) });

  it('after the taxes step, A can touch no price, adjustment, tax, charge or delivery fee; the order is what checkout computed', async () => {
    const { t, a } = s;
    const { cartId } = await s.freshCartA();
    const stopped = await run(cartId, 'checkoutSummary');
    expect(stopped.status, stopped.errors.join('; ')).toBe('stopped');
    const storage = t.engine.admin;
    const byCart = [{ field: 'CartId', op: '=' as const, value: cartId }];
    const items = await storage.find('CartItem', { where: byCart });
    const product = items.find((i) => i.Type === 'Product')!;
    const charge = items.find((i) => i.Type === 'Charge')!;
    const [tax] = await storage.find('CartTax', { where: byCart });
    const [method] = await storage.find('CartDeliveryGroupMethod', { where: [{ field: 'WebCartId', op: '=', value: cartId }] });
    expect(tax && method && charge).toBeTruthy();
    const computed = (await storage.get('WebCart', cartId))!;
    const before = await dump(t);

    refused(
      await t.call('PATCH', sob('CartItem', String(product.Id)), { token: a, body: { SalesPrice: 0.01, AdjustmentAmount: -1000 } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['SalesPrice', 'AdjustmentAmount'],
    );
    refused(
      await t.call('PATCH', sob('CartItem', String(product.Id)), { token: a, body: { ListPrice: 0 } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['ListPrice'],
    );
    refused(await t.call('DELETE', sob('CartTax', String(tax!.Id)), { token: a }), 403, 'INSUFFICIENT_ACCESS_OR_READONLY');
    refused(
      await t.call('POST', sob('CartTax'), { token: a, body: { CartItemId: product.Id, Name: 'Refund', Amount: -100 } }),
      403,
      'INSUFFICIENT_ACCESS_OR_READONLY',
    );
    refused(
      await t.call('PATCH', sob('CartItem', String(charge.Id)), { token: a, body: { SalesPrice: 0 } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['SalesPrice'],
    );
    refused(
      await t.call('PATCH', sob('CartItem', String(charge.Id)), { token: a, body: { Quantity: 2 } }),
      403,
      'INSUFFICIENT_ACCESS_OR_READONLY',
      ['Type'],
    );
    // Zero is no quantity at all: refused by the bounds before any rule is asked.
    refused(
      await t.call('PATCH', sob('CartItem', String(charge.Id)), { token: a, body: { Quantity: 0 } }),
      400,
      'NUMBER_OUTSIDE_VALID_RANGE',
      ['Quantity'],
    );
    refused(await t.call('DELETE', sob('CartItem', String(charge.Id)), { token: a }), 403, 'INSUFFICIENT_ACCESS_OR_READONLY', ['Type']);
    refused(
      await t.call('PATCH', sob('CartItem', String(product.Id)), { token: a, body: { Type: 'Charge' } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['Type'],
    );
    refused(
      await t.call('PATCH', sob('CartDeliveryGroupMethod', String(method!.Id)), { token: a, body: { ShippingFee: -50 } }),
      403,
      'INSUFFICIENT_ACCESS_OR_READONLY',
    );
    refused(
      await t.call('PATCH', sob('WebCart', cartId), { token: a, body: { GrandTotalAmount: 1 } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['GrandTotalAmount'],
    );
    refused(
      await t.call('POST', sob('CartItem'), {
        token: a,
        body: {
          CartId: cartId,
          CartDeliveryGroupId: product.CartDeliveryGroupId,
          Product2Id: product.Product2Id,
          Name: 'Cheap',
          Quantity: 500,
          SalesPrice: 0,
        },
      }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['SalesPrice'],
    );
    // The checkout was not canceled and nothing changed.
    expect(await dump(t)).toEqual(before);

    const done = await run(cartId);
    expect(done.status, done.errors.join('; ')).toBe('complete');
    const order = (await storage.get('Order', done.orderId!))!;
    expect(order.Status).toBe('Activated');
    expect(order.GrandTotalAmount).toBe(computed.GrandTotalAmount);
    expect(order.TotalTaxAmount).toBe(computed.TotalTaxAmount);
    expect(Number(order.GrandTotalAmount)).toBeGreaterThan(0);
    const lines = await storage.find('OrderItem', { where: [{ field: 'OrderId', op: '=', value: order.Id }] });
    for (const l of lines.filter((x) => x.CartItemId === product.Id)) expect(l.UnitPrice).toBe(product.SalesPrice);
  });

  it("a buyer's product line change in Checkout cancels the checkout; the next checkout prices it from the price book", async () => {
    const { t, a } = s;
    const { cartId, itemId } = await s.freshCartA();
    expect((await run(cartId, 'checkoutSummary')).status).toBe('stopped');
    const r = await t.call('PATCH', sob('CartItem', itemId), { token: a, body: { Quantity: 7 } });
    expect(r.status).toBe(204);
    const storage = t.engine.admin;
    expect((await storage.get('WebCart', cartId))!.Status).toBe('Active');
    const done = await run(cartId);
    expect(done.status, done.errors.join('; ')).toBe('complete');
    const cart = (await storage.get('WebCart', cartId))!;
    const order = (await storage.get('Order', done.orderId!))!;
    expect(order.GrandTotalAmount).toBe(cart.GrandTotalAmount);
    const [line] = await storage.find('OrderItem', { where: [{ field: 'CartItemId', op: '=', value: itemId }] });
    expect(line!.Quantity).toBe(7);
  });

  it("a new product line gets the store's price at add time, and never the buyer's", async () => {
    const { t, a } = s;
    const { cartId, groupId, itemId } = await s.freshCartA();
    const storage = t.engine.admin;
    const existing = (await storage.get('CartItem', itemId))!;
    const [entry] = await storage.find('PricebookEntry', { where: [{ field: 'Product2Id', op: '=', value: existing.Product2Id }] });
    const r = await t.call('POST', sob('CartItem'), {
      token: a,
      body: { CartId: cartId, CartDeliveryGroupId: groupId, Product2Id: existing.Product2Id, Quantity: 3 },
    });
    expect(r.status).toBe(201);
    const line = (await storage.get('CartItem', r.body.id))!;
    // Name and Sku are the product's (issue 17): a buyer leaves them out, or gives the product's own.
    const product = (await storage.get('Product2', String(existing.Product2Id)))!;
    expect(line).toMatchObject({ Name: product.Name, Sku: product.StockKeepingUnit });
    expect(line).toMatchObject({
      SalesPrice: entry!.UnitPrice,
      ListPrice: entry!.UnitPrice,
      TotalPrice: Math.round(Number(entry!.UnitPrice) * 300) / 100,
    });
  });

  it('checkoutSessionAction starts a buyer at the first state only; ModifyAllData may start elsewhere', async () => {
    const { t, a, admin } = s;
    const { cartId } = await s.freshCartA();
    const before = await dump(t);
    actionRefused(
      await t.call('POST', act('checkoutSessionAction'), { token: a, body: { inputs: [{ cartId, initialState: 'checkoutSummary' }] } }),
      403,
      'INSUFFICIENT_ACCESS_OR_READONLY',
      ['initialState'],
    );
    actionRefused(
      await t.call('POST', act('checkoutSessionAction'), { token: a, body: { inputs: [{ cartId, initialState: 'Checkout Summary' }] } }),
      403,
      'INSUFFICIENT_ACCESS_OR_READONLY',
      ['initialState'],
    );
    expect(await dump(t)).toEqual(before);
    const first = await t.call('POST', act('checkoutSessionAction'), { token: a, body: { inputs: [{ cartId, initialState: 'Start' }] } });
    expect(first.body[0].isSuccess).toBe(true);
    // The engine's cancel, then an administrator's start at a later screen.
    await t.call('POST', act('cancelCartAsyncOperation'), { token: a, body: { inputs: [{ cartId }] } });
    const { cartId: other } = await s.freshCartA();
    const adminStart = await t.call('POST', act('checkoutSessionAction'), {
      token: admin,
      body: { inputs: [{ cartId: other, initialState: 'checkoutSummary' }] },
    });
    expect(adminStart.body[0].isSuccess, JSON.stringify(adminStart.body)).toBe(true);
  });

  it("A can't reach B's cart: shares, parent links and delivery groups keep to the caller's own carts", async () => {
    const { t, a, b } = s;
    const mine = await s.freshCartA();
    const mine2 = await s.freshCartA();
    const theirs = await s.freshCartB();
    const storage = t.engine.admin;
    expect((await storage.get('WebCart', theirs.cartId))!.GrandTotalAmount).toBe(200);
    const share = await t.call('POST', sob('WebCartShare'), {
      token: a,
      body: { ParentId: mine.cartId, UserOrGroupId: s.aId, AccessLevel: 'Edit' },
    });
    expect(share.status).toBe(201);
    expect((await run(mine.cartId, 'checkoutSummary')).status).toBe('stopped');
    const [session] = await storage.find('CartCheckoutSession', {
      where: [
        { field: 'WebCartId', op: '=', value: mine.cartId },
        { field: 'IsArchived', op: '=', value: false },
      ],
    });
    const before = await dump(t);

    refused(
      await t.call('PATCH', sob('WebCartShare', share.body.id), { token: a, body: { ParentId: theirs.cartId } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['ParentId'],
    );
    refused(
      await t.call('POST', sob('WebCartShare'), { token: a, body: { ParentId: theirs.cartId, UserOrGroupId: s.aId, AccessLevel: 'Edit' } }),
      400,
      'INVALID_CROSS_REFERENCE_KEY',
      ['ParentId'],
    );
    refused(
      await t.call('PATCH', sob('CartItem', mine.itemId), { token: a, body: { CartId: theirs.cartId } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['CartId'],
    );
    refused(
      await t.call('PATCH', sob('CartDeliveryGroup', mine.groupId), { token: a, body: { CartId: theirs.cartId } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['CartId'],
    );
    refused(
      await t.call('PATCH', sob('CartCheckoutSession', String(session!.Id)), { token: a, body: { WebCartId: theirs.cartId } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['WebCartId'],
    );
    // B's delivery group answers as missing; A's other cart's group is the wrong cart.
    refused(
      await t.call('PATCH', sob('CartItem', mine.itemId), { token: a, body: { CartDeliveryGroupId: theirs.groupId } }),
      400,
      'INVALID_CROSS_REFERENCE_KEY',
      ['CartDeliveryGroupId'],
    );
    refused(
      await t.call('PATCH', sob('CartItem', mine.itemId), { token: a, body: { CartDeliveryGroupId: mine2.groupId } }),
      400,
      'FIELD_INTEGRITY_EXCEPTION',
      ['CartDeliveryGroupId'],
    );
    refused(
      await t.call('POST', sob('CartItem'), {
        token: a,
        body: { CartId: theirs.cartId, CartDeliveryGroupId: theirs.groupId, Name: 'Gift', Quantity: 500 },
      }),
      400,
      'INVALID_CROSS_REFERENCE_KEY',
      ['CartId'],
    );
    refused(
      await t.call('POST', sob('CartItem'), {
        token: a,
        body: { CartId: mine.cartId, CartDeliveryGroupId: theirs.groupId, Name: 'Gift', Quantity: 1 },
      }),
      400,
      'INVALID_CROSS_REFERENCE_KEY',
      ['CartDeliveryGroupId'],
    );
    refused(await t.call('PATCH', sob('CartItem', theirs.itemId), { token: a, body: { Quantity: 500 } }), 404, 'NOT_FOUND');
    expect(await dump(t)).toEqual(before);
    expect((await storage.get('WebCart', theirs.cartId))!.GrandTotalAmount).toBe(200);
    expect((await t.call('GET', sob('WebCart', theirs.cartId), { token: a })).status).toBe(404);

    // B can't share its cart with A: a share targets only a user of the cart's account, and any
    // other user answers as a missing one (issue 17).
    refused(
      await t.call('POST', sob('WebCartShare'), { token: b, body: { ParentId: theirs.cartId, UserOrGroupId: s.aId, AccessLevel: 'Edit' } }),
      400,
      'INVALID_CROSS_REFERENCE_KEY',
      ['UserOrGroupId'],
    );
    // An Edit share from B made as fixture data lets A edit B's lines, but not pass B's cart on.
    const edit = {
      body: {
        id: (await t.engine.seed({ WebCartShare: [{ ref: 'edit', ParentId: theirs.cartId, UserOrGroupId: s.aId, AccessLevel: 'Edit' }] }))
          .edit!,
      },
    };
    // (to a user of B's account, so the share's target is valid and the owner-only rule decides)
    refused(
      await t.call('POST', sob('WebCartShare'), { token: a, body: { ParentId: theirs.cartId, UserOrGroupId: s.bId, AccessLevel: 'Read' } }),
      403,
      'INSUFFICIENT_ACCESS_OR_READONLY',
    );
    refused(
      await t.call('PATCH', sob('WebCartShare', edit.body.id), { token: a, body: { AccessLevel: 'Read' } }),
      403,
      'INSUFFICIENT_ACCESS_OR_READONLY',
    );
    // …nor take it over: a cart's OwnerId is fixed for buyers (found by the access matrix).
    refused(
      await t.call('PATCH', sob('WebCart', theirs.cartId), { token: a, body: { OwnerId: s.aId } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['OwnerId'],
    );
    expect((await storage.get('WebCart', theirs.cartId))!.OwnerId).toBe(s.bId);
    expect((await t.call('PATCH', sob('CartItem', theirs.itemId), { token: a, body: { Quantity: 3 } })).status).toBe(204);
    expect((await storage.get('WebCart', theirs.cartId))!.GrandTotalAmount).toBe(300);
  });

  it('no order is adopted: a planted or edited order never becomes a checkout’s order', async () => {
    const { t, a, admin } = s;
    const { cartId } = await s.freshCartA();
    expect((await run(cartId, 'checkoutSummary')).status).toBe('stopped');
    const storage = t.engine.admin;
    const [session] = await storage.find('CartCheckoutSession', {
      where: [
        { field: 'WebCartId', op: '=', value: cartId },
        { field: 'IsArchived', op: '=', value: false },
      ],
    });
    const cart = (await storage.get('WebCart', cartId))!;
    const before = await dump(t);
    // A buyer writes no order at all, with or without the session's id.
    refused(
      await t.call('POST', sob('Order'), { token: a, body: { AccountId: cart.AccountId, Status: 'Activated' } }),
      403,
      'INSUFFICIENT_ACCESS_OR_READONLY',
    );
    refused(
      await t.call('POST', sob('Order'), { token: a, body: { AccountId: cart.AccountId, OrderReferenceNumber: session!.Id } }),
      403,
      'INSUFFICIENT_ACCESS_OR_READONLY',
    );
    refused(await t.call('POST', sob('OrderSummary'), { token: a, body: { OriginalOrderId: session!.Id } }), 400, 'INVALID_OPERATION');
    // Not even an administrator names the session: OrderReferenceNumber is the engine's.
    refused(
      await t.call('POST', sob('Order'), { token: admin, body: { AccountId: cart.AccountId, OrderReferenceNumber: session!.Id } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['OrderReferenceNumber'],
    );
    expect(await dump(t)).toEqual(before);
    // An order an administrator creates for the account stays its own.
    const planted = await t.call('POST', sob('Order'), {
      token: admin,
      body: { AccountId: cart.AccountId, OwnerId: s.aId, PoNumber: 'PLANTED' },
    });
    expect(planted.status).toBe(201);
    // Session OrderId is updatable as Salesforce documents it, but only to what the statechart holds:
    // pointing it at another order is refused, for the buyer and the administrator alike.
    for (const token of [a, admin]) {
      refused(
        await t.call('PATCH', sob('CartCheckoutSession', String(session!.Id)), { token, body: { OrderId: planted.body.id } }),
        400,
        'INVALID_OPERATION',
        ['OrderId'],
      );
    }
    const done = await run(cartId);
    expect(done.status, done.errors.join('; ')).toBe('complete');
    expect(done.orderId).not.toBe(planted.body.id);
    const order = (await storage.get('Order', done.orderId!))!;
    expect(order).toMatchObject({
      OrderReferenceNumber: session!.Id,
      _sessionId: session!.Id,
      GrandTotalAmount: cart.GrandTotalAmount,
      Status: 'Activated',
    });
    expect((await storage.get('Order', planted.body.id))!).toMatchObject({ Status: 'Draft', OrderReferenceNumber: null, _sessionId: null });
  });

  it('orders, lines and summaries are not buyer-writable; an Activated order is final; deleting a draft takes its lines', async () => {
    const { t, a, admin } = s;
    const { cartId } = await s.freshCartA();
    const done = await run(cartId);
    expect(done.status, done.errors.join('; ')).toBe('complete');
    const storage = t.engine.admin;
    const orderId = done.orderId!;
    const [line] = await storage.find('OrderItem', { where: [{ field: 'OrderId', op: '=', value: orderId }] });
    const { cartId: bCart } = await s.freshCartB();
    const bAccount = (await storage.get('WebCart', bCart))!.AccountId;
    const before = await dump(t);
    refused(await t.call('PATCH', sob('Order', orderId), { token: a, body: { Status: 'Draft' } }), 403, 'INSUFFICIENT_ACCESS_OR_READONLY');
    refused(
      await t.call('PATCH', sob('Order', orderId), { token: a, body: { AccountId: bAccount } }),
      403,
      'INSUFFICIENT_ACCESS_OR_READONLY',
    );
    refused(
      await t.call('PATCH', sob('OrderItem', String(line!.Id)), { token: a, body: { Quantity: 500, UnitPrice: 0 } }),
      403,
      'INSUFFICIENT_ACCESS_OR_READONLY',
    );
    refused(
      await t.call('PATCH', sob('OrderItem', String(line!.Id)), { token: a, body: { OrderId: orderId } }),
      403,
      'INSUFFICIENT_ACCESS_OR_READONLY',
    );
    refused(await t.call('DELETE', sob('Order', orderId), { token: a }), 403, 'INSUFFICIENT_ACCESS_OR_READONLY');
    // Nobody deletes an Activated order or changes its lines.
    refused(await t.call('DELETE', sob('Order', orderId), { token: admin }), 400, 'ENTITY_IS_LOCKED');
    refused(await t.call('PATCH', sob('Order', orderId), { token: admin, body: { Status: 'Draft' } }), 400, 'ENTITY_IS_LOCKED');
    refused(await t.call('PATCH', sob('OrderItem', String(line!.Id)), { token: admin, body: { UnitPrice: 0 } }), 400, 'ENTITY_IS_LOCKED', [
      'OrderId',
    ]);
    refused(await t.call('DELETE', sob('OrderItem', String(line!.Id)), { token: admin }), 400, 'ENTITY_IS_LOCKED', ['OrderId']);
    // A Closed cart is final: no write reopens it, adds to it, or starts a second checkout.
    refused(await t.call('PATCH', sob('WebCart', cartId), { token: a, body: { Status: 'Active' } }), 400, 'ENTITY_IS_LOCKED');
    refused(await t.call('PATCH', sob('WebCart', cartId), { token: admin, body: { Status: 'Active' } }), 400, 'ENTITY_IS_LOCKED');
    refused(await t.call('PATCH', sob('WebCart', cartId), { token: a, body: { PoNumber: 'late' } }), 400, 'ENTITY_IS_LOCKED');
    const [group] = await storage.find('CartDeliveryGroup', { where: [{ field: 'CartId', op: '=', value: cartId }] });
    refused(
      await t.call('POST', sob('CartItem'), {
        token: a,
        body: { CartId: cartId, CartDeliveryGroupId: group!.Id, Name: 'Late', Quantity: 1 },
      }),
      400,
      'ENTITY_IS_LOCKED',
    );
    // Opening checkout again answers the session that completed it (a template's hub loops once more) and starts nothing.
    const [completed] = await storage.find('CartCheckoutSession', {
      where: [
        { field: 'WebCartId', op: '=', value: cartId },
        { field: 'IsArchived', op: '=', value: false },
      ],
    });
    const again = await t.call('POST', act('checkoutSessionAction'), { token: a, body: { inputs: [{ cartId }] } });
    expect(again.body[0]).toMatchObject({ isSuccess: true, outputValues: { requestId: completed!.Id } });
    expect(await dump(t)).toEqual(before);
    expect(await storage.count('Order', [{ field: 'CartId', op: '=', value: cartId }])).toBe(1);

    // An administrator's draft order goes with its lines.
    const draft = await t.call('POST', sob('Order'), { token: admin, body: { AccountId: bAccount } });
    const draftLine = await t.call('POST', sob('OrderItem'), {
      token: admin,
      body: { OrderId: draft.body.id, Type: 'Order Product', Quantity: 1, UnitPrice: 5 },
    });
    expect(draftLine.status).toBe(201);
    refused(
      await t.call('PATCH', sob('OrderItem', draftLine.body.id), { token: admin, body: { OrderId: orderId } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['OrderId'],
    );
    expect((await t.call('DELETE', sob('Order', draft.body.id), { token: admin })).status).toBe(204);
    expect(await storage.get('OrderItem', draftLine.body.id)).toBeUndefined();
  });
});
