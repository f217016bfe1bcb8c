/**
 * Vitest global setup: checks PostgreSQL is reachable before any test runs (tests fail, never skip,
 * without it) and, at the end of the run, drops the schemas this run created. Schemas are dropped
 * only here, never mid-run, because dropping one while another test file introspects the catalog
 * breaks that file's migration. It also compiles the tests' child processes once for the run
 * (test/helpers/child-build.ts).
 */
import pg from 'pg';
import { rmSync } from 'node:fs';
import { PG_URL as url } from './backends.js';
import { buildChildren, removeChildren } from './child-build.js';
import { createPgTemplate } from './pg-template.js';

async function withClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Fails the run at once when PostgreSQL can't be reached, and drops schemas that earlier runs left
 * behind (named t_<pid>_…, or scn_<pid>_… by the scenario runner with --keep or interrupted, whose
 * process is gone), so catalog scans stay small.
 */
export async function setup(): Promise<void> {
  try {
    await withClient(async (c) => {
      const { rows } = await c.query(`select nspname from pg_namespace where nspname ~ '^(t|scn)_[0-9]+_'`);
      for (const r of rows as { nspname: string }[]) {
        const pid = Number(/^(?:t|scn)_(\d+)_/.exec(r.nspname)![1]);
        if (!alive(pid)) await c.query(`drop schema if exists "${r.nspname}" cascade`);
      }
    });
  } catch (e) {
    throw new Error(`PostgreSQL is not reachable at ${url} (set TEST_DATABASE_URL): ${(e as Error).message}`, { cause: e });
  }
  // The migrated schema that test/helpers/backends.ts `migratedPgUrl()` copies (test/helpers/pg-template.ts).
  const missing = await createPgTemplate(url, `t_${process.pid}_tpl`);
  if (missing) console.log(`No PostgreSQL template schema (${missing}): every PostgreSQL test engine migrates its own schema.`);
  // The child processes' entries, compiled once (children fall back to tsx without it).
  await buildChildren();
}

/** Drops every schema of this run (named t_<vitest pid>_…) and pg-boss schemas beside them. */
export async function teardown(): Promise<void> {
  await withClient(async (c) => {
    const { rows } = await c.query(`select nspname from pg_namespace where nspname like $1`, [`%t\\_${process.pid}\\_%`]);
    for (const r of rows) await c.query(`drop schema if exists "${r.nspname}" cascade`);
  });
  removeChildren();
  if (process.env.CHECKOUT_ENGINE_TEST_PG_TEMPLATE) rmSync(process.env.CHECKOUT_ENGINE_TEST_PG_TEMPLATE, { force: true });
}
