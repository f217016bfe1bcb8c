/**
 * Shared by the queue and wake-up tests: a cart claimed for cartToOrder, its operation started,
 * and a gate a worker fault hook waits on.
 */
import { expect } from 'vitest';
import type { CheckoutEngine } from '../../src/index.js';
import { demoFixture } from '../../src/demo/fixture.js';

/** Seeds a cart at checkoutSummary, claims cartToOrder; returns the handles. */
export async function claimed(e: CheckoutEngine): Promise<Record<string, string>> {
  const h = await e.seed(demoFixture({ sessionState: 'checkoutSummary' }));
  const [r] = await e.invoke(
    'updateCheckoutSessionStateAction',
    [{ checkoutSessionId: h.session, expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' }],
    { userId: h.buyer! },
  );
  expect(r!.isSuccess).toBe(true);
  return h;
}

/** Invokes cartToOrderAction on the claimed cart; returns its operation id. */
export async function startOp(e: CheckoutEngine, h: Record<string, string>, runAsync: boolean): Promise<string> {
  const [r] = await e.invoke('cartToOrderAction', [{ cartId: h.cart, runAsync }], { userId: h.buyer! });
  expect(r!.isSuccess, JSON.stringify(r!.errors)).toBe(true);
  return String(r!.outputValues!.backgroundOperationId);
}

/** A gate a fault hook waits on, with a promise that says when it was reached. */
export function gate() {
  let release!: () => void;
  let reached!: (id: string) => void;
  const opened = new Promise<void>((r) => (release = r));
  const at = new Promise<string>((r) => (reached = r));
  return { open: release, at, hook: async (_s: string, id: string) => (reached(id), opened) };
}
