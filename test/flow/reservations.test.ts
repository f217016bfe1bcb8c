/**
 * Stock reservations are recorded per cart (ProductReservation) and released on cancel, expiry, a
 * cart change and a step error, so one account can't hold stock forever; a re-run of the inventory
 * step sets the cart's hold instead of adding to it; two carts contend for the last units; a placed
 * order keeps its stock. After every test, each ProductInventory's QuantityReserved equals its
 * starting value plus the Held and Ordered reservations against it (the stock adds up).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintId } from '../../src/domain/ids.js';
import { DEFAULT_FLOW, type FlowDefinition } from '../../src/domain/flow.js';
import { DEFAULT_INTEGRATIONS } from '../../src/integrations/defaults.js';
import type { CheckoutEngine } from '../../src/index.js';
import type { Row } from '../../src/storage/port.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { activeSession, call, cartOn, CA_ADDRESS, failure, FLOW_BACKENDS, ok, rows, sharedEngine } from './helpers.js';

afterAll(dropTestSchemas);

const step = (key: string) => DEFAULT_FLOW.steps.find((s) => s.key === key)!;
/** A flow whose review screen can send the buyer back through inventory (a re-run for the same cart). */
const RECHECK: FlowDefinition = {
  id: 'recheck',
  steps: [
    step('start'),
    step('inventory'),
    { key: 'review', label: 'Review', kind: 'screen', next: ['inventory', 'confirmPrice'] },
    ...DEFAULT_FLOW.steps.filter((s) => !['start', 'inventory'].includes(s.key)),
  ],
};
const RECHECK_STORE = mintId('0ZE');

const answers = { deliveryAddress: CA_ADDRESS, poNumber: 'PO-77' };

for (const backend of FLOW_BACKENDS) {
  describe(`stock reservations on ${backend.name}`, () => {
    let offset = 0;
    const shared = sharedEngine(backend.location, {
      clock: () => new Date(Date.now() + offset),
      flows: [RECHECK],
      storeFlows: { [RECHECK_STORE]: 'recheck' },
    });
    /** QuantityReserved of each inventory row before any checkout of this file. */
    const baseline = new Map<string, number>();

    beforeAll(async () => {
      const engine = shared.get();
      await cartOn(engine); // seeds the store and its catalog
      for (const inv of await rows(engine, 'ProductInventory')) baseline.set(String(inv.Id), Number(inv.QuantityReserved ?? 0));
    });

    /** Reserved per product, by Product2Id. */
    const reservedOf = async (engine: CheckoutEngine) =>
      new Map((await rows(engine, 'ProductInventory')).map((r) => [String(r.Product2Id), Number(r.QuantityReserved ?? 0)]));
    /** The cart's product quantities, by Product2Id. */
    const needOf = async (engine: CheckoutEngine, cartId: string) => {
      const need = new Map<string, number>();
      for (const i of await rows(engine, 'CartItem', { CartId: cartId, Type: 'Product' }))
        need.set(String(i.Product2Id), (need.get(String(i.Product2Id)) ?? 0) + Number(i.Quantity));
      return need;
    };
    const expectReserved = async (engine: CheckoutEngine, before: Map<string, number>, plus: Map<string, number>) => {
      const now = await reservedOf(engine);
      for (const [product, was] of before) expect([product, now.get(product)]).toEqual([product, was + (plus.get(product) ?? 0)]);
    };
    const stockAddsUp = async (engine: CheckoutEngine) => {
      const holds = (await rows(engine, 'ProductReservation')).filter((r) => r.Status === 'Held' || r.Status === 'Ordered');
      for (const inv of await rows(engine, 'ProductInventory')) {
        const held = holds.filter((h) => h.ProductInventoryId === inv.Id).reduce((s, h) => s + Number(h.Quantity), 0);
        expect([inv.Id, Number(inv.QuantityReserved)]).toEqual([inv.Id, (baseline.get(String(inv.Id)) ?? 0) + held]);
      }
      // At most one Held row per cart and inventory row.
      const keys = holds.filter((h) => h.Status === 'Held').map((h) => `${h.WebCartId}:${h.ProductInventoryId}`);
      expect(new Set(keys).size).toBe(keys.length);
    };
    const toInventory = async (engine: CheckoutEngine, c: { cartId: string; buyerId: string }) => {
      const run = await engine.runCheckout(c.cartId, { userId: c.buyerId, answers, stopAt: 'inventory' });
      expect(run.status, run.errors.join(' ')).toBe('stopped');
    };
    const reasons = async (engine: CheckoutEngine, cartId: string) =>
      (await rows(engine, 'ProductReservation', { WebCartId: cartId })).map((r: Row) => [r.Status, r.ReleaseReason]);

    it('inventory holds the cart’s quantities; cancel gives them back', async () => {
      const engine = shared.get();
      const c = await cartOn(engine, { lines: 3, groups: 1 });
      const before = await reservedOf(engine);
      const need = await needOf(engine, c.cartId);
      await toInventory(engine, c);
      await expectReserved(engine, before, need);
      const held = await rows(engine, 'ProductReservation', { WebCartId: c.cartId, Status: 'Held' });
      expect(new Map(held.map((h) => [String(h.Product2Id), Number(h.Quantity)]))).toEqual(need);
      await stockAddsUp(engine);
      ok(await call(engine, 'cancelCartAsyncOperation', { cartId: c.cartId }, c.buyerId));
      await expectReserved(engine, before, new Map());
      expect(await reasons(engine, c.cartId)).toEqual(held.map(() => ['Released', 'Canceled']));
      await stockAddsUp(engine);
    });

    it('an expired checkout gives its stock back', async () => {
      const engine = shared.get();
      const c = await cartOn(engine, { lines: 2, groups: 1 });
      const admin = { userId: c.adminId };
      const before = await reservedOf(engine);
      await engine.updateRecord('WebStore', c.storeId, { CheckoutTimeToLive: 60 }, admin);
      try {
        await toInventory(engine, c);
        await expectReserved(engine, before, await needOf(engine, c.cartId));
        offset += 61 * 60_000;
        expect(await engine.expireCheckouts()).toBeGreaterThanOrEqual(1);
        await expectReserved(engine, before, new Map());
        expect(new Set((await reasons(engine, c.cartId)).map(String))).toEqual(new Set(['Released,Expired']));
      } finally {
        await engine.updateRecord('WebStore', c.storeId, { CheckoutTimeToLive: null }, admin);
      }
      await stockAddsUp(engine);
    });

    it("a buyer's cart change cancels the checkout and gives its stock back; the next checkout holds the new quantities", async () => {
      const engine = shared.get();
      const c = await cartOn(engine, { lines: 2, groups: 1 });
      const before = await reservedOf(engine);
      await toInventory(engine, c);
      const [line] = await rows(engine, 'CartItem', { CartId: c.cartId, Type: 'Product' });
      await engine.updateRecord('CartItem', String(line!.Id), { Quantity: Number(line!.Quantity) + 2 }, c.as);
      expect((await engine.admin.get('WebCart', c.cartId))!.Status).toBe('Active');
      await expectReserved(engine, before, new Map());
      await toInventory(engine, c);
      await expectReserved(engine, before, await needOf(engine, c.cartId));
      await stockAddsUp(engine);
      ok(await call(engine, 'cancelCartAsyncOperation', { cartId: c.cartId }, c.buyerId));
    });

    it('a step error gives the stock back (the checkout in error holds nothing)', async () => {
      const engine = shared.get();
      const c = await cartOn(engine, { lines: 2, groups: 1 });
      const before = await reservedOf(engine);
      engine.registerIntegration(
        'pricing',
        { startCartProcessAsync: async () => ({ status: 'FAILED', message: 'Pricing is down.' }) },
        { storeId: c.storeId },
      );
      try {
        const run = await engine.runCheckout(c.cartId, { userId: c.buyerId, answers });
        expect(run.status).toBe('error');
        expect(run.trajectory.at(-1)).toMatchObject({ state: 'confirmPrice', status: 'Error' });
      } finally {
        engine.registerIntegration('pricing', DEFAULT_INTEGRATIONS.pricing!, { storeId: c.storeId });
      }
      await expectReserved(engine, before, new Map());
      expect(new Set((await reasons(engine, c.cartId)).map(String))).toEqual(new Set(['Released,StepError']));
      await stockAddsUp(engine);
      // Cancel (the way out of error) has nothing left to release and keeps the numbers.
      ok(await call(engine, 'cancelCartAsyncOperation', { cartId: c.cartId }, c.buyerId));
      await expectReserved(engine, before, new Map());
    });

    it('two carts contend for the last units: one holds them, the other fails; once released, the other gets them', async () => {
      const engine = shared.get();
      const a = await cartOn(engine, { lines: 1, groups: 1 });
      const b = await cartOn(engine, { lines: 1, groups: 1 });
      const [line] = await rows(engine, 'CartItem', { CartId: a.cartId, Type: 'Product' });
      const [inv] = await rows(engine, 'ProductInventory', { Product2Id: line!.Product2Id });
      const original = Number(inv!.QuantityAvailable);
      await engine.updateRecord(
        'ProductInventory',
        String(inv!.Id),
        { QuantityAvailable: Number(inv!.QuantityReserved) + Number(line!.Quantity) },
        { userId: a.adminId },
      );
      try {
        const runs = await Promise.all(
          [a, b].map((c) => engine.runCheckout(c.cartId, { userId: c.buyerId, answers, stopAt: 'inventory' })),
        );
        expect(runs.map((r) => r.status).sort()).toEqual(['error', 'stopped']);
        const [winner, loser] = runs[0]!.status === 'stopped' ? [a, b] : [b, a];
        expect(await rows(engine, 'ProductReservation', { WebCartId: loser.cartId, Status: 'Held' })).toHaveLength(0);
        await stockAddsUp(engine);
        ok(await call(engine, 'cancelCartAsyncOperation', { cartId: winner.cartId }, winner.buyerId));
        ok(await call(engine, 'cancelCartAsyncOperation', { cartId: loser.cartId }, loser.buyerId));
        await toInventory(engine, loser);
        expect(await rows(engine, 'ProductReservation', { WebCartId: loser.cartId, Status: 'Held' })).toHaveLength(1);
        const again = await engine.runCheckout(winner.cartId, { userId: winner.buyerId, answers, stopAt: 'inventory' });
        expect(again.status).toBe('error');
        expect(again.errors.join(' ')).toMatch(/Insufficient quantity/);
        await stockAddsUp(engine);
        ok(await call(engine, 'cancelCartAsyncOperation', { cartId: loser.cartId }, loser.buyerId));
        ok(await call(engine, 'cancelCartAsyncOperation', { cartId: winner.cartId }, winner.buyerId));
      } finally {
        await engine.updateRecord('ProductInventory', String(inv!.Id), { QuantityAvailable: original }, { userId: a.adminId });
      }
      await stockAddsUp(engine);
    });

    it('re-running inventory for the same cart sets its hold, never adds to it', async () => {
      const engine = shared.get();
      const c = await cartOn(engine, { lines: 3, groups: 1 });
      const store = await engine.admin.get('WebStore', RECHECK_STORE);
      if (!store) {
        const [link] = await rows(engine, 'WebStorePricebook', { WebStoreId: c.storeId });
        const [group] = await rows(engine, 'WebStoreBuyerGroup', { WebStoreId: c.storeId });
        await engine.seed({
          WebStore: [{ Id: RECHECK_STORE, Name: 'Recheck store' }],
          WebStoreBuyerGroup: [{ BuyerGroupId: group!.BuyerGroupId, WebStoreId: RECHECK_STORE }],
          WebStorePricebook: [{ WebStoreId: RECHECK_STORE, Pricebook2Id: link!.Pricebook2Id }],
        });
      }
      await engine.core.storage.update('WebCart', c.cartId, { WebStoreId: RECHECK_STORE });
      const before = await reservedOf(engine);
      const need = await needOf(engine, c.cartId);
      const sessionId = ok(await call(engine, 'checkoutSessionAction', { cartId: c.cartId }, c.buyerId)).requestId as string;
      for (let i = 0; i < 3; i++) {
        const from = i === 0 ? 'start' : 'review';
        ok(
          await call(
            engine,
            'updateCheckoutSessionStateAction',
            { checkoutSessionId: sessionId, expCurrentState: from, nextState: 'inventory' },
            c.buyerId,
          ),
        );
        ok(await call(engine, 'checkCartInventoryAction', { cartId: c.cartId }, c.buyerId));
        expect((await activeSession(engine, c.cartId))!.State).toBe('inventory');
        await expectReserved(engine, before, need);
        await engine.updateRecord('CartCheckoutSession', sessionId, { State: 'review' }, c.as);
      }
      expect(await rows(engine, 'ProductReservation', { WebCartId: c.cartId })).toHaveLength(need.size);
      await stockAddsUp(engine);
      ok(await call(engine, 'cancelCartAsyncOperation', { cartId: c.cartId }, c.buyerId));
      await expectReserved(engine, before, new Map());
    });

    it('a placed order keeps its stock: the holds become the order’s and cancel is refused on the Closed cart', async () => {
      const engine = shared.get();
      const c = await cartOn(engine, { lines: 2, groups: 1 });
      const before = await reservedOf(engine);
      const need = await needOf(engine, c.cartId);
      const run = await engine.runCheckout(c.cartId, { userId: c.buyerId, answers });
      expect(run.status, run.errors.join(' ')).toBe('complete');
      const [session] = await rows(engine, 'CartCheckoutSession', { WebCartId: c.cartId });
      const kept = await rows(engine, 'ProductReservation', { WebCartId: c.cartId });
      expect(kept.map((r) => [r.Status, r.OrderId])).toEqual(kept.map(() => ['Ordered', session!.OrderId]));
      await expectReserved(engine, before, need);
      const f = failure(await call(engine, 'cancelCartAsyncOperation', { cartId: c.cartId }, c.buyerId));
      expect(f.status).toBe(403);
      await expectReserved(engine, before, need);
      await stockAddsUp(engine);
    });

    it('reservations are engine-owned: record writes are refused and a buyer reads none', async () => {
      const engine = shared.get();
      const c = await cartOn(engine, { lines: 1, groups: 1 });
      await toInventory(engine, c);
      const [held] = await rows(engine, 'ProductReservation', { WebCartId: c.cartId });
      await expect(engine.deleteRecord('ProductReservation', String(held!.Id), { userId: c.adminId })).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
      });
      await expect(
        engine.createRecord('ProductReservation', { WebCartId: c.cartId, Quantity: 1 }, { userId: c.adminId }),
      ).rejects.toMatchObject({ status: 400 });
      await expect(
        engine.updateRecord('ProductReservation', String(held!.Id), { Quantity: 0 }, { userId: c.adminId }),
      ).rejects.toMatchObject({ status: 400 });
      expect((await engine.query('SELECT Id FROM ProductReservation', c.as)).records).toHaveLength(0);
      expect(
        (await engine.query(`SELECT Id, Quantity FROM ProductReservation WHERE WebCartId = '${c.cartId}'`, { userId: c.adminId })).records,
      ).toHaveLength(1);
      ok(await call(engine, 'cancelCartAsyncOperation', { cartId: c.cartId }, c.buyerId));
      await stockAddsUp(engine);
    });
  });
}
