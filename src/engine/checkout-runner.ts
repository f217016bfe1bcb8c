/**
 * The flow runner: `runCheckout(engine, cartId, { userId, answers })` drives a cart through its
 * store's flow like the reference's re-entrant main loop (get-or-create the session, read it,
 * route by State, claim the next step, invoke its action, wait, next), making the calls of spec §2's
 * call-by-call table as the buyer. It keeps no state of its own between iterations: every turn
 * re-reads the stored session, so a run interrupted by a restart (or a second runner on the same
 * cart) simply continues from the stored State.
 */
import { performance } from 'node:perf_hooks';
import { EngineError } from '../errors.js';
import { addMoney } from '../domain/money.js';
import type { InvocationResult } from '../actions/typed.js';
import type { EngineAdmin } from './admin.js';
import type { EngineCore } from './core.js';
import type { OperationWorker } from './worker.js';
import type { Row } from '../storage/port.js';
import type { CompiledFlow, FlowStep, StepKind } from '../domain/flow.js';

/** A buyer's answers to the screen steps (addresses use the DeliverTo and Billing field names). */
export interface CheckoutAnswers {
  /** DeliverTo* fields written to every delivery group at the start screen. */
  deliveryAddress?: Record<string, string | null>;
  /** An OrderDeliveryMethod id; without one the cheapest offered method is taken. */
  deliveryMethodId?: string;
  poNumber?: string;
  /** A tokenized payment method id for the payment gateway. */
  paymentMethodId?: string;
  /** Billing* fields written to the cart on the payment screen. */
  billingAddress?: Record<string, string | null>;
}

/** Options of a run. */
export interface RunCheckoutOptions {
  /** The buyer (or an integrator acting for them). */
  userId: string;
  answers?: CheckoutAnswers;
  /** OrderLifeCycleType passed to activateOrderAction (default: the action's default). */
  orderLifeCycleType?: 'MANAGED' | 'UNMANAGED';
  /** How long to wait for an operation another worker is running (default 2 × stepTimeoutMs + 10 s). */
  maxWaitMs?: number;
  /** Stop (status `stopped`) once the session rests in this State, e.g. to show a screen; run again to continue. */
  stopAt?: string;
}

/** One visited state of a run. */
export interface TrajectoryEntry {
  /** The state the session reached (or `error`). */
  state: string;
  kind: string;
  /** The calls made to reach it, e.g. `updateCheckoutSessionStateAction + priceCart`. */
  calls: string[];
  /** The BackgroundOperation of an async or sync step. */
  operationId: string | null;
  /** Operation status (Complete, Error, Canceled) or `moved` for screen steps. */
  status: string;
  startedAt: string;
  durationMs: number;
  sessionId: string;
}

/** The outcome of a run. */
export interface CheckoutRun {
  cartId: string;
  sessionId: string;
  /** Final session State: `complete`, or `error` when a step failed (cancel and run again). */
  state: string;
  status: 'complete' | 'error' | 'stopped';
  orderId: string | null;
  orderSummaryId: string | null;
  /** Why the run stopped in error: the operation's message and its CartValidationOutput messages. */
  errors: string[];
  trajectory: TrajectoryEntry[];
}

/** Answers that mean "the session moved under us": re-read and route again. */
const movedUnderUs = (status: number, code: string, stepCall: boolean) =>
  status === 409 || code === 'ALREADY_IN_PROCESS' || (stepCall && status === 403 && code === 'INVALID_OPERATION');

/** What a turn's handler says: the loop goes on (`next`), or the run ends with this session row. */
type TurnEnd = { done: Row } | 'next';

/** One turn that moves a resting session on to its next step. */
interface Move {
  flow: CompiledFlow;
  /** The State the session rests in, and the step it moves to. */
  state: string;
  next: string;
  nextStep: FlowStep;
  /** The calls made so far this turn (for the trajectory). */
  calls: string[];
  t0: number;
  at: string;
}

/**
 * The engine calls the runner makes as the buyer: `CheckoutEngine` (src/engine/engine.ts) passes
 * itself. Declared here so the runner doesn't import the facade back.
 */
export interface CheckoutDriver {
  readonly core: EngineCore;
  readonly admin: EngineAdmin;
  readonly worker: OperationWorker;
  invokeAny(actionName: string, inputs: unknown, opts: { userId: string }): Promise<InvocationResult[]>;
  /**
   * `invokeAny`, telling `settled` the Status a step call committed its operation with when the call
   * finished it itself (the engine's; a driver without it has the operation read back).
   */
  invokeSettling?(
    actionName: string,
    inputs: unknown,
    opts: { userId: string },
    settled: (operationId: string, status: string) => void,
  ): Promise<InvocationResult[]>;
  updateRecord(type: string, id: string, fields: unknown, opts: { userId: string }): Promise<void>;
}

/** A run's state and its calls as the buyer; the handlers below get it. */
interface Run {
  engine: CheckoutDriver;
  cartId: string;
  opts: RunCheckoutOptions;
  answers: CheckoutAnswers;
  sessionId: string;
  /** Appends a visited state to the trajectory. */
  record(state: string, kind: string, calls: string[], operationId: string | null, status: string, t0: number, at: string): void;
  /**
   * An action call as the buyer: its outputs, or `retry` when the session moved under us. `settled`
   * is told the Status a step call committed its operation with, when the call finished it itself.
   */
  call(
    action: string,
    input: Record<string, unknown>,
    stepCall?: boolean,
    settled?: (operationId: string, status: string) => void,
  ): Promise<Record<string, unknown> | 'retry'>;
  /** A screen step's State write; false when the session moved meanwhile (another runner got there first). */
  moveState(to: string): Promise<boolean>;
  /** Invokes the action of an async or sync step (already claimed); null when the session moved meanwhile. */
  runStep(flow: CompiledFlow, stepKey: string): Promise<{ action: string; operationId: string | null; status: string } | null>;
}

/**
 * How a resting session moves into its next step, by that step's kind: an async or sync step is
 * claimed (updateCheckoutSessionStateAction) and its action invoked; a screen (or the final) step
 * gets its record work (SCREEN_WORK) and then the State write of "Update Checkout State".
 */
const ENTER_STEP: Record<StepKind, (run: Run, move: Move) => Promise<void>> = {
  async: enterOperationStep,
  sync: enterOperationStep,
  screen: enterScreenStep,
  final: enterScreenStep,
};

/**
 * The record work of a screen step before its State write, by step key: the buyer's answers.
 * Returns false when the session moved under us (the turn ends, the loop re-reads).
 */
const SCREEN_WORK: Record<string, (run: Run) => Promise<string[] | false>> = {
  async deliveryMethod(run) {
    const methodId = run.answers.deliveryMethodId ?? (await cheapestMethod(run.engine, run.cartId));
    if (!methodId)
      throw new EngineError('RUN_CHECKOUT_FAILED', 'No delivery method was offered for every delivery group.', ['deliveryMethodId']);
    const set = await run.call('setCheckoutDeliveryMethod', { cartId: run.cartId, deliveryMethodId: methodId });
    return set === 'retry' ? false : ['setCheckoutDeliveryMethod'];
  },
  async paymentAndBillingAddress(run) {
    const fields: Record<string, unknown> = { ...(run.answers.billingAddress ?? {}) };
    if (run.answers.poNumber !== undefined) fields.PoNumber = run.answers.poNumber;
    if (run.answers.paymentMethodId !== undefined) fields.PaymentMethodId = run.answers.paymentMethodId;
    if (!Object.keys(fields).length) return [];
    await run.engine.updateRecord('WebCart', run.cartId, fields, { userId: run.opts.userId });
    return ['updateRecord(WebCart)'];
  },
};

async function enterOperationStep(run: Run, m: Move): Promise<void> {
  const claimed = await run.call('updateCheckoutSessionStateAction', {
    checkoutSessionId: run.sessionId,
    expCurrentState: m.state,
    nextState: m.next,
  });
  if (claimed === 'retry') return;
  m.calls.push('updateCheckoutSessionStateAction');
  const ran = await run.runStep(m.flow, m.next);
  if (ran) m.calls.push(ran.action);
  run.record(m.next, m.nextStep.kind, m.calls, ran?.operationId ?? null, ran?.status ?? 'retry', m.t0, m.at);
}

async function enterScreenStep(run: Run, m: Move): Promise<void> {
  const work = Object.hasOwn(SCREEN_WORK, m.next) ? SCREEN_WORK[m.next] : undefined;
  if (work) {
    const calls = await work(run);
    if (calls === false) return;
    m.calls.push(...calls);
  }
  if (!(await run.moveState(m.next))) return;
  m.calls.push('updateRecord(CartCheckoutSession.State)');
  run.record(m.next, m.nextStep.kind, m.calls, null, 'moved', m.t0, m.at);
}

/** Drives the cart's checkout to `complete` (or `error`); see the module comment. */
export async function runCheckout(engine: CheckoutDriver, cartId: string, opts: RunCheckoutOptions): Promise<CheckoutRun> {
  const core = engine.core;
  const db = engine.admin;
  const userId = opts.userId;
  const trajectory: TrajectoryEntry[] = [];
  const maxWait = opts.maxWaitMs ?? 2 * core.stepTimeoutMs + 10_000;
  const stopsAt = (flow: CompiledFlow, state: unknown) => !!opts.stopAt && flow.resolve(opts.stopAt) === state;

  const run: Run = {
    engine,
    cartId,
    opts,
    answers: opts.answers ?? {},
    sessionId: '',
    record: (state, kind, calls, operationId, status, t0, at) =>
      trajectory.push({
        state,
        kind,
        calls,
        operationId,
        status,
        startedAt: at,
        durationMs: Math.round((performance.now() - t0) * 100) / 100,
        sessionId: run.sessionId,
      }),
    async call(action, input, stepCall = true, settled) {
      const [r] =
        settled && engine.invokeSettling
          ? await engine.invokeSettling(action, [input], { userId }, settled)
          : await engine.invokeAny(action, [input], { userId });
      if (r!.isSuccess) return r!.outputValues ?? {};
      const e = r!.errors![0]!;
      if (movedUnderUs(r!.httpStatus, e.statusCode, stepCall)) return 'retry';
      throw new EngineError('RUN_CHECKOUT_FAILED', `${action} failed with ${e.statusCode}: ${e.message}`, e.fields);
    },
    async moveState(to) {
      try {
        await engine.updateRecord('CartCheckoutSession', run.sessionId, { State: to }, { userId });
        return true;
      } catch (e) {
        if (e instanceof EngineError && movedUnderUs(e.status, e.code, false)) return false;
        throw e;
      }
    },
    async runStep(flow, stepKey) {
      const step = flow.steps.get(stepKey);
      if (!step?.action) throw new EngineError('RUN_CHECKOUT_FAILED', `Step '${stepKey}' has no action.`);
      const input: Record<string, unknown> = { cartId };
      if (step.kind === 'async') input.runAsync = false;
      if (step.action === 'activateOrderAction') {
        input.orderStatus = 'Activated';
        if (opts.orderLifeCycleType) input.orderLifeCycleType = opts.orderLifeCycleType;
      }
      // The operation's Status: as the call committed it when the call finished the operation itself
      // (a terminal Status: what reading the row back would give), else read back.
      const settled = new Map<string, string>();
      const out = await run.call(step.action, input, true, (id, status) => settled.set(id, status));
      if (out === 'retry') return null;
      const opId = (out.backgroundOperationId as string | undefined) ?? null;
      const known = opId ? settled.get(opId) : undefined;
      const op = known === undefined && opId ? await db.get('BackgroundOperation', opId) : undefined;
      return { action: step.action, operationId: opId, status: known ?? String(op?.Status ?? 'Complete') };
    },
  };

  const finish = async (session: Row): Promise<CheckoutRun> => {
    const orderId = (session.OrderId as string | null) ?? null;
    const summary = orderId
      ? (await db.find('OrderSummary', { where: [{ field: 'OriginalOrderId', op: '=', value: orderId }], limit: 1 }))[0]
      : undefined;
    const errors: string[] = [];
    const isError = session.IsError === true;
    if (isError && session.BackgroundOperationId) {
      const op = await db.get('BackgroundOperation', String(session.BackgroundOperationId));
      if (op?.Error) errors.push(String(op.Error));
      const cvos = await db.find('CartValidationOutput', {
        where: [{ field: 'BackgroundOperationId', op: '=', value: session.BackgroundOperationId }],
      });
      for (const v of cvos) if (!errors.includes(String(v.Message))) errors.push(String(v.Message));
    }
    return {
      cartId,
      sessionId: String(session.Id),
      state: String(session.State),
      status: isError ? 'error' : stopsAt(core.flow(session._flow as string).flow, session.State) ? 'stopped' : 'complete',
      orderId,
      orderSummaryId: summary ? String(summary.Id) : null,
      errors,
      trajectory,
    };
  };

  /** The cart was converted (maybe by another runner meanwhile): finish the confirmation screen if it's still open. */
  const closedCart = async (t0: number, at: string): Promise<TurnEnd> => {
    const [s] = await db.find('CartCheckoutSession', {
      where: [{ field: 'WebCartId', op: '=', value: cartId }],
      orderBy: [{ field: 'CreatedDate', direction: 'desc' }],
      limit: 1,
    });
    if (!s) throw new EngineError('RUN_CHECKOUT_FAILED', `Cart ${cartId} is Closed and has no checkout session.`, ['cartId']);
    run.sessionId = String(s.Id);
    const { flow } = core.flow(s._flow as string);
    const next = flow.next.get(String(s.State))?.[0];
    const nextStep = next ? flow.steps.get(next) : undefined;
    if (
      s.IsArchived !== true &&
      s.IsError !== true &&
      !stopsAt(flow, s.State) &&
      nextStep &&
      (nextStep.kind === 'final' || nextStep.kind === 'screen')
    ) {
      if (await run.moveState(next!)) run.record(next!, nextStep.kind, ['updateRecord(CartCheckoutSession.State)'], null, 'moved', t0, at);
      return 'next';
    }
    return { done: s };
  };

  /** The session is processing a step: wait for its operation, or run its action when it never ran. */
  const processing = async (session: Row, flow: CompiledFlow, t0: number, at: string): Promise<TurnEnd> => {
    const next = String(session.NextState);
    const op = session.BackgroundOperationId ? await db.get('BackgroundOperation', String(session.BackgroundOperationId)) : undefined;
    if (op && op._step === next && (op.Status === 'New' || op.Status === 'Running')) {
      // Someone else's step (another runner, or one recovered after a restart): wait for it.
      // Woken when it finishes (this process's worker, or another process's NOTIFY on PostgreSQL),
      // else by the queue's fallback poll; the watch comes first so no finish slips in between.
      const deadline = Date.now() + maxWait;
      const watch = engine.worker.queue.watch([String(op.Id)]);
      let cur: Row | undefined;
      try {
        cur = await db.get('BackgroundOperation', String(op.Id));
        while (cur && (cur.Status === 'New' || cur.Status === 'Running')) {
          if (Date.now() > deadline)
            throw new EngineError('RUN_CHECKOUT_FAILED', `Operation ${String(op.Id)} of '${next}' didn't finish within ${maxWait} ms.`);
          await watch.next();
          cur = await db.get('BackgroundOperation', String(op.Id));
        }
      } finally {
        watch.close();
      }
      run.record(next, flow.steps.get(next)?.kind ?? 'async', ['wait'], String(op.Id), String(cur?.Status), t0, at);
      return 'next';
    }
    // Claimed but its action never ran (e.g. a crash between the two calls): run it now.
    const ran = await run.runStep(flow, next);
    if (ran) run.record(next, flow.steps.get(next)?.kind ?? 'async', [ran.action], ran.operationId, ran.status, t0, at);
    return 'next';
  };

  /** The session rests in a State: stop there, or move on to the next step (ENTER_STEP by its kind). */
  const resting = async (session: Row, flow: CompiledFlow, t0: number, at: string): Promise<TurnEnd> => {
    const state = String(session.State);
    const current = flow.steps.get(state);
    if (!current || current.kind === 'final' || stopsAt(flow, state)) return { done: session };
    const next = flow.next.get(state)?.[0];
    const nextStep = next ? flow.steps.get(next) : undefined;
    if (!next || !nextStep) return { done: session };
    const calls: string[] = [];
    if (state === flow.def.steps[0]!.key && run.answers.deliveryAddress) {
      // Spec §2 call 2: the shipping address goes into the delivery groups before the first claim.
      for (const g of await db.find('CartDeliveryGroup', { where: [{ field: 'CartId', op: '=', value: cartId }] })) {
        await engine.updateRecord('CartDeliveryGroup', String(g.Id), run.answers.deliveryAddress, { userId });
      }
      calls.push('updateRecord(CartDeliveryGroup)');
    }
    await ENTER_STEP[nextStep.kind](run, { flow, state, next, nextStep, calls, t0, at });
    return 'next';
  };

  /** One turn of the re-entrant loop: get (or create) the session, read it, route by its situation. */
  const turn = async (): Promise<TurnEnd> => {
    const t0 = performance.now();
    const at = core.now().toISOString();
    // The first call: get (or create) the session. A Closed cart refuses it: the checkout was converted.
    const [res] = await engine.invokeAny('checkoutSessionAction', [{ cartId }], { userId });
    if (!res!.isSuccess && (await db.get('WebCart', cartId))?.Status === 'Closed') return closedCart(t0, at);
    if (!res!.isSuccess) {
      const e = res!.errors![0]!;
      if (movedUnderUs(res!.httpStatus, e.statusCode, false)) return 'next';
      throw new EngineError('RUN_CHECKOUT_FAILED', `checkoutSessionAction failed with ${e.statusCode}: ${e.message}`, e.fields);
    }
    const id = String((res!.outputValues ?? {}).requestId);
    // The session and its cart, read together (one round trip where the backend pipelines statements);
    // the cart's answer is used only when the session has an order, as if it had been read then.
    // (Elsewhere the cart is read only then.)
    const [read, cartRead] = core.storage.adapter.batchesWrites
      ? await core.storage.readTogether(
          (o) => o.get('CartCheckoutSession', id),
          (o) => o.get('WebCart', cartId),
        )
      : [await settled(db.get('CartCheckoutSession', id)), null];
    if (read.status === 'rejected') throw read.reason;
    const session = read.value;
    if (!session) return 'next';
    // A Closed cart answers the session that completed it (checkoutSessionAction): the checkout was converted.
    if (session.OrderId) {
      const cart = cartRead ? cartRead : await settled(db.get('WebCart', cartId));
      if (cart.status === 'rejected') throw cart.reason;
      if (cart.value?.Status === 'Closed') return closedCart(t0, at);
    }
    const { flow } = core.flow(session._flow as string);
    if (id !== run.sessionId) {
      run.sessionId = id;
      const fresh = session.State === flow.def.steps[0]!.key && session.IsProcessing !== true;
      run.record(
        String(session.State),
        flow.steps.get(String(session.State))?.kind ?? 'screen',
        ['checkoutSessionAction'],
        null,
        fresh ? 'started' : 'resumed',
        t0,
        at,
      );
    }
    if (session.IsError === true) return { done: session };
    return session.IsProcessing === true ? processing(session, flow, t0, at) : resting(session, flow, t0, at);
  };

  for (let n = 0; n < 500; n++) {
    const end = await turn();
    if (end !== 'next') return finish(end.done);
  }
  throw new EngineError('RUN_CHECKOUT_FAILED', `The checkout of cart ${cartId} made no progress after 500 turns.`);
}

/** The delivery method offered to every group with the lowest total fee. */
async function cheapestMethod(engine: CheckoutDriver, cart: string): Promise<string | null> {
  // The groups counted and the options read together (one round trip where the backend pipelines statements).
  const [counted, found] = await engine.core.storage.readTogether(
    (o) => o.count('CartDeliveryGroup', [{ field: 'CartId', op: '=', value: cart }]),
    (o) => o.find('CartDeliveryGroupMethod', { where: [{ field: 'WebCartId', op: '=', value: cart }] }),
  );
  if (counted.status === 'rejected') throw counted.reason;
  if (found.status === 'rejected') throw found.reason;
  const groups = counted.value;
  const options = found.value;
  const byMethod = new Map<string, { n: number; fee: number }>();
  for (const o of options) {
    const m = byMethod.get(String(o.DeliveryMethodId)) ?? { n: 0, fee: 0 };
    m.n++;
    m.fee = addMoney(m.fee, Number(o.ShippingFee ?? 0));
    byMethod.set(String(o.DeliveryMethodId), m);
  }
  const full = [...byMethod.entries()].filter(([, m]) => m.n === groups).sort((a, b) => a[1].fee - b[1].fee || a[0].localeCompare(b[0]));
  return full[0]?.[0] ?? null;
}

/** A promise's outcome, as `readTogether` gives each read's. */
function settled<T>(p: Promise<T>): Promise<PromiseSettledResult<T>> {
  return p.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}
