/**
 * Whole checkout vs its floor on SQLite (issue 22, item 1): `engine.runCheckout` over the default
 * flow beside bench/checkout-floor.ts, the same call-by-call protocol done with prepared
 * better-sqlite3 statements and the engine's pure domain code (one transaction per call).
 *
 * K demo carts (2 lines, 1 delivery group; the demo buyer, a PO number as the payment answer) are
 * seeded into one SQLite file (WAL), which is copied: the engine runs on one copy, the floor on the
 * other, one checkout at a time, alternating cart by cart (engine first on even carts, floor first
 * on odd ones) so a shared machine's load hits both alike. The first carts of each side are warm-up
 * and dropped. After the run every cart's outcome on both sides (order, its items, taxes and
 * adjustments, order summary, cart totals and status, session state, history rows, operations,
 * converted holds) must be equal, or the section fails. Target: engine p50 ÷ floor p50 ≤ 2.
 *
 * Carts: 200 timed (quick: 30; BENCH_CHECKOUT_CARTS=N overrides) after 60 untimed warm-up carts of
 * each side (quick: 3; BENCH_CHECKOUT_WARMUP=N). Run alone:
 *   npx tsx bench/checkout.ts [--quick]   (bench/run.ts runs it as the `checkout` section)
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCheckoutEngine } from '../src/engine/engine.js';
import { seedDemoCheckout } from '../src/demo/run-demo.js';
import { CheckoutFloor, checkoutOutcome } from './checkout-floor.js';
import {
  fx,
  inTurns,
  isMain,
  machine,
  machineLine,
  mark,
  mdTable,
  pct,
  type Check,
  type SectionOptions,
  type SectionResult,
} from './lib.js';

const TARGET = 2;

/** Called around the timed loop only (bench/profile.ts profiles just that part). */
export interface Around {
  start(): Promise<void>;
  stop(): Promise<void>;
}
const PO = 'PO-BENCH';

/** Seeds `count` demo carts in a new file and copies it for the floor. */
async function prepare(count: number): Promise<{ dir: string; engineFile: string; floorFile: string; carts: string[]; buyer: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-checkout-'));
  const engineFile = join(dir, 'engine.db');
  const engine = await createCheckoutEngine({ storage: engineFile, worker: false, recover: false });
  const carts: string[] = [];
  let buyer = '';
  for (let i = 0; i < count; i++) {
    const c = await seedDemoCheckout(engine, { lines: 2, groups: 1 });
    carts.push(c.cartId);
    buyer = c.buyerId;
  }
  await engine.close();
  const floorFile = join(dir, 'floor.db');
  copyFileSync(engineFile, floorFile);
  return { dir, engineFile, floorFile, carts, buyer };
}

/** Both sides' times per checkout (ms), and the floor's statement and transaction counts. */
export async function timeCheckouts(
  count: number,
  sides: { engine: boolean; floor: boolean } = { engine: true, floor: true },
  around?: Around,
): Promise<{
  engine: number[];
  floor: number[];
  floorStatements: number;
  floorTransactions: number;
  mismatches: string[];
}> {
  const p = await prepare(count);
  try {
    const engine = await createCheckoutEngine({ storage: p.engineFile });
    const floor = new CheckoutFloor(p.floorFile);
    const out = { engine: [] as number[], floor: [] as number[] };
    const runEngine = async (cartId: string) => {
      if (!sides.engine) return;
      const t0 = performance.now();
      const run = await engine.runCheckout(cartId, { userId: p.buyer, answers: { poNumber: PO } });
      out.engine.push(performance.now() - t0);
      if (run.status !== 'complete') throw new Error(`engine checkout of ${cartId} ended ${run.status}: ${run.errors.join('; ')}`);
    };
    const runFloor = async (cartId: string) => {
      if (!sides.floor) return;
      const t0 = performance.now();
      await floor.checkout(cartId, p.buyer, PO);
      out.floor.push(performance.now() - t0);
    };
    try {
      await around?.start();
      for (const [i, cartId] of p.carts.entries()) {
        await inTurns(
          i,
          () => runEngine(cartId),
          () => runFloor(cartId),
        );
      }
      await around?.stop();
    } finally {
      await engine.close();
    }
    const floorStatements = floor.statements / count;
    const floorTransactions = floor.transactions / count;
    floor.close();
    const a = new Database(p.engineFile, { readonly: true });
    const b = new Database(p.floorFile, { readonly: true });
    const mismatches: string[] = [];
    try {
      for (const cartId of sides.engine && sides.floor ? p.carts : []) {
        const e = JSON.stringify(checkoutOutcome(a, cartId));
        const f = JSON.stringify(checkoutOutcome(b, cartId));
        if (e !== f) mismatches.push(`cart ${cartId}:\n  engine ${e}\n  floor  ${f}`);
      }
    } finally {
      a.close();
      b.close();
    }
    return { ...out, floorStatements, floorTransactions, mismatches };
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
}

/** The section: whole checkouts through the engine vs the floor. */
export async function benchCheckout(opts: SectionOptions): Promise<SectionResult> {
  const timed = Number(process.env.BENCH_CHECKOUT_CARTS ?? (opts.quick ? 30 : 200));
  // Untimed warm-up checkouts of each side first (their carts are seeded and compared like the others).
  const warm = Number(process.env.BENCH_CHECKOUT_WARMUP ?? (opts.quick ? 3 : 60));
  const count = timed + warm;
  const r = await timeCheckouts(count);
  if (r.mismatches.length)
    throw new Error(`the floor did not leave what the engine left (${r.mismatches.length} carts):\n${r.mismatches.slice(0, 2).join('\n')}`);
  const e = r.engine.slice(warm);
  const f = r.floor.slice(warm);
  const ratio = pct(e, 50) / pct(f, 50);
  opts.log(`  whole checkout: engine p50 ${fx(pct(e, 50), 2)} ms, floor p50 ${fx(pct(f, 50), 2)} ms, ratio ${fx(ratio, 2)}`);
  const text = mdTable(
    [
      'checkouts',
      'engine p50 ms',
      'engine p99 ms',
      'floor p50 ms',
      'floor p99 ms',
      'floor statements',
      'floor transactions',
      'engine ÷ floor p50',
      'target',
      '',
    ],
    [
      [
        String(e.length),
        fx(pct(e, 50), 2),
        fx(pct(e, 99), 2),
        fx(pct(f, 50), 2),
        fx(pct(f, 99), 2),
        fx(r.floorStatements, 0),
        fx(r.floorTransactions, 0),
        fx(ratio, 2),
        `≤ ${TARGET}`,
        mark(ratio <= TARGET),
      ],
    ],
  );
  const checks: Check[] = [
    { what: 'whole checkout (SQLite): engine ÷ floor (p50)', value: ratio, target: `≤ ${TARGET}`, ok: ratio <= TARGET },
  ];
  return {
    text: `${text}\n\nBoth sides left the same rows for all ${count} carts (order, items, taxes, adjustments, summary, cart totals and status, session, history rows, operations, holds).`,
    checks,
    data: { count, warm, engine: e, floor: f, ratio, floorStatements: r.floorStatements, floorTransactions: r.floorTransactions },
  };
}

if (isMain(import.meta.url)) {
  console.log(`machine: ${machineLine(machine())}`);
  const r = await benchCheckout({ quick: process.argv.includes('--quick'), log: (l) => console.log(l) });
  console.log(`\nWhole checkout vs its floor (SQLite)\n${r.text}`);
}
