/**
 * Cost guards by counting, never by timing (timings live in bench/): the round trips a call makes
 * to PostgreSQL, counted by the backend's own pool (`PostgresStore.roundTrips`: one statement sent,
 * one answer awaited). A queued step call (runAsync: true) is one transaction of three round trips —
 * BEGIN with the caller's read and the facts read (BEGIN goes out with a transaction's first
 * statement, the caller's read pipelined with the facts read: `readTogether`), one batched write
 * (the session's compare-and-set, its history entry and the operation), COMMIT — and a whole
 * checkout stays within its measured count whatever its line count.
 * PostgreSQL being unreachable fails these tests (the global setup checks it); they never skip.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, type CheckoutEngineOptions } from '../../src/index.js';
import { seedDemoCheckout } from '../../src/demo/run-demo.js';
import { demoFixture } from '../../src/demo/fixture.js';
import { openPostgres, type PostgresStore } from '../../src/storage/postgres/index.js';
import { demo } from '../../src/index.js';
import { dropTestSchemas, freshPgUrl } from '../helpers/backends.js';
import { GOOD, storeCode } from '../flows/interview-helpers.js';

afterAll(dropTestSchemas);

async function pgEngine(opts: CheckoutEngineOptions = {}) {
  const storage = openPostgres(freshPgUrl());
  const engine = await createCheckoutEngine({ storage, onError: () => {}, ...opts });
  return { engine, storage };
}

/** The SQL of every round trip the store's pool made while `fn` ran. */
async function tracing<T>(storage: PostgresStore, fn: () => Promise<T>): Promise<{ result: T; sql: string[] }> {
  const trace = storage.roundTrips.trace();
  try {
    const result = await fn();
    return { result, sql: trace.stop() };
  } finally {
    trace.stop();
  }
}

/** Whether a round trip opens a transaction: BEGIN, alone or (the pool's way) in front of the transaction's first statement. */
const opens = (s: string) => s === 'begin' || s.startsWith('begin; ');

/** The round trips from the first BEGIN to the COMMIT after it, both included. */
function transactionOf(sql: string[]): string[] {
  const begin = sql.findIndex(opens);
  const commit = sql.indexOf('commit', begin);
  expect(begin, sql.join('\n')).toBeGreaterThanOrEqual(0);
  expect(commit, sql.join('\n')).toBeGreaterThan(begin);
  return sql.slice(begin, commit + 1);
}

describe('round trips (PostgreSQL)', () => {
  it('the pool counts every statement it sends, and a trace sees each one', async () => {
    const { engine, storage } = await pgEngine();
    const before = storage.roundTrips.total;
    const { sql } = await tracing(storage, () => storage.get('User', '005000000000000AAA'));
    expect(sql).toEqual(['select * from "User" where "Id" = $1']);
    expect(storage.roundTrips.total - before).toBe(1);
    await engine.close();
  });

  it('a queued step call (runAsync: true) is one transaction of 3 round trips: BEGIN with the caller and facts reads, one batched write, COMMIT', async () => {
    const { engine, storage } = await pgEngine({ worker: false });
    const ids = await engine.seed(demoFixture({ sessionState: 'deliveryMethod' }));
    const userId = ids.buyer!;
    const [claim] = await engine.invoke(
      'updateCheckoutSessionStateAction',
      [{ checkoutSessionId: ids.session, expCurrentState: 'deliveryMethod', nextState: 'taxes' }],
      { userId },
    );
    expect(claim!.isSuccess, JSON.stringify(claim!.errors)).toBe(true);
    const { result, sql } = await tracing(storage, () =>
      engine.invoke('calcCartTaxesAction', [{ cartId: ids.cart!, runAsync: true }], { userId }),
    );
    expect(result[0]!.isSuccess, JSON.stringify(result[0]!.errors)).toBe(true);
    const tx = transactionOf(sql);
    expect(tx, tx.join('\n')).toHaveLength(3);
    // BEGIN, the caller's read and the checkout facts (the cart locked): one round trip.
    expect(tx[0]).toMatch(/^begin; select \* from "User" where "Id" = \$1; select "c"\."Id" as "c__Id"/);
    expect(tx[0]).toMatch(/for update of c$/);
    // The session's compare-and-set, its history entry and the queued operation: one statement.
    expect(tx[1]).toMatch(/^with "w0" as \(update "CartCheckoutSession" set .* "_version" = \$\d+ returning 1\)/);
    expect(tx[1]).toContain('insert into "CheckoutSessionEvent"');
    expect(tx[1]).toContain('insert into "BackgroundOperation"');
    // Nothing besides the transaction: the library call reads its caller with the facts (4 round trips before).
    expect(sql).toEqual(tx);
    // What the one statement wrote is all there: the operation queued, the session running it, the history entry.
    const opId = String(result[0]!.outputValues!.backgroundOperationId);
    expect(await storage.get('BackgroundOperation', opId)).toMatchObject({ Status: 'New', _step: 'taxes' });
    expect(await storage.get('CartCheckoutSession', ids.session!)).toMatchObject({ IsProcessing: true, BackgroundOperationId: opId });
    const history = await storage.find('CheckoutSessionEvent', { where: [{ field: 'OperationId', op: '=', value: opId }] });
    expect(history.map((h) => h.EventType)).toEqual(['STEP']);
    await engine.close();
  });

  it('a claim (updateCheckoutSessionStateAction) is BEGIN with the caller and facts reads, one batched write, COMMIT', async () => {
    const { engine, storage } = await pgEngine({ worker: false });
    const ids = await engine.seed(demoFixture({ sessionState: 'checkoutSummary' }));
    const { result, sql } = await tracing(storage, () =>
      engine.invoke(
        'updateCheckoutSessionStateAction',
        [{ checkoutSessionId: ids.session, expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' }],
        { userId: ids.buyer! },
      ),
    );
    expect(result[0]!.isSuccess, JSON.stringify(result[0]!.errors)).toBe(true);
    expect(transactionOf(sql), sql.join('\n')).toHaveLength(3);
    expect(sql[0]).toMatch(/^begin; select \* from "User" where "Id" = \$1; select "c"\."Id" as "c__Id"/);
    expect(sql).toHaveLength(3); // 4 before the caller's read went with the facts read
    await engine.close();
  });

  it('a navigate (NEXT, checkoutSessionAction on the way) is 10 round trips; its history entry is one statement in the transaction saving the state', async () => {
    const { engine, storage } = await pgEngine({ flowSources: [GOOD], ...storeCode });
    const { cartId, buyerId } = await demo.newCart(engine, { lines: 2, groups: 1 });
    const as = { userId: buyerId };
    const iv = await engine.startInterview('Interview_Basics', { cartId }, as);
    await engine.whenIdle();
    const { result, sql } = await tracing(storage, () => engine.navigate(iv.id, { action: 'NEXT' }, as));
    expect(result.screen?.name).toBe('Ask_PO');
    // 12 before the entry was appended in one statement (the session read, its entries counted, the entry inserted).
    expect(sql.length, sql.join('\n')).toBeLessThanOrEqual(10);
    const history = sql.filter((s) => s.includes('"CheckoutSessionEvent"'));
    expect(history, sql.join('\n')).toHaveLength(1);
    expect(history[0]).toMatch(/^with s as \(select .* from "CartCheckoutSession" as x .*\), i as \(insert into "CheckoutSessionEvent" /s);
    // The saved state and the entry: BEGIN with the state's compare-and-set, the entry, COMMIT.
    const tx = transactionOf(sql.slice(sql.findIndex((s) => /^begin; update "FlowInterview"/.test(s))));
    expect(tx, tx.join('\n')).toHaveLength(3);
    await engine.close();
  });

  it('a whole checkout makes at most 179 round trips in 25 transactions, as many for 30 lines as for 2', async () => {
    const perCheckout: number[] = [];
    for (const lines of [2, 30]) {
      const { engine, storage } = await pgEngine();
      const { cartId, buyerId } = await seedDemoCheckout(engine, { lines, groups: 1 });
      const { result, sql } = await tracing(storage, () => engine.runCheckout(cartId, { userId: buyerId, answers: { poNumber: 'PO-1' } }));
      expect(result.status).toBe('complete');
      // Measured 339 round trips before statements were batched (issue 22), 269 after, 244 with BEGIN sent with the next statement,
      // 213 with the caller's read sent with the facts read, 196 with a record update's caller read with its row, the
      // runner's session read with its cart and the completion facts' independent reads in one findAll, 177 with the
      // step calls telling the runner their operation's Status (no read back), the delivery-method step's reads in
      // one findAll and the other independent reads of the steps sent together.
      expect(sql.length, sql.join('\n')).toBeLessThanOrEqual(179);
      // The runner never reads an operation back after a step call that finished it.
      expect(
        sql.filter((s) => s === 'select * from "BackgroundOperation" where "Id" = $1'),
        sql.join('\n'),
      ).toEqual([]);
      // The delivery-method step reads its groups, their options for the method, the method and the charges in one statement.
      expect(
        sql.filter((s) => /^select \* from "(CartDeliveryGroup|OrderDeliveryMethod)" where "(CartId|Id)" = \$1$/.test(s)),
        sql.join('\n'),
      ).toEqual([]);
      // A caller is read with its call's first read, never alone (a step action's with its facts, an update's with its row).
      expect(
        sql.filter((s) => s === 'select * from "User" where "Id" = $1'),
        sql.join('\n'),
      ).toEqual([]);
      // The runner reads the session and its cart together.
      expect(
        sql.filter((s) => s === 'select * from "CartCheckoutSession" where "Id" = $1'),
        sql.join('\n'),
      ).toEqual([]);
      expect(
        sql.filter((s) => s === 'select * from "CartCheckoutSession" where "Id" = $1; select * from "WebCart" where "Id" = $1').length,
      ).toBeGreaterThan(5);
      // The completion facts: the stock and the holds in the statement of the other reads (not one each).
      expect(
        sql.filter((s) => /^select \* from "ProductInventory" where "Product2Id" in \([$\d, ]+\)$/.test(s)),
        sql.join('\n'),
      ).toEqual([]);
      expect(sql.filter(opens)).toHaveLength(25);
      // BEGIN never travels alone.
      expect(sql.filter((s) => s === 'begin')).toEqual([]);
      // The session's compare-and-set never travels alone: its history entry goes in the same statement.
      expect(sql.filter((s) => /^update "CartCheckoutSession"/.test(s))).toEqual([]);
      perCheckout.push(sql.length);
      await engine.close();
    }
    expect(Math.abs(perCheckout[1]! - perCheckout[0]!)).toBeLessThanOrEqual(6);
  });
});
