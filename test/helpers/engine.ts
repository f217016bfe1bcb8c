/** Shared set-up for engine tests: a demo store whose cart's session is claimed for cartToOrder. */
import { expect } from 'vitest';
import { createCheckoutEngine, type CheckoutEngine, type CheckoutEngineOptions, type InvocationResult } from '../../src/index.js';
import { demoFixture, type DemoOptions } from '../../src/demo/fixture.js';

/** Seeds the demo store with the session at checkoutSummary and claims cartToOrder as the buyer. */
export async function claimedCart(engine: CheckoutEngine, opts: DemoOptions = {}): Promise<Record<string, string>> {
  const ids = await engine.seed(demoFixture({ sessionState: 'checkoutSummary', ...opts }));
  const [claim] = await engine.invoke(
    'updateCheckoutSessionStateAction',
    [{ checkoutSessionId: ids.session, expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' }],
    { userId: ids.buyer! },
  );
  expect(claim!.isSuccess, JSON.stringify(claim!.errors)).toBe(true);
  return ids;
}

/** An engine on `location` with a claimed demo cart. */
export async function engineWithClaimedCart(location: string, opts: DemoOptions = {}, engineOpts: CheckoutEngineOptions = {}) {
  const engine = await createCheckoutEngine({ storage: location, onError: () => {}, ...engineOpts });
  const ids = await claimedCart(engine, opts);
  return { engine, ids };
}

/** The single error of a failed result, with its HTTP status. */
export function errorOf(r: InvocationResult | undefined): { code: string; status: number; message: string; fields: string[] } {
  expect(r?.isSuccess).toBe(false);
  const e = r!.errors![0]!;
  return { code: e.statusCode, status: r!.httpStatus, message: e.message, fields: e.fields };
}
