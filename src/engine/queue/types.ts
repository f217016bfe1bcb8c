/**
 * The operation-queue abstraction: where a committed BackgroundOperation waits until some worker
 * runs it. The step lifecycle (src/engine/steps.ts) owns what running means — claim, lease,
 * compute, atomic idempotent commit; the worker (src/engine/worker.ts) hands it operations from a
 * queue, and a queue owns only who gets which operation when.
 */

import type { OperationWatch, WakeStats } from './wake.js';

export type { OperationWatch, WakeReason, WakeStats } from './wake.js';

/** What a queue hands an operation to: the worker of this process. */
export interface OperationRunner {
  /**
   * Runs one operation to its end. `'busy'` means another live worker holds its lease (nothing was
   * done); `'done'` means it is finished, by this call or earlier. `leaseToken` is the lease a
   * dispatcher stamped on the operation, which lets the holder of the job take it over at once.
   */
  process(id: string, leaseToken?: string | null): Promise<'done' | 'busy'>;
  /** Whether this process is running the operation right now. */
  isRunning(id: string): boolean;
}

/** Schedules background operations for a worker, and wakes whoever waits for one to finish. */
export interface OperationQueue {
  /** 'in-process' (one engine process per database) or 'pg-boss' (any number of processes). */
  readonly kind: 'in-process' | 'pg-boss';
  /** Whether other processes take work from the same queue; the worker then enforces leases. */
  readonly shared: boolean;
  /** This process's identity in leases (null when leases have no owner: the in-process queue). */
  readonly owner: string | null;
  /**
   * Whether the lease owner is another process that is still alive. A dead owner's lease need not
   * be waited out; our own lease on an operation we are not running is orphaned, so false too.
   */
  heldElsewhere(owner: string): Promise<boolean>;
  /** Starts handing operations to `runner` (a queue started with work disabled only accepts jobs). */
  start(runner: OperationRunner): Promise<void>;
  /** Queues an operation to run soon, by any worker that shares the queue. */
  enqueue(id: string): Promise<void>;
  /** Takes a not-yet-started operation back (the caller will run it itself); false if it can't. */
  withdraw(id: string): boolean;
  /** Finds operations that were left New or Running and queues the ones nobody holds. */
  recover(): Promise<number>;
  /** Resolves when the operations this process queued have finished (wherever they ran). */
  idle(): Promise<void>;
  /** Stops taking work; operations still queued stay New for the next worker or start. */
  close(): Promise<void>;
  /**
   * Watches operations for "finished" signals — from this process's worker, or (PostgreSQL) a
   * notification from another process — each wait bounded by the fallback poll. Make the watch
   * before re-reading the operations, and close it when done.
   */
  watch(ids: Iterable<string>): OperationWatch;
  /** The worker ran an operation to its end here: wake local waiters and (PostgreSQL) other processes. */
  finished(id: string): void;
  /** Wake-up counters (notifications sent and received, waits ended by a signal or a poll). */
  stats(): WakeStats;
  /**
   * Session events across processes (PostgreSQL with notifications): `publish` tells the other
   * processes an event was recorded here (`sessionId:seq:sub`), `subscribe` hears theirs. Absent
   * where there are no other processes (SQLite) or notifications are off.
   */
  sessionEvents?: { publish(payload: string): void; subscribe(listener: (payload: string) => void): void };
}

/** A parsed `_leaseUntil`: until when (epoch ms) and by whom. Stored as `<ISO time>#<owner>`. */
export interface Lease {
  until: number;
  owner: string | null;
}

/** Reads a stored lease; null when there is none. */
export function parseLease(v: unknown): Lease | null {
  if (typeof v !== 'string' || !v) return null;
  const i = v.indexOf('#');
  const until = Date.parse(i < 0 ? v : v.slice(0, i));
  return { until: Number.isFinite(until) ? until : 0, owner: i < 0 ? null : v.slice(i + 1) };
}

/** Writes a lease for `_leaseUntil`. */
export function formatLease(until: number, owner: string | null): string {
  return owner ? `${new Date(until).toISOString()}#${owner}` : new Date(until).toISOString();
}
