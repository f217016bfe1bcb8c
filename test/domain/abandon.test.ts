/**
 * The pure decision behind "a cart becomes at most one order, ever": what cancel, expiry, a buyer's
 * cart change and a failed step do given the order the checkout has made, without a database.
 */
import { describe, expect, it } from 'vitest';
import { ABANDON_PATHS, abandonPlan, orderStanding, type AbandonPath, type OrderStanding } from '../../src/domain/abandon.js';
import { ERRORS } from '../../src/errors.js';

describe('orderStanding', () => {
  it.each([
    [null, 'none'],
    [undefined, 'none'],
    ['Draft', 'draft'],
    ['Activated', 'placed'],
    // Any status other than Draft is past the point of no return (a custom status included).
    ['Shipped', 'placed'],
  ])('%s → %s', (status, standing) => {
    expect(orderStanding(status)).toBe(standing);
  });
});

describe('abandonPlan', () => {
  const table: [AbandonPath, OrderStanding, ReturnType<typeof abandonPlan>['kind'], Record<string, unknown>][] = [
    ['cancel', 'none', 'abandon', { deleteDraft: false, release: 'held', reason: 'Canceled' }],
    ['cancel', 'draft', 'abandon', { deleteDraft: true, release: 'heldAndDraft', reason: 'Canceled' }],
    ['cancel', 'placed', 'refuse', { error: 'CANCEL_ORDER_PLACED' }],
    ['expiry', 'none', 'abandon', { deleteDraft: false, release: 'held', reason: 'Expired' }],
    ['expiry', 'draft', 'abandon', { deleteDraft: true, release: 'heldAndDraft', reason: 'Expired' }],
    ['expiry', 'placed', 'keep', {}],
    ['cartChange', 'none', 'abandon', { deleteDraft: false, release: 'held', reason: 'Canceled' }],
    ['cartChange', 'draft', 'refuse', { error: 'CART_LOCKED_BY_ORDER' }],
    ['cartChange', 'placed', 'refuse', { error: 'CART_LOCKED_BY_ORDER' }],
    ['stepError', 'none', 'releaseHeld', { reason: 'StepError' }],
    ['stepError', 'draft', 'releaseHeld', { reason: 'StepError' }],
    ['stepError', 'placed', 'releaseHeld', { reason: 'StepError' }],
  ];

  it('covers every path and standing', () => {
    expect(table.length).toBe(ABANDON_PATHS.length * 3);
  });

  it.each(table)('%s with order %s → %s', (path, standing, kind, fields) => {
    const plan = abandonPlan(path, standing, '801000000000001AAA');
    expect(plan.kind).toBe(kind);
    expect(plan).toMatchObject(fields);
  });

  it('no plan reopens a cart that has a placed order', () => {
    for (const path of ABANDON_PATHS) expect(abandonPlan(path, 'placed').kind).not.toBe('abandon');
  });

  it('a draft order is only ever left behind by a refusal or a failed step, never by a reopened cart', () => {
    for (const path of ABANDON_PATHS) {
      const plan = abandonPlan(path, 'draft');
      if (plan.kind === 'abandon') expect([plan.deleteDraft, plan.release]).toEqual([true, 'heldAndDraft']);
    }
  });

  it('refusals are declared errors and name the order', () => {
    for (const path of ABANDON_PATHS) {
      for (const standing of ['draft', 'placed'] as const) {
        const plan = abandonPlan(path, standing, '801000000000001AAA');
        if (plan.kind !== 'refuse') continue;
        expect(ERRORS[plan.error]).toBeDefined();
        expect(plan.detail).toContain('801000000000001AAA');
      }
    }
    expect(ERRORS.CANCEL_ORDER_PLACED).toMatchObject({ code: 'INVALID_OPERATION', status: 403 });
    expect(ERRORS.CART_LOCKED_BY_ORDER).toMatchObject({ code: 'ENTITY_IS_LOCKED', status: 400 });
  });
});
