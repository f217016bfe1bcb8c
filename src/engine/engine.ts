/**
 * The checkout engine: the library's entry point. It owns a storage backend, the registered
 * flows and their statecharts, the step services and the operation worker, and exposes the
 * Salesforce-shaped operations of spec §5.
 */
import type { FlowDefinition } from '../../machines/flow.js';
import { ACTIONS, invokeAction, requireAction, type InvocationResult } from '../actions/index.js';
import { cartToOrderAction } from '../actions/cart-to-order.js';
import type { ActionDef } from '../actions/types.js';
import { EngineError } from '../errors.js';
import type { SObject } from '../domain/records.js';
import { openStorage } from '../storage/index.js';
import type { Storage } from '../storage/port.js';
import { EngineCore } from './core.js';
import { loadCaller } from './facts.js';
import { runQuery, type QueryResult } from './query.js';
import { RecordService } from './records.js';
import { seedFixture } from './seed.js';
import { OperationWorker, type WorkerFaults } from './worker.js';

/** Options of `createCheckoutEngine`. */
export interface CheckoutEngineOptions {
  /** `':memory:'` (default), a SQLite file path, a `postgres://` URL, or a Storage instance. */
  storage?: string | Storage;
  /** The clock; inject one to move time in tests. Defaults to the system clock. */
  clock?: () => Date;
  /** Extra flow definitions (validated at load), usable through `storeFlows`. */
  flows?: FlowDefinition[];
  /** WebStore id → flow id, for stores that use their own flow. */
  storeFlows?: Record<string, string>;
  /** How many operations the in-process worker runs at once (default 4). */
  workerConcurrency?: number;
  /** How long a step's integration work may take before the step fails (default 30 s). */
  stepTimeoutMs?: number;
  /** Run operations left New or Running by an earlier process on start (default true). */
  recover?: boolean;
  /** Fault-injection hooks for crash tests. */
  faults?: WorkerFaults;
  /** Where unexpected internal errors are reported (default: console.error). */
  onError?: (err: unknown) => void;
}

/** Who is calling: the authenticated Salesforce user id. */
export interface CallOptions {
  userId: string;
}

/** A running checkout engine. */
export class CheckoutEngine {
  /** @internal */ readonly core: EngineCore;
  /** @internal */ readonly worker: OperationWorker;
  private readonly records: RecordService;
  private readonly handles = new Map<string, string>();
  private readonly storeFlows: Record<string, string>;
  private readonly onError: (err: unknown) => void;

  /** @internal use createCheckoutEngine */
  constructor(storage: Storage, opts: CheckoutEngineOptions) {
    this.onError = opts.onError ?? ((e) => console.error('[checkout-engine]', e));
    this.core = new EngineCore({ storage, clock: opts.clock ?? (() => new Date()), flows: opts.flows ?? [], stepTimeoutMs: opts.stepTimeoutMs ?? 30_000 });
    this.core.steps.set(cartToOrderAction.name, cartToOrderAction.service);
    this.worker = new OperationWorker(this.core, opts.workerConcurrency ?? 4, opts.faults, this.onError);
    this.records = new RecordService(this.core);
    this.storeFlows = { ...(opts.storeFlows ?? {}) };
    for (const flowId of Object.values(this.storeFlows)) this.core.flow(flowId);
  }

  /** Which backend this engine stores to. */
  get storageKind(): 'sqlite' | 'postgres' {
    return this.core.storage.kind;
  }

  private live(): void {
    if (this.core.closed) throw new EngineError('ENGINE_CLOSED');
  }

  /**
   * Loads a fixture (object, JSON or YAML text) all-or-nothing; returns its handle → id map.
   * @example await engine.seed({ Account: [{ ref: 'acme', Name: 'Acme' }] })
   */
  async seed(fixture: unknown): Promise<Record<string, string>> {
    this.live();
    return seedFixture(this.core, fixture, this.handles);
  }

  /**
   * Invokes a standard action once per input, as `userId`; returns one Salesforce action result per
   * input, each with `httpStatus`. An unknown action is a NOT_FOUND error; `inputs` must be a list.
   * @example await engine.invoke('cartToOrderAction', [{ cartId }], { userId })
   */
  async invoke(actionName: string, inputs: unknown, opts: CallOptions): Promise<InvocationResult[]> {
    this.live();
    const def = requireAction(actionName);
    if (!Array.isArray(inputs)) throw new EngineError('INVALID_INPUT', "'inputs' must be a list of input objects, e.g. [{ \"cartId\": \"0a6…\" }].", ['inputs']);
    const caller = await loadCaller(this.core.storage, opts?.userId);
    return invokeAction(def, { core: this.core, worker: this.worker, caller, storeFlows: this.storeFlows }, inputs, this.onError);
  }

  /** Describes every action (name, label, inputs, outputs). */
  describeActions(): ActionDef[] {
    return [...ACTIONS.values()];
  }

  /** One record by type and id (15 or 18 chars); with `userId`, only if that user may read it. */
  async getRecord(type: string, id: string, opts?: Partial<CallOptions>): Promise<SObject> {
    this.live();
    const caller = opts?.userId ? await loadCaller(this.core.storage, opts.userId) : undefined;
    return this.records.get(type, id, caller);
  }

  /** Creates a record as `userId`, with the same rules as the actions; returns `{ id, success, errors }`. */
  async createRecord(type: string, fields: unknown, opts: CallOptions): Promise<{ id: string; success: true; errors: [] }> {
    this.live();
    return this.records.create(type, fields, await loadCaller(this.core.storage, opts?.userId));
  }

  /** Updates a record as `userId` (a session's State moves only as the flow allows). */
  async updateRecord(type: string, id: string, fields: unknown, opts: CallOptions): Promise<void> {
    this.live();
    return this.records.update(type, id, fields, await loadCaller(this.core.storage, opts?.userId));
  }

  /** Deletes a record as `userId`. */
  async deleteRecord(type: string, id: string, opts: CallOptions): Promise<void> {
    this.live();
    return this.records.delete(type, id, await loadCaller(this.core.storage, opts?.userId));
  }

  /**
   * Runs a SOQL query (SELECT … FROM one object WHERE … AND … ORDER BY … LIMIT …) as `userId`,
   * seeing only what that user may read.
   * @example await engine.query("SELECT Id, Status FROM Order WHERE Status = 'Draft'", { userId })
   */
  async query(soql: string, opts: CallOptions): Promise<QueryResult> {
    this.live();
    const caller = await loadCaller(this.core.storage, opts?.userId);
    return runQuery(this.core.storage, caller, soql, this.core.now());
  }

  /** Resolves when no background operation is queued or running in this process. */
  whenIdle(): Promise<void> {
    return this.worker.idle();
  }

  /** Stops the worker (running operations finish; queued ones stay New and resume on the next start) and closes storage. */
  async close(): Promise<void> {
    if (this.core.closed) return;
    this.core.closed = true;
    await this.worker.close();
    await this.core.storage.close();
  }
}

/**
 * Creates a checkout engine on the given storage, runs migrations and resumes operations an
 * earlier process left unfinished.
 * @example const engine = await createCheckoutEngine({ storage: './checkout.db' })
 */
export async function createCheckoutEngine(opts: CheckoutEngineOptions = {}): Promise<CheckoutEngine> {
  const storage = typeof opts.storage === 'object' && opts.storage !== null ? opts.storage : await openStorage(opts.storage ?? ':memory:');
  await storage.migrate();
  const engine = new CheckoutEngine(storage, opts);
  if (opts.recover !== false) await engine.worker.recover();
  return engine;
}
