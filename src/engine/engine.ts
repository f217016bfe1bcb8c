/**
 * The checkout engine: the library's entry point. It owns a storage backend, the registered
 * flows and their statecharts, the step services and the operation worker, and exposes the
 * Salesforce-shaped operations of spec §5.
 */
import type { FlowDefinition } from '../domain/flow.js';
import { ACTIONS, STEP_ACTIONS, invokeAction, requireAction, type InvocationResult } from '../actions/index.js';
import { integrationStepAction } from '../actions/integration-step.js';
import { IntegrationRegistry, type IntegrationsOption } from '../integrations/registry.js';
import type { CartProcessor } from '../integrations/contract.js';
import type { CartCalculateOrchestrator } from '../integrations/cart-calculate.js';
import { calculateCart, type CalculateCartInput, type CalculateCartResult } from './cart-calculate.js';
import type { PaymentGateway } from '../integrations/payment.js';
import { expireBeforeCall, sweepExpiredCheckouts } from './expiry.js';
import { runCheckout, type CheckoutRun, type RunCheckoutOptions } from './checkout-runner.js';
import type { ActionDef } from '../actions/types.js';
import type { InvokeInputs, InvokeName, InvokeResult } from '../actions/typed.js';
import { EngineError } from '../errors.js';
import { publicRecord, type SObject } from '../domain/records.js';
import { openStorage } from '../storage/index.js';
import type { Storage, StorageOps } from '../storage/port.js';
import { EngineCore } from './core.js';
import { createAdmin, type EngineAdmin } from './admin.js';
import { CallerRead, callerOf, loadCaller, type Caller, type CallerRef } from './facts.js';
import { runQuery, type QueryResult } from './query.js';
import { closeCartOfCompletedCheckout, RecordService } from './record-service.js';
import { seedFixture } from './seed.js';
import type { AttachedInspector, InspectOption } from './inspect-option.js';
import { readHistory, writeSideEntry, type HistoryEntry } from './sessions.js';
import type { FlowDefinition as FlowMetadata } from '../flows/metadata.js';
import { OperationWorker } from './worker.js';
import { StepLifecycle, type WorkerFaults } from './steps.js';
import { createOperationQueue, loadOperationQueue, queueOptions } from './queue/index.js';
import { SessionFeed } from './session-feed.js';
import { hashPassword, normalizeUsername, verifyPassword } from './passwords.js';
import { DEFAULT_THROTTLE_LIMITS, throttledLogin, type LoginAttempt, type ThrottleLimits } from './login-throttle.js';
import { issueToken, revokeToken, signatureKey, signIdentity, tokenUserRow, type IssuedToken } from './tokens.js';
import type { FlowLoadIssue, FlowRegistry, FlowRuntime } from '../flows/contract.js';
import { EngineFlowHost } from './flow-host.js';
import { builtinApex, builtinComponents, sessionFlowOf, type ApexStandIn, type ComponentStandIn } from './flow-standins.js';
import { builtinFlows, checkFlowSources, loadFlows, runtimeOver, type LoadedFlow } from './flow-loading.js';
import {
  InterviewStore,
  type Interview,
  type InterviewEvent,
  type InterviewSummary,
  type NavigateRequest,
  type StoredInterviewEvent,
} from './interviews.js';

/**
 * Checkout screen components that do no work of their own in the engine: their outputs are the
 * buyer's answers (a summary, navigation buttons, the address and delivery-method pickers whose
 * choice the flow itself writes). A stand-in of the same name (built-in or the `components`
 * option) replaces one.
 */
const passAnswers: ComponentStandIn = async (_inputs, answers) => ({ ...answers });
const ANSWER_COMPONENTS: Readonly<Record<string, ComponentStandIn>> = Object.fromEntries(
  [
    'forceCommunity:commerceDelivery',
    'commerce_checkout:deliveryMethod',
    'forceCommunity:cancelCheckoutButton',
    'forceCommunity:commerceCheckoutSummary',
    'c:navigationButtons',
  ].map((name) => [name, passAnswers]),
);

/** The longest access-token lifetime `issueToken` grants (10 years). */
const MAX_TOKEN_TTL_SECONDS = 315_360_000;

export type { Caller } from './facts.js';

/** Inputs one action invocation takes at most, unless `maxInputsPerInvocation` says otherwise. */
export const MAX_INVOCATION_INPUTS = 200;

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
  /**
   * Flow of every store not in `storeFlows`: `default` (the default), `salesforce-reentrant`,
   * `salesforce-main`, or the id of one of `flows`.
   * @example createCheckoutEngine({ defaultFlow: 'salesforce-reentrant' })
   */
  defaultFlow?: string;
  /**
   * Calculators replacing the defaults (spec §4): by name (`inventory`, `pricing`, `promotions`,
   * `shipping`, `taxes`, or a custom step's action name), and per store under `stores: { [webStoreId]: {...} }`.
   */
  integrations?: IntegrationsOption;
  /** The gateway of the authorizePayment step (default: TestPaymentGateway). */
  paymentGateway?: PaymentGateway;
  /** How many operations the in-process worker runs at once (default 4). */
  workerConcurrency?: number;
  /** How long a step's integration work may take before the step fails (default 30 s). */
  stepTimeoutMs?: number;
  /** Run operations left New or Running by an earlier process on start (default true). */
  recover?: boolean;
  /** Fault-injection hooks for crash tests. */
  faults?: WorkerFaults;
  /**
   * Whether this process runs background operations (default true). With false it still queues
   * them (and runs its own runAsync=false calls); on PostgreSQL other processes' workers take them.
   */
  worker?: boolean;
  /**
   * How long a claimed operation belongs to its worker before another process may take it over
   * (PostgreSQL; default stepTimeoutMs + 30 s, at least 1 s). Keep it above stepTimeoutMs.
   */
  leaseMs?: number;
  /**
   * How waiting processes learn that work was queued or finished. On PostgreSQL every process
   * LISTENs on a channel of its schema and NOTIFYs it (`notify`, default true); `pollMs` (default
   * 1000, at least 500) is the fallback poll of waiters and queue workers while notifications
   * flow (without them waiters poll every 20–250 ms and pg-boss every 500 ms).
   */
  queue?: { notify?: boolean; pollMs?: number };
  /** Where unexpected internal errors are reported (default: console.error). */
  onError?: (err: unknown) => void;
  /** Inputs one `invoke` call takes at most (default 200); more is refused with INVALID_INPUT naming `inputs`. */
  maxInputsPerInvocation?: number;
  /**
   * Send every session's events and snapshots to a Stately inspector: a WebSocket URL (e.g.
   * `ws://localhost:8080`, see `checkout-engine serve --inspect`) or an inspector object
   * (`createInspector` / `createWebSocketInspector` of `@statelyai/inspect`). Secrets are redacted.
   */
  inspect?: InspectOption;
  /**
   * A store's own Salesforce Flow metadata to run as interviews (`startInterview`): flow files or
   * directories of them, loaded at start (every problem is one FLOW_LOAD_ERROR error listing each
   * issue per file and element). See docs/flow-runtime.md "Running interviews".
   * @example createCheckoutEngine({ flowSources: ['./force-app/main/default/flows'] })
   */
  flowSources?: string[];
  /**
   * Apex invocable stand-ins by class name, merged over the built-in ones: `async (inputs, ctx) =>
   * outputs`, called once per flow action call with its single values, as the interview's user.
   */
  apex?: Record<string, ApexStandIn>;
  /** Screen component stand-ins by extension name (`ns:name`), merged over the built-in ones. */
  components?: Record<string, ComponentStandIn>;
  /**
   * How long a flow interview's navigate holds its claim without renewing it (default 30 s, at least
   * 1 s): after a process dies mid-navigate, the interview can be navigated again once it passed.
   */
  interviewLeaseMs?: number;
  /**
   * A store's own checkout flow (API name) → the built-in or registered session flow the checkout
   * sessions its interviews create follow, merged over the templates' (Checkout_Main_Checkout →
   * `salesforce-main-checkout`, Checkout_Main_with_Salesforce_Pricing_and_Promotions →
   * `salesforce-main`, Reentrant_Checkout → `salesforce-reentrant`). Unknown session flows are INVALID_FLOW.
   * @example createCheckoutEngine({ flowSources: ['./flows'], interviewSessionFlows: { Store_Checkout: 'salesforce-reentrant' } })
   */
  interviewSessionFlows?: Record<string, string>;
}

/** Who is calling: the authenticated Salesforce user id. */
export interface CallOptions {
  userId: string;
  /**
   * The built-in or registered flow a checkout session created by this call follows, over the
   * store's flow (a flow interview running a Salesforce template names its shape's flow, e.g.
   * `salesforce-main-checkout` for Checkout_Main_Checkout). Unknown ids are INVALID_FLOW.
   */
  sessionFlow?: string;
}

/**
 * How a call finds its caller: the public methods read the user of `CallOptions`; the `…As` methods
 * (internal: the HTTP layer's) take the one its request already loaded when it authenticated.
 */
type CallerSource<C = Caller> = () => Promise<C>;

/**
 * A record-type argument as the history names it. The argument reaches the library unchecked (the
 * record layer refuses a non-string with INVALID_TYPE), so it is never converted with String(): a
 * hostile object's toString could throw before that refusal.
 */
function typeLabel(type: unknown): string {
  return typeof type === 'string' ? type : `<${typeof type}>`;
}

/** A running checkout engine. */
export class CheckoutEngine {
  /** @internal */ readonly core: EngineCore;
  /** @internal */ readonly worker: OperationWorker;
  /** @internal the step lifecycle (src/engine/steps.ts) */ readonly steps: StepLifecycle;
  /**
   * @internal The record layer with its run modes (`{ mode }`: user, systemWithSharing, system),
   * for the flow interview host (a flow's record elements); library and REST calls run `user`.
   */
  readonly records: RecordService;
  private readonly handles = new Map<string, string>();
  private readonly storeFlows: Record<string, string>;
  private readonly defaultFlow: string;
  private readonly onError: (err: unknown) => void;
  private readonly customActions = new Map<string, ActionDef>();
  private readonly maxInputs: number;
  private readonly apex: Map<string, ApexStandIn>;
  private readonly components: Map<string, ComponentStandIn>;
  private readonly interviewSessionFlows: Map<string, string>;
  private flowDefinitions: LoadedFlow[] = [];
  private flowRuntime: FlowRuntime | undefined;
  /** @internal durable flow interviews (src/engine/interviews.ts) */
  readonly interviews: InterviewStore;
  /** The calculators and payment gateway this engine's steps use. */
  readonly integrations: IntegrationRegistry;
  /** The live Stately inspector, when `inspect` was given (attached by src/inspect/attach.ts). */
  inspector: AttachedInspector | undefined;
  /** Listeners of every stored interview start and navigate (`onInterviewEvent`). */
  private readonly interviewListeners = new Set<(e: StoredInterviewEvent) => void>();
  /**
   * The operator's read-only view of the stored rows (no sharing, `_` columns included): for
   * operators, tests and scenario checks, never to answer a buyer. See docs/library.md.
   * @example const orders = await engine.admin.find('Order', { where: [{ field: 'Status', op: '=', value: 'Activated' }] })
   */
  readonly admin: EngineAdmin;

  /** @internal use createCheckoutEngine */
  constructor(storage: Storage, opts: CheckoutEngineOptions) {
    this.onError = opts.onError ?? ((e) => console.error('[checkout-engine]', e));
    this.maxInputs = opts.maxInputsPerInvocation ?? MAX_INVOCATION_INPUTS;
    this.core = new EngineCore({
      storage,
      clock: opts.clock ?? (() => new Date()),
      flows: opts.flows ?? [],
      stepTimeoutMs: opts.stepTimeoutMs ?? 30_000,
    });
    this.core.onInternalError = this.onError;
    for (const a of STEP_ACTIONS) this.core.steps.set(a.name, a.service);
    this.integrations = new IntegrationRegistry(opts.integrations ?? {}, opts.paymentGateway);
    const concurrency = opts.workerConcurrency ?? 4;
    const leaseMs = Math.max(1_000, opts.leaseMs ?? this.core.stepTimeoutMs + 30_000);
    const queue = createOperationQueue(storage, {
      concurrency,
      leaseMs,
      work: opts.worker !== false,
      onError: this.onError,
      ...queueOptions(opts.queue),
    });
    this.worker = new OperationWorker(this.core, concurrency, this.onError, { queue, leaseMs });
    this.steps = new StepLifecycle(this.core, this.worker, this.integrations, opts.faults, this.onError);
    this.feed = new SessionFeed(queue, storage, (id) => this.flowOfSession(id), this.onError);
    if (this.feed.crossProcess) this.core.sessionListeners.add((entry) => this.feed.publish(entry));
    this.records = new RecordService(this.core);
    this.admin = createAdmin(() => this.core.storage);
    this.storeFlows = { ...(opts.storeFlows ?? {}) };
    this.defaultFlow = opts.defaultFlow ?? 'default';
    for (const [kind, given] of [
      ['apex', opts.apex],
      ['components', opts.components],
    ] as const) {
      if (given === undefined) continue;
      if (given === null || typeof given !== 'object' || Array.isArray(given))
        throw new EngineError('INVALID_INPUT', `${kind} must be an object of stand-in functions by name.`, [kind]);
      for (const [name, fn] of Object.entries(given))
        if (typeof fn !== 'function') throw new EngineError('INVALID_INPUT', `${kind}.${name} must be a function.`, [kind]);
    }
    // The engine's options over the built-in stand-ins (src/engine/flow-standins.ts).
    this.apex = new Map(Object.entries({ ...builtinApex, ...(opts.apex ?? {}) }));
    this.components = new Map(Object.entries({ ...ANSWER_COMPONENTS, ...builtinComponents, ...(opts.components ?? {}) }));
    const sessionFlows = opts.interviewSessionFlows ?? {};
    if (sessionFlows === null || typeof sessionFlows !== 'object' || Array.isArray(sessionFlows)) {
      throw new EngineError('INVALID_INPUT', 'interviewSessionFlows must be an object: flow API name → session flow id.', [
        'interviewSessionFlows',
      ]);
    }
    for (const [flowName, id] of Object.entries(sessionFlows)) {
      if (typeof id !== 'string' || !this.core.flowIds().includes(id)) {
        throw new EngineError('INVALID_FLOW', `interviewSessionFlows.${flowName}: '${String(id)}' is not a built-in or registered flow.`, [
          'interviewSessionFlows',
        ]);
      }
    }
    this.interviewSessionFlows = new Map(Object.entries(sessionFlows));
    this.interviews = new InterviewStore({
      storage: () => this.core.storage,
      now: () => this.core.now(),
      runtime: () => (this.flowRuntime ??= runtimeOver(this.flowDefinitions)),
      onStored: (e) => {
        for (const listener of this.interviewListeners) listener(e);
      },
      // The caller the facade call loaded (startInterview, navigate): not read again.
      host: async (caller, flowApiName) => this.flowHost(caller, flowApiName),
      canReadCart: async (cartId, caller) => {
        try {
          await this.records.get('WebCart', cartId, caller);
          return true;
        } catch (e) {
          if (e instanceof EngineError && (e.status === 404 || e.key === 'INSUFFICIENT_ACCESS')) return false;
          throw e;
        }
      },
      leaseMs: Math.max(1_000, opts.interviewLeaseMs ?? 30_000),
      onFinished: async (cartId) => {
        await this.core.atomically((tx) => closeCartOfCompletedCheckout(tx, cartId, this.core.now()));
      },
      onEvent: (e) => this.recordInterviewEvent(e),
      recordEventIn: async (tx, e) => {
        const entry = await this.interviewHistory(tx, e);
        return entry ? () => this.core.notify(entry) : undefined;
      },
      onError: this.onError,
    });
    for (const flowId of [this.defaultFlow, ...Object.values(this.storeFlows)]) this.core.flow(flowId);
    // A flow's own async steps get an action of their own, run by the integration registered under the action's name.
    for (const flowId of this.core.flowIds()) {
      for (const step of this.core.flow(flowId).flow.steps.values()) {
        if (
          !step.action ||
          (step.kind !== 'async' && step.kind !== 'sync') ||
          ACTIONS.has(step.action) ||
          this.customActions.has(step.action)
        )
          continue;
        const action = integrationStepAction(step.action, step.label, step.validationType ?? 'SystemError');
        this.customActions.set(action.name, action);
        this.core.steps.set(action.name, action.service);
      }
    }
  }

  /** Which backend this engine stores to. */
  get storageKind(): string {
    return this.core.storage.kind;
  }

  /** The calling user of `opts`, read when the call needs it. */
  private callerOf(opts: CallOptions | undefined): CallerSource {
    return () => loadCaller(this.core.storage, opts?.userId);
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
   * input, each with `httpStatus`. Typed by the action map (CheckoutActions): a misspelt action name
   * or input parameter doesn't compile, and a result narrows on `isSuccess` (then `outputValues` is
   * the action's outputs). A name known only at run time (`string`) is accepted untyped; see also
   * `invokeAny`. An unknown action is a NOT_FOUND error; `inputs` must be a list.
   * @example
   *   const [r] = await engine.invoke('cartToOrderAction', [{ cartId }], { userId });
   *   if (r.isSuccess) console.log(r.outputValues.backgroundOperationId);
   */
  invoke<N extends string>(actionName: InvokeName<N>, inputs: InvokeInputs<N>, opts: CallOptions): Promise<InvokeResult<N>[]> {
    return this.invokeAny(actionName, inputs, opts) as Promise<InvokeResult<N>[]>;
  }

  /**
   * The untyped form of `invoke`, for dynamic callers: any action name (standard, or a custom flow
   * step's action) and any inputs, checked at run time only.
   * @example await engine.invokeAny(actionNameFromConfig, inputsFromJson, { userId })
   */
  invokeAny(actionName: string, inputs: unknown, opts: CallOptions): Promise<InvocationResult[]> {
    return this.invokeWithOptions(actionName, inputs, opts);
  }

  /**
   * @internal `invokeAny` as a caller already loaded (the HTTP layer's: the user its request
   * authenticated as, so it isn't read again). Not for library callers: the caller isn't checked.
   */
  invokeAs(caller: Caller, actionName: string, inputs: unknown, sessionFlow?: string): Promise<InvocationResult[]> {
    return this.invokeBy(async () => caller, actionName, inputs, sessionFlow);
  }

  /**
   * @internal `invokeAny` for the flow runner (src/engine/checkout-runner.ts): `settled` is told the
   * Status a step call committed its operation with when the call finished the operation itself, so
   * the runner needn't read the operation back for it.
   */
  invokeSettling(
    actionName: string,
    inputs: unknown,
    opts: CallOptions,
    settled: (operationId: string, status: string) => void,
  ): Promise<InvocationResult[]> {
    return this.invokeWithOptions(actionName, inputs, opts, settled);
  }

  /** `invokeAny`'s work (and `invokeSettling`'s, with `settled`): the caller and the session flow from `opts`. */
  private invokeWithOptions(
    actionName: string,
    inputs: unknown,
    opts: CallOptions,
    settled?: (operationId: string, status: string) => void,
  ): Promise<InvocationResult[]> {
    // `opts` reaches the library unchecked: a non-object has no sessionFlow (callerOf refuses it with the table's error).
    const sessionFlow: unknown = typeof opts === 'object' && opts !== null ? (opts as Partial<CallOptions>).sessionFlow : undefined;
    // An action that reads the caller with its facts gets it read there (CallerRead): one round trip less.
    const userId: unknown = typeof opts === 'object' && opts !== null ? (opts as Partial<CallOptions>).userId : undefined;
    return this.invokeBy(this.callerOf(opts), actionName, inputs, sessionFlow, () => CallerRead.of(this.core.storage, userId), settled);
  }

  private async invokeBy(
    callerOf: CallerSource,
    actionName: string,
    inputs: unknown,
    sessionFlow?: unknown,
    /** The caller to read with the action's facts, for an action that `readsCallerWithFacts`. */
    withFacts?: () => CallerRead,
    /** Told the Status a step call committed its operation with (`StepCaller.operationSettled`). */
    operationSettled?: (operationId: string, status: string) => void,
  ): Promise<InvocationResult[]> {
    this.live();
    const def = this.customActions.get(actionName) ?? requireAction(actionName);
    if (!Array.isArray(inputs))
      throw new EngineError('INVALID_INPUT', '\'inputs\' must be a list of input objects, e.g. [{ "cartId": "0a6…" }].', ['inputs']);
    if (inputs.length > this.maxInputs)
      throw new EngineError('TOO_MANY_INPUTS', `'inputs' has ${inputs.length} items; one invocation takes at most ${this.maxInputs}.`, [
        'inputs',
      ]);
    if (sessionFlow !== undefined && typeof sessionFlow !== 'string')
      throw new EngineError('INVALID_INPUT', 'sessionFlow must be the id of a flow (a string).', ['sessionFlow']);
    if (sessionFlow !== undefined) this.core.flow(sessionFlow); // INVALID_FLOW when not registered
    const caller: CallerRef = def.readsCallerWithFacts && withFacts ? withFacts() : await callerOf();
    // Expiry is a deadline in the data, checked against the clock by each action's facts read (see invokeAction).
    const origin = { operation: def.name, callerId: caller.Id };
    return invokeAction(
      def,
      {
        core: this.core,
        steps: this.steps,
        caller,
        origin,
        storeFlows: this.storeFlows,
        defaultFlow: this.defaultFlow,
        ...(sessionFlow !== undefined ? { sessionFlow } : {}),
        ...(operationSettled ? { operationSettled } : {}),
      },
      inputs,
      this.onError,
    );
  }

  /** Describes every action (name, label, inputs, outputs). */
  describeActions(): ActionDef[] {
    return [...ACTIONS.values(), ...this.customActions.values()];
  }

  /** One record by type and id (15 or 18 chars); with `userId`, only if that user may read it. */
  getRecord(type: string, id: string, opts?: Partial<CallOptions>): Promise<SObject> {
    return this.getRecordBy(async () => (opts?.userId ? this.callerOf(opts as CallOptions)() : undefined), type, id);
  }

  /** @internal `getRecord` as a caller already loaded (see `invokeAs`). */
  getRecordAs(caller: Caller, type: string, id: string): Promise<SObject> {
    return this.getRecordBy(async () => caller, type, id);
  }

  private async getRecordBy(callerOf: CallerSource<Caller | undefined>, type: string, id: string): Promise<SObject> {
    this.live();
    const caller = await callerOf();
    return this.records.get(type, id, caller);
  }

  /** Creates a record as `userId`, with the same rules as the actions; returns `{ id, success, errors }`. */
  createRecord(type: string, fields: unknown, opts: CallOptions): Promise<{ id: string; success: true; errors: [] }> {
    return this.createRecordBy(this.callerOf(opts), type, fields);
  }

  /** @internal `createRecord` as a caller already loaded (see `invokeAs`). */
  createRecordAs(
    caller: Caller,
    type: string,
    fields: unknown,
    opts?: { keepCheckout?: boolean },
  ): Promise<{ id: string; success: true; errors: [] }> {
    return this.createRecordBy(async () => caller, type, fields, opts);
  }

  private async createRecordBy(
    callerOf: CallerSource,
    type: string,
    fields: unknown,
    opts?: { keepCheckout?: boolean },
  ): Promise<{ id: string; success: true; errors: [] }> {
    this.live();
    const caller = await callerOf();
    return this.records.create(type, fields, caller, {
      origin: { operation: `createRecord(${typeLabel(type)})`, callerId: caller.Id },
      keepCheckout: opts?.keepCheckout,
    });
  }

  /** Updates a record as `userId` (a session's State moves only as the flow allows). */
  updateRecord(type: string, id: string, fields: unknown, opts: CallOptions): Promise<void> {
    // The caller is read with the transaction's first read (RecordService.update): one round trip less.
    return this.updateRecordBy(this.callerOf(opts), type, id, fields, undefined, () => CallerRead.of(this.core.storage, opts?.userId));
  }

  /** @internal `updateRecord` as a caller already loaded (see `invokeAs`). */
  updateRecordAs(caller: Caller, type: string, id: string, fields: unknown, opts?: { keepCheckout?: boolean }): Promise<void> {
    return this.updateRecordBy(async () => caller, type, id, fields, opts);
  }

  private async updateRecordBy(
    callerOf: CallerSource,
    type: string,
    id: string,
    fields: unknown,
    opts?: { keepCheckout?: boolean },
    /** The caller to read with the update's first read (`CallerRead`), instead of before it. */
    withFirstRead?: () => CallerRead,
  ): Promise<void> {
    this.live();
    if (typeof type === 'string' && type.toLowerCase() === 'cartcheckoutsession')
      await expireBeforeCall(this.core, { checkoutSessionId: id });
    const caller: CallerRef = withFirstRead ? withFirstRead() : await callerOf();
    return this.records.update(type, id, fields, caller, {
      origin: { operation: `updateRecord(${typeLabel(type)})`, callerId: caller.Id, input: fields },
      keepCheckout: opts?.keepCheckout,
    });
  }

  /** Deletes a record as `userId`. */
  deleteRecord(type: string, id: string, opts: CallOptions): Promise<void> {
    return this.deleteRecordBy(this.callerOf(opts), type, id);
  }

  /** @internal `deleteRecord` as a caller already loaded (see `invokeAs`). */
  deleteRecordAs(caller: Caller, type: string, id: string, opts?: { keepCheckout?: boolean }): Promise<void> {
    return this.deleteRecordBy(async () => caller, type, id, opts);
  }

  private async deleteRecordBy(callerOf: CallerSource, type: string, id: string, opts?: { keepCheckout?: boolean }): Promise<void> {
    this.live();
    const caller = await callerOf();
    return this.records.delete(type, id, caller, {
      origin: { operation: `deleteRecord(${typeLabel(type)})`, callerId: caller.Id },
      keepCheckout: opts?.keepCheckout,
    });
  }

  /**
   * Runs a SOQL query (SELECT … FROM one object WHERE … AND … ORDER BY … LIMIT …) as `userId`,
   * seeing only what that user may read; `apiVersion` (default '64.0') goes into each record's
   * `attributes.url`.
   * @example await engine.query("SELECT Id, Status FROM Order WHERE Status = 'Draft'", { userId })
   */
  query(soql: string, opts: CallOptions & { apiVersion?: string }): Promise<QueryResult> {
    return this.queryBy(this.callerOf(opts), soql, opts);
  }

  /** @internal `query` as a caller already loaded (see `invokeAs`). */
  queryAs(caller: Caller, soql: string, apiVersion?: string): Promise<QueryResult> {
    return this.queryBy(async () => caller, soql, { apiVersion });
  }

  private async queryBy(callerOf: CallerSource, soql: string, opts: { apiVersion?: string } | undefined): Promise<QueryResult> {
    this.live();
    const caller = await callerOf();
    const version = opts?.apiVersion;
    if (version !== undefined && (typeof version !== 'string' || !/^\d{1,3}\.\d$/.test(version))) {
      throw new EngineError(
        'INVALID_INPUT',
        `apiVersion must be a version like '64.0', not ${typeof version === 'string' ? `'${version.slice(0, 20)}'` : typeof version}.`,
        ['apiVersion'],
      );
    }
    return runQuery(this.core.storage, caller, soql, this.core.now(), version);
  }

  /** The host an interview of `caller` runs with (src/engine/flow-host.ts). */
  private flowHost(caller: Caller, flowApiName: string): EngineFlowHost {
    if (!caller.IsActive) throw new EngineError('INVALID_SESSION', "The interview's user is inactive.", ['userId']);
    return new EngineFlowHost(this, caller, {
      apex: this.apex,
      components: this.components,
      core: this.core,
      records: this.records,
      integrations: this.integrations,
      flowApiName,
      sessionFlow: this.interviewSessionFlows.get(flowApiName) ?? sessionFlowOf(flowApiName),
    });
  }

  /** What the flow loader checks references against: core actions, Apex and component stand-ins. */
  flowRegistry(): FlowRegistry {
    return {
      coreActions: new Set(this.describeActions().map((a) => a.name)),
      apex: new Set(this.apex.keys()),
      components: new Set(this.components.keys()),
    };
  }

  /**
   * Loads Salesforce Flow metadata (files, or directories of `.flow-meta.xml` files) for interviews;
   * returns the API names now loaded. Any problem — XML, an element the runtime doesn't run, a
   * reference to a missing resource, an action or Apex class or component without a stand-in — is
   * one FLOW_LOAD_ERROR error listing every issue per file and element, and nothing is loaded.
   * @example await engine.loadFlows(['./flows'])
   */
  async loadFlows(paths: string[]): Promise<string[]> {
    this.live();
    const definitions = await loadFlows(paths, this.flowRegistry(), this.flowDefinitions);
    const runtime = runtimeOver([...this.flowDefinitions, ...definitions]);
    this.flowDefinitions = [...this.flowDefinitions, ...definitions];
    this.flowRuntime = runtime;

    return runtime.flowNames();
  }

  /** Every load issue of flow files, per file and element, without loading them (`checkout-engine flow check`). */
  async checkFlows(paths: string[]): Promise<FlowLoadIssue[]> {
    this.live();
    return (await checkFlowSources(paths, this.flowRegistry(), this.flowDefinitions)).issues;
  }

  /** API names of the flows interviews can start. */
  flowNames(): string[] {
    return (this.flowRuntime ??= runtimeOver(this.flowDefinitions)).flowNames();
  }

  /**
   * Starts a flow interview as the caller (`inputs`: the flow's input variables by name; an input
   * holding a WebCart id names the cart, which the caller must be able to read) and runs it to its
   * first screen, wait, finish or error. Only this user can read or navigate it.
   * @example const iv = await engine.startInterview('Checkout_Main', { cartId }, { userId })
   */
  async startInterview(flowApiName: string, inputs: Record<string, unknown>, caller: CallOptions): Promise<Interview> {
    this.live();
    const c = await this.callerOf(caller)();
    return this.interviews.start(flowApiName, inputs, c);
  }

  /** An interview of the caller as stored (another user's answers as a missing id: NOT_FOUND). */
  async getInterview(interviewId: string, caller: CallOptions): Promise<Interview> {
    this.live();
    const c = await this.callerOf(caller)();
    return this.interviews.get(interviewId, c.Id);
  }

  /**
   * Navigates an interview of the caller: NEXT/FINISH/BACK/PAUSE with the screen's answers (field →
   * output → value); a Waiting one is re-checked, for up to `waitMs`. A second navigate of the same
   * interview while one runs is INTERVIEW_BUSY (409) and runs nothing.
   * @example await engine.navigate(iv.id, { action: 'NEXT', answers: { Delivery: { methodId } } }, { userId })
   */
  async navigate(interviewId: string, nav: NavigateRequest, caller: CallOptions): Promise<Interview> {
    this.live();
    // The caller and the interview in one read (the caller read alone when the interview isn't theirs).
    const userId: unknown = typeof caller === 'object' && caller !== null ? (caller as Partial<CallOptions>).userId : undefined;
    return this.interviews.navigateFor(interviewId, nav, userId, this.callerOf(caller));
  }

  /** Records an interview's start or navigate in its cart's checkout session history (when the cart has one). */
  private async recordInterviewEvent(e: InterviewEvent): Promise<void> {
    const entry = await this.interviewHistory(this.core.storage, e);
    if (entry) this.core.notify(entry);
  }

  /** Writes an interview's history entry with `ops` (the storage, or the transaction saving the navigate); null without an active session. */
  private interviewHistory(ops: StorageOps, e: InterviewEvent): Promise<HistoryEntry | null> {
    const event = {
      type: 'FLOW_INTERVIEW',
      interviewId: e.interviewId,
      flowApiName: e.flowApiName,
      action: e.action,
      statusBefore: e.before.status,
      elementBefore: e.before.element,
      status: e.after.status,
      element: e.after.element,
    };
    return writeSideEntry(ops, e.cartId, event, this.core.now(), {
      operation: e.action === 'START' ? 'startInterview' : 'navigateInterview',
      callerId: e.userId,
    });
  }

  /** Resolves when no background operation is queued or running in this process. */
  whenIdle(): Promise<void> {
    return this.worker.idle();
  }

  /**
   * Drives the cart's checkout through its flow as `userId` (spec §2 call by call) until `complete`
   * or `error`; resumable: it continues from the stored State. Returns the trajectory.
   * @example const run = await engine.runCheckout(cartId, { userId, answers: { poNumber: 'PO-7' } })
   */
  async runCheckout(cartId: string, opts: RunCheckoutOptions): Promise<CheckoutRun> {
    this.live();
    if (!opts || typeof opts !== 'object')
      throw new EngineError('INVALID_INPUT', 'runCheckout needs options with the buyer: { userId }.', ['userId']);
    return runCheckout(this, cartId, opts);
  }

  /**
   * Registers a calculator for a step (`inventory`, `pricing`, `promotions`, `shipping`, `taxes`,
   * `postShipping` or a custom step's action name), or a Cart Calculate orchestrator under
   * `cartCalculate` (src/integrations/cart-calculate.ts), engine-wide or for one store; it replaces
   * the default from the next run.
   * @example engine.registerIntegration('taxes', myTaxes, { storeId })
   * @example engine.registerIntegration('cartCalculate', { calculate: async (req) => { await req.prices(); } }, { storeId })
   */
  registerIntegration(name: string, processor: CartProcessor | CartCalculateOrchestrator, opts: { storeId?: string } = {}): void {
    this.integrations.register(name, processor, opts.storeId);
  }

  /**
   * Runs the cart's store's Cart Calculate orchestrator for the buyer actions given, in one
   * transaction (src/engine/cart-calculate.ts: what runs, what is written, what rolls back). It
   * checks no access: callers reach the cart first (the Connect services do).
   * @example await engine.calculateCart({ cartId, buyerActions: ['cartItemChanged'] })
   */
  calculateCart(input: CalculateCartInput): Promise<CalculateCartResult> {
    this.live();
    return calculateCart(this, input);
  }

  /** Cancels every checkout whose store's CheckoutTimeToLive or CheckoutValidAfterDate expired it; returns how many. */
  expireCheckouts(): Promise<number> {
    this.live();
    return sweepExpiredCheckouts(this.core);
  }

  /** Stops the worker (running operations finish; queued ones stay New and resume on the next start) and closes storage. */
  async close(): Promise<void> {
    if (this.core.closed) return;
    this.core.closed = true;
    await this.worker.close();
    await this.inspector?.close();
    await this.core.storage.close();
  }

  /**
   * Subscribes to every recorded session event (after its commit), e.g. to stream it; returns the
   * unsubscribe. With `otherProcesses`, also to the events other engine processes on the same
   * PostgreSQL database record (announced by LISTEN/NOTIFY, read back from the history table).
   */
  onSessionEvent(listener: (entry: HistoryEntry) => void, opts: { otherProcesses?: boolean } = {}): () => void {
    this.core.sessionListeners.add(listener);
    if (opts.otherProcesses) this.feed.remote.add(listener);
    return () => {
      this.core.sessionListeners.delete(listener);
      this.feed.remote.delete(listener);
    };
  }
  /** @internal session events to and from other processes */
  readonly feed: SessionFeed;

  /** The id of the user with this Username (case and surrounding spaces ignored), or null (no password check: for operators and seeding). */
  async userIdByUsername(username: string): Promise<string | null> {
    this.live();
    const [row] = await this.core.storage.find('User', {
      where: [{ field: 'Username', op: '=', value: normalizeUsername(username) }],
      limit: 1,
    });
    return row ? String(row.Id) : null;
  }

  /**
   * Checks a username (case and surrounding spaces ignored) and password against the stored scrypt
   * hash; returns the id of an active user, or null without saying which part was wrong (an unknown
   * user costs the same hash work). The hashing runs off the event loop.
   * @example const userId = await engine.login('buyer@acme.example', 'demo-password-1')
   */
  async login(username: unknown, password: unknown): Promise<string | null> {
    this.live();
    if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) return null;
    const [row] = await this.core.storage.find('User', {
      where: [{ field: 'Username', op: '=', value: normalizeUsername(username) }],
      limit: 1,
    });
    const ok = await verifyPassword(password, row?.Password ?? (await (CheckoutEngine.decoyHash ??= hashPassword('decoy'))));
    return row && ok && row.IsActive !== false ? String(row.Id) : null;
  }
  private static decoyHash: Promise<string> | undefined;

  /**
   * `login` under the login throttles kept in the database (shared by every process on it, kept
   * across restarts; see src/engine/login-throttle.ts): per client `address`, per username, and a
   * locked username still open to the right password from an address that signed in as it before.
   * A refusal does no hash work. The HTTP token endpoint signs in through this.
   */
  async attemptLogin(
    username: unknown,
    password: unknown,
    address: string,
    limits: ThrottleLimits = DEFAULT_THROTTLE_LIMITS,
  ): Promise<LoginAttempt> {
    this.live();
    return throttledLogin(this.core.storage, normalizeUsername(username), String(address), limits, this.core.now().getTime(), () =>
      this.login(username, password),
    );
  }

  /**
   * Issues an access token for a user (after `login`): opaque, stored hashed in the database, so
   * every engine process on it accepts it and it survives a restart. Expires after `ttlSeconds`.
   * @example const { token } = await engine.issueToken(userId, 7200)
   */
  async issueToken(userId: string, ttlSeconds: number): Promise<IssuedToken> {
    this.live();
    if (typeof userId !== 'string' || !userId) throw new EngineError('INVALID_INPUT', 'userId must be a User id.', ['userId']);
    if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
      throw new EngineError('INVALID_INPUT', `ttlSeconds must be a number of seconds from 1 to ${MAX_TOKEN_TTL_SECONDS} (10 years).`, [
        'ttlSeconds',
      ]);
    }
    return issueToken(this.core.storage, userId, ttlSeconds, this.core.now());
  }

  /** The id of the active user a live (stored, unexpired, unrevoked) token belongs to, or null. */
  async authenticate(token: string): Promise<string | null> {
    return (await this.authenticateCaller(token))?.Id ?? null;
  }

  /** @internal The active user a live token belongs to, loaded (for the request that presented it), or null. */
  async authenticateCaller(token: string): Promise<Caller | null> {
    this.live();
    // The token and its user in one read: no cache, so a revoked token or a deactivated user is refused at once in every process.
    const row = await tokenUserRow(this.core.storage, token, this.core.now());
    if (!row) return null;
    const caller = callerOf(row);
    return caller.IsActive ? caller : null;
  }

  /** Ends an access token in every process; returns whether it was live. */
  async revokeToken(token: string): Promise<boolean> {
    this.live();
    return revokeToken(this.core.storage, token);
  }

  /**
   * Salesforce's token-response `signature` (base64 HMAC-SHA256 of `id` + `issued_at`), keyed by
   * `key` or else by the install's own key, created once and kept in the database.
   */
  async signTokenResponse(id: string, issuedAt: string, key?: string): Promise<string> {
    this.live();
    return signIdentity(key ?? (await signatureKey(this.core.storage, this.core.now())), id, issuedAt);
  }

  /** Whether a user still exists and is active, so a token of a deactivated user stops working at once. */
  async isActiveUser(userId: string): Promise<boolean> {
    this.live();
    try {
      const caller = await loadCaller(this.core.storage, userId);
      return caller.IsActive;
    } catch (e) {
      if (e instanceof EngineError && e.key === 'INVALID_SESSION') return false;
      throw e;
    }
  }

  /**
   * A session's history, oldest first: every event offered to it (applied or rejected) with the
   * state before and after, the operation, the caller and the time. With `userId`, only when that
   * user may read the session (NOT_FOUND otherwise); without, for operators.
   * @example const history = await engine.getHistory(sessionId, { userId })
   */
  async getHistory(sessionId: string, opts?: Partial<CallOptions>): Promise<HistoryEntry[]> {
    this.live();
    const session = await this.getRecord('CartCheckoutSession', sessionId, opts);
    const row = await this.core.storage.get('CartCheckoutSession', String(session.Id));
    const flowId = (row?._flow as string | null) ?? 'default';
    return (await readHistory(this.core.storage, String(session.Id))).map((e) => ({ ...e, flowId }));
  }

  /** The flow id a session runs (operators; the page shows the flow of a session it may read). */
  async flowOfSession(sessionId: string): Promise<string> {
    const row = await this.core.storage.get('CartCheckoutSession', sessionId);
    return (row?._flow as string | null) ?? 'default';
  }

  /**
   * Calls `listener` after every stored start and navigate of a flow interview (in this process),
   * with the answers given and the interview's new view; returns the unsubscribe function.
   * @example const stop = engine.onInterviewEvent((e) => console.log(e.interviewId, e.view.currentElement))
   */
  onInterviewEvent(listener: (e: StoredInterviewEvent) => void): () => void {
    this.interviewListeners.add(listener);
    return () => void this.interviewListeners.delete(listener);
  }

  /** The Flow metadata loaded into this engine (flowSources, loadFlows), in load order; built-in subflows not included. */
  loadedFlows(): readonly FlowMetadata[] {
    return this.flowDefinitions;
  }

  /**
   * A loaded flow's definition (its own Flow metadata, or a built-in managed subflow), or undefined.
   * @example engine.flowMetadata('Checkout_Main')?.elements
   */
  flowMetadata(apiName: string): FlowMetadata | undefined {
    return this.flowDefinitions.find((d) => d.apiName === apiName) ?? builtinFlows().find((d) => d.apiName === apiName);
  }

  /**
   * The caller's flow interviews, newest first (at most 200), with the element each stands on.
   * @example const mine = await engine.listInterviews({ userId })
   */
  async listInterviews(caller: CallOptions): Promise<InterviewSummary[]> {
    this.live();
    const c = await this.callerOf(caller)();
    return this.interviews.list(c.Id);
  }

  /**
   * One interview of the caller with the element it stands on and its subflow stack (another
   * user's answers as a missing id: NOT_FOUND).
   */
  async interviewSummary(interviewId: string, caller: CallOptions): Promise<InterviewSummary> {
    this.live();
    const c = await this.callerOf(caller)();
    return this.interviews.summary(interviewId, c.Id);
  }

  /** Checkout sessions for operators (the CLI), newest first, bypassing sharing; archived ones only when asked. */
  async listSessions(opts: { includeArchived?: boolean; limit?: number } = {}): Promise<SObject[]> {
    this.live();
    const rows = await this.core.storage.find('CartCheckoutSession', {
      where: opts.includeArchived ? [] : [{ field: 'IsArchived', op: '=', value: false }],
      orderBy: [{ field: 'CreatedDate', direction: 'desc' }],
      limit: opts.limit ?? 100,
    });
    return rows.map((r) => publicRecord('CartCheckoutSession', r));
  }

  /** One session with its cart, current operation, validation outputs and order, for operators (the CLI). */
  async sessionDetail(
    sessionId: string,
  ): Promise<{ session: SObject; cart: SObject | null; operation: SObject | null; order: SObject | null; validations: SObject[] }> {
    const session = await this.getRecord('CartCheckoutSession', sessionId);
    const opt = async (type: string, id: unknown) => (typeof id === 'string' ? this.getRecord(type, id).catch(() => null) : null);
    const validations = await this.core.storage.find('CartValidationOutput', {
      where: [{ field: 'CartId', op: '=', value: session.WebCartId }],
      orderBy: [{ field: 'CreatedDate', direction: 'asc' }],
    });
    return {
      session,
      cart: await opt('WebCart', session.WebCartId),
      operation: await opt('BackgroundOperation', session.BackgroundOperationId),
      order: await opt('Order', session.OrderId),
      validations: validations.map((r) => publicRecord('CartValidationOutput', r)),
    };
  }
}

/**
 * @internal What the layers above hand the facade (the library entry, src/index.ts, passes them):
 * `attachInspector` subscribes an inspector to the engine's session events for the `inspect` option.
 */
export interface EngineWiring {
  attachInspector?: (engine: CheckoutEngine, option: InspectOption) => Promise<AttachedInspector>;
  /**
   * Work of the layers above an earlier process left unfinished, resumed on start after the
   * worker's recovery (unless `recover: false`): the library entry passes the Connect placements
   * (src/connect/orders.ts resumePlacements), so an order placed before a crash goes on without a server.
   */
  resume?: (engine: CheckoutEngine) => Promise<unknown>;
}

/**
 * Creates a checkout engine on the given storage, runs migrations and resumes operations an
 * earlier process left unfinished.
 * @example const engine = await createCheckoutEngine({ storage: './checkout.db' })
 */
export async function createCheckoutEngine(opts: CheckoutEngineOptions = {}, wiring: EngineWiring = {}): Promise<CheckoutEngine> {
  const storage = typeof opts.storage === 'object' && opts.storage !== null ? opts.storage : await openStorage(opts.storage ?? ':memory:');
  await storage.migrate();
  await loadOperationQueue(storage);
  const engine = new CheckoutEngine(storage, opts);
  try {
    if (opts.inspect) {
      if (!wiring.attachInspector)
        throw new EngineError('INVALID_INPUT', "The 'inspect' option needs the library entry's createCheckoutEngine ('checkout-engine').", [
          'inspect',
        ]);
      engine.inspector = await wiring.attachInspector(engine, opts.inspect);
    }
    await engine.worker.start();
  } catch (e) {
    await storage.close().catch(() => {});
    throw e;
  }
  if (opts.recover !== false) await engine.worker.recover();
  if (opts.flowSources !== undefined) {
    try {
      await engine.loadFlows(opts.flowSources);
    } catch (e) {
      await engine.close().catch(() => {});
      throw e;
    }
  }
  if (opts.recover !== false && wiring.resume) {
    await wiring.resume(engine).catch((e: unknown) => (opts.onError ?? ((x: unknown) => console.error('[checkout-engine]', x)))(e));
  }
  return engine;
}
