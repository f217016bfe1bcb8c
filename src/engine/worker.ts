/**
 * The operation worker. An operation is committed as New by its action; the worker
 * claims it (New → Running), runs the step's service, and in ONE transaction writes the service's
 * effects, completes the operation and moves the session. A crash anywhere before that commit
 * leaves the operation New or Running; `recover()` on start runs those again, and because the
 * commit is atomic and idempotent (one Order per session, keyed), a rerun never duplicates work.
 *
 * Scheduling is delegated to an OperationQueue (src/engine/queue): in-process on SQLite, pg-boss on
 * PostgreSQL. When the queue is shared by several processes, a claim takes a lease
 * (`_leaseUntil`, wall-clock time): a Running operation whose lease is live belongs to its worker,
 * one whose lease expired — or whose owner process is gone (see the queue's `heldElsewhere`) —
 * may be taken over (RetryCount + 1), and the lease doubles as a fencing token: a worker whose
 * lease was taken over neither commits nor fails the operation.
 */
import { StorageFault } from '../errors.js';
import { StepFailed, type EngineCore, type StepContext, type StepService } from './core.js';
import { applySessionEvent, restoreSnapshot, VersionConflict } from './sessions.js';
import { sessionRowProblem } from '../domain/session-rules.js';
import { isRunningStep } from '../../machines/checkout-session.js';
import { releaseHolds } from './reservations.js';
import { abandonPlan } from '../domain/abandon.js';
import { closeCartOnConfirmation } from './record-service.js';
import { stampsAfterStep } from './completion.js';
import type { Row, StorageOps } from '../storage/port.js';
import { InProcessQueue } from './queue/in-process.js';
import { formatLease, parseLease, type OperationQueue, type OperationRunner } from './queue/types.js';

/** Hooks for fault-injection tests (crash or stall at a precise point); never set in production. */
export interface WorkerFaults {
  /** Awaited after the service's compute and before its commit transaction. */
  beforeCommit?: (step: string, operationId: string) => Promise<void>;
  /** Awaited inside the commit transaction, after the service wrote its effects and before the commit. */
  insideCommit?: (step: string, operationId: string) => Promise<void>;
}

/** Why a step failed, from anything a service threw. */
function failureOf(step: string, err: unknown): StepFailed {
  if (err instanceof StepFailed) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new StepFailed(`${step} failed: ${msg}`);
}

function withTimeout<T>(p: Promise<T>, ms: number, step: string, ac: AbortController): Promise<T> {
  if (!(ms > 0) || !Number.isFinite(ms)) return p;
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => {
        ac.abort();
        reject(new StepFailed(`${step} timed out after ${ms} ms`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Options of the worker beyond its core. */
export interface WorkerOptions {
  /** Where operations wait (default: an in-process queue with the worker's concurrency). */
  queue?: OperationQueue;
  /** How long a claim belongs to its worker on a shared queue (default 60 s). */
  leaseMs?: number;
}

/** How often an operation runs again after a database fault before it fails like any step. */
const FAULT_RETRIES = 5;

/** Runs background operations with bounded concurrency; see the module comment for guarantees. */
export class OperationWorker implements OperationRunner {
  private readonly inflight = new Map<string, Promise<'done' | 'busy'>>();
  private stopped = false;
  /** @internal the queue operations wait in */
  readonly queue: OperationQueue;
  /** @internal lease length in ms (enforced only on a shared queue) */
  readonly leaseMs: number;

  constructor(
    private readonly core: EngineCore,
    concurrency: number,
    private readonly faults: WorkerFaults = {},
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
    if (this.stopped || this.inflight.has(id)) return;
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
        if (this.stopped) return;
        const why = await watch.next();
        if (this.stopped) return;
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
    this.stopped = true;
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
    const p = this.execute(id, leaseToken).finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    return p;
  }

  /** Claims, runs and completes (or fails) one operation. */
  private async execute(id: string, leaseToken: string | null): Promise<'done' | 'busy'> {
    const core = this.core;
    const leased = this.queue.shared;
    const claimed = await core.atomically(async (tx) => {
      const op = await tx.get('BackgroundOperation', id, { forUpdate: true });
      if (!op || (op.Status !== 'New' && op.Status !== 'Running')) return null;
      const wall = Date.now();
      const lease = parseLease(op._leaseUntil);
      if (leased && op.Status === 'Running' && lease && lease.until > wall && op._leaseUntil !== leaseToken) {
        // A live lease of a live process: wait. A dead owner's lease (its lock is gone) is not waited out.
        if (lease.owner === null || (await this.queue.heldElsewhere(lease.owner))) return 'busy' as const;
      }
      const now = core.now();
      const version = Number(op._version ?? 0);
      const values: Row = {
        Status: 'Running',
        StartedAt: op.StartedAt ?? now.toISOString(),
        RetryCount: op.Status === 'Running' ? Number(op.RetryCount ?? 0) + 1 : Number(op.RetryCount ?? 0),
        _leaseUntil: formatLease(wall + this.leaseMs, this.queue.owner),
        _version: version + 1,
        LastModifiedDate: now.toISOString(),
      };
      if (!(await tx.update('BackgroundOperation', id, values, [{ field: '_version', op: '=', value: version }]))) {
        throw new VersionConflict('BackgroundOperation', id);
      }
      const session = await tx.get('CartCheckoutSession', String(op._sessionId));
      return { op: { ...op, ...values }, session };
    });
    if (claimed === 'busy') return 'busy';
    if (!claimed || !claimed.session) return 'done';
    await this.complete(claimed.op, claimed.session);
    return 'done';
  }

  /**
   * Whether a waiting call (runAsync = false) may run a step inside the transaction that claims it
   * (see `commitInline`): false while a `beforeCommit` fault hook needs the point between the claim
   * and the commit.
   */
  get commitsInline(): boolean {
    return !this.faults.beforeCommit;
  }

  /** A lease for an operation this process claims now (the fencing token of a shared queue). */
  leaseNow(): string {
    return formatLease(Date.now() + this.leaseMs, this.queue.owner);
  }

  /**
   * Runs an operation the calling action claimed itself (inserted Running under `leaseNow()`, in the
   * transaction that moved the session): its slow work, then its commit transaction (or its failure).
   */
  async runClaimed(op: Row, session: Row): Promise<void> {
    const id = String(op.Id);
    const p = this.complete(op, session)
      .then(() => 'done' as const)
      .finally(() => this.inflight.delete(id));
    this.inflight.set(id, p);
    try {
      await p;
      this.queue.finished(id); // wakes anyone (any process) waiting on it
    } catch (e) {
      // A database fault: the caller gets its clear error; the operation runs again later (below).
      if (e instanceof StorageFault) throw e;
      this.onError(e);
    }
  }

  /** Database-fault retries so far, by operation (in this process). */
  private readonly faultRetries = new Map<string, number>();

  /**
   * Runs an operation again after a database fault stopped its commit (and its failure write): it
   * stays Running under this worker's lease (`lease`, so the rerun isn't told to wait for itself),
   * so nothing is lost, and runs again after a backoff — 0.25, 0.5, 1, 2, 4 s — then
   * it fails like any step (when it still can't, recovery at the next start takes it).
   */
  private retryAfterFault(id: string, lease: string | null): void {
    const n = (this.faultRetries.get(id) ?? 0) + 1;
    this.faultRetries.set(id, n);
    const timer = setTimeout(() => {
      if (this.stopped) return;
      this.queue.withdraw(id);
      this.process(id, lease)
        .then((outcome) => outcome === 'done' && this.queue.finished(id))
        .catch((e) => this.onError(e));
    }, 250 * 2 ** (n - 1));
    timer.unref();
  }

  /**
   * Runs a step without slow work (or whose work is in-process, `runsInline`) inside the
   * transaction of the call that claims it: its work reading through that transaction, its
   * effects, the session's completion and the cart's close on confirmation. `session` is the
   * row after the claim; the caller writes the operation (Complete) in the same transaction.
   */
  async commitInline(tx: StorageOps, service: StepService, op: Row, session: Row, now: Date): Promise<void> {
    const ctx: StepContext = { core: this.core, operation: op, session, cartId: String(op._cartId), now, signal: new AbortController().signal, reads: tx };
    const computed = service.compute ? await service.compute(ctx) : undefined;
    await this.commitStep(tx, service, ctx, session, computed, String(op.Id), now);
  }

  private serviceOf(flow: ReturnType<EngineCore['flow']>['flow'], step: string): StepService {
    const action = flow.steps.get(step)?.action;
    const service = action ? this.core.steps.get(action) : undefined;
    if (!service) throw new StepFailed(`No service is registered for step '${step}'.`);
    return service;
  }

  /** The service's commit, the session's completion event and the cart's close, in `tx`. */
  private async commitStep(tx: StorageOps, service: StepService, ctx: StepContext, s: Row, computed: unknown, id: string, now: Date): Promise<void> {
    const step = String(ctx.operation._step);
    const result = await service.commit({ ...ctx, session: s, now }, tx, computed);
    await this.faults.insideCommit?.(step, id);
    const { machine, flow } = this.core.flow(s._flow as string);
    // A computation step stamps what it computed from (completion invariant computations-current).
    const stamps = await stampsAfterStep(tx, s, flow.steps.get(step)?.action, now);
    const sessionFields = stamps === null ? result.sessionFields : { ...result.sessionFields, _stamps: stamps };
    const t = await applySessionEvent(
      tx,
      machine,
      s,
      { type: 'xstate.done.actor.step', output: result.output ?? {} },
      now,
      sessionFields,
      { operation: `worker: ${step}`, callerId: null, operationId: id },
      'Running',
    );
    if (!t.ok) throw new Error(`the session refused to complete '${step}': ${t.rejection.detail ?? t.rejection.error}`);
    await closeCartOnConfirmation(tx, flow, t.row, now);
  }

  /** Runs a claimed operation: its service's slow work, then one commit transaction; a failure fails it. */
  private async complete(op: Row, session: Row): Promise<void> {
    const core = this.core;
    const id = String(op.Id);
    /** Our lease: if the operation no longer carries it, another worker took it over. */
    const fence = this.queue.shared ? String(op._leaseUntil) : null;
    const step = String(op._step);
    const ac = new AbortController();
    const ctx: StepContext = { core, operation: op, session, cartId: String(op._cartId), now: core.now(), signal: ac.signal };
    try {
      const entry = this.flowEntry(session);
      if (!entry) throw new StepFailed(`The checkout session's flow '${String(session._flow)}' is not registered.`);
      // A session row that isn't running this step (seeded or edited by hand) gets no effects: the
      // operation fails and the session stays as it is, for the buyer to cancel.
      if (session.BackgroundOperationId === id && session.IsArchived !== true && !isRunningStep(restoreSnapshot(entry.machine, session, 'Running').value, step)) {
        const why = sessionRowProblem(
          { State: (session.State as string) ?? null, NextState: (session.NextState as string) ?? null, IsProcessing: session.IsProcessing === true, IsError: session.IsError === true, IsArchived: false },
          entry.flow,
        );
        throw new StepFailed(`The checkout session isn't running '${step}'${why ? `: ${why}` : ''}.`);
      }
      const service = this.serviceOf(entry.flow, step);
      const computed = service.compute ? await withTimeout(service.compute(ctx), core.stepTimeoutMs, step, ac) : undefined;
      await this.faults.beforeCommit?.(step, id);
      await core.atomically(async (tx) => {
        const current = await tx.get('BackgroundOperation', id, { forUpdate: true });
        if (!current || current.Status !== 'Running') return; // canceled meanwhile
        if (fence !== null && current._leaseUntil !== fence) return; // taken over: the new owner commits
        const s = await tx.get('CartCheckoutSession', String(op._sessionId), { forUpdate: true });
        const now = core.now();
        if (!s || s.BackgroundOperationId !== id || s.IsArchived === true) {
          await this.finishOperation(tx, current, { Status: 'Canceled', FinishedAt: now.toISOString() });
          return;
        }
        await this.commitStep(tx, service, ctx, s, computed, id, now);
        await this.finishOperation(tx, current, { Status: 'Complete', FinishedAt: now.toISOString() });
      });
    } catch (err) {
      if (this.stopped && !(err instanceof StepFailed)) throw err; // shutting down: leave it for recovery
      // The database, not the step, failed: run it again later rather than failing the checkout.
      const retriedLater = (e: unknown): boolean => {
        if (!(e instanceof StorageFault) || (this.faultRetries.get(id) ?? 0) >= FAULT_RETRIES) return false;
        this.retryAfterFault(id, (op._leaseUntil as string | null) ?? null);
        return true;
      };
      if (retriedLater(err)) throw err;
      try {
        await this.fail(id, failureOf(step, err), fence);
      } catch (e) {
        retriedLater(e);
        throw e;
      }
    }
    this.faultRetries.delete(id);
  }

  /** The session's flow and machine, or null when its flow isn't registered (any row is an input). */
  private flowEntry(session: Row): ReturnType<EngineCore['flow']> | null {
    const id = (session._flow as string | null) ?? 'default';
    return this.core.flowIds().includes(id) ? this.core.flow(id) : null;
  }

  private async finishOperation(tx: import('../storage/port.js').StorageOps, op: Row, values: Row): Promise<void> {
    const version = Number(op._version ?? 0);
    const ok = await tx.update(
      'BackgroundOperation',
      String(op.Id),
      { ...values, _version: version + 1, LastModifiedDate: this.core.now().toISOString() },
      [{ field: '_version', op: '=', value: version }],
    );
    if (!ok) throw new VersionConflict('BackgroundOperation', String(op.Id));
  }

  /** Fails an operation: Status Error with its message, session to its error exit, CartValidationOutput rows. */
  private async fail(id: string, failure: StepFailed, fence: string | null = null): Promise<void> {
    const core = this.core;
    const message = failure.message.slice(0, 255);
    await core.atomically(async (tx) => {
      const op = await tx.get('BackgroundOperation', id, { forUpdate: true });
      if (!op || (op.Status !== 'New' && op.Status !== 'Running')) return;
      if (fence !== null && op._leaseUntil !== fence) return; // taken over: the new owner decides
      const now = core.now();
      const session = await tx.get('CartCheckoutSession', String(op._sessionId), { forUpdate: true });
      let type = 'SystemError';
      const entry = session ? this.flowEntry(session) : null;
      if (session && entry && session.BackgroundOperationId === id && session.IsArchived !== true) {
        type = entry.flow.steps.get(String(op._step))?.validationType ?? 'SystemError';
        // A session that can't take the failure (a row it can't restore) is left as it is.
        const t = await applySessionEvent(tx, entry.machine, session, { type: 'xstate.error.actor.step', error: message }, now, {}, {
          operation: `worker: ${String(op._step)}`,
          callerId: null,
          operationId: id,
        });
        // A checkout in error holds no stock: its Held holds go back until a new checkout reserves
        // again (src/domain/abandon.ts: whatever the order; a draft's stock goes with the draft on cancel or expiry).
        const plan = abandonPlan('stepError', 'none');
        if (t.ok && t.row.IsError === true && plan.kind === 'releaseHeld') await releaseHolds(tx, String(op._cartId), plan.reason, now);
      }
      await this.finishOperation(tx, op, { Status: 'Error', Error: message, FinishedAt: now.toISOString() });
      const validations = failure.validations.length ? failure.validations : [{ Message: message }];
      await tx.insert(
        'CartValidationOutput',
        validations.map((v) => ({
          Id: core.mint('CartValidationOutput'),
          CreatedDate: now.toISOString(),
          LastModifiedDate: now.toISOString(),
          CartId: op._cartId,
          BackgroundOperationId: id,
          Name: `${op._cartId}:${id}`,
          Level: v.Level ?? 'Error',
          Type: v.Type ?? type,
          Message: v.Message.slice(0, 255),
          RelatedEntityId: v.RelatedEntityId ?? null,
          RelatedEntityPrefix: v.RelatedEntityId ? String(v.RelatedEntityId).slice(0, 3) : null,
          IsDismissed: false,
        })),
      );
    });
  }
}
