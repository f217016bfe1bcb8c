/**
 * The demo checkout behind `checkout-engine demo`: seeds the demo store (demoFixture) with the
 * records the default integrations read (price book, stock, promotions, tax rates), then drives
 * the demo cart through the whole default flow with `engine.runCheckout` as the demo buyer and
 * prints the trajectory: every state with its operation and timing. On a database that already
 * holds the demo store it adds a fresh cart for the same buyer instead of seeding twice.
 */
import { demoFixture } from './fixture.js';
import type { CheckoutEngine } from '../engine/engine.js';
import type { CheckoutRun } from '../engine/runner.js';
import { EngineError } from '../errors.js';
import { roundMoney } from '../domain/money.js';

/** Where the demo prints (process.stdout or any writable). */
export interface DemoOut {
  write(text: string): unknown;
}

/** Ids the catalog fixture hangs its records on. */
export interface CatalogTargets {
  storeId: string;
  /** Product ids in demoFixture order (product0, product1, …). */
  productIds: string[];
}

/** The demo price of product i (demoFixture prices line i, which uses product i, the same way). */
const demoPrice = (i: number) => roundMoney(5 + ((i * 7.3) % 95));

/**
 * Records the default integrations read, for the demo store: one active price book with an entry
 * per product, ample stock, a 5% cart-wide promotion and a 2.00 line promotion on the first
 * product, and US / California tax rates.
 */
export function demoCatalogFixture(t: CatalogTargets): Record<string, Record<string, unknown>[]> {
  return {
    Pricebook2: [{ ref: 'demoPricebook', Name: 'Demo Price Book', IsActive: true }],
    WebStorePricebook: [{ WebStoreId: t.storeId, Pricebook2Id: '@demoPricebook', IsActive: true }],
    PricebookEntry: t.productIds.map((p, i) => ({ Pricebook2Id: '@demoPricebook', Product2Id: p, UnitPrice: demoPrice(i), IsActive: true })),
    ProductInventory: t.productIds.map((p) => ({ Product2Id: p, QuantityAvailable: 100_000, QuantityReserved: 0 })),
    Promotion: [
      { Name: 'Spring 5% off', IsActive: true, DiscountType: 'Percentage', DiscountValue: 5, WebStoreId: t.storeId },
      ...(t.productIds[0] ? [{ Name: 'Widget 1: 2.00 off', IsActive: true, DiscountType: 'FixedAmount', DiscountValue: 2, Product2Id: t.productIds[0] }] : []),
    ],
    TaxRate: [
      { Name: 'California Sales Tax', Country: 'US', State: 'CA', Rate: 0.0725, IsActive: true },
      { Name: 'US Sales Tax', Country: 'US', Rate: 0.05, IsActive: true },
    ],
  };
}

/** Demo products are SKU-0001 … SKU-0050 (demoFixture's catalog at its largest). */
const CATALOG_SIZE = 50;

/**
 * Makes sure the store has the whole demo catalog: products SKU-0001…SKU-0050, the demo price book
 * linked to the store, and an entry and stock for every product. Returns product ids by index.
 */
async function ensureCatalog(engine: CheckoutEngine, storeId: string): Promise<string[]> {
  const storage = engine.core.storage;
  const ids: string[] = [];
  const missing: Record<string, unknown>[] = [];
  const bySku = new Map((await storage.find('Product2', { where: [{ field: 'StockKeepingUnit', op: 'like', value: 'SKU-%' }] })).map((p) => [String(p.StockKeepingUnit), String(p.Id)]));
  for (let i = 0; i < CATALOG_SIZE; i++) {
    const sku = `SKU-${String(i + 1).padStart(4, '0')}`;
    if (!bySku.has(sku)) missing.push({ ref: `catalogProduct${i}`, Name: `Widget ${i + 1}`, StockKeepingUnit: sku });
  }
  const created = missing.length ? await engine.seed({ Product2: missing }) : {};
  for (let i = 0; i < CATALOG_SIZE; i++) ids.push(bySku.get(`SKU-${String(i + 1).padStart(4, '0')}`) ?? created[`catalogProduct${i}`]!);
  if ((await storage.count('WebStorePricebook', [{ field: 'WebStoreId', op: '=', value: storeId }])) === 0) {
    await engine.seed(demoCatalogFixture({ storeId, productIds: ids }));
    return ids;
  }
  const [link] = await storage.find('WebStorePricebook', { where: [{ field: 'WebStoreId', op: '=', value: storeId }], limit: 1 });
  const priced = new Set((await storage.find('PricebookEntry', { where: [{ field: 'Pricebook2Id', op: '=', value: link!.Pricebook2Id }] })).map((e) => String(e.Product2Id)));
  const stocked = new Set((await storage.find('ProductInventory')).map((e) => String(e.Product2Id)));
  const entries = ids.flatMap((p, i) => (priced.has(p) ? [] : [{ Pricebook2Id: String(link!.Pricebook2Id), Product2Id: p, UnitPrice: demoPrice(i), IsActive: true }]));
  const stock = ids.flatMap((p) => (stocked.has(p) ? [] : [{ Product2Id: p, QuantityAvailable: 100_000, QuantityReserved: 0 }]));
  if (entries.length || stock.length) await engine.seed({ PricebookEntry: entries, ProductInventory: stock });
  return ids;
}

/** Seeds the demo store and its catalog, or a fresh cart when the store exists; returns the buyer and cart ids. */
export async function seedDemoCheckout(engine: CheckoutEngine, opts: { lines?: number; groups?: number } = {}): Promise<{ buyerId: string; cartId: string }> {
  const storage = engine.core.storage;
  const full = demoFixture({ lines: opts.lines ?? 6, groups: opts.groups ?? 2, taxes: false, adjustments: false });
  let [buyer] = await storage.find('User', { where: [{ field: 'Username', op: '=', value: 'buyer@acme.example' }], limit: 1 });
  if (!buyer) {
    // The store, its users and delivery methods come from demoFixture; the cart is added below like any later one.
    const store = Object.fromEntries(Object.entries(full).filter(([type]) => !['WebCart', 'CartDeliveryGroup', 'CartItem', 'CartTax', 'Product2'].includes(type)));
    await engine.seed(store);
    [buyer] = await storage.find('User', { where: [{ field: 'Username', op: '=', value: 'buyer@acme.example' }], limit: 1 });
  }
  const [store] = await storage.find('WebStore', { where: [{ field: 'Name', op: '=', value: 'Demo B2B Store' }], limit: 1 });
  if (!store || !buyer) throw new EngineError('NOT_FOUND', "The database has the demo buyer but no 'Demo B2B Store'.");
  const productIds = await ensureCatalog(engine, String(store.Id));
  const refs: Record<string, string> = { '@buyer': String(buyer.Id), '@acme': String(buyer.AccountId), '@store': String(store.Id) };
  productIds.forEach((id, i) => (refs[`@product${i}`] = id));
  const fixture: Record<string, Record<string, unknown>[]> = {};
  for (const type of ['WebCart', 'CartDeliveryGroup', 'CartItem']) {
    fixture[type] = (full[type] ?? []).map((rec) =>
      // The delivery method is the buyer's choice during checkout, not preset on the groups.
      Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, k === 'DeliveryMethodId' ? null : typeof v === 'string' && v in refs ? refs[v] : v])),
    );
  }
  const ids = await engine.seed(fixture);
  return { buyerId: String(buyer.Id), cartId: ids.cart! };
}

/** Formats a run's trajectory as aligned text lines. */
export function formatTrajectory(run: CheckoutRun): string[] {
  return run.trajectory.map((t, i) => {
    const n = String(i + 1).padStart(2);
    return `${n}. ${t.state.padEnd(26)} ${t.kind.padEnd(6)} ${t.status.padEnd(9)} ${`${t.durationMs.toFixed(1)} ms`.padStart(10)}  ${t.operationId ?? '—'.padEnd(18)}  ${t.calls.join(' + ')}`;
  });
}

/** Runs the demo checkout on `engine` and prints its trajectory; returns the run. */
export async function runDemo(engine: CheckoutEngine, out: DemoOut): Promise<CheckoutRun> {
  const say = (s: string) => out.write(`${s}\n`);
  const { buyerId, cartId } = await seedDemoCheckout(engine);
  say(`Demo store ready: cart ${cartId}, buyer buyer@acme.example (${buyerId}).`);
  say('Running the default checkout flow (engine.runCheckout) as the buyer…');
  const run = await engine.runCheckout(cartId, {
    userId: buyerId,
    answers: {
      deliveryAddress: { DeliverToName: 'Acme Receiving', DeliverToStreet: '500 Harbor Way', DeliverToCity: 'Oakland', DeliverToState: 'CA', DeliverToPostalCode: '94607', DeliverToCountry: 'US' },
      paymentMethodId: 'pm_test_visa',
      billingAddress: { BillingStreet: '1 Market St', BillingCity: 'San Francisco', BillingState: 'CA', BillingPostalCode: '94105', BillingCountry: 'US' },
    },
  });
  say('');
  say(`    ${'state'.padEnd(26)} ${'kind'.padEnd(6)} ${'status'.padEnd(9)} ${'time'.padStart(10)}  ${'operation'.padEnd(18)}  calls`);
  for (const line of formatTrajectory(run)) say(line);
  say('');
  if (run.status === 'error') {
    say(`The checkout stopped in error: ${run.errors.join(' | ')}`);
    return run;
  }
  const order = await engine.getRecord('Order', run.orderId!, { userId: buyerId });
  const cart = await engine.getRecord('WebCart', cartId, { userId: buyerId });
  say(`Order ${String(order.Id)}: Status ${String(order.Status)}, GrandTotalAmount ${String(order.GrandTotalAmount)}, payment ${String(order.PaymentAuthorizationCode ?? '—')}`);
  say(`OrderSummary ${run.orderSummaryId}; cart ${cartId} is ${String(cart.Status)}; session ${run.sessionId} is ${run.state}.`);
  return run;
}
