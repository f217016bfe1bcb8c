/**
 * cartToOrderAction through the engine, on every storage backend: each usage requirement passing
 * and failing with its exact code and HTTP status, sync and async runs, the draft order mapping on
 * a multi-group cart, and malformed input that is refused without changing anything.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, EngineError } from '../../src/index.js';
import { demoFixture } from '../../src/demo/fixture.js';
import { to18 } from '../../src/domain/ids.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { engineWithClaimedCart, errorOf } from '../helpers/engine.js';

afterAll(dropTestSchemas);

for (const backend of BACKENDS) {
  describe(`cartToOrderAction on ${backend.name}`, () => {
    it('turns the claimed cart into a draft order (sync): operation Complete, session at cartToOrder', async () => {
      const { engine, ids } = await engineWithClaimedCart(backend.location());
      const [r] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: false }], { userId: ids.buyer! });
      expect(r).toMatchObject({ actionName: 'cartToOrderAction', isSuccess: true, errors: null, version: 1, httpStatus: 200 });
      const opId = r!.outputValues!.backgroundOperationId as string;
      expect(await engine.getRecord('BackgroundOperation', opId)).toMatchObject({ Status: 'Complete', Error: null });
      const session = await engine.getRecord('CartCheckoutSession', ids.session!);
      expect(session).toMatchObject({
        State: 'cartToOrder',
        NextState: null,
        IsProcessing: false,
        IsError: false,
        BackgroundOperationId: opId,
      });
      const order = await engine.getRecord('Order', session.OrderId as string);
      expect(order).toMatchObject({
        Status: 'Draft',
        AccountId: ids.acme,
        OwnerId: ids.buyer,
        SalesStoreId: ids.store,
        OrderReferenceNumber: ids.session,
      });
      await engine.close();
    });

    it('runs asynchronously: returns once the operation is committed, a worker finishes it', async () => {
      const { engine, ids } = await engineWithClaimedCart(backend.location());
      const [r] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: 'true' }], { userId: ids.buyer! });
      expect(r!.isSuccess).toBe(true);
      const opId = r!.outputValues!.backgroundOperationId as string;
      expect(['New', 'Running', 'Complete']).toContain((await engine.getRecord('BackgroundOperation', opId)).Status);
      await engine.whenIdle();
      expect((await engine.getRecord('BackgroundOperation', opId)).Status).toBe('Complete');
      expect((await engine.getRecord('CartCheckoutSession', ids.session!)).OrderId).toMatch(/^801/);
      await engine.close();
    });

    it('with no worker running, an async operation stays New and a second call is ALREADY_IN_PROCESS (400)', async () => {
      const { engine, ids } = await engineWithClaimedCart(backend.location(), {}, { workerConcurrency: 0 });
      const [first] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: true }], { userId: ids.buyer! });
      expect((await engine.getRecord('BackgroundOperation', first!.outputValues!.backgroundOperationId as string)).Status).toBe('New');
      const [second] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: true }], { userId: ids.buyer! });
      expect(errorOf(second)).toMatchObject({ code: 'ALREADY_IN_PROCESS', status: 400 });
      await engine.close();
    });

    it('maps a multi-group cart with products, charges, taxes and adjustments; totals equal the cart’s', async () => {
      const { engine, ids } = await engineWithClaimedCart(backend.location(), { lines: 12, groups: 3 });
      const cart = await engine.getRecord('WebCart', ids.cart!);
      await engine.invoke('cartToOrderAction', [{ cartId: ids.cart }], { userId: ids.buyer! });
      const { OrderId } = await engine.getRecord('CartCheckoutSession', ids.session!);
      const as = { userId: ids.buyer! };
      const order = (
        await engine.query(
          `SELECT Id, Status, GrandTotalAmount, TotalTaxAmount, TotalAdjustedProductAmount, TotalAdjustedDeliveryAmount, PoNumber, BillingCity FROM Order WHERE Id = '${OrderId}'`,
          as,
        )
      ).records[0]!;
      expect(order).toMatchObject({
        Status: 'Draft',
        GrandTotalAmount: cart.GrandTotalAmount,
        TotalTaxAmount: cart.TotalTaxAmount,
        TotalAdjustedProductAmount: cart.TotalProductAmount,
        TotalAdjustedDeliveryAmount: cart.TotalChargeAmount,
        PoNumber: 'PO-1001',
        BillingCity: 'San Francisco',
      });
      expect(cart.GrandTotalAmount).toBeGreaterThan(0);
      const groups = (
        await engine.query(
          `SELECT Id, CartDeliveryGroupId, DeliverToStreet, OrderDeliveryMethodId, DeliveryInstructions FROM OrderDeliveryGroup WHERE OrderId = '${OrderId}' ORDER BY DeliverToStreet`,
          as,
        )
      ).records;
      expect(groups.map((g) => [g.CartDeliveryGroupId, g.DeliverToStreet, g.OrderDeliveryMethodId])).toEqual([
        [ids.group0, '100 Harbor Way', ids.ground],
        [ids.group1, '101 Harbor Way', ids.ground],
        [ids.group2, '102 Harbor Way', ids.ground],
      ]);
      expect(groups[0]!.DeliveryInstructions).toBe('Leave at the loading dock');
      const items = (
        await engine.query(
          `SELECT Id, Type, CartItemId, OrderDeliveryGroupId, Quantity, UnitPrice FROM OrderItem WHERE OrderId = '${OrderId}'`,
          as,
        )
      ).records;
      expect(items.filter((i) => i.Type === 'Order Product')).toHaveLength(12);
      expect(items.filter((i) => i.Type === 'Delivery Charge')).toHaveLength(3);
      const groupOf = new Map(groups.map((g) => [g.Id, g.CartDeliveryGroupId]));
      for (const item of items) {
        const source = await engine.getRecord('CartItem', item.CartItemId as string);
        expect(groupOf.get(item.OrderDeliveryGroupId)).toBe(source.CartDeliveryGroupId);
        expect(item.Quantity).toBe(source.Quantity);
        expect(item.UnitPrice).toBe(source.SalesPrice);
      }
      expect((await engine.query(`SELECT COUNT() FROM OrderItemTaxLineItem WHERE OrderId = '${OrderId}'`, as)).totalSize).toBe(15);
      const adjustments = (await engine.query(`SELECT Amount, Name FROM OrderItemAdjustmentLineItem WHERE OrderId = '${OrderId}'`, as))
        .records;
      expect(adjustments).toHaveLength(4);
      expect(adjustments.every((a) => (a.Amount as number) < 0 && a.Name === 'Price Adjustment')).toBe(true);
      await engine.close();
    });

    describe('usage requirements (checked in order; the first failure decides)', () => {
      it('1: a malformed, mistyped-prefix or unknown cart id is UNKNOWN_EXCEPTION 500; a 15-char id works', async () => {
        const { engine, ids } = await engineWithClaimedCart(backend.location());
        const as = { userId: ids.buyer! };
        for (const cartId of ['abc', ids.acme!, '0a6000000000001AAA', `${ids.cart!.slice(0, 15)}ZZZ`]) {
          const [r] = await engine.invoke('cartToOrderAction', [{ cartId }], as);
          expect(errorOf(r)).toMatchObject({ code: 'UNKNOWN_EXCEPTION', status: 500, fields: ['cartId'] });
          expect(errorOf(r).message).toMatch(/Invalid CartId Input/);
        }
        const [ok] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart!.slice(0, 15) }], as);
        expect(ok!.isSuccess).toBe(true);
        expect(to18(ids.cart!.slice(0, 15))).toBe(ids.cart);
        await engine.close();
      });

      it('2: a caller without ModifyAllData or B2BCommerceIntegrator is BAD_REQUEST 400', async () => {
        const { engine, ids } = await engineWithClaimedCart(backend.location());
        // plain sees the cart (a Read share): the missing permission is what refuses it.
        const { plain } = await engine.seed({
          User: [{ ref: 'plain', Username: 'plain@acme.example', AccountId: '@acme', Permissions: [] }],
          WebCartShare: [{ ParentId: ids.cart!, UserOrGroupId: '@plain', AccessLevel: 'Read' }],
        });
        const [r] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart }], { userId: plain! });
        expect(errorOf(r)).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
        expect(errorOf(r).message).toMatch(/User Can't Invoke Action/);
        await engine.close();
      });

      it('3: an inactive buyer account is INSUFFICIENT_ACCESS_OR_READONLY 500; a caller of another account that cannot see the cart gets requirement 1', async () => {
        const { engine, ids } = await engineWithClaimedCart(backend.location());
        const [other] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart }], { userId: ids.outsider! });
        expect(errorOf(other)).toMatchObject({ code: 'UNKNOWN_EXCEPTION', status: 500 });
        await engine.updateRecord('BuyerAccount', ids.buyerAccount!, { BuyerStatus: 'Inactive' }, { userId: ids.admin! });
        const [r] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart }], { userId: ids.buyer! });
        expect(errorOf(r)).toMatchObject({ code: 'INSUFFICIENT_ACCESS_OR_READONLY', status: 500 });
        expect(errorOf(r).message).toMatch(/Account Associated With the Cart Isn't Valid or Accessible/);
        await engine.close();
      });

      it('4: a buyer account outside the store’s buyer groups is INSUFFICIENT_ACCESS_OR_READONLY 500', async () => {
        const { engine, ids } = await engineWithClaimedCart(backend.location());
        const admin = { userId: ids.admin! };
        const members = await engine.query(`SELECT Id FROM BuyerGroupMember WHERE BuyerId = '${ids.acme}'`, admin);
        for (const m of members.records) await engine.deleteRecord('BuyerGroupMember', m.Id as string, admin);
        const [r] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart }], { userId: ids.buyer! });
        expect(errorOf(r)).toMatchObject({ code: 'INSUFFICIENT_ACCESS_OR_READONLY', status: 500 });
        expect(errorOf(r).message).toMatch(/User Isn't a Member of the Store/);
        await engine.close();
      });

      it('5: neither owner nor Edit share (a Read share is not enough) is BAD_REQUEST 400; Edit share and ModifyAllData pass', async () => {
        const { engine, ids } = await engineWithClaimedCart(backend.location(), {}, { workerConcurrency: 0 });
        const { colleague } = await engine.seed({
          User: [{ ref: 'colleague', Username: 'colleague@acme.example', AccountId: '@acme', Permissions: ['B2BCommerceIntegrator'] }],
        });
        const call = async (userId: string) =>
          (await engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: true }], { userId }))[0];
        // Without any share the colleague can't see the cart: requirement 1, as for a missing id.
        expect(errorOf(await call(colleague!))).toMatchObject({ code: 'UNKNOWN_EXCEPTION', status: 500 });
        const { share } = await engine.seed({
          WebCartShare: [{ ref: 'share', ParentId: '@cart', UserOrGroupId: '@colleague', AccessLevel: 'Read' }],
        });
        const readOnly = errorOf(await call(colleague!));
        expect(readOnly).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
        expect(readOnly.message).toMatch(/User Doesn't Have Access to the Cart/);
        await engine.updateRecord('WebCartShare', share!, { AccessLevel: 'Edit' }, { userId: ids.buyer! });
        expect((await call(colleague!))!.isSuccess).toBe(true);
        await engine.close();

        const again = await engineWithClaimedCart(backend.location(), {}, { workerConcurrency: 0 });
        const [byAdmin] = await again.engine.invoke('cartToOrderAction', [{ cartId: again.ids.cart, runAsync: true }], {
          userId: again.ids.admin!,
        });
        expect(byAdmin!.isSuccess).toBe(true);
        await again.engine.close();
      });

      it('6: a cart whose status is not Checkout is INVALID_OPERATION 403', async () => {
        const engine = await createCheckoutEngine({ storage: backend.location() });
        const f = demoFixture({ sessionState: 'checkoutSummary' });
        f.WebCart![0]!.Status = 'Active';
        Object.assign(f.CartCheckoutSession![0]!, { NextState: 'cartToOrder', IsProcessing: true });
        const ids = await engine.seed(f);
        const [r] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart }], { userId: ids.buyer! });
        expect(errorOf(r)).toMatchObject({ code: 'INVALID_OPERATION', status: 403 });
        expect(errorOf(r).message).toMatch(/Cart Isn't in the Checkout State/);
        await engine.close();
      });

      it('7: no active session, or one not claimed for cartToOrder, is INVALID_OPERATION 403', async () => {
        const engine = await createCheckoutEngine({ storage: backend.location() });
        const noSession = demoFixture();
        noSession.WebCart![0]!.Status = 'Checkout';
        const a = await engine.seed(noSession);
        const [r1] = await engine.invoke('cartToOrderAction', [{ cartId: a.cart }], { userId: a.buyer! });
        expect(errorOf(r1)).toMatchObject({ code: 'INVALID_OPERATION', status: 403 });
        const unclaimed = demoFixture({ sessionState: 'checkoutSummary' });
        unclaimed.User = unclaimed.User!.map((u) => ({ ...u, Username: `b-${u.Username}` }));
        const b = await engine.seed(unclaimed);
        const [r2] = await engine.invoke('cartToOrderAction', [{ cartId: b.cart }], { userId: b.buyer! });
        expect(errorOf(r2)).toMatchObject({ code: 'INVALID_OPERATION', status: 403 });
        expect(errorOf(r2).message).toMatch(/session isn't waiting/);
        expect(await engine.getRecord('CartCheckoutSession', b.session!)).toMatchObject({
          State: 'checkoutSummary',
          NextState: null,
          IsProcessing: false,
        });
        await engine.close();
      });

      it('8: an operation of the session still New or Running is ALREADY_IN_PROCESS 400', async () => {
        const engine = await createCheckoutEngine({ storage: backend.location() });
        const f = demoFixture({ sessionState: 'checkoutSummary' });
        f.BackgroundOperation = [{ ref: 'op', Name: 'Earlier integration', Status: 'Running' }];
        Object.assign(f.CartCheckoutSession![0]!, { NextState: 'cartToOrder', IsProcessing: true, BackgroundOperationId: '@op' });
        const ids = await engine.seed(f);
        const [r] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart }], { userId: ids.buyer! });
        expect(errorOf(r)).toMatchObject({ code: 'ALREADY_IN_PROCESS', status: 400 });
        expect(errorOf(r).message).toMatch(/Integration Is Already in Progress/);
        await engine.close();
      });

      it('once the order exists, another call is INVALID_OPERATION 403 and makes no second order', async () => {
        const { engine, ids } = await engineWithClaimedCart(backend.location());
        await engine.invoke('cartToOrderAction', [{ cartId: ids.cart }], { userId: ids.buyer! });
        const [again] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart }], { userId: ids.buyer! });
        expect(errorOf(again)).toMatchObject({ code: 'INVALID_OPERATION', status: 403 });
        expect((await engine.query('SELECT COUNT() FROM Order', { userId: ids.admin! })).totalSize).toBe(1);
        await engine.close();
      });
    });

    describe('malformed input', () => {
      it('is refused with a clear error naming the field, and changes nothing', async () => {
        const { engine, ids } = await engineWithClaimedCart(backend.location());
        const as = { userId: ids.buyer! };
        const before = await engine.getRecord('CartCheckoutSession', ids.session!);
        await expect(engine.invokeAny('noSuchAction', [{ cartId: ids.cart }], as)).rejects.toMatchObject({
          code: 'NOT_FOUND',
          status: 404,
        });
        await expect(engine.invokeAny('cartToOrderAction', { cartId: ids.cart }, as)).rejects.toMatchObject({
          code: 'INVALID_INPUT',
          status: 400,
          fields: ['inputs'],
        });
        await expect(engine.invoke('cartToOrderAction', [{ cartId: ids.cart }], { userId: 'nobody' })).rejects.toMatchObject({
          code: 'INVALID_SESSION_ID',
          status: 401,
        });
        const results = await engine.invokeAny(
          'cartToOrderAction',
          ['a string', {}, { cartId: 42 }, { cartId: ids.cart, runAsync: 'yes' }, { cartId: ids.cart, coupon: 'X' }, { cartId: '' }],
          as,
        );
        expect(results.map(errorOf).map((e) => [e.code, e.status, e.fields])).toEqual([
          ['INVALID_INPUT', 400, []],
          ['REQUIRED_FIELD_MISSING', 400, ['cartId']],
          ['INVALID_INPUT', 400, ['cartId']],
          ['INVALID_INPUT', 400, ['runAsync']],
          ['INVALID_INPUT', 400, ['coupon']],
          ['REQUIRED_FIELD_MISSING', 400, ['cartId']],
        ]);
        expect(results.every((r) => r.actionName === 'cartToOrderAction' && r.outputValues === null)).toBe(true);
        expect(await engine.getRecord('CartCheckoutSession', ids.session!)).toEqual(before);
        expect((await engine.query('SELECT COUNT() FROM BackgroundOperation', { userId: ids.admin! })).totalSize).toBe(0);
        // A bulk call answers each input on its own.
        const mixed = await engine.invoke('cartToOrderAction', [{ cartId: 'bad' }, { cartId: ids.cart }], as);
        expect(mixed.map((r) => r.httpStatus)).toEqual([500, 200]);
        await engine.close();
      });

      it('throws EngineError instances carrying the table entry', async () => {
        const engine = await createCheckoutEngine({ storage: backend.location() });
        const err = await engine.invokeAny('nope', [], { userId: 'x' }).catch((e) => e);
        expect(err).toBeInstanceOf(EngineError);
        expect(err.message).toMatch(/No standard action named 'nope'/);
        await engine.close();
      });
    });
  });
}
