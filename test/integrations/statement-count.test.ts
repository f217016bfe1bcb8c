/**
 * Issue 12: an integration step's storage work doesn't grow with the cart. The calculator steps
 * of a 500-line cart make exactly as many storage calls as those of a 50-line cart, every line
 * being repriced, discounted and taxed (each call is one SQL statement at these sizes: the
 * batched updates and multi-row inserts fit one statement). Counted by a wrapper around the
 * engine's Storage, inside and outside transactions: calls, not milliseconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, type CheckoutEngine } from '../../src/index.js';
import { seedDemoCheckout } from '../../src/demo/run-demo.js';
import { openStorage } from '../../src/storage/index.js';
import type { Storage, StorageOps } from '../../src/storage/port.js';

/** Every call of the Storage port (and of the transactions it opens), counted. */
function counted(storage: Storage, counter: { calls: number }): Storage {
  const wrap = <T extends StorageOps>(ops: T): T =>
    new Proxy(ops, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function') return v;
        if (prop === 'transaction')
          return (fn: (tx: StorageOps) => Promise<unknown>) => (target as unknown as Storage).transaction((tx) => fn(wrap(tx)));
        if (prop === 'migrate' || prop === 'close') return v.bind(target);
        return (...args: unknown[]) => {
          counter.calls++;
          return v.apply(target, args);
        };
      },
    });
  return wrap(storage);
}

const STEPS = ['inventory', 'confirmPrice', 'calculatePromotions', 'shippingCost', 'taxes'] as const;

describe('calculator steps issue O(1) storage calls in the number of cart lines', () => {
  const counter = { calls: 0 };
  let engine: CheckoutEngine;
  beforeAll(async () => {
    engine = await createCheckoutEngine({ storage: counted(await openStorage(':memory:'), counter), onError: () => {} });
  });
  afterAll(async () => {
    await engine?.close();
  });

  /** Storage calls of each calculator step (its claim and runner reads included) for a cart of `lines` lines. */
  async function callsPerStep(lines: number): Promise<Record<string, number>> {
    const { buyerId, cartId } = await seedDemoCheckout(engine, { lines, groups: 2 });
    // Every line's price is stale, so pricing rewrites all of them (and warns for each).
    await engine.core.storage.updateWhere('CartItem', [{ field: 'CartId', op: '=', value: cartId }], { SalesPrice: 1 });
    const out: Record<string, number> = {};
    for (const step of STEPS) {
      const before = counter.calls;
      const run = await engine.runCheckout(cartId, { userId: buyerId, answers: { poNumber: 'PO-C' }, stopAt: step });
      expect(run.status, run.errors.join()).toBe('stopped');
      out[step] = counter.calls - before;
    }
    const storage = engine.admin;
    const byCart = [{ field: 'CartId', op: '=' as const, value: cartId }];
    // The steps did write every line: prices, adjustments, taxes.
    expect(await storage.count('CartItem', [...byCart, { field: 'SalesPrice', op: '=', value: 1 }])).toBe(0);
    expect(await storage.count('CartItem', [...byCart, { field: 'AdjustmentAmount', op: '<', value: 0 }])).toBe(lines);
    expect(await storage.count('CartTax', byCart)).toBeGreaterThanOrEqual(lines);
    expect(await storage.count('CartValidationOutput', [...byCart, { field: 'Level', op: '=', value: 'Warning' }])).toBe(lines);
    return out;
  }

  it('inventory, pricing, promotions, shipping and taxes of 500 lines make as many calls as of 50 lines', async () => {
    const small = await callsPerStep(50);
    const large = await callsPerStep(500);
    expect(large).toEqual(small);
    // Most of a step's calls are the claim, the session's compare-and-set and the runner's reads
    // (about 70; taxes includes the delivery-method screen before it).
    for (const step of STEPS) expect(small[step], step).toBeLessThan(150);
  });
});
