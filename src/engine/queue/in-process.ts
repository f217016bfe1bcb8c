/**
 * The in-process queue, the default on SQLite: a FIFO list worked off with bounded concurrency in
 * this process. Nothing else shares the database, so there are no leases to respect; durability
 * comes from the operation rows themselves — `recover()` on start re-queues every operation a
 * crash or a stop left New or Running, and the worker's atomic, idempotent commit makes a rerun
 * harmless.
 */
import type { Storage } from '../../storage/port.js';
import type { OperationQueue, OperationRunner } from './types.js';
import { Wakeups, type OperationWatch, type WakeStats } from './wake.js';

/** Default fallback poll of a waiter (ms): one process per database, so its own worker signals every finish. */
export const IN_PROCESS_POLL_MS = 1_000;

/** Bounded-concurrency FIFO of operation ids, for one engine process. */
export class InProcessQueue implements OperationQueue {
  readonly kind = 'in-process' as const;
  readonly shared = false;
  readonly owner = null;
  private readonly list: string[] = [];
  private active = 0;
  private stopped = false;
  private runner?: OperationRunner;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly wakes: Wakeups;

  constructor(
    private readonly storage: Storage,
    private readonly concurrency: number,
    private readonly onError: (err: unknown) => void,
    /** false: accept operations but never run them (another process will, after a restart). */
    private readonly work = true,
    pollMs = IN_PROCESS_POLL_MS,
  ) {
    this.wakes = new Wakeups(() => pollMs);
  }

  watch(ids: Iterable<string>): OperationWatch {
    return this.wakes.watch(ids);
  }

  finished(id: string): void {
    this.wakes.fire(id, 'local');
  }

  stats(): WakeStats {
    return { ...this.wakes.counts, sent: 0, received: 0, reconnects: 0, listening: false };
  }

  /** One process per database: no other holder exists. */
  async heldElsewhere(): Promise<boolean> {
    return false;
  }

  async start(runner: OperationRunner): Promise<void> {
    this.runner = runner;
    this.pump();
  }

  async enqueue(id: string): Promise<void> {
    if (this.stopped || this.list.includes(id) || this.runner?.isRunning(id)) return;
    this.list.push(id);
    setImmediate(() => this.pump());
  }

  withdraw(id: string): boolean {
    const i = this.list.indexOf(id);
    if (i >= 0) this.list.splice(i, 1);
    return true;
  }

  async recover(): Promise<number> {
    const ops = await this.storage.find('BackgroundOperation', { where: [{ field: 'Status', op: 'in', value: ['New', 'Running'] }] });
    for (const op of ops) await this.enqueue(String(op.Id));
    return ops.length;
  }

  idle(): Promise<void> {
    if (this.active === 0 && (this.list.length === 0 || !this.work || !this.runner)) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.list.length = 0;
    this.notifyIdle();
  }

  private pump(): void {
    const runner = this.runner;
    while (runner && this.work && !this.stopped && this.active < this.concurrency && this.list.length) {
      const id = this.list.shift()!;
      this.active++;
      runner
        .process(id)
        .then((outcome) => outcome === 'done' && this.finished(id))
        .catch((e) => this.onError(e))
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.active === 0 && (this.list.length === 0 || this.stopped)) for (const w of this.idleWaiters.splice(0)) w();
  }
}
