/** The completion invariants as pure checks over facts (no database). */
import { describe, expect, it } from 'vitest';
import {
  COMPLETION_INVARIANTS,
  computationDigest,
  firstBrokenInvariant,
  parseStamps,
  stampComputation,
  type CompletionFacts,
  type CompletionStamps,
  type Computation,
} from '../../src/domain/completion-invariants.js';
import { ERRORS } from '../../src/errors.js';

const ALL: Computation[] = ['inventory', 'pricing', 'promotions', 'shipping', 'taxes'];
const group = {
  Id: 'g1',
  Name: 'Dock',
  DeliverToStreet: '1 Harbor Way',
  DeliverToCity: 'Oakland',
  DeliverToCountry: 'US',
  DeliveryMethodId: 'm1',
};
const items = [
  {
    Id: 'i1',
    Type: 'Product',
    Product2Id: 'p1',
    Quantity: 2,
    SalesPrice: 10,
    ListPrice: 12,
    AdjustmentAmount: 0,
    TotalPrice: 20,
    CartDeliveryGroupId: 'g1',
  },
  {
    Id: 'i2',
    Type: 'Charge',
    Quantity: 1,
    SalesPrice: 9.99,
    ListPrice: 9.99,
    AdjustmentAmount: 0,
    TotalPrice: 9.99,
    CartDeliveryGroupId: 'g1',
  },
];
const taxes = [{ Id: 't1', CartItemId: 'i1', Amount: 1.6 }];

function stamped(f: Omit<CompletionFacts, 'stamps'>, extra: CompletionStamps = {}): CompletionFacts {
  const stamps = ALL.reduce<CompletionStamps>((s, c) => stampComputation(s, c, 'now', f.items, f.groups, f.taxes), extra);
  return { ...f, stamps };
}

/** A cart fit for an order: every invariant holds. */
function good(point: 'cartToOrder' | 'activate' = 'activate', over: Partial<CompletionFacts> = {}): CompletionFacts {
  const base = {
    point,
    cartId: 'c1',
    items,
    groups: [group],
    taxes,
    flowComputes: ALL,
    order: point === 'activate' ? { Id: 'o1', GrandTotalAmount: 31.59, PoNumber: 'PO-1', PaymentAuthorizationCode: null } : null,
    paymentRequiredAtZero: false,
    inventories: [{ Id: 'inv1', Product2Id: 'p1', QuantityAvailable: 5, QuantityReserved: 2 }],
    holds: [{ Id: 'r1', ProductInventoryId: 'inv1', Quantity: 2, Status: 'Held' }],
    products: new Map([['p1', { Id: 'p1', Name: 'Widget', StockKeepingUnit: 'W-1', QuantityScale: 0 }]]),
  };
  return { ...stamped(base), ...over };
}

const broken = (f: CompletionFacts) => firstBrokenInvariant(f)?.invariant.id ?? null;

describe('completion invariants (pure)', () => {
  it('the table: unique ids, a declared error of its own each, checked at cartToOrder and/or activate', () => {
    const ids = COMPLETION_INVARIANTS.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    const errors = COMPLETION_INVARIANTS.map((i) => i.error);
    expect(new Set(errors).size).toBe(errors.length);
    expect(new Set(errors.map((e) => ERRORS[e].code)).size).toBe(errors.length);
    for (const i of COMPLETION_INVARIANTS) {
      expect(i.when.length).toBeGreaterThan(0);
      for (const w of i.when) expect(['cartToOrder', 'activate']).toContain(w);
    }
  });

  it('a complete cart breaks none, at either point', () => {
    expect(broken(good('cartToOrder'))).toBeNull();
    expect(broken(good('activate'))).toBeNull();
  });

  it('lines-in-groups: a line naming a deleted group, or none', () => {
    expect(broken(good('activate', { groups: [] }))).toBe('lines-in-groups');
    const orphan = [...items, { Id: 'i3', Type: 'Product', Product2Id: 'p2', Quantity: 1, CartDeliveryGroupId: null }];
    expect(firstBrokenInvariant(good('cartToOrder', { items: orphan }))).toMatchObject({
      invariant: { id: 'lines-in-groups' },
      problem: { relatedEntityId: 'i3' },
    });
  });

  it("line-quantity-scale: a quantity with more decimals than its product's QuantityScale", () => {
    const half = [{ ...items[0]!, Quantity: 1.5 }, items[1]!];
    expect(firstBrokenInvariant(good('cartToOrder', { items: half }))).toMatchObject({
      invariant: { id: 'line-quantity-scale' },
      problem: { relatedEntityId: 'i1' },
    });
    const byWeight = new Map([['p1', { Id: 'p1', Name: 'Rope', StockKeepingUnit: 'R-1', QuantityScale: 1 }]]);
    expect(firstBrokenInvariant(good('cartToOrder', { items: half, products: byWeight }))?.invariant.id).not.toBe('line-quantity-scale');
  });

  it('line-not-free-by-rounding: a priced line whose amount rounds to 0.00', () => {
    const tiny = [{ ...items[0]!, Quantity: 0.01, SalesPrice: 0.49 }, items[1]!];
    const fine = new Map([['p1', { Id: 'p1', Name: 'Grain', StockKeepingUnit: 'G-1', QuantityScale: 2 }]]);
    expect(firstBrokenInvariant(good('activate', { items: tiny, products: fine }))).toMatchObject({
      invariant: { id: 'line-not-free-by-rounding' },
      problem: { relatedEntityId: 'i1' },
    });
    const free = [{ ...items[0]!, Quantity: 0.01, SalesPrice: 0 }, items[1]!];
    expect(firstBrokenInvariant(good('activate', { items: free, products: fine }))?.invariant.id).not.toBe('line-not-free-by-rounding');
  });

  it('ship-to-address: a group with product lines needs a country and a street or city', () => {
    expect(broken(good('cartToOrder', { groups: [{ ...group, DeliverToStreet: null, DeliverToCity: '' }] }))).toBe('ship-to-address');
    expect(broken(stamped(good('cartToOrder', { groups: [{ ...group, DeliverToStreet: null }] })))).toBeNull();
    expect(broken(good('cartToOrder', { groups: [{ ...group, DeliverToCountry: '  ' }] }))).toBe('ship-to-address');
    // A group without product lines needs nothing.
    const f = good('cartToOrder', { groups: [group, { Id: 'g2', Name: 'Empty' }] });
    expect(broken(stamped(f))).toBeNull();
  });

  it('delivery-method-chosen: a chosen method and its charge line', () => {
    expect(broken(good('cartToOrder', { groups: [{ ...group, DeliveryMethodId: null }] }))).toBe('delivery-method-chosen');
    expect(broken(good('cartToOrder', { items: items.filter((i) => i.Type !== 'Charge') }))).toBe('delivery-method-chosen');
  });

  it('computations-current: a change after a stamp, or no stamp, means recalculate; only what the flow computes is asked', () => {
    const f = good('cartToOrder');
    const cheaper = items.map((i) => (i.Id === 'i1' ? { ...i, SalesPrice: 1, TotalPrice: 2 } : i));
    const stale = firstBrokenInvariant({ ...f, items: cheaper });
    expect(stale?.invariant.id).toBe('computations-current');
    expect(stale?.problem.detail).toMatch(/pricing, promotions, taxes were not computed/);
    // A deleted tax line makes taxes stale only.
    expect(firstBrokenInvariant({ ...f, taxes: [] })?.problem.detail).toMatch(/^taxes was not computed/);
    // A moved address makes shipping and taxes stale.
    expect(firstBrokenInvariant({ ...f, groups: [{ ...group, DeliverToStreet: '2 Other St' }] })?.problem.detail).toMatch(
      /^shipping, taxes were/,
    );
    // Never stamped.
    expect(broken({ ...f, stamps: {} })).toBe('computations-current');
    // A flow that computes nothing itself (the store's own code) asks for no stamp.
    expect(broken({ ...f, stamps: {}, flowComputes: [] })).toBeNull();
    // The digest ignores row order and reads numbers the same whatever their stored form.
    expect(computationDigest('taxes', [...items].reverse(), [group], taxes)).toBe(computationDigest('taxes', items, [group], taxes));
    expect(
      computationDigest(
        'inventory',
        items.map((i) => ({ ...i, Quantity: String(i.Quantity) })),
        [],
        [],
      ),
    ).toBe(computationDigest('inventory', items, [], []));
  });

  it('stock-held: tracked lines need their quantity held; a flow without an inventory step needs it available at Cart to Order', () => {
    expect(broken(good('activate', { holds: [] }))).toBe('stock-held');
    expect(broken(good('activate', { holds: [{ ProductInventoryId: 'inv1', Quantity: 1, Status: 'Held' }] }))).toBe('stock-held');
    // Untracked products (no inventory row) need nothing.
    expect(broken(good('activate', { holds: [], inventories: [] }))).toBeNull();
    const noStep = ALL.filter((c) => c !== 'inventory');
    expect(broken(good('cartToOrder', { holds: [], flowComputes: noStep }))).toBeNull();
    expect(
      broken(
        good('cartToOrder', {
          holds: [],
          flowComputes: noStep,
          inventories: [{ Id: 'inv1', Product2Id: 'p1', QuantityAvailable: 5, QuantityReserved: 4 }],
        }),
      ),
    ).toBe('stock-held');
    expect(broken(good('activate', { holds: [], flowComputes: noStep }))).toBe('stock-held');
  });

  it('payment-settled: an authorization for the current total, a PO number, or a total of 0 (unless the store requires payment)', () => {
    const order = { Id: 'o1', GrandTotalAmount: 31.59, PoNumber: null, PaymentAuthorizationCode: 'AUTH-1' };
    const payment = { orderId: 'o1', amount: 31.59, authorizationCode: 'AUTH-1' };
    const f = good('activate', { order });
    expect(broken(f)).toBe('payment-settled');
    expect(broken({ ...f, stamps: { ...f.stamps, payment } })).toBeNull();
    expect(broken({ ...f, stamps: { ...f.stamps, payment: { ...payment, amount: 10 } } })).toBe('payment-settled');
    expect(broken({ ...f, stamps: { ...f.stamps, payment: { ...payment, orderId: 'o2' } } })).toBe('payment-settled');
    expect(broken({ ...f, order: { ...order, PoNumber: 'PO-9' } })).toBeNull();
    const free = { ...f, order: { ...order, GrandTotalAmount: 0, PaymentAuthorizationCode: null } };
    expect(broken(free)).toBeNull();
    expect(broken({ ...free, paymentRequiredAtZero: true })).toBe('payment-settled');
    // Not asked at Cart to Order: there is no order to pay yet.
    expect(COMPLETION_INVARIANTS.find((i) => i.id === 'payment-settled')!.when).toEqual(['activate']);
  });

  it('stored stamps: anything unreadable is no stamps', () => {
    expect(parseStamps(null)).toEqual({});
    expect(parseStamps('not json')).toEqual({});
    expect(parseStamps('[1]')).toEqual({});
    expect(parseStamps('{"payment":{"orderId":"o1"}}')).toEqual({ payment: { orderId: 'o1' } });
  });
});

describe('docs/guarantees.md lists the completion invariants', () => {
  it('its table equals COMPLETION_INVARIANTS (ids, names, points, codes), in order', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(new URL('../../docs/guarantees.md', import.meta.url), 'utf8');
    const block = doc.split('<!-- completion-invariants:start -->')[1]!.split('<!-- completion-invariants:end -->')[0]!;
    const rows = block
      .trim()
      .split('\n')
      .slice(2)
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim().replace(/`/g, '')),
      );
    expect(rows).toEqual(COMPLETION_INVARIANTS.map((i) => [i.id, i.name, i.when.join(', '), ERRORS[i.error].code]));
  });
});
