/** The eight usage requirements of spec §3 as pure checks, in order. */
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';
import { firstFailedRequirement, STEP_REQUIREMENTS, type RequirementFacts } from '../../src/domain/requirements.js';
import { PASSING_FACTS } from '../helpers/session-fixtures.js';

const good: RequirementFacts = {
  ...PASSING_FACTS,
  session: { State: 'checkoutSummary', NextState: 'cartToOrder', IsProcessing: true, IsArchived: false, IsError: false },
  operationStatus: 'Complete',
};
const failing = (facts: Partial<RequirementFacts>) => firstFailedRequirement({ ...good, ...facts }, 'cartToOrder');

describe('usage requirements of cartToOrderAction', () => {
  it('are eight, in the documented order, each with its documented code and status', () => {
    expect(STEP_REQUIREMENTS.map((r) => [r.id, ERRORS[r.error].code, ERRORS[r.error].status])).toEqual([
      [1, 'UNKNOWN_EXCEPTION', 500],
      [2, 'BAD_REQUEST', 400],
      [3, 'INSUFFICIENT_ACCESS_OR_READONLY', 500],
      [4, 'INSUFFICIENT_ACCESS_OR_READONLY', 500],
      [5, 'BAD_REQUEST', 400],
      [6, 'INVALID_OPERATION', 403],
      [7, 'INVALID_OPERATION', 403],
      [8, 'ALREADY_IN_PROCESS', 400],
    ]);
  });

  it('all pass for the owner buyer of a cart whose session awaits cartToOrder', () => {
    expect(failing({})).toBeNull();
  });

  it.each([
    ['no such cart', { cart: null }, 1],
    ['no invoke permission', { caller: { ...good.caller, Permissions: [] } }, 2],
    ['inactive caller', { caller: { ...good.caller, IsActive: false } }, 2],
    ['account missing', { accountExists: false }, 3],
    ['buyer account inactive', { buyerStatus: 'Inactive' }, 3],
    ['no buyer account', { buyerStatus: null }, 3],
    ['caller of another account', { caller: { ...good.caller, AccountId: '001B' } }, 3],
    ['not a store member', { storeMember: false }, 4],
    // A cart the caller can't see at all answers as a missing one (docs/design-choices.md).
    ['not owner, no share', { cart: { ...good.cart!, OwnerId: '005X' } }, 1],
    ['not owner, read share only', { cart: { ...good.cart!, OwnerId: '005X' }, shareAccess: 'Read' as const }, 5],
    ['cart Active', { cart: { ...good.cart!, Status: 'Active' } }, 6],
    ['no session', { session: null }, 7],
    ['session archived', { session: { ...good.session!, IsArchived: true } }, 7],
    ['session not processing', { session: { ...good.session!, IsProcessing: false } }, 7],
    ['session claimed for another step', { session: { ...good.session!, NextState: 'taxes' } }, 7],
    ['session State empty', { session: { ...good.session!, State: '' } }, 7],
    ['operation New', { operationStatus: 'New' }, 8],
    ['operation Running', { operationStatus: 'Running' }, 8],
  ])('%s fails requirement %i', (_, facts, id) => {
    expect(failing(facts as Partial<RequirementFacts>)?.id).toBe(id);
  });

  it('reports the first failing requirement when several fail', () => {
    expect(failing({ caller: { ...good.caller, Permissions: [], AccountId: '001B' }, storeMember: false })?.id).toBe(2);
    expect(failing({ storeMember: false, session: null, operationStatus: 'Running' })?.id).toBe(4);
  });

  it('lets ModifyAllData act for any account and any cart, and an Edit share stand in for ownership', () => {
    expect(failing({ caller: { Id: '005M', AccountId: null, Permissions: ['ModifyAllData'], IsActive: true } })).toBeNull();
    expect(failing({ cart: { ...good.cart!, OwnerId: '005X' }, shareAccess: 'Edit' })).toBeNull();
  });
});
