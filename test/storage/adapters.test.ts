/**
 * Each backend declares its capabilities and error classification (its StorageAdapter); the port's
 * defaults are what docs/records.md says; openStorage finds every backend folder.
 */
import { PG_URL } from '../helpers/backends.js';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StorageFault } from '../../src/errors.js';
import { storageBackends } from '../../src/storage/index.js';
import { StorageAdapterBase } from '../../src/storage/port.js';
import { PostgresAdapter } from '../../src/storage/postgres/index.js';
import { SqliteAdapter } from '../../src/storage/sqlite/index.js';

const coded = (code: string) => Object.assign(new Error(code), { code });

describe('storage adapters', () => {
  it('the defaults: no row locks, no notify, no shared queue, nothing unique or serialization; a StorageFault classifies as itself; only a lost, uncommitted one is retryable', () => {
    class Plain extends StorageAdapterBase {}
    const a = new Plain();
    expect([a.supportsRowLocks, a.supportsNotify, a.queueConnection()]).toEqual([false, false, undefined]);
    expect([a.isUniqueViolation(coded('23505')), a.isSerializationFailure(coded('40001'))]).toEqual([false, false]);
    const lost = new StorageFault('STORAGE_UNAVAILABLE', 'gone', false);
    const maybe = new StorageFault('STORAGE_UNAVAILABLE', 'gone while committing', 'unknown');
    const locked = new StorageFault('UNABLE_TO_LOCK_ROW', 'waited', false);
    expect(a.classifyFault(lost)).toBe(lost);
    expect(a.classifyFault(coded('SQLITE_FULL'))).toBeNull();
    expect([lost, maybe, locked, coded('40001')].map((e) => a.isRetryable(e))).toEqual([true, false, false, false]);
  });

  it('SQLite: no row locks, queue or notify; a stale WAL snapshot is a serialization failure; busy, full and I/O errors are faults', () => {
    const a = new SqliteAdapter(5_000);
    expect([a.supportsRowLocks, a.supportsNotify, a.queueConnection()]).toEqual([false, false, undefined]);
    expect([
      a.isUniqueViolation(coded('SQLITE_CONSTRAINT_UNIQUE')),
      a.isUniqueViolation(coded('SQLITE_CONSTRAINT_PRIMARYKEY')),
      a.isUniqueViolation(coded('SQLITE_CONSTRAINT_NOTNULL')),
    ]).toEqual([true, true, false]);
    expect([
      a.isSerializationFailure(coded('SQLITE_BUSY_SNAPSHOT')),
      a.isSerializationFailure(coded('SQLITE_BUSY')),
      a.isSerializationFailure(coded('40001')),
    ]).toEqual([true, false, false]);
    expect(a.classifyFault(coded('SQLITE_BUSY_SNAPSHOT'))).toBeNull();
    expect(a.classifyFault(coded('SQLITE_BUSY'))?.key).toBe('UNABLE_TO_LOCK_ROW');
    expect(a.classifyFault(coded('SQLITE_FULL'))?.key).toBe('STORAGE_FULL');
    expect(a.classifyFault(coded('SQLITE_IOERR_WRITE'))?.key).toBe('STORAGE_UNAVAILABLE');
  });

  it('PostgreSQL: row locks, notify and a shared queue at its URL and schema; 40001 and 40P01 are serialization failures; lock, timeout, disk and connection errors are faults', () => {
    const a = new PostgresAdapter({ connectionString: PG_URL, schema: 'shop1' });
    expect([a.supportsRowLocks, a.supportsNotify, a.queueConnection()]).toEqual([
      true,
      true,
      { connectionString: PG_URL, schema: 'shop1' },
    ]);
    expect([a.isUniqueViolation(coded('23505')), a.isUniqueViolation(coded('23503'))]).toEqual([true, false]);
    expect(['40001', '40P01', '55P03', 'SQLITE_BUSY_SNAPSHOT'].map((c) => a.isSerializationFailure(coded(c)))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(['55P03', '57014', '53100', '57P01', '42601'].map((c) => a.classifyFault(coded(c))?.key ?? null)).toEqual([
      'UNABLE_TO_LOCK_ROW',
      'STORAGE_TIMEOUT',
      'STORAGE_FULL',
      'STORAGE_UNAVAILABLE',
      null,
    ]);
    expect(a.isRetryable(a.classifyFault(coded('57P01')))).toBe(true);
  });

  it('openStorage knows exactly the backend folders under src/storage/, one fallback (SQLite) among them', async () => {
    const folders = readdirSync(new URL('../../src/storage/', import.meta.url), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    const backends = await storageBackends();
    expect(backends.map((b) => b.name)).toEqual(folders);
    expect(backends.filter((b) => b.fallback).map((b) => b.name)).toEqual(['sqlite']);
    expect(backends.find((b) => b.name === 'postgres')!.accepts(PG_URL.replace(/^postgres:/, 'postgresql:'))).toBe(true);
    expect(backends.find((b) => b.name === 'postgres')!.accepts('./engine.db')).toBe(false);
  });
});
