/**
 * Chooses the operation queue for a storage backend, asking its adapter: pg-boss where the backend
 * offers a shared queue (PostgreSQL: many engine processes share the work), the in-process queue
 * otherwise (SQLite: one process per database).
 */
import type { Storage } from '../../storage/port.js';
import { EngineError } from '../../errors.js';
import { InProcessQueue } from './in-process.js';
import type { OperationQueue } from './types.js';

export type { OperationQueue, OperationRunner, OperationWatch, WakeReason, WakeStats } from './types.js';
export { InProcessQueue, IN_PROCESS_POLL_MS } from './in-process.js';
export { OPERATION_JOB, PG_POLL_MS, bossSchemaFor } from './names.js';
export type { QueueConnection } from '../../storage/port.js';
// The pg-boss queue (pg, pg-boss) loads only for a backend that offers a shared queue: see loadOperationQueue.
export type { PgBossQueue } from './pg-boss.js';
export { wakeChannelFor } from './wake.js';

/** Options for `createOperationQueue`. */
export interface QueueOptions {
  concurrency: number;
  leaseMs: number;
  /** Whether this process runs operations (false: it only queues them). */
  work: boolean;
  onError: (err: unknown) => void;
  /** PostgreSQL: wake other processes with LISTEN/NOTIFY (default true); false: poll only. */
  notify?: boolean;
  /** Fallback poll (ms) of waiters and, on PostgreSQL, of pg-boss workers while notifications flow (default 1000). */
  pollMs?: number;
}

/**
 * Checks the engine's `queue` option (`{ notify?, pollMs? }`); bad values are refused with
 * INVALID_INPUT naming the field.
 */
export function queueOptions(o: unknown): { notify?: boolean; pollMs?: number } {
  if (o === undefined) return {};
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw new EngineError('INVALID_INPUT', "The engine option 'queue' must be an object like { notify: true, pollMs: 1000 }.", ['queue']);
  const { notify, pollMs, ...rest } = o as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length)
    throw new EngineError('INVALID_INPUT', `The engine option 'queue' has no field '${extra[0]}' (it takes notify and pollMs).`, [
      `queue.${extra[0]}`,
    ]);
  if (notify !== undefined && typeof notify !== 'boolean')
    throw new EngineError('INVALID_INPUT', "The engine option 'queue.notify' must be true or false.", ['queue.notify']);
  if (pollMs !== undefined && (typeof pollMs !== 'number' || !Number.isInteger(pollMs) || pollMs < 500 || pollMs > 600_000)) {
    throw new EngineError(
      'INVALID_INPUT',
      "The engine option 'queue.pollMs' must be an integer number of milliseconds from 500 to 600000.",
      ['queue.pollMs'],
    );
  }
  return { notify: notify as boolean | undefined, pollMs: pollMs as number | undefined };
}

let pgBossModule: typeof import('./pg-boss.js') | undefined;

/**
 * Loads the queue module `storage` needs (pg-boss, and with it pg, only where the backend's adapter
 * names a database for a shared queue), so an engine on SQLite never loads a PostgreSQL driver.
 */
export async function loadOperationQueue(storage: Storage): Promise<void> {
  if (storage.adapter.queueConnection()) pgBossModule ??= await import('./pg-boss.js');
}

/**
 * The queue an engine on `storage` uses (after `loadOperationQueue(storage)`): the shared queue
 * (pg-boss) where the backend's adapter names a database for it, else the in-process queue.
 * LISTEN/NOTIFY wake-ups only where the adapter supports them (and `notify` is not false).
 */
export function createOperationQueue(storage: Storage, opts: QueueOptions): OperationQueue {
  const connection = storage.adapter.queueConnection();
  if (connection) {
    const PgBossQueue = pgBossModule?.PgBossQueue;
    if (!PgBossQueue) throw new Error('the shared queue is not loaded: await loadOperationQueue(storage) before createOperationQueue');
    return new PgBossQueue(storage, { connection, ...opts, notify: opts.notify !== false && storage.adapter.supportsNotify });
  }
  return new InProcessQueue(storage, opts.concurrency, opts.onError, opts.work, opts.pollMs);
}
