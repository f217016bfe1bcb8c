/**
 * runCheckout is re-entrant: it keeps nothing between turns but the stored session, so after a
 * restart (a new engine on the same database) it continues from the stored State, runs a step that
 * was claimed but never started, and waits for an operation another worker recovered.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, DEFAULT_FLOW } from '../../src/index.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { activeSession, CA_ADDRESS, call, cartOn, ok } from './helpers.js';

afterAll(dropTestSchemas);

const keys = DEFAULT_FLOW.steps.map((s) => s.key);

describe.each([BACKENDS[1]!, BACKENDS[2]!])('resuming after a restart on $name', (backend) => {
  it('continues from the stored State, a claimed step, and an operation left New', async () => {
    const location = backend.location();
    // Run 1 stops at the payment screen.
    let engine = await createCheckoutEngine({ storage: location, onError: () => {} });
    const a = await cartOn(engine, { lines: 3, groups: 2 });
    const b = await cartOn(engine, { lines: 2 });
    const c = await cartOn(engine, { lines: 2 });
    await engine.runCheckout(a.cartId, {
      ...a.as,
      answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-A' },
      stopAt: 'paymentAndBillingAddress',
    });
    // Cart b: the next step is claimed, then the process stops before invoking its action.
    await engine.runCheckout(b.cartId, { ...b.as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-B' }, stopAt: 'deliveryMethod' });
    const sb = (await activeSession(engine, b.cartId))!;
    ok(
      await call(
        engine,
        'updateCheckoutSessionStateAction',
        { checkoutSessionId: sb.Id, expCurrentState: 'deliveryMethod', nextState: 'taxes' },
        b.as.userId,
      ),
    );
    await engine.runCheckout(c.cartId, { ...c.as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-C' }, stopAt: 'inventory' });
    await engine.close();

    // Cart c: an engine that doesn't run operations commits one as New, then stops.
    engine = await createCheckoutEngine({ storage: location, onError: () => {}, worker: false, recover: false });
    const sc = (await activeSession(engine, c.cartId))!;
    ok(
      await call(
        engine,
        'updateCheckoutSessionStateAction',
        { checkoutSessionId: sc.Id, expCurrentState: 'inventory', nextState: 'confirmPrice' },
        c.as.userId,
      ),
    );
    const leftNew = String(ok(await call(engine, 'priceCart', { cartId: c.cartId, runAsync: true }, c.as.userId)).backgroundOperationId);
    expect((await engine.admin.get('BackgroundOperation', leftNew))!.Status).toBe('New');
    await engine.close();

    // After the restart every run finishes from where it was.
    engine = await createCheckoutEngine({ storage: location, onError: () => {} });
    try {
      const ra = await engine.runCheckout(a.cartId, a.as);
      expect(ra.status, ra.errors.join()).toBe('complete');
      expect(ra.trajectory[0]).toMatchObject({ state: 'paymentAndBillingAddress', status: 'resumed' });
      expect(ra.trajectory.map((t) => t.state)).toEqual(keys.slice(keys.indexOf('paymentAndBillingAddress')));

      const rb = await engine.runCheckout(b.cartId, b.as);
      expect(rb.status, rb.errors.join()).toBe('complete');
      expect(rb.sessionId).toBe(sb.Id);
      expect(rb.trajectory.map((t) => t.state)).toEqual(keys.slice(keys.indexOf('deliveryMethod')));
      expect(rb.trajectory[1]).toMatchObject({ state: 'taxes', calls: ['calcCartTaxesAction'], status: 'Complete' });

      const rc = await engine.runCheckout(c.cartId, c.as);
      expect(rc.status, rc.errors.join()).toBe('complete');
      // The operation left New was recovered and run once (waited for, or already done): never invoked again.
      expect(rc.trajectory.flatMap((t) => t.calls)).not.toContain('priceCart');
      expect(rc.trajectory.at(-1)!.state).toBe('complete');
      const priced = await engine.admin.find('BackgroundOperation', {
        where: [
          { field: '_sessionId', op: '=', value: sc.Id },
          { field: '_step', op: '=', value: 'confirmPrice' },
        ],
      });
      expect(priced.map((o) => o.Id)).toEqual([leftNew]);
      expect((await engine.admin.get('BackgroundOperation', leftNew))!.Status).toBe('Complete');
      // A second run on a finished checkout just reports it.
      const again = await engine.runCheckout(a.cartId, a.as);
      expect([again.status, again.orderId, again.trajectory.length]).toEqual(['complete', ra.orderId, 0]);
    } finally {
      await engine.close();
    }
  }, 60_000);
});

describe.each([BACKENDS[0]!, BACKENDS[2]!])('two runners on one cart on $name', (backend) => {
  it('race through the same checkout: one operation per step, one order, both report it', async () => {
    const engine = await createCheckoutEngine({ storage: backend.location(), onError: () => {} });
    try {
      const { cartId, as } = await cartOn(engine, { lines: 5, groups: 2 });
      const answers = { deliveryAddress: CA_ADDRESS, poNumber: 'PO-RACE' };
      const [r1, r2] = await Promise.all([engine.runCheckout(cartId, { ...as, answers }), engine.runCheckout(cartId, { ...as, answers })]);
      expect([r1.status, r2.status]).toEqual(['complete', 'complete']);
      expect(r1.orderId).toBe(r2.orderId);
      expect(r1.sessionId).toBe(r2.sessionId);
      const ops = await engine.admin.find('BackgroundOperation', { where: [{ field: '_sessionId', op: '=', value: r1.sessionId }] });
      expect(ops.map((o) => o._step).sort()).toEqual(
        DEFAULT_FLOW.steps
          .filter((s) => s.kind === 'async' || s.kind === 'sync')
          .map((s) => s.key)
          .sort(),
      );
      expect(ops.every((o) => o.Status === 'Complete')).toBe(true);
      expect(await engine.admin.count('Order', [{ field: 'OrderReferenceNumber', op: '=', value: r1.sessionId }])).toBe(1);
      expect(await engine.admin.count('OrderSummary', [{ field: 'OriginalOrderId', op: '=', value: r1.orderId }])).toBe(1);
    } finally {
      await engine.close();
    }
  }, 60_000);
});
