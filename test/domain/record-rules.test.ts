/**
 * Issue 17's record rules as pure functions: who may see a cart (requirement 1), who deletes, a
 * delete refused by the children still pointing at the record, a share's target, the bounds of
 * store settings and the fields only ModifyAllData reads.
 */
import { describe, expect, it } from 'vitest';
import { cartVisible, firstFailedRequirement, type RequirementFacts } from '../../src/domain/requirements.js';
import { CHECKOUT_TTL_MAX_MINUTES, findField, OBJECTS } from '../../src/domain/objects.js';
import { checkRestrictDelete, deleteAccess, refTargetAllowed } from '../../src/domain/write-rules.js';
import { publicRecord, validateFields } from '../../src/domain/records.js';
import { EngineError } from '../../src/errors.js';
import { PASSING_FACTS } from '../helpers/session-fixtures.js';

const obj = (name: string) => OBJECTS.get(name)!;
const stranger: RequirementFacts = { ...PASSING_FACTS, cart: { ...PASSING_FACTS.cart!, OwnerId: '005OTHER' }, shareAccess: null };

describe('requirement 1: a cart the caller can see', () => {
  it('is one it owns, one shared with it at any level, or any cart for ModifyAllData', () => {
    expect(cartVisible(PASSING_FACTS)).toBe(true);
    expect(cartVisible({ ...stranger, shareAccess: 'Read' })).toBe(true);
    expect(cartVisible({ ...stranger, shareAccess: 'Edit' })).toBe(true);
    expect(cartVisible({ ...stranger, caller: { ...stranger.caller, Permissions: ['ModifyAllData'] } })).toBe(true);
  });

  it('a cart it can neither own, nor be shared, fails requirement 1 exactly as a missing one — whatever else fails after it', () => {
    expect(cartVisible(stranger)).toBe(false);
    expect(firstFailedRequirement(stranger, 'start')?.id).toBe(1);
    expect(firstFailedRequirement({ ...PASSING_FACTS, cart: null }, 'start')?.id).toBe(1);
    // Another account's cart: its account doesn't match (3) and it isn't shared (5), but 1 answers first.
    expect(firstFailedRequirement({ ...stranger, caller: { ...stranger.caller, AccountId: '001OTHER' } }, 'start')?.id).toBe(1);
    // A Read share sees the cart: requirement 5 answers.
    expect(firstFailedRequirement({ ...stranger, shareAccess: 'Read' }, 'start')?.id).toBe(5);
  });
});

describe('delete rules of the object metadata', () => {
  it("a buyer's cart objects need ownership to delete (an Edit share edits only); others need edit access", () => {
    for (const o of ['WebCart', 'WebCartShare', 'CartDeliveryGroup', 'CartItem']) expect(deleteAccess(obj(o)), o).toBe('delete');
    for (const o of ['CartValidationOutput', 'Order', 'Product2']) expect(deleteAccess(obj(o)), o).toBe('edit');
  });

  it('every object a buyer may delete is owner-only', () => {
    for (const o of OBJECTS.values()) if (o.write?.delete === 'buyer') expect(o.write.deleteBy, o.name).toBe('owner');
  });

  it('a delivery group with lines is refused, naming it and the lines; an empty one is not', () => {
    const r = checkRestrictDelete(obj('CartDeliveryGroup'), '0a7G', { CartItem: 1 });
    expect(r?.key).toBe('DELETE_RESTRICTED');
    expect(r?.detail).toContain('0a7G');
    expect(r?.detail).toContain('CartItem.CartDeliveryGroupId');
    expect(checkRestrictDelete(obj('CartDeliveryGroup'), '0a7G', { CartItem: 0 })).toBeNull();
    expect(checkRestrictDelete(obj('CartItem'), '0a9L', {})).toBeNull();
  });
});

describe("a share's user", () => {
  const field = findField('WebCartShare', 'UserOrGroupId')!;
  const cart = { Id: '0a6C', AccountId: '001A' };
  it("must be an active user of the shared cart's account", () => {
    expect(refTargetAllowed(field, { AccountId: '001A', IsActive: true }, cart)).toBe(true);
    expect(refTargetAllowed(field, { AccountId: '001B', IsActive: true }, cart)).toBe(false);
    expect(refTargetAllowed(field, { AccountId: null, IsActive: true }, cart)).toBe(false);
    expect(refTargetAllowed(field, { AccountId: '001A', IsActive: false }, cart)).toBe(false);
    expect(refTargetAllowed(field, { AccountId: '001A', IsActive: true }, null)).toBe(false);
  });
});

describe('store settings within their bounds', () => {
  const refusal = (type: string, fields: Record<string, unknown>, mode: 'create' | 'update' | 'seed' = 'update') => {
    try {
      validateFields(type, fields, mode);
      return null;
    } catch (e) {
      return e instanceof EngineError ? [e.key, e.fields] : e;
    }
  };
  it.each(['create', 'update', 'seed'] as const)(
    'CheckoutTimeToLive: null, 0 and up to a year are taken on %s; negatives and past a year are NUMBER_OUTSIDE_VALID_RANGE',
    (mode) => {
      for (const v of [null, 0, 1, 2880, CHECKOUT_TTL_MAX_MINUTES])
        expect(refusal('WebStore', { Name: 'S', CheckoutTimeToLive: v }, mode)).toBeNull();
      for (const v of [-5, -1, CHECKOUT_TTL_MAX_MINUTES + 1, 2_147_483_647]) {
        expect(refusal('WebStore', { Name: 'S', CheckoutTimeToLive: v }, mode)).toEqual([
          'NUMBER_OUTSIDE_VALID_RANGE',
          ['CheckoutTimeToLive'],
        ]);
      }
    },
  );

  it('fees, tax rates, discounts and stock are never negative', () => {
    expect(refusal('OrderDeliveryMethod', { ShippingFee: -0.01 })).toEqual(['NUMBER_OUTSIDE_VALID_RANGE', ['ShippingFee']]);
    expect(refusal('OrderDeliveryMethod', { ShippingFeePerUnit: -1 })).toEqual(['NUMBER_OUTSIDE_VALID_RANGE', ['ShippingFeePerUnit']]);
    expect(refusal('TaxRate', { Rate: -0.08 })).toEqual(['NUMBER_OUTSIDE_VALID_RANGE', ['Rate']]);
    expect(refusal('Promotion', { DiscountValue: -5 })).toEqual(['NUMBER_OUTSIDE_VALID_RANGE', ['DiscountValue']]);
    expect(refusal('ProductInventory', { QuantityAvailable: -1 })).toEqual(['NUMBER_OUTSIDE_VALID_RANGE', ['QuantityAvailable']]);
    expect(refusal('ProductInventory', { QuantityReserved: -1 })).toEqual(['NUMBER_OUTSIDE_VALID_RANGE', ['QuantityReserved']]);
    expect(refusal('OrderDeliveryMethod', { ShippingFee: 0 })).toBeNull();
  });
});

describe('fields only ModifyAllData reads', () => {
  it("ProductInventory.QuantityReserved is left out of a buyer's read and kept in an administrator's", () => {
    const row = { Id: '0PI1', Product2Id: '01t1', QuantityAvailable: 10, QuantityReserved: 4 };
    expect(publicRecord('ProductInventory', row, false)).not.toHaveProperty('QuantityReserved');
    expect(publicRecord('ProductInventory', row, false).QuantityAvailable).toBe(10);
    expect(publicRecord('ProductInventory', row, true).QuantityReserved).toBe(4);
  });
});
