/**
 * The storage port: what the engine needs from a database, and nothing more. Records are plain
 * objects keyed by Salesforce API names with JS values (booleans, numbers, strings, string lists,
 * null); adapters convert to and from their column types. Every backend passes the same contract
 * suite (test/storage/contract.ts).
 */

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

/** Reads and writes, inside or outside a transaction. */
export interface StorageOps {
  /** One row by id, or undefined. */
  get(object: string, id: string, opts?: { forUpdate?: boolean }): Promise<Row | undefined>;
  /** Rows matching every filter. */
  find(object: string, opts?: FindOptions): Promise<Row[]>;
  /** How many rows match. */
  count(object: string, where?: readonly Filter[]): Promise<number>;
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
}

/** A database behind the engine. */
export interface Storage extends StorageOps {
  readonly kind: 'sqlite' | 'postgres';
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
