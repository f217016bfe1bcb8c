/**
 * Cost guards by counting, never by timing (timings live in bench/): the SQL statements and
 * transactions a call issues on SQLite, counted at the driver. cartToOrderAction(runAsync: false)
 * is ONE transaction whose statement count doesn't grow with the cart's lines, and a whole checkout
 * issues the same number of statements for a 2-line and a 60-line cart.
 */
import { describe, expect, it } from 'vitest';
import { createCheckoutEngine } from '../../src/index.js';
import { seedDemoCheckout } from '../../src/demo/run-demo.js';
import { engineWithClaimedCart } from '../helpers/engine.js';
import { sqlWhile } from '../helpers/sql-log.js';

/** Every statement run while `fn` runs, with the total and the BEGINs among them. */
async function counting<T>(fn: () => Promise<T>): Promise<{ result: T; total: number; begins: number; sql: string[] }> {
  const { result, sql } = await sqlWhile(fn);
  return { result, total: sql.length, begins: sql.filter((s) => /^begin/i.test(s)).length, sql };
}

describe('statement counts (SQLite)', () => {
  for (const lines of [3, 200]) {
    it(`cartToOrderAction(runAsync: false) on a ${lines}-line cart is one transaction of at most 22 statements`, async () => {
      const { engine, ids } = await engineWithClaimedCart(':memory:', { lines, groups: 2 });
      const { result, total, begins, sql } = await counting(() =>
        engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: false }], { userId: ids.buyer! }),
      );
      expect(result[0]!.isSuccess).toBe(true);
      expect(begins).toBe(1);
      // caller, facts, the claim (session + history), the completion invariants' facts (lines, groups,
      // taxes, stock rows, products, holds — one statement each, issue 17), the cart's order (one read),
      // the order's inserts (batched, not one per line), the completion (session + history), the
      // operation, begin and commit: 21 at both sizes.
      expect(total - sql.filter((q) => /^pragma/i.test(q)).length, sql.join('\n')).toBeLessThanOrEqual(22);
      expect(sql.filter((s) => /^insert into "OrderItem"/.test(s)).length).toBeLessThanOrEqual(Math.ceil((lines * 2) / 500) + 1);
      await engine.close();
    });
  }

  it('a whole checkout issues as many statements for a 60-line cart as for a 2-line one, and reads no requirement fact twice per call', async () => {
    const perCheckout: number[] = [];
    for (const lines of [2, 60]) {
      const engine = await createCheckoutEngine({ storage: ':memory:' });
      const { cartId, buyerId } = await seedDemoCheckout(engine, { lines, groups: 1 });
      const { result, sql } = await counting(() => engine.runCheckout(cartId, { userId: buyerId, answers: { poNumber: 'PO-1' } }));
      expect(result.status).toBe('complete');
      perCheckout.push(sql.filter((q) => !/^pragma/i.test(q)).length);
      // The usage requirements' facts are one statement per call: no separate account, buyer or membership reads.
      expect(sql.filter((s) => /from "(BuyerGroupMember|BuyerAccount|Account)" where/.test(s))).toEqual([]);
      await engine.close();
    }
    // The same calls and statements whatever the line count (a 60-line cart may take a few more, e.g. a
    // promotion that applies only to it; never one per line).
    expect(Math.abs(perCheckout[1]! - perCheckout[0]!)).toBeLessThanOrEqual(12);
    // 326 for the 2-line cart (338 before a step's completion stamps found again the cart rows its
    // draft had read in the same transaction, issue 22).
    expect(perCheckout[0]!).toBeLessThanOrEqual(326);
  });

  it("a session's writes set its indexed columns (IsArchived, _activeKey) only when they change: never in a checkout, both on a cancel", async () => {
    const engine = await createCheckoutEngine({ storage: ':memory:' });
    const sessionUpdates = (sql: string[]) => sql.filter((s) => /^update "CartCheckoutSession"/.test(s));
    const setsIndexed = (s: string) => /"(IsArchived|_activeKey)" = \?/.test(s.slice(0, s.indexOf(' where ')));
    const done = await seedDemoCheckout(engine, { lines: 2, groups: 1 });
    const run = await sqlWhile(() => engine.runCheckout(done.cartId, { userId: done.buyerId, answers: { poNumber: 'PO-1' } }));
    expect(run.result.status).toBe('complete');
    expect(sessionUpdates(run.sql).length).toBeGreaterThan(20);
    expect(sessionUpdates(run.sql).filter(setsIndexed)).toEqual([]);
    // A cancel archives the session: both columns are written (the cart may start a new checkout).
    const other = await seedDemoCheckout(engine, { lines: 2, groups: 1 });
    await engine.invoke('checkoutSessionAction', [{ cartId: other.cartId }], { userId: other.buyerId });
    const cancel = await sqlWhile(() => engine.invoke('cancelCartAsyncOperation', [{ cartId: other.cartId }], { userId: other.buyerId }));
    expect(cancel.result[0]!.isSuccess).toBe(true);
    const archiving = sessionUpdates(cancel.sql).filter(setsIndexed);
    expect(archiving.length).toBe(1);
    expect(archiving[0]).toMatch(/"IsArchived" = \?.*"_activeKey" = \?/);
    const [row] = await engine.core.storage.find('CartCheckoutSession', { where: [{ field: 'WebCartId', op: '=', value: other.cartId }] });
    expect(row).toMatchObject({ IsArchived: true, _activeKey: null });
    await engine.close();
  });
});
