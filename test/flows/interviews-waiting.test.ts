/**
 * A Waiting interview (a `forceCommunity:commerceScreenWait` screen while its checkout session is
 * processing): getInterview only reads; navigate re-checks, polling for up to `waitMs`, and the
 * interview moves on once the session's operation has run (here after a restart, as the worker of
 * the first engine was off). SQLite file and PostgreSQL.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine } from '../../src/index.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { activeSession, CA_ADDRESS, call, cartOn, ok } from '../flow/helpers.js';

const WAIT = fileURLToPath(new URL('./fixtures/engine/wait', import.meta.url));

afterAll(dropTestSchemas);

describe.each([BACKENDS[1]!, BACKENDS[2]!])('a Waiting interview on $name', (backend) => {
  it('waits while the session processes, polls for waitMs, then moves on', async () => {
    const location = backend.location();
    let engine = await createCheckoutEngine({ storage: location, onError: () => {} });
    const c = await cartOn(engine, { lines: 2 });
    await engine.runCheckout(c.cartId, { ...c.as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-W' }, stopAt: 'inventory' });
    await engine.close();

    // An engine that doesn't run operations: the pricing it queues keeps the session processing.
    engine = await createCheckoutEngine({ storage: location, flowSources: [WAIT], worker: false, recover: false, onError: () => {} });
    const session = (await activeSession(engine, c.cartId))!;
    ok(
      await call(
        engine,
        'updateCheckoutSessionStateAction',
        { checkoutSessionId: session.Id, expCurrentState: 'inventory', nextState: 'confirmPrice' },
        c.as.userId,
      ),
    );
    ok(await call(engine, 'priceCart', { cartId: c.cartId, runAsync: true }, c.as.userId));
    const iv = await engine.startInterview('Interview_Wait', { cartId: c.cartId }, c.as);
    expect(iv).toMatchObject({ status: 'Waiting', screen: { name: 'Wait_For_Pricing' } });
    const t0 = Date.now();
    const still = await engine.navigate(iv.id, { action: 'NEXT', waitMs: 400 }, c.as);
    expect(still.status).toBe('Waiting');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(await engine.getInterview(iv.id, c.as)).toEqual(still);
    await engine.close();

    // The next engine's worker runs the queued pricing; the interview then passes its wait screen.
    engine = await createCheckoutEngine({ storage: location, flowSources: [WAIT], onError: () => {} });
    try {
      const done = await engine.navigate(iv.id, { action: 'NEXT', waitMs: 10_000 }, c.as);
      expect(done).toMatchObject({ status: 'Paused', screen: { name: 'Priced' } });
      expect(done.screen?.availableActions).toContain('FINISH');
      const finished = await engine.navigate(iv.id, { action: 'FINISH' }, c.as);
      expect(finished).toMatchObject({ status: 'Finished', outputs: { sessionId: session.Id } });
    } finally {
      await engine.close();
    }
  });
});
