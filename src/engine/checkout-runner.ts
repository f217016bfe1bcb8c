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
import type { CheckoutEngine } from './engine.js';
import type { Row } from '../storage/port.js';

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
const movedUnderUs = (status: number, code: string, stepCall: boolean) => status === 409 || code === 'ALREADY_IN_PROCESS' || (stepCall && status === 403 && code === 'INVALID_OPERATION');

/** Drives the cart's checkout to `complete` (or `error`); see the module comment. */
export async function runCheckout(engine: CheckoutEngine, cartId: string, opts: RunCheckoutOptions): Promise<CheckoutRun> {
  const core = engine.core;
  const storage = core.storage;
  const userId = opts.userId;
  const answers = opts.answers ?? {};
  const trajectory: TrajectoryEntry[] = [];
  const maxWait = opts.maxWaitMs ?? 2 * core.stepTimeoutMs + 10_000;
  let sessionId = '';

  const call = async (action: string, input: Record<string, unknown>, stepCall = true): Promise<Record<string, unknown> | 'retry'> => {
    const [r] = await engine.invoke(action, [input], { userId });
    if (r!.isSuccess) return r!.outputValues ?? {};
    const e = r!.errors![0]!;
    if (movedUnderUs(r!.httpStatus, e.statusCode, stepCall)) return 'retry';
    throw new EngineError('RUN_CHECKOUT_FAILED', `${action} failed with ${e.statusCode}: ${e.message}`, e.fields);
  };
  const record = (state: string, kind: string, calls: string[], operationId: string | null, status: string, t0: number, at: string) =>
    trajectory.push({ state, kind, calls, operationId, status, startedAt: at, durationMs: Math.round((performance.now() - t0) * 100) / 100, sessionId });

  const finish = async (session: Row): Promise<CheckoutRun> => {
    const orderId = (session.OrderId as string | null) ?? null;
    const summary = orderId ? (await storage.find('OrderSummary', { where: [{ field: 'OriginalOrderId', op: '=', value: orderId }], limit: 1 }))[0] : undefined;
    const errors: string[] = [];
    const isError = session.IsError === true;
    if (isError && session.BackgroundOperationId) {
      const op = await storage.get('BackgroundOperation', String(session.BackgroundOperationId));
      if (op?.Error) errors.push(String(op.Error));
      const cvos = await storage.find('CartValidationOutput', { where: [{ field: 'BackgroundOperationId', op: '=', value: session.BackgroundOperationId }] });
      for (const v of cvos) if (!errors.includes(String(v.Message))) errors.push(String(v.Message));
    }
    return {
      cartId,
      sessionId: String(session.Id),
      state: String(session.State),
      status: isError ? 'error' : opts.stopAt && core.flow(session._flow as string).flow.resolve(opts.stopAt) === session.State ? 'stopped' : 'complete',
      orderId,
      orderSummaryId: summary ? String(summary.Id) : null,
      errors,
      trajectory,
    };
  };

  for (let turn = 0; turn < 500; turn++) {
    const t0 = performance.now();
    const at = core.now().toISOString();
    // The re-entrant loop's first call: get (or create) the session. A Closed cart refuses it:
    // the checkout was converted (maybe by another runner meanwhile).
    const [res] = await engine.invoke('checkoutSessionAction', [{ cartId }], { userId });
    if (!res!.isSuccess && (await storage.get('WebCart', cartId))?.Status === 'Closed') {
      // Already converted: finish the confirmation screen if it's still open, then report.
      const [s] = await storage.find('CartCheckoutSession', { where: [{ field: 'WebCartId', op: '=', value: cartId }], orderBy: [{ field: 'CreatedDate', direction: 'desc' }], limit: 1 });
      if (!s) throw new EngineError('RUN_CHECKOUT_FAILED', `Cart ${cartId} is Closed and has no checkout session.`, ['cartId']);
      sessionId = String(s.Id);
      const { flow } = core.flow(s._flow as string);
      const next = flow.next.get(String(s.State))?.[0];
      const nextStep = next ? flow.steps.get(next) : undefined;
      if (s.IsArchived !== true && s.IsError !== true && !(opts.stopAt && flow.resolve(opts.stopAt) === s.State) && nextStep && (nextStep.kind === 'final' || nextStep.kind === 'screen')) {
        if (await moveState(next!)) record(next!, nextStep.kind, ['updateRecord(CartCheckoutSession.State)'], null, 'moved', t0, at);
        continue;
      }
      return finish(s);
    }
    let started: Record<string, unknown> | 'retry';
    if (res!.isSuccess) started = res!.outputValues ?? {};
    else {
      const e = res!.errors![0]!;
      if (movedUnderUs(res!.httpStatus, e.statusCode, false)) started = 'retry';
      else throw new EngineError('RUN_CHECKOUT_FAILED', `checkoutSessionAction failed with ${e.statusCode}: ${e.message}`, e.fields);
    }
    if (started === 'retry') continue;
    const id = String(started.requestId);
    const session = await storage.get('CartCheckoutSession', id);
    if (!session) continue;
    const { flow } = core.flow(session._flow as string);
    if (id !== sessionId) {
      sessionId = id;
      const fresh = session.State === flow.def.steps[0]!.key && session.IsProcessing !== true;
      record(String(session.State), flow.steps.get(String(session.State))?.kind ?? 'screen', ['checkoutSessionAction'], null, fresh ? 'started' : 'resumed', t0, at);
    }
    if (session.IsError === true) return finish(session);
    const state = String(session.State);

    if (session.IsProcessing === true) {
      const next = String(session.NextState);
      const op = session.BackgroundOperationId ? await storage.get('BackgroundOperation', String(session.BackgroundOperationId)) : undefined;
      if (op && op._step === next && (op.Status === 'New' || op.Status === 'Running')) {
        // Someone else's step (another runner, or one recovered after a restart): wait for it.
        // Woken when it finishes (this process's worker, or another process's NOTIFY on PostgreSQL),
        // else by the queue's fallback poll; the watch comes first so no finish slips in between.
        const deadline = Date.now() + maxWait;
        const watch = engine.worker.queue.watch([String(op.Id)]);
        let cur: Row | undefined;
        try {
          cur = await storage.get('BackgroundOperation', String(op.Id));
          while (cur && (cur.Status === 'New' || cur.Status === 'Running')) {
            if (Date.now() > deadline) throw new EngineError('RUN_CHECKOUT_FAILED', `Operation ${String(op.Id)} of '${next}' didn't finish within ${maxWait} ms.`);
            await watch.next();
            cur = await storage.get('BackgroundOperation', String(op.Id));
          }
        } finally {
          watch.close();
        }
        record(next, flow.steps.get(next)?.kind ?? 'async', ['wait'], String(op.Id), String(cur?.Status), t0, at);
        continue;
      }
      // Claimed but its action never ran (e.g. a crash between the two calls): run it now.
      const ran = await runStep(flow, next);
      if (ran) record(next, flow.steps.get(next)?.kind ?? 'async', [ran.action], ran.operationId, ran.status, t0, at);
      continue;
    }

    const current = flow.steps.get(state);
    if (!current || current.kind === 'final' || (opts.stopAt && flow.resolve(opts.stopAt) === state)) return finish(session);
    const next = flow.next.get(state)?.[0];
    const nextStep = next ? flow.steps.get(next) : undefined;
    if (!next || !nextStep) return finish(session);
    const calls: string[] = [];

    if (state === flow.def.steps[0]!.key && answers.deliveryAddress) {
      // Spec §2 call 2: the shipping address goes into the delivery groups before the first claim.
      for (const g of await storage.find('CartDeliveryGroup', { where: [{ field: 'CartId', op: '=', value: cartId }] })) {
        await engine.updateRecord('CartDeliveryGroup', String(g.Id), answers.deliveryAddress, { userId });
      }
      calls.push('updateRecord(CartDeliveryGroup)');
    }

    if (nextStep.kind === 'async' || nextStep.kind === 'sync') {
      const claimed = await call('updateCheckoutSessionStateAction', { checkoutSessionId: sessionId, expCurrentState: state, nextState: next });
      if (claimed === 'retry') continue;
      calls.push('updateCheckoutSessionStateAction');
      const ran = await runStep(flow, next);
      if (ran) calls.push(ran.action);
      record(next, nextStep.kind, calls, ran?.operationId ?? null, ran?.status ?? 'retry', t0, at);
      continue;
    }

    // A screen (or final) state: its record work, then the State write of "Update Checkout State".
    if (next === 'deliveryMethod') {
      const methodId = answers.deliveryMethodId ?? (await cheapestMethod(cartId));
      if (!methodId) throw new EngineError('RUN_CHECKOUT_FAILED', 'No delivery method was offered for every delivery group.', ['deliveryMethodId']);
      const set = await call('setCheckoutDeliveryMethod', { cartId, deliveryMethodId: methodId });
      if (set === 'retry') continue;
      calls.push('setCheckoutDeliveryMethod');
    } else if (next === 'paymentAndBillingAddress') {
      const fields: Record<string, unknown> = { ...(answers.billingAddress ?? {}) };
      if (answers.poNumber !== undefined) fields.PoNumber = answers.poNumber;
      if (answers.paymentMethodId !== undefined) fields.PaymentMethodId = answers.paymentMethodId;
      if (Object.keys(fields).length) {
        await engine.updateRecord('WebCart', cartId, fields, { userId });
        calls.push('updateRecord(WebCart)');
      }
    }
    if (!(await moveState(next))) continue;
    calls.push('updateRecord(CartCheckoutSession.State)');
    record(next, nextStep.kind, calls, null, 'moved', t0, at);
  }
  throw new EngineError('RUN_CHECKOUT_FAILED', `The checkout of cart ${cartId} made no progress after 500 turns.`);

  /** A screen step's State write; false when the session moved meanwhile (another runner got there first). */
  async function moveState(to: string): Promise<boolean> {
    try {
      await engine.updateRecord('CartCheckoutSession', sessionId, { State: to }, { userId });
      return true;
    } catch (e) {
      if (e instanceof EngineError && movedUnderUs(e.status, e.code, false)) return false;
      throw e;
    }
  }

  /** Invokes the action of an async or sync step (already claimed); null when the session moved meanwhile. */
  async function runStep(flow: ReturnType<typeof core.flow>['flow'], stepKey: string): Promise<{ action: string; operationId: string | null; status: string } | null> {
    const step = flow.steps.get(stepKey);
    if (!step?.action) throw new EngineError('RUN_CHECKOUT_FAILED', `Step '${stepKey}' has no action.`);
    const input: Record<string, unknown> = { cartId };
    if (step.kind === 'async') input.runAsync = false;
    if (step.action === 'activateOrderAction') {
      input.orderStatus = 'Activated';
      if (opts.orderLifeCycleType) input.orderLifeCycleType = opts.orderLifeCycleType;
    }
    const out = await call(step.action, input);
    if (out === 'retry') return null;
    const opId = (out.backgroundOperationId as string | undefined) ?? null;
    const op = opId ? await storage.get('BackgroundOperation', opId) : undefined;
    return { action: step.action, operationId: opId, status: String(op?.Status ?? 'Complete') };
  }

  /** The delivery method offered to every group with the lowest total fee. */
  async function cheapestMethod(cart: string): Promise<string | null> {
    const groups = await storage.count('CartDeliveryGroup', [{ field: 'CartId', op: '=', value: cart }]);
    const options = await storage.find('CartDeliveryGroupMethod', { where: [{ field: 'WebCartId', op: '=', value: cart }] });
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
}
