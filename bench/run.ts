/**
 * `npm run bench`: the benchmark harness of issue 12. Runs the sections, prints one table per
 * section with the numbers and their ratios against the targets (✓/✗), the machine (cores, CPU,
 * Node, load average) before and after, and writes everything machine-readable to
 * bench/results.json (gitignored: bench/RESULTS.md holds the recorded tables).
 *
 * Sections (in this order):
 *   cart-to-order  cartToOrder: engine vs the minimum statements in one raw transaction (bench/cart-to-order.ts)
 *   checkout       a whole checkout (engine.runCheckout) vs its floor, side by side (bench/checkout.ts)
 *   scale          whole checkouts/s on SQLite and PostgreSQL, 1, 2 and 3 processes (bench/scale.ts)
 *   http           HTTP under autocannon vs the library (bench/http.ts)
 *   flow-connect   a flow navigate and a Connect PATCH + poll vs the core actions directly (bench/flow-connect.ts)
 *   rss            memory growth per 100k checkout sessions (bench/rss.ts)
 *   peer           Medusa 2 / XState peer beside our whole checkouts/s (bench/peer.ts)
 *
 * Options: --only=cart-to-order,checkout,scale,http,flow-connect,rss,peer   --quick (fewer runs, for iteration)
 *          --peer-dir=DIR (or PEER_BENCH_DIR)   --rss-count=N   --sqlite-multi (also SQLite × 3 processes)
 *          --pg-processes=1,2 (scale: PostgreSQL's process counts; default 1,2,3)   --scale-rounds=N (scale: runs per configuration, taking turns)
 *          --out=FILE (default bench/results.json)
 * PostgreSQL comes from TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); each run
 * works in its own schemas and drops them.
 *
 * Exit code: 1 when a section could not run; missed targets are reported (✗), not an error.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchCartToOrder } from './cart-to-order.js';
import { benchCheckout } from './checkout.js';
import { benchFlowConnect } from './flow-connect.js';
import { benchHttp } from './http.js';
import { fx, machine, machineLine, mdTable, type Check, type SectionResult } from './lib.js';
import { benchPeer, peerDir } from './peer.js';
import { benchRss } from './rss.js';
import { benchScale, type ScaleRow } from './scale.js';

const SECTIONS = ['cart-to-order', 'checkout', 'scale', 'http', 'flow-connect', 'rss', 'peer'] as const;
type Section = (typeof SECTIONS)[number];
const TITLES: Record<Section, string> = {
  'cart-to-order': 'cartToOrder: engine vs the minimum statements in one raw SQLite transaction',
  checkout: 'Whole checkout (SQLite): engine.runCheckout vs its floor (the same calls and rows, raw prepared statements)',
  scale: 'Whole checkouts per second (engine.runCheckout, default flow, every step persisted)',
  http: 'HTTP under autocannon (10 connections) vs the same calls through the library, and vs a bare Fastify route',
  'flow-connect': 'Flow runtime and Connect Checkout API vs the same work through the core actions directly',
  rss: 'Memory after 100,000 checkout sessions (SQLite, one process)',
  peer: 'Peer: Medusa 2 workflow engine and plain XState (in memory) beside our whole checkouts/s',
};

function parseArgs(argv: string[]) {
  const opts = {
    quick: false,
    only: [...SECTIONS] as Section[],
    peerDir: undefined as string | undefined,
    rssCount: undefined as number | undefined,
    sqliteMulti: false,
    pgProcesses: undefined as number[] | undefined,
    scaleRounds: undefined as number | undefined,
    out: fileURLToPath(new URL('./results.json', import.meta.url)),
  };
  for (const a of argv) {
    const [key, value] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, ''];
    if (key === '--quick') opts.quick = true;
    else if (key === '--sqlite-multi') opts.sqliteMulti = true;
    else if (key === '--only') {
      const names = value.split(',').filter(Boolean);
      const unknown = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
      if (!names.length || unknown.length)
        throw new Error(`--only: unknown section ${unknown.join(', ') || '(none given)'}; sections are ${SECTIONS.join(', ')}`);
      opts.only = names as Section[];
    } else if (key === '--peer-dir') opts.peerDir = value;
    else if (key === '--rss-count') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--rss-count: expected a positive whole number of sessions, got '${value}'`);
      opts.rssCount = n;
    } else if (key === '--pg-processes') {
      const ns = value.split(',').map(Number);
      if (!ns.length || ns.some((n) => !Number.isInteger(n) || n < 1))
        throw new Error(`--pg-processes: expected process counts like 1,2,3, got '${value}'`);
      opts.pgProcesses = ns;
    } else if (key === '--scale-rounds') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--scale-rounds: expected a positive whole number, got '${value}'`);
      opts.scaleRounds = n;
    } else if (key === '--out') opts.out = value;
    else
      throw new Error(
        `unknown option '${a}'; options: --only=${SECTIONS.join(',')} --quick --peer-dir=DIR --rss-count=N --sqlite-multi --pg-processes=1,2,3 --scale-rounds=N --out=FILE`,
      );
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const started = machine();
const log = (line: string) => console.log(line);
console.log(`checkout-engine benchmarks${opts.quick ? ' (quick)' : ''}: ${opts.only.join(', ')}`);
console.log(`machine: ${machineLine(started)}`);
if (started.loadavg[0] > started.cores)
  console.log(`note: load average ${started.loadavg[0]} on ${started.cores} cores — the machine is busy; timings are noisy.`);

const results: Partial<Record<Section, (SectionResult & { seconds: number }) | { error: string; seconds: number }>> = {};
let ourCheckouts: ScaleRow | undefined;
let failedSections = 0;

for (const section of SECTIONS.filter((s) => opts.only.includes(s))) {
  console.log(`\n## ${TITLES[section]}\n`);
  const t0 = performance.now();
  try {
    let r: SectionResult;
    if (section === 'cart-to-order') r = await benchCartToOrder({ quick: opts.quick, log });
    else if (section === 'checkout') r = await benchCheckout({ quick: opts.quick, log });
    else if (section === 'scale') {
      r = await benchScale({
        quick: opts.quick,
        log,
        sqliteMulti: opts.sqliteMulti,
        pgProcesses: opts.pgProcesses,
        rounds: opts.scaleRounds,
      });
      ourCheckouts = (r.data as { rows: ScaleRow[] }).rows.find((x) => x.backend === 'SQLite (file, WAL)' && x.processes === 1);
    } else if (section === 'http') r = await benchHttp({ quick: opts.quick, log });
    else if (section === 'flow-connect') r = await benchFlowConnect({ quick: opts.quick, log });
    else if (section === 'rss') r = await benchRss({ quick: opts.quick, log, count: opts.rssCount });
    else if (!peerDir(opts.peerDir)) r = { text: 'peer: skipped (set PEER_BENCH_DIR)', checks: [], data: { skipped: true } };
    else {
      if (!ourCheckouts) {
        log('  peer: measuring our whole checkouts/s on SQLite (1 process) first');
        const s = await benchScale({ quick: opts.quick, log, sqliteOnly: true });
        ourCheckouts = (s.data as { rows: ScaleRow[] }).rows[0];
      }
      r = await benchPeer({
        quick: opts.quick,
        log,
        dir: opts.peerDir,
        ours: ourCheckouts ? { perSecond: ourCheckouts.perSecond, label: 'SQLite × 1' } : null,
      });
    }
    const seconds = (performance.now() - t0) / 1000;
    results[section] = { ...r, seconds };
    console.log(`\n${r.text}\n\n(${fx(seconds)} s)`);
  } catch (e) {
    failedSections++;
    const seconds = (performance.now() - t0) / 1000;
    const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    results[section] = { error, seconds };
    console.log(`\n${section}: FAILED after ${fx(seconds)} s: ${error}`);
  }
}

const ended = machine();
const checks: (Check & { section: Section })[] = [];
for (const [section, r] of Object.entries(results) as [Section, SectionResult | { error: string }][])
  if ('checks' in r) for (const c of r.checks) checks.push({ ...c, section });
console.log(`\n## Targets\n`);
console.log(
  mdTable(
    ['section', 'check', 'value', 'target', ''],
    checks.map((c) => [c.section, c.what, fx(c.value, 2), c.target, c.ok ? '✓' : '✗']),
    ['l', 'l', 'r', 'r', 'l'],
  ),
);
console.log(`\nmachine at the end: ${machineLine(ended)}`);
writeFileSync(
  opts.out,
  `${JSON.stringify({ started, ended, options: { quick: opts.quick, only: opts.only, sqliteMulti: opts.sqliteMulti, rssCount: opts.rssCount ?? null }, checks, sections: results }, null, 2)}\n`,
);
console.log(`results: ${opts.out}`);
process.exitCode = failedSections ? 1 : 0;
