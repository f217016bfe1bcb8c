/** Demo carts for the benchmarks that run many whole checkouts (scale, pg-wake, pg-profile). */
import type { CheckoutEngine } from '../src/engine/engine.js';
import { demoFixture } from '../src/demo/fixture.js';
import { seedDemoCheckout } from '../src/demo/run-demo.js';

/**
 * Seeds the demo store and `total` carts of `lines` lines in one delivery group (not timed); returns
 * the buyer and the carts' ids. Cart k buys its own products, rotating through the catalog, so
 * checkouts in flight together don't reserve stock on the same ProductInventory rows.
 */
export async function seedCarts(seeder: CheckoutEngine, lines: number, total: number): Promise<{ buyerId: string; carts: string[] }> {
  const first = await seedDemoCheckout(seeder, { lines, groups: 1 });
  const carts = [first.cartId];
  const s = seeder.core.storage;
  const products = (
    await s.find('Product2', {
      where: [{ field: 'StockKeepingUnit', op: 'like', value: 'SKU-%' }],
      orderBy: [{ field: 'StockKeepingUnit', direction: 'asc' }],
    })
  ).map((p) => String(p.Id));
  const [store] = await s.find('WebStore', { where: [{ field: 'Name', op: '=', value: 'Demo B2B Store' }], limit: 1 });
  const [user] = await s.find('User', { where: [{ field: 'Id', op: '=', value: first.buyerId }] });
  const template = demoFixture({ lines, groups: 1, taxes: false, adjustments: false });
  for (let k = 1; k < total; k++) {
    const refs: Record<string, string> = { '@buyer': first.buyerId, '@acme': String(user!.AccountId), '@store': String(store!.Id) };
    for (let j = 0; j < lines; j++) refs[`@product${j}`] = products[(k * lines + j) % products.length]!;
    const fixture: Record<string, Record<string, unknown>[]> = {};
    for (const type of ['WebCart', 'CartDeliveryGroup', 'CartItem']) {
      fixture[type] = (template[type] ?? []).map((rec) =>
        Object.fromEntries(
          Object.entries(rec).map(([f, v]) => [f, f === 'DeliveryMethodId' ? null : typeof v === 'string' && v in refs ? refs[v] : v]),
        ),
      );
    }
    carts.push((await seeder.seed(fixture)).cart!);
  }
  return { buyerId: first.buyerId, carts };
}
