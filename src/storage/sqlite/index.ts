/**
 * The embedded SQLite backend: better-sqlite3 (12.x) in WAL mode behind Kysely's SqliteDialect.
 * One connection; Kysely serializes transactions on it, so a transaction is a critical section for
 * the whole process. `':memory:'` gives a throwaway database.
 */
import Database from 'better-sqlite3';
import { resolve } from 'node:path';
import { Kysely, sql, SqliteDialect, type DatabaseConnection, type Driver, type QueryResult, type SqliteDatabase } from 'kysely';
import type { DialectSpec, Statement } from '../dialect.js';
import { StorageAdapterBase, type StorageOps } from '../port.js';
import { KyselyStore } from '../store.js';
import { sqliteFullText } from './full-text.js';
import { EngineError, StorageFault } from '../../errors.js';

/**
 * What SQLite can do and how its errors read: no row locks (a transaction takes the database's
 * write lock), no shared queue and no LISTEN/NOTIFY (one engine process per database file: the
 * defaults); a stale WAL snapshot (SQLITE_BUSY_SNAPSHOT) is a serialization failure (a plain
 * SQLITE_BUSY has already waited busy_timeout and is the fault UNABLE_TO_LOCK_ROW, never re-run).
 */
export class SqliteAdapter extends StorageAdapterBase {
  constructor(private readonly busyTimeoutMs: number) {
    super();
  }

  override get supportsFullText(): boolean {
    return true;
  }

  override isUniqueViolation(err: unknown): boolean {
    const code = (err as { code?: string })?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  }

  override isSerializationFailure(err: unknown): boolean {
    return (err as { code?: string })?.code === 'SQLITE_BUSY_SNAPSHOT';
  }

  override classifyFault(err: unknown): StorageFault | null {
    return super.classifyFault(err) ?? sqliteFault(err, this.busyTimeoutMs);
  }
}

/** Runs `query` on `connection` at once, with the result Kysely's SqliteConnection gives. */
function runOn(connection: SqliteDatabase, query: Statement): QueryResult<unknown> {
  const stmt = connection.prepare(query.sql);
  if (stmt.reader) return { rows: stmt.all(query.parameters) };
  const { changes, lastInsertRowid } = stmt.run(query.parameters);
  return {
    numAffectedRows: changes !== undefined && changes !== null ? BigInt(changes) : undefined,
    insertId: lastInsertRowid !== undefined && lastInsertRowid !== null ? BigInt(lastInsertRowid) : undefined,
    rows: [],
  };
}

/**
 * Who holds or waits for the one connection through Kysely (its driver's acquire … release, and a
 * transaction from the moment it is asked for): while nobody does, a statement outside a
 * transaction runs at once instead of queueing behind nothing — it can't land inside a transaction
 * nor overtake a statement or transaction asked for before it.
 */
interface ConnectionUsers {
  count: number;
}

/**
 * Kysely's driver for the one connection, as `SqliteStore` takes the connection from it for a
 * transaction it runs itself: `ready` from the driver's init (which Kysely runs at its first
 * statement) until its destroy (closing); `driver` is null until Kysely creates it.
 */
interface DriverHandle {
  driver: Driver | null;
  ready: boolean;
}

/**
 * Kysely's SQLite dialect, its driver counting the connection's users (`ConnectionUsers`) and
 * handed to `SqliteStore` (`DriverHandle`).
 */
class CountingSqliteDialect extends SqliteDialect {
  constructor(
    database: SqliteDatabase,
    private readonly users: ConnectionUsers,
    private readonly handle: DriverHandle,
  ) {
    super({ database });
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const users = this.users;
    const handle = this.handle;
    const init = driver.init.bind(driver);
    const destroy = driver.destroy.bind(driver);
    driver.init = async () => {
      await init();
      handle.ready = true;
    };
    driver.destroy = async () => {
      handle.ready = false;
      await destroy();
    };
    handle.driver = driver;
    const acquire = driver.acquireConnection.bind(driver);
    const release = driver.releaseConnection.bind(driver);
    driver.acquireConnection = async () => {
      users.count++;
      try {
        return await acquire();
      } catch (e) {
        users.count--;
        throw e;
      }
    };
    driver.releaseConnection = async (connection) => {
      try {
        await release(connection);
      } finally {
        users.count--;
      }
    };
    return driver;
  }
}

/**
 * SQLite's SQL (better-sqlite3 binds `?`; a bare OFFSET needs `LIMIT -1`). A transaction's
 * statements run at once on `connection` (the one connection, which Kysely's driver hands to the
 * running transaction alone); so does a statement outside a transaction while Kysely has nobody
 * using or waiting for the connection (`users`), with the result Kysely's SqliteConnection gives.
 */
function specFor(busyTimeoutMs: number, connection?: SqliteDatabase, users?: ConnectionUsers): DialectSpec {
  return {
    ...(connection ? { runInTransaction: (query: Statement) => runOn(connection, query) } : {}),
    ...(connection && users
      ? { runOutsideTransaction: (query: Statement) => (users.count === 0 ? runOn(connection, query) : undefined) }
      : {}),
    kind: 'sqlite',
    adapter: new SqliteAdapter(busyTimeoutMs),
    columnType: (t) => {
      switch (t) {
        case 'number':
        case 'currency':
          return 'real';
        case 'integer':
        case 'boolean':
          return 'integer';
        default:
          return 'text';
      }
    },
    maxParams: 32_000,
    encodeBoolean: (v) => (v ? 1 : 0),
    likeOperator: 'like',
    placeholder: () => '?',
    noLimit: -1,
    fullText: sqliteFullText,
    schemaObjects: () => sql<{ name: string; col: string | null }>`
      select m.name as name, p.name as col from sqlite_master m join pragma_table_info(m.name) p where m.type = 'table'
      union all select name, null from sqlite_master where type in ('table', 'index', 'trigger')`,
  };
}

/**
 * How long a call waits for another connection's lock by default (ms). A transaction waits for the
 * write lock asynchronously (the process keeps serving); a read outside a transaction that finds
 * the file locked (rare in WAL mode) waits inside SQLite, which blocks the process meanwhile.
 */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/**
 * The engine's error for a SQLite fault, or null when `err` is not one: a lock another connection
 * held past busy_timeout (SQLITE_BUSY / SQLITE_LOCKED) → UNABLE_TO_LOCK_ROW; no room to grow
 * (SQLITE_FULL: the disk, or max_page_count) → STORAGE_FULL; the file failing under it
 * (SQLITE_IOERR, SQLITE_CANTOPEN) → STORAGE_UNAVAILABLE. A stale WAL snapshot (SQLITE_BUSY_SNAPSHOT)
 * is left as it is: `atomically` re-runs that transaction at once. SQLite never commits part of a
 * failed transaction, so every fault is `committed: false`.
 */
export function sqliteFault(err: unknown, busyTimeoutMs: number): StorageFault | null {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_') || code === 'SQLITE_BUSY_SNAPSHOT') return null;
  const what = `(SQLite ${code}: ${(err as Error).message})`;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StorageFault(
      'UNABLE_TO_LOCK_ROW',
      `Waited ${busyTimeoutMs} ms (busy_timeout) for another connection's lock on the database ${what}.`,
      false,
      err,
    );
  }
  if (code === 'SQLITE_FULL') return new StorageFault('STORAGE_FULL', what, false, err);
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN'))
    return new StorageFault('STORAGE_UNAVAILABLE', what, false, err);
  return null;
}

type KyselyStatement = ReturnType<SqliteDatabase['prepare']>;

/** `rollback` when SQLite already rolled the transaction back itself (it does on SQLITE_FULL, SQLITE_BUSY…). */
const NOTHING_TO_ROLL_BACK: KyselyStatement = {
  reader: false,
  all: () => [],
  run: () => ({ changes: 0, lastInsertRowid: 0 }),
  iterate: () => [][Symbol.iterator](),
};

/**
 * BEGIN IMMEDIATE found the write lock taken by another connection. Nothing ran yet, so
 * `SqliteStore.transaction` waits (asynchronously: the process keeps serving) and begins again,
 * until busy_timeout has passed.
 */
class WriteLockTaken extends Error {
  constructor(readonly driverError: unknown) {
    super('the database write lock is taken');
  }
}

/**
 * The slice of better-sqlite3 Kysely uses, with prepared statements cached by SQL text: Kysely
 * prepares every query anew, which costs more than running it. Statements are reusable because
 * Kysely only calls `all`/`run` (which finish synchronously); the cache is bounded (first in,
 * first out: a hit is one map read).
 *
 * It also makes faults clear: every driver error that is a database fault becomes the engine's
 * StorageFault (`sqliteFault`); transactions begin IMMEDIATE — a transaction takes the write lock
 * first (a deferred one that read first and then wants to write gets SQLITE_BUSY at once) — and
 * without SQLite's own busy wait, which would block the whole process (better-sqlite3 is
 * synchronous): a taken lock throws WriteLockTaken for SqliteStore to wait out. A `rollback` after
 * SQLite already rolled back by itself does nothing (instead of failing and hiding the fault).
 *
 * busy_timeout is 0 while BEGIN IMMEDIATE runs and `busyTimeoutMs` otherwise. In WAL mode
 * (`walMode`) it is set back lazily: a transaction's statements never wait for a lock there (its
 * BEGIN IMMEDIATE already holds the write lock and its read snapshot), so it stays 0 until a
 * statement outside a transaction writes or is prepared (`ensureWaiting`) or a read there finds a
 * lock taken (`reading`), and a transaction that follows another sets nothing — up to two pragma
 * statements fewer per transaction. Elsewhere (a rollback journal,
 * where COMMIT waits for readers) it is set back right after BEGIN, as always.
 */
function cachingDatabase(
  db: Database.Database,
  busyTimeoutMs: number,
  walMode = false,
  size = 512,
): SqliteDatabase & { ensureWaiting(): void } {
  const cache = new Map<string, KyselyStatement>();
  const guard = <T>(run: () => T): T => {
    try {
      return run();
    } catch (e) {
      throw sqliteFault(e, busyTimeoutMs) ?? e;
    }
  };
  const noWait = db.prepare('pragma busy_timeout = 0');
  const wait = db.prepare(`pragma busy_timeout = ${busyTimeoutMs}`);
  const beginImmediate = db.prepare('begin immediate');
  /** Whether busy_timeout is `busyTimeoutMs` now (else 0). */
  let waiting = true;
  const ensureWaiting = () => {
    if (!waiting && !db.inTransaction) {
      wait.get();
      waiting = true;
    }
  };
  /**
   * A reading statement's run: outside a transaction with busy_timeout still 0 (WAL mode, see
   * above), a lock it finds taken (SQLITE_BUSY, e.g. another connection recovering the WAL) makes it
   * set busy_timeout back and run again — waiting as it would have, for as long. Nothing ran: a
   * failed read changes nothing.
   */
  const reading = <T>(run: () => T): T => {
    try {
      return run();
    } catch (e) {
      const code = (e as { code?: unknown })?.code;
      if (!waiting && typeof code === 'string' && code.startsWith('SQLITE_BUSY') && !db.inTransaction) {
        ensureWaiting();
        return guard(run);
      }
      throw sqliteFault(e, busyTimeoutMs) ?? e;
    }
  };
  const begin = {
    reader: false,
    all: () => [],
    run: () => {
      if (waiting) {
        noWait.get();
        waiting = false;
      }
      let began = false;
      try {
        const out = beginImmediate.run();
        began = true;
        return out;
      } catch (e) {
        const code = (e as { code?: unknown })?.code;
        if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))) throw new WriteLockTaken(e);
        throw sqliteFault(e, busyTimeoutMs) ?? e;
      } finally {
        if (!walMode || !began) {
          wait.get();
          waiting = true;
        }
      }
    },
    iterate: () => [][Symbol.iterator](),
  } as unknown as KyselyStatement;
  return {
    close: () => db.close(),
    ensureWaiting,
    prepare: (sql: string) => {
      if (sql === 'begin') return begin;
      if (sql === 'rollback' && !db.inTransaction) return NOTHING_TO_ROLL_BACK;
      let stmt = cache.get(sql);
      if (!stmt) {
        ensureWaiting();
        const raw = guard(() => db.prepare(sql));
        const rows = raw.reader ? rowMaker(raw) : null;
        const writing = <T>(run: () => T): T => {
          if (!waiting) ensureWaiting();
          return guard(run);
        };
        stmt = (rows
          ? {
              reader: true,
              all: (params: ReadonlyArray<unknown>) => rows.all(reading(() => raw.all(params) as unknown[][])),
              run: (params: ReadonlyArray<unknown>) => writing(() => raw.run(params)),
              iterate: (params: ReadonlyArray<unknown>) => {
                if (!waiting) ensureWaiting();
                return rows.iterate(raw.iterate(params) as IterableIterator<unknown[]>);
              },
            }
          : {
              reader: raw.reader,
              all: (params: ReadonlyArray<unknown>) => (raw.reader ? reading(() => raw.all(params)) : writing(() => raw.all(params))),
              run: (params: ReadonlyArray<unknown>) => writing(() => raw.run(params)),
              iterate: (params: ReadonlyArray<unknown>) => {
                if (!waiting) ensureWaiting();
                return raw.iterate(params);
              },
            }) as unknown as KyselyStatement;
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

/**
 * Row objects for a reading statement, built from its raw rows (arrays). better-sqlite3 (on
 * Node < 22) builds a named row by setting one property at a time from C++, which turns an object
 * of more than ~16 columns into a dictionary (slow to build and to read afterwards); here each row
 * is one object literal with the statement's columns (a fast object, keys in column order), made by
 * a function generated once per statement (the names written as JSON string literals) — the same
 * keys, order and values (a repeated name keeps the last column's value, as better-sqlite3 does). A
 * row whose length differs from the columns known (the schema grew under a `select *`: SQLite
 * re-prepares it) reads the columns again. Null (named rows) for a column named `__proto__`, which
 * only better-sqlite3's own assignment treats as it does. Exported for its tests (@internal); it
 * switches `raw` to raw mode.
 */
export function rowMaker(raw: Database.Statement) {
  let names: string[] = [];
  let literal: (values: unknown[]) => Record<string, unknown> = () => ({});
  const learn = () => {
    names = raw.columns().map((c) => c.name);
    literal = rowLiteral(names);
  };
  learn();
  if (names.includes('__proto__')) return null;
  raw.raw(true);
  const make = (values: unknown[]): Record<string, unknown> => {
    if (values.length !== names.length) {
      learn();
      if (names.includes('__proto__')) throw new Error(`a column named __proto__ in ${raw.source}`);
    }
    return literal(values);
  };
  return {
    all: (list: unknown[][]): Record<string, unknown>[] => {
      const out = new Array<Record<string, unknown>>(list.length);
      for (let i = 0; i < list.length; i++) out[i] = make(list[i]!);
      return out;
    },
    *iterate(it: IterableIterator<unknown[]>): IterableIterator<Record<string, unknown>> {
      for (const values of it) yield make(values);
    },
  };
}

/**
 * `(values) => ({ [names[0]]: values[0], … })` as one object literal: V8 builds it with its final
 * shape at once, where setting ~40 properties by name one after another costs several times more.
 * Each name is written as a JSON string literal, so no column name can be anything but a key.
 */
export function rowLiteral(names: readonly string[]): (values: unknown[]) => Record<string, unknown> {
  const body = `return {${names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(', ')}};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated once per statement from column names (see above)
  return new Function('v', body) as (values: unknown[]) => Record<string, unknown>;
}

/** Runs `attempt` again while it fails with WriteLockTaken, polling, until `busyTimeoutMs` has passed. */
async function waitingForWriteLock<T>(busyTimeoutMs: number, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + busyTimeoutMs;
  for (let pause = 1; ; pause = Math.min(25, pause * 2)) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof WriteLockTaken)) throw e;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StorageFault(
          'UNABLE_TO_LOCK_ROW',
          `Waited ${busyTimeoutMs} ms (busy_timeout) for another connection's lock on the database (SQLite ${(e.driverError as { code?: string }).code}: ${(e.driverError as Error).message}).`,
          false,
          e.driverError,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(pause, left)));
    }
  }
}

/** The migration running (or last run) on each database file of this process, by absolute path. */
const migrations = new Map<string, Promise<void>>();

/**
 * Runs `fn` after every earlier call for the same file has finished (an in-memory database is
 * its connection's own: no wait). Stores of one process opening one new file at once would
 * otherwise all find it empty and queue for its write lock; here the second finds the schema made.
 */
async function oneAtATime(filename: string, fn: () => Promise<void>): Promise<void> {
  if (filename === ':memory:' || filename === '') return fn();
  const key = resolve(filename);
  const before = migrations.get(key) ?? Promise.resolve();
  const mine = before.then(fn, fn);
  const settled = mine.then(
    () => {},
    () => {},
  );
  migrations.set(key, settled);
  try {
    await mine;
  } finally {
    if (migrations.get(key) === settled) migrations.delete(key);
  }
}

/** Options of the SQLite backend (also given as `?busy_timeout=…&max_page_count=…` after the file path). */
export interface SqliteOptions {
  /** How long a statement waits for another connection's lock before UNABLE_TO_LOCK_ROW (ms; default 5 000). */
  busyTimeoutMs?: number;
  /** Caps the database at this many pages (PRAGMA max_page_count): a size-limited database; writes past it fail with STORAGE_FULL. */
  maxPageCount?: number;
}

/** Splits `path?busy_timeout=…&max_page_count=…` into the path and its options; other parameters are refused. */
function parseLocation(location: string): { filename: string; options: SqliteOptions } {
  const q = location.indexOf('?');
  if (q < 0) return { filename: location, options: {} };
  const options: SqliteOptions = {};
  for (const [key, value] of new URLSearchParams(location.slice(q + 1))) {
    const n = Number(value);
    const bad = (what: string) =>
      new EngineError('INVALID_INPUT', `The storage location's ${key} parameter '${value}' must be ${what}.`, ['storage']);
    if (key === 'busy_timeout') {
      if (!/^\d+$/.test(value) || n > 3_600_000) throw bad('an integer number of milliseconds from 0 to 3600000');
      options.busyTimeoutMs = n;
    } else if (key === 'max_page_count') {
      if (!/^\d+$/.test(value) || n < 1 || n > 4_294_967_294) throw bad('a positive integer');
      options.maxPageCount = n;
    } else {
      throw new EngineError(
        'INVALID_INPUT',
        `The storage location has an unknown parameter '${key}'; a SQLite location takes busy_timeout and max_page_count.`,
        ['storage'],
      );
    }
  }
  return { filename: location.slice(0, q), options };
}

const BEGIN: Statement = { sql: 'begin', parameters: [] };
const COMMIT: Statement = { sql: 'commit', parameters: [] };
const ROLLBACK: Statement = { sql: 'rollback', parameters: [] };

/**
 * How `SqliteStore` runs a transaction itself: Kysely's driver (`DriverHandle`) to take the one
 * connection from, that connection (`cachingDatabase`) to run BEGIN, COMMIT and ROLLBACK on, and a
 * Kysely of its own on it (no other users) for the transaction's statements that go through
 * Kysely's executor (select, text search) while the transaction holds the connection.
 */
interface HeldConnection {
  handle: DriverHandle;
  connection: SqliteDatabase & { ensureWaiting(): void };
  db: Kysely<any>;
}

/** The SQLite store: a KyselyStore that can also change its size cap while running. */
export class SqliteStore extends KyselyStore {
  constructor(
    db: Kysely<any>,
    private readonly database: Database.Database,
    private readonly busyTimeoutMs: number,
    /** The connection Kysely's driver runs on (a transaction's statements run on it at once). */
    connection?: SqliteDatabase,
    /** Who holds or waits for it through Kysely (see `ConnectionUsers`). */
    private readonly users: ConnectionUsers = { count: 1 },
    /** Where given, transactions take the connection from Kysely's driver and run themselves (`heldTransaction`). */
    private readonly held?: HeldConnection,
  ) {
    super(db, specFor(busyTimeoutMs, connection, users));
  }

  /** A transaction; while another connection holds the write lock it waits up to busy_timeout, then UNABLE_TO_LOCK_ROW. */
  override async transaction<T>(fn: (tx: StorageOps) => Promise<T>): Promise<T> {
    this.users.count++;
    try {
      return await waitingForWriteLock(this.busyTimeoutMs, () => this.heldTransaction(fn));
    } finally {
      this.users.count--;
    }
  }

  /**
   * One attempt of a transaction, as Kysely's transaction builder runs it (take the connection from
   * its driver, BEGIN, the body, COMMIT — ROLLBACK when the body or the COMMIT fails — and give the
   * connection back) without its per-transaction objects and promise steps: BEGIN, COMMIT and
   * ROLLBACK run at once on the connection (the same statements as Kysely's: `cachingDatabase`'s
   * BEGIN IMMEDIATE, a ROLLBACK after SQLite's own doing nothing). Before Kysely has initialised its
   * driver (its first statement) and once it is destroyed (closing), Kysely's own path, which
   * initialises it or refuses as it always did.
   */
  private async heldTransaction<T>(fn: (tx: StorageOps) => Promise<T>): Promise<T> {
    const held = this.held;
    const driver = held?.handle.ready ? held.handle.driver : null;
    if (!held || !driver) return super.transaction(fn);
    const connection: DatabaseConnection = await driver.acquireConnection();
    try {
      runOn(held.connection, BEGIN);
      try {
        const result = await this.transactionBody(held.db, fn);
        runOn(held.connection, COMMIT);
        return result;
      } catch (e) {
        runOn(held.connection, ROLLBACK);
        throw e;
      }
    } finally {
      await driver.releaseConnection(connection);
    }
  }

  /**
   * Migrates (see KyselyStore.migrate); stores of this process on the same file migrate one at a
   * time (`oneAtATime`), each after the one before has committed — the next one finds the schema
   * current and only reads.
   */
  override async migrate(): Promise<void> {
    await oneAtATime(this.database.name, async () => {
      this.users.count++;
      try {
        await waitingForWriteLock(this.busyTimeoutMs, () => super.migrate());
      } finally {
        this.users.count--;
      }
    });
  }

  /** Closes it; from here every statement goes through Kysely, which refuses it (as before any closing). */
  override async close(): Promise<void> {
    this.users.count++;
    await super.close();
  }

  /**
   * Caps the database at `pages` pages (PRAGMA max_page_count; SQLite never sets it below the
   * pages in use) and returns the cap in force: a size-limited database, raised again when there is room.
   */
  limitPages(pages: number): number {
    if (!Number.isInteger(pages) || pages < 1)
      throw new EngineError('INVALID_INPUT', `max_page_count must be a positive integer, not ${pages}.`, ['maxPageCount']);
    this.held?.connection.ensureWaiting();
    return Number(this.database.pragma(`max_page_count = ${pages}`, { simple: true }));
  }

  /** Pages the database uses now (PRAGMA page_count). */
  pageCount(): number {
    this.held?.connection.ensureWaiting();
    return Number(this.database.pragma('page_count', { simple: true }));
  }
}

/**
 * Opens (creating if needed) a SQLite database file, or an in-memory one for `':memory:'`. The
 * location may end in `?busy_timeout=ms&max_page_count=n` (see SqliteOptions); `options` win over it.
 */
export function openSqlite(location: string, options: SqliteOptions = {}): SqliteStore {
  const { filename, options: fromLocation } = parseLocation(location);
  const opts = { ...fromLocation, ...options };
  const busyTimeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0)
    throw new EngineError('INVALID_INPUT', `busyTimeoutMs must be a non-negative integer, not ${busyTimeoutMs}.`, ['busyTimeoutMs']);
  let database: Database.Database;
  try {
    database = new Database(filename);
  } catch (e) {
    throw sqliteFault(e, busyTimeoutMs) ?? e;
  }
  database.pragma(`busy_timeout = ${busyTimeoutMs}`);
  let walMode = false;
  try {
    if (filename !== ':memory:') walMode = String(database.pragma('journal_mode = WAL', { simple: true })).toLowerCase() === 'wal';
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = OFF');
  } catch (e) {
    database.close();
    throw sqliteFault(e, busyTimeoutMs) ?? e;
  }
  const connection = cachingDatabase(database, busyTimeoutMs, walMode);
  const users: ConnectionUsers = { count: 0 };
  const handle: DriverHandle = { driver: null, ready: false };
  const db = new Kysely<any>({ dialect: new CountingSqliteDialect(connection, users, handle) });
  // Never destroyed: closing the store closes the connection (through `db`).
  const heldDb = new Kysely<any>({ dialect: new SqliteDialect({ database: connection }) });
  const store = new SqliteStore(db, database, busyTimeoutMs, connection, users, { handle, connection, db: heldDb });
  if (opts.maxPageCount !== undefined) store.limitPages(opts.maxPageCount);
  return store;
}
