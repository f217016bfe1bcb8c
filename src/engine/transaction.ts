/**
 * The transaction object every engine write goes through (`EngineCore.atomically` hands one to its
 * callback): the database transaction's row operations, the session-history journal of what the
 * transaction offered to sessions, and the origin of the call it runs for. All three travel on the
 * one object, passed explicitly — nothing rides beside the transaction in a side table or in the
 * async context.
 */
import type {
  AppendedSessionEntry,
  BatchWrite,
  CheckoutFacts,
  FactsKey,
  Filter,
  FindOptions,
  MultiRead,
  Row,
  SelectPlan,
  StorageOps,
  TextQuery,
  TextSearchResult,
} from '../storage/port.js';

/** Who offered an event, recorded in the session history: the action or path, its caller, its operation. */
export interface EventOrigin {
  /** The invocable action or engine path, e.g. `updateCheckoutSessionStateAction`, `updateRecord`, `worker`. */
  operation: string;
  /** The calling user's id; null for the engine itself (worker, expiry). */
  callerId: string | null;
  /** The BackgroundOperation the event belongs to, if any. */
  operationId?: string | null;
  /** The action input that led to the event (stored redacted). */
  input?: unknown;
}

/** One recorded session event (see `getHistory`). */
export interface HistoryEntry {
  sessionId: string;
  /** The session's flow id (known for live entries; not stored). */
  flowId?: string;
  cartId: string | null;
  /** The session's `_version` after the event (applied) or at the time of it (rejected). */
  seq: number;
  /** 0 for an applied event; 1, 2… for rejections offered at the same version. */
  sub: number;
  at: string;
  /** The event as offered, without derived facts, secrets redacted. */
  event: Record<string, unknown>;
  /** State path before, e.g. `inventory.running`. */
  from: string;
  /** State path after; equals `from` for a rejection. */
  to: string;
  accepted: boolean;
  rejection: { error: string; detail: string | null } | null;
  operation: string | null;
  operationId: string | null;
  callerId: string | null;
}

/** What a transaction recorded for after its end: accepted entries (told to listeners on commit) and rejections (written after it). */
export interface TxJournal {
  readonly accepted: HistoryEntry[];
  readonly rejected: HistoryEntry[];
}

/**
 * One attempt of an engine transaction: the row operations of the database transaction (it is a
 * `StorageOps`, so reads and writes go through it as through the storage), its journal, and the
 * origin of the call — the default origin of every session event offered in it (an event may name
 * its own: a step's completion committed in the claim's transaction is the worker's). A retried
 * transaction gets a fresh `Tx`: a lost attempt's journal is dropped with it.
 */
export class Tx implements StorageOps {
  /** What this attempt offered to sessions (see `applySessionEvent`). */
  readonly journal: TxJournal = { accepted: [], rejected: [] };
  /** Writes `defer` held back, with the error a failed compare-and-set of each throws. */
  private pending: { write: BatchWrite; onMiss?: () => Error }[] = [];

  // Each row operation returns the storage's own promise while no write is held back (no extra
  // async step per statement); the storage's operations are async, so they reject, never throw.

  constructor(
    /** The database transaction's row operations. */
    readonly ops: StorageOps,
    /** The call this transaction runs for; undefined for the engine's own work that names an origin per event. */
    readonly origin?: EventOrigin,
  ) {}

  checkoutFacts(key: FactsKey, userId: string, opts?: { forUpdate?: boolean }): Promise<CheckoutFacts> {
    return this.pending.length
      ? this.flush().then(() => this.ops.checkoutFacts(key, userId, opts))
      : this.ops.checkoutFacts(key, userId, opts);
  }
  get(object: string, id: string, opts?: { forUpdate?: boolean }): Promise<Row | undefined> {
    return this.pending.length ? this.flush().then(() => this.ops.get(object, id, opts)) : this.ops.get(object, id, opts);
  }
  getWithRef(object: string, id: string, refField: string, refObject: string): Promise<{ row: Row; ref: Row | undefined } | undefined> {
    return this.pending.length
      ? this.flush().then(() => this.ops.getWithRef(object, id, refField, refObject))
      : this.ops.getWithRef(object, id, refField, refObject);
  }
  find(object: string, opts?: FindOptions): Promise<Row[]> {
    return this.pending.length ? this.flush().then(() => this.ops.find(object, opts)) : this.ops.find(object, opts);
  }
  findAll(reads: readonly MultiRead[]): Promise<Row[][]> {
    return this.pending.length ? this.flush().then(() => this.ops.findAll(reads)) : this.ops.findAll(reads);
  }
  readTogether<A, B>(
    first: (ops: StorageOps) => Promise<A>,
    second: (ops: StorageOps) => Promise<B>,
  ): Promise<[PromiseSettledResult<A>, PromiseSettledResult<B>]> {
    return this.pending.length ? this.flush().then(() => this.ops.readTogether(first, second)) : this.ops.readTogether(first, second);
  }
  count(object: string, where?: readonly Filter[]): Promise<number> {
    return this.pending.length ? this.flush().then(() => this.ops.count(object, where)) : this.ops.count(object, where);
  }
  select(plan: SelectPlan): Promise<Row[]> {
    return this.pending.length ? this.flush().then(() => this.ops.select(plan)) : this.ops.select(plan);
  }
  textSearch(object: string, query: TextQuery): Promise<TextSearchResult> {
    return this.pending.length ? this.flush().then(() => this.ops.textSearch(object, query)) : this.ops.textSearch(object, query);
  }
  insert(object: string, rows: readonly Row[]): Promise<void> {
    return this.pending.length ? this.flush().then(() => this.ops.insert(object, rows)) : this.ops.insert(object, rows);
  }
  update(object: string, id: string, values: Row, expect?: readonly Filter[]): Promise<boolean> {
    return this.pending.length
      ? this.flush().then(() => this.ops.update(object, id, values, expect))
      : this.ops.update(object, id, values, expect);
  }
  updateColumn(object: string, field: string, values: ReadonlyMap<string, unknown>): Promise<number> {
    return this.pending.length
      ? this.flush().then(() => this.ops.updateColumn(object, field, values))
      : this.ops.updateColumn(object, field, values);
  }
  updateWhere(object: string, where: readonly Filter[], values: Row): Promise<number> {
    return this.pending.length
      ? this.flush().then(() => this.ops.updateWhere(object, where, values))
      : this.ops.updateWhere(object, where, values);
  }
  delete(object: string, ids: readonly string[]): Promise<number> {
    return this.pending.length ? this.flush().then(() => this.ops.delete(object, ids)) : this.ops.delete(object, ids);
  }
  updateRows(object: string, rows: readonly { id: string; values: Row }[]): Promise<number> {
    return this.pending.length ? this.flush().then(() => this.ops.updateRows(object, rows)) : this.ops.updateRows(object, rows);
  }
  writeBatch(writes: readonly BatchWrite[]): Promise<number> {
    return this.pending.length ? this.flush().then(() => this.ops.writeBatch(writes)) : this.ops.writeBatch(writes);
  }
  async appendSessionEntry(cartId: string, row: Row): Promise<AppendedSessionEntry | undefined> {
    await this.flush();
    return this.ops.appendSessionEntry(cartId, row);
  }

  /**
   * Holds `write` back until the transaction's next statement (any read or write through this
   * object) or its end, so writes that follow one another go out together (`writeBatch`: one round
   * trip where the backend batches). An update that then matches no row (its compare-and-set lost)
   * throws `onMiss()` there (else a plain Error), and nothing after it runs. Only for writes whose caller needs no answer
   * from them at once: the transaction fails with `onMiss()` before it commits.
   */
  defer(write: BatchWrite, onMiss?: () => Error): void {
    this.pending.push({ write, onMiss });
  }

  /** Sends the writes `defer` held back (EngineCore.atomically flushes before committing). */
  async flush(): Promise<void> {
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    const missed = await this.ops.writeBatch(batch.map((b) => b.write));
    if (missed >= 0) throw batch[missed]!.onMiss?.() ?? new Error(`a held-back update of ${batch[missed]!.write.object} matched no row`);
  }
}
