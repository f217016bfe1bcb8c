/** Set-up shared by the Connect checkout tests: waiting for a condition, and a placement left by a crash. */
import { expect } from 'vitest';
import { startTestServer } from '../http/helpers.js';
import { settled } from '../../src/connect/checkouts.js';

/** Polls `check` every 30 ms until it holds, or fails after `ms` naming `what`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/**
 * A process that places an order over the Checkout API and "crashes" (closes) before the order exists:
 * its engine runs no background work, so cartToOrder stays queued. Returns what a second process needs.
 */
export async function placeThenCrash(location: string): Promise<{ cartId: string; checkoutId: string; base: string }> {
  const t1 = await startTestServer(location, { sessionState: '', engine: { worker: false } });
  try {
    const token = await t1.token();
    const base = `/services/data/v62.0/commerce/webstores/${t1.ids.store}`;
    const checkoutId = (await t1.call('POST', `${base}/checkouts`, { token, body: { cartId: 'active' } })).body.checkoutId;
    await settled(t1.engine, t1.ids.cart);
    expect(await t1.call('POST', `${base}/checkouts/${checkoutId}/orders`, { token })).toMatchObject({
      status: 201,
      body: { orderReferenceNumber: checkoutId },
    });
    expect((await t1.engine.admin.get('WebCart', t1.ids.cart))!.Status).toBe('PendingClosed');
    await until(
      'the queued cartToOrder',
      async () => (await t1.engine.admin.count('BackgroundOperation', [{ field: 'Status', op: '=', value: 'New' }])) > 0,
    );
    expect(await t1.engine.admin.count('Order', [{ field: 'CartId', op: '=', value: t1.ids.cart }])).toBe(0);
    return { cartId: t1.ids.cart, checkoutId, base };
  } finally {
    await t1.close();
  }
}
