/**
 * Exactly once, on every backend: concurrent claims, session creation and cartToOrder calls on one
 * cart yield one winner, one operation and one Order; an operation left New by a stop, or Running
 * by a kill -9 (before or in the middle of its commit), is finished after restart without a second
 * Order.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childEntry } from '../helpers/child-build.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine } from '../../src/index.js';
import { demoFixture } from '../../src/demo/fixture.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { engineWithClaimedCart, errorOf } from '../helpers/engine.js';

afterAll(dropTestSchemas);

const CHILD = fileURLToPath(new URL('../helpers/crash-child.ts', import.meta.url));
/** The child as built once for a vitest run, else its .ts under tsx (test/helpers/child-build.ts). */
const CHILD_RUN = childEntry(CHILD);

/** Runs the crash child until it reports it is stalled at `point`, then kills it with SIGKILL. */
function crashAt(location: string, cartId: string, userId: string, point: 'before' | 'inside'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD_RUN.file, [location, cartId, userId, point], {
      execArgv: CHILD_RUN.execArgv,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => reject(new Error(`child never stalled: ${stderr}`)), 30_000);
    child.on('message', (m) => {
      if (m !== 'stalled') return;
      clearTimeout(timer);
      child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`child exited (${code}) before stalling: ${stderr}`));
    });
  });
}

const counts = async (engine: Awaited<ReturnType<typeof createCheckoutEngine>>, admin: string) => ({
  orders: (await engine.query('SELECT COUNT() FROM Order', { userId: admin })).totalSize,
  orderItems: (await engine.query('SELECT COUNT() FROM OrderItem', { userId: admin })).totalSize,
  operations: (await engine.query('SELECT Id, Status, RetryCount FROM BackgroundOperation', { userId: admin })).records,
});

for (const backend of BACKENDS) {
  describe(`exactly once on ${backend.name}`, () => {
    it('50 simultaneous claims: one wins, 49 get INVALID_OPERATION 409', async () => {
      const engine = await createCheckoutEngine({ storage: backend.location() });
      const ids = await engine.seed(demoFixture({ sessionState: 'checkoutSummary' }));
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          engine.invoke(
            'updateCheckoutSessionStateAction',
            [{ checkoutSessionId: ids.session, expCurrentState: 'Checkout Summary', nextState: 'Cart To Order' }],
            {
              userId: ids.buyer!,
            },
          ),
        ),
      );
      const flat = results.flat();
      expect(flat.filter((r) => r.isSuccess)).toHaveLength(1);
      expect(new Set(flat.filter((r) => !r.isSuccess).map((r) => `${errorOf(r).code} ${errorOf(r).status}`))).toEqual(
        new Set(['INVALID_OPERATION 409']),
      );
      await engine.close();
    });

    it('50 simultaneous checkoutSessionAction calls on an Active cart share one session', async () => {
      const engine = await createCheckoutEngine({ storage: backend.location() });
      const ids = await engine.seed(demoFixture());
      const results = (
        await Promise.all(
          Array.from({ length: 50 }, () =>
            engine.invoke('checkoutSessionAction', [{ cartId: ids.cart, initialState: 'Start' }], { userId: ids.buyer! }),
          ),
        )
      ).flat();
      expect(results.every((r) => r.isSuccess)).toBe(true);
      expect(new Set(results.map((r) => r.outputValues!.requestId)).size).toBe(1);
      expect(
        (await engine.query(`SELECT COUNT() FROM CartCheckoutSession WHERE WebCartId = '${ids.cart}'`, { userId: ids.admin! })).totalSize,
      ).toBe(1);
      expect((await engine.getRecord('WebCart', ids.cart!)).Status).toBe('Checkout');
      await engine.close();
    });

    it('50 simultaneous cartToOrderAction calls (sync and async) yield one operation and one Order', async () => {
      const { engine, ids } = await engineWithClaimedCart(backend.location(), { lines: 20, groups: 2 });
      const results = (
        await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: i % 2 === 0 }], { userId: ids.buyer! }),
          ),
        )
      ).flat();
      await engine.whenIdle();
      expect(results.filter((r) => r.isSuccess)).toHaveLength(1);
      for (const r of results.filter((x) => !x.isSuccess)) {
        expect(['ALREADY_IN_PROCESS 400', 'INVALID_OPERATION 403']).toContain(`${errorOf(r).code} ${errorOf(r).status}`);
      }
      const c = await counts(engine, ids.admin!);
      expect(c.orders).toBe(1);
      expect(c.operations).toHaveLength(1);
      expect(c.operations[0]!.Status).toBe('Complete');
      expect(c.orderItems).toBe(22);
      await engine.close();
    });

    if (backend.name !== 'sqlite') {
      it('an operation committed New before a stop is finished after restart', async () => {
        const location = backend.location();
        const { engine, ids } = await engineWithClaimedCart(location, {}, { workerConcurrency: 0 });
        const [r] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: true }], { userId: ids.buyer! });
        const opId = r!.outputValues!.backgroundOperationId as string;
        await engine.close();
        const restarted = await createCheckoutEngine({ storage: location });
        await restarted.whenIdle();
        expect(await restarted.getRecord('BackgroundOperation', opId)).toMatchObject({ Status: 'Complete', RetryCount: 0 });
        expect(await restarted.getRecord('CartCheckoutSession', ids.session!)).toMatchObject({ State: 'cartToOrder', IsProcessing: false });
        expect((await counts(restarted, ids.admin!)).orders).toBe(1);
        await restarted.close();
      });

      it('kill -9 before the commit: recovery finishes the operation with exactly one Order', async () => {
        const location = backend.location();
        const { engine, ids } = await engineWithClaimedCart(location, { lines: 30, groups: 2 });
        await engine.close();
        await crashAt(location, ids.cart!, ids.buyer!, 'before');
        const after = await createCheckoutEngine({ storage: location, recover: false });
        const mid = await counts(after, ids.admin!);
        expect(mid.orders).toBe(0); // the killed process committed no order
        expect(mid.operations.map((o) => o.Status)).toEqual(['Running']);
        await after.close();
        const recovered = await createCheckoutEngine({ storage: location });
        await recovered.whenIdle();
        const end = await counts(recovered, ids.admin!);
        expect(end.orders).toBe(1);
        expect(end.orderItems).toBe(32);
        expect(end.operations).toMatchObject([{ Status: 'Complete', RetryCount: 1 }]);
        expect(await recovered.getRecord('CartCheckoutSession', ids.session!)).toMatchObject({
          State: 'cartToOrder',
          IsProcessing: false,
          IsError: false,
        });
        await recovered.close();
        await expectNoSecondOrder(location, ids);
      });

      it('kill -9 in the middle of the one-transaction call: nothing was written, and calling again gives exactly one Order', async () => {
        const location = backend.location();
        const { engine, ids } = await engineWithClaimedCart(location, { lines: 30, groups: 2 });
        await engine.close();
        await crashAt(location, ids.cart!, ids.buyer!, 'inside');
        const recovered = await createCheckoutEngine({ storage: location });
        await recovered.whenIdle();
        const mid = await counts(recovered, ids.admin!);
        // The claim, the order rows and the operation were one transaction: the kill undid all of it.
        expect(mid.orders).toBe(0);
        expect(mid.operations).toEqual([]);
        expect(await recovered.getRecord('CartCheckoutSession', ids.session!)).toMatchObject({
          NextState: 'cartToOrder',
          IsProcessing: true,
          IsError: false,
        });
        const [again] = await recovered.invoke('cartToOrderAction', [{ cartId: ids.cart }], { userId: ids.buyer! });
        expect(again!.isSuccess).toBe(true);
        const end = await counts(recovered, ids.admin!);
        expect(end.orders).toBe(1);
        expect(end.orderItems).toBe(32);
        expect(end.operations).toMatchObject([{ Status: 'Complete' }]);
        await recovered.close();
        await expectNoSecondOrder(location, ids);
      });

      /** A restart after the order exists changes nothing, and a new call is refused. */
      async function expectNoSecondOrder(location: string, ids: Record<string, string>): Promise<void> {
        const again = await createCheckoutEngine({ storage: location });
        await again.whenIdle();
        const [late] = await again.invoke('cartToOrderAction', [{ cartId: ids.cart }], { userId: ids.buyer! });
        expect(errorOf(late)).toMatchObject({ code: 'INVALID_OPERATION', status: 403 });
        expect((await counts(again, ids.admin!)).orders).toBe(1);
        await again.close();
      }
    }
  });
}
