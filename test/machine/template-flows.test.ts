/**
 * The template convention as pure functions (no storage): the generated statechart of
 * `salesforce-reentrant` and `salesforce-main` walked with the templates' events, and the session
 * rules (claims, moves, record writes, closing the cart, requirement 7) on their own.
 */
import { PASSING_FACTS, sessionContext } from '../helpers/session-fixtures.js';
import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import { createCheckoutSessionMachine, type SessionContext, type SessionEvent } from '../../src/machines/checkout-session.js';
import {
  BUILTIN_FLOWS,
  DEFAULT_FLOW,
  FlowError,
  SALESFORCE_MAIN_FLOW,
  SALESFORCE_REENTRANT_FLOW,
  validateFlow,
} from '../../src/domain/flow.js';
import { firstFailedRequirement, STEP_REQUIREMENTS } from '../../src/domain/requirements.js';
import { claimProblem, closeCartProblem, moveProblem, sessionFieldProblem, sessionWriteEvents } from '../../src/domain/session-rules.js';

const reentrant = validateFlow(SALESFORCE_REENTRANT_FLOW);
const main = validateFlow(SALESFORCE_MAIN_FLOW);
const plain = validateFlow(DEFAULT_FLOW);

const ctx = (over: Partial<SessionContext> = {}) => sessionContext({ State: 'Start', ...over });
const facts = PASSING_FACTS;

function runner(flow: ReturnType<typeof validateFlow>) {
  const machine = createCheckoutSessionMachine(flow);
  let s: any = machine.resolveState({ value: { start: 'idle' }, context: ctx() });
  let op = 0;
  const send = (event: SessionEvent) => {
    const [next] = transition(machine, s, event as any);
    const rejection = next.context.rejection;
    if (!rejection) s = next;
    return rejection;
  };
  const step = (stepKey: string) => send({ type: 'STEP', step: stepKey, facts, operationId: `0Yb${++op}` });
  const done = () => send({ type: 'xstate.done.actor.step', output: { OrderId: s.context.OrderId ?? '801O' } });
  const fields = () => [s.context.State, s.context.NextState, s.context.IsProcessing];
  return {
    send,
    step,
    done,
    fields,
    get value() {
      return s.value;
    },
  };
}

describe('the template convention', () => {
  it('every built-in flow validates; the templates are template-convention flows', () => {
    expect(BUILTIN_FLOWS.map((f) => [f.id, validateFlow(f).convention.name])).toEqual([
      ['default', 'source'],
      ['salesforce-reentrant', 'template'],
      ['salesforce-main', 'template'],
      ['salesforce-main-checkout', 'template'],
      ['connect', 'source'],
    ]);
    expect(reentrant.resolve('shipping address')).toBe('start');
    expect(reentrant.resolve('  CART TO ORDER ')).toBe('cartToOrder');
    expect(() => validateFlow({ ...DEFAULT_FLOW, id: 'x', convention: 'other' as never })).toThrow(FlowError);
    expect(() =>
      validateFlow({
        id: 'dup',
        steps: [
          { key: 'a', label: 'Same', kind: 'screen' },
          { key: 'b', label: 'same', kind: 'final' },
        ],
      }),
    ).toThrow(/already names step 'a'/);
  });

  it('walks the Re-entrant template: State names the step about to run, completion copies NextState as written', () => {
    const r = runner(reentrant);
    expect(r.send({ type: 'SET_STATE', state: 'Inventory' })).toBeNull();
    expect(r.fields()).toEqual(['Inventory', null, false]);
    // An async step can't be left by a State write, nor run before its claim.
    expect(r.send({ type: 'SET_STATE', state: 'Confirm Price' })).toMatchObject({ error: 'INVALID_STATE_CHANGE' });
    expect(r.step('inventory')).toMatchObject({ error: 'SESSION_NOT_READY', requirement: 7 });
    expect(r.send({ type: 'CLAIM', expCurrentState: 'inventory', nextState: 'Confirm Price' })).toBeNull();
    expect(r.fields()).toEqual(['Inventory', 'Confirm Price', false]);
    // Another step's action is refused; this step's action starts the operation.
    expect(r.step('confirmPrice')).toMatchObject({ error: 'SESSION_NOT_READY' });
    expect(r.step('inventory')).toBeNull();
    expect(r.value).toEqual({ inventory: 'running_confirmPrice' });
    expect(r.fields()).toEqual(['Inventory', 'Confirm Price', true]);
    expect(r.send({ type: 'CLAIM', expCurrentState: 'Inventory', nextState: 'Confirm Price' })).toMatchObject({ error: 'STATE_MISMATCH' });
    expect(r.done()).toBeNull();
    expect(r.fields()).toEqual(['Confirm Price', null, false]);
    expect(r.value).toEqual({ confirmPrice: 'idle' });
  });

  it('walks the Main template: State and NextState written together, then the wrapped action', () => {
    const r = runner(main);
    for (const event of sessionWriteEvents(ctx(), main, { State: 'Pre-Pricing', NextState: 'Post-Pricing' }) as SessionEvent[])
      expect(r.send(event)).toBeNull();
    expect(r.fields()).toEqual(['Pre-Pricing', 'Post-Pricing', false]);
    expect(r.step('prePricing')).toBeNull();
    expect(r.done()).toBeNull();
    expect(r.fields()).toEqual(['Post-Pricing', null, false]);
    expect(r.send({ type: 'SET_STATE', state: 'Pre-Promotions' })).toBeNull();
    expect(r.send({ type: 'CLAIM', expCurrentState: 'Pre-Promotions', nextState: 'Post-Promotions' })).toBeNull();
    expect(r.step('prePromotions')).toBeNull();
    expect(r.done()).toBeNull();
    expect(r.send({ type: 'CLAIM', expCurrentState: 'Post-Promotions', nextState: 'Authorize Payment' })).toBeNull();
    expect(r.step('postPromotions')).toBeNull();
    expect(r.done()).toBeNull();
    expect(r.fields()).toEqual(['Authorize Payment', null, false]);
    expect(r.send({ type: 'CLAIM', expCurrentState: 'Authorize Payment', nextState: 'Activate Order' })).toBeNull();
    expect(r.step('authorizePayment')).toBeNull();
    expect(r.done()).toBeNull();
    expect(r.value).toBe('activateOrder');
    expect(r.fields()).toEqual(['Activate Order', null, false]);
  });
});

describe('session rules under both conventions', () => {
  it('claims and moves compare resolved names, never spellings', () => {
    expect(claimProblem(ctx({ State: 'checkoutSummary' }), plain, 'Checkout Summary', 'CART TO ORDER')).toBeNull();
    expect(claimProblem(ctx({ State: 'Cart To Order' }), reentrant, 'cartToOrder', 'authorize payment')).toBeNull();
    expect(claimProblem(ctx({ State: 'Cart To Order' }), reentrant, 'Cart To Order', 'Activate Order')).toMatchObject({
      error: 'STATE_MISMATCH',
    });
    expect(claimProblem(ctx({ State: 'Cart To Order' }), reentrant, 'nowhere', 'Authorize Payment')).toMatchObject({
      error: 'STATE_MISMATCH',
    });
    // Default flow: State moves to the next screen only; template: from a screen to any successor.
    expect(moveProblem(ctx({ State: 'deliveryMethod' }), plain, 'taxes')).toMatchObject({ error: 'INVALID_STATE_CHANGE' });
    expect(moveProblem(ctx({ State: 'Delivery Method' }), reentrant, 'Taxes')).toBeNull();
    expect(moveProblem(ctx({ State: 'Delivery Method', IsProcessing: true }), reentrant, 'Taxes')).toMatchObject({
      error: 'INVALID_STATE_CHANGE',
    });
    expect(moveProblem(ctx({ State: 'Authorize Payment' }), reentrant, 'Activate Order')).toBeNull();
    expect(moveProblem(ctx({ State: 'Taxes' }), reentrant, 'Payment And Billing Address')).toMatchObject({ error: 'INVALID_STATE_CHANGE' });
  });

  it('a record write becomes events; other statechart fields must equal what the statechart holds', () => {
    expect(sessionWriteEvents(ctx({ State: 'Post-Promotions' }), main, { NextState: 'Authorize Payment', IsProcessing: false })).toEqual([
      { type: 'CLAIM', expCurrentState: 'Post-Promotions', nextState: 'Authorize Payment' },
    ]);
    expect(sessionWriteEvents(ctx(), main, { State: 'Somewhere' })).toMatchObject({ error: 'INVALID_STATE_CHANGE', field: 'State' });
    expect(sessionWriteEvents(ctx({ State: 'Pre-Pricing', NextState: 'Post-Pricing' }), main, { NextState: null })).toMatchObject({
      error: 'SESSION_FIELD_NOT_WRITABLE',
      field: 'NextState',
    });
    expect(sessionWriteEvents(ctx(), main, { NextState: null })).toEqual([]);
    expect(sessionWriteEvents(ctx({ NextState: 'Post-Pricing' }), main, { NextState: 'post-pricing' })).toEqual([]);
    const after = { IsProcessing: false, IsError: false, IsArchived: false, BackgroundOperationId: null, OrderId: '801A' };
    expect(sessionFieldProblem(after, { IsProcessing: false, OrderId: '801A' })).toBeNull();
    expect(sessionFieldProblem(after, { OrderId: '801B' })).toMatchObject({ error: 'SESSION_FIELD_NOT_WRITABLE', field: 'OrderId' });
    expect(sessionFieldProblem(after, { IsArchived: true })).toMatchObject({ field: 'IsArchived' });
  });

  it('a buyer closes the cart only in a template flow, after activation, at the final claim', () => {
    const confirmed = ctx({ State: 'Order Confirmation', NextState: 'Complete' });
    expect(closeCartProblem(confirmed, reentrant, 'Activated')).toBeNull();
    expect(closeCartProblem(confirmed, reentrant, 'Draft')).toMatchObject({ error: 'CART_STATUS_MANAGED', field: 'Status' });
    expect(closeCartProblem(ctx({ State: 'Order Confirmation' }), reentrant, 'Activated')).toMatchObject({ error: 'CART_STATUS_MANAGED' });
    expect(closeCartProblem(ctx({ State: 'orderConfirmation', NextState: 'complete' }), plain, 'Activated')).toMatchObject({
      error: 'CART_STATUS_MANAGED',
    });
    expect(closeCartProblem(null, reentrant, 'Activated')).toMatchObject({ error: 'CART_STATUS_MANAGED' });
  });

  it('requirement 7 reads the flow convention', () => {
    const claimed = {
      ...facts,
      session: { State: 'cartToOrder', NextState: 'authorizePayment', IsProcessing: false, IsArchived: false, IsError: false },
    };
    expect(firstFailedRequirement(claimed, 'cartToOrder', STEP_REQUIREMENTS, 'template')).toBeNull();
    expect(firstFailedRequirement(claimed, 'cartToOrder', STEP_REQUIREMENTS, 'source')?.id).toBe(7);
    const unclaimed = { ...claimed, session: { ...claimed.session, NextState: null } };
    expect(firstFailedRequirement(unclaimed, 'cartToOrder', STEP_REQUIREMENTS, 'template')?.id).toBe(7);
    const sourceClaim = {
      ...facts,
      session: { State: 'checkoutSummary', NextState: 'cartToOrder', IsProcessing: true, IsArchived: false, IsError: false },
    };
    expect(firstFailedRequirement(sourceClaim, 'cartToOrder')).toBeNull();
  });
});
