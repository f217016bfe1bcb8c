/**
 * PostgreSQL wake-up benchmark (issue 12): how long an engine process takes to notice work that
 * another process queued or finished, and where one process's checkout time goes.
 *
 *  - `wake`: two engines on one PostgreSQL schema (each with its own pool, queue and listener, as
 *    two processes would have). (a) A runAsync=true operation queued by an engine without workers:
 *    time from the queueing call's return until the operation is Complete, as seen by a waiter.
 *    (b) A runAsync=false call in engine B on an operation engine A holds: time from A finishing
 *    (its own `run` returning) until B's waiting call returns — the "one round trip" of issue 12.
 *  - `checkouts`: one engine in this process runs `engine.runCheckout` for N carts, 6 in flight,
 *    and counts the SQL statements sent per checkout (by kind) next to checkouts/s.
 *
 * Run: npx tsx bench/pg-wake.ts [wake|checkouts|all] [--rounds N] [--carts N]
 * Numbers are noisy on a shared machine; the statement counts are not.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createCheckoutEngine, type CheckoutEngine } from '../src/engine/engine.js';
import { seedCarts } from './carts.js';
import { fleetFixture } from '../test/scale/fleet.js';
import { PG_URL } from '../test/helpers/backends.js';

const args = process.argv.slice(2);
const mode = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) ?? 'all';
const num = (flag: string, dflt: number) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : dflt);
const ROUNDS = num('--rounds', 20);
const CARTS = num('--carts', 60);
const CONCURRENCY = 6;
const PG_BASE = PG_URL; // TEST_DATABASE_URL, else the tests' default
const quiet = { onError: (e: unknown) => console.error('[engine]', e) };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');

async function schema(tag: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bench_wake_${process.pid}_${tag}`;
  const drop = async () => {
    const c = new pg.Client({ connectionString: PG_BASE });
    await c.connect();
    try {
      await c.query(`drop schema if exists "${name}" cascade`);
      await c.query(`drop schema if exists "${name}_pgboss" cascade`);
    } finally {
      await c.end();
    }
  };
  await drop();
  return { url: `${PG_BASE}${PG_BASE.includes('?') ? '&' : '?'}schema=${name}`, drop };
}

/** Wake statistics of an engine's queue, when it keeps them. */
function stats(e: CheckoutEngine): string {
  const s = (e.worker.queue as { stats?: () => unknown }).stats?.();
  return s ? JSON.stringify(s) : '(no wake statistics)';
}

/** Carts of one seeded store, each handed out once: started at checkoutSummary (as the admin) and claimed for cartToOrder. */
async function cartSource(e: CheckoutEngine, n: number): Promise<() => Promise<{ cart: string; buyer: string }>> {
  const { fixture, cartRefs } = fleetFixture(n);
  const h = await e.seed(fixture);
  let next = 0;
  return async () => {
    const cart = h[cartRefs[next++]!]!;
    const [s] = await e.invoke('checkoutSessionAction', [{ cartId: cart, initialState: 'checkoutSummary' }], { userId: h.admin! });
    if (!s!.isSuccess) throw new Error(JSON.stringify(s!.errors));
    const [r] = await e.invoke(
      'updateCheckoutSessionStateAction',
      [{ checkoutSessionId: s!.outputValues!.requestId, expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' }],
      { userId: h.buyer! },
    );
    if (!r!.isSuccess) throw new Error(JSON.stringify(r!.errors));
    return { cart, buyer: h.buyer! };
  };
}

async function wake(): Promise<void> {
  const { url, drop } = await schema('wake');
  const engines: CheckoutEngine[] = [];
  try {
    const api = await createCheckoutEngine({ storage: url, worker: false, ...quiet });
    engines.push(api);
    let release: () => void = () => {};
    let reached: (id: string) => void = () => {};
    let holding = false;
    const holder = await createCheckoutEngine({
      storage: url,
      ...quiet,
      faults: {
        beforeCommit: async (_s, id) => {
          if (!holding) return;
          reached(id);
          await new Promise<void>((r) => (release = r));
        },
      },
    });
    engines.push(holder);
    const waiter = await createCheckoutEngine({ storage: url, worker: false, ...quiet });
    engines.push(waiter);

    // (a) queued by `api` (no workers), run by `holder`'s worker: invoke return → Complete.
    const claimed = await cartSource(api, 2 * ROUNDS);
    const pickup: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const h = await claimed();
      const [r] = await api.invoke('cartToOrderAction', [{ cartId: h.cart, runAsync: true }], { userId: h.buyer! });
      const t0 = performance.now();
      await api.whenIdle();
      pickup.push(performance.now() - t0);
      if ((await api.getRecord('BackgroundOperation', String(r!.outputValues!.backgroundOperationId))).Status !== 'Complete')
        throw new Error('not complete');
    }

    // (b) waiter's runAsync=false call on an operation holder runs: holder done → waiter returns.
    const lag: number[] = [];
    holding = true;
    for (let i = 0; i < ROUNDS; i++) {
      const h = await claimed();
      const at = new Promise<string>((r) => (reached = r));
      const [r] = await api.invoke('cartToOrderAction', [{ cartId: h.cart, runAsync: true }], { userId: h.buyer! });
      const opId = String(r!.outputValues!.backgroundOperationId);
      await at;
      let tWaiter = 0;
      const waiting = waiter.worker.run(opId).then(() => (tWaiter = performance.now()));
      // Let the waiter settle into its wait (its backoff, if any, grows meanwhile), as a real waiter would.
      await new Promise((r) => setTimeout(r, 300 + (i % 5) * 97));
      let tHolder = 0;
      const holderDone = holder.worker.run(opId).then(() => (tHolder = performance.now())); // joins the in-flight run
      release();
      await Promise.all([waiting, holderDone]);
      lag.push(tWaiter - tHolder);
    }
    holding = false;
    console.log(`wake (${ROUNDS} rounds each; two engines = two pools/queues/listeners in one Node process)`);
    console.log(
      `  runAsync=true queued by a worker-less engine, run by another: invoke return → Complete  p50 ${f1(pct(pickup, 50))} ms  p90 ${f1(pct(pickup, 90))} ms  max ${f1(Math.max(...pickup))} ms`,
    );
    console.log(
      `  runAsync=false waiting on another engine's operation: holder done → waiter returns  p50 ${f1(pct(lag, 50))} ms  p90 ${f1(pct(lag, 90))} ms  max ${f1(Math.max(...lag))} ms`,
    );
    console.log(`  holder queue: ${stats(holder)}`);
    console.log(`  waiter queue: ${stats(waiter)}`);
  } finally {
    await Promise.allSettled(engines.map((e) => e.close()));
    await drop();
  }
}

async function checkouts(): Promise<void> {
  const { url, drop } = await schema('co');
  const counts = new Map<string, number>();
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to restore the prototype; called below with .apply(this)
  const original = pg.Client.prototype.query;
  let counting = false;
  // Count every statement any pg client sends (engine pool, queue, listener).
  (pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown }).query = function (this: pg.Client, ...a: unknown[]) {
    if (counting) {
      const q = a[0] as string | { text?: string };
      const text = (typeof q === 'string' ? q : (q?.text ?? '')).trim().toLowerCase();
      const kind = /^(begin|commit|rollback)/.test(text)
        ? text.split(/\s/)[0]!
        : text.includes('pgboss') || text.includes('_pgboss')
          ? 'pg-boss'
          : text.split(/\s/)[0] || '?';
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    return (original as (...x: unknown[]) => unknown).apply(this, a);
  };
  const engine = await createCheckoutEngine({ storage: url, workerConcurrency: CONCURRENCY, ...quiet });
  try {
    const { buyerId, carts } = await seedCarts(engine, 2, CARTS);
    counting = true;
    let next = 0;
    let failed = 0;
    const c2o: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < carts.length) {
          const run = await engine.runCheckout(carts[next++]!, { userId: buyerId });
          if (run.status !== 'complete') failed++;
          const step = run.trajectory.find((t) => t.state === 'cartToOrder');
          if (step) c2o.push(step.durationMs);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    counting = false;
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    console.log(`checkouts: ${CARTS} carts, ${CONCURRENCY} in flight, one engine in this process on PostgreSQL`);
    console.log(
      `  ${f1((CARTS - failed) / seconds)} checkouts/s (${failed} failed), ${seconds.toFixed(1)} s; cartToOrder p50 ${f1(pct(c2o, 50))} ms p99 ${f1(pct(c2o, 99))} ms`,
    );
    console.log(
      `  SQL statements per checkout: ${f1(total / CARTS)} (${[...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${f1(n / CARTS)}`)
        .join(', ')})`,
    );
    console.log(`  queue: ${stats(engine)}`);
  } finally {
    pg.Client.prototype.query = original;
    await engine.close();
    await drop();
  }
}

if (mode === 'wake' || mode === 'all') await wake();
if (mode === 'checkouts' || mode === 'all') await checkouts();
