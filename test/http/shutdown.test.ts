/**
 * Graceful shutdown: closing the server lets in-flight requests finish, running operations finish
 * (or, if cut short, stay for recovery), and a restarted engine on the same database completes
 * whatever was accepted — exactly one order, nothing lost.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine } from '../../src/index.js';
import { dropTestSchemas, freshPgUrl, freshSqliteFile } from '../helpers/backends.js';
import { claimCartToOrder, startTestServer, V } from './helpers.js';

afterAll(dropTestSchemas);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const BACKENDS = [
  { name: 'sqlite-file', location: freshSqliteFile },
  { name: 'postgres', location: freshPgUrl },
];

/** Reopens the database, lets recovery run, and reports the session, its operation and the cart's orders. */
async function outcome(location: string, ids: Record<string, string>) {
  const engine = await createCheckoutEngine({ storage: location, onError: () => {} });
  try {
    await engine.whenIdle();
    const session = await engine.getRecord('CartCheckoutSession', ids.session!);
    const operation = session.BackgroundOperationId
      ? await engine.getRecord('BackgroundOperation', String(session.BackgroundOperationId))
      : null;
    const orders = await engine.query(`SELECT Id FROM Order`, { userId: ids.admin! });
    return { session, operation, orders: orders.records };
  } finally {
    await engine.close();
  }
}

describe.each(BACKENDS)('graceful shutdown on $name', (backend) => {
  it('finishes an in-flight request while closing', async () => {
    const location = backend.location();
    let commitReached!: () => void;
    const reached = new Promise<void>((r) => (commitReached = r));
    const t = await startTestServer(location, {
      engine: {
        faults: {
          beforeCommit: async () => {
            commitReached();
            await sleep(300);
          },
        },
      },
    });
    const token = await t.token();
    await claimCartToOrder(t, token);
    const request = t.call('POST', `${V}/actions/standard/cartToOrderAction`, {
      token,
      body: { inputs: [{ cartId: t.ids.cart, runAsync: false }] },
    });
    await reached;
    const closing = t.close();
    const res = await request;
    await closing;
    expect(res.status).toBe(200);
    expect(res.body[0].isSuccess).toBe(true);
    // The server no longer accepts connections.
    await expect(fetch(`${t.url}${V}`)).rejects.toThrow();

    const after = await outcome(location, t.ids);
    expect(after.operation?.Status).toBe('Complete');
    expect(after.session.State).toBe('cartToOrder');
    expect(after.orders.map((o) => o.Id)).toEqual([after.session.OrderId]);
  });

  it('an accepted async operation cut short by the shutdown completes after restart', async () => {
    const location = backend.location();
    let stopping = false;
    const t = await startTestServer(location, {
      engine: {
        faults: {
          beforeCommit: async () => {
            await sleep(150);
            // The process is going down mid-operation: the work is lost unless recovery redoes it.
            if (stopping) throw new Error('process exiting');
          },
        },
      },
    });
    const token = await t.token();
    await claimCartToOrder(t, token);
    const res = await t.call('POST', `${V}/actions/standard/cartToOrderAction`, {
      token,
      body: { inputs: [{ cartId: t.ids.cart, runAsync: true }] },
    });
    expect(res.status).toBe(200);
    const operationId = res.body[0].outputValues.backgroundOperationId;
    stopping = true;
    await t.close();

    const interrupted = await createCheckoutEngine({ storage: location, recover: false, onError: () => {} });
    const op = await interrupted.getRecord('BackgroundOperation', operationId);
    await interrupted.close();
    expect(['New', 'Running']).toContain(op.Status); // accepted, not finished, not lost

    const after = await outcome(location, t.ids);
    expect(after.operation).toMatchObject({ Id: operationId, Status: 'Complete' });
    expect(after.orders).toHaveLength(1);
    expect(after.session.OrderId).toBe(after.orders[0]!.Id);
  });
});
