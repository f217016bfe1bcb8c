/**
 * Node CPU per statement on PostgreSQL, layer by layer (issue 22): the same one-row read by id
 * (`select * from "User" where "Id" = $1`, a named prepared statement) run N times with 6 in
 * flight (a) on bare pg clients, (b) through the pool wrapper Kysely uses (`executeQuery`), (c)
 * through the store (`storage.get`). Reports node CPU µs per statement.
 *
 * Run: npx tsx bench/pg-layers.ts [--n N]
 */
import pg from 'pg';
import { CompiledQuery } from 'kysely';
import { openPostgres } from '../src/storage/postgres/index.js';
import { createCheckoutEngine } from '../src/engine/engine.js';
import { PG_URL } from '../test/helpers/backends.js';

const args = process.argv.slice(2);
const N = args.includes('--n') ? Number(args[args.indexOf('--n') + 1]) : 6000;
const IN_FLIGHT = 6;
const name = `bench_layers_${process.pid}`;
const admin = new pg.Client({ connectionString: PG_URL });
await admin.connect();
await admin.query(`drop schema if exists "${name}" cascade`);
const url = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${name}`;
const storage = openPostgres(url);
const engine = await createCheckoutEngine({ storage, worker: false });
const userId = '005000000000000AAA';
await storage.insert('User', [{ Id: userId, Name: 'U', Username: 'u', IsActive: true }]);

async function time(label: string, one: () => Promise<unknown>) {
  for (let i = 0; i < 300; i++) await one();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let left = N;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (left-- > 0) await one();
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  console.log(
    `${label.padEnd(40)} node CPU ${(((cpu.user + cpu.system) / N) | 0).toString().padStart(4)} µs/statement (user ${(cpu.user / N) | 0}, sys ${(cpu.system / N) | 0}); ${((N / ms) * 1000) | 0}/s`,
  );
}

const clients = await Promise.all(
  Array.from({ length: IN_FLIGHT }, async () => {
    const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${name}` });
    await c.connect();
    return c;
  }),
);
let k = 0;
/** One row of 76 columns, like the checkout-facts read. */
const wide = `select ${Array.from({ length: 76 }, (_, i) => `u."Name" as "c__Column${i}"`).join(', ')} from "User" u where u."Id" = $1`;
const text = 'select * from "User" where "Id" = $1';
for (let round = 0; round < (args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 2); round++) {
  await time('pg client, named', () => clients[k++ % IN_FLIGHT]!.query({ name: 'u', text, values: [userId] }));
  await time('pg client, unnamed', () => clients[k++ % IN_FLIGHT]!.query(text, [userId]));
  await time('pg client, select 1 (simple)', () => clients[k++ % IN_FLIGHT]!.query('select 1'));
  const db = (storage as unknown as { db: { executeQuery: (q: CompiledQuery) => Promise<unknown> } }).db;
  await time('kysely executeQuery', () => db.executeQuery(CompiledQuery.raw(text, [userId])));
  await time('storage.get', () => storage.get('User', userId));
  await time('kysely executeQuery, 76 columns', () => db.executeQuery(CompiledQuery.raw(wide, [userId])));
}
await Promise.all(clients.map((c) => c.end()));
await engine.close();
await admin.query(`drop schema if exists "${name}" cascade`);
await admin.query(`drop schema if exists "${name}_pgboss" cascade`);
await admin.end();
