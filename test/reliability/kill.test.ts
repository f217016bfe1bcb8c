/**
 * Issue 13, item 2, short version: 8 seeded SIGKILLs of engine processes running checkouts, per
 * backend (a SQLite file; a PostgreSQL schema with a 2 s lease and, in one round, two processes of
 * which one is killed while the other keeps working), then a clean process finishes every checkout
 * and the rows are checked directly (test/reliability/faults.ts). The long run — 100+ kills per
 * backend — is `npm run faults`. Without PostgreSQL the PostgreSQL test fails.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, freshPgUrl, freshSqliteFile } from '../helpers/backends.js';
import { createCheckoutEngine } from '../../src/engine/engine.js';
import { describePlan, FAULT_ANSWERS, formatReport, planKills, runFaults, seedCarts, verifyFaults, type FaultReport } from './faults.js';

const SEED = 2; // its 8-kill schedule has every kind of kill point: startup, time, calls, inside and before a commit
const KILLS = 8;
const CARTS = 12;

afterAll(dropTestSchemas);

function expectSound(r: FaultReport): void {
  console.log(formatReport(r).join('\n'));
  expect(r.problems).toEqual([]);
  expect(r.kills).toBe(KILLS);
  expect({ duplicates: r.duplicates, lost: r.lost, moneyMismatches: r.moneyMismatches, stockMismatches: r.stockMismatches }).toEqual({
    duplicates: 0,
    lost: 0,
    moneyMismatches: 0,
    stockMismatches: 0,
  });
  expect(r.openOperations).toEqual({ new: 0, runningExpired: 0, runningLive: 0 });
  // Every checkout ended: complete with its one Order, or in error with a message.
  expect(r.complete + r.errored).toBe(CARTS);
  expect(r.orders).toBe(r.complete);
  // The kills did land on running checkouts, and those were resumed by later processes.
  expect(r.interrupted).toBeGreaterThan(0);
  expect(r.resumed).toBe(r.interruptedCarts);
}

describe('the kill schedule', () => {
  it('is a function of the seed alone', () => {
    expect(planKills(SEED, KILLS, 'postgres')).toEqual(planKills(SEED, KILLS, 'postgres'));
    expect(planKills(SEED, KILLS, 'sqlite').map(describePlan)).not.toEqual(planKills(SEED + 1, KILLS, 'sqlite').map(describePlan));
    const plan = planKills(SEED, KILLS, 'sqlite');
    expect(new Set(plan.map((p) => p.mode))).toEqual(new Set(['startup', 'time', 'calls', 'inside', 'before']));
    expect(plan.some((p) => p.pair)).toBe(false); // two processes share a database only on PostgreSQL
    const pg = planKills(SEED, KILLS, 'postgres');
    expect(pg.reduce((n, p) => n + (p.pair ? 2 : 1), 0)).toBe(KILLS);
    expect(pg.some((p) => p.pair)).toBe(true);
  });
});

describe('the checks after the kills', () => {
  it('pass on finished checkouts and catch a stuck operation, a lost order, a wrong total and a stock leak', async () => {
    const engine = await createCheckoutEngine({ storage: ':memory:', onError: () => {} });
    try {
      const { buyer, carts } = await seedCarts(engine, 3);
      for (const cartId of carts)
        expect((await engine.runCheckout(cartId, { userId: buyer, answers: FAULT_ANSWERS })).status).toBe('complete');
      const clean = await verifyFaults(engine, carts);
      expect(clean.problems).toEqual([]);
      expect({ complete: clean.completeCarts.size, orders: clean.orders }).toEqual({ complete: 3, orders: 3 });

      const s = engine.core.storage;
      const sessions = await engine.admin.find('CartCheckoutSession', {});
      const [first, second] = sessions;
      await s.update('Order', String(first!.OrderId), {
        GrandTotalAmount: Number((await engine.admin.get('Order', String(first!.OrderId)))!.GrandTotalAmount) + 0.01,
      });
      await s.update('CartCheckoutSession', String(second!.Id), { OrderId: null });
      await s.update('BackgroundOperation', String(first!.BackgroundOperationId), {
        Status: 'Running',
        _leaseUntil: new Date(Date.now() - 60_000).toISOString(),
      });
      const [inventory] = await engine.admin.find('ProductInventory', {
        where: [{ field: 'QuantityReserved', op: '>', value: 0 }],
        limit: 1,
      });
      await s.update('ProductInventory', String(inventory!.Id), { QuantityReserved: Number(inventory!.QuantityReserved) + 1 });
      const broken = await verifyFaults(engine, carts);
      expect({ lost: broken.lost, money: broken.moneyMismatches, stock: broken.stockMismatches, open: broken.openOperations }).toEqual({
        lost: 1,
        money: 1,
        stock: 1,
        open: { new: 0, runningExpired: 1, runningLive: 0 },
      });
      expect(broken.problems.join('\n')).toMatch(/GrandTotalAmount/);
    } finally {
      await engine.close();
    }
  });
});

describe('SIGKILL at seeded points of running checkouts', () => {
  it('SQLite file: every checkout resumes or reports an error, one Order each, totals hold', { timeout: 240_000 }, async () => {
    expectSound(await runFaults({ backend: 'sqlite', storage: freshSqliteFile(), seed: SEED, kills: KILLS, carts: CARTS }));
  });

  it('PostgreSQL: the same with 2 s leases and a second process taking over', { timeout: 240_000 }, async () => {
    expectSound(
      await runFaults({ backend: 'postgres', storage: `${freshPgUrl()}&pool=5`, seed: SEED, kills: KILLS, carts: CARTS, leaseMs: 2_000 }),
    );
  });
});
