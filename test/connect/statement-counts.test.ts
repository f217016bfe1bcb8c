/**
 * Cost guards by counting, never by timing (timings live in bench/flow-connect.ts): the SQL
 * statements a Connect PATCH of the delivery method, the GET after it and a second PATCH issue on
 * SQLite, counted at the driver, the calculator run in the background included; a GET's round trips
 * to PostgreSQL, counted by the store's pool.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../http/helpers.js';
import { checkoutOutput, resolveCheckoutContext, settled } from '../../src/connect/checkouts.js';
import { openPostgres } from '../../src/storage/postgres/index.js';
import { dropTestSchemas, freshPgUrl } from '../helpers/backends.js';
import { sqlWhile } from '../helpers/sql-log.js';

const dir = mkdtempSync(join(tmpdir(), 'connect-counts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The statements run while `fn` runs, pragmas left out. */
const counting = <T>(fn: () => Promise<T>) => sqlWhile(fn, { pragmas: false });

describe('Connect statement counts (SQLite)', () => {
  it('PATCH deliveryMethodId (its run included) and the GET after it: the lock, checks and writes in one transaction, no cart read thrice', async () => {
    const t = await startTestServer(join(dir, 'connect.db'), { sessionState: '' });
    try {
      const token = await t.token();
      const base = `/services/data/v62.0/commerce/webstores/${t.ids.store}`;
      const start = await t.call('POST', `${base}/checkouts`, { token, body: { cartId: 'active' } });
      const id = String(start.body.checkoutId);
      await settled(t.engine);
      const ready = await t.call('GET', `${base}/checkouts/${id}`, { token });
      expect(ready.status).toBe(200);
      const methods = (ready.body.deliveryGroups.items[0].availableDeliveryMethods as { id: string }[]).map((m) => m.id);
      const current = ready.body.deliveryGroups.items[0].selectedDeliveryMethod?.id as string | undefined;
      const other = methods.find((m) => m !== current)!;
      const patch = await counting(async () => {
        const r = await t.call('PATCH', `${base}/checkouts/${id}`, { token, body: { deliveryMethodId: other } });
        await settled(t.engine);
        return r;
      });
      expect(patch.result.status).toBe(202);
      const get = await counting(() => t.call('GET', `${base}/checkouts/${id}`, { token }));
      expect(get.result.status).toBe(200);
      expect(get.result.body.deliveryGroups.items[0].selectedDeliveryMethod.id).toBe(other);
      // PATCH: auth, the checkout with its store context (resolveCheckoutContext: the checkout facts of
      // the session — the session, its cart, the cart's store, the account's membership — in one read;
      // its owner's read check reads nothing more), the lock's transaction (the session with its cart as
      // they are now in one read, groups, options, the payment cleared (the demo cart has a billing
      // address), the lock), setCheckoutDeliveryMethod and calculateCart (as called directly), the 202's
      // checkout, the lock released (one compare-and-set on the session as the lock's transaction wrote
      // it: the run reads it no more): 48 without pragmas (52 with the store context read apart (3) and
      // the session read again after the run; 55 with the release a transaction of its own reading the
      // session again; 57 with the session and the cart read apart, outside and in the lock's
      // transaction; 76 when the lock, the payment clearing and the errors' reset were three
      // transactions and the checkout was resolved again for the answer).
      expect(patch.sql.length, patch.sql.join('\n')).toBeLessThanOrEqual(48);
      expect(patch.sql.filter((s) => /^begin/i.test(s)).length, patch.sql.join('\n')).toBeLessThanOrEqual(3);
      expect(patch.sql.filter((s) => /^select \* from "CartCheckoutSession"/i.test(s)).length, patch.sql.join('\n')).toBe(1); // calculateCart's own
      // GET: auth, the checkout with its store context (one read: its owner reads it), groups, options.
      expect(get.sql.length, get.sql.join('\n')).toBeLessThanOrEqual(4); // 7 with the store context read apart; 8 with the session and cart read apart; 13 before (the cart read four times)
      expect(get.sql.filter((s) => /"WebCart"/.test(s)).length, get.sql.join('\n')).toBe(1);

      // A second PATCH at once (the first's run done): the lock was released (202, never 409), and with no
      // payment or billing address left to clear the cart isn't written before the run: one statement fewer.
      const again = await counting(async () => {
        const r = await t.call('PATCH', `${base}/checkouts/${id}`, { token, body: { deliveryMethodId: current ?? methods[0] } });
        await settled(t.engine);
        return r;
      });
      expect(again.result.status, JSON.stringify(again.result.body)).toBe(202);
      expect(again.sql.length, again.sql.join('\n')).toBeLessThanOrEqual(47);
      expect(again.sql.filter((s) => /^update "WebCart" set "PaymentMethodId"/i.test(s)).length, again.sql.join('\n')).toBe(0);
      const cart = await t.engine.admin.get('WebCart', String(ready.body.cartSummary.cartId));
      for (const k of [
        'PaymentMethodId',
        'PoNumber',
        'BillingStreet',
        'BillingCity',
        'BillingState',
        'BillingPostalCode',
        'BillingCountry',
      ])
        expect(cart?.[k] ?? null, k).toBeNull();
      const done = await t.call('GET', `${base}/checkouts/${id}`, { token });
      expect(done.status).toBe(200);
      expect(done.body.deliveryGroups.items[0].selectedDeliveryMethod.id).toBe(current ?? methods[0]);
    } finally {
      await t.close();
      await t.engine.close();
    }
  });

  it('DELETE, payments, orders/actions prepare and orders: the checkout read with its store context (no store context reads of their own)', async () => {
    const t = await startTestServer(join(dir, 'connect-more.db'), { sessionState: '' });
    try {
      const token = await t.token();
      const at = (v: number) => `/services/data/v${v}.0/commerce/webstores/${t.ids.store}`;
      const base = at(62);
      const begin = async () => {
        const start = await t.call('POST', `${base}/checkouts`, { token, body: { cartId: 'active' } });
        expect(start.status).toBe(202);
        await settled(t.engine);
        return String(start.body.checkoutId);
      };
      /** The store context's own reads: none once the checkout is read with it. */
      const storeReads = (sql: string[]) => sql.filter((s) => /^select \* from "(WebStore|BuyerGroupMember|WebStoreBuyerGroup)"/.test(s));
      const first = await begin();
      const del = await counting(() => t.call('DELETE', `${base}/checkouts/${first}`, { token }));
      expect(del.result.status, JSON.stringify(del.result.body)).toBe(204);
      const id = await begin();
      const pay = await counting(() =>
        t.call('POST', `${base}/checkouts/${id}/payments`, { token, body: { requestType: 'SimplePurchaseOrder', paymentToken: 'PO-1' } }),
      );
      expect(pay.result.status, JSON.stringify(pay.result.body)).toBe(201);
      const prepare = await counting(() =>
        t.call('POST', `${at(64)}/checkouts/${id}/orders/actions`, { token, body: { actions: [{ action: 'prepare' }] } }),
      );
      expect(prepare.result.status, JSON.stringify(prepare.result.body)).toBe(200);
      const order = await counting(async () => {
        const r = await t.call('POST', `${base}/checkouts/${id}/orders`, { token });
        await settled(t.engine);
        return r;
      });
      expect(order.result.status, JSON.stringify(order.result.body)).toBe(201);
      // Each 3 statements fewer than with the store context read apart (WebStore, BuyerGroupMember,
      // WebStoreBuyerGroup): DELETE 23 → 20, payments 18 → 15, prepare 24 → 21, orders 181 → 178 (its
      // placement in the background included, which reads the store for itself).
      expect(del.sql.length, del.sql.join('\n')).toBeLessThanOrEqual(20);
      expect(pay.sql.length, pay.sql.join('\n')).toBeLessThanOrEqual(15);
      expect(prepare.sql.length, prepare.sql.join('\n')).toBeLessThanOrEqual(21);
      expect(order.sql.length, order.sql.join('\n')).toBeLessThanOrEqual(178);
      for (const c of [del, pay]) expect(storeReads(c.sql), c.sql.join('\n')).toEqual([]);
      // prepare's checks read the store once for themselves (the completion facts), nothing more.
      expect(storeReads(prepare.sql), prepare.sql.join('\n')).toEqual(['select * from "WebStore" where "Id" = ?']);
      // The order's request: auth, then the checkout with its store context, then no store context read.
      expect(order.sql[1], order.sql.slice(0, 3).join('\n')).toMatch(/from "CartCheckoutSession" as s left join "WebCart" as c/);
      expect(storeReads(order.sql.slice(0, 3)), order.sql.slice(0, 3).join('\n')).toEqual([]);
    } finally {
      await t.close();
      await t.engine.close();
    }
  });
});

describe('Connect round trips (PostgreSQL)', () => {
  afterAll(dropTestSchemas);

  it('GET checkouts/{id}: auth, the checkout with its store context, then the groups and their options in one round trip; the body as read one by one', async () => {
    const storage = openPostgres(freshPgUrl());
    const t = await startTestServer('', { sessionState: '', engine: { storage } });
    try {
      const token = await t.token();
      const base = `/services/data/v62.0/commerce/webstores/${t.ids.store}`;
      const start = await t.call('POST', `${base}/checkouts`, { token, body: { cartId: 'active' } });
      const id = String(start.body.checkoutId);
      await settled(t.engine);
      const trace = storage.roundTrips.trace();
      const get = await t.call('GET', `${base}/checkouts/${id}`, { token });
      const sql = trace.stop();
      expect(get.status, JSON.stringify(get.body)).toBe(200);
      expect(get.body.deliveryGroups.items[0].availableDeliveryMethods.length).toBeGreaterThan(1);
      // 4 with the groups and their options read apart.
      expect(sql.length, sql.join('\n')).toBeLessThanOrEqual(3);
      // The same body as the reads one after the other (the PATCH's way) give.
      const caller = (await t.engine.authenticateCaller(token))!;
      const { ctx, ref } = await resolveCheckoutContext(t.engine, caller, t.ids.store, undefined, '62.0', id);
      const apart = await checkoutOutput(t.engine, ctx, ref!);
      expect(apart.status).toBe(200);
      expect(get.body).toEqual(apart.body);
    } finally {
      await t.close();
      await t.engine.close();
    }
  });
});
