/** Issue 17 line rules as pure functions: quantity scale, no line rounding to free, product copies, order lines from Product2. */
import { describe, expect, it } from 'vitest';
import {
  decimalsOf,
  freeLineProblem,
  lineProblem,
  lineProblems,
  quantityScaleOf,
  quantityScaleProblem,
} from '../../src/domain/line-rules.js';
import { checkScaledFields, copiedFieldWrite, writableFields } from '../../src/domain/write-rules.js';
import { mapCartToOrder } from '../../src/domain/cart-to-order.js';
import { OBJECTS } from '../../src/domain/objects.js';
import { validateFields } from '../../src/domain/records.js';

const CartItem = OBJECTS.get('CartItem')!;
const bolt = { Id: '01tBOLT', Name: 'Bolt', StockKeepingUnit: 'B-1' };
const nail = { Id: '01tNAIL', Name: 'Nail', StockKeepingUnit: 'N-1', QuantityScale: 2 };

describe('quantity scale', () => {
  it('defaults to whole units; QuantityScale allows up to 2 decimals', () => {
    expect([
      quantityScaleOf(null),
      quantityScaleOf(bolt),
      quantityScaleOf(nail),
      quantityScaleOf({ QuantityScale: 9 }),
      quantityScaleOf({ QuantityScale: -1 }),
    ]).toEqual([0, 0, 2, 2, 0]);
    expect([decimalsOf(3), decimalsOf(2.5), decimalsOf(0.01), decimalsOf(2.35)]).toEqual([0, 1, 2, 2]);
  });
  it('refuses a quantity with more decimals than the product allows, naming Quantity', () => {
    expect(quantityScaleProblem({ Id: 'i1', Quantity: 0.01 }, bolt)).toMatchObject({
      code: 'QUANTITY_SCALE',
      field: 'Quantity',
      lineId: 'i1',
    });
    expect(quantityScaleProblem({ Quantity: 1.5 }, bolt)!.message).toContain('whole units only');
    expect(quantityScaleProblem({ Quantity: 3 }, bolt)).toBeNull();
    expect(quantityScaleProblem({ Quantity: 0.01 }, nail)).toBeNull();
    expect(quantityScaleProblem({ Quantity: 1.5 }, { QuantityScale: 1 })).toBeNull();
    expect(quantityScaleProblem({ Quantity: 1.25 }, { QuantityScale: 1 })!.message).toContain('at most 1 decimal');
    // Charge lines carry no product scale.
    expect(quantityScaleProblem({ Type: 'Charge', Quantity: 0.5 }, null)).toBeNull();
  });
});

describe('no line rounds to free', () => {
  it('a positive unit price whose line amount rounds to 0.00 is a problem', () => {
    expect(freeLineProblem({ Id: 'i1', Quantity: 0.01, SalesPrice: 0.49 })).toMatchObject({
      code: 'LINE_ROUNDS_TO_FREE',
      field: 'Quantity',
      lineId: 'i1',
    });
    // 0.02 × 0.49 = 0.0098 rounds half-up to 0.01; 0.01 × 0.5 = 0.005 to 0.01.
    expect(freeLineProblem({ Quantity: 0.02, SalesPrice: 0.49 })).toBeNull();
    expect(freeLineProblem({ Quantity: 0.01, SalesPrice: 0.5 })).toBeNull();
    // ListPrice stands in for a missing SalesPrice; an unpriced or zero-priced line is not "rounded to free".
    expect(freeLineProblem({ Quantity: 0.01, ListPrice: 0.49 })).not.toBeNull();
    expect(freeLineProblem({ Quantity: 0.01, SalesPrice: 0 })).toBeNull();
    expect(freeLineProblem({ Quantity: 0.01 })).toBeNull();
    expect(freeLineProblem({ Type: 'Charge', Quantity: 0.01, SalesPrice: 0.49 })).toBeNull();
  });
  it('the exploit: 20 lines of 0.01 units of a 0.49 product are all refused, by scale for a whole-unit product and as free for one sold in hundredths', () => {
    const lines = Array.from({ length: 20 }, (_, i) => ({
      Id: `i${i}`,
      Type: 'Product',
      Product2Id: 'p',
      Quantity: 0.01,
      SalesPrice: 0.49,
    }));
    expect(lineProblems(lines, new Map([['p', bolt]])).map((p) => p.code)).toEqual(Array(20).fill('QUANTITY_SCALE'));
    expect(lineProblems(lines, new Map([['p', nail]])).map((p) => p.code)).toEqual(Array(20).fill('LINE_ROUNDS_TO_FREE'));
    expect(lineProblem({ Quantity: 3, SalesPrice: 0.49 }, bolt)).toBeNull();
  });
  it('order lines: UnitPrice is the price, Delivery Charge lines are skipped', () => {
    const order = [
      { Id: 'o1', Type: 'Order Product', Product2Id: 'p', Quantity: 0.01, UnitPrice: 0.49 },
      { Id: 'o2', Type: 'Delivery Charge', Quantity: 0.01, UnitPrice: 0.49 },
    ];
    expect(lineProblems(order, new Map([['p', nail]]))).toEqual([expect.objectContaining({ lineId: 'o1', code: 'LINE_ROUNDS_TO_FREE' })]);
  });
});

describe('CartItem Name and Sku are copies of the product (write-rules copiedFieldWrite)', () => {
  const sources = { Product2Id: bolt };
  it('stay buyer-writable fields (the buyer may give the product its own values)', () => {
    expect(writableFields(CartItem, 'buyer')).toEqual(expect.arrayContaining(['Name', 'Sku', 'Product2Id', 'Quantity']));
  });
  it("a buyer's create is filled from the product; a conflicting value is refused naming the fields", () => {
    const row = { Product2Id: bolt.Id, Quantity: 1 };
    expect(copiedFieldWrite(CartItem, 'create', 'buyer', row, row, sources)).toEqual({ fill: { Name: 'Bolt', Sku: 'B-1' } });
    const same = { ...row, Name: 'Bolt', Sku: 'B-1' };
    expect(copiedFieldWrite(CartItem, 'create', 'buyer', same, same, sources)).toEqual({ fill: { Name: 'Bolt', Sku: 'B-1' } });
    const spoof = { ...row, Name: 'Gadget', Sku: 'SKU-2' };
    expect(copiedFieldWrite(CartItem, 'create', 'buyer', spoof, spoof, sources)).toEqual({
      refusal: expect.objectContaining({ key: 'FIELD_NOT_WRITABLE', fields: ['Name', 'Sku'] }),
    });
    const none = { Name: 'Gadget', Quantity: 1 };
    expect(copiedFieldWrite(CartItem, 'create', 'buyer', none, none, { Product2Id: null })).toEqual({
      refusal: expect.objectContaining({ key: 'REQUIRED_FIELD_MISSING', fields: ['Product2Id'] }),
    });
  });
  it("a buyer's update can't change them; a product change refills them", () => {
    const stored = { Product2Id: bolt.Id, Name: 'Bolt', Sku: 'B-1', Quantity: 1 };
    const patch = { Sku: 'SKU-2', Name: 'Gadget' };
    expect(copiedFieldWrite(CartItem, 'update', 'buyer', patch, { ...stored, ...patch }, sources)).toEqual({
      refusal: expect.objectContaining({ key: 'FIELD_NOT_WRITABLE', fields: ['Name', 'Sku'] }),
    });
    expect(copiedFieldWrite(CartItem, 'update', 'buyer', { Quantity: 2 }, { ...stored, Quantity: 2 }, sources)).toEqual({ fill: {} });
    expect(
      copiedFieldWrite(CartItem, 'update', 'buyer', { Product2Id: nail.Id }, { ...stored, Product2Id: nail.Id }, { Product2Id: nail }),
    ).toEqual({ fill: { Name: 'Nail', Sku: 'N-1' } });
  });
  it('ModifyAllData keeps what an administrator may do: its values stay, empty ones are filled', () => {
    const admin = { Product2Id: bolt.Id, Name: 'Custom', Quantity: 1 };
    expect(copiedFieldWrite(CartItem, 'create', 'admin', admin, admin, sources)).toEqual({ fill: { Sku: 'B-1' } });
    expect(copiedFieldWrite(CartItem, 'update', 'admin', { Name: 'Gadget' }, { Name: 'Gadget' }, sources)).toEqual({ fill: {} });
  });
  it('a record write may leave Name out when it names the product (it is filled); a fixture may not', () => {
    expect(
      validateFields(
        'CartItem',
        { CartId: '0a6000000000001AAA', CartDeliveryGroupId: '0a7000000000001AAA', Product2Id: '01t000000000001AAA', Quantity: 1 },
        'create',
      ),
    ).toMatchObject({ Quantity: 1 });
    expect(() =>
      validateFields('CartItem', { CartId: '0a6000000000001AAA', CartDeliveryGroupId: '0a7000000000001AAA', Quantity: 1 }, 'create'),
    ).toThrow(/Name/);
    expect(() =>
      validateFields(
        'CartItem',
        { CartId: '0a6000000000001AAA', CartDeliveryGroupId: '0a7000000000001AAA', Product2Id: '01t000000000001AAA', Quantity: 1 },
        'seed',
      ),
    ).toThrow(/Name/);
  });
});

describe('CartItem Quantity follows the product scale (write-rules checkScaledFields)', () => {
  it('refuses a buyer write with too many decimals as QUANTITY_SCALE naming Quantity; ModifyAllData and untouched quantities pass', () => {
    const row = { Product2Id: bolt.Id, Quantity: 0.5 };
    expect(checkScaledFields(CartItem, 'create', 'buyer', row, row, { Product2Id: bolt })).toMatchObject({
      key: 'QUANTITY_SCALE',
      fields: ['Quantity'],
    });
    expect(checkScaledFields(CartItem, 'create', 'buyer', row, row, { Product2Id: nail })).toBeNull();
    expect(checkScaledFields(CartItem, 'create', 'admin', row, row, { Product2Id: bolt })).toBeNull();
    expect(checkScaledFields(CartItem, 'update', 'buyer', { CartDeliveryGroupId: 'g' }, row, { Product2Id: bolt })).toBeNull();
    // Moving a fractional line to a whole-unit product is refused as well.
    expect(checkScaledFields(CartItem, 'update', 'buyer', { Product2Id: bolt.Id }, row, { Product2Id: bolt })).toMatchObject({
      key: 'QUANTITY_SCALE',
    });
  });
});

describe('order lines read their product fields from Product2 (SKU and name spoofing)', () => {
  it("a cart line named 'SKU-2 Gadget' over the Bolt product orders as Bolt, B-1", () => {
    let n = 0;
    const d = mapCartToOrder(
      {
        cart: { Id: '0a6C', AccountId: '001A', WebStoreId: '0ZES' },
        groups: [{ Id: 'g1' }],
        items: [
          {
            Id: 'i1',
            CartDeliveryGroupId: 'g1',
            Product2Id: bolt.Id,
            Name: 'Gadget',
            Sku: 'SKU-2',
            Type: 'Product',
            Quantity: 1,
            SalesPrice: 100,
          },
          {
            Id: 'i2',
            CartDeliveryGroupId: 'g1',
            Product2Id: '01tGONE',
            Name: 'Ghost',
            Sku: 'G-1',
            Type: 'Product',
            Quantity: 1,
            SalesPrice: 1,
          },
          { Id: 'i3', CartDeliveryGroupId: 'g1', Name: 'Shipping', Type: 'Charge', Quantity: 1, SalesPrice: 7 },
        ],
        taxes: [],
        products: new Map([[bolt.Id, bolt]]),
      },
      { now: new Date('2026-11-25T12:00:00Z'), orderReferenceNumber: 'R', mintId: (o) => `${o}#${n++}` },
    );
    expect(d.items.map((i) => [i.Product2Id, i.Description, i.Sku])).toEqual([
      [bolt.Id, 'Bolt', 'B-1'],
      [null, null, null],
      [null, 'Shipping', null],
    ]);
  });
});
