/**
 * The demo checkout behind `checkout-engine demo`: seeds the demo store (demoFixture) with the
 * records the default integrations read (price book, stock, promotions, tax rates), then drives
 * the demo cart through the whole default flow with `engine.runCheckout` as the demo buyer and
 * prints the trajectory: every state with its operation and timing. On a database that already
 * holds the demo store it adds a fresh cart for the same buyer instead of seeding twice.
 */
import {
  DEMO_DESCRIPTION,
  demoCatalogFixture,
  demoFixture,
  demoPrice,
  demoProductMedia,
  demoSku,
  STANDARD_MEDIA_GROUPS,
} from './fixture.js';

export { demoCatalogFixture, type CatalogTargets } from './fixture.js';
import type { CheckoutEngine } from '../engine/engine.js';
import type { CheckoutAnswers, CheckoutRun } from '../engine/checkout-runner.js';
import { EngineError } from '../errors.js';

/** Where the demo prints (process.stdout or any writable). */
export interface DemoOut {
  write(text: string): unknown;
}

/** Demo products are SKU-0001 … SKU-0050 (demoFixture's catalog at its largest). */
const CATALOG_SIZE = 50;

/**
 * Makes sure the store has the whole demo catalog: products SKU-0001…SKU-0050, the demo price book
 * linked to the store, an entry and stock for every product, and the demo categories with every
 * product in one. Returns product ids by index.
 */
async function ensureCatalog(engine: CheckoutEngine, storeId: string): Promise<string[]> {
  const storage = engine.core.storage;
  const ids: string[] = [];
  const missing: Record<string, unknown>[] = [];
  const bySku = new Map(
    (await storage.find('Product2', { where: [{ field: 'StockKeepingUnit', op: 'like', value: 'SKU-%' }] })).map((p) => [
      String(p.StockKeepingUnit),
      String(p.Id),
    ]),
  );
  for (let i = 0; i < CATALOG_SIZE; i++) {
    const sku = `SKU-${String(i + 1).padStart(4, '0')}`;
    if (!bySku.has(sku))
      missing.push({ ref: `catalogProduct${i}`, Name: `Widget ${i + 1}`, StockKeepingUnit: sku, Description: DEMO_DESCRIPTION });
  }
  const created = missing.length ? await engine.seed({ Product2: missing }) : {};
  for (let i = 0; i < CATALOG_SIZE; i++) ids.push(bySku.get(`SKU-${String(i + 1).padStart(4, '0')}`) ?? created[`catalogProduct${i}`]!);
  if ((await storage.count('WebStorePricebook', [{ field: 'WebStoreId', op: '=', value: storeId }])) === 0) {
    await engine.seed(demoCatalogFixture({ storeId, productIds: ids }));
    return ids;
  }
  const [link] = await storage.find('WebStorePricebook', { where: [{ field: 'WebStoreId', op: '=', value: storeId }], limit: 1 });
  const priced = new Set(
    (await storage.find('PricebookEntry', { where: [{ field: 'Pricebook2Id', op: '=', value: link!.Pricebook2Id }] })).map((e) =>
      String(e.Product2Id),
    ),
  );
  const stocked = new Set((await storage.find('ProductInventory')).map((e) => String(e.Product2Id)));
  const entries = ids.flatMap((p, i) =>
    priced.has(p) ? [] : [{ Pricebook2Id: String(link!.Pricebook2Id), Product2Id: p, UnitPrice: demoPrice(i), IsActive: true }],
  );
  const stock = ids.flatMap((p) => (stocked.has(p) ? [] : [{ Product2Id: p, QuantityAvailable: 100_000, QuantityReserved: 0 }]));
  if (entries.length || stock.length) await engine.seed({ PricebookEntry: entries, ProductInventory: stock });
  // The storefront catalog (Connect product search): a store seeded before it had categories gets the demo ones,
  // and every demo product a link to the demo category its index gives.
  const inStore = [{ field: 'WebStoreId', op: '=' as const, value: storeId }];
  if ((await storage.count('ProductCategory', inStore)) === 0) {
    const { ProductCategory } = demoCatalogFixture({ storeId, productIds: [] });
    await engine.seed({ ProductCategory });
  }
  const categories = await storage.find('ProductCategory', { where: inStore });
  const small = categories.find((c) => c.Name === 'Small widgets');
  const large = categories.find((c) => c.Name === 'Large widgets');
  if (small && large) {
    const linked = new Set(
      (
        await storage.find('ProductCategoryProduct', {
          where: [{ field: 'ProductCategoryId', op: 'in', value: [small.Id, large.Id] }],
        })
      ).map((l) => String(l.ProductId)),
    );
    const links = ids.flatMap((p, i) =>
      linked.has(p) ? [] : [{ ProductCategoryId: String((i % 2 === 0 ? small : large).Id), ProductId: p, IsPrimaryCategory: true }],
    );
    if (links.length) await engine.seed({ ProductCategoryProduct: links });
  }
  // Product images: Salesforce's standard media groups (org-wide, by DeveloperName) and the demo images of every demo product without any.
  const groupNames = STANDARD_MEDIA_GROUPS.map((g) => String(g.DeveloperName));
  const haveGroups = await storage.find('ElectronicMediaGroup', { where: [{ field: 'DeveloperName', op: 'in', value: groupNames }] });
  const missingGroups = STANDARD_MEDIA_GROUPS.filter((g) => !haveGroups.some((h) => h.DeveloperName === g.DeveloperName));
  if (missingGroups.length) await engine.seed({ ElectronicMediaGroup: missingGroups.map((g) => ({ ...g })) });
  const groups = await storage.find('ElectronicMediaGroup', { where: [{ field: 'DeveloperName', op: 'in', value: groupNames }] });
  const groupId = (name: string) => String(groups.find((g) => g.DeveloperName === name)!.Id);
  const pictured = new Set(
    (await storage.find('ProductMedia', { where: [{ field: 'ProductId', op: 'in', value: ids }] })).map((m) => String(m.ProductId)),
  );
  const media = ids.flatMap((p, i) =>
    pictured.has(p) ? [] : demoProductMedia(p, demoSku(i), `Widget ${i + 1}`, groupId('productListImage'), groupId('productDetailImage')),
  );
  if (media.length) await engine.seed({ ProductMedia: media });
  return ids;
}

/** Options of `demo.newCart` (seedDemoCheckout). */
export interface NewDemoCartOptions {
  /** The demo buyer whose cart it is: 'buyer@acme.example' (default) or 'buyer@globex.example'. */
  buyer?: string;
  /** Product lines (default 6; past 50 lines the 50 demo products repeat). */
  lines?: number;
  /** Delivery groups the lines are spread over (default 2). */
  groups?: number;
}

/** The demo buyers (usernames); each buys for its own account. */
export const DEMO_BUYERS = ['buyer@acme.example', 'buyer@globex.example'] as const;

const findUser = async (engine: CheckoutEngine, username: string) =>
  (await engine.core.storage.find('User', { where: [{ field: 'Username', op: '=', value: username }], limit: 1 }))[0];

/**
 * A fresh Active cart of a demo buyer, ready for a whole checkout (runCheckout, or the actions over
 * HTTP): seeds the demo store and its catalog first when the database doesn't have them (and adds
 * whatever part of the catalog an older demo store lacks). Every call makes a new cart; the
 * delivery method is left for the buyer to choose during checkout. Returns the buyer's and the
 * cart's ids.
 */
export async function seedDemoCheckout(
  engine: CheckoutEngine,
  opts: NewDemoCartOptions = {},
): Promise<{ buyerId: string; cartId: string }> {
  const storage = engine.core.storage;
  const username = opts.buyer ?? DEMO_BUYERS[0];
  if (!(DEMO_BUYERS as readonly string[]).includes(username)) {
    throw new EngineError('INVALID_INPUT', `buyer must be one of the demo buyers: ${DEMO_BUYERS.join(', ')}; got '${String(username)}'.`, [
      'buyer',
    ]);
  }
  const lines = opts.lines ?? 6;
  if (!Number.isInteger(lines) || lines < 1)
    throw new EngineError('INVALID_INPUT', 'lines must be a whole number of at least 1.', ['lines']);
  const groups = opts.groups ?? 2;
  if (!Number.isInteger(groups) || groups < 1)
    throw new EngineError('INVALID_INPUT', 'groups must be a whole number of at least 1.', ['groups']);
  const full = demoFixture({ lines, groups, taxes: false, adjustments: false, catalog: false });
  if (!(await findUser(engine, DEMO_BUYERS[0]))) {
    // The store, its users and delivery methods come from demoFixture; the catalog and the cart are added below like any later one.
    const store = Object.fromEntries(
      Object.entries(full).filter(([type]) => !['WebCart', 'CartDeliveryGroup', 'CartItem', 'CartTax', 'Product2'].includes(type)),
    );
    await engine.seed(store);
  }
  const buyer = await findUser(engine, username);
  const [store] = await storage.find('WebStore', { where: [{ field: 'Name', op: '=', value: 'Demo B2B Store' }], limit: 1 });
  if (!store || !buyer) throw new EngineError('NOT_FOUND', `The database has the demo buyer but no 'Demo B2B Store' or no ${username}.`);
  const productIds = await ensureCatalog(engine, String(store.Id));
  const refs: Record<string, string> = { '@buyer': String(buyer.Id), '@acme': String(buyer.AccountId), '@store': String(store.Id) };
  productIds.forEach((id, i) => (refs[`@product${i}`] = id));
  const fixture: Record<string, Record<string, unknown>[]> = {};
  for (const type of ['WebCart', 'CartDeliveryGroup', 'CartItem']) {
    fixture[type] = (full[type] ?? []).map((rec) =>
      // The delivery method is the buyer's choice during checkout, not preset on the groups.
      Object.fromEntries(
        Object.entries(rec).map(([k, v]) => [k, k === 'DeliveryMethodId' ? null : typeof v === 'string' && v in refs ? refs[v] : v]),
      ),
    );
  }
  const ids = await engine.seed(fixture);
  return { buyerId: String(buyer.Id), cartId: ids.cart! };
}

/** Makes sure the demo store ('Demo B2B Store') has the whole demo catalog: price book, entries and stock for SKU-0001…SKU-0050. */
export async function ensureDemoCatalog(engine: CheckoutEngine): Promise<void> {
  const [store] = await engine.core.storage.find('WebStore', { where: [{ field: 'Name', op: '=', value: 'Demo B2B Store' }], limit: 1 });
  if (store) await ensureCatalog(engine, String(store.Id));
}

/**
 * The answers the demo buyer gives during `runCheckout`: a shipping address in Oakland, the test
 * gateway's card and a billing address in San Francisco.
 */
export const DEMO_ANSWERS = {
  deliveryAddress: {
    DeliverToName: 'Acme Receiving',
    DeliverToStreet: '500 Harbor Way',
    DeliverToCity: 'Oakland',
    DeliverToState: 'CA',
    DeliverToPostalCode: '94607',
    DeliverToCountry: 'US',
  },
  paymentMethodId: 'pm_test_visa',
  billingAddress: {
    BillingStreet: '1 Market St',
    BillingCity: 'San Francisco',
    BillingState: 'CA',
    BillingPostalCode: '94105',
    BillingCountry: 'US',
  },
} as const satisfies CheckoutAnswers;

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
    answers: DEMO_ANSWERS,
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
  say(
    `Order ${String(order.Id)}: Status ${String(order.Status)}, GrandTotalAmount ${String(order.GrandTotalAmount)}, payment ${String(order.PaymentAuthorizationCode ?? '—')}`,
  );
  say(`OrderSummary ${run.orderSummaryId}; cart ${cartId} is ${String(cart.Status)}; session ${run.sessionId} is ${run.state}.`);
  return run;
}
