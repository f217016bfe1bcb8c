/** Cart → draft Order mapping and money rules, as pure functions. */
import { describe, expect, it } from 'vitest';
import { mapCartToOrder } from '../../src/domain/cart-to-order.js';
import { deriveCartLine, rollUpCart, roundMoney, sumMoney } from '../../src/domain/money.js';

describe('money', () => {
  it('rounds half away from zero to 2 decimals without binary surprises', () => {
    expect([roundMoney(1.005), roundMoney(2.675), roundMoney(-1.005), roundMoney(0.125), roundMoney(-0.001), roundMoney(10)]).toEqual([
      1.01, 2.68, -1.01, 0.13, 0, 10,
    ]);
  });
  it('sums in cents so totals never drift', () => {
    expect(sumMoney(Array.from({ length: 1000 }, () => 0.1))).toBe(100);
    expect(sumMoney([0.1, 0.2, null, undefined])).toBe(0.3);
  });
  it('derives line totals and rolls a cart up', () => {
    expect(deriveCartLine({ Quantity: 3, SalesPrice: 9.99, ListPrice: 12.5, AdjustmentAmount: -3 })).toEqual({
      TotalLineAmount: 29.97,
      TotalListPrice: 37.5,
      TotalPrice: 26.97,
    });
    expect(deriveCartLine({ Quantity: 2, ListPrice: 5 })).toEqual({ TotalLineAmount: 10, TotalListPrice: 10, TotalPrice: 10 });
    const totals = rollUpCart([
      { Type: 'Product', TotalPrice: 26.97, TotalListPrice: 37.5, AdjustmentAmount: -3, TotalLineTaxAmount: 2.16, Product2Id: 'p1' },
      { Type: 'Product', TotalPrice: 10, TotalListPrice: 10, AdjustmentAmount: 0, TotalLineTaxAmount: 0.8, Product2Id: 'p2' },
      { Type: 'Charge', TotalPrice: 9.99, AdjustmentAmount: 0, TotalLineTaxAmount: 0.8 },
    ]);
    expect(totals).toEqual({
      TotalListPrice: 47.5,
      TotalProductAmount: 36.97,
      TotalChargeAmount: 9.99,
      TotalTaxAmount: 3.76,
      TotalAdjustmentAmount: -3,
      GrandTotalAmount: 50.72,
      UniqueProductCount: 2,
    });
  });
});

describe('mapCartToOrder', () => {
  let n = 0;
  const ctx = { now: new Date('2026-11-25T12:30:00Z'), orderReferenceNumber: '2z9SESSION', mintId: (o: string) => `${o}#${n++}` };
  const cart = {
    Id: '0a6C',
    AccountId: '001A',
    OwnerId: '005U',
    WebStoreId: '0ZES',
    PoNumber: 'PO-7',
    CurrencyIsoCode: 'EUR',
    BillingStreet: '1 Main',
    BillingCity: 'Lyon',
    BillingState: null,
    BillingPostalCode: '69001',
    BillingCountry: 'FR',
  };
  const groups = [
    {
      Id: 'g1',
      Name: 'Dock',
      DeliverToName: 'Dock A',
      DeliverToStreet: '2 Quai',
      DeliverToCity: 'Lyon',
      DeliverToCountry: 'FR',
      DeliveryMethodId: '2DmM',
      ShippingInstructions: 'Back door',
      DesiredDeliveryDate: '2026-12-01',
    },
    { Id: 'g2', Name: 'Office', DeliverToCity: 'Paris', DeliverToCountry: 'FR' },
  ];
  const items = [
    {
      Id: 'i1',
      CartDeliveryGroupId: 'g1',
      Product2Id: 'p1',
      Name: 'Bolt',
      Sku: 'B-1',
      Type: 'Product',
      Quantity: 4,
      ListPrice: 3,
      SalesPrice: 2.5,
      AdjustmentAmount: -1,
      TotalLineAmount: 10,
      TotalPrice: 9,
    },
    {
      Id: 'i2',
      CartDeliveryGroupId: 'g2',
      Product2Id: 'p2',
      Name: 'Nut',
      Type: 'Product',
      Quantity: 1,
      ListPrice: 5,
      SalesPrice: null,
      AdjustmentAmount: 0,
      TotalLineAmount: 5,
      TotalPrice: 5,
    },
    {
      Id: 'i3',
      CartDeliveryGroupId: 'g1',
      Name: 'Shipping',
      Type: 'Charge',
      Quantity: 1,
      SalesPrice: 7,
      AdjustmentAmount: 0,
      TotalLineAmount: 7,
      TotalPrice: 7,
    },
  ];
  const taxes = [
    {
      Id: 't1',
      CartItemId: 'i1',
      Name: 'VAT',
      Amount: 1.8,
      TaxRate: 0.2,
      TaxType: 'Actual',
      TaxCalculationDate: '2026-11-25T00:00:00.000Z',
    },
    { Id: 't2', CartItemId: 'i3', Name: 'VAT', Amount: 1.4, TaxRate: 0.2, TaxType: 'Estimated' },
  ];
  // The order line's product fields come from the Product2 records, not from the cart line's Name and Sku.
  const products = new Map([
    ['p1', { Id: 'p1', Name: 'Bolt', StockKeepingUnit: 'B-1' }],
    ['p2', { Id: 'p2', Name: 'Nut', StockKeepingUnit: 'N-1' }],
  ]);
  const d = mapCartToOrder({ cart, groups, items, taxes, products }, ctx);

  it('maps the header: account, owner, store, PO, billing, currency, Draft, dates, reference number', () => {
    expect(d.order).toMatchObject({
      AccountId: '001A',
      OwnerId: '005U',
      SalesStoreId: '0ZES',
      Status: 'Draft',
      PoNumber: 'PO-7',
      CurrencyIsoCode: 'EUR',
      BillingStreet: '1 Main',
      BillingCity: 'Lyon',
      BillingPostalCode: '69001',
      BillingCountry: 'FR',
      EffectiveDate: '2026-11-25',
      OrderedDate: '2026-11-25T12:30:00.000Z',
      OrderReferenceNumber: '2z9SESSION',
      CartId: '0a6C',
    });
  });

  it('maps delivery groups with address, method, instructions and date', () => {
    expect(d.deliveryGroups).toHaveLength(2);
    expect(d.deliveryGroups[0]).toMatchObject({
      OrderId: d.order.Id,
      DeliverToName: 'Dock A',
      DeliverToStreet: '2 Quai',
      DeliverToCity: 'Lyon',
      DeliverToCountry: 'FR',
      OrderDeliveryMethodId: '2DmM',
      DeliveryInstructions: 'Back door',
      DesiredDeliveryDate: '2026-12-01',
      CartDeliveryGroupId: 'g1',
    });
    expect(d.deliveryGroups[1]).toMatchObject({ DeliverToName: 'Office', DeliverToCity: 'Paris', OrderDeliveryMethodId: null });
  });

  it('maps product lines to Order Product and charges to Delivery Charge, in their groups', () => {
    expect(d.items.map((i) => [i.Type, i.Quantity, i.UnitPrice, i.TotalLineAmount, i.TotalAdjustmentAmount, i.TotalTaxAmount])).toEqual([
      ['Order Product', 4, 2.5, 10, -1, 1.8],
      ['Order Product', 1, 5, 5, 0, 0],
      ['Delivery Charge', 1, 7, 7, 0, 1.4],
    ]);
    expect(d.items.map((i) => i.OrderDeliveryGroupId)).toEqual([d.deliveryGroups[0]!.Id, d.deliveryGroups[1]!.Id, d.deliveryGroups[0]!.Id]);
    expect(d.items[0]).toMatchObject({ Product2Id: 'p1', Sku: 'B-1', ListPrice: 3, Description: 'Bolt', CartItemId: 'i1' });
  });

  it('maps taxes and non-zero adjustments to line items of their order item', () => {
    expect(d.taxLines.map((t) => [t.OrderItemId, t.Name, t.Amount, t.Rate, t.Type])).toEqual([
      [d.items[0]!.Id, 'VAT', 1.8, 0.2, 'Actual'],
      [d.items[2]!.Id, 'VAT', 1.4, 0.2, 'Estimated'],
    ]);
    expect(d.adjustmentLines.map((a) => [a.OrderItemId, a.Name, a.Amount])).toEqual([[d.items[0]!.Id, 'Price Adjustment', -1]]);
  });

  it('totals equal the cart’s roll-ups', () => {
    const cartTotals = rollUpCart(
      items.map((i) => ({ ...i, TotalLineTaxAmount: taxes.filter((t) => t.CartItemId === i.Id).reduce((s, t) => s + t.Amount, 0) })),
    );
    expect(d.order).toMatchObject({
      TotalAdjustedProductAmount: cartTotals.TotalProductAmount,
      TotalAdjustedDeliveryAmount: cartTotals.TotalChargeAmount,
      TotalTaxAmount: cartTotals.TotalTaxAmount,
      GrandTotalAmount: cartTotals.GrandTotalAmount,
      TotalAmount: 21,
    });
    expect(cartTotals.GrandTotalAmount).toBe(24.2);
  });
});

describe('mapCartToOrder carries the object reference fields', () => {
  const ctx = { now: new Date('2026-11-25T12:30:00Z'), orderReferenceNumber: 'REF', mintId: (o: string) => `${o}#1` };
  const geo = { Latitude: 45.764, Longitude: 4.8357, GeocodeAccuracy: 'Address' };
  const cart = {
    Id: '0a6C',
    AccountId: '001A',
    WebStoreId: '0ZES',
    ...Object.fromEntries(Object.entries(geo).map(([k, v]) => [`Billing${k}`, v])),
  };
  const groups = [
    {
      Id: 'g1',
      CompanyName: 'Acme SARL',
      DeliverToCity: 'Lyon',
      ...Object.fromEntries(Object.entries(geo).map(([k, v]) => [`DeliverTo${k}`, v])),
    },
  ];
  const items = [
    { Id: 'i1', CartDeliveryGroupId: 'g1', Type: 'Product', Quantity: 1, SalesPrice: 10, TotalLineAmount: 10, TotalPrice: 10 },
  ];
  const taxes = [
    { Id: 't1', CartItemId: 'i1', Name: 'VAT', Amount: 2, TaxRate: 0.2, TaxType: 'Actual', TaxCalculationDate: '2026-11-24T23:00:00.000Z' },
    { Id: 't2', CartItemId: 'i1', Name: 'Eco', Amount: 0.5, TaxType: 'Estimated' },
  ];
  const d = mapCartToOrder({ cart, groups, items, taxes, products: new Map() }, ctx);

  it('billing and delivery geolocation, and the delivery company name', () => {
    expect(d.order).toMatchObject({ BillingLatitude: 45.764, BillingLongitude: 4.8357, BillingGeocodeAccuracy: 'Address' });
    expect(d.deliveryGroups[0]).toMatchObject({
      DeliverToLatitude: 45.764,
      DeliverToLongitude: 4.8357,
      DeliverToGeocodeAccuracy: 'Address',
      DeliverToCompanyName: 'Acme SARL',
    });
    expect(d.deliveryGroups[0]).not.toHaveProperty('CompanyName');
  });

  it('tax lines have Rate and a TaxEffectiveDate (a date: the calculation date, else the order date)', () => {
    expect(d.taxLines.map((t) => [t.Rate, t.TaxEffectiveDate, t.Type])).toEqual([
      [0.2, '2026-11-24', 'Actual'],
      [null, '2026-11-25', 'Estimated'],
    ]);
    expect(d.taxLines[0]).not.toHaveProperty('TaxeDate');
  });
});
