/**
 * The step lifecycle: the one owner of what happens when a session's statechart starts a step, and
 * of the step's BackgroundOperation row from its insert to its end (spec §2 async step protocol).
 *
 * A step action offers STEP to the session (src/engine/sessions.ts, XState's pure `transition()`);
 * when the machine accepts, the actions `transition()` returned say what runs: a spawn of `runStep`
 * (the step's service, for its operation). This module executes that spawn in one of three ways:
 *
 * - `inline`: a waiting call whose step has no slow work, or only in-process work (`runsInline`),
 *   runs the service and commits its effects, the operation (Complete) and the session's completion
 *   in the action's own transaction — one transaction for the whole call;
 * - `claim`: a waiting call whose step calls out inserts the operation Running under this process's
 *   lease, and after the commit computes outside any transaction and commits in a second one;
 * - `enqueue`: runAsync = true inserts the operation New and hands it to the worker's queue.
 *
 * The worker (src/engine/worker.ts) only schedules: it hands an operation id here (`claimAndRun`).
 * Claiming (New → Running, or a takeover of a dead lease: RetryCount + 1), the fenced completion,
 * the failure (operation Error, session to its error exit, CartValidationOutput rows) and the rerun
 * after a database fault are all here. A crash before a commit leaves the operation New or Running;
 * recovery runs it again, and because each commit is atomic and idempotent (one Order per session,
 * keyed), a rerun never duplicates work.
 *
 * The executor itself (`executeActions`) is the one place a machine's actions become effects, for
 * both kinds of machine the engine drives with XState's pure API: the session's here (a `runStep`
 * spawn → the operation row and its run; a stopped step → nothing, the row is already settled), and
 * a flow interview's in src/engine/interview-machines.ts (the named action `runElement` → the element
 * run and its done/error event fed back with `transition()`, `stopElement` → its result dropped; a
 * subflow → its child machine; a forwarded navigation → the child frame). Each passes its table of
 * handlers per actor source and per action name.
 */
import type { EventObject, ExecutableActionObject } from 'xstate';
import { EngineError, StorageFault } from '../errors.js';
import { firstFailedRequirement, requirementError, STEP_REQUIREMENTS } from '../domain/requirements.js';
import { sessionRowProblem } from '../domain/session-rules.js';
import { abandonPlan } from '../domain/abandon.js';
import { validationOutputRows } from '../domain/validation-output.js';
import type { CompletionPoint } from '../domain/completion-invariants.js';
import { isRunningStep, type RunStepInput } from '../machines/checkout-session.js';
import type { Row, StorageOps } from '../storage/port.js';
import type { IntegrationRegistry } from '../integrations/registry.js';
import { StepFailed, type EngineCore, type StepContext, type StepService } from './core.js';
import type { EventOrigin, Tx } from './transaction.js';
import { applySessionEvent, restoreSnapshot, VersionConflict } from './sessions.js';
import { CallerFailed, loadCartFacts, type CallerRef } from './facts.js';
import { ExpiredCheckout, expireInCall } from './expiry.js';
import { checkCompletion, stampsAfterStep } from './completion.js';
import { closeCartOnConfirmation } from './record-service.js';
import { releaseHolds } from './reservations.js';
import { formatLease, parseLease } from './queue/types.js';
import type { OperationWorker } from './worker.js';

/** Hooks for fault-injection tests (crash or stall at a precise point); never set in production. */
export interface WorkerFaults {
  /** Awaited after the service's compute and before its commit transaction. */
  beforeCommit?: (step: string, operationId: string) => Promise<void>;
  /** Awaited inside the commit transaction, after the service wrote its effects and before the commit. */
  insideCommit?: (step: string, operationId: string) => Promise<void>;
}

/** What a step action is: its name (the flow step names it), its operation's name, its service. */
export interface StepCall {
  /** The action's API name, e.g. `cartToOrderAction`. */
  name: string;
  /** Operation name shown in BackgroundOperation.Name. */
  operationName: string;
  /** The work the operation does. */
  service: StepService;
  /** The completion invariants checked before the step is claimed (cartToOrder, activate). */
  completion?: CompletionPoint;
}

/** Who calls a step action: the caller, the call (the origin of the step's transaction), and the cart whose expired checkout expiry kept (see `FreshFactsOptions.kept`). */
export interface StepCaller {
  /** Read before the call, or read with the step's facts read (`CallerRead`). */
  readonly caller: CallerRef;
  readonly origin?: EventOrigin;
  readonly keptCheckout?: string;
  /**
   * Told the Status an operation of this call was committed with when the call itself finished it
   * (an inline step's Complete, a claimed step's Complete, Canceled or Error): a status no one
   * changes afterwards (terminal), so the caller needn't read the row back for it.
   */
  readonly operationSettled?: (operationId: string, status: string) => void;
}

/**
 * How a spawned `runStep` is executed (see the module comment): in the action's transaction, claimed
 * by the call and run after its commit, or queued for the worker.
 */
export type StepMode = 'inline' | 'claim' | 'enqueue';

/** An action XState's pure `transition()` / `initialTransition()` returned for the caller to execute. */
export type MachineAction = ExecutableActionObject;

/** A spawn or invoke the machine asked for: the child's id (its done/error events name it), its source, its input. */
export interface SpawnedActor {
  id: string;
  src: string;
  input: unknown;
}

/** What carries out one kind of machine's actions: a handler per actor source, and the child-addressed actions. */
export interface ActionHandlers<R> {
  /** Starts an invoked or spawned actor, by its source (`runStep`, a subflow …); `*` takes any source not listed. */
  readonly spawn: Readonly<Record<string, (spawned: SpawnedActor) => R | Promise<R>>>;
  /** A child stopped (the state that invoked it exited). */
  readonly stop: (id: string) => void;
  /** An event sent to a child, by its id (XState's `sendTo`). Absent: the machine sends none. */
  readonly send?: (to: string, event: EventObject) => void;
  /** An action the machine names and leaves to its executor (no implementation of its own), by type. */
  readonly named?: Readonly<Record<string, (params: unknown, event: EventObject) => void>>;
}

/**
 * Executes, in order, the actions a machine's transition returned, with `handlers`; returns what
 * each spawn's handler returned (in the order of the spawns). A raise without a delay was taken in
 * the transition itself (the macrostep); any other action without a handler is an error, so a
 * machine can't ask for an effect that silently never happens.
 */
export async function executeActions<R>(actions: readonly MachineAction[], handlers: ActionHandlers<R>): Promise<R[]> {
  const started: R[] = [];
  for (const action of actions) {
    const params = action.params as Record<string, unknown> | undefined;
    switch (action.type) {
      case 'xstate.spawnChild': {
        const src = String(params?.src);
        const handler = handlers.spawn[src] ?? handlers.spawn['*'];
        if (!handler) throw new Error(`the executor has no handler for an actor of source '${src}'`);
        started.push(await handler({ id: String(params?.id), src, input: params?.input }));
        break;
      }
      case 'xstate.stopChild':
        // XState's stop carries the stopped child's reference (none when its logic wasn't found).
        if (params && typeof params.id === 'string') handlers.stop(params.id);
        break;
      case 'xstate.sendTo':
        if (!handlers.send) throw new Error('the executor has no handler for an event sent to a child');
        handlers.send(String(params?.targetId), params?.event as EventObject);
        break;
      case 'xstate.raise':
        if (params?.delay !== undefined) throw new Error('the executor runs no delayed events');
        break;
      default: {
        const named = handlers.named?.[action.type];
        if (!named) throw new Error(`the executor has no handler for the action '${action.type}'`);
        named(params, action.info.event);
      }
    }
  }
  return started;
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

/** How often an operation runs again after a database fault before it fails like any step. */
const FAULT_RETRIES = 5;

/** The step lifecycle of one engine (see the module comment). */
export class StepLifecycle {
  /** Database-fault retries so far, by operation (in this process). */
  private readonly faultRetries = new Map<string, number>();

  constructor(
    private readonly core: EngineCore,
    private readonly worker: OperationWorker,
    private readonly integrations: IntegrationRegistry,
    private readonly faults: WorkerFaults = {},
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    worker.attach(this);
  }

  /** The context a step's service runs with. */
  private context(op: Row, session: Row, now: Date, signal: AbortSignal, reads?: StorageOps): StepContext {
    return { core: this.core, integrations: this.integrations, operation: op, session, cartId: String(op._cartId), now, signal, reads };
  }

  // ── Starting a step (an action call) ───────────────────────────────────────────────────────────

  /**
   * Runs a step action for `caller`: offers STEP to the cart's session and executes what the
   * machine started. `input.runAsync === true` queues the operation; otherwise the call returns when
   * the step finished. A step that fails inside the one transaction (inline) rolled all of it back:
   * it runs again the claim way, which records the failure on its operation and session. A checkout
   * found expired is expired in the call's transaction, which says so (`ExpiredCheckout`).
   */
  async call(
    spec: StepCall,
    env: StepCaller,
    input: Record<string, unknown>,
  ): Promise<{ backgroundOperationId: unknown } | ExpiredCheckout> {
    const waits = input.runAsync !== true;
    let inline = waits && !this.faults.beforeCommit;
    for (;;) {
      try {
        const started = await this.core.atomically(
          (tx) => this.start(tx, spec, env, input, waits ? (inline ? 'inline' : 'claim') : 'enqueue'),
          { origin: env.origin },
        );
        if (started instanceof ExpiredCheckout) return started;
        const id = String(started.op.Id);
        if (started.mode === 'claim') {
          const status = await this.runClaimed(started.op, started.session);
          if (status) env.operationSettled?.(id, status);
        } else if (started.mode === 'enqueue') this.worker.enqueue(id);
        else env.operationSettled?.(id, String(started.op.Status)); // inline: committed Complete with the step
        return { backgroundOperationId: started.op.Id };
      } catch (e) {
        if (inline && !(e instanceof EngineError) && !(e instanceof CallerFailed)) {
          inline = false;
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * In the action's transaction: loads the facts, offers STEP and executes the `runStep` spawn the
   * machine returned (`preferred` mode; `inline` falls back to `claim` for a step that calls out).
   */
  private async start(
    tx: Tx,
    spec: StepCall,
    env: StepCaller,
    input: Record<string, unknown>,
    preferred: StepMode,
  ): Promise<{ mode: StepMode; op: Row; session: Row } | ExpiredCheckout> {
    const core = this.core;
    const now = core.now();
    const caller = env.caller;
    const loaded = await loadCartFacts(tx, caller, input.cartId, { forUpdate: true, now, kept: env.keptCheckout });
    if (loaded.expired) return expireInCall(core, tx, loaded, now);
    const session = loaded.session;
    const flowEntry = session ? core.flow(session._flow as string) : null;
    const stepKey = flowEntry?.flow.byAction.get(spec.name)?.key;
    if (!session || !flowEntry || !stepKey) {
      // No session, or its flow has no such step: requirement 7 (or an earlier one) fails.
      const convention = flowEntry?.flow.convention.name;
      const failed = firstFailedRequirement(loaded.facts, stepKey ?? spec.name, STEP_REQUIREMENTS, convention);
      // Every requirement may hold under the template convention while the flow has no such step: 7 fails.
      throw requirementError(failed ?? STEP_REQUIREMENTS[6]!);
    }
    const opId = core.mint('BackgroundOperation');
    const t = await applySessionEvent(
      tx,
      flowEntry.machine,
      session,
      { type: 'STEP', step: stepKey, facts: loaded.facts, operationId: opId },
      now,
      {},
      { operation: spec.name, callerId: caller.Id, operationId: opId, input },
      (loaded.operation?.Status as string | undefined) ?? null,
    );
    if (!t.ok) throw new EngineError(t.rejection.error, t.rejection.detail, t.rejection.requirement === 1 ? ['cartId'] : []);
    // The completion invariants, whatever the flow: a broken one refuses the call and rolls all of it back.
    const completionFacts = spec.completion ? await checkCompletion(core, tx, spec.completion, session, loaded.store) : undefined;
    const storeId = String(loaded.cart!.WebStoreId);
    // The machine accepted STEP: what it started runs through the executor (the `runStep` spawn: the operation).
    const started = await executeActions(t.actions, {
      spawn: {
        runStep: ({ input: run }) =>
          this.startOperation(tx, { spec, input, preferred, now, storeId, completionFacts }, run as RunStepInput, t.row),
      },
      stop: settledStep,
    });
    if (started.length !== 1) throw new Error(`the session accepted ${spec.name} but did not start its step`);
    return started[0]!;
  }

  /**
   * The session handler of a `runStep` spawn: the operation row, New (queued) or Running under this
   * process's lease; an `inline` step also runs its service and commits it here, in `tx`.
   */
  private async startOperation(
    tx: Tx,
    call: {
      spec: StepCall;
      input: Record<string, unknown>;
      preferred: StepMode;
      now: Date;
      storeId: string;
      completionFacts: Awaited<ReturnType<typeof checkCompletion>> | undefined;
    },
    run: RunStepInput,
    session: Row,
  ): Promise<{ mode: StepMode; op: Row; session: Row }> {
    const { spec, input, now, completionFacts } = call;
    const core = this.core;
    const service = spec.service;
    const mode: StepMode =
      call.preferred === 'inline' &&
      service.compute &&
      service.runsInline?.({ core, integrations: this.integrations, storeId: call.storeId }) !== true
        ? 'claim'
        : call.preferred;
    const op = this.operationRow(run, spec, mode, now, input);
    if (mode === 'inline') {
      // The session's held-back writes go out before the service runs: its errors stay its own.
      await tx.flush();
      // Object.assign: a spread copy given a new key takes V8's slow path on every call on Node 20.
      const ctx = Object.assign(this.context(op, session, now, new AbortController().signal, tx), { completionFacts });
      const computed = service.compute ? await service.compute(ctx) : undefined;
      await this.commitStep(tx, service, ctx, session, computed, now);
      Object.assign(op, { Status: 'Complete', FinishedAt: now.toISOString(), _version: 1 });
    }
    // Goes out with the session's compare-and-set and history entry when nothing ran between (one round trip).
    tx.defer({ kind: 'insert', object: 'BackgroundOperation', rows: [op] });
    return { mode, op, session };
  }

  /** The operation row of a spawned step: New (queued) or Running under this process's lease (claimed by the call). */
  private operationRow(run: RunStepInput, spec: StepCall, mode: StepMode, now: Date, input: Record<string, unknown>): Row {
    const stamp = now.toISOString();
    const claimed = mode !== 'enqueue';
    const timeoutMs = this.core.stepTimeoutMs;
    return {
      Id: run.operationId,
      CreatedDate: stamp,
      LastModifiedDate: stamp,
      Name: `${spec.operationName} ${run.cartId}`,
      Status: claimed ? 'Running' : 'New',
      Error: null,
      SubmittedAt: stamp,
      StartedAt: claimed ? stamp : null,
      FinishedAt: null,
      RetryCount: 0,
      Timeout: timeoutMs > 0 && Number.isFinite(timeoutMs) ? Math.round(timeoutMs / 1000) : null,
      _step: run.step,
      _sessionId: run.sessionId,
      _cartId: run.cartId,
      _input: JSON.stringify(input),
      _leaseUntil: claimed ? this.leaseNow() : null,
      _version: 0,
    };
  }

  /** A lease for an operation this process claims now (the fencing token of a shared queue). */
  private leaseNow(): string {
    return formatLease(Date.now() + this.worker.leaseMs, this.worker.queue.owner);
  }

  /**
   * Runs an operation the calling action claimed itself (inserted Running under `leaseNow()`, in the
   * transaction that moved the session): its slow work, then its commit transaction (or its failure).
   */
  private async runClaimed(op: Row, session: Row): Promise<string | null> {
    const id = String(op.Id);
    let settled: string | null = null;
    try {
      await this.worker.track(
        id,
        this.complete(op, session).then((status) => {
          settled = status;
          return 'done' as const;
        }),
      );
      this.worker.queue.finished(id); // wakes anyone (any process) waiting on it
    } catch (e) {
      // A database fault: the caller gets its clear error; the operation runs again later (below).
      if (e instanceof StorageFault) throw e;
      this.onError(e);
      return null;
    }
    return settled;
  }

  // ── Running an operation the worker hands over ─────────────────────────────────────────────────

  /** Claims, runs and completes (or fails) one operation; 'busy' when another live worker holds its lease. */
  async claimAndRun(id: string, leaseToken: string | null): Promise<'done' | 'busy'> {
    const core = this.core;
    const queue = this.worker.queue;
    const leased = queue.shared;
    const claimed = await core.atomically(async (tx) => {
      const op = await tx.get('BackgroundOperation', id, { forUpdate: true });
      if (!op || (op.Status !== 'New' && op.Status !== 'Running')) return null;
      const wall = Date.now();
      const lease = parseLease(op._leaseUntil);
      if (leased && op.Status === 'Running' && lease && lease.until > wall && op._leaseUntil !== leaseToken) {
        // A live lease of a live process: wait. A dead owner's lease (its lock is gone) is not waited out.
        if (lease.owner === null || (await queue.heldElsewhere(lease.owner))) return 'busy' as const;
      }
      const now = core.now();
      const version = Number(op._version ?? 0);
      const values: Row = {
        Status: 'Running',
        StartedAt: op.StartedAt ?? now.toISOString(),
        RetryCount: op.Status === 'Running' ? Number(op.RetryCount ?? 0) + 1 : Number(op.RetryCount ?? 0),
        _leaseUntil: formatLease(wall + this.worker.leaseMs, queue.owner),
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
   * Runs an operation again after a database fault stopped its commit (and its failure write): it
   * stays Running under this worker's lease (`lease`, so the rerun isn't told to wait for itself),
   * so nothing is lost, and runs again after a backoff — 0.25, 0.5, 1, 2, 4 s — then
   * it fails like any step (when it still can't, recovery at the next start takes it).
   */
  private retryAfterFault(id: string, lease: string | null): void {
    const n = (this.faultRetries.get(id) ?? 0) + 1;
    this.faultRetries.set(id, n);
    const timer = setTimeout(() => this.worker.rerun(id, lease), 250 * 2 ** (n - 1));
    timer.unref();
  }

  private serviceOf(flow: ReturnType<EngineCore['flow']>['flow'], step: string): StepService {
    const action = flow.steps.get(step)?.action;
    const service = action ? this.core.steps.get(action) : undefined;
    if (!service) throw new StepFailed(`No service is registered for step '${step}'.`);
    return service;
  }

  /** The service's commit, the session's completion event and the cart's close, in `tx`. */
  private async commitStep(tx: Tx, service: StepService, ctx: StepContext, s: Row, computed: unknown, now: Date): Promise<void> {
    const step = String(ctx.operation._step);
    const id = String(ctx.operation.Id);
    const result = await service.commit({ ...ctx, session: s, now }, tx, computed);
    await this.faults.insideCommit?.(step, id);
    const { machine, flow } = this.core.flow(s._flow as string);
    // A computation step stamps what it computed from (completion invariant computations-current).
    const stamps = await stampsAfterStep(tx, s, flow.steps.get(step)?.action, now);
    const sessionFields = stamps === null ? result.sessionFields : Object.assign({}, result.sessionFields, { _stamps: stamps });
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
    await executeActions(t.actions, AFTER_STEP);
    await closeCartOnConfirmation(tx, flow, t.row, now);
  }

  /**
   * Runs a claimed operation: its service's slow work, then one commit transaction; a failure fails it.
   * Returns the Status it committed the operation with (Complete, Canceled, Error), or null when it
   * committed none (canceled or taken over meanwhile).
   */
  private async complete(op: Row, session: Row): Promise<string | null> {
    const core = this.core;
    const id = String(op.Id);
    /** Our lease: if the operation no longer carries it, another worker took it over. */
    const fence = this.worker.queue.shared ? String(op._leaseUntil) : null;
    const step = String(op._step);
    const ac = new AbortController();
    const ctx = this.context(op, session, core.now(), ac.signal);
    let settled: string | null;
    try {
      const entry = this.flowEntry(session);
      if (!entry) throw new StepFailed(`The checkout session's flow '${String(session._flow)}' is not registered.`);
      // A session row that isn't running this step (seeded or edited by hand) gets no effects: the
      // operation fails and the session stays as it is, for the buyer to cancel.
      if (
        session.BackgroundOperationId === id &&
        session.IsArchived !== true &&
        !isRunningStep(restoreSnapshot(entry.machine, session, 'Running').value, step)
      ) {
        const why = sessionRowProblem(
          {
            State: (session.State as string) ?? null,
            NextState: (session.NextState as string) ?? null,
            IsProcessing: session.IsProcessing === true,
            IsError: session.IsError === true,
            IsArchived: false,
          },
          entry.flow,
        );
        throw new StepFailed(`The checkout session isn't running '${step}'${why ? `: ${why}` : ''}.`);
      }
      const service = this.serviceOf(entry.flow, step);
      const computed = service.compute ? await withTimeout(service.compute(ctx), core.stepTimeoutMs, step, ac) : undefined;
      await this.faults.beforeCommit?.(step, id);
      settled = await core.atomically(async (tx) => {
        const current = await tx.get('BackgroundOperation', id, { forUpdate: true });
        if (!current || current.Status !== 'Running') return null; // canceled meanwhile
        if (fence !== null && current._leaseUntil !== fence) return null; // taken over: the new owner commits
        const s = await tx.get('CartCheckoutSession', String(op._sessionId), { forUpdate: true });
        const now = core.now();
        if (!s || s.BackgroundOperationId !== id || s.IsArchived === true) {
          await this.finishOperation(tx, current, { Status: 'Canceled', FinishedAt: now.toISOString() });
          return 'Canceled';
        }
        await this.commitStep(tx, service, ctx, s, computed, now);
        await this.finishOperation(tx, current, { Status: 'Complete', FinishedAt: now.toISOString() });
        return 'Complete';
      });
    } catch (err) {
      if (this.worker.stopped && !(err instanceof StepFailed)) throw err; // shutting down: leave it for recovery
      // The database, not the step, failed: run it again later rather than failing the checkout.
      const retriedLater = (e: unknown): boolean => {
        if (!(e instanceof StorageFault) || (this.faultRetries.get(id) ?? 0) >= FAULT_RETRIES) return false;
        this.retryAfterFault(id, (op._leaseUntil as string | null) ?? null);
        return true;
      };
      if (retriedLater(err)) throw err;
      try {
        settled = (await this.fail(id, failureOf(step, err), fence)) ? 'Error' : null;
      } catch (e) {
        retriedLater(e);
        throw e;
      }
    }
    this.faultRetries.delete(id);
    return settled;
  }

  /** The session's flow and machine, or null when its flow isn't registered (any row is an input). */
  private flowEntry(session: Row): ReturnType<EngineCore['flow']> | null {
    const id = (session._flow as string | null) ?? 'default';
    return this.core.flowIds().includes(id) ? this.core.flow(id) : null;
  }

  private async finishOperation(tx: StorageOps, op: Row, values: Row): Promise<void> {
    const version = Number(op._version ?? 0);
    const ok = await tx.update(
      'BackgroundOperation',
      String(op.Id),
      Object.assign({}, values, { _version: version + 1, LastModifiedDate: this.core.now().toISOString() }),
      [{ field: '_version', op: '=', value: version }],
    );
    if (!ok) throw new VersionConflict('BackgroundOperation', String(op.Id));
  }

  /**
   * Fails an operation: Status Error with its message, session to its error exit, CartValidationOutput
   * rows. Returns whether it did (false: the operation was no longer New or Running, or taken over).
   */
  private async fail(id: string, failure: StepFailed, fence: string | null = null): Promise<boolean> {
    const core = this.core;
    const message = failure.message.slice(0, 255);
    return core.atomically(async (tx) => {
      const op = await tx.get('BackgroundOperation', id, { forUpdate: true });
      if (!op || (op.Status !== 'New' && op.Status !== 'Running')) return false;
      if (fence !== null && op._leaseUntil !== fence) return false; // taken over: the new owner decides
      const now = core.now();
      const session = await tx.get('CartCheckoutSession', String(op._sessionId), { forUpdate: true });
      let type = 'SystemError';
      const entry = session ? this.flowEntry(session) : null;
      if (session && entry && session.BackgroundOperationId === id && session.IsArchived !== true) {
        type = entry.flow.steps.get(String(op._step))?.validationType ?? 'SystemError';
        // A session that can't take the failure (a row it can't restore) is left as it is.
        const t = await applySessionEvent(
          tx,
          entry.machine,
          session,
          { type: 'xstate.error.actor.step', error: message },
          now,
          {},
          {
            operation: `worker: ${String(op._step)}`,
            callerId: null,
            operationId: id,
          },
        );
        // A checkout in error holds no stock: its Held holds go back until a new checkout reserves
        // again (src/domain/abandon.ts: whatever the order; a draft's stock goes with the draft on cancel or expiry).
        if (t.ok) await executeActions(t.actions, AFTER_STEP);
        const plan = abandonPlan('stepError', 'none');
        if (t.ok && t.row.IsError === true && plan.kind === 'releaseHeld') await releaseHolds(tx, String(op._cartId), plan.reason, now);
      }
      await this.finishOperation(tx, op, { Status: 'Error', Error: message, FinishedAt: now.toISOString() });
      const validations = failure.validations.length ? failure.validations : [{ Message: message }];
      await tx.insert(
        'CartValidationOutput',
        validationOutputRows(
          { cartId: String(op._cartId), operationId: id, type, now, mint: () => core.mint('CartValidationOutput') },
          validations,
        ),
      );
      return true;
    });
  }
}

/** A step's child stopped as its session left the running state: its operation row is settled by the lifecycle, nothing more runs. */
function settledStep(): void {}

/** The session's table after a step's done or error event: the step it stops, nothing it may start. */
const AFTER_STEP: ActionHandlers<never> = { spawn: {}, stop: settledStep };
