/**
 * `npm run soak`: the soak of issue 13 item 1 (see docs/reliability.md, "Soak"). Buyers check out
 * concurrently over HTTP for a bounded time on SQLite (one engine process on a file) and on
 * PostgreSQL (several engine processes on one schema); afterwards the database is checked and the
 * figures are printed. Exits 1 when any invariant fails, 2 on a usage error.
 *
 *   npm run soak -- [--backend sqlite|postgres|both] [--buyers 1000] [--users N] [--seconds 60]
 *                   [--processes 3] [--seed 1] [--max-sockets 128] [--pg-url postgres://…] [--keep]
 *
 * PostgreSQL: --pg-url, else $TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test; the
 * soak uses a fresh schema `soak_<pid>_<time>` and drops it afterwards (kept with --keep). SQLite:
 * a fresh file in the temp folder, removed afterwards (kept with --keep).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { formatReport, runSoak, type SoakReport } from './soak/run.js';
import { PG_URL } from '../test/helpers/backends.js';

const USAGE = `Usage: npm run soak -- [--backend sqlite|postgres|both] [--buyers 1000] [--users N] [--seconds 60]
                      [--processes 3] [--seed 1] [--max-sockets 128] [--pg-url postgres://…] [--keep]`;

function whole(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--${name} must be a whole number ≥ 1, got '${v}'.`);
  return Number(v);
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        backend: { type: 'string', default: 'both' },
        buyers: { type: 'string' },
        users: { type: 'string' },
        seconds: { type: 'string' },
        processes: { type: 'string' },
        seed: { type: 'string' },
        'max-sockets': { type: 'string' },
        'pg-url': { type: 'string' },
        keep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) return (console.log(USAGE), 0);
  const backends =
    values.backend === 'both'
      ? (['sqlite', 'postgres'] as const)
      : values.backend === 'sqlite' || values.backend === 'postgres'
        ? ([values.backend] as const)
        : null;
  let buyers: number, users: number, seconds: number, processes: number, seed: number, maxSockets: number;
  try {
    if (!backends) throw new Error(`--backend must be sqlite, postgres or both, got '${values.backend}'.`);
    buyers = whole('buyers', values.buyers, 1000);
    users = whole('users', values.users, buyers);
    if (users > buyers) throw new Error(`--users must be at most --buyers (${buyers}), got ${users}.`);
    seconds = whole('seconds', values.seconds, 60);
    processes = whole('processes', values.processes, 3);
    seed = whole('seed', values.seed, 1);
    maxSockets = whole('max-sockets', values['max-sockets'], 128);
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
  const reports: SoakReport[] = [];
  for (const backend of backends!) {
    let storage: string;
    let cleanup: () => Promise<void>;
    if (backend === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'checkout-engine-soak-'));
      storage = join(dir, 'soak.db');
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    } else {
      const base = values['pg-url'] ?? PG_URL; // PG_URL: TEST_DATABASE_URL, else the tests' default
      const schema = `soak_${process.pid}_${Date.now().toString(36)}`;
      storage = `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`;
      cleanup = async () => {
        const c = new pg.Client({ connectionString: base });
        await c.connect();
        try {
          for (const s of [schema, `${schema}_pgboss`]) await c.query(`drop schema if exists "${s}" cascade`);
        } finally {
          await c.end();
        }
      };
    }
    // SQLite is embedded: one engine process owns the file. PostgreSQL: `processes` engines on one schema.
    const procs = backend === 'sqlite' ? 1 : processes!;
    log(`soak on ${backend}: ${buyers!} buyers, ${seconds!} s, ${procs} engine process(es), seed ${seed!}`);
    try {
      const report = await runSoak({
        backend,
        storage,
        buyers: buyers!,
        users: users!,
        seconds: seconds!,
        processes: procs,
        seed: seed!,
        maxSockets: maxSockets!,
        log,
      });
      reports.push(report);
      for (const line of formatReport(report)) console.log(line);
    } finally {
      if (values.keep) log(`kept the database: ${backend === 'sqlite' ? storage : storage.replace(/:[^:@/]*@/, ':…@')}`);
      else await cleanup().catch((e: unknown) => log(`cleanup failed: ${(e as Error).message}`));
    }
  }
  const failed = reports.filter((r) => r.problems.length);
  console.log(
    failed.length
      ? `SOAK FAILED on ${failed.map((r) => r.backend).join(', ')}`
      : `SOAK PASSED on ${reports.map((r) => r.backend).join(', ')}`,
  );
  return failed.length ? 1 : 0;
}

process.exitCode = await main().catch((e: unknown) => {
  console.error(e);
  return 1;
});
