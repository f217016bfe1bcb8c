/**
 * Bounds on quantities and money through the library, on SQLite and PostgreSQL: record writes
 * (createRecord / updateRecord), fixtures and integration writes refuse an out-of-range number with
 * NUMBER_OUTSIDE_VALID_RANGE naming the field, the stored records stay as they were, and cart
 * totals never become Infinity or NaN — including totals derived from values each in range.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckoutEngine } from '../../src/index.js';
import type { CartProcessor } from '../../src/integrations/contract.js';
import { EngineError } from '../../src/errors.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { cartOn, demoCheckout, FLOW_BACKENDS, rows, sharedEngine } from '../flow/helpers.js';

afterAll(dropTestSchemas);

const TOTALS = ['TotalListPrice', 'TotalProductAmount', 'TotalChargeAmount', 'TotalTaxAmount', 'TotalAdjustmentAmount', 'GrandTotalAmount'];
const MAX = 9_999_999_999_999.99;

/** The rejection of a promise as an EngineError (fails when it resolves). */
async function rejection(p: Promise<unknown>): Promise<EngineError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, 'expected the call to be refused').toBeInstanceOf(EngineError);
  return e as EngineError;
}

/** The cart with its lines and taxes, as stored. */
async function snapshot(engine: CheckoutEngine, cartId: string) {
  const byId = (a: Record<string, unknown>, b: Record<string, unknown>) => String(a.Id).localeCompare(String(b.Id));
  return {
    cart: await engine.getRecord('WebCart', cartId),
    items: (await rows(engine, 'CartItem', { CartId: cartId })).sort(byId),
    taxes: (await rows(engine, 'CartTax', { CartId: cartId })).sort(byId),
  };
}

function expectFiniteTotals(cart: Record<string, unknown>) {
  for (const f of TOTALS) {
    expect(typeof cart[f], f).toBe('number');
    expect(Number.isFinite(cart[f]), `${f} = ${String(cart[f])}`).toBe(true);
    expect(Math.abs(cart[f] as number)).toBeLessThanOrEqual(MAX);
  }
}

describe.each(FLOW_BACKENDS)('number bounds on $name', (backend) => {
  const shared = sharedEngine(backend.location);

  it.each([
    ['-5', -5],
    ['0', 0],
    ['1e21', 1e21],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['0.001', 0.001],
  ])('updateRecord CartItem Quantity %s: NUMBER_OUTSIDE_VALID_RANGE 400 naming Quantity, nothing changes', async (_, q) => {
    const { engine, cartId, as } = await cartOn(shared.get(), { lines: 2 });
    const before = await snapshot(engine, cartId);
    const line = before.items.find((i) => i.Type === 'Product')!;
    const err = await rejection(engine.updateRecord('CartItem', String(line.Id), { Quantity: q }, as));
    expect(err).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', status: 400, fields: ['Quantity'] });
    expect(err.message).toContain('CartItem.Quantity');
    const after = await snapshot(engine, cartId);
    expect(after).toEqual(before);
    expectFiniteTotals(after.cart);
  });

  it('createRecord refuses a line with Quantity 0 or -5 and stores nothing', async () => {
    const { engine, cartId, as } = await cartOn(shared.get(), { lines: 1 });
    const before = await snapshot(engine, cartId);
    const line = before.items.find((i) => i.Type === 'Product')!;
    for (const Quantity of [0, -5, 1e21]) {
      const err = await rejection(
        engine.createRecord(
          'CartItem',
          {
            CartId: cartId,
            CartDeliveryGroupId: line.CartDeliveryGroupId,
            Product2Id: line.Product2Id,
            Name: 'More',
            Sku: line.Sku,
            Quantity,
            SalesPrice: 1,
          },
          as,
        ),
      );
      expect(err).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', status: 400, fields: ['Quantity'] });
    }
    expect(await snapshot(engine, cartId)).toEqual(before);
  });

  it('SalesPrice 1e308, 1e17 and -1e308 are refused even for ModifyAllData; 3 decimals round half-up', async () => {
    const { engine, cartId, adminId } = await cartOn(shared.get(), { lines: 2 });
    const admin = { userId: adminId };
    const before = await snapshot(engine, cartId);
    const line = before.items.find((i) => i.Type === 'Product')!;
    for (const SalesPrice of [1e308, 1e17, -1e308, Infinity]) {
      const err = await rejection(engine.updateRecord('CartItem', String(line.Id), { SalesPrice }, admin));
      expect(err).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', status: 400, fields: ['SalesPrice'] });
    }
    expect(await snapshot(engine, cartId)).toEqual(before);
    // Salesforce rounds currency to the field's scale on save: 10.005 is stored as 10.01.
    await engine.updateRecord('CartItem', String(line.Id), { SalesPrice: 10.005 }, admin);
    const stored = await engine.getRecord('CartItem', String(line.Id));
    expect(stored.SalesPrice).toBe(10.01);
    expect(stored.TotalLineAmount).toBe(Math.round(10.01 * Number(line.Quantity) * 100) / 100);
  });

  it('a derived line or cart total outside the range is refused naming it, each input being in range', async () => {
    const { engine, cartId, adminId } = await cartOn(shared.get(), { lines: 2 });
    const admin = { userId: adminId };
    const before = await snapshot(engine, cartId);
    const [a, b] = before.items.filter((i) => i.Type === 'Product');
    // 9,999,999,999,999.99 × Quantity 2 (or more) doesn't fit TotalLineAmount.
    const qty = Number(a!.Quantity) >= 2 ? Number(a!.Quantity) : 2;
    const line = await rejection(engine.updateRecord('CartItem', String(a!.Id), { SalesPrice: MAX, Quantity: qty }, admin));
    expect(line).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', status: 400, fields: ['TotalLineAmount'] });
    expect(line.message).toContain('CartItem.TotalLineAmount');
    expect(await snapshot(engine, cartId)).toEqual(before);
    // Two lines of 6e12 each fit, their sum doesn't: the second write is refused at the cart total.
    await engine.updateRecord('CartItem', String(a!.Id), { SalesPrice: 6e12, ListPrice: 1, Quantity: 1 }, admin);
    const mid = await snapshot(engine, cartId);
    const cartErr = await rejection(engine.updateRecord('CartItem', String(b!.Id), { SalesPrice: 6e12, Quantity: 1 }, admin));
    expect(cartErr).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', status: 400, fields: ['TotalProductAmount'] });
    expect(cartErr.message).toContain('WebCart.TotalProductAmount');
    expect(await snapshot(engine, cartId)).toEqual(mid);
    expectFiniteTotals(mid.cart);
  });

  it('CartTax amounts: 1e308 refused, and taxes of a line summing past the range are refused', async () => {
    const { engine, cartId, adminId } = await cartOn(shared.get(), { lines: 1 });
    const admin = { userId: adminId };
    const before = await snapshot(engine, cartId);
    const line = before.items.find((i) => i.Type === 'Product')!;
    const tax = (Amount: number) => engine.createRecord('CartTax', { CartItemId: line.Id, Name: 'Tax', Amount }, admin);
    expect(await rejection(tax(1e308))).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', fields: ['Amount'] });
    expect(await snapshot(engine, cartId)).toEqual(before);
    await tax(6e12);
    const mid = await snapshot(engine, cartId);
    const err = await rejection(tax(6e12));
    expect(err).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', status: 400, fields: ['TotalLineTaxAmount'] });
    expect(await snapshot(engine, cartId)).toEqual(mid);
    expectFiniteTotals(mid.cart);
  });

  it('fixtures: an out-of-range number or derived total is INVALID_FIXTURE naming the field, and nothing is stored', async () => {
    const engine = shared.get();
    const { cartId } = await cartOn(engine, { lines: 1 });
    const cart = await engine.getRecord('WebCart', cartId);
    const fixture = (items: Record<string, unknown>[]) => ({
      WebCart: [{ ref: 'boundsCart', Name: 'Bounds', WebStoreId: cart.WebStoreId, AccountId: cart.AccountId, OwnerId: cart.OwnerId }],
      CartDeliveryGroup: [{ ref: 'boundsGroup', CartId: '@boundsCart', Name: 'Default' }],
      CartItem: items.map((i, n) => ({
        CartId: '@boundsCart',
        CartDeliveryGroupId: '@boundsGroup',
        Name: `Line ${n}`,
        Type: 'Product',
        ...i,
      })),
    });
    const carts = async () => (await rows(engine, 'WebCart', { Name: 'Bounds' })).length;
    for (const [items, field] of [
      [[{ Quantity: -5, SalesPrice: 1 }], 'Quantity'],
      [[{ Quantity: 1, SalesPrice: 1e308 }], 'SalesPrice'],
      [[{ Quantity: 1e13, SalesPrice: 2 }], 'Quantity'],
      [[{ Quantity: 1000, SalesPrice: 1e12 }], 'TotalLineAmount'],
      [
        [
          { Quantity: 1, SalesPrice: 6e12 },
          { Quantity: 1, SalesPrice: 6e12 },
        ],
        'TotalProductAmount',
      ],
    ] as const) {
      const err = await rejection(engine.seed(fixture([...items])));
      expect(err).toMatchObject({ code: 'INVALID_FIXTURE', status: 400, fields: [field] });
      expect(err.message).toMatch(/Value outside of valid range on numeric field/);
      expect(await carts()).toBe(0);
    }
  });
});

describe.each(FLOW_BACKENDS)('integration writes out of range on $name', (backend) => {
  /** A pricing integration that sets every product line's SalesPrice to `price`. */
  const pricing = (price: number): CartProcessor => ({
    async startCartProcessAsync(_info, _cartId, data) {
      for (const i of (await data.items()).filter((x) => x.Type !== 'Charge')) data.update('CartItem', String(i.Id), { SalesPrice: price });
      return { status: 'SUCCESS' };
    },
  });

  it.each([
    ['SalesPrice 1e308', 1e308, /CartItem\.SalesPrice/],
    ['SalesPrice × Quantity past the range', MAX, /CartItem\.TotalLineAmount|WebCart\.Total/],
  ])('%s fails the pricing step; lines and totals stay as they were', async (_, price, message) => {
    const { engine, cartId, as } = await demoCheckout(backend.location(), { lines: 3 }, { integrations: { pricing: pricing(price) } });
    try {
      const before = await snapshot(engine, cartId);
      const run = await engine.runCheckout(cartId, { ...as, answers: { poNumber: 'PO-B' } });
      expect(run.status).toBe('error');
      expect(run.errors.join(' ')).toMatch(message);
      const after = await snapshot(engine, cartId);
      expect(after.items.map((i) => [i.Id, i.SalesPrice, i.TotalLineAmount, i.TotalPrice])).toEqual(
        before.items.map((i) => [i.Id, i.SalesPrice, i.TotalLineAmount, i.TotalPrice]),
      );
      expectFiniteTotals(after.cart);
      expect(after.cart.GrandTotalAmount).toBe(before.cart.GrandTotalAmount);
    } finally {
      await engine.close();
    }
  });
});
