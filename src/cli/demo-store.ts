/**
 * The demo store behind `npm start` / `serve --demo`: seeded once per database (a restart finds it
 * and seeds nothing), with one cart always waiting for cartToOrderAction. When the previous demo
 * cart was already turned into an order, a fresh cart is added for the same buyer, so the printed
 * curl works on every start. Everything goes through the engine's public API as the demo users.
 */
import { demoFixture } from '../demo/fixture.js';
import { ensureDemoCatalog } from '../demo/run-demo.js';
import type { CheckoutEngine } from '../engine/engine.js';
import { EngineError } from '../errors.js';

/** Demo credentials (also printed by the banner). */
export const DEMO_USERNAME = 'buyer@acme.example';
/** The demo users' password. */
export const DEMO_PASSWORD = 'demo-password-1';
/** The demo admin (ModifyAllData). */
export const DEMO_ADMIN = 'admin@store.example';

/** What the banner needs to show. */
export interface DemoStore {
  buyerId: string;
  cartId: string;
  sessionId: string;
  /** True when this start created the store (false: found from an earlier start). */
  created: boolean;
  /** How many records this start added (the store when created, a fresh cart when needed; 0 when all was found). */
  seeded: number;
}

/** How many records a fixture holds. */
export function fixtureRecordCount(fixture: unknown): number {
  if (!fixture || typeof fixture !== 'object') return 0;
  return Object.values(fixture).reduce((n: number, rows) => n + (Array.isArray(rows) ? rows.length : 0), 0);
}

/** The parts of the demo fixture that make one cart in checkout (everything else is store setup). */
const CART_PARTS = ['WebCart', 'CartDeliveryGroup', 'CartItem', 'CartTax', 'CartCheckoutSession'];

/** Seeds the demo store unless it exists; returns how many records it added (0: found). */
async function seedStore(engine: CheckoutEngine): Promise<number> {
  if (await engine.userIdByUsername(DEMO_USERNAME)) return 0;
  const fixture = demoFixture({ sessionState: 'checkoutSummary' });
  try {
    await engine.seed(fixture);
    return fixtureRecordCount(fixture);
  } catch (e) {
    // Another process sharing the database seeded it first: that's the idempotent outcome.
    if (e instanceof EngineError && (await engine.userIdByUsername(DEMO_USERNAME))) return 0;
    throw e;
  }
}

/** A cart of the buyer whose session waits at checkoutSummary with no operation in flight, or null. */
async function findReadyCart(
  engine: CheckoutEngine,
  buyerId: string,
): Promise<{ cartId: string; sessionId: string; claimed: boolean } | null> {
  const { records } = await engine.query(
    "SELECT Id, WebCartId, NextState, IsProcessing, BackgroundOperationId FROM CartCheckoutSession WHERE IsArchived = FALSE AND State = 'checkoutSummary' ORDER BY CreatedDate DESC",
    { userId: buyerId },
  );
  for (const r of records) {
    if (r.BackgroundOperationId) continue;
    if (r.IsProcessing === true && r.NextState !== 'cartToOrder') continue;
    return { cartId: String(r.WebCartId), sessionId: String(r.Id), claimed: r.IsProcessing === true };
  }
  return null;
}

/** Adds a fresh demo cart (in checkout at checkoutSummary) for the existing demo buyer and store. */
async function seedFreshCart(engine: CheckoutEngine, buyerId: string): Promise<number> {
  const as = { userId: buyerId };
  const one = async (soql: string) => {
    const { records } = await engine.query(soql, as);
    if (!records[0]) throw new EngineError('NOT_FOUND', `The demo store is incomplete: ${soql} found nothing.`);
    return String(records[0].Id);
  };
  const buyer = await engine.getRecord('User', buyerId, as);
  const refs: Record<string, string> = {
    '@buyer': buyerId,
    '@acme': String(buyer.AccountId),
    '@store': await one("SELECT Id FROM WebStore WHERE Name = 'Demo B2B Store'"),
    '@ground': await one("SELECT Id FROM OrderDeliveryMethod WHERE Name = 'Ground'"),
  };
  for (const p of (await engine.query('SELECT Id, StockKeepingUnit FROM Product2', as)).records) {
    const n = /^SKU-(\d+)$/.exec(String(p.StockKeepingUnit));
    if (n) refs[`@product${Number(n[1]) - 1}`] = String(p.Id);
  }
  const full = demoFixture({ sessionState: 'checkoutSummary' });
  const fixture: Record<string, Record<string, unknown>[]> = {};
  for (const type of CART_PARTS) {
    fixture[type] = (full[type] ?? []).map((rec) =>
      Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, typeof v === 'string' && v in refs ? refs[v] : v])),
    );
  }
  await engine.seed(fixture);
  return fixtureRecordCount(fixture);
}

/**
 * Makes sure the demo store exists and one demo cart is claimed for cartToOrder, ready for the
 * banner's curl. Safe to run on every start and from several processes.
 */
export async function ensureDemoStore(engine: CheckoutEngine): Promise<DemoStore> {
  let seeded = await seedStore(engine);
  const created = seeded > 0;
  // A store seeded by an older version may lack the price book or stock of some products: add them, so every new cart can be priced.
  await ensureDemoCatalog(engine);
  const buyerId = (await engine.userIdByUsername(DEMO_USERNAME))!;
  let ready = await findReadyCart(engine, buyerId);
  if (!ready) {
    seeded += await seedFreshCart(engine, buyerId);
    ready = await findReadyCart(engine, buyerId);
    if (!ready) throw new EngineError('INTERNAL', 'The fresh demo cart is not ready for checkout.');
  }
  if (!ready.claimed) {
    const [r] = await engine.invoke(
      'updateCheckoutSessionStateAction',
      [{ checkoutSessionId: ready.sessionId, expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' }],
      { userId: buyerId },
    );
    // Lost a race with another starting process: it claimed the same cart, which is just as ready.
    if (!r!.isSuccess && r!.errors?.[0]?.statusCode !== 'INVALID_OPERATION') throw new EngineError('INTERNAL', r!.errors?.[0]?.message);
  }
  return { buyerId, cartId: ready.cartId, sessionId: ready.sessionId, created, seeded };
}

/** The ready-to-paste shell lines that get a token and run cartToOrderAction on the demo cart. */
export function demoCurl(url: string, cartId: string, version: string): string {
  return [
    `TOKEN=$(curl -s -X POST ${url}/services/oauth2/token -d grant_type=password -d client_id=demo -d client_secret=demo \\`,
    `  --data-urlencode username=${DEMO_USERNAME} --data-urlencode password=${DEMO_PASSWORD} \\`,
    `  | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token')`,
    `curl -s -X POST ${url}/services/data/v${version}/actions/standard/cartToOrderAction \\`,
    `  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`,
    `  -d '{"inputs":[{"cartId":"${cartId}","runAsync":false}]}'`,
  ].join('\n');
}
