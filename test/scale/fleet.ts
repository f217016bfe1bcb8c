/**
 * A demo store with many carts: the demo fixture's store, buyer and catalog once, and its cart
 * (delivery groups, lines, taxes) cloned `carts` times for the same buyer. Used by the
 * multi-process contention test and by bench/scale.ts.
 */
import { demoFixture, type DemoOptions } from '../../src/demo/fixture.js';

const PER_CART = ['WebCart', 'CartDeliveryGroup', 'CartItem', 'CartTax', 'CartCheckoutSession'] as const;
const CART_REF = /^@?(cart|session|group\d+|item\d+|charge\d+)$/;

/**
 * The fixture and the handle of every cart (`cart_0`…). With `sessionState`, each cart has a seeded
 * session there (`session_0`…), which the seed stamps as computed and whose stock it holds.
 */
export function fleetFixture(
  carts: number,
  opts: DemoOptions = {},
): { fixture: Record<string, Record<string, unknown>[]>; cartRefs: string[] } {
  const base = demoFixture(opts);
  const fixture: Record<string, Record<string, unknown>[]> = {};
  for (const [type, rows] of Object.entries(base)) if (!PER_CART.includes(type as never)) fixture[type] = rows;
  const rename = (v: unknown, k: number) => (typeof v === 'string' && CART_REF.test(v) ? `${v}_${k}` : v);
  for (const type of PER_CART) {
    fixture[type] = [];
    for (let k = 0; k < carts; k++) {
      for (const row of base[type] ?? []) {
        const copy: Record<string, unknown> = {};
        for (const [f, v] of Object.entries(row)) copy[f] = rename(v, k);
        if (type === 'WebCart') copy.Name = `Cart ${k + 1}`;
        fixture[type]!.push(copy);
      }
    }
  }
  return { fixture, cartRefs: Array.from({ length: carts }, (_, k) => `cart_${k}`) };
}
