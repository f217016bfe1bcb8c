/**
 * The write rules of the object metadata as pure functions (no database): who may create, update
 * and delete each object, which fields a buyer writes, which links are fixed, which writes cancel
 * a checkout, and which cart Status moves a record write may make.
 */
import { describe, expect, it } from 'vitest';
import { OBJECTS, cartStatusChange, type ObjectDef } from '../../src/domain/objects.js';
import {
  cancelsCheckout,
  checkFieldWrite,
  checkObjectWrite,
  checkRowDelete,
  roleOf,
  writableFields,
} from '../../src/domain/write-rules.js';

const obj = (name: string): ObjectDef => OBJECTS.get(name)!;

/** What a storefront buyer may do to each object's records (create, update, delete). */
const BUYER_VERBS: Record<string, [boolean, boolean, boolean]> = {
  WebCart: [true, true, true],
  // The buyer account's saved addresses (sharing: its own account only).
  ContactPointAddress: [true, true, true],
  WebCartShare: [true, true, true],
  CartDeliveryGroup: [true, true, true],
  CartItem: [true, true, true],
  CartValidationOutput: [false, true, false],
  CartCheckoutSession: [false, true, false],
};

describe('write rules (pure)', () => {
  it('B2BCommerceIntegrator is a buyer for record writes; ModifyAllData is admin', () => {
    expect(roleOf(['B2BCommerceIntegrator'])).toBe('buyer');
    expect(roleOf([])).toBe('buyer');
    expect(roleOf(['B2BCommerceIntegrator', 'ModifyAllData'])).toBe('admin');
  });

  it('a buyer creates, updates and deletes only the storefront objects; everything else is refused before any row is read', () => {
    for (const o of OBJECTS.values()) {
      const expected = BUYER_VERBS[o.name] ?? [false, false, false];
      (['create', 'update', 'delete'] as const).forEach((verb, i) => {
        const r = checkObjectWrite(o, verb, 'buyer');
        expect(r === null, `${o.name} ${verb}`).toBe(expected[i]);
        if (r) expect(['INSUFFICIENT_ACCESS', 'ENGINE_MANAGED']).toContain(r.key);
      });
    }
  });

  it('the engine-only objects are refused to ModifyAllData too; orders and catalog are open to it', () => {
    for (const verb of ['create', 'update', 'delete'] as const)
      expect(checkObjectWrite(obj('BackgroundOperation'), verb, 'admin')?.key).toBe('ENGINE_MANAGED');
    expect(checkObjectWrite(obj('CartCheckoutSession'), 'create', 'admin')?.key).toBe('ENGINE_MANAGED');
    expect(checkObjectWrite(obj('OrderSummary'), 'create', 'admin')?.key).toBe('ENGINE_MANAGED');
    for (const name of ['Order', 'OrderItem', 'CartTax', 'CartDeliveryGroupMethod', 'Product2', 'PricebookEntry']) {
      for (const verb of ['create', 'update', 'delete'] as const)
        expect(checkObjectWrite(obj(name), verb, 'admin'), `${name} ${verb}`).toBeNull();
    }
  });

  it('no money field of any object is buyer-writable', () => {
    for (const o of OBJECTS.values()) {
      const buyer = new Set(writableFields(o, 'buyer'));
      for (const f of o.fields) if (f.type === 'currency') expect(buyer.has(f.name), `${o.name}.${f.name}`).toBe(false);
    }
  });

  it('a buyer writes exactly the storefront fields of a cart line, a cart, a delivery group and a session', () => {
    expect(writableFields(obj('CartItem'), 'buyer')).toEqual(['CartId', 'CartDeliveryGroupId', 'Product2Id', 'Name', 'Sku', 'Quantity']);
    expect(writableFields(obj('WebCart'), 'buyer')).toEqual([
      // Status: only a template flow's own Checkout → Closed at Order Confirmation (RecordService.update).
      'Name',
      'WebStoreId',
      'AccountId',
      'OwnerId',
      'Status',
      'CurrencyIsoCode',
      'PoNumber',
      'PaymentMethodId',
      'BillingStreet',
      'BillingCity',
      'BillingState',
      'BillingPostalCode',
      'BillingCountry',
      'BillingLatitude',
      'BillingLongitude',
      'BillingGeocodeAccuracy',
    ]);
    expect(writableFields(obj('CartDeliveryGroup'), 'buyer')).not.toContain('DeliveryMethodId');
    // Salesforce's updatable session fields: every write is offered to the flow's statechart, which
    // refuses what the flow doesn't allow (and never links an order: see attacks.test.ts).
    expect(writableFields(obj('CartCheckoutSession'), 'buyer')).toEqual([
      'State',
      'NextState',
      'IsProcessing',
      'IsError',
      'IsArchived',
      'BackgroundOperationId',
      'OrderId',
    ]);
    expect(writableFields(obj('CartValidationOutput'), 'buyer')).toEqual(['IsDismissed']);
  });

  it('a refused field write names every refused field at once', () => {
    expect(checkFieldWrite(obj('CartItem'), 'update', 'buyer', { SalesPrice: 0.01, AdjustmentAmount: -1000, Quantity: 2 })).toEqual({
      key: 'FIELD_NOT_WRITABLE',
      detail: 'CartItem: SalesPrice, AdjustmentAmount.',
      fields: ['SalesPrice', 'AdjustmentAmount'],
    });
    expect(checkFieldWrite(obj('CartItem'), 'update', 'admin', { SalesPrice: 0.01, AdjustmentAmount: -1000 })).toBeNull();
  });

  it('parent links are fixed after creation for everyone; writing the same value is no change', () => {
    const before = { Id: 'x', CartId: 'cartA', CartDeliveryGroupId: 'g1', Type: 'Product' };
    for (const role of ['buyer', 'admin'] as const) {
      expect(checkFieldWrite(obj('CartItem'), 'update', role, { CartId: 'cartB' }, before)).toMatchObject({
        key: 'FIELD_NOT_UPDATABLE',
        fields: ['CartId'],
      });
    }
    expect(checkFieldWrite(obj('CartItem'), 'update', 'buyer', { CartId: 'cartA' }, before)).toBeNull();
    expect(checkFieldWrite(obj('WebCartShare'), 'update', 'buyer', { ParentId: 'cartB' }, { ParentId: 'cartA' })).toMatchObject({
      key: 'FIELD_NOT_UPDATABLE',
      fields: ['ParentId'],
    });
    expect(checkFieldWrite(obj('CartDeliveryGroup'), 'update', 'buyer', { CartId: 'cartB' }, { CartId: 'cartA' })).toMatchObject({
      key: 'FIELD_NOT_UPDATABLE',
      fields: ['CartId'],
    });
    expect(checkFieldWrite(obj('OrderItem'), 'update', 'admin', { OrderId: 'o2' }, { OrderId: 'o1' })).toMatchObject({
      key: 'FIELD_NOT_UPDATABLE',
      fields: ['OrderId'],
    });
    // A cart's owner is fixed for buyers (an Edit share can't make itself the owner); ModifyAllData may reassign it.
    expect(checkFieldWrite(obj('WebCart'), 'update', 'buyer', { OwnerId: 'u2' }, { OwnerId: 'u1' })).toMatchObject({
      key: 'FIELD_NOT_UPDATABLE',
      fields: ['OwnerId'],
    });
    expect(checkFieldWrite(obj('WebCart'), 'update', 'admin', { OwnerId: 'u2' }, { OwnerId: 'u1' })).toBeNull();
    // A session's cart is the engine's: not even a value is accepted.
    expect(checkFieldWrite(obj('CartCheckoutSession'), 'update', 'admin', { WebCartId: 'cartB' })).toMatchObject({
      key: 'FIELD_NOT_WRITABLE',
      fields: ['WebCartId'],
    });
  });

  it("a cart's Charge lines are written and deleted only by ModifyAllData", () => {
    const charge = { Id: 'c', CartId: 'cartA', Type: 'Charge', Quantity: 1 };
    expect(checkFieldWrite(obj('CartItem'), 'update', 'buyer', { Quantity: 0 }, charge)).toMatchObject({
      key: 'INSUFFICIENT_ACCESS',
      fields: ['Type'],
    });
    expect(checkRowDelete(obj('CartItem'), 'buyer', charge)).toMatchObject({ key: 'INSUFFICIENT_ACCESS', fields: ['Type'] });
    expect(checkRowDelete(obj('CartItem'), 'admin', charge)).toBeNull();
    expect(checkRowDelete(obj('CartItem'), 'buyer', { ...charge, Type: 'Product' })).toBeNull();
    expect(checkFieldWrite(obj('CartItem'), 'create', 'buyer', { Type: 'Charge' })).toMatchObject({
      key: 'FIELD_NOT_WRITABLE',
      fields: ['Type'],
    });
  });

  it('writes that change what checkout computed cancel the checkout; address and name edits do not', () => {
    const line = { Quantity: 1, Name: 'W', SalesPrice: 5 };
    expect(cancelsCheckout(obj('CartItem'), 'update', { Quantity: 2 }, line)).toBe(true);
    expect(cancelsCheckout(obj('CartItem'), 'update', { Quantity: 1 }, line)).toBe(false);
    expect(cancelsCheckout(obj('CartItem'), 'update', { Name: 'Renamed' }, line)).toBe(false);
    expect(cancelsCheckout(obj('CartItem'), 'update', { SalesPrice: 4 }, line)).toBe(true);
    expect(cancelsCheckout(obj('CartItem'), 'create')).toBe(true);
    expect(cancelsCheckout(obj('CartItem'), 'delete')).toBe(true);
    expect(cancelsCheckout(obj('CartTax'), 'update', { Amount: 0 }, { Amount: 1 })).toBe(true);
    expect(cancelsCheckout(obj('CartDeliveryGroupMethod'), 'update', { ShippingFee: -50 }, { ShippingFee: 9.99 })).toBe(true);
    expect(cancelsCheckout(obj('CartDeliveryGroup'), 'update', { DeliverToCity: 'Reno' }, { DeliverToCity: 'Oakland' })).toBe(false);
    expect(cancelsCheckout(obj('WebCart'), 'update', { PoNumber: 'x' }, {})).toBe(false);
  });

  it('a record write never moves a cart into or out of Checkout, and never out of Closed', () => {
    const S = ['Active', 'Checkout', 'Closed', 'PendingDelete'];
    const table = S.map((from) => S.map((to) => cartStatusChange(from, to) ?? 'ok'));
    expect(table).toEqual([
      ['ok', 'CART_STATUS_MANAGED', 'ok', 'ok'],
      ['CART_STATUS_MANAGED', 'ok', 'CART_STATUS_MANAGED', 'CART_STATUS_MANAGED'],
      ['RECORD_LOCKED', 'RECORD_LOCKED', 'ok', 'RECORD_LOCKED'],
      ['ok', 'CART_STATUS_MANAGED', 'ok', 'ok'],
    ]);
  });
});
