/**
 * A migrated PostgreSQL schema for tests, without migrating it again each time. The global setup
 * opens one engine on a template schema (`t_<vitest pid>_tpl`: the engine's migration and pg-boss's
 * schema beside it, exactly as every engine makes them) and dumps both schemas with `pg_dump`; a
 * clone is that script with the template's name replaced, run in one transaction (one round trip,
 * one commit) instead of the migration (about a dozen round trips) and pg-boss's own statements. The engine that
 * then opens the clone still runs its migration check and starts pg-boss, finding everything in place.
 *
 * Without `pg_dump` (or one that can't dump this server) there is no template, and
 * `migratedPgUrl()` gives an empty schema like `freshPgUrl()`: slower, same tests.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

/** Environment variable naming the template file (set by the global setup, read by test workers). */
const TEMPLATE_ENV = 'CHECKOUT_ENGINE_TEST_PG_TEMPLATE';

interface Template {
  /** The template's schema name, replaced by the clone's in `sql`. */
  schema: string;
  sql: string;
}

/**
 * Global setup: migrates the template schema `schema` on `url` with a real engine and dumps it.
 * Returns why there is no template, or null.
 */
export async function createPgTemplate(url: string, schema: string): Promise<string | null> {
  const { createCheckoutEngine } = await import('../../src/index.js');
  const engine = await createCheckoutEngine({ storage: withSchema(url, schema), onError: () => {} });
  await engine.close();
  const dbUrl = new URL(url);
  dbUrl.search = '';
  let dump: string;
  try {
    ({ stdout: dump } = await promisify(execFile)(
      'pg_dump',
      ['--dbname', dbUrl.toString(), '--schema', schema, '--schema', `${schema}_pgboss`, '--inserts', '--no-owner', '--no-privileges'],
      { maxBuffer: 64 * 1024 * 1024 },
    ));
  } catch (e) {
    return `pg_dump failed: ${(e as Error).message.split('\n')[0]}`;
  }
  // psql meta-commands (\restrict …) are not SQL.
  const sql = dump
    .split('\n')
    .filter((l) => !l.startsWith('\\'))
    .join('\n');
  const file = join(tmpdir(), `checkout-engine-pg-template-${process.pid}.json`);
  writeFileSync(file, JSON.stringify({ schema, sql } satisfies Template));
  process.env[TEMPLATE_ENV] = file;
  return null;
}

/** `url` with its `schema` parameter set. */
export function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}

let template: Template | null | undefined;
let worker: { url: string; thread: Worker } | undefined;

function loadTemplate(): Template | null {
  if (template === undefined) {
    const file = process.env[TEMPLATE_ENV];
    template = file ? (JSON.parse(readFileSync(file, 'utf8')) as Template) : null;
  }
  return template;
}

/** Whether a template exists in this run. */
export function hasPgTemplate(): boolean {
  return loadTemplate() !== null;
}

/**
 * Creates `schema` (and its pg-boss schema) on `url`'s database as a copy of the template, before
 * returning: the test thread waits on a worker thread that runs the script.
 */
export function clonePgTemplate(url: string, schema: string): void {
  const t = loadTemplate();
  if (!t) throw new Error('no PostgreSQL template in this run');
  if (schema.length + '_pgboss'.length > 63) throw new Error(`schema name too long for a template clone: ${schema}`);
  const dbUrl = new URL(url);
  dbUrl.search = '';
  if (!worker || worker.url !== dbUrl.toString()) {
    void worker?.thread.terminate();
    const thread = new Worker(new URL('./pg-clone-worker.mjs', import.meta.url), { workerData: { url: dbUrl.toString() } });
    thread.unref();
    worker = { url: dbUrl.toString(), thread };
  }
  const flag = new SharedArrayBuffer(4);
  const { port1, port2 } = new MessageChannel();
  // The names are t_<digits>_…: the template's name appears in the script only as a name.
  worker.thread.postMessage({ sql: t.sql.replaceAll(t.schema, schema), flag, port: port2 }, [port2]);
  if (Atomics.wait(new Int32Array(flag), 0, 0, 120_000) === 'timed-out') throw new Error(`cloning the template into ${schema} timed out`);
  const reply = receiveMessageOnPort(port1)?.message as { ok: boolean; error?: string } | undefined;
  port1.close();
  if (!reply?.ok) throw new Error(`cloning the template into ${schema} failed: ${reply?.error ?? 'no answer'}`);
}
