/**
 * The checkout session statechart, run as a pure function (no storage): the whole default flow is
 * walked with the same events the engine sends, every state is visited, and refused events leave
 * the state unchanged with a rejection naming why.
 */
import { PASSING_FACTS, sessionContext } from '../helpers/session-fixtures.js';
import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import { createCheckoutSessionMachine, type SessionEvent } from '../../src/machines/checkout-session.js';
import { DEFAULT_FLOW, validateFlow, FlowError, type FlowDefinition } from '../../src/domain/flow.js';

const flow = validateFlow(DEFAULT_FLOW);
const machine = createCheckoutSessionMachine(flow);

const ctx = sessionContext;
const facts = PASSING_FACTS;

function send(snapshot: any, event: SessionEvent) {
  const [next, actions] = transition(machine, snapshot, event as any);
  return { next, actions };
}

describe('checkout session statechart', () => {
  it('walks the whole default flow with the engine’s events and visits every state', () => {
    let s: any = machine.resolveState({ value: { start: 'idle' }, context: ctx() });
    const visited = new Set<string>(['start']);
    let op = 0;
    for (const step of DEFAULT_FLOW.steps.slice(1)) {
      const current = s.context.State as string;
      if (step.kind === 'async' || step.kind === 'sync') {
        ({ next: s } = send(s, { type: 'CLAIM', expCurrentState: current, nextState: step.key }));
        expect(s.context).toMatchObject({ State: current, NextState: step.key, IsProcessing: true, rejection: null });
        const operationId = `0Yb${op++}`;
        const r = send(s, { type: 'STEP', step: step.key, facts: { ...facts, operationStatus: 'Complete' }, operationId });
        s = r.next;
        expect(s.value).toEqual({ [step.key]: 'running' });
        expect(r.actions.find((a) => a.type === 'xstate.spawnChild')?.params).toMatchObject({
          src: 'runStep',
          input: { step: step.key, operationId },
        });
        ({ next: s } = send(s, { type: 'xstate.done.actor.step', output: step.key === 'cartToOrder' ? { OrderId: '801O' } : {} }));
      } else {
        ({ next: s } = send(s, { type: 'SET_STATE', state: step.key }));
      }
      expect(s.context.rejection).toBeNull();
      expect(s.context.State).toBe(step.key);
      expect(s.context.IsProcessing).toBe(false);
      visited.add(step.key);
    }
    expect([...visited]).toEqual(DEFAULT_FLOW.steps.map((x) => x.key));
    expect(s.status).toBe('done');
    expect(s.context.OrderId).toBe('801O');
  });

  it('fails an async step into the error state with IsError and no NextState', () => {
    let s: any = machine.resolveState({
      value: { checkoutSummary: 'claimed_cartToOrder' },
      context: ctx({ State: 'checkoutSummary', NextState: 'cartToOrder', IsProcessing: true }),
    });
    ({ next: s } = send(s, { type: 'STEP', step: 'cartToOrder', facts, operationId: '0YbX' }));
    ({ next: s } = send(s, { type: 'xstate.error.actor.step', error: new Error('boom') }));
    expect(s.value).toBe('error');
    expect(s.context).toMatchObject({ State: 'error', NextState: null, IsError: true, IsProcessing: false });
    // The only way out is cancel.
    expect(send(s, { type: 'CLAIM', expCurrentState: 'error', nextState: 'inventory' }).next.context.rejection).toMatchObject({
      error: 'STATE_MISMATCH',
    });
    expect(send(s, { type: 'CANCEL' }).next.context).toMatchObject({ IsArchived: true });
  });

  it('refuses a claim whose expected state is stale, a second claim, and a step that is not next', () => {
    const s0: any = machine.resolveState({ value: { start: 'idle' }, context: ctx() });
    expect(send(s0, { type: 'CLAIM', expCurrentState: 'taxes', nextState: 'inventory' }).next.context.rejection).toMatchObject({
      error: 'STATE_MISMATCH',
    });
    expect(send(s0, { type: 'CLAIM', expCurrentState: 'start', nextState: 'taxes' }).next.context.rejection).toMatchObject({
      error: 'STATE_MISMATCH',
    });
    const s1 = send(s0, { type: 'CLAIM', expCurrentState: 'start', nextState: 'inventory' }).next;
    const again = send(s1, { type: 'CLAIM', expCurrentState: 'start', nextState: 'inventory' }).next;
    expect(again.context.rejection).toMatchObject({ error: 'STATE_MISMATCH' });
    expect(again.value).toEqual(s1.value);
  });

  it('moves State directly only to the next screen state while nothing is processing', () => {
    const s0: any = machine.resolveState({ value: { shippingCost: 'idle' }, context: ctx({ State: 'shippingCost' }) });
    expect(send(s0, { type: 'SET_STATE', state: 'deliveryMethod' }).next.context).toMatchObject({
      State: 'deliveryMethod',
      rejection: null,
    });
    expect(send(s0, { type: 'SET_STATE', state: 'checkoutSummary' }).next.context.rejection).toMatchObject({
      error: 'INVALID_STATE_CHANGE',
    });
    const async: any = machine.resolveState({ value: { start: 'idle' }, context: ctx() });
    expect(send(async, { type: 'SET_STATE', state: 'inventory' }).next.context.rejection).toMatchObject({ error: 'INVALID_STATE_CHANGE' });
  });

  it('rejects a step whose requirements fail and names the requirement', () => {
    const s: any = machine.resolveState({
      value: { checkoutSummary: 'claimed_cartToOrder' },
      context: ctx({ State: 'checkoutSummary', NextState: 'cartToOrder', IsProcessing: true }),
    });
    const r = send(s, { type: 'STEP', step: 'cartToOrder', facts: { ...facts, storeMember: false }, operationId: '0YbX' }).next;
    expect(r.value).toEqual({ checkoutSummary: 'claimed_cartToOrder' });
    expect(r.context.rejection).toMatchObject({ error: 'NOT_STORE_MEMBER', requirement: 4 });
    const running = send(s, {
      type: 'STEP',
      step: 'cartToOrder',
      facts: { ...facts, operationStatus: 'Running' },
      operationId: '0YbY',
    }).next;
    expect(running.context.rejection).toMatchObject({ error: 'ALREADY_IN_PROCESS', requirement: 8 });
  });
});

describe('flow definitions', () => {
  const steps = DEFAULT_FLOW.steps;
  const without = (...keys: string[]): FlowDefinition => ({ id: 'custom', steps: steps.filter((s) => !keys.includes(s.key)) });

  it('accept a store flow that drops an optional step', () => {
    const f = validateFlow(without('calculatePromotions'));
    expect(f.next.get('confirmPrice')).toEqual(['shippingCost']);
    expect(f.resolve('Cart To Order')).toBe('cartToOrder');
    expect(f.resolve('CARTTOORDER')).toBe('cartToOrder');
  });

  it('reject unreachable states, unknown targets, missing actions and activateOrder before cartToOrder', () => {
    const problems = (def: FlowDefinition) => {
      try {
        validateFlow(def);
        return [];
      } catch (e) {
        return (e as FlowError).problems;
      }
    };
    expect(
      problems({
        id: 'x',
        steps: [
          { key: 'start', label: 'Start', kind: 'screen', next: ['complete'] },
          { key: 'orphan', label: 'O', kind: 'screen' },
          { key: 'complete', label: 'C', kind: 'final' },
        ],
      }),
    ).toEqual(["step 'orphan' is not reachable from 'start'"]);
    expect(
      problems({
        id: 'x',
        steps: [
          { key: 'start', label: 'S', kind: 'screen', next: ['nowhere'] },
          { key: 'complete', label: 'C', kind: 'final' },
        ],
      }),
    ).toContain("step 'start': next state 'nowhere' does not exist");
    expect(
      problems({
        id: 'x',
        steps: [
          { key: 'start', label: 'S', kind: 'screen' },
          { key: 'work', label: 'W', kind: 'async' },
          { key: 'complete', label: 'C', kind: 'final' },
        ],
      }),
    ).toContain("step 'work': an async step must name its action");
    const swapped = [...steps];
    const c2o = swapped.findIndex((s) => s.key === 'cartToOrder');
    const act = swapped.findIndex((s) => s.key === 'activateOrder');
    [swapped[c2o], swapped[act]] = [swapped[act]!, swapped[c2o]!];
    expect(problems({ id: 'x', steps: swapped }).join(' ')).toMatch(/cartToOrder must come before activateOrder/);
    expect(
      problems({
        id: 'x',
        steps: [
          { key: 'error', label: 'E', kind: 'screen' },
          { key: 'complete', label: 'C', kind: 'final' },
        ],
      }).join(' '),
    ).toMatch(/reserved/);
  });
});
