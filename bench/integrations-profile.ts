/**
 * Where a default checkout spends its time in the integration steps (issue 12): N default
 * checkouts (`engine.runCheckout`, the default flow end to end) of carts with L product lines on a
 * SQLite file, each cart seeded fresh before its run. Prints, per async step, the wall time from
 * the run's trajectory (p50 / mean / total) and the storage calls per checkout (every call of the
 * Storage port, in and out of transactions, counted by a wrapper around the engine's storage).
 * And, per calculator step, the process CPU time (user + system) and the storage calls of its
 * StepService's `compute` (the integration, outside the transaction) and `commit` (the writes,
 * inside it), measured by wrapping the engine's step services: checkouts run one at a time, so
 * nothing else runs in the process meanwhile, and on a loaded machine CPU time varies less than
 * wall time.
 *
 * Profile it:   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/integrations-profile.ts [--runs 200] [--lines 50]
 * Summarize:    npx tsx bench/integrations-profile.ts --summarize /tmp/prof/<file>.cpuprofile
 *   (top self-time functions, and the CPU time of samples with a frame in src/integrations/ or
 *   the cart roll-up, src/engine/cart.ts, on their stack).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCheckoutEngine } from '../src/index.js';
import { seedDemoCheckout } from '../src/demo/run-demo.js';
import { openStorage } from '../src/storage/index.js';
import type { Storage, StorageOps } from '../src/storage/port.js';

const CALCULATORS = ['inventory', 'confirmPrice', 'calculatePromotions', 'shippingCost', 'taxes'] as const;

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Prints the top self-time functions of a .cpuprofile and the time under the integration code. */
function summarize(file: string): void {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  let total = 0;
  let integrations = 0;
  let rollUp = 0;
  const short = (url: string) => url.replace(/^file:\/\/.*?\/(src|node_modules|bench)\//, '$1/');
  prof.samples.forEach((id, i) => {
    const us = prof.timeDeltas[i] ?? 0;
    total += us;
    const n = byId.get(id)!;
    const key = `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + us);
    let inIntegrations = false;
    let inRollUp = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const url = byId.get(at)!.callFrame.url;
      if (url.includes('/src/integrations/')) inIntegrations = true;
      if (url.includes('/src/engine/cart.ts')) inRollUp = true;
    }
    if (inIntegrations) integrations += us;
    if (inRollUp) rollUp += us;
  });
  const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
  console.log(`profile ${file}: ${ms(total)} ms sampled`);
  console.log(`  samples with src/integrations/ on the stack: ${ms(integrations)} ms (${((100 * integrations) / total).toFixed(1)}%)`);
  console.log(`  samples with src/engine/cart.ts on the stack: ${ms(rollUp)} ms (${((100 * rollUp) / total).toFixed(1)}%)`);
  console.log('  top self time:');
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`  ${ms(us)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
}

/** The engine's storage with every port call counted (transactions' calls included). */
function counted(storage: Storage, counter: { calls: number }): Storage {
  const wrapOps = <T extends StorageOps>(ops: T): T =>
    new Proxy(ops, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        if (prop === 'transaction')
          return (fn: (tx: StorageOps) => Promise<unknown>) => (target as unknown as Storage).transaction((tx) => fn(wrapOps(tx)));
        if (['migrate', 'close'].includes(String(prop))) return v.bind(target);
        return (...a: unknown[]) => {
          counter.calls++;
          return v.apply(target, a);
        };
      },
    });
  return wrapOps(storage);
}

async function main(): Promise<void> {
  const runs = arg('runs', 200);
  const lines = arg('lines', 50);
  const dir = mkdtempSync(join(tmpdir(), 'bench-integrations-'));
  const counter = { calls: 0 };
  const storage = await openStorage(join(dir, 'engine.db'));
  const engine = await createCheckoutEngine({ storage: counted(storage, counter), onError: () => {} });
  const steps = new Map<string, number[]>();
  const cpu = new Map<string, { compute: number; commit: number; calls: number }[]>();
  // The calculator steps' services, wrapped: CPU time and storage calls of compute and commit.
  const ACTIONS: Record<string, (typeof CALCULATORS)[number]> = {
    checkCartInventoryAction: 'inventory',
    priceCart: 'confirmPrice',
    calcCartPromotionsAction: 'calculatePromotions',
    calcCartShipmentAction: 'shippingCost',
    calcCartTaxesAction: 'taxes',
  };
  let current: { compute: number; commit: number; calls: number } | undefined;
  const ms = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
  for (const [action, state] of Object.entries(ACTIONS)) {
    const service = engine.core.steps.get(action);
    if (!service) throw new Error(`no step service for ${action}`);
    engine.core.steps.set(action, {
      async compute(ctx) {
        current = { compute: 0, commit: 0, calls: 0 };
        (cpu.get(state) ?? cpu.set(state, []).get(state)!).push(current);
        const c0 = process.cpuUsage();
        const n0 = counter.calls;
        try {
          return await service.compute?.(ctx);
        } finally {
          current.compute += ms(process.cpuUsage(c0));
          current.calls += counter.calls - n0;
        }
      },
      async commit(ctx, tx, computed) {
        const c0 = process.cpuUsage();
        const n0 = counter.calls;
        try {
          return await service.commit(ctx, tx, computed);
        } finally {
          if (current) {
            current.commit += ms(process.cpuUsage(c0));
            current.calls += counter.calls - n0;
          }
        }
      },
    });
  }
  const calls: number[] = [];
  const seen = new Set<string>();
  /** An async step's wall time, once per operation (a run continued with stopAt lists where it resumed from). */
  const record = (t: { kind: string; state: string; durationMs: number; operationId: string | null }) => {
    if (t.kind !== 'async' || !t.operationId || seen.has(t.operationId)) return;
    seen.add(t.operationId);
    (steps.get(t.state) ?? steps.set(t.state, []).get(t.state)!).push(t.durationMs);
  };
  let errors = 0;
  const t0 = performance.now();
  try {
    for (let i = 0; i < runs; i++) {
      const { buyerId, cartId } = await seedDemoCheckout(engine, { lines, groups: 2 });
      const before = counter.calls;
      const answers = { poNumber: `PO-${i}` };
      const run = await engine.runCheckout(cartId, { userId: buyerId, answers });
      calls.push(counter.calls - before);
      if (run.status !== 'complete') {
        errors++;
        if (errors === 1) console.error(`run ${i}: ${run.status} in ${run.state}: ${run.errors.join(' | ')}`);
      }
      for (const t of run.trajectory) record(t);
    }
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  console.log(
    `${runs} default checkouts of ${lines}-line carts (2 delivery groups) on a SQLite file; ${errors} not complete; ${((performance.now() - t0) / 1000).toFixed(1)} s in all (seeding included)`,
  );
  console.log(`storage calls per checkout: p50 ${p50(calls)}, mean ${(sum(calls) / calls.length).toFixed(1)}`);
  console.log('step                     p50 ms   mean ms   total ms');
  let all = 0;
  for (const [state, xs] of steps) {
    all += CALCULATORS.includes(state as never) ? sum(xs) : 0;
    console.log(
      `${state.padEnd(22)} ${p50(xs).toFixed(2).padStart(8)} ${(sum(xs) / xs.length).toFixed(2).padStart(9)} ${sum(xs).toFixed(0).padStart(10)}`,
    );
  }
  console.log(`integration steps (inventory, price, promotions, shipping, taxes) in all: ${all.toFixed(0)} ms (wall)`);
  console.log('CPU of the calculator steps (StepService compute + commit):');
  console.log('step                   compute p50  commit p50   total p50   total ms   storage calls');
  let cpuAll = 0;
  for (const state of CALCULATORS) {
    const xs = cpu.get(state) ?? [];
    const total = xs.map((x) => x.compute + x.commit);
    cpuAll += sum(total);
    console.log(
      `${state.padEnd(22)} ${p50(xs.map((x) => x.compute))
        .toFixed(2)
        .padStart(11)} ${p50(xs.map((x) => x.commit))
        .toFixed(2)
        .padStart(
          11,
        )} ${p50(total).toFixed(2).padStart(11)} ${sum(total).toFixed(0).padStart(10)} ${String(p50(xs.map((x) => x.calls))).padStart(15)}`,
    );
  }
  console.log(`calculator steps in all: ${cpuAll.toFixed(0)} ms CPU`);
}

const s = process.argv.indexOf('--summarize');
if (s >= 0) summarize(process.argv[s + 1]!);
else await main();
