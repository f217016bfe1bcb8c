/**
 * The operation queues and leases (issue 5, items 2 and 3), in one test process: several engines
 * on one database stand in for several processes (each has its own pool and its own pg-boss).
 * The kill -9 version with real processes is contention.test.ts.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCheckoutEngine, type CheckoutEngine, type CheckoutEngineOptions } from '../../src/engine/engine.js';
import { bossSchemaFor } from '../../src/engine/queue/index.js';
import { dropTestSchemas, freshPgUrl, freshSqliteFile, PG_URL } from '../helpers/backends.js';
import pg from 'pg';
import { claimed, gate, startOp } from './claimed-operation.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const open: CheckoutEngine[] = [];
const quiet = { onError: (e: unknown) => console.error('[test engine]', e) };

async function engine(storage: string, opts: CheckoutEngineOptions = {}): Promise<CheckoutEngine> {
  const e = await createCheckoutEngine({ storage, ...quiet, ...opts });
  open.push(e);
  return e;
}

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((e) => e.close()));
});
afterAll(dropTestSchemas);

describe('queue selection', () => {
  it('uses pg-boss in a per-engine-schema pg-boss schema on PostgreSQL, the in-process queue on SQLite', async () => {
    const url = freshPgUrl();
    const e = await engine(url);
    expect(e.worker.queue.kind).toBe('pg-boss');
    const schema = new URL(url).searchParams.get('schema')!;
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      const { rows } = await c.query(
        'select count(*)::int as n from information_schema.tables where table_schema = $1 and table_name = $2',
        [bossSchemaFor(schema), 'job'],
      );
      expect(rows[0].n).toBe(1);
    } finally {
      await c.end();
    }
    const s = await engine(':memory:');
    expect(s.worker.queue.kind).toBe('in-process');
    expect(bossSchemaFor('public')).toBe('pgboss');
  });
});

describe('PostgreSQL storage URL', () => {
  it('takes ?pool=N and refuses bad pool and schema parameters with INVALID_INPUT naming storage', async () => {
    const e = await engine(`${freshPgUrl()}&pool=2`);
    const h = await claimed(e);
    await startOp(e, h, false);
    expect(await e.admin.count('Order')).toBe(1);
    for (const bad of [`${PG_URL}?pool=0`, `${PG_URL}?pool=two`, `${PG_URL}?schema=Bad-Name`]) {
      await expect(createCheckoutEngine({ storage: bad })).rejects.toMatchObject({
        key: 'INVALID_INPUT',
        status: 400,
        fields: ['storage'],
      });
    }
  });
});

describe('PostgreSQL: operations are shared by every engine process', () => {
  it('an operation queued by a process without a worker is run by another process', async () => {
    const url = freshPgUrl();
    const api = await engine(url, { worker: false });
    const h = await claimed(api);
    const worker = await engine(url);
    const opId = await startOp(api, h, true);
    await api.whenIdle(); // waits for its operation although another process runs it
    const op = await api.getRecord('BackgroundOperation', opId);
    expect(op.Status).toBe('Complete');
    const s = await api.getRecord('CartCheckoutSession', h.session!);
    expect(s.State).toBe('cartToOrder');
    expect(await api.admin.count('Order')).toBe(1);
    expect(worker.worker.queue.kind).toBe('pg-boss');
  });

  it('queues of different schemas do not share jobs', async () => {
    const idle = await engine(freshPgUrl(), { worker: false });
    const h = await claimed(idle);
    await engine(freshPgUrl()); // a busy worker elsewhere must not take this schema's job
    const opId = await startOp(idle, h, true);
    await sleep(1_200);
    expect((await idle.getRecord('BackgroundOperation', opId)).Status).toBe('New');
  });

  it('a worker stalled past its lease loses the operation to another process, and is fenced off when it wakes', async () => {
    const url = freshPgUrl();
    const ga = gate();
    const a = await engine(url, { leaseMs: 1_000, faults: { beforeCommit: ga.hook } });
    const h = await claimed(a);
    const opId = await startOp(a, h, true);
    expect(await ga.at).toBe(opId);
    expect((await a.getRecord('BackgroundOperation', opId)).Status).toBe('Running');
    // b takes the operation over once a's lease expired, and stops at its own commit point.
    const gb = gate();
    const b = await engine(url, { leaseMs: 10_000, faults: { beforeCommit: gb.hook } });
    expect(await Promise.race([gb.at, sleep(15_000).then(() => 'timeout')])).toBe(opId);
    expect((await b.getRecord('BackgroundOperation', opId)).RetryCount).toBe(1);
    // a wakes up: its lease is gone, so it neither commits nor fails the operation.
    ga.open();
    for (let i = 0; a.worker.isRunning(opId); i++) {
      expect(i).toBeLessThan(100);
      await sleep(20);
    }
    expect((await b.getRecord('BackgroundOperation', opId)).Status).toBe('Running');
    expect(await b.admin.count('Order')).toBe(0);
    gb.open();
    await b.whenIdle();
    for (let i = 0; (await b.getRecord('BackgroundOperation', opId)).Status !== 'Complete'; i++) {
      expect(i).toBeLessThan(100);
      await sleep(50);
    }
    expect(await b.admin.count('Order')).toBe(1);
    expect((await b.getRecord('CartCheckoutSession', h.session!)).OrderId).toBeTruthy();
  });

  it('runAsync=false waits for its operation while another live process holds it', async () => {
    const url = freshPgUrl();
    const g = gate();
    const a = await engine(url, { leaseMs: 10_000, faults: { beforeCommit: g.hook } });
    const h = await claimed(a);
    const opId = await startOp(a, h, true);
    await g.at;
    const b = await engine(url, { leaseMs: 10_000 });
    let finished = false;
    const waiting = b.worker.run(opId).then(() => (finished = true));
    await sleep(300);
    expect(finished).toBe(false); // the lease is live: b neither runs it nor returns early
    g.open();
    await waiting;
    const op = await b.getRecord('BackgroundOperation', opId);
    expect({ Status: op.Status, RetryCount: op.RetryCount }).toEqual({ Status: 'Complete', RetryCount: 0 });
    expect(await b.admin.count('Order')).toBe(1);
  });

  it('an operation committed New but never sent (the sender died) is swept and run', async () => {
    const url = freshPgUrl();
    const api = await engine(url, { worker: false });
    const h = await claimed(api);
    // Simulate the sender dying between its commit and the job send: the action commits, no job goes out.
    (api.worker as unknown as { queue: { enqueue: (id: string) => Promise<void> } }).queue.enqueue = async () => {};
    const opId = await startOp(api, h, true);
    const w = await engine(url, { leaseMs: 1_000 });
    // The sweep runs it: polled a bounded number of times (a count, not a wall-clock budget).
    for (let i = 0; (await w.getRecord('BackgroundOperation', opId)).Status !== 'Complete'; i++) {
      expect(i, 'the operation was never swept and run').toBeLessThan(100);
      await sleep(100);
    }
    expect(await w.admin.count('Order')).toBe(1);
  });
});

describe('SQLite: the in-process worker recovers after a restart', () => {
  it('an operation left Running by a dead engine is rerun by the next one, with exactly one Order', async () => {
    const file = freshSqliteFile();
    const g = gate();
    const a = await createCheckoutEngine({ storage: file, ...quiet, faults: { beforeCommit: g.hook } });
    const h = await claimed(a);
    const opId = await startOp(a, h, true);
    await g.at; // "crash" here: the operation is Running, its commit never happens in this engine
    expect((await a.getRecord('BackgroundOperation', opId)).Status).toBe('Running');
    const b = await engine(file);
    await b.whenIdle();
    const op = await b.getRecord('BackgroundOperation', opId);
    expect({ Status: op.Status, RetryCount: op.RetryCount }).toEqual({ Status: 'Complete', RetryCount: 1 });
    g.open(); // the zombie's commit finds the operation complete and writes nothing
    await a.whenIdle();
    await a.close();
    expect(await b.admin.count('Order')).toBe(1);
    expect((await b.getRecord('CartCheckoutSession', h.session!)).State).toBe('cartToOrder');
  });
});
