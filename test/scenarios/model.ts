/**
 * Model-based testing support for every built-in flow: each flow's checkout-session statechart
 * with its events for `xstate/graph` traversal, and a replayer that turns each generated path into
 * real engine calls (SQLite, the engine's default flow set to that flow) and compares the stored
 * session with the model after every event, checking the invariants too.
 *
 * Events become engine calls by the flow's convention (src/domain/flow.ts CONVENTIONS): under
 * `source` a CLAIM names the step to run and STEP runs it; under `template` a CLAIM from State S
 * names the successor T (`updateCheckoutSessionStateAction(S, T)`), STEP runs S's own action, and
 * on completion State := T. A SET_STATE is the record write `State := T` under both.
 */
import { getNextSnapshot, type AnyStateMachine } from 'xstate';
import { createCheckoutSessionMachine, type SessionContext, type SessionEvent } from '../../src/machines/checkout-session.js';
import { BUILTIN_FLOWS, validateFlow, type CompiledFlow, type FlowDefinition } from '../../src/domain/flow.js';
import type { RequirementFacts } from '../../src/domain/requirements.js';
import { createCheckoutEngine, type CheckoutEngine } from '../../src/index.js';
import { checkInvariants } from '../../src/scenarios/invariants.js';
import { PASSING_FACTS } from '../helpers/session-fixtures.js';
import { scenarioDemo } from '../../src/scenarios/scenario-runner.js';
import { sessionContext } from '../helpers/session-fixtures.js';

/** Facts under which every usage requirement holds (the buyer owns the cart in Checkout). */
const FACTS: RequirementFacts = PASSING_FACTS;

type Snap = { value: unknown; context: SessionContext; status: string };

/** One flow's model: its compiled flow, statechart, starting context, events and replayer. */
export interface FlowModel {
  readonly flow: CompiledFlow;
  readonly machine: AnyStateMachine;
  readonly input: SessionContext;
  eventsOf: (s: Snap) => SessionEvent[];
  replay(steps: { event: SessionEvent; state: Snap }[]): Promise<string[]>;
}

/**
 * The models of every built-in flow a caller drives with the core actions, by flow id. The `connect`
 * flow is left out: the engine drives it from the Checkout API (its calculators run through the Cart
 * Calculate orchestrator, not as steps a replay of core actions could take); its paths are tested
 * through the API in test/connect/.
 */
export const MODELS: ReadonlyMap<string, FlowModel> = new Map(
  BUILTIN_FLOWS.filter((def) => def.id !== 'connect').map((def) => [def.id, flowModel(def)]),
);

/** Builds the model of a flow. */
export function flowModel(def: FlowDefinition): FlowModel {
  const flow = validateFlow(def);
  const template = flow.convention.runs === 'state';
  const input = sessionContext({ sessionId: 'session', cartId: 'cart', State: flow.def.steps[0]!.key });
  /** The step an operation runs: NextState under `source`, State under `template`. */
  const stepOf = (c: SessionContext) => String(template ? c.State : c.NextState);
  const runs = (key: string) => ['async', 'sync'].includes(flow.steps.get(key)?.kind ?? '');
  const sub = (s: Snap) => String((s.value as Record<string, unknown>)?.[String(s.context.State)] ?? '');
  const running = (s: Snap) => JSON.stringify(s.value).includes('"running');

  /** Events offered in a snapshot: claims and screen moves the flow allows, the step, its outcomes, cancel. */
  function eventsOf(s: Snap): SessionEvent[] {
    const c = s.context;
    if (s.status === 'done' || c.IsArchived) return [];
    const out: SessionEvent[] = [];
    const state = String(c.State);
    if (running(s)) {
      out.push(
        {
          type: 'xstate.done.actor.step',
          output: { OrderId: flow.steps.get(stepOf(c))?.action === 'cartToOrderAction' ? 'order' : undefined },
        },
        { type: 'xstate.error.actor.step', error: 'failed' },
      );
      // A sync step finishes inside its call: nothing can happen while it runs.
      if (flow.steps.get(stepOf(c))?.kind === 'sync') return out;
    } else if (!template && c.IsProcessing && c.NextState) {
      out.push({ type: 'STEP', step: c.NextState, facts: FACTS, operationId: 'op' });
    } else if (template && sub(s).startsWith('claimed_') && runs(state)) {
      out.push({ type: 'STEP', step: state, facts: FACTS, operationId: 'op' });
    } else if (!c.IsError && template) {
      // Template: State names the step about to run. A claim names its successor; a screen (or a
      // sync step the store's own code runs) moves by the record write State := successor.
      const kind = flow.steps.get(state)?.kind;
      const writable = kind === 'screen' || (kind === 'sync' && flow.convention.writeLeavesSync);
      for (const t of flow.next.get(state) ?? []) {
        if (sub(s) === 'idle') out.push({ type: 'CLAIM', expCurrentState: state, nextState: t });
        if (writable) out.push({ type: 'SET_STATE', state: t });
      }
    } else if (!c.IsError) {
      for (const t of flow.next.get(state) ?? []) {
        out.push(runs(t) ? { type: 'CLAIM', expCurrentState: state, nextState: t } : { type: 'SET_STATE', state: t });
      }
    }
    // The engine closes the cart on Order Confirmation (source) or a final state (template), and a
    // Closed cart can't be canceled (cancelCartAsyncOperation refuses it).
    if (flow.convention.closesCartOn !== 'confirmation' || state !== 'orderConfirmation') out.push({ type: 'CANCEL' });
    return out;
  }

  const machine = createCheckoutSessionMachine(flow);
  return { flow, machine, input, eventsOf, replay: (steps) => replay(flow, machine, input, steps) };
}

/** Serializes a snapshot by its state value and flags (not ids), so each model state is one vertex. */
export const serializeState = (s: Snap) => {
  const c = s.context;
  return `${JSON.stringify(s.value)}|${c.State}|${c.NextState}|${c.IsProcessing}|${c.IsError}|${c.IsArchived}`;
};

/** A path's events as text, for test names. */
export const describePath = (events: SessionEvent[]) =>
  events
    .filter((e) => (e.type as string) !== 'xstate.init')
    .map((e) =>
      e.type === 'CLAIM'
        ? `claim ${e.nextState}`
        : e.type === 'SET_STATE'
          ? `→${e.state}`
          : e.type === 'STEP'
            ? `run ${e.step}`
            : e.type === 'CANCEL'
              ? 'cancel'
              : e.type.includes('done')
                ? 'ok'
                : 'fail',
    )
    .join(', ') || '(start)';

const ADDRESS = { DeliverToCity: 'Oakland', DeliverToState: 'CA', DeliverToPostalCode: '94607', DeliverToCountry: 'US' };

/** Why a step's commit is held, released or failed: the test's control over the worker (a fault hook). */
class StepGate {
  private decision: 'pass' | 'fail' | 'hold' = 'pass';
  private release: (() => void) | null = null;
  private waiting: Promise<void> | null = null;
  set(d: 'pass' | 'fail' | 'hold') {
    this.decision = d;
    if (d === 'hold') this.waiting = new Promise((r) => (this.release = r));
  }
  /** Ends a hold with an outcome. */
  finish(d: 'pass' | 'fail') {
    this.decision = d;
    this.release?.();
    this.release = null;
  }
  readonly hook = async (step: string) => {
    if (this.decision === 'hold') await this.waiting;
    if (this.decision === 'fail') throw new Error(`model: ${step} fails`);
  };
}

/**
 * Replays a path of model events against a real engine on SQLite; after every event the stored
 * session must equal the model's context (State, NextState, IsProcessing, IsError, IsArchived) and
 * every invariant must hold. Returns the problems found (empty when the engine follows the model).
 */
async function replay(
  flow: CompiledFlow,
  machine: AnyStateMachine,
  input: SessionContext,
  steps: { event: SessionEvent; state: Snap }[],
): Promise<string[]> {
  const gate = new StepGate();
  const engine = await createCheckoutEngine({
    storage: ':memory:',
    defaultFlow: flow.def.id,
    onError: () => {},
    faults: { beforeCommit: gate.hook },
  });
  const template = flow.convention.runs === 'state';
  try {
    const ids = await engine.seed(scenarioDemo({ lines: 2 }));
    const as = { userId: ids.buyer! };
    const cartId = ids.cart!;
    const [start] = await engine.invoke('checkoutSessionAction', [{ cartId }], as);
    if (!start!.isSuccess) return [`checkoutSessionAction failed: ${JSON.stringify(start!.errors)}`];
    const sessionId = String(start!.outputValues!.requestId);
    for (const g of await engine.admin.find('CartDeliveryGroup', { where: [{ field: 'CartId', op: '=', value: cartId }] }))
      await engine.updateRecord('CartDeliveryGroup', String(g.Id), ADDRESS, as);
    let opId: string | null = null;
    for (let k = 0; k < steps.length; k++) {
      const { event, state } = steps[k]!;
      const next = steps[k + 1]?.event.type;
      const label = `event ${k + 1} (${describePath([event])})`;
      const fail = async (msg: string) => [`${label}: ${msg}`];
      // The buyer's screen input: on entering the screen (source), on leaving it (template).
      const before = String((steps[k - 1]?.state.context ?? input).State);
      const moves = event.type === 'CLAIM' || event.type === 'SET_STATE';
      const target = event.type === 'SET_STATE' ? event.state : null;
      const at = (screen: string) => (template ? moves && before === screen : target === screen);
      // The Main template has no shipping step: the store's own code offers the delivery method
      // (written as the admin) before the order is claimed.
      const storeShips =
        template && moves && flow.steps.get(before)?.action === 'cartToOrderAction' && !flow.byAction.has('calcCartShipmentAction');
      if (storeShips) {
        for (const g of await engine.admin.find('CartDeliveryGroup', { where: [{ field: 'CartId', op: '=', value: cartId }] })) {
          await engine.createRecord(
            'CartDeliveryGroupMethod',
            { CartDeliveryGroupId: g.Id, WebCartId: cartId, DeliveryMethodId: ids.ground, Name: 'Ground', ShippingFee: 10 },
            { userId: ids.admin! },
          );
        }
      }
      if (at('deliveryMethod') || storeShips) {
        const [m] = await engine.invoke('setCheckoutDeliveryMethod', [{ cartId, deliveryMethodId: ids.ground }], as);
        if (!m!.isSuccess) return fail(`setCheckoutDeliveryMethod refused: ${JSON.stringify(m!.errors)}`);
      }
      if (at('paymentAndBillingAddress') || storeShips) await engine.updateRecord('WebCart', cartId, { PoNumber: 'PO-MODEL' }, as);
      if (event.type === 'CLAIM') {
        const [r] = await engine.invoke(
          'updateCheckoutSessionStateAction',
          [{ checkoutSessionId: sessionId, expCurrentState: event.expCurrentState, nextState: event.nextState }],
          as,
        );
        if (!r!.isSuccess) return fail(`claim refused: ${JSON.stringify(r!.errors)}`);
      } else if (event.type === 'SET_STATE') {
        await engine.updateRecord('CartCheckoutSession', sessionId, { State: event.state }, as);
      } else if (event.type === 'STEP') {
        const step = flow.steps.get(event.step)!;
        const sync = step.kind === 'sync';
        gate.set(next === 'xstate.error.actor.step' ? 'fail' : next === 'xstate.done.actor.step' || sync ? 'pass' : 'hold');
        const input: Record<string, unknown> = { cartId };
        if (!sync) input.runAsync = true;
        if (step.action === 'activateOrderAction') input.orderStatus = 'Activated';
        const [r] = await engine.invoke(step.action!, [input], as);
        if (!r!.isSuccess) return fail(`${step.action} refused: ${JSON.stringify(r!.errors)}`);
        opId = String(r!.outputValues!.backgroundOperationId);
        // An outcome decided in advance: the model's next event happens inside this call's operation.
        if (next === 'xstate.done.actor.step' || next === 'xstate.error.actor.step') await settle(engine, opId);
      } else if (event.type === 'xstate.done.actor.step' || event.type === 'xstate.error.actor.step') {
        gate.finish(event.type === 'xstate.done.actor.step' ? 'pass' : 'fail');
        if (opId) await settle(engine, opId);
      } else if (event.type === 'CANCEL') {
        const [r] = await engine.invoke('cancelCartAsyncOperation', [{ cartId }], as);
        gate.finish('pass');
        if (!r!.isSuccess) return fail(`cancel refused: ${JSON.stringify(r!.errors)}`);
        if (opId) await settle(engine, opId);
      }
      if (event.type === 'STEP' && (next === 'xstate.done.actor.step' || next === 'xstate.error.actor.step')) continue; // compared after the outcome
      const row = (await engine.admin.get('CartCheckoutSession', sessionId))!;
      // A path that ends on a sync step's run: the step finished inside its call, so the engine
      // stands where the model is after the step's success.
      const endsSync = event.type === 'STEP' && next === undefined && flow.steps.get(event.step)!.kind === 'sync';
      const want = endsSync
        ? (getNextSnapshot(machine, state as never, { type: 'xstate.done.actor.step', output: {} } as never).context as SessionContext)
        : state.context;
      const diffs = (['State', 'NextState', 'IsProcessing', 'IsError', 'IsArchived'] as const).filter(
        (f) => (row[f] ?? null) !== (want[f] ?? null),
      );
      if (diffs.length)
        return fail(
          `engine ${diffs.map((f) => `${f}=${String(row[f])}`).join(' ')}, model ${diffs.map((f) => `${f}=${String(want[f])}`).join(' ')}`,
        );
      const broken = await checkInvariants(engine);
      if (broken.length) return fail(broken.join('; '));
    }
    return [];
  } finally {
    gate.finish('pass');
    await engine.whenIdle();
    await engine.close();
  }
}

/** Waits until the operation is no longer New or Running. */
async function settle(engine: CheckoutEngine, opId: string): Promise<void> {
  for (let n = 0; n < 4000; n++) {
    const op = await engine.admin.get('BackgroundOperation', opId);
    if (!op || (op.Status !== 'New' && op.Status !== 'Running')) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`operation ${opId} did not finish`);
}
