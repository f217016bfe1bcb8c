/**
 * Chooses the operation queue for a storage backend: pg-boss on PostgreSQL (many engine processes
 * share the work), the in-process queue otherwise (SQLite: one process per database).
 */
import type { Storage } from '../../storage/port.js';
import { InProcessQueue } from './in-process.js';
import { PgBossQueue, type QueueConnection } from './pg-boss.js';
import type { OperationQueue } from './types.js';

export type { OperationQueue, OperationRunner } from './types.js';
export { InProcessQueue } from './in-process.js';
export { PgBossQueue, OPERATION_JOB, bossSchemaFor, type QueueConnection } from './pg-boss.js';

/** Options for `createOperationQueue`. */
export interface QueueOptions {
  concurrency: number;
  leaseMs: number;
  /** Whether this process runs operations (false: it only queues them). */
  work: boolean;
  onError: (err: unknown) => void;
}

/** The connection a PostgreSQL storage exposes for the queue, if it is one. */
function connectionOf(storage: Storage): QueueConnection | undefined {
  const s = storage as Storage & { queueConnection?: () => QueueConnection };
  return storage.kind === 'postgres' && typeof s.queueConnection === 'function' ? s.queueConnection() : undefined;
}

/** The queue an engine on `storage` uses. */
export function createOperationQueue(storage: Storage, opts: QueueOptions): OperationQueue {
  const connection = connectionOf(storage);
  if (connection) return new PgBossQueue(storage, { connection, ...opts });
  return new InProcessQueue(storage, opts.concurrency, opts.onError, opts.work);
}
