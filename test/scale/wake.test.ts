/**
 * Issue 12: on PostgreSQL engine processes wake each other with LISTEN/NOTIFY instead of polling.
 * Several engines on one schema stand in for several processes (each has its own pool, pg-boss,
 * owner lock and listener connection). Waits are told apart by the queue's wake counters, not by
 * time: with `pollMs` at 60 s a wait that ends within the test was ended by a notification.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createCheckoutEngine, type CheckoutEngine, type CheckoutEngineOptions } from '../../src/engine/engine.js';
import { wakeChannelFor } from '../../src/engine/queue/index.js';
import { PgBossQueue } from '../../src/engine/queue/pg-boss.js';
import { Wakeups } from '../../src/engine/queue/wake.js';
import { dropTestSchemas, freshPgUrl, PG_URL } from '../helpers/backends.js';
import { claimed, gate, startOp } from './claimed-operation.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const open: CheckoutEngine[] = [];
/** No fallback poll within a test's lifetime: only a notification (or our own worker) ends a wait. */
const NO_POLL = { pollMs: 60_000 };

async function engine(storage: string, opts: CheckoutEngineOptions = {}): Promise<CheckoutEngine> {
  // 57P01: the listener connection this file terminates on purpose.
  const onError = (err: unknown) => (err as { code?: string })?.code !== '57P01' && console.error('[test engine]', err);
  const e = await createCheckoutEngine({ storage, onError, ...opts });
  open.push(e);
  return e;
}

const stats = (e: CheckoutEngine) => e.worker.queue.stats();

/** Starts `e.worker.run(opId)` and resolves once its claim found the operation held elsewhere ('busy'): it now waits. */
async function waitingRun(e: CheckoutEngine, opId: string): Promise<{ done: Promise<void> }> {
  const worker = e.worker;
  const process = worker.process.bind(worker);
  let busy = 0;
  worker.process = async (id, lease) => {
    const r = await process(id, lease);
    if (r === 'busy') busy++;
    return r;
  };
  const running = worker.run(opId);
  for (let i = 0; busy === 0; i++) {
    expect(i, 'the call never found the operation held by the other process').toBeLessThan(1_000);
    await sleep(10);
  }
  return { done: running }; // (a promise returned from an async function would be awaited)
}

/** Resolves once `e`'s queue has been asked to watch something (the runner is about to wait). */
function watchCalled(e: CheckoutEngine): Promise<void> {
  const queue = e.worker.queue;
  const watch = queue.watch.bind(queue);
  return new Promise((resolve) => {
    queue.watch = (ids) => {
      resolve();
      return watch(ids);
    };
  });
}

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((e) => e.close()));
});
afterAll(dropTestSchemas);

describe('wake-ups without PostgreSQL', () => {
  it('a signal that comes before the wait is kept; without one the wait ends by the fallback poll', async () => {
    const hub = new Wakeups(() => 5);
    const w = hub.watch(['op1', 'op2']);
    hub.fire('op2', 'notify'); // while the waiter is still re-reading
    expect(await w.next()).toBe('notify');
    hub.fire('other', 'local');
    expect(await w.next()).toBe('poll');
    const waiting = w.next();
    hub.fire('op1', 'local');
    expect(await waiting).toBe('local');
    w.close();
    hub.fire('op1', 'local'); // closed: nobody counts it
    expect(hub.counts).toEqual({ local: 1, notified: 1, polls: 1 });
  });

  it('the queue option is checked, naming the field', async () => {
    await expect(createCheckoutEngine({ storage: ':memory:', queue: { pollMs: 10 } })).rejects.toMatchObject({
      key: 'INVALID_INPUT',
      fields: ['queue.pollMs'],
    });
    await expect(createCheckoutEngine({ storage: ':memory:', queue: { notify: 'yes' as never } })).rejects.toMatchObject({
      key: 'INVALID_INPUT',
      fields: ['queue.notify'],
    });
    await expect(createCheckoutEngine({ storage: ':memory:', queue: { poll: 5 } as never })).rejects.toMatchObject({
      key: 'INVALID_INPUT',
      fields: ['queue.poll'],
    });
    expect(wakeChannelFor('shop')).toBe('checkout_ops_shop');
    expect(wakeChannelFor('s'.repeat(63)).length).toBeLessThanOrEqual(63);
  });
});

describe('PostgreSQL: processes wake each other by notification', () => {
  it("a runAsync=false call in process B waiting on A's operation is woken by A's notification", async () => {
    const url = freshPgUrl();
    const g = gate();
    const a = await engine(url, { queue: NO_POLL, faults: { beforeCommit: g.hook } });
    const h = await claimed(a);
    const opId = await startOp(a, h, true);
    await g.at; // A's worker holds the operation (Running, live lease)
    const b = await engine(url, { queue: NO_POLL, worker: false });
    const waiting = (await waitingRun(b, opId)).done; // A's lease is live: B waits
    g.open();
    await waiting;
    expect((await b.getRecord('BackgroundOperation', opId)).Status).toBe('Complete');
    const sb = stats(b);
    expect(sb.listening).toBe(true);
    expect(sb.notified).toBe(1); // woken once, by A's NOTIFY …
    expect(sb.polls).toBe(0); // … not by a poll
    expect(sb.received).toBeGreaterThanOrEqual(1);
    expect(stats(a).sent).toBeGreaterThanOrEqual(1);
    expect(await b.admin.count('Order')).toBe(1);
  });

  it('a runAsync=true operation queued by process A (no workers) is fetched by B at once, and A learns it finished', async () => {
    const url = freshPgUrl();
    const b = await engine(url, { queue: NO_POLL }); // pg-boss polls only every 60 s here
    const a = await engine(url, { queue: NO_POLL, worker: false });
    const h = await claimed(a);
    await sleep(100); // B's workers made their first fetch and now sleep out their 60 s poll
    const opId = await startOp(a, h, true);
    await a.whenIdle(); // returns when the operation finished in B: woken by B's notification
    expect((await a.getRecord('BackgroundOperation', opId)).Status).toBe('Complete');
    expect(b.worker.isRunning(opId)).toBe(false);
    expect(stats(b).received).toBeGreaterThanOrEqual(1); // A's "queued"
    expect(stats(a).received).toBeGreaterThanOrEqual(1); // B's "finished"
    expect(stats(a).polls).toBe(0);
    expect(await a.admin.count('Order')).toBe(1);
  });

  it("the runner waiting for someone else's step is woken by the notification", async () => {
    const url = freshPgUrl();
    const g = gate();
    const a = await engine(url, { queue: NO_POLL, faults: { beforeCommit: g.hook } });
    const h = await claimed(a);
    const opId = await startOp(a, h, true);
    await g.at;
    const b = await engine(url, { queue: NO_POLL, worker: false });
    const waits = watchCalled(b);
    const run = b.runCheckout(h.cart!, { userId: h.buyer!, stopAt: 'cartToOrder' });
    await waits;
    await sleep(100);
    g.open();
    const result = await run;
    expect(result.status).toBe('stopped');
    const step = result.trajectory.find((t) => t.state === 'cartToOrder');
    expect(step).toMatchObject({ calls: ['wait'], operationId: opId, status: 'Complete' });
    expect(stats(b)).toMatchObject({ notified: 1, polls: 0 });
  });

  it('a lost notification costs a poll, not the result: the waiter re-reads at its fallback poll', async () => {
    const url = freshPgUrl();
    const g = gate();
    // A sends no notifications at all: B's wait can only end by its fallback poll.
    const a = await engine(url, { queue: { notify: false }, faults: { beforeCommit: g.hook } });
    const h = await claimed(a);
    const opId = await startOp(a, h, true);
    await g.at;
    const b = await engine(url, { queue: { pollMs: 500 }, worker: false });
    const waiting = (await waitingRun(b, opId)).done;
    g.open();
    await waiting;
    expect((await b.getRecord('BackgroundOperation', opId)).Status).toBe('Complete');
    expect(stats(a)).toMatchObject({ sent: 0, listening: false });
    expect(stats(b).notified).toBe(0);
    expect(stats(b).polls).toBeGreaterThanOrEqual(1);
  });

  it('without a listener a process polls: queued work is still fetched and waits still end', async () => {
    const url = freshPgUrl();
    const b = await engine(url, { queue: { notify: false } });
    const a = await engine(url, { worker: false });
    expect(stats(b).listening).toBe(false);
    const h = await claimed(a);
    const opId = await startOp(a, h, true);
    await a.whenIdle();
    expect((await a.getRecord('BackgroundOperation', opId)).Status).toBe('Complete');
    expect(stats(b).received).toBe(0); // B fetched by polling pg-boss
  });

  it('a listener whose connection is killed reconnects, re-checks, and is woken by notifications again', async () => {
    const url = freshPgUrl();
    const g = gate();
    const a = await engine(url, { queue: NO_POLL, faults: { beforeCommit: g.hook } });
    const b = await engine(url, { queue: NO_POLL, worker: false });
    const queue = b.worker.queue as PgBossQueue;
    const pid = queue.listenerPid;
    expect(pid).toBeTypeOf('number');
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await c.query('select pg_terminate_backend($1)', [pid]);
    } finally {
      await c.end();
    }
    for (let i = 0; stats(b).reconnects < 1; i++) {
      expect(i, 'the listener did not reconnect').toBeLessThan(200);
      await sleep(25);
    }
    expect(queue.listenerPid).not.toBe(pid);
    const h = await claimed(a);
    const opId = await startOp(a, h, true);
    await g.at;
    const before = stats(b).notified;
    const waiting = (await waitingRun(b, opId)).done;
    g.open();
    await waiting;
    expect((await b.getRecord('BackgroundOperation', opId)).Status).toBe('Complete');
    expect(stats(b).notified).toBe(before + 1);
    expect(stats(b).polls).toBe(0);
  });
});
