/**
 * Whole checkouts per second (issue 12, item 2): `engine.runCheckout` over the default flow, every
 * step persisted — start → inventory → price → promotions → shipping → delivery method → taxes →
 * payment/billing → summary → cartToOrder → authorizePayment → activateOrder → confirmation — on
 * SQLite (file, WAL) with 1 engine process and on PostgreSQL with 1, 2 and 3 engine OS processes
 * sharing one database.
 * Every configuration runs the same number of carts; each engine process is a real child process
 * (bench/checkout-child.ts) with `CONCURRENCY` checkouts in flight. Each process first runs
 * `WARM_UP` checkouts of its own (not timed: a fresh process compiles the engine's hot paths on
 * its first checkouts, and more processes would otherwise pay that more often). cartToOrder
 * latency is the runner's measured time for that step (claim + cartToOrderAction + wait for its
 * operation); node CPU is the engine processes' CPU time (user + system) over the timed part,
 * per checkout (the database server's is not in it).
 *
 * With `--rounds N` every configuration runs N times, the configurations taking turns (so a busy
 * spell of the machine hits them alike), and each row is the run with the median checkouts/s.
 *
 * SQLite is one engine process per file (docs/postgresql.md), so SQLite × 3 runs only with
 * --sqlite-multi. Run alone: npx tsx bench/scale.ts [--quick] [--carts N] [--rounds N] [--sqlite-multi] [--pg-processes 1,2]   (bench/run.ts runs it as a section)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createCheckoutEngine } from '../src/engine/engine.js';
import { seedCarts } from './carts.js';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CheckoutReply, CheckoutRequest } from './checkout-child.js';
import { PG_URL } from '../test/helpers/backends.js';
import { fx, isMain, machine, machineLine, mdTable, mark, pct, type Check, type SectionOptions, type SectionResult } from './lib.js';

const CONCURRENCY = 6;
/** Checkouts each engine process runs before the timed part (one round of CONCURRENCY in flight). */
const WARM_UP = CONCURRENCY;
const CUT_OFF = 'not finished';
const LINES = 2;
const PG_BASE = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? PG_URL;

/** One configuration's result. */
export interface ScaleRow {
  backend: 'SQLite (file, WAL)' | 'PostgreSQL';
  processes: number;
  checkouts: number;
  failed: number;
  /** Checkouts not finished when the configuration's deadline stopped it (not counted as failed). */
  cutOff: number;
  /** Why checkouts failed: message → count. */
  failures: Record<string, number>;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** The engine processes' CPU time over the timed part, per finished checkout (ms). */
  cpuMsPerCheckout: number;
  /** checkouts/s of every run of this configuration (--rounds), in run order. */
  runs: number[];
}

const CHILD = fileURLToPath(new URL('./checkout-child.ts', import.meta.url));

/** One engine OS process (bench/checkout-child.ts) running whole checkouts. */
class CheckoutProcess {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, (r: Extract<CheckoutReply, { type: 'done' }>) => void>();
  private cpuWaiting: ((ms: number) => void)[] = [];
  private exited = false;
  /** Why the process was killed (the reason its unfinished checkouts are reported with). */
  private killedBecause: string | null = null;
  readonly ready: Promise<void>;
  engineErrors = 0;

  constructor(
    storage: string,
    readonly name: string,
  ) {
    this.child = fork(CHILD, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BENCH_STORAGE: storage, BENCH_CONCURRENCY: String(CONCURRENCY) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
      this.child.on('message', (m: CheckoutReply) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'closed') this.engineErrors = m.engineErrors;
        else if (m.type === 'cpu') this.cpuWaiting.shift()?.(m.ms);
        else {
          this.waiting.get(m.id)?.(m);
          this.waiting.delete(m.id);
        }
      });
    });
    this.child.on('exit', () => {
      this.exited = true;
      for (const w of this.waiting.values())
        w({
          type: 'done',
          id: 0,
          status: this.killedBecause ?? 'process died',
          errors: this.killedBecause ? [] : [`${name} died`],
          cartToOrderMs: null,
        });
      this.waiting.clear();
    });
  }

  /** Runs engine.runCheckout in the process. */
  checkout(cartId: string, userId: string): Promise<Extract<CheckoutReply, { type: 'done' }>> {
    if (this.exited)
      return Promise.resolve({
        type: 'done',
        id: 0,
        status: this.killedBecause ?? 'process died',
        errors: this.killedBecause ? [] : [`${this.name} is dead`],
        cartToOrderMs: null,
      });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ type: 'checkout', id, cartId, userId } satisfies CheckoutRequest);
    });
  }

  /** The CPU time the process has used so far (ms); NaN once it has exited. */
  cpu(): Promise<number> {
    if (this.exited) return Promise.resolve(NaN);
    return new Promise((resolve) => {
      this.cpuWaiting.push(resolve);
      this.child.send({ type: 'cpu' } satisfies CheckoutRequest);
    });
  }

  /** kill -9 (a configuration that ran past its deadline); unfinished checkouts report `because`. */
  kill(because: string): void {
    this.killedBecause = because;
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** Closes the engine and waits for the process to exit (kills it after 15 s). */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ type: 'close' } satisfies CheckoutRequest);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

async function measure(
  label: ScaleRow['backend'],
  storage: string,
  processes: number,
  count: number,
  deadlineMs: number,
  cleanup: () => Promise<void>,
): Promise<ScaleRow> {
  // Seed (not timed): the demo store, catalog, price book and stock once, then one cart per checkout.
  const seeder = await createCheckoutEngine({ storage, worker: false, recover: false });
  // The timed carts, then each process's warm-up carts.
  const { buyerId: buyer, carts } = await seedCarts(seeder, LINES, count + processes * WARM_UP);
  await seeder.close();

  const warmCarts = carts.splice(count);
  const procs = Array.from({ length: processes }, (_, i) => new CheckoutProcess(storage, `${label}#${i + 1}`));
  try {
    await Promise.all(procs.map((p) => p.ready));
    // Warm-up (not timed): each process its own WARM_UP checkouts, all in flight at once.
    await Promise.all(
      procs.map((p, i) => Promise.all(warmCarts.slice(i * WARM_UP, (i + 1) * WARM_UP).map((cartId) => p.checkout(cartId, buyer)))),
    );
    // Each process works off its share of the carts with CONCURRENCY checkouts in flight.
    const shares = procs.map((_, i) => carts.filter((_, j) => j % processes === i));
    const cpuBefore = await Promise.all(procs.map((p) => p.cpu()));
    const latencies: number[] = [];
    const failures = new Map<string, number>();
    let failed = 0;
    let cutOff = 0;
    const t0 = performance.now();
    // A configuration that runs past its deadline is stopped: its processes are killed and the
    // checkouts still in flight or not started count as failed ("process died").
    const deadline = setTimeout(() => {
      for (const p of procs) p.kill(`${CUT_OFF} within the ${deadlineMs / 1000} s deadline`);
    }, deadlineMs);
    await Promise.all(
      procs.map(async (p, i) => {
        const mine = shares[i]!;
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < mine.length) {
              const cartId = mine[next++]!;
              const run = await p.checkout(cartId, buyer);
              if (run.status.startsWith(CUT_OFF)) cutOff++;
              else if (run.status !== 'complete') {
                failed++;
                const why = run.errors.length ? `${run.status}: ${run.errors.join('; ').slice(0, 200)}` : run.status;
                failures.set(why, (failures.get(why) ?? 0) + 1);
              }
              if (run.cartToOrderMs !== null) latencies.push(run.cartToOrderMs);
            }
          }),
        );
      }),
    );
    clearTimeout(deadline);
    const seconds = (performance.now() - t0) / 1000;
    const cpuAfter = await Promise.all(procs.map((p) => p.cpu()));
    const cpuMs = cpuAfter.reduce((sum, ms, i) => sum + ms - cpuBefore[i]!, 0);
    const done = count - failed - cutOff;
    return {
      backend: label,
      processes,
      checkouts: done,
      failed,
      cutOff,
      failures: Object.fromEntries(failures),
      seconds,
      perSecond: done / seconds,
      p50: pct(latencies, 50),
      p99: pct(latencies, 99),
      cpuMsPerCheckout: done > 0 ? cpuMs / done : NaN,
      runs: [done / seconds],
    };
  } finally {
    await Promise.allSettled(procs.map((p) => p.close()));
    await cleanup();
  }
}

async function pgSchema(tag: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `bench_scale_${process.pid}_${tag}`;
  const drop = async () => {
    const c = new pg.Client({ connectionString: PG_BASE });
    await c.connect();
    try {
      await c.query(`drop schema if exists "${schema}" cascade`);
      await c.query(`drop schema if exists "${schema}_pgboss" cascade`);
    } finally {
      await c.end();
    }
  };
  await drop();
  return { url: `${PG_BASE}${PG_BASE.includes('?') ? '&' : '?'}schema=${schema}`, drop };
}

function report(r: ScaleRow, log: (line: string) => void): void {
  log(
    `  ${r.backend} × ${r.processes}: ${fx(r.perSecond)} checkouts/s, ${r.failed} failed${r.cutOff ? `, ${r.cutOff} cut off by the deadline` : ''}`,
  );
  for (const [why, n] of Object.entries(r.failures)) log(`    ${n}× ${why}`);
}

/** The run with the median checkouts/s of one configuration's runs, carrying every run's rate. */
function medianRun(runs: ScaleRow[]): ScaleRow {
  const sorted = [...runs].sort((a, b) => a.perSecond - b.perSecond);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)]!, runs: runs.map((r) => r.perSecond) };
}

/**
 * Runs SQLite with 1 engine process and PostgreSQL with 1, 2 and 3 (`sqliteOnly`: SQLite alone, for
 * the peer comparison), `rounds` times each, taking turns.
 */
export async function benchScale(
  opts: SectionOptions & { carts?: number; rounds?: number; sqliteMulti?: boolean; sqliteOnly?: boolean; pgProcesses?: readonly number[] },
): Promise<SectionResult> {
  const carts = opts.carts ?? (opts.quick ? 24 : 120);
  const rounds = Math.max(1, opts.rounds ?? 1);
  const deadlineMs = opts.quick ? 60_000 : 120_000;
  // One engine process per SQLite file (docs/postgresql.md: the in-process queue has no leases);
  // SQLite × 3 runs only with --sqlite-multi, to show what happens.
  const configs: { backend: ScaleRow['backend']; processes: number }[] = [
    ...(opts.sqliteMulti ? [1, 3] : [1]).map((processes) => ({ backend: 'SQLite (file, WAL)' as const, processes })),
    ...(opts.sqliteOnly ? [] : (opts.pgProcesses ?? [1, 2, 3])).map((processes) => ({ backend: 'PostgreSQL' as const, processes })),
  ];
  const runs: ScaleRow[][] = configs.map(() => []);
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) opts.log(`  round ${round} of ${rounds}`);
    for (const [i, c] of configs.entries()) {
      let row: ScaleRow;
      if (c.backend === 'PostgreSQL') {
        const { url, drop } = await pgSchema(`p${c.processes}`);
        row = await measure('PostgreSQL', url, c.processes, carts, deadlineMs, drop);
      } else {
        const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
        row = await measure(c.backend, join(dir, 'engine.db'), c.processes, carts, deadlineMs, async () =>
          rmSync(dir, { recursive: true, force: true }),
        );
      }
      runs[i]!.push(row);
      report(row, opts.log);
    }
  }
  const rows = runs.map(medianRun);
  const sqlite1 = rows[0]!;
  const pg = (n: number) => rows.find((r) => r.backend === 'PostgreSQL' && r.processes === n);
  const rowsText = mdTable(
    [
      'backend',
      'processes',
      'checkouts',
      'failed',
      'cut off',
      'seconds',
      'checkouts/s',
      '× SQLite 1 proc',
      'node CPU ms / checkout',
      'cartToOrder p50 ms',
      'cartToOrder p99 ms',
      'no failures',
      ...(rounds > 1 ? ['every run, checkouts/s'] : []),
    ],
    rows.map((r) => [
      r.backend,
      String(r.processes),
      String(r.checkouts),
      String(r.failed),
      String(r.cutOff),
      fx(r.seconds),
      fx(r.perSecond),
      fx(r.perSecond / sqlite1.perSecond, 2),
      fx(r.cpuMsPerCheckout),
      fx(r.p50),
      fx(r.p99),
      mark(r.failed === 0),
      ...(rounds > 1 ? [r.runs.map((x) => fx(x)).join(' / ')] : []),
    ]),
  );
  const text = opts.sqliteMulti
    ? rowsText
    : `${rowsText}\n\nSQLite × 3 processes: not run — one engine process per SQLite file (docs/postgresql.md); \`--sqlite-multi\` runs it anyway.`;
  const checks: Check[] = runs.flat().map((r) => ({
    what: `whole checkouts on ${r.backend} × ${r.processes}: failed`,
    value: r.failed,
    target: '= 0',
    ok: r.failed === 0,
  }));
  const pg1 = pg(1);
  const pg2 = pg(2);
  if (pg1 && sqlite1.backend === 'SQLite (file, WAL)' && sqlite1.processes === 1) {
    const ratio = pg1.perSecond / sqlite1.perSecond;
    checks.push({ what: 'whole checkouts/s: PostgreSQL × 1 ÷ SQLite × 1', value: ratio, target: '≥ 0.5', ok: ratio >= 0.5 });
  }
  if (pg1 && pg2) {
    const ratio = pg2.perSecond / pg1.perSecond;
    checks.push({ what: 'whole checkouts/s: PostgreSQL × 2 ÷ × 1', value: ratio, target: '≥ 1 (not slower)', ok: ratio >= 1 });
  }
  return { text, checks, data: { carts, rounds, warmUpPerProcess: WARM_UP, linesPerCart: LINES, inFlightPerProcess: CONCURRENCY, rows } };
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2);
  const cartsArg = args.indexOf('--carts');
  const pgArg = args.indexOf('--pg-processes');
  const roundsArg = args.indexOf('--rounds');
  console.log(`machine: ${machineLine(machine())}`);
  const r = await benchScale({
    quick: args.includes('--quick'),
    sqliteMulti: args.includes('--sqlite-multi'),
    carts: cartsArg >= 0 ? Number(args[cartsArg + 1]) : undefined,
    rounds: roundsArg >= 0 ? Number(args[roundsArg + 1]) : undefined,
    pgProcesses: pgArg >= 0 ? args[pgArg + 1]!.split(',').map(Number) : undefined,
    log: (l) => console.log(l),
  });
  console.log(`\nwhole checkouts per second\n${r.text}`);
  for (const c of r.checks.filter((c) => !c.what.endsWith('failed')))
    console.log(`${c.what}: ${fx(c.value, 2)} (target ${c.target}) ${mark(c.ok)}`);
}
