/**
 * The storage port: what the engine needs from a database, and nothing more. Records are plain
 * objects keyed by Salesforce API names with JS values (booleans, numbers, strings, string lists,
 * null); adapters convert to and from their column types. Every backend passes the same contract
 * suite (test/storage/contract.test.ts). What a backend can do and how its errors read is its
 * `StorageAdapter` (defaults: `StorageAdapterBase`): the engine asks it, never a driver error code.
 */
import { StorageFault } from '../errors.js';

/** A stored row: API field names (and internal `_` columns) to JS values. */
export type Row = Record<string, unknown>;

/** One comparison in a `where` list; lists are joined by AND. */
export type Filter =
  | { field: string; op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: unknown }
  | { field: string; op: 'in' | 'not in'; value: readonly unknown[] }
  | { field: string; op: 'like'; value: string }
  | { field: string; op: 'is null' | 'is not null' };

/** Sort order of a `find`. */
export interface OrderBy {
  field: string;
  direction: 'asc' | 'desc';
  nulls?: 'first' | 'last';
}

/** Options of a `find`. */
export interface FindOptions {
  where?: readonly Filter[];
  orderBy?: readonly OrderBy[];
  limit?: number;
  offset?: number;
  /** Take row locks (PostgreSQL `FOR UPDATE`); a no-op where the transaction already serializes. */
  forUpdate?: boolean;
}

/** A column of one table of a `select`: `alias` names the table ('t0' is the plan's object, others its joins). */
export interface ColumnRef {
  alias: string;
  field: string;
}

/**
 * A condition of a `select`: comparisons on aliased columns, combined by AND / OR / NOT. SOQL's
 * two-valued logic: a comparison on a null column is false, and NOT of it is true.
 */
export type Predicate = (Filter & { alias: string }) | { and: readonly Predicate[] } | { or: readonly Predicate[] } | { not: Predicate };

/** A left join to the row a reference column names; `on` adds conditions (e.g. sharing) the joined row must meet, else its columns are null. */
export interface SelectJoin {
  alias: string;
  object: string;
  from: ColumnRef;
  on?: Predicate;
}

/** Aggregate functions of a `select`. */
export type AggregateFn = 'count' | 'count_distinct' | 'sum' | 'avg' | 'min' | 'max';

/** One output column of a `select`, named `as` in the returned rows: a column, or an aggregate (`count` without `ref` counts rows). */
export type SelectColumn = { as: string } & ({ ref: ColumnRef; fn?: undefined } | { fn: AggregateFn; ref?: ColumnRef });

/** A read across an object and the parents its reference columns name, with optional grouping. */
export interface SelectPlan {
  object: string;
  joins?: readonly SelectJoin[];
  columns: readonly SelectColumn[];
  where?: Predicate;
  groupBy?: readonly ColumnRef[];
  orderBy?: readonly (OrderBy & { alias: string })[];
  limit?: number;
  offset?: number;
}

/** Which cart `checkoutFacts` reads: by id, or the cart of a checkout session (that session, archived or not). */
export type FactsKey = { cartId: string } | { sessionId: string };

/**
 * Everything the usage requirements and the checkout actions look at, read by one statement: the
 * cart, its checkout session (the active one, or the one asked for), the session's current
 * operation, the cart's store, and what the caller's access depends on.
 */
export interface CheckoutFacts {
  cart: Row | undefined;
  session: Row | undefined;
  operation: Row | undefined;
  store: Row | undefined;
  /** Whether the cart's account exists. */
  accountExists: boolean;
  /** BuyerStatus of the account's BuyerAccount, or null without one. */
  buyerStatus: string | null;
  /** Whether the account is in a buyer group assigned to the cart's store. */
  storeMember: boolean;
  /** The user's best share on the cart (null for its owner, or without a share). */
  share: 'Edit' | 'Read' | null;
}

/**
 * A full-text query of an object's full-text index (`ObjectDef.fullText`): rows where every word of
 * `words` starts a word of an indexed field (prefix match, case-insensitive), that also meet `where`.
 */
export interface TextQuery {
  /** Lowercase words of letters and digits (`searchWords` splits a search term into them); at least one. */
  words: readonly string[];
  where?: readonly Filter[];
  limit?: number;
  offset?: number;
}

/** What `textSearch` answers: a page of matching ids, best match first (then by Id), and how many match in all. */
export interface TextSearchResult {
  ids: string[];
  total: number;
}

/** A search term split into the words full-text indexes hold: runs of letters and digits, lowercased (at most 32). */
export function searchWords(term: string): string[] {
  return (term.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 32);
}

/**
 * One write of `writeBatch`: an update of one row by id when every `expect` filter also holds
 * (compare-and-set, like `update`), or an insert of rows (like `insert`).
 */
export type BatchWrite =
  | { kind: 'update'; object: string; id: string; values: Row; expect?: readonly Filter[] }
  | { kind: 'insert'; object: string; rows: readonly Row[] };

/** One read of `findAll`: rows of `object` matching every filter, in `orderBy` order (else in no particular order). */
export interface MultiRead {
  object: string;
  where: readonly Filter[];
  orderBy?: readonly OrderBy[];
}

/** What `appendSessionEntry` wrote: the history row as stored, and the session row's columns it was made from. */
export interface AppendedSessionEntry {
  /** The CheckoutSessionEvent row inserted (decoded). */
  row: Row;
  /** The session's Id, WebCartId, _version, _flow, _snapshot and State as the statement read them. */
  session: Row;
}

/** Reads and writes, inside or outside a transaction. */
export interface StorageOps {
  /** The checkout facts of a cart for `userId`, in one statement; `forUpdate` locks the cart (by cartId) or the session (by sessionId). */
  checkoutFacts(key: FactsKey, userId: string, opts?: { forUpdate?: boolean }): Promise<CheckoutFacts>;
  /** One row by id, or undefined. */
  get(object: string, id: string, opts?: { forUpdate?: boolean }): Promise<Row | undefined>;
  /**
   * One row by id and the row its `refField` points to (an id of `refObject`), in one statement:
   * undefined when there is no such row; `ref` undefined when the field is empty or dangling.
   */
  getWithRef(object: string, id: string, refField: string, refObject: string): Promise<{ row: Row; ref: Row | undefined } | undefined>;
  /** Rows matching every filter. */
  find(object: string, opts?: FindOptions): Promise<Row[]>;
  /**
   * The rows of several reads (each an object, its filters and optionally its order), in the order
   * asked: as many `find`s, in one round trip where the backend batches statements (`batchesWrites`).
   */
  findAll(reads: readonly MultiRead[]): Promise<Row[][]>;
  /**
   * Runs two reads (each a function of these row operations) with their statements sent together:
   * in one round trip where the backend pipelines statements (`DialectSpec.pipelined`: PostgreSQL,
   * each read's answer sent before the next read runs), one after the other elsewhere. Only what a
   * read sends before its first await goes out together, so `second` must not depend on `first`.
   * Each read settles on its own, in order: when `first` fails, `second` fails with the same error
   * (the backend skips it) — as if `second` had been run only after `first` succeeded.
   */
  readTogether<A, B>(
    first: (ops: StorageOps) => Promise<A>,
    second: (ops: StorageOps) => Promise<B>,
  ): Promise<[PromiseSettledResult<A>, PromiseSettledResult<B>]>;
  /** How many rows match. */
  count(object: string, where?: readonly Filter[]): Promise<number>;
  /** Runs a select plan (joins, condition tree, aggregates); rows are keyed by the columns' `as` names, values decoded. */
  select(plan: SelectPlan): Promise<Row[]>;
  /**
   * Searches an object's full-text index (objects declaring `fullText`; see `TextQuery`). A backend
   * without the capability (`adapter.supportsFullText` false) throws.
   */
  textSearch(object: string, query: TextQuery): Promise<TextSearchResult>;
  /** Inserts rows (batched); a unique-key violation throws `UniqueViolation`. */
  insert(object: string, rows: readonly Row[]): Promise<void>;
  /**
   * Updates one row by id when every `expect` filter also holds (compare-and-set).
   * Returns false when no row matched: missing, or the expectation failed.
   */
  update(object: string, id: string, values: Row, expect?: readonly Filter[]): Promise<boolean>;
  /** Sets one column to a per-row value (id → value) in batched statements; returns how many rows changed. */
  updateColumn(object: string, field: string, values: ReadonlyMap<string, unknown>): Promise<number>;
  /** Updates every row matching `where`; returns how many changed. */
  updateWhere(object: string, where: readonly Filter[], values: Row): Promise<number>;
  /** Deletes rows by id; returns how many were deleted. */
  delete(object: string, ids: readonly string[]): Promise<number>;
  /**
   * Updates many rows, each by id with its own values, in batched statements (rows setting the same
   * fields share one `UPDATE … SET f = CASE Id WHEN … END … WHERE Id IN (…)` per chunk; a field
   * with one value for the whole chunk is set plainly). Returns how many rows were updated.
   */
  updateRows(object: string, rows: readonly { id: string; values: Row }[]): Promise<number>;
  /**
   * Runs `writes` in order, as `update` and `insert` would one by one, and stops at the first update
   * that matched no row: returns that update's index (nothing after it ran), or -1 when every write
   * ran. A backend with `StorageAdapter.batchesWrites` sends them as one statement (one round trip);
   * others run them one by one. A unique-key violation throws `UniqueViolation`.
   */
  writeBatch(writes: readonly BatchWrite[]): Promise<number>;
  /**
   * Appends a CheckoutSessionEvent row for the cart's active (not archived) checkout session, in one
   * statement where the backend's SQL allows (src/storage/session-entry.ts): `row` gives every
   * column but SessionId and CartId (the session's Id and WebCartId), Seq (its `_version`, 0 when
   * null), Sub (how many entries the session has at that Seq) and StateBefore = StateAfter (the state
   * path of its `_snapshot` value where the SQL knows the shape, else ''). Undefined (nothing
   * written) when the cart has no active session.
   */
  appendSessionEntry(cartId: string, row: Row): Promise<AppendedSessionEntry | undefined>;
}

/** How to reach the database a shared operation queue (pg-boss) lives in, next to the engine's tables. */
export interface QueueConnection {
  /** A postgres:// URL without the engine's `schema` parameter. */
  connectionString: string;
  /** The engine's schema; pg-boss lives in `<schema>_pgboss` (or `pgboss` for `public`). */
  schema: string;
}

/**
 * What a backend declares about itself, the way Kysely's `DialectAdapter` does: capabilities as
 * flags, error classification as functions. The engine (transactions, the operation queue) asks
 * these and never tests a driver's error codes itself. Extend `StorageAdapterBase` and override
 * what differs from its defaults.
 */
export interface StorageAdapter {
  /** `SELECT … FOR UPDATE` takes row locks. Default false: a transaction already serializes the whole database. */
  readonly supportsRowLocks: boolean;
  /**
   * LISTEN/NOTIFY: processes sharing the database wake each other when an operation is queued or
   * finishes. Default false: waiters re-read on a poll.
   */
  readonly supportsNotify: boolean;
  /**
   * A full-text index over the fields an object declares in `fullText` (SQLite FTS5, PostgreSQL
   * tsvector with a GIN index), kept in step with every insert, update and delete of its table by
   * the database itself, and `textSearch` over it. Default false: `textSearch` refuses.
   */
  readonly supportsFullText: boolean;
  /**
   * Data-modifying common table expressions (PostgreSQL `WITH u AS (UPDATE … RETURNING 1) INSERT …`)
   * and JSON row aggregates: `writeBatch` sends its writes, `findAll` its reads, as one statement
   * (one round trip). Default false: one statement each.
   */
  readonly batchesWrites: boolean;
  /**
   * Where an operation queue shared by every engine process on this database lives (pg-boss).
   * Default undefined: no shared queue; operations run on the in-process queue (one process per database).
   */
  queueConnection(): QueueConnection | undefined;
  /** Whether a driver error is a unique-key violation (the store throws `UniqueViolation` for it). Default false. */
  isUniqueViolation(err: unknown): boolean;
  /**
   * Whether a transaction failed only because a concurrent one won a serialization race (a deadlock,
   * a stale snapshot): nothing committed, and running it again at once may succeed. The engine
   * re-runs it a few times, then reports CONFLICT. Default false.
   */
  isSerializationFailure(err: unknown): boolean;
  /**
   * The engine's error for a driver error that is a database fault, or null when it is not one:
   * a lock wait that timed out → UNABLE_TO_LOCK_ROW, a statement timeout → STORAGE_TIMEOUT, a full
   * disk or size cap → STORAGE_FULL, a connection refused or lost → STORAGE_UNAVAILABLE (with
   * `committed` saying whether it may have committed). Default: a StorageFault as it is, else null.
   */
  classifyFault(err: unknown): StorageFault | null;
  /**
   * Whether a failed transaction (or read) may run again on a fresh connection: the failure proves
   * nothing was saved. Default: a StorageFault STORAGE_UNAVAILABLE with `committed: false` (the
   * connection went away before COMMIT). A lock or statement timeout, a full disk, or a commit of
   * unknown outcome is not retryable.
   */
  isRetryable(err: unknown): boolean;
}

/** `StorageAdapter` with its documented defaults; a backend overrides what differs. */
export class StorageAdapterBase implements StorageAdapter {
  get supportsRowLocks(): boolean {
    return false;
  }
  get supportsNotify(): boolean {
    return false;
  }
  get supportsFullText(): boolean {
    return false;
  }
  get batchesWrites(): boolean {
    return false;
  }
  queueConnection(): QueueConnection | undefined {
    return undefined;
  }
  isUniqueViolation(_err: unknown): boolean {
    return false;
  }
  isSerializationFailure(_err: unknown): boolean {
    return false;
  }
  classifyFault(err: unknown): StorageFault | null {
    return err instanceof StorageFault ? err : null;
  }
  isRetryable(err: unknown): boolean {
    return err instanceof StorageFault && err.key === 'STORAGE_UNAVAILABLE' && err.committed === false;
  }
}

/** A database behind the engine. */
export interface Storage extends StorageOps {
  /** The backend's name: the name of its folder under src/storage/ ('sqlite', 'postgres', …). */
  readonly kind: string;
  /** What the backend can do and how its errors read. */
  readonly adapter: StorageAdapter;
  /** Brings the schema up to date (idempotent; run on start). */
  migrate(): Promise<void>;
  /** Runs `fn` in one serializable-enough transaction: all of it commits, or none of it. */
  transaction<T>(fn: (tx: StorageOps) => Promise<T>): Promise<T>;
  /** Closes connections. */
  close(): Promise<void>;
}

/** Thrown by `insert`/`update` when a unique key (one order per session, one active session per cart…) would repeat. */
export class UniqueViolation extends Error {
  constructor(
    readonly object: string,
    cause: unknown,
  ) {
    super(`unique key violated on ${object}`, { cause });
    this.name = 'UniqueViolation';
  }
}

/**
 * What a backend folder exports as `backend` from its `backend.ts` (src/storage/<name>/backend.ts):
 * how `openStorage` picks it for a location and opens it. Keep that file light (import the driver
 * inside `open`), since every backend's descriptor is loaded to pick one.
 */
export interface StorageBackend {
  /** The backend's name; equals its folder's name and the opened store's `kind`. */
  readonly name: string;
  /** Whether this backend opens `location` (e.g. a `postgres://` URL). */
  accepts(location: string): boolean;
  /** Opens every location no other backend accepts (SQLite: file paths and ':memory:'). At most one backend says so. */
  readonly fallback?: boolean;
  /** Opens (connects to, creates) the database at `location`; `migrate()` brings its schema up to date. */
  open(location: string): Promise<Storage>;
}
