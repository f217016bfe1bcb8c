/**
 * Model-based testing support: the checkout-session statechart's events for `xstate/graph`
 * traversal, and a replayer that turns each generated path into real engine calls (SQLite) and
 * compares the stored session with the model after every event, checking the invariants too.
 */
import { type AnyStateMachine } from 'xstate';
import { createCheckoutSessionMachine, type SessionContext, type SessionEvent } from '../../machines/checkout-session.js';
import { DEFAULT_FLOW, validateFlow, type CompiledFlow } from '../../machines/flow.js';
import type { RequirementFacts } from '../../src/domain/requirements.js';
import { createCheckoutEngine, type CheckoutEngine } from '../../src/index.js';
import { checkInvariants } from '../../src/scenarios/invariants.js';
import { scenarioDemo } from '../../src/scenarios/runner.js';

/** The default flow, compiled, and its machine. */
export const FLOW: CompiledFlow = validateFlow(DEFAULT_FLOW);
/** The statechart the engine runs for the default flow. */
export const MACHINE: AnyStateMachine = createCheckoutSessionMachine(FLOW);

/** Facts under which every usage requirement holds (the buyer owns the cart in Checkout). */
const FACTS: RequirementFacts = {
  caller: { Id: 'buyer', AccountId: 'acme', Permissions: ['B2BCommerceIntegrator'], IsActive: true },
  cart: { Id: 'cart', AccountId: 'acme', OwnerId: 'buyer', WebStoreId: 'store', Status: 'Checkout' },
  accountExists: true,
  buyerStatus: 'Active',
  storeMember: true,
  shareAccess: null,
  session: null,
  operationStatus: null,
};

/** The model's starting context: a fresh session at the flow's first state. */
export const INPUT: SessionContext = {
  sessionId: 'session',
  cartId: 'cart',
  State: FLOW.def.steps[0]!.key,
  NextState: null,
  IsProcessing: false,
  IsError: false,
  IsArchived: false,
  BackgroundOperationId: null,
  OrderId: null,
  rejection: null,
};

type Snap = { value: unknown; context: SessionContext; status: string };

const running = (s: Snap) => JSON.stringify(s.value).includes('"running"');

/** Events offered in a snapshot: claims and screen moves the flow allows, the step, its outcomes, cancel. */
export function eventsOf(s: Snap): SessionEvent[] {
  const c = s.context;
  if (s.status === 'done' || c.IsArchived) return [];
  const out: SessionEvent[] = [];
  if (running(s)) {
    out.push({ type: 'xstate.done.actor.step', output: { OrderId: c.NextState === 'cartToOrder' ? 'order' : undefined } }, { type: 'xstate.error.actor.step', error: 'failed' });
    // A sync step finishes inside its call: nothing can happen while it runs.
    if (FLOW.steps.get(String(c.NextState))?.kind === 'sync') return out;
  } else if (c.IsProcessing && c.NextState) {
    out.push({ type: 'STEP', step: c.NextState, facts: FACTS, operationId: 'op' });
  } else if (!c.IsError) {
    for (const t of FLOW.next.get(String(c.State)) ?? []) {
      const kind = FLOW.steps.get(t)!.kind;
      out.push(kind === 'async' || kind === 'sync' ? { type: 'CLAIM', expCurrentState: String(c.State), nextState: t } : { type: 'SET_STATE', state: t });
    }
  }
  // Order Confirmation closes the cart, and a Closed cart can't be canceled (cancelCartAsyncOperation refuses it).
  if (c.State !== 'orderConfirmation') out.push({ type: 'CANCEL' });
  return out;
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
      e.type === 'CLAIM' ? `claim ${e.nextState}` : e.type === 'SET_STATE' ? `→${e.state}` : e.type === 'STEP' ? `run ${e.step}` : e.type === 'CANCEL' ? 'cancel' : e.type.includes('done') ? 'ok' : 'fail',
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
export async function replay(steps: { event: SessionEvent; state: Snap }[]): Promise<string[]> {
  const gate = new StepGate();
  const engine = await createCheckoutEngine({ storage: ':memory:', onError: () => {}, faults: { beforeCommit: gate.hook } });
  try {
    const ids = await engine.seed(scenarioDemo({ lines: 2 }));
    const as = { userId: ids.buyer! };
    const cartId = ids.cart!;
    const [start] = await engine.invoke('checkoutSessionAction', [{ cartId }], as);
    if (!start!.isSuccess) return [`checkoutSessionAction failed: ${JSON.stringify(start!.errors)}`];
    const sessionId = String(start!.outputValues!.requestId);
    for (const g of await engine.core.storage.find('CartDeliveryGroup', { where: [{ field: 'CartId', op: '=', value: cartId }] })) await engine.updateRecord('CartDeliveryGroup', String(g.Id), ADDRESS, as);
    let opId: string | null = null;
    for (let k = 0; k < steps.length; k++) {
      const { event, state } = steps[k]!;
      const next = steps[k + 1]?.event.type;
      const label = `event ${k + 1} (${describePath([event])})`;
      const fail = async (msg: string) => [`${label}: ${msg}`];
      if (event.type === 'CLAIM') {
        const [r] = await engine.invoke('updateCheckoutSessionStateAction', [{ checkoutSessionId: sessionId, expCurrentState: event.expCurrentState, nextState: event.nextState }], as);
        if (!r!.isSuccess) return fail(`claim refused: ${JSON.stringify(r!.errors)}`);
      } else if (event.type === 'SET_STATE') {
        if (event.state === 'deliveryMethod') {
          const [m] = await engine.invoke('setCheckoutDeliveryMethod', [{ cartId, deliveryMethodId: ids.ground }], as);
          if (!m!.isSuccess) return fail(`setCheckoutDeliveryMethod refused: ${JSON.stringify(m!.errors)}`);
        }
        if (event.state === 'paymentAndBillingAddress') await engine.updateRecord('WebCart', cartId, { PoNumber: 'PO-MODEL' }, as);
        await engine.updateRecord('CartCheckoutSession', sessionId, { State: event.state }, as);
      } else if (event.type === 'STEP') {
        const step = FLOW.steps.get(event.step)!;
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
      const row = (await engine.core.storage.get('CartCheckoutSession', sessionId))!;
      const want = state.context;
      const diffs = (['State', 'NextState', 'IsProcessing', 'IsError', 'IsArchived'] as const).filter((f) => (row[f] ?? null) !== (want[f] ?? null));
      if (diffs.length) return fail(`engine ${diffs.map((f) => `${f}=${String(row[f])}`).join(' ')}, model ${diffs.map((f) => `${f}=${String(want[f])}`).join(' ')}`);
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
    const op = await engine.core.storage.get('BackgroundOperation', opId);
    if (!op || (op.Status !== 'New' && op.Status !== 'Running')) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`operation ${opId} did not finish`);
}
