/**
 * The storage backends every storage-touching test runs against: SQLite in memory, a SQLite file,
 * and PostgreSQL (URL from TEST_DATABASE_URL, default the local server's `test` database), each
 * PostgreSQL engine in a fresh schema. PostgreSQL being unreachable fails the tests; it never skips.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clonePgTemplate, hasPgTemplate } from './pg-template.js';

/** Base URL of the PostgreSQL test database. */
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let counter = 0;
const cleanups: (() => Promise<void>)[] = [];

/** A fresh, empty storage location for a backend. */
export interface Backend {
  /** A label for the test names ('sqlite', 'sqlite-file', 'postgres', …). */
  name: string;
  /**
   * Returns a new storage location string: each call a new database without rows (on PostgreSQL
   * already migrated, `migratedPgUrl`; `emptyLocation` is one without tables).
   */
  location: () => string;
  /** A new database without tables either: for tests of the migration itself. */
  emptyLocation: () => string;
}

/**
 * A fresh PostgreSQL URL with its own schema. Schemas are named after the vitest main process
 * (`process.ppid` in a test worker) and dropped by the global teardown at the end of the run.
 */
export function freshPgUrl(): string {
  const schema = `t_${process.ppid}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  return `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}`;
}

/**
 * A fresh PostgreSQL URL whose schema already holds the engine's tables and pg-boss's schema, as
 * an engine's first start makes them (a copy of the run's template: test/helpers/pg-template.ts),
 * and no rows. For tests of what an engine does with its database, not of how it creates it;
 * without a template in this run, the same as `freshPgUrl()`.
 */
export function migratedPgUrl(): string {
  const url = freshPgUrl();
  if (hasPgTemplate()) clonePgTemplate(url, new URL(url).searchParams.get('schema')!);
  return url;
}

/** A fresh SQLite file path in a temp folder (removed by `dropTestSchemas`). */
export function freshSqliteFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'checkout-engine-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'engine.db');
}

/**
 * Every backend, one line each: the storage contract suite (test/storage/contract.test.ts) and
 * every storage-touching test run against each. A new backend folder (src/storage/<name>/) adds
 * its line here.
 */
export const BACKENDS: Backend[] = [
  { name: 'sqlite', location: () => ':memory:', emptyLocation: () => ':memory:' },
  { name: 'sqlite-file', location: freshSqliteFile, emptyLocation: freshSqliteFile },
  { name: 'postgres', location: migratedPgUrl, emptyLocation: freshPgUrl },
];

/** Removes the SQLite files the tests created (PostgreSQL schemas go in the global teardown). */
export async function dropTestSchemas(): Promise<void> {
  for (const c of cleanups.splice(0)) await c().catch(() => {});
}
