/**
 * The public demo helpers: the demo store as a fixture, fresh carts of the demo buyers on any
 * engine, the buyer's checkout answers and a trajectory printer, so a user's own script (or test)
 * can run a whole checkout with nothing but the package.
 * @example
 *   import { createCheckoutEngine, demo } from 'checkout-engine';
 *   const engine = await createCheckoutEngine();
 *   const { buyerId, cartId } = await demo.newCart(engine);
 *   const run = await engine.runCheckout(cartId, { userId: buyerId, answers: demo.answers });
 */
import type { CheckoutEngine } from '../engine/engine.js';
import { demoCatalogFixture, demoFixture } from './fixture.js';
import { DEMO_ANSWERS, DEMO_BUYERS, formatTrajectory, seedDemoCheckout, type NewDemoCartOptions } from './run-demo.js';

export { demoCatalogFixture, demoFixture, type CatalogTargets, type DemoOptions } from './fixture.js';
export { formatTrajectory, type NewDemoCartOptions } from './run-demo.js';

/** The demo helpers. */
export const demo = {
  /** The demo users' usernames and their shared password. */
  users: {
    buyer: DEMO_BUYERS[0],
    /** A buyer of another account (Globex): sees none of Acme's carts. */
    otherBuyer: DEMO_BUYERS[1],
    /** An admin with ModifyAllData. */
    admin: 'admin@store.example',
    password: 'demo-password-1',
  },
  /** The demo store with one cart, as a fixture for `engine.seed` (see DemoOptions). */
  fixture: demoFixture,
  /** The price book, stock, promotions and tax rates of a store's products, as a fixture. */
  catalog: demoCatalogFixture,
  /**
   * A fresh Active cart of a demo buyer (default buyer@acme.example), seeding the demo store and
   * its catalog first when the engine's database lacks them. Call it as often as you like.
   */
  newCart: (engine: CheckoutEngine, opts: NewDemoCartOptions = {}): Promise<{ buyerId: string; cartId: string }> =>
    seedDemoCheckout(engine, opts),
  /** The demo buyer's answers for `engine.runCheckout` (addresses and the test card). */
  answers: DEMO_ANSWERS,
  /** A run's trajectory as aligned text lines. */
  formatTrajectory,
} as const;
