/**
 * The in-process operation worker. An operation is committed as New by its action; the worker
 * claims it (New → Running), runs the step's service, and in ONE transaction writes the service's
 * effects, completes the operation and moves the session. A crash anywhere before that commit
 * leaves the operation New or Running; `recover()` on start runs those again, and because the
 * commit is atomic and idempotent (one Order per session, keyed), a rerun never duplicates work.
 */
import { StepFailed, type EngineCore, type StepContext } from './core.js';
import { applySessionEvent, VersionConflict } from './sessions.js';
import type { Row } from '../storage/port.js';

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

/** Runs background operations with bounded concurrency; see the module comment for guarantees. */
export class OperationWorker {
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly queue: string[] = [];
  private active = 0;
  private stopped = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly core: EngineCore,
    private readonly concurrency: number,
    private readonly faults: WorkerFaults = {},
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** Queues an operation to run soon (runAsync = true). */
  enqueue(id: string): void {
    if (this.stopped || this.inflight.has(id) || this.queue.includes(id)) return;
    this.queue.push(id);
    setImmediate(() => this.pump());
  }

  /** Runs an operation now and resolves when it has finished (runAsync = false). */
  run(id: string): Promise<void> {
    const existing = this.inflight.get(id);
    if (existing) return existing;
    const i = this.queue.indexOf(id);
    if (i >= 0) this.queue.splice(i, 1);
    return this.start(id);
  }

  /** Finds operations left New or Running (by a crash or a stop) and queues them. */
  async recover(): Promise<number> {
    const ops = await this.core.storage.find('BackgroundOperation', { where: [{ field: 'Status', op: 'in', value: ['New', 'Running'] }] });
    for (const op of ops) this.enqueue(String(op.Id));
    return ops.length;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops taking work and waits for running operations; queued ones stay New for the next start. */
  async close(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    await Promise.allSettled([...this.inflight.values()]);
    this.notifyIdle();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.concurrency && this.queue.length) {
      void this.start(this.queue.shift()!);
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.active === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private start(id: string): Promise<void> {
    this.active++;
    const p = this.execute(id)
      .catch((e) => this.onError(e))
      .finally(() => {
        this.active--;
        this.inflight.delete(id);
        this.pump();
      });
    this.inflight.set(id, p);
    return p;
  }

  /** Claims, runs and completes (or fails) one operation. */
  private async execute(id: string): Promise<void> {
    const core = this.core;
    const claimed = await core.atomically(async (tx) => {
      const op = await tx.get('BackgroundOperation', id, { forUpdate: true });
      if (!op || (op.Status !== 'New' && op.Status !== 'Running')) return null;
      const now = core.now();
      const version = Number(op._version ?? 0);
      const values: Row = {
        Status: 'Running',
        StartedAt: op.StartedAt ?? now.toISOString(),
        RetryCount: op.Status === 'Running' ? Number(op.RetryCount ?? 0) + 1 : Number(op.RetryCount ?? 0),
        _version: version + 1,
        LastModifiedDate: now.toISOString(),
      };
      if (!(await tx.update('BackgroundOperation', id, values, [{ field: '_version', op: '=', value: version }]))) {
        throw new VersionConflict('BackgroundOperation', id);
      }
      const session = await tx.get('CartCheckoutSession', String(op._sessionId));
      return { op: { ...op, ...values }, session };
    });
    if (!claimed || !claimed.session) return;
    const { op, session } = claimed;
    const step = String(op._step);
    const action = core.flow(session._flow as string).flow.steps.get(step)?.action;
    const service = action ? core.steps.get(action) : undefined;
    const ac = new AbortController();
    const ctx: StepContext = { core, operation: op, session, cartId: String(op._cartId), now: core.now(), signal: ac.signal };
    try {
      if (!service) throw new StepFailed(`No service is registered for step '${step}'.`);
      const computed = service.compute ? await withTimeout(service.compute(ctx), core.stepTimeoutMs, step, ac) : undefined;
      await this.faults.beforeCommit?.(step, id);
      await core.atomically(async (tx) => {
        const current = await tx.get('BackgroundOperation', id, { forUpdate: true });
        if (!current || current.Status !== 'Running') return; // canceled meanwhile
        const s = await tx.get('CartCheckoutSession', String(op._sessionId), { forUpdate: true });
        const now = core.now();
        if (!s || s.BackgroundOperationId !== id || s.IsArchived === true) {
          await this.finishOperation(tx, current, { Status: 'Canceled', FinishedAt: now.toISOString() });
          return;
        }
        const result = await service.commit({ ...ctx, session: s, now }, tx, computed);
        await this.faults.insideCommit?.(step, id);
        const { machine } = core.flow(s._flow as string);
        const t = await applySessionEvent(tx, machine, s, { type: 'xstate.done.actor.step', output: result.output ?? {} }, now, result.sessionFields);
        if (!t.ok) throw new Error(`the session refused to complete '${step}': ${t.rejection.detail ?? t.rejection.error}`);
        await this.finishOperation(tx, current, { Status: 'Complete', FinishedAt: now.toISOString() });
      });
    } catch (err) {
      if (this.stopped && !(err instanceof StepFailed)) throw err; // shutting down: leave it for recovery
      await this.fail(id, failureOf(step, err));
    }
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
  private async fail(id: string, failure: StepFailed): Promise<void> {
    const core = this.core;
    const message = failure.message.slice(0, 255);
    await core.atomically(async (tx) => {
      const op = await tx.get('BackgroundOperation', id, { forUpdate: true });
      if (!op || (op.Status !== 'New' && op.Status !== 'Running')) return;
      const now = core.now();
      const session = await tx.get('CartCheckoutSession', String(op._sessionId), { forUpdate: true });
      let type = 'SystemError';
      if (session && session.BackgroundOperationId === id && session.IsArchived !== true) {
        const { flow, machine } = core.flow(session._flow as string);
        type = flow.steps.get(String(op._step))?.validationType ?? 'SystemError';
        await applySessionEvent(tx, machine, session, { type: 'xstate.error.actor.step', error: message }, now);
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
          IsDismissed: false,
        })),
      );
    });
  }
}
