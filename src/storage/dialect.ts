/**
 * The SQL side of a backend: what the Kysely store (store.ts, crud.ts, select.ts,
 * checkout-facts.ts) needs to know about a database's SQL. Capabilities and error classification
 * are the backend's `StorageAdapter` (port.ts), carried here as `adapter`.
 */
import type { Kysely, QueryResult, RawBuilder } from 'kysely';
import type { FieldType, ObjectDef } from '../domain/objects.js';
import type { StorageAdapter } from './port.js';

/**
 * A statement as SQL text and its bound parameters: what a backend that runs statements itself
 * (SQLite's `runInTransaction`) needs. A Kysely `CompiledQuery` is one too; a plain one is turned
 * into a `CompiledQuery` only where it goes through Kysely's executor (PostgreSQL, or SQLite while
 * the connection is busy).
 */
export interface Statement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

/** What differs between backends' SQL. */
export interface DialectSpec {
  /** The backend's name (its folder under src/storage/); the store's `kind`. */
  readonly kind: string;
  /** Capabilities and error classification (row locks, unique violations, faults…). */
  readonly adapter: StorageAdapter;
  /** DDL column type for a field type (or an internal column type). */
  columnType(type: FieldType | 'text' | 'integer' | 'id'): string;
  /** Bound parameters allowed in one statement. */
  readonly maxParams: number;
  /** Booleans as the driver wants them. */
  encodeBoolean(v: boolean): unknown;
  /** The case-insensitive LIKE operator. */
  readonly likeOperator: 'like' | 'ilike';
  /** The text of the `index`th (1-based) bound parameter in raw SQL: `?` or `$1`. */
  placeholder(index: number): string;
  /** The LIMIT an OFFSET without a limit needs (SQLite: -1), or null where `limit null` means none. */
  readonly noLimit: number | null;
  /** The schema tables live in, where the backend has schemas. */
  readonly schema?: string;
  /** The backend's full-text index, when its adapter declares `supportsFullText`. */
  readonly fullText?: FullTextSql;
  /**
   * Runs a statement of a transaction at once on the connection the transaction holds, as the
   * driver's connection would (same result), without the query executor's per-statement work —
   * where the backend has one connection that a running transaction has to itself (SQLite).
   */
  runInTransaction?: (query: Statement) => QueryResult<any>;
  /**
   * Runs a statement outside a transaction at once, as `runInTransaction` does, where the backend
   * can tell nothing else uses or waits for its connection (SQLite); undefined: not now, go through
   * Kysely's executor.
   */
  runOutsideTransaction?: (query: Statement) => QueryResult<any> | undefined;
  /**
   * One statement standing for several reads that the backend's driver sends pipelined, in one round
   * trip (PostgreSQL); its result's `rows` are the reads' outcomes in order, as
   * `PromiseSettledResult`s of each read's `QueryResult`. Undefined: reads go one by one
   * (`StorageOps.readTogether`).
   */
  pipelined?: (reads: readonly Statement[]) => Statement;
  /**
   * The schema's tables (`name`, `col` null), each table's columns (`name` the table, `col` the
   * column) and its indexes and triggers (`name`, `col` null): one read, what `schemaIsCurrent` checks.
   */
  schemaObjects(): RawBuilder<{ name: string; col: string | null }>;
  /** Whether one statement text may hold several statements separated by `;` (PostgreSQL's simple protocol: one round trip). */
  readonly runsScripts?: boolean;
  /** Runs schema changes holding a cross-process lock (PostgreSQL advisory lock). */
  withMigrationLock?: (db: Kysely<any>, fn: (db: Kysely<any>) => Promise<void>) => Promise<void>;
  /**
   * Runs `fn` on one connection with the backend's lock and statement timeouts lifted (PostgreSQL's
   * `?statement_timeout=` / `?lock_timeout=`): the engine's start-up schema check is not a request.
   */
  untimed?: <T>(db: Kysely<any>, fn: (db: Kysely<any>) => Promise<T>) => Promise<T>;
}

/** The objects of a full-text index, as the one-pass schema creates them (see `FullTextSql.install`). */
export interface FullTextObjects {
  /** The names of the objects made (the index first), as `DialectSpec.schemaObjects` lists them. */
  objects: readonly string[];
  /** Creates the index, filled from the rows already stored: run where the first of `objects` is missing. */
  create: readonly string[];
  /** What keeps the index in step (idempotent): run after `create`, and on every sync. */
  keep: readonly string[];
}

/** The SQL of a backend's full-text index (see `StorageAdapter.supportsFullText`). */
export interface FullTextSql {
  /** The statements of the index of `object` over `fields` (see `FullTextObjects`); runs nothing. */
  install(object: ObjectDef, fields: readonly string[]): FullTextObjects;
  /**
   * A subquery over `object`'s index yielding `"Id"` and `"rank"` (lower is better) of the rows
   * matching every word of `words` as a word prefix.
   */
  match(object: ObjectDef, fields: readonly string[], words: readonly string[]): RawBuilder<unknown>;
}
