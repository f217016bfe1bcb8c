/**
 * Where a PostgreSQL checkout's CPU goes (issue 22): one engine in this process on a fresh schema
 * runs `engine.runCheckout` for N demo carts (2 lines, 1 group), 6 in flight, after a warm-up of 6,
 * and reports per checkout: the node process's CPU, the CPU of the PostgreSQL backends serving this
 * process's connections (read from /proc for the backend pids behind its sockets), the round trips
 * of the engine's pool, and — with `--profile` — node:inspector's sampled self time by module and
 * by function (bench/profile.ts's grouping).
 *
 * Run: npx tsx bench/pg-profile.ts [--carts N] [--profile] [--top N]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import pg from 'pg';
import { CompiledQuery } from 'kysely';
import { createCheckoutEngine } from '../src/engine/engine.js';
import { seedCarts } from './carts.js';
import { openPostgres } from '../src/storage/postgres/index.js';
import { PG_URL } from '../test/helpers/backends.js';
import { summarise } from './profile.js';

const args = process.argv.slice(2);
const num = (flag: string, dflt: number) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : dflt);
const CARTS = num('--carts', 60);
const TOP = num('--top', 25);
const PROFILE = args.includes('--profile');
/** `--shapes`: per statement text, how often it returned a row description, its columns and rows (during the timed part). */
const SHAPES = args.includes('--shapes');
const shapes = new Map<string, { n: number; fields: number; rows: number }>();
let counting = false;
if (SHAPES) {
  type Described = { text?: string; shape?: { n: number; fields: number; rows: number } };
  const proto = pg.Query.prototype as unknown as Record<string, (this: Described, msg: { fields: unknown[] }) => void>;
  const describe = proto.handleRowDescription!;
  const dataRow = proto.handleDataRow!;
  proto.handleRowDescription = function (msg) {
    if (counting) {
      const key = String(this.text).replace(/\s+/g, ' ').slice(0, 160);
      const t = shapes.get(key) ?? { n: 0, fields: 0, rows: 0 };
      t.n++;
      t.fields = msg.fields.length;
      shapes.set(key, t);
      this.shape = t;
    }
    describe.call(this, msg);
  };
  proto.handleDataRow = function (msg) {
    if (this.shape) this.shape.rows++;
    dataRow.call(this, msg);
  };
}
const CONCURRENCY = 6;
const LINES = 2;

const name = `bench_pgprof_${process.pid}`;
const admin = new pg.Client({ connectionString: PG_URL });
await admin.connect();
const drop = async () => {
  await admin.query(`drop schema if exists "${name}" cascade`);
  await admin.query(`drop schema if exists "${name}_pgboss" cascade`);
};
await drop();
const url = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${name}`;

/** utime + stime (ms) of the PostgreSQL backends whose clients are this process's sockets. */
function ticksPerMs(): number {
  return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) / 1000;
}
const TICK = ticksPerMs();
async function serverCpuMs(): Promise<{ ms: number; backends: number; pids: number[] }> {
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', 'dport', '=', ':5432']).toString();
  const ports = out
    .split('\n')
    .filter((l) => l.includes(`pid=${process.pid},`))
    .map((l) => Number(/\S+:(\d+)\s+\S+:5432/.exec(l)?.[1]))
    .filter((p) => p > 0);
  const { rows } = await admin.query<{ pid: number }>(
    'select pid from pg_stat_activity where client_port = any($1::int[]) and pid <> pg_backend_pid()',
    [ports],
  );
  let ticks = 0;
  for (const { pid } of rows) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return { ms: ticks / TICK, backends: rows.length, pids: rows.map((r) => r.pid) };
}

/** `--sqlite`: the same run on a SQLite file (WAL), for the engine's own share. */
const SQLITE = args.includes('--sqlite');
const dir = SQLITE ? mkdtempSync(join(tmpdir(), 'pg-profile-')) : '';
const storage = SQLITE ? null : openPostgres(url);
const engine = await createCheckoutEngine({
  storage: storage ?? join(dir, 'engine.db'),
  workerConcurrency: CONCURRENCY,
  onError: (e) => console.error('[engine]', e),
});
try {
  const { buyerId, carts } = await seedCarts(engine, LINES, CARTS + CONCURRENCY);
  const warm = carts.splice(CARTS);
  await Promise.all(warm.map((c) => engine.runCheckout(c, { userId: buyerId })));
  if (args.includes('--trace')) {
    // `--trace`: the SQL of every round trip of one checkout alone (its worker's included).
    const trace = storage!.roundTrips.trace();
    await engine.runCheckout(carts.pop()!, { userId: buyerId });
    for (const text of trace.stop()) console.log(`  ${text.replace(/\s+/g, ' ').slice(0, 200)}`);
  }

  const session = PROFILE ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 250 });
    await session.post('Profiler.start');
  }
  counting = true;
  const server0 = await serverCpuMs();
  // `--perf`: perf record (on-CPU samples) of this process and of its PostgreSQL backends over the timed part
  // (run node with --perf-basic-prof for JS frames; reports: /tmp/pg-profile.node.perf, /tmp/pg-profile.server.perf).
  const perfs = args.includes('--perf')
    ? [
        ['node', String(process.pid)],
        ['server', server0.pids.join(',')],
      ].map(([what, pids]) =>
        spawn('perf', ['record', '-F', '1999', '-g', '-o', `/tmp/pg-profile.${what}.perf`, '-p', pids!], { stdio: 'ignore' }),
      )
    : [];
  if (perfs.length) await new Promise((r) => setTimeout(r, 500));
  const cpu0 = process.cpuUsage();
  const trips0 = storage?.roundTrips.total ?? 0;
  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < carts.length) {
        const run = await engine.runCheckout(carts[next++]!, { userId: buyerId });
        if (run.status !== 'complete') failed++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const trips = (storage?.roundTrips.total ?? 0) - trips0;
  counting = false;
  for (const p of perfs) p.kill('SIGINT');
  await Promise.all(perfs.map((p) => new Promise((r) => p.once('exit', r))));
  const server1 = await serverCpuMs();
  const profile = session ? ((await session.post('Profiler.stop')) as { profile: Parameters<typeof summarise>[0] }).profile : null;
  const per = (x: number) => (x / CARTS).toFixed(1);
  console.log(
    `${CARTS} checkouts (${failed} failed) in ${seconds.toFixed(1)} s = ${(CARTS / seconds).toFixed(1)}/s; node CPU ${per((cpu.user + cpu.system) / 1000)} ms/checkout ` +
      `(user ${per(cpu.user / 1000)}, sys ${per(cpu.system / 1000)}); server CPU ${per(server1.ms - server0.ms)} ms/checkout (${server1.backends} backends); ` +
      `round trips ${per(trips)}/checkout`,
  );
  if (args.includes('--plans') && storage) {
    // `--plans`: one pooled connection's prepared statements, with how often each ran a custom plan (planned at every run) or the generic one.
    const db = (storage as unknown as { db: { executeQuery: (q: CompiledQuery) => Promise<{ rows: Record<string, unknown>[] }> } }).db;
    const { rows } = await db.executeQuery(
      CompiledQuery.raw(
        "select generic_plans, custom_plans, left(regexp_replace(statement, '\\s+', ' ', 'g'), 150) as s from pg_prepared_statements order by custom_plans desc",
      ),
    );
    for (const r of rows)
      console.log(`  generic ${String(r.generic_plans).padStart(4)} custom ${String(r.custom_plans).padStart(4)}  ${String(r.s)}`);
  }
  if (SHAPES) {
    console.log('statements returning rows: per checkout, columns, rows per checkout, text');
    for (const [text, t] of [...shapes.entries()].sort((a, b) => b[1].n * b[1].fields - a[1].n * a[1].fields))
      console.log(`  ${per(t.n).padStart(5)} × ${String(t.fields).padStart(3)} cols ${per(t.rows).padStart(6)} rows  ${text}`);
  }
  if (profile) {
    const sum = summarise(profile);
    console.log(`profile ${sum.total.toFixed(0)} ms`);
    for (const [g, ms] of sum.groups.slice(0, TOP)) console.log(`  ${g.padEnd(50)} ${per(ms).padStart(7)} ms/checkout`);
    console.log('functions');
    for (const [f, ms] of sum.functions.slice(0, TOP)) console.log(`  ${f.padEnd(80)} ${per(ms).padStart(7)} ms/checkout`);
  }
} finally {
  await engine.close();
  await drop();
  await admin.end();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
