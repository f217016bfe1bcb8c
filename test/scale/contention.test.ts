/**
 * Issue 5, item 4 — proof under contention: three engine processes on one PostgreSQL schema,
 * 50 carts at checkoutSummary, 300 concurrent cartToOrderAction and updateCheckoutSessionStateAction
 * calls spread over the processes, one process killed with SIGKILL while it holds operations at
 * their commit point. Afterwards: every cart has exactly one Order, every session ends in
 * `cartToOrder`, every call got a success or a declared error, and no operation stays New/Running.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, type CheckoutEngine } from '../../src/engine/engine.js';
import { dropTestSchemas, freshPgUrl } from '../helpers/backends.js';
import { fleetFixture } from './fleet.js';
import { EngineProcess, type Invoked } from './processes.js';

const CARTS = 50;
const LEASE_MS = 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A deterministic shuffle, so a failing run can be replayed. */
function shuffle<T>(xs: T[], seed = 42): T[] {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

let procs: EngineProcess[] = [];
let admin: CheckoutEngine | undefined;

afterAll(async () => {
  await Promise.allSettled(procs.map((p) => p.close()));
  await admin?.close();
  await dropTestSchemas();
});

describe('3 engine processes on one PostgreSQL, one killed mid-way', () => {
  it('gives every cart exactly one Order and leaves nothing Running', { timeout: 90_000 }, async () => {
    // Small pools: 4 engines (3 processes + this one) stay far below max_connections with other test files running.
    const url = `${freshPgUrl()}&pool=5`;
    // The test's own engine only seeds and reads: it runs no background operations.
    admin = await createCheckoutEngine({ storage: url, worker: false, leaseMs: LEASE_MS });
    // Carts seeded in checkout at Checkout Summary: computed and holding their stock, as a checkout
    // that ran its steps would be (the completion invariants ask it of cartToOrder).
    const { fixture, cartRefs } = fleetFixture(CARTS, { sessionState: 'checkoutSummary' });
    const h = await admin.seed(fixture);
    const buyer = h.buyer!;
    const carts = cartRefs.map((r) => h[r]!);

    procs = [
      new EngineProcess(url, { ENGINE_LEASE_MS: String(LEASE_MS) }, 'engine-a'),
      new EngineProcess(url, { ENGINE_LEASE_MS: String(LEASE_MS) }, 'engine-b'),
      // The victim dawdles at its commit point, so the kill lands on operations it holds Running.
      new EngineProcess(url, { ENGINE_LEASE_MS: String(LEASE_MS), ENGINE_COMMIT_DELAY_MS: '150' }, 'engine-victim'),
    ];
    await Promise.all(procs.map((p) => p.ready));
    const [a, b, victim] = procs as [EngineProcess, EngineProcess, EngineProcess];

    // Each process finds the seeded sessions through the real action (get-or-create returns the active one).
    const sessions = await Promise.all(
      carts.map(async (cartId, i) => {
        const r = await procs[i % 3]!.invoke('checkoutSessionAction', [{ cartId }], buyer);
        expect(r.result[0]!.isSuccess, JSON.stringify(r.result[0]!.errors)).toBe(true);
        return String(r.result[0]!.outputValues!.requestId);
      }),
    );
    expect(new Set(sessions).size).toBe(CARTS);
    expect(sessions.sort()).toEqual(cartRefs.map((r) => h[r.replace('cart_', 'session_')]!).sort());

    // 300 calls: per cart 3 claims (checkoutSummary → cartToOrder) and 3 cartToOrderAction, shuffled.
    type Call = { proc: EngineProcess; action: string; input: Record<string, unknown> };
    const calls: Call[] = [];
    carts.forEach((cartId, i) => {
      for (let k = 0; k < 3; k++) {
        calls.push({
          proc: a,
          action: 'updateCheckoutSessionStateAction',
          input: { checkoutSessionId: sessions[i], expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' },
        });
        calls.push({ proc: a, action: 'cartToOrderAction', input: { cartId, runAsync: k === 1 } });
      }
    });
    shuffle(calls).forEach((c, i) => (c.proc = procs[i % 3]!));
    expect(calls).toHaveLength(300);

    // Kill the victim once it holds 3 operations at their commit point (mid-operation).
    const killedHolding = new Promise<string[]>((resolve) => {
      victim.onAtCommit = () => {
        if (victim.atCommit.length === 3) {
          victim.kill9();
          resolve([...victim.atCommit]);
        }
      };
    });
    // Fire in three waves so the kill lands in the middle of the storm.
    const outcomes: PromiseSettledResult<Invoked>[] = [];
    const waves = [calls.slice(0, 100), calls.slice(100, 200), calls.slice(200)];
    const pending: Promise<PromiseSettledResult<Invoked>[]>[] = [];
    for (const wave of waves) {
      pending.push(Promise.allSettled(wave.map((c) => c.proc.invoke(c.action, [c.input], buyer))));
      await sleep(30);
    }
    for (const p of pending) outcomes.push(...(await p));
    const held = await Promise.race([killedHolding, sleep(20_000).then(() => [] as string[])]);
    expect(held.length, 'the victim was killed holding operations at their commit point').toBe(3);

    // Every call answered by a live process is a success or a declared error; the victim's in-flight calls died with it.
    const errorCodes = new Map<string, number>();
    let ok = 0;
    let died = 0;
    for (const o of outcomes) {
      if (o.status === 'rejected') {
        expect(String(o.reason)).toMatch(/engine-victim (died|is dead)/);
        died++;
        continue;
      }
      const r = o.value.result[0]!;
      if (r.isSuccess) ok++;
      else {
        expect(r.errors?.[0]?.statusCode).toMatch(/^[A-Z_]+$/);
        expect(r.errors?.[0]?.message.length).toBeGreaterThan(10);
        expect([400, 403, 409]).toContain(r.httpStatus);
        const key = `${r.errors![0]!.statusCode} ${r.httpStatus}`;
        errorCodes.set(key, (errorCodes.get(key) ?? 0) + 1);
      }
    }
    console.log(
      `storm: ${ok} succeeded, ${[...errorCodes].map(([k, n]) => `${n}× ${k}`).join(', ')}, ${died} lost with the killed process`,
    );
    expect(ok).toBeGreaterThan(0);

    // A client whose call failed retries on a live process until its session reaches cartToOrder.
    const survivors = [a, b];
    // Bounded by retry rounds (a count), not by a wall-clock deadline.
    const MAX_ROUNDS = 180;
    let round = 0;
    for (;;) {
      const rows = await admin.admin.find('CartCheckoutSession', { where: [{ field: 'Id', op: 'in', value: sessions }] });
      const open = rows.filter((s) => !s.OrderId);
      if (open.length === 0) break;
      expect(
        round,
        `sessions still without an order: ${open.map((s) => `${s.Id}:${s.State}/${s.NextState}/${s.IsProcessing}`).join(' ')}`,
      ).toBeLessThan(MAX_ROUNDS);
      await Promise.all(
        open.map(async (s, i) => {
          const p = survivors[(i + round) % 2]!;
          if (s.State === 'checkoutSummary' && !s.NextState) {
            await p.invoke(
              'updateCheckoutSessionStateAction',
              [{ checkoutSessionId: s.Id, expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' }],
              buyer,
            );
          }
          await p.invoke('cartToOrderAction', [{ cartId: s.WebCartId, runAsync: false }], buyer);
        }),
      );
      round++;
      await sleep(250);
    }

    // Operations the dead process held are taken over once their lease expires.
    const storage = admin.admin;
    for (let polls = 0; ; polls++) {
      const stuck = await storage.count('BackgroundOperation', [{ field: 'Status', op: 'in', value: ['New', 'Running'] }]);
      if (stuck === 0) break;
      expect(polls, `${stuck} operations still New/Running`).toBeLessThan(250);
      await sleep(200);
    }
    for (const id of held) {
      const op = await storage.get('BackgroundOperation', id);
      expect(op?.Status, `operation ${id} held by the killed process`).toBe('Complete');
      expect(Number(op?.RetryCount)).toBeGreaterThanOrEqual(1);
    }

    // Exactly one Order per cart (keyed by the session), and every session in cartToOrder.
    expect(await storage.count('Order')).toBe(CARTS);
    const finalSessions = await storage.find('CartCheckoutSession', { where: [{ field: 'Id', op: 'in', value: sessions }] });
    for (const s of finalSessions) {
      expect(await storage.count('Order', [{ field: 'OrderReferenceNumber', op: '=', value: s.Id }])).toBe(1);
      expect({ State: s.State, IsProcessing: s.IsProcessing, IsError: s.IsError }).toEqual({
        State: 'cartToOrder',
        IsProcessing: false,
        IsError: false,
      });
      const [order] = await storage.find('Order', { where: [{ field: 'Id', op: '=', value: s.OrderId }] });
      expect(order?.OrderReferenceNumber).toBe(s.Id);
    }
    const orders = await storage.find('Order');
    expect(new Set(orders.map((o) => o.OrderReferenceNumber)).size).toBe(CARTS);
    // One OrderItem set per order: no half-written or doubled orders.
    const items = await storage.count('OrderItem');
    const perCartLines = fixture.CartItem!.length / CARTS;
    expect(items).toBe(CARTS * perCartLines);
    expect(await storage.count('BackgroundOperation', [{ field: 'Status', op: 'in', value: ['New', 'Running'] }])).toBe(0);
  });
});
