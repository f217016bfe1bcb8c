/**
 * What one round trip costs on PostgreSQL, and what pipelining saves (issue 22): N pairs of
 * one-row reads by id (`select * from "User" where "Id" = $1`, a named prepared statement) sent
 * (a) one round trip each (Parse-once/Bind/Execute/Sync per statement, pg's way), (b) both in one
 * exchange (Bind/Execute, Bind/Execute, one Sync). Reports node CPU and the server backend's CPU
 * (from /proc of the backend process, so the server must run on this machine) per pair.
 *
 * Run: npx tsx bench/pg-pipeline.ts [--n N] [--rounds R]
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { PG_URL } from '../test/helpers/backends.js';

const args = process.argv.slice(2);
const N = args.includes('--n') ? Number(args[args.indexOf('--n') + 1]) : 5000;
const ROUNDS = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 2;
const name = `bench_pipeline_${process.pid}`;
const admin = new pg.Client({ connectionString: PG_URL });
await admin.connect();
await admin.query(`create schema "${name}"`);
await admin.query(`create table "${name}"."User" ("Id" text primary key, "Name" text, "Username" text, "IsActive" boolean)`);
await admin.query(`insert into "${name}"."User" values ('005000000000000AAA', 'U', 'u', true)`);
const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${name}` });
await client.connect();
const backend = Number((await client.query('select pg_backend_pid() as p')).rows[0].p);
const text = 'select * from "User" where "Id" = $1';
const values = ['005000000000000AAA'];

/** Ticks of CPU (user + system) the backend process has used. */
function serverTicks(): number {
  const stat = readFileSync(`/proc/${backend}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

interface Conn {
  parse(q: { text: string; name?: string }): void;
  bind(c: { portal?: string; statement?: string; values?: unknown[]; valueMapper?: unknown }): void;
  describe(c: { type: 'P'; name: string }): void;
  execute(c: { portal?: string }): void;
  sync(): void;
}
const prepareValue = (pg as unknown as { utils: { prepareValue: unknown } }).utils.prepareValue;

/** The same statement `k` times in one exchange: Bind/Describe/Execute each, one Sync. */
class Pipelined extends pg.Query {
  constructor(
    private readonly k: number,
    callback: (err: Error | undefined, res: unknown) => void,
  ) {
    super(text, undefined, callback);
    (this as unknown as { queryMode: string }).queryMode = 'extended';
  }
  prepare(connection: Conn): void {
    for (let i = 0; i < this.k; i++) {
      connection.bind({ portal: '', statement: 'u', values, valueMapper: prepareValue });
      connection.describe({ type: 'P', name: '' });
      connection.execute({ portal: '' });
    }
    connection.sync();
  }
}

await client.query({ name: 'u', text, values });

async function time(label: string, pair: () => Promise<unknown>) {
  for (let i = 0; i < 300; i++) await pair();
  const cpu0 = process.cpuUsage();
  const s0 = serverTicks();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await pair();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const server = ((serverTicks() - s0) * 10_000) / N; // 100 ticks a second
  console.log(
    `${label.padEnd(34)} node ${((cpu.user + cpu.system) / N).toFixed(0).padStart(4)} µs/pair, server ${server.toFixed(0).padStart(4)} µs/pair, ${((ms * 1000) / N).toFixed(0)} µs wall/pair`,
  );
}

const run = (k: number) => new Promise((resolve, reject) => client.query(new Pipelined(k, (e, r) => (e ? reject(e) : resolve(r)))));
for (let round = 0; round < ROUNDS; round++) {
  await time('2 round trips (pg named query)', async () => {
    await client.query({ name: 'u', text, values });
    await client.query({ name: 'u', text, values });
  });
  await time('2 round trips (1 statement each)', async () => {
    await run(1);
    await run(1);
  });
  await time('1 round trip (2 statements, 1 Sync)', () => run(2));
  await time('1 round trip (1 statement)', () => run(1));
}
await client.end();
await admin.query(`drop schema "${name}" cascade`);
await admin.end();
