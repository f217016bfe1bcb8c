/**
 * Pure rules behind "any session row is an input" and stock reservations: which rows a flow can't
 * be in (and why), the restored state a row implies, requirement 7 refusing an unrestorable row,
 * and how a cart's holds change, without a database.
 */
import { describe, expect, it } from 'vitest';
import { createCheckoutSessionMachine, UNRESTORABLE_STATE } from '../../src/machines/checkout-session.js';
import { DEFAULT_FLOW, validateFlow } from '../../src/domain/flow.js';
import { firstFailedRequirement, rejectionFor, type RequirementFacts } from '../../src/domain/requirements.js';
import { claimProblem, moveProblem, operationInFlight, sessionRowProblem, type SessionState } from '../../src/domain/session-rules.js';
import { afterRelease, canHold, holdChanges, unreservedStock } from '../../src/domain/stock.js';
import { contextFromRow, impliedStateValue, restoreSnapshot } from '../../src/engine/sessions.js';
import { PASSING_FACTS } from '../helpers/session-fixtures.js';

const flow = validateFlow(DEFAULT_FLOW);
const machine = createCheckoutSessionMachine(flow);
const s = (over: Partial<SessionState>): SessionState => ({
  State: 'start',
  NextState: null,
  IsProcessing: false,
  IsError: false,
  IsArchived: false,
  ...over,
});

describe('sessionRowProblem', () => {
  it.each([
    [s({ State: '' }), /State is empty/],
    [s({ State: null }), /State is empty/],
    [s({ State: 'nowhere' }), /State 'nowhere' isn't a state of flow 'default'/],
    [s({ State: 'shippingCost', NextState: 'taxes', IsProcessing: true }), /NextState 'taxes' can't follow State 'shippingCost'/],
    [s({ State: 'start', IsProcessing: true }), /IsProcessing is true but NextState is empty/],
    [s({ State: 'start', NextState: 'nowhere', IsProcessing: true }), /NextState 'nowhere' isn't a state/],
    [s({ State: 'shippingCost', NextState: 'deliveryMethod', IsProcessing: true }), /is a screen step/],
    [s({ State: 'complete', NextState: 'inventory', IsProcessing: true }), /can't follow State 'complete'/],
  ])('names what is wrong with %o', (row, why) => {
    expect(sessionRowProblem(row, flow)).toMatch(why);
    expect(claimProblem(row, flow, String(row.State), 'inventory')).toMatchObject({
      error: 'STATE_MISMATCH',
      detail: expect.stringMatching(why),
    });
    expect(moveProblem(row, flow, 'deliveryMethod')).toMatchObject({ error: 'INVALID_STATE_CHANGE', detail: expect.stringMatching(why) });
  });

  it.each([
    s({}),
    s({ State: 'deliveryMethod', NextState: 'taxes', IsProcessing: true }),
    s({ State: 'deliveryMethod', NextState: 'nowhere' }), // NextState is ignored while idle
    s({ State: '', IsError: true }),
    s({ State: 'nowhere', IsArchived: true }),
    s({ State: 'error' }),
  ])('accepts %o', (row) => {
    expect(sessionRowProblem(row, flow)).toBeNull();
  });

  it('an operation is in flight only while New or Running', () => {
    expect(['New', 'Running', 'Complete', 'Error', 'Canceled', null, undefined].map(operationInFlight)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('restoring a row', () => {
  const row = (over: Record<string, unknown>) => ({
    Id: '2z9S',
    WebCartId: '0a6C',
    State: 'start',
    NextState: null,
    IsProcessing: false,
    IsError: false,
    IsArchived: false,
    ...over,
  });

  it('implies a state from the fields and the operation status, never from the stored snapshot', () => {
    expect(impliedStateValue(row({ State: 'taxes' }), flow, false)).toEqual({ taxes: 'idle' });
    expect(impliedStateValue(row({ State: 'complete' }), flow, false)).toBe('complete');
    expect(impliedStateValue(row({ State: 'deliveryMethod', NextState: 'taxes', IsProcessing: true }), flow, true)).toEqual({
      taxes: 'running',
    });
    expect(impliedStateValue(row({ State: 'deliveryMethod', NextState: 'taxes', IsProcessing: true }), flow, false)).toEqual({
      deliveryMethod: 'claimed_taxes',
    });
    expect(impliedStateValue(row({ State: 'shippingCost', NextState: 'taxes', IsProcessing: true }), flow, true)).toBe(UNRESTORABLE_STATE);
    const r = row({
      State: 'deliveryMethod',
      NextState: 'taxes',
      IsProcessing: true,
      BackgroundOperationId: '0YbO',
      _snapshot: '{"value":{"nowhere":"idle"}}',
    });
    expect(restoreSnapshot(machine, r, 'Complete').value).toEqual({ deliveryMethod: 'claimed_taxes' });
    expect(restoreSnapshot(machine, r, 'Running').value).toEqual({ taxes: 'running' });
    expect(restoreSnapshot(machine, { ...r, _snapshot: 'not json' }).value).toEqual({ deliveryMethod: 'claimed_taxes' });
    expect(restoreSnapshot(machine, row({ State: '' })).value).toBe(UNRESTORABLE_STATE);
    // A provided copy of the machine (the engine supplies its step service that way) restores the same.
    expect(restoreSnapshot(machine.provide({}), row({ State: 'taxes' })).value).toEqual({ taxes: 'idle' });
  });

  it('restores what XState’s resolveState makes of the implied value and context, however often a value is restored', () => {
    const rows = [
      row({ State: 'taxes' }),
      row({ State: 'taxes', Id: '2z9T', WebCartId: '0a6D', OrderId: '801A' }),
      row({ State: 'deliveryMethod', NextState: 'taxes', IsProcessing: true, BackgroundOperationId: '0YbO' }),
      row({ State: 'complete', OrderId: '801A' }),
      row({ State: 'start', IsArchived: true }),
      row({ State: '' }),
    ];
    for (let round = 0; round < 3; round++) {
      for (const r of rows) {
        for (const status of [null, 'Running']) {
          const restored = restoreSnapshot(machine, r, status);
          const inFlight = status === 'Running' && typeof (r as Record<string, unknown>).BackgroundOperationId === 'string';
          const own = machine.resolveState({ value: impliedStateValue(r, flow, inFlight) as any, context: contextFromRow(r) });
          expect(restored).toEqual(own);
          expect(Object.keys(restored)).toEqual(Object.keys(own));
          expect(restored.context).toEqual(contextFromRow(r));
          expect([restored.status, [...restored.tags], restored.children, restored.historyValue]).toEqual([
            own.status,
            [...own.tags],
            {},
            {},
          ]);
          // Each restore is its own snapshot: nothing mutable is shared between two restores.
          const again = restoreSnapshot(machine, r, status);
          expect(again).not.toBe(restored);
          expect(again.children).not.toBe(restored.children);
          expect(again.historyValue).not.toBe(restored.historyValue);
          expect(again.tags).not.toBe(restored.tags);
        }
      }
    }
  });

  it('requirement 7 refuses an unrestorable row even when its fields name the step, and says why', () => {
    const facts: RequirementFacts = {
      ...PASSING_FACTS,
      session: {
        State: 'shippingCost',
        NextState: 'taxes',
        IsProcessing: true,
        IsArchived: false,
        IsError: false,
        problem: "NextState 'taxes' can't follow State 'shippingCost'",
      },
    };
    const failed = firstFailedRequirement(facts, 'taxes')!;
    expect(failed.id).toBe(7);
    expect(rejectionFor(failed, facts).detail).toMatch(/can't be restored: NextState 'taxes' can't follow State 'shippingCost'/);
    expect(firstFailedRequirement({ ...facts, session: { ...facts.session!, problem: null } }, 'taxes')).toBeNull();
  });
});

describe('stock holds', () => {
  it('a re-run sets the hold: only differences move QuantityReserved, and dropped products give stock back', () => {
    const current = new Map([
      ['inv1', 3],
      ['inv2', 2],
    ]);
    expect(
      holdChanges(
        current,
        new Map([
          ['inv1', 3],
          ['inv2', 2],
        ]),
      ),
    ).toEqual([]);
    expect(
      holdChanges(
        current,
        new Map([
          ['inv1', 5],
          ['inv3', 1],
        ]),
      ),
    ).toEqual([
      { inventoryId: 'inv1', from: 3, to: 5, delta: 2 },
      { inventoryId: 'inv2', from: 2, to: 0, delta: -2 },
      { inventoryId: 'inv3', from: 0, to: 1, delta: 1 },
    ]);
  });

  it('a raise needs unreserved stock; a release never drives QuantityReserved below zero', () => {
    const inv = { QuantityAvailable: 10, QuantityReserved: 7 };
    expect(unreservedStock(inv)).toBe(3);
    expect([canHold(inv, 3), canHold(inv, 4), canHold(inv, -5)]).toEqual([true, false, true]);
    expect(unreservedStock({ QuantityAvailable: 2, QuantityReserved: 5 })).toBe(0);
    expect([afterRelease(7, 3), afterRelease(2, 3), afterRelease(null, 1)]).toEqual([4, 0, 0]);
  });
});
