/**
 * The operation worker: the queue side of background operations. An operation is committed as New
 * by its action (or Running, claimed by a waiting call); the worker schedules it and hands its id
 * to the step lifecycle (src/engine/steps.ts), which claims it, runs its service, commits or fails
 * it. This module only decides when and where an operation runs, and who waits for it.
 *
 * Scheduling is delegated to an OperationQueue (src/engine/queue): in-process on SQLite, pg-boss on
 * PostgreSQL. When the queue is shared by several processes, a claim takes a lease
 * (`_leaseUntil`, wall-clock time): a Running operation whose lease is live belongs to its worker,
 * one whose lease expired — or whose owner process is gone (see the queue's `heldElsewhere`) —
 * may be taken over (RetryCount + 1), and the lease doubles as a fencing token: a worker whose
 * lease was taken over neither commits nor fails the operation.
 */
import type { EngineCore } from './core.js';
import { InProcessQueue } from './queue/in-process.js';
import type { OperationQueue, OperationRunner } from './queue/types.js';

/** The step lifecycle as the worker sees it (src/engine/steps.ts StepLifecycle): it claims and runs an operation. */
export interface OperationSteps {
  claimAndRun(id: string, leaseToken: string | null): Promise<'done' | 'busy'>;
}

/** Options of the worker beyond its core. */
export interface WorkerOptions {
  /** Where operations wait (default: an in-process queue with the worker's concurrency). */
  queue?: OperationQueue;
  /** How long a claim belongs to its worker on a shared queue (default 60 s). */
  leaseMs?: number;
}

/** Runs background operations with bounded concurrency; see the module comment for guarantees. */
export class OperationWorker implements OperationRunner {
  private readonly inflight = new Map<string, Promise<'done' | 'busy'>>();
  private closing = false;
  private steps: OperationSteps | undefined;
  /** @internal the queue operations wait in */
  readonly queue: OperationQueue;
  /** @internal lease length in ms (enforced only on a shared queue) */
  readonly leaseMs: number;

  constructor(
    private readonly core: EngineCore,
    concurrency: number,
    private readonly onError: (err: unknown) => void = () => {},
    options: WorkerOptions = {},
  ) {
    this.queue = options.queue ?? new InProcessQueue(core.storage, concurrency, onError);
    this.leaseMs = options.leaseMs ?? 60_000;
  }

  /** Starts the queue handing operations to this worker. */
  start(): Promise<void> {
    return this.queue.start(this);
  }

  /** Queues an operation to run soon (runAsync = true). */
  enqueue(id: string): void {
    if (this.closing || this.inflight.has(id)) return;
    this.queue.enqueue(id).catch((e) => this.onError(e));
  }

  /**
   * Runs an operation now and resolves when it has finished (runAsync = false). If another
   * process's worker holds it, waits for that one — or takes it over once its lease expires.
   */
  async run(id: string): Promise<void> {
    this.queue.withdraw(id);
    // Watch before the first attempt, so a finish signaled while we claim is not missed.
    const watch = this.queue.watch([id]);
    try {
      while ((await this.process(id)) === 'busy') {
        // Another process's worker holds it: sleep until it finishes (its NOTIFY, or our own worker
        // running it) or the fallback poll, then try again; a live lease makes the claim 'busy'
        // again, an expired one or a dead owner's is taken over.
        if (this.closing) return;
        const why = await watch.next();
        if (this.closing) return;
        if (why !== 'poll') {
          // Signaled: one read tells whether it ended, without a claim transaction.
          const op = await this.core.storage.get('BackgroundOperation', id);
          if (!op || (op.Status !== 'New' && op.Status !== 'Running')) return;
        }
      }
      this.queue.finished(id);
    } catch (e) {
      this.onError(e);
    } finally {
      watch.close();
    }
  }

  /** Finds operations left New or Running (by a crash or a stop) and queues them. */
  recover(): Promise<number> {
    return this.queue.recover();
  }

  /** Resolves when nothing this process queued or runs is still unfinished. */
  async idle(): Promise<void> {
    do {
      await Promise.allSettled([...this.inflight.values()]);
      await this.queue.idle();
    } while (this.inflight.size > 0);
  }

  /** Stops taking work and waits for running operations; queued ones stay New for the next start. */
  async close(): Promise<void> {
    this.closing = true;
    await this.queue.close();
    await Promise.allSettled([...this.inflight.values()]);
  }

  /** @internal whether this process runs the operation right now (queues skip it). */
  isRunning(id: string): boolean {
    return this.inflight.has(id);
  }

  /** @internal runs one operation for a queue; 'busy' when another live worker holds its lease. */
  process(id: string, leaseToken: string | null = null): Promise<'done' | 'busy'> {
    const existing = this.inflight.get(id);
    if (existing) return existing;
    if (!this.steps) throw new Error('the worker has no step lifecycle attached');
    const p = this.steps.claimAndRun(id, leaseToken).finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    return p;
  }

  /** @internal the step lifecycle this worker hands operations to (it attaches itself). */
  attach(steps: OperationSteps): void {
    this.steps = steps;
  }

  /** @internal whether the worker stopped taking work (a running step then leaves its operation for recovery). */
  get stopped(): boolean {
    return this.closing;
  }

  /** @internal tracks an operation this process runs outside `process` (a call that claimed it): queues skip it meanwhile. */
  async track(id: string, p: Promise<'done' | 'busy'>): Promise<void> {
    const running = p.finally(() => this.inflight.delete(id));
    this.inflight.set(id, running);
    await running;
  }

  /** @internal runs an operation again (after a database fault), unless stopped; `lease` is the one it still carries. */
  rerun(id: string, lease: string | null): void {
    if (this.closing) return;
    this.queue.withdraw(id);
    this.process(id, lease)
      .then((outcome) => outcome === 'done' && this.queue.finished(id))
      .catch((e) => this.onError(e));
  }
}
