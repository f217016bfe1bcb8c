/**
 * Process faults (issue 13, item 2): SIGKILLs engine processes at seeded random points of running
 * checkouts, at least 100 times per backend, then checks every session, operation, Order and total
 * by reading the database directly. The harness is test/reliability/faults.ts; `npm test` runs a
 * short version (test/reliability/kill.test.ts). See docs/reliability.md, "Process faults".
 *
 * Run: npm run faults -- [--backend sqlite|postgres|both] [--kills 100] [--seed N] [--carts N]
 *                        [--concurrency 6] [--lease-ms 2000] [--keep]
 * Without --seed a seed is drawn and printed; `--seed N` replays that kill schedule. PostgreSQL
 * comes from TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); each run gets
 * its own schema, dropped at the end unless --keep. Exits 1 when any check fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { bossSchemaFor } from '../src/engine/queue/index.js';
import { describePlan, formatReport, planKills, runFaults, type FaultReport } from '../test/reliability/faults.js';
import { PG_URL } from '../test/helpers/backends.js';

const USAGE =
  'usage: npm run faults -- [--backend sqlite|postgres|both] [--kills N] [--seed N] [--carts N] [--concurrency N] [--lease-ms N] [--keep]';
const args = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) fail(`--${name} needs a value`);
  return v;
}
function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}
function intOption(name: string, fallback: number | undefined, min: number): number | undefined {
  const v = option(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer ≥ ${min}, got '${v}'`);
  return n;
}
for (const a of args)
  if (a.startsWith('--') && !['--backend', '--kills', '--seed', '--carts', '--concurrency', '--lease-ms', '--keep', '--help'].includes(a))
    fail(`unknown option ${a}`);
if (args.includes('--help')) {
  console.log(USAGE);
  process.exit(0);
}
const backendArg = option('backend') ?? 'both';
if (!['sqlite', 'postgres', 'both'].includes(backendArg)) fail(`--backend must be sqlite, postgres or both, got '${backendArg}'`);
const kills = intOption('kills', 100, 1)!;
const seed = intOption('seed', Math.floor(Math.random() * 2 ** 31), 0)!;
const carts = intOption('carts', undefined, 1);
const concurrency = intOption('concurrency', 6, 1);
const leaseMs = intOption('lease-ms', 2_000, 1_000);
const keep = args.includes('--keep');
const PG_BASE = PG_URL; // TEST_DATABASE_URL, else the tests' default

const backends = backendArg === 'both' ? (['sqlite', 'postgres'] as const) : [backendArg as 'sqlite' | 'postgres'];
console.log(
  `seed ${seed} (replay: npm run faults -- --backend ${backendArg} --kills ${kills} --seed ${seed}${carts ? ` --carts ${carts}` : ''})`,
);
const reports: FaultReport[] = [];
for (const backend of backends) {
  console.log(`\n== ${backend}: kill schedule of seed ${seed}`);
  for (const p of planKills(seed, kills, backend)) console.log(`  ${describePlan(p)}`);
  let storage: string;
  let cleanup: () => Promise<void>;
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'checkout-faults-'));
    storage = join(dir, 'engine.db');
    cleanup = async () => (keep ? console.log(`kept ${storage}`) : rmSync(dir, { recursive: true, force: true }));
  } else {
    const schema = `faults_${process.pid}_${seed}`;
    storage = `${PG_BASE}${PG_BASE.includes('?') ? '&' : '?'}schema=${schema}&pool=5`;
    cleanup = async () => {
      if (keep) return void console.log(`kept schema ${schema}`);
      const c = new pg.Client({ connectionString: PG_BASE });
      await c.connect();
      try {
        for (const s of [schema, bossSchemaFor(schema)]) await c.query(`drop schema if exists "${s}" cascade`);
      } finally {
        await c.end();
      }
    };
  }
  console.log(`== ${backend}: running`);
  try {
    const report = await runFaults({ backend, storage, seed, kills, carts, concurrency, leaseMs, log: (l) => console.log(l) });
    reports.push(report);
    for (const line of formatReport(report)) console.log(line);
  } finally {
    await cleanup();
  }
}
const failed = reports.filter((r) => r.problems.length > 0);
console.log(`\n${failed.length ? `FAILED: ${failed.map((r) => r.backend).join(', ')}` : 'PASSED'} (seed ${seed})`);
process.exit(failed.length ? 1 : 0);
