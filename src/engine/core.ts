/**
 * The engine's shared internals: storage, clock, flows and their machines, step services and the
 * operation worker. Actions and the public facade work through this; nothing outside src/engine
 * touches storage directly.
 */
import type { AnyStateMachine } from 'xstate';
import { createCheckoutSessionMachine, type StepOutput } from '../machines/checkout-session.js';
import { BUILTIN_FLOWS, validateFlow, type CompiledFlow, type FlowDefinition, FlowError } from '../domain/flow.js';
import { EngineError } from '../errors.js';
import { mintId } from '../domain/ids.js';
import { OBJECTS } from '../domain/objects.js';
import { UniqueViolation, type Row, type Storage, type StorageOps } from '../storage/port.js';
import type { IntegrationRegistry } from '../integrations/registry.js';
import type { CompletionFacts } from '../domain/completion-invariants.js';
import { VersionConflict, writeRejections } from './sessions.js';
import { Tx, type EventOrigin, type HistoryEntry } from './transaction.js';

/** Context handed to a step service. */
export interface StepContext {
  readonly core: EngineCore;
  /** The calculators and payment gateway of this engine. */
  readonly integrations: IntegrationRegistry;
  readonly operation: Row;
  readonly session: Row;
  readonly cartId: string;
  readonly now: Date;
  readonly signal: AbortSignal;
  /** Where `compute` reads: the storage, or the claim's transaction when the step runs inside it (`runsInline`). */
  readonly reads?: StorageOps;
  /** The completion invariants' facts the claim checked, when the step commits in the claim's own transaction. */
  readonly completionFacts?: CompletionFacts;
}

// Declared with the error table (src/errors.ts), so integrations can throw it without the engine.
export { StepFailed, type StepValidation } from '../errors.js';

/** The work behind an async step: optional compute outside any transaction, then an atomic commit. */
export interface StepService {
  /** Slow work (integrations) done before the commit transaction; its result goes to `commit`. */
  compute?(ctx: StepContext): Promise<unknown>;
  /**
   * Whether `compute` is in-process work with no I/O of its own (the engine's built-in
   * calculators), so a waiting call may run it inside the claim's transaction, reading through it,
   * and commit in that same transaction. Without it, `compute` runs outside any transaction.
   */
  runsInline?(ctx: { core: EngineCore; integrations: IntegrationRegistry; storeId: string }): boolean;
  /**
   * Writes the step's effects in the same transaction that completes the operation and moves the
   * session, so either all of it happens or none of it does. Must be idempotent per operation.
   */
  commit(ctx: StepContext, tx: StorageOps, computed: unknown): Promise<{ output?: StepOutput; sessionFields?: Row }>;
}

/** Engine options that the core needs. */
export interface CoreOptions {
  storage: Storage;
  clock: () => Date;
  flows: FlowDefinition[];
  stepTimeoutMs: number;
}

/** Shared internals of one engine instance. */
export class EngineCore {
  readonly storage: Storage;
  readonly clock: () => Date;
  readonly stepTimeoutMs: number;
  private readonly flows = new Map<string, { flow: CompiledFlow; machine: AnyStateMachine }>();
  /** Step services by action name (a flow step names its action). */
  readonly steps = new Map<string, StepService>();
  /** Told of every recorded session event (applied ones after their commit), in order: the inspector, the statechart page. */
  readonly sessionListeners = new Set<(entry: HistoryEntry) => void>();
  /** Where an unexpected error of a listener or a rejection write goes. */
  onInternalError: (err: unknown) => void = (e) => console.error('[checkout-engine]', e);
  closed = false;

  constructor(opts: CoreOptions) {
    this.storage = opts.storage;
    this.clock = opts.clock;
    this.stepTimeoutMs = opts.stepTimeoutMs;
    for (const def of [...BUILTIN_FLOWS, ...opts.flows]) this.registerFlow(def);
  }

  /** Validates and registers a flow; an invalid one is an INVALID_FLOW error listing every problem. */
  registerFlow(def: FlowDefinition): CompiledFlow {
    let flow: CompiledFlow;
    try {
      flow = validateFlow(def);
    } catch (e) {
      if (e instanceof FlowError) throw new EngineError('INVALID_FLOW', e.message, ['steps']);
      throw e;
    }
    this.flows.set(def.id, { flow, machine: createCheckoutSessionMachine(flow) });
    return flow;
  }

  /** A registered flow and its machine. */
  flow(id: string | null | undefined): { flow: CompiledFlow; machine: AnyStateMachine } {
    const f = this.flows.get(id ?? 'default');
    if (!f) throw new EngineError('INVALID_FLOW', `Flow '${id}' is not registered.`);
    return f;
  }

  /** Every registered flow. */
  flowIds(): string[] {
    return [...this.flows.keys()];
  }

  /** Mints an 18-character id for an object type. */
  mint(object: string): string {
    return mintId(OBJECTS.get(object)!.keyPrefix);
  }

  /** Current time from the injected clock. */
  now(): Date {
    return this.clock();
  }

  /**
   * Runs `fn` in a transaction, retrying the whole of it when a compare-and-set lost a race, so the
   * retry re-reads and re-decides (and then typically reports ALREADY_IN_PROCESS or a mismatch).
   * `fn` gets the transaction object (`Tx`): its row operations, its session-history journal and
   * `opts.origin`, the call it runs for (the default origin of the session events offered in it).
   * Each attempt has its own `Tx`, so a lost attempt's journal goes with it: its events never happened.
   * A serialization failure is whatever the backend's adapter says it is (`isSerializationFailure`).
   * A transaction whose database connection was lost before COMMIT (the adapter's `isRetryable`:
   * StorageFault STORAGE_UNAVAILABLE, `committed: false`) also runs again, up to 3 times; a lock wait that timed out, a full disk or a
   * commit of unknown outcome is thrown as its StorageFault (docs/reliability.md, Database faults).
   */
  async atomically<T>(
    fn: (tx: Tx) => Promise<T>,
    opts: { origin?: EventOrigin; retryOnUnique?: boolean; attempts?: number } = {},
  ): Promise<T> {
    const attempts = opts.attempts ?? 8;
    for (let i = 1; ; i++) {
      let used: Tx | undefined;
      try {
        const result = await this.storage.transaction(async (ops) => {
          const tx = (used = new Tx(ops, opts.origin));
          const out = await fn(tx);
          await tx.flush(); // what it held back (`Tx.defer`) goes out before COMMIT
          return out;
        });
        await this.afterTransaction(used, true);
        return result;
      } catch (e) {
        const retriable =
          e instanceof VersionConflict ||
          (opts.retryOnUnique === true && e instanceof UniqueViolation) ||
          this.storage.adapter.isSerializationFailure(e);
        // A connection lost before COMMIT: the database rolled the transaction back, so it runs again
        // on a fresh connection (a few times, backing off). One lost DURING the commit is never re-run.
        if (this.storage.adapter.isRetryable(e) && i <= LOST_CONNECTION_RETRIES) {
          await new Promise((r) => setTimeout(r, 50 * 3 ** (i - 1)));
          continue;
        }
        if (retriable && i < attempts) {
          await new Promise((r) => setTimeout(r, Math.min(50, 2 ** i) * Math.random()));
          continue;
        }
        await this.afterTransaction(used, false);
        if (retriable) throw new EngineError('CONFLICT', (e as Error).message);
        throw e;
      }
    }
  }

  /** Records the rejections a finished transaction offered and tells listeners what happened, in order. */
  private async afterTransaction(tx: Tx | undefined, committed: boolean): Promise<void> {
    if (!tx) return;
    const journal = tx.journal;
    let rejected: HistoryEntry[] = [];
    try {
      rejected = await writeRejections(this.storage, journal.rejected);
    } catch (err) {
      if (!this.closed) this.onInternalError(err);
    }
    if (!this.sessionListeners.size) return;
    const entries = [...(committed ? journal.accepted : []), ...rejected];
    for (const entry of entries) {
      for (const listener of this.sessionListeners) {
        try {
          listener(entry);
        } catch (err) {
          this.onInternalError(err);
        }
      }
    }
  }

  /** Tells listeners of recorded entries (e.g. a replay); each listener's errors are reported, not thrown. */
  notify(entry: HistoryEntry): void {
    for (const listener of this.sessionListeners) {
      try {
        listener(entry);
      } catch (err) {
        this.onInternalError(err);
      }
    }
  }
}

/** Extra runs of a transaction whose connection was lost before it committed (50, 150, 450 ms apart). */
const LOST_CONNECTION_RETRIES = 3;
