/**
 * Process faults (issue 13, item 2): SIGKILL of engine processes at seeded random points of running
 * checkouts, then a check of what the database holds. Used by `npm run faults` (scripts/faults.ts,
 * 100+ kills per backend) and by test/reliability/kill.test.ts (a few kills per backend).
 *
 * The parent seeds a store with many carts, then, round after round, starts an engine process
 * (test/reliability/fault-child.ts) that recovers what the previous one left, gives it every
 * unfinished cart to check out, and SIGKILLs it at the round's planned point. The plan is a pure
 * function of the seed (`planKills`), printed before the run, so `--seed N` replays the same
 * schedule (the interleaving inside a process still depends on timing). After the last kill a
 * clean process finishes every checkout and closes; then `verifyFaults` reads the rows directly.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEntry } from '../helpers/child-build.js';
import { createCheckoutEngine, type CheckoutEngine } from '../../src/engine/engine.js';
import { demoFixture } from '../../src/demo/fixture.js';
import { seedDemoCheckout } from '../../src/demo/run-demo.js';
import { addMoney, sumMoney } from '../../src/domain/money.js';
import { checkInvariants, orderTotalsProblem } from '../../src/scenarios/invariants.js';
import { parseLease } from '../../src/engine/queue/types.js';
import type { Row, Storage } from '../../src/storage/port.js';
import { openStorage } from '../../src/storage/index.js';
import type { CheckoutAnswers } from '../../src/engine/checkout-runner.js';
import type { FaultCart, FaultMessage, FaultRequest } from './fault-child.js';

/** The buyer's answers to the screens (as the demo checkout gives them). */
export const FAULT_ANSWERS: CheckoutAnswers = {
  deliveryAddress: {
    DeliverToName: 'Acme Receiving',
    DeliverToStreet: '500 Harbor Way',
    DeliverToCity: 'Oakland',
    DeliverToState: 'CA',
    DeliverToPostalCode: '94607',
    DeliverToCountry: 'US',
  },
  paymentMethodId: 'pm_test_visa',
  billingAddress: {
    BillingStreet: '1 Market St',
    BillingCity: 'San Francisco',
    BillingState: 'CA',
    BillingPostalCode: '94105',
    BillingCountry: 'US',
  },
};

const CHILD = fileURLToPath(new URL('./fault-child.ts', import.meta.url));
/** The child as built once for a vitest run, else its .ts under tsx (test/helpers/child-build.ts). */
const CHILD_RUN = childEntry(CHILD);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

import { prng } from '../helpers/prng.js';

export { prng };

/**
 * Where a round's kill lands:
 * - `startup`: `ms` after it was told to open the engine (migration, recovery or the first calls);
 * - `time`: `ms` after it said ready and got its carts;
 * - `calls`: once it completed `calls` engine calls;
 * - `inside`: at its `commit`-th step commit, inside the commit transaction (effects written, not committed);
 * - `before`: at its `commit`-th step commit, after the step computed and before its transaction.
 * `pair` (PostgreSQL): a second process works beside the victim and keeps working `survivorMs` after
 * the kill (taking over the victim's operations), then is killed too.
 */
export interface KillPlan {
  round: number;
  mode: 'startup' | 'time' | 'calls' | 'inside' | 'before';
  ms?: number;
  calls?: number;
  commit?: number;
  pair?: { survivorMs: number };
}

/** The kill schedule of a seed: a pure function of its arguments. */
export function planKills(seed: number, kills: number, backend: 'sqlite' | 'postgres'): KillPlan[] {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const plans: KillPlan[] = [];
  for (let round = 0, planned = 0; planned < kills; round++) {
    const r = rnd();
    let plan: KillPlan;
    if (r < 0.1) plan = { round, mode: 'startup', ms: int(0, 500) };
    else if (r < 0.45) plan = { round, mode: 'time', ms: int(5, 400) };
    else if (r < 0.75) plan = { round, mode: 'calls', calls: int(1, 120) };
    else if (r < 0.9) plan = { round, mode: 'inside', commit: int(1, 12) };
    else plan = { round, mode: 'before', commit: int(1, 12) };
    const pair = rnd() < 0.25;
    const survivorMs = int(300, 3_000);
    if (backend === 'postgres' && pair && plan.mode !== 'startup' && planned + 2 <= kills) plan.pair = { survivorMs };
    plans.push(plan);
    planned += plan.pair ? 2 : 1;
  }
  return plans;
}

/** One line per planned round. */
export function describePlan(p: KillPlan): string {
  const at =
    p.mode === 'startup'
      ? `${p.ms} ms into opening the engine`
      : p.mode === 'time'
        ? `${p.ms} ms after ready`
        : p.mode === 'calls'
          ? `after ${p.calls} calls`
          : `${p.mode} step commit #${p.commit}`;
  return `#${p.round + 1} ${at}${p.pair ? `; a second process keeps working ${p.pair.survivorMs} ms, then is killed too` : ''}`;
}

/** Options of a fault run. */
export interface FaultRunOptions {
  backend: 'sqlite' | 'postgres';
  /** A SQLite file path or a postgres:// URL with its own `schema`, empty. */
  storage: string;
  seed: number;
  /** SIGKILLs to deliver (a paired round delivers two). */
  kills: number;
  /** Carts to check out (default 2 × kills, at least 12). */
  carts?: number;
  /** Checkouts in flight per process (default 6). */
  concurrency?: number;
  /** Operation lease on PostgreSQL (default 2 s). */
  leaseMs?: number;
  /** Share of carts whose inventory and cartToOrder steps run with runAsync:true (default 0.3). */
  asyncShare?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What a run measured; `problems` lists every violated expectation (empty = pass). */
export interface FaultReport {
  backend: string;
  seed: number;
  kills: number;
  rounds: number;
  carts: number;
  asyncCarts: number;
  /** Kills per mode. */
  byMode: Record<string, number>;
  /** Kills that landed where planned (a calls or commit point the process never reached is killed after 10 s instead). */
  landedAsPlanned: number;
  /** Checkouts a killed process had in flight (a cart counts once per kill). */
  interrupted: number;
  /** Distinct carts interrupted at least once. */
  interruptedCarts: number;
  /** Interrupted carts whose checkout ended complete after a later process resumed it. */
  resumed: number;
  /** Sessions ending in error (IsError with a message). */
  errored: number;
  complete: number;
  /** runCheckout calls that threw in a live process (retried by the next one). */
  runnerFailures: string[];
  /** Operations New or Running as a process started (what its recovery found). */
  recoveredOperations: number;
  /** Operations run more than once (RetryCount > 0): taken over after a kill. */
  retriedOperations: number;
  orders: number;
  duplicates: number;
  lost: number;
  moneyMismatches: number;
  stockMismatches: number;
  openOperations: { new: number; runningExpired: number; runningLive: number };
  /**
   * Sampled at every kill: operations Running past their lease by more than a lease while an engine
   * process had been ready for 2 leases + 3 s (its recovery and lease sweeps had every chance to take
   * them over). Any is a problem.
   */
  staleRunning: number;
  /** Kills at which that sample was taken (the process had been ready long enough). */
  staleSamples: number;
  problems: string[];
  seconds: number;
  /** Median ms from a process's turn (its predecessor dead) to ready: what is left of its module loading, engine open, recovery. */
  openMedianMs: number;
}

/** One engine child process. */
class FaultChild {
  readonly proc: ChildProcess;
  /** Modules loaded; the engine is not open yet. */
  readonly loaded: Promise<void>;
  readonly ready: Promise<number>;
  readonly exited: Promise<void>;
  calls = 0;
  /** performance.now() when it said ready. */
  readyAt: number | null = null;
  stalled = false;
  finished = false;
  readonly inFlight = new Set<string>();
  private waiters: (() => void)[] = [];

  constructor(
    storage: string,
    env: Record<string, string>,
    readonly onMessage: (m: FaultMessage) => void,
  ) {
    this.proc = fork(CHILD_RUN.file, [], {
      execArgv: CHILD_RUN.execArgv,
      env: { ...process.env, FAULT_STORAGE: storage, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.exited = new Promise((r) => this.proc.once('exit', () => r()));
    let loaded!: () => void;
    this.loaded = new Promise((r) => (loaded = r));
    this.ready = new Promise((resolve, reject) => {
      this.proc.once('exit', (code, signal) => reject(new Error(`engine process exited (${code ?? signal}) before it was ready`)));
      this.proc.on('message', (m: FaultMessage) => {
        if (m.type === 'loaded') loaded();
        else if (m.type === 'ready') {
          this.readyAt = performance.now();
          resolve(m.openAtStart);
        } else if (m.type === 'call') this.calls++;
        else if (m.type === 'stalled') this.stalled = true;
        else if (m.type === 'begin') this.inFlight.add(m.cartId);
        else if (m.type === 'done' || m.type === 'failed') this.inFlight.delete(m.cartId);
        else if (m.type === 'finished') this.finished = true;
        this.onMessage(m);
        for (const w of this.waiters.splice(0)) w();
      });
    });
    this.ready.catch(() => {});
  }

  /** Resolves when `cond` holds (checked on every message) or after `ms`; returns whether it held. */
  async until(cond: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), sleep(Math.min(left, 250)), this.exited]);
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) return cond();
    }
    return true;
  }

  /** Lets a loaded process open the engine (and recover); resolves when it is ready. */
  async open(): Promise<number> {
    await Promise.race([this.loaded, this.exited]);
    this.send({ type: 'open' });
    return this.ready;
  }

  send(m: FaultRequest): void {
    if (this.proc.connected) this.proc.send(m);
  }

  /** SIGKILL, and wait until the process is gone; returns how it had ended if it was gone before. */
  async kill(): Promise<string | null> {
    const before =
      this.proc.exitCode !== null || this.proc.signalCode !== null ? `exit ${this.proc.exitCode ?? this.proc.signalCode}` : null;
    this.proc.kill('SIGKILL');
    await this.exited;
    return before;
  }
}

/** Seeds the demo store and `carts` carts (each buying its own products); returns buyer and cart ids. */
export async function seedCarts(engine: CheckoutEngine, carts: number): Promise<{ buyer: string; carts: string[] }> {
  const first = await seedDemoCheckout(engine, { lines: 2, groups: 1 });
  const storage = engine.admin;
  const products = (
    await storage.find('Product2', {
      where: [{ field: 'StockKeepingUnit', op: 'like', value: 'SKU-%' }],
      orderBy: [{ field: 'StockKeepingUnit', direction: 'asc' }],
    })
  ).map((p) => String(p.Id));
  const [store] = await storage.find('WebStore', { where: [{ field: 'Name', op: '=', value: 'Demo B2B Store' }], limit: 1 });
  const [user] = await storage.find('User', { where: [{ field: 'Id', op: '=', value: first.buyerId }] });
  const template = demoFixture({ lines: 2, groups: 1, taxes: false, adjustments: false });
  const ids = [first.cartId];
  const BATCH = 25;
  for (let k0 = 1; k0 < carts; k0 += BATCH) {
    const fixture: Record<string, Record<string, unknown>[]> = { WebCart: [], CartDeliveryGroup: [], CartItem: [] };
    const refs: string[] = [];
    for (let k = k0; k < Math.min(carts, k0 + BATCH); k++) {
      const map: Record<string, string> = { '@buyer': first.buyerId, '@acme': String(user!.AccountId), '@store': String(store!.Id) };
      for (let j = 0; j < 2; j++) map[`@product${j}`] = products[(k * 2 + j) % products.length]!;
      for (const type of ['WebCart', 'CartDeliveryGroup', 'CartItem']) {
        for (const rec of template[type] ?? []) {
          fixture[type]!.push(
            Object.fromEntries(
              Object.entries(rec).map(([f, v]) => {
                if (f === 'DeliveryMethodId') return [f, null];
                if (typeof v !== 'string') return [f, v];
                if (v in map) return [f, map[v]];
                if (/^@?(cart|group\d+|item\d+|charge\d+)$/.test(v)) return [f, `${v}_${k}`];
                return [f, v];
              }),
            ),
          );
        }
      }
      refs.push(`cart_${k}`);
    }
    const h = await engine.seed(fixture);
    for (const r of refs) ids.push(h[r]!);
  }
  return { buyer: first.buyerId, carts: ids };
}

/** Runs the whole schedule and the final clean process, then verifies; see the module comment. */
export async function runFaults(opts: FaultRunOptions): Promise<FaultReport> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const leaseMs = opts.leaseMs ?? 2_000;
  const cartCount = opts.carts ?? Math.max(12, opts.kills * 2);
  const plans = planKills(opts.seed, opts.kills, opts.backend);
  const seeder = await createCheckoutEngine({ storage: opts.storage, worker: false, recover: false });
  const { buyer, carts: cartIds } = await seedCarts(seeder, cartCount);
  await seeder.close();
  const asyncRnd = prng(opts.seed ^ 0x5eed);
  const carts: FaultCart[] = cartIds.map((cartId) => ({ cartId, async: asyncRnd() < (opts.asyncShare ?? 0.3) }));

  const final = new Map<string, string>(); // cart → status its last checkout ended with
  const interruptedCarts = new Set<string>();
  const runnerFailures: string[] = [];
  let interrupted = 0;
  let kills = 0;
  let landed = 0;
  let recoveredOperations = 0;
  const byMode: Record<string, number> = {};
  const onMessage = (m: FaultMessage) => {
    if (m.type === 'done') final.set(m.cartId, m.status);
    else if (m.type === 'failed') {
      final.delete(m.cartId);
      runnerFailures.push(`${m.cartId}: ${m.error}`);
    }
  };
  const env = (extra: Record<string, string> = {}) => ({
    FAULT_LEASE_MS: String(leaseMs),
    FAULT_CONCURRENCY: String(opts.concurrency ?? 6),
    ...extra,
  });
  const unfinished = () => carts.filter((c) => final.get(c.cartId) !== 'complete' && final.get(c.cartId) !== 'error');
  const unexpectedExits: string[] = [];
  const killed = async (child: FaultChild, mode: string) => {
    kills++;
    byMode[mode] = (byMode[mode] ?? 0) + 1;
    const gone = await child.kill();
    if (gone) unexpectedExits.push(`kill ${kills} (${mode}): the engine process had ended by itself (${gone})`);
    interrupted += child.inFlight.size;
    for (const c of child.inFlight) interruptedCarts.add(c);
  };
  const openMs: number[] = [];
  const start = async (child: FaultChild, order: FaultCart[]) => {
    const t = performance.now();
    recoveredOperations += await child.open();
    openMs.push(performance.now() - t);
    child.send({ type: 'work', userId: buyer, carts: order });
  };
  // Each round's processes are forked (modules loaded, engine not open) while earlier rounds work.
  const children: FaultChild[] = [];
  const child = (extra: Record<string, string> = {}) => {
    const c = new FaultChild(opts.storage, env(extra), onMessage);
    children.push(c);
    return c;
  };
  const fork = (plan: KillPlan | undefined) =>
    plan
      ? {
          victim: child(plan.mode === 'inside' || plan.mode === 'before' ? { FAULT_STALL: `${plan.mode}:${plan.commit}` } : {}),
          partner: plan.pair ? child() : undefined,
        }
      : { victim: child(), partner: undefined };
  try {
    return await rounds();
  } finally {
    // Whatever happened, no engine process outlives the run.
    await Promise.all(children.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null).map((c) => c.kill()));
  }

  async function rounds(): Promise<FaultReport> {
    // Between kills: operations left Running past their lease while a process has long been ready.
    const watcher: Storage = await openStorage(opts.storage);
    let staleRunning = 0;
    let staleSamples = 0;
    const staleProblems: string[] = [];
    const sampleLeases = async (child: FaultChild) => {
      if (child.readyAt === null || performance.now() - child.readyAt < 2 * leaseMs + 3_000) return;
      staleSamples++;
      const now = Date.now();
      for (const op of await watcher.find('BackgroundOperation', { where: [{ field: 'Status', op: '=', value: 'Running' }] })) {
        const lease = parseLease(op._leaseUntil);
        if (lease && lease.until < now - leaseMs) {
          staleRunning++;
          staleProblems.push(
            `at kill ${kills + 1}: operation ${String(op.Id)} (${String(op._step)}) Running, lease ended ${now - lease.until} ms ago`,
          );
        }
      }
    };

    // Two rounds ahead: loading a process's modules takes longer than most rounds.
    const ahead = [fork(plans[0]), fork(plans[1])];
    for (const [i, plan] of plans.entries()) {
      const { victim, partner } = ahead.shift()!;
      if (i + 2 <= plans.length) ahead.push(fork(plans[i + 2])); // plans[plans.length] is the clean process
      const todo = unfinished();
      let asPlanned = true;
      try {
        if (plan.mode === 'startup') {
          // Killed while it opens the engine: migration, recovery of the previous process's operations, first calls.
          const opened = Date.now();
          void start(victim, todo).catch(() => {});
          await sleep(Math.max(0, plan.ms! - (Date.now() - opened)));
        } else {
          // The survivor works the same carts from the other end, so the two meet on some of them.
          await Promise.all([start(victim, todo), partner ? start(partner, [...todo].reverse()) : null]);
          const limit = 10_000; // a point never reached (too few calls or commits left) is killed here instead
          if (plan.mode === 'time') await victim.until(() => victim.finished, plan.ms!);
          else if (plan.mode === 'calls') asPlanned = await victim.until(() => victim.calls >= plan.calls!, limit);
          else asPlanned = await victim.until(() => victim.stalled, limit);
        }
      } catch (e) {
        log(`  round ${plan.round + 1}: ${(e as Error).message}`);
        asPlanned = false;
      }
      if (asPlanned) landed++;
      await sampleLeases(victim);
      await killed(victim, plan.mode);
      if (partner) {
        await partner.until(() => partner.finished, plan.pair!.survivorMs);
        await killed(partner, 'pair');
        landed++;
      }
      if ((plan.round + 1) % 10 === 0 || plan.round === plans.length - 1) {
        log(`  ${kills} kills: ${carts.length - unfinished().length}/${carts.length} checkouts ended, ${interrupted} interrupted so far`);
      }
    }

    // A clean process recovers, finishes every checkout and closes.
    const clean = ahead.shift()!.victim;
    const rest = unfinished();
    await start(clean, rest);
    const done = await clean.until(() => clean.finished, 600_000);
    clean.send({ type: 'close' });
    await Promise.race([clean.exited, sleep(30_000)]);
    if (clean.proc.exitCode === null) await clean.kill();
    await watcher.close();

    const reader = await createCheckoutEngine({ storage: opts.storage, worker: false, recover: false });
    try {
      const v = await verifyFaults(reader, cartIds);
      if (!done) v.problems.unshift('the final clean process did not finish its checkouts within 10 minutes');
      if (clean.proc.exitCode !== 0)
        v.problems.unshift(`the final clean process did not close cleanly (exit ${clean.proc.exitCode ?? clean.proc.signalCode})`);
      v.problems.unshift(...unexpectedExits, ...staleProblems);
      const resumed = [...interruptedCarts].filter((c) => v.completeCarts.has(c)).length;
      return {
        backend: opts.backend,
        seed: opts.seed,
        kills,
        rounds: plans.length,
        carts: carts.length,
        asyncCarts: carts.filter((c) => c.async).length,
        byMode,
        landedAsPlanned: landed,
        interrupted,
        interruptedCarts: interruptedCarts.size,
        resumed,
        errored: v.errored,
        complete: v.completeCarts.size,
        runnerFailures,
        recoveredOperations,
        retriedOperations: v.retriedOperations,
        orders: v.orders,
        duplicates: v.duplicates,
        lost: v.lost,
        moneyMismatches: v.moneyMismatches,
        stockMismatches: v.stockMismatches,
        openOperations: v.openOperations,
        staleRunning,
        staleSamples,
        problems: v.problems,
        seconds: Math.round((performance.now() - t0) / 100) / 10,
        openMedianMs: Math.round([...openMs].sort((a, b) => a - b)[Math.floor(openMs.length / 2)] ?? 0),
      };
    } finally {
      await reader.close();
    }
  }
}

/** What `verifyFaults` finds. */
export interface FaultVerification {
  completeCarts: Set<string>;
  errored: number;
  orders: number;
  duplicates: number;
  lost: number;
  moneyMismatches: number;
  stockMismatches: number;
  retriedOperations: number;
  openOperations: { new: number; runningExpired: number; runningLive: number };
  problems: string[];
}

const cents = (v: unknown) => Math.round(Number(v ?? 0) * 100);

/**
 * Reads the rows directly and checks, for the carts of a fault run:
 * - every cart's checkout session is complete, or IsError with a message, or archived with a reason;
 * - no operation is New, none Running (past its lease or not: every process is gone);
 * - Orders: at most one per session (`_sessionId`), none without its session, and every session that
 *   got past cartToOrder has its OrderId, with the Order and all its lines (one OrderItem per
 *   CartItem, a tax line per CartTax, an adjustment line per adjusted line, a delivery group per group);
 * - money: each Order's header equals the sums of its OrderItems, tax and adjustment lines, and the
 *   totals its cart computes (src/scenarios/invariants.ts); each line's tax and adjustment equal its lines';
 * - stock: every ProductInventory reserves exactly what its Held and Ordered reservations hold;
 * - the invariants of src/scenarios/invariants.ts.
 */
export async function verifyFaults(engine: CheckoutEngine, cartIds: string[]): Promise<FaultVerification> {
  const s = engine.admin;
  const problems: string[] = [];
  const out: FaultVerification = {
    completeCarts: new Set(),
    errored: 0,
    orders: 0,
    duplicates: 0,
    lost: 0,
    moneyMismatches: 0,
    stockMismatches: 0,
    retriedOperations: 0,
    openOperations: { new: 0, runningExpired: 0, runningLive: 0 },
    problems,
  };
  const ops = await s.find('BackgroundOperation', {});
  const now = Date.now();
  for (const op of ops) {
    if (Number(op.RetryCount ?? 0) > 0) out.retriedOperations++;
    if (op.Status === 'New') {
      out.openOperations.new++;
      problems.push(`operation ${String(op.Id)} (${String(op._step)}) is still New`);
    } else if (op.Status === 'Running') {
      const lease = parseLease(op._leaseUntil);
      if (!lease || lease.until <= now) out.openOperations.runningExpired++;
      else out.openOperations.runningLive++;
      problems.push(`operation ${String(op.Id)} (${String(op._step)}) is still Running, lease ${String(op._leaseUntil)}`);
    }
  }
  const opsBySession = new Map<string, Row[]>();
  for (const op of ops)
    (opsBySession.get(String(op._sessionId)) ?? opsBySession.set(String(op._sessionId), []).get(String(op._sessionId))!).push(op);

  const orders = await s.find('Order', {});
  out.orders = orders.length;
  const ordersBySession = new Map<string, Row[]>();
  for (const o of orders) {
    const key = String(o._sessionId ?? '');
    (ordersBySession.get(key) ?? ordersBySession.set(key, []).get(key)!).push(o);
  }
  for (const [sessionId, list] of ordersBySession) {
    if (list.length > 1) {
      out.duplicates += list.length - 1;
      problems.push(`session ${sessionId}: ${list.length} orders (${list.map((o) => String(o.Id)).join(', ')})`);
    }
  }

  const cartSet = new Set(cartIds);
  const sessions = (await s.find('CartCheckoutSession', {})).filter((r) => cartSet.has(String(r.WebCartId)));
  const sessionIds = new Set(sessions.map((r) => String(r.Id)));
  for (const o of orders)
    if (!sessionIds.has(String(o._sessionId))) problems.push(`Order ${String(o.Id)} belongs to no checkout session of the run`);
  const byCart = new Map<string, Row[]>();
  for (const r of sessions) (byCart.get(String(r.WebCartId)) ?? byCart.set(String(r.WebCartId), []).get(String(r.WebCartId))!).push(r);

  for (const cartId of cartIds) {
    const list = byCart.get(cartId) ?? [];
    if (list.length === 0) {
      problems.push(`cart ${cartId}: no checkout session`);
      continue;
    }
    for (const row of list) {
      const id = String(row.Id);
      const { flow } = engine.core.flow(row._flow as string);
      const keys = flow.def.steps.map((st) => st.key);
      const c2o = flow.byAction.get('cartToOrderAction')?.key ?? 'cartToOrder';
      const finalKey = flow.def.steps.find((st) => st.kind === 'final')?.key;
      const sessionOps = opsBySession.get(id) ?? [];
      if (row.IsArchived === true) {
        const history = await engine.getHistory(id);
        const last = [...history].reverse().find((h) => h.accepted);
        if (!last) problems.push(`session ${id}: archived with no recorded reason`);
      } else if (row.IsError === true) {
        out.errored++;
        const op = row.BackgroundOperationId ? sessionOps.find((o) => o.Id === row.BackgroundOperationId) : undefined;
        const cvos = row.BackgroundOperationId
          ? await s.count('CartValidationOutput', [{ field: 'BackgroundOperationId', op: '=', value: row.BackgroundOperationId }])
          : 0;
        if (!op?.Error && cvos === 0) problems.push(`session ${id}: IsError without a message`);
      } else if (row.State === finalKey) {
        out.completeCarts.add(cartId);
      } else {
        problems.push(
          `session ${id} (cart ${cartId}) ended neither complete nor in error: State ${String(row.State)}, NextState ${String(row.NextState)}, IsProcessing ${String(row.IsProcessing)}`,
        );
      }
      // Past cartToOrder: its operation completed, or the State lies after the step.
      const converted =
        sessionOps.some((o) => o._step === c2o && o.Status === 'Complete') || keys.indexOf(String(row.State)) > keys.indexOf(c2o);
      const mine = ordersBySession.get(id) ?? [];
      if (!converted) {
        if (mine.length) problems.push(`session ${id}: has an Order but never completed cartToOrder`);
        continue;
      }
      const order = row.OrderId ? mine.find((o) => o.Id === row.OrderId) : undefined;
      if (!order) {
        out.lost++;
        problems.push(
          `session ${id}: past cartToOrder but ${row.OrderId ? `its Order ${String(row.OrderId)} is missing` : 'has no OrderId'}`,
        );
        continue;
      }
      const money = await orderProblems(engine, order, cartId);
      if (money.length) {
        out.moneyMismatches++;
        problems.push(...money);
      }
      if (row.State === finalKey && (await s.count('OrderSummary', [{ field: 'OriginalOrderId', op: '=', value: order.Id }])) !== 1) {
        problems.push(`Order ${String(order.Id)}: a complete checkout's order has no single OrderSummary`);
      }
    }
  }

  // Stock: what each inventory row reserves is what its live reservations hold.
  const held = new Map<string, number>();
  for (const r of await s.find('ProductReservation', { where: [{ field: 'Status', op: 'in', value: ['Held', 'Ordered'] }] })) {
    held.set(String(r.ProductInventoryId), (held.get(String(r.ProductInventoryId)) ?? 0) + Number(r.Quantity ?? 0));
  }
  for (const inv of await s.find('ProductInventory', {})) {
    if (Number(inv.QuantityReserved ?? 0) !== (held.get(String(inv.Id)) ?? 0)) {
      out.stockMismatches++;
      problems.push(
        `ProductInventory ${String(inv.Id)}: QuantityReserved ${String(inv.QuantityReserved)} but reservations hold ${held.get(String(inv.Id)) ?? 0}`,
      );
    }
  }
  problems.push(...(await checkInvariants(engine)));
  return out;
}

/** An Order's money against its own lines and against its cart; empty when everything adds up. */
async function orderProblems(engine: CheckoutEngine, order: Row, cartId: string): Promise<string[]> {
  const s = engine.admin;
  const oid = String(order.Id);
  const byOrder = [{ field: 'OrderId', op: '=' as const, value: oid }];
  const byCart = [{ field: 'CartId', op: '=' as const, value: cartId }];
  const [items, taxes, adjustments, groups] = [
    await s.find('OrderItem', { where: byOrder }),
    await s.find('OrderItemTaxLineItem', { where: byOrder }),
    await s.find('OrderItemAdjustmentLineItem', { where: byOrder }),
    await s.count('OrderDeliveryGroup', byOrder),
  ];
  const [cartItems, cartTaxes, cartGroups] = [
    await s.find('CartItem', { where: byCart }),
    await s.count('CartTax', byCart),
    await s.count('CartDeliveryGroup', byCart),
  ];
  const problems: string[] = [];
  const expectCount = (what: string, got: number, want: number) =>
    got !== want && problems.push(`Order ${oid}: ${got} ${what}, its cart has ${want}`);
  expectCount('OrderItems', items.length, cartItems.length);
  expectCount('tax lines', taxes.length, cartTaxes);
  expectCount('adjustment lines', adjustments.length, cartItems.filter((i) => cents(i.AdjustmentAmount) !== 0).length);
  expectCount('delivery groups', groups, cartGroups);
  const lineSum = (rows: Row[], itemId: string) => sumMoney(rows.filter((r) => r.OrderItemId === itemId).map((r) => Number(r.Amount ?? 0)));
  for (const i of items) {
    if (cents(lineSum(taxes, String(i.Id))) !== cents(i.TotalTaxAmount))
      problems.push(
        `OrderItem ${String(i.Id)}: TotalTaxAmount ${String(i.TotalTaxAmount)} but its tax lines sum to ${lineSum(taxes, String(i.Id))}`,
      );
    if (cents(lineSum(adjustments, String(i.Id))) !== cents(i.TotalAdjustmentAmount))
      problems.push(
        `OrderItem ${String(i.Id)}: TotalAdjustmentAmount ${String(i.TotalAdjustmentAmount)} but its adjustment lines sum to ${lineSum(adjustments, String(i.Id))}`,
      );
  }
  const adjusted = (type: string) =>
    sumMoney(
      items.filter((i) => i.Type === type).map((i) => addMoney(Number(i.TotalLineAmount ?? 0), Number(i.TotalAdjustmentAmount ?? 0))),
    );
  const product = adjusted('Order Product');
  const delivery = adjusted('Delivery Charge');
  const tax = sumMoney(taxes.map((t) => Number(t.Amount ?? 0)));
  const want: [string, number][] = [
    ['TotalAdjustedProductAmount', product],
    ['TotalAdjustedDeliveryAmount', delivery],
    ['TotalAmount', addMoney(product, delivery)],
    ['TotalTaxAmount', tax],
    ['GrandTotalAmount', addMoney(product, delivery, tax)],
  ];
  for (const [f, v] of want)
    if (cents(order[f]) !== cents(v)) problems.push(`Order ${oid}: ${f} ${String(order[f])} but its lines sum to ${v}`);
  const vsCart = await orderTotalsProblem(engine, order, cartId);
  if (vsCart) problems.push(vsCart);
  return problems;
}

/** The report as printable lines. */
export function formatReport(r: FaultReport): string[] {
  const modes = Object.entries(r.byMode)
    .map(([m, n]) => `${n} ${m}`)
    .join(', ');
  return [
    `backend ${r.backend}, seed ${r.seed}: ${r.kills} SIGKILLs in ${r.rounds} rounds (${modes}); ${r.landedAsPlanned} landed where planned`,
    `checkouts: ${r.carts} (${r.asyncCarts} with runAsync:true steps); ${r.complete} complete, ${r.errored} errored; ${r.interrupted} in flight at a kill (${r.interruptedCarts} carts), ${r.resumed} of those carts resumed to complete`,
    `operations: ${r.recoveredOperations} found New/Running by a starting process, ${r.retriedOperations} run more than once; open at the end: ${r.openOperations.new} New, ${r.openOperations.runningExpired} Running past lease, ${r.openOperations.runningLive} Running in lease; Running over a lease past its lease at a kill: ${r.staleRunning} (${r.staleSamples} kills sampled)`,
    `orders: ${r.orders}; duplicates ${r.duplicates}, lost ${r.lost}, money mismatches ${r.moneyMismatches}, stock mismatches ${r.stockMismatches}`,
    `runner failures in live processes (retried): ${r.runnerFailures.length}${r.runnerFailures.length ? ` — e.g. ${r.runnerFailures.slice(0, 3).join(' | ')}` : ''}`,
    `problems: ${r.problems.length}${r.problems.length ? `\n    ${r.problems.slice(0, 20).join('\n    ')}` : ''}`,
    `time: ${r.seconds} s (median ${r.openMedianMs} ms from a process's turn to its ready: rest of module loading, engine open, recovery)`,
  ];
}
