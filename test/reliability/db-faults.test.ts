/**
 * Database faults (issue 13 item 3): SQLite busy and locked, a full (size-limited) database, and on
 * PostgreSQL a terminated connection (between calls, in the middle of a transaction, during COMMIT),
 * a lock wait past lock_timeout and a statement past statement_timeout. Each gives the caller a clear
 * error (or, where re-running is safe, succeeds), leaves the session as it was so the same call
 * succeeds afterwards, and the same engine carries on (no new engine, no restart).
 * The PostgreSQL server restart is in db-faults-restart.test.ts.
 */
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, type CheckoutEngine } from '../../src/index.js';
import { demoFixture } from '../../src/demo/fixture.js';
import { StorageFault } from '../../src/errors.js';
import { openSqlite } from '../../src/storage/sqlite/index.js';
import { postgresFault } from '../../src/storage/postgres/index.js';
import { dropTestSchemas, freshPgUrl, freshSqliteFile, PG_URL } from '../helpers/backends.js';
import { claimedCart, errorOf } from '../helpers/engine.js';
import { startTestServer, V } from '../http/helpers.js';

afterAll(dropTestSchemas);

/** A process that holds a SQLite file's write lock for argv[2] ms (prints "held" once it has it). */
const HOLDER = `const db = new (require('better-sqlite3'))(process.argv[1]); db.prepare('begin immediate').run();
process.stdout.write('held\\n'); setTimeout(() => { db.prepare('rollback').run(); db.close(); }, Number(process.argv[2]));`;

const CLAIM = { expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' };

/** Claims cartToOrder on the demo session (one transaction that locks the session row). */
const claim = (engine: CheckoutEngine, ids: Record<string, string>) =>
  engine
    .invoke('updateCheckoutSessionStateAction', [{ checkoutSessionId: ids.session, ...CLAIM }], { userId: ids.buyer! })
    .then((r) => r[0]!);

/** The session fields a fault must leave as they were. */
const sessionOf = async (engine: CheckoutEngine, ids: Record<string, string>) => {
  const s = await engine.getRecord('CartCheckoutSession', ids.session!);
  return { State: s.State, NextState: s.NextState, IsProcessing: s.IsProcessing, IsError: s.IsError };
};

/** The caught error of a promise that must reject. */
async function rejection(p: Promise<unknown>): Promise<StorageFault> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StorageFault);
    return e as StorageFault;
  }
  throw new Error('expected the call to fail');
}

describe('SQLite faults', () => {
  it('busy: a write lock held past busy_timeout gives UNABLE_TO_LOCK_ROW 409, the session unchanged; the same call then succeeds', async () => {
    const file = freshSqliteFile();
    const engine = await createCheckoutEngine({ storage: `${file}?busy_timeout=300`, onError: () => {} });
    const ids = await engine.seed(demoFixture({ sessionState: 'checkoutSummary' }));
    const before = await sessionOf(engine, ids);
    const other = new Database(file);
    other.prepare('begin immediate').run(); // another process's writer, holding the write lock
    let settled = false;
    const pending = claim(engine, ids).finally(() => (settled = true));
    await sessionOf(engine, ids); // the wait doesn't block the process: other calls go on meanwhile
    expect(settled).toBe(false);
    const r = await pending;
    expect(errorOf(r)).toMatchObject({ code: 'UNABLE_TO_LOCK_ROW', status: 409 });
    expect(errorOf(r).message).toMatch(/unable to obtain exclusive access.*300 ms \(busy_timeout\)/);
    expect(await sessionOf(engine, ids)).toEqual(before); // reads go on while the writer holds its lock (WAL)
    other.prepare('rollback').run();
    other.close();
    expect((await claim(engine, ids)).isSuccess).toBe(true);
    expect((await sessionOf(engine, ids)).NextState).toBe('cartToOrder');
    await engine.close();
  }, 20_000);

  it('over HTTP: the invocable action answers 409 with UNABLE_TO_LOCK_ROW in the result, a record write 409 in the REST error shape', async () => {
    const file = freshSqliteFile();
    const t = await startTestServer(`${file}?busy_timeout=200`);
    try {
      const token = await t.token();
      const other = new Database(file);
      other.prepare('begin immediate').run();
      const r = await t.call('POST', `${V}/actions/standard/updateCheckoutSessionStateAction`, {
        token,
        body: { inputs: [{ checkoutSessionId: t.ids.session, ...CLAIM }] },
      });
      expect(r.status).toBe(409);
      expect(r.body).toEqual([
        expect.objectContaining({
          isSuccess: false,
          errors: [{ statusCode: 'UNABLE_TO_LOCK_ROW', message: expect.stringMatching(/^unable to obtain exclusive access/), fields: [] }],
        }),
      ]);
      const w = await t.call('PATCH', `${V}/sobjects/CartItem/${t.ids.item0}`, { token, body: { Quantity: 7 } });
      expect(w.status).toBe(409);
      expect(w.body).toEqual([{ errorCode: 'UNABLE_TO_LOCK_ROW', message: expect.stringMatching(/busy_timeout/), fields: [] }]);
      other.prepare('rollback').run();
      other.close();
      expect(
        (
          await t.call('POST', `${V}/actions/standard/updateCheckoutSessionStateAction`, {
            token,
            body: { inputs: [{ checkoutSessionId: t.ids.session, ...CLAIM }] },
          })
        ).status,
      ).toBe(200);
    } finally {
      await t.close();
    }
  }, 20_000);

  it("locked for less than busy_timeout: another process's write lock is waited out and the call succeeds", async () => {
    const file = freshSqliteFile();
    const engine = await createCheckoutEngine({ storage: `${file}?busy_timeout=20000`, onError: () => {} });
    const ids = await engine.seed(demoFixture({ sessionState: 'checkoutSummary' }));
    // Another process takes the write lock, says so, and lets go 300 ms later.
    const holder = spawn(process.execPath, ['-e', HOLDER, file, '300'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const r = await claim(engine, ids); // waits for the lock without blocking this process
    expect(r.isSuccess, JSON.stringify(r.errors)).toBe(true);
    expect(await exited).toBe(0);
    expect((await sessionOf(engine, ids)).NextState).toBe('cartToOrder');
    await engine.close();
  }, 30_000);

  it('disk full: a size-limited database refuses a write with STORAGE_LIMIT_EXCEEDED 507 and keeps nothing of it; raising the cap lets the same write through', async () => {
    const store = openSqlite(freshSqliteFile());
    const engine = await createCheckoutEngine({ storage: store, onError: () => {} });
    const ids = await engine.seed(demoFixture({ sessionState: 'checkoutSummary' }));
    const admin = { userId: ids.admin! };
    const products = async () => (await engine.query('SELECT COUNT() FROM Product2', admin)).totalSize;
    const before = { products: await products(), session: await sessionOf(engine, ids) };
    const big = {
      Product2: Array.from({ length: 400 }, (_, i) => ({
        ref: `p${i}`,
        Name: `Filler ${i} ${'x'.repeat(200)}`,
        StockKeepingUnit: `FILL-${i}`,
      })),
    };
    const pages = store.pageCount();
    expect(store.limitPages(pages)).toBe(pages); // the disk is full: not one page more
    const e = await rejection(engine.seed(big));
    expect(e).toMatchObject({ key: 'STORAGE_FULL', code: 'STORAGE_LIMIT_EXCEEDED', status: 507, committed: false });
    expect(e.message).toMatch(/storage limit exceeded.*SQLITE_FULL/);
    expect({ products: await products(), session: await sessionOf(engine, ids) }).toEqual(before); // all or nothing
    expect(store.pageCount()).toBe(pages);
    store.limitPages(pages * 4); // space again
    await engine.seed(big);
    expect(await products()).toBe(before.products + 400);
    expect((await claim(engine, ids)).isSuccess).toBe(true);
    await engine.close();
  }, 20_000);
});

/** A PostgreSQL engine whose connections carry an application_name of their own, so the test ends only those. */
async function pgEngine(params = '') {
  const app = `dbfault_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const url = `${freshPgUrl()}&application_name=${app}${params}`;
  const engine = await createCheckoutEngine({ storage: url, onError: () => {} });
  const ids = await engine.seed(demoFixture({ sessionState: 'checkoutSummary' }));
  const schema = new URL(url).searchParams.get('schema')!;
  return { engine, ids, app, schema };
}

/** A separate (admin) connection to the test database. */
async function adminClient(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  return c;
}

/** Ends every backend of the engine's pool (by application_name); returns how many. */
async function terminate(admin: pg.Client, app: string): Promise<number> {
  const { rows } = await admin.query(
    'select count(*)::int as n from (select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1) t',
    [app],
  );
  return rows[0].n;
}

/** Waits until one of the engine's backends waits on a lock (optionally running `query`). */
async function lockWaiter(admin: pg.Client, app: string, query?: RegExp): Promise<void> {
  for (let i = 0; i < 400; i++) {
    // The admin may be inside a transaction, where pg_stat_activity is a snapshot: take a new one.
    await admin.query('select pg_stat_clear_snapshot()');
    const { rows } = await admin.query(`select query from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'`, [
      app,
    ]);
    if (rows.some((r) => !query || query.test(r.query))) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the engine never waited on the lock');
}

/** Holds the session row locked (SELECT … FOR UPDATE) in an open transaction on `admin`. */
async function lockSessionRow(admin: pg.Client, schema: string, sessionId: string): Promise<void> {
  await admin.query('begin');
  const { rowCount } = await admin.query(`select 1 from "${schema}"."CartCheckoutSession" where "Id" = $1 for update`, [sessionId]);
  expect(rowCount).toBe(1);
}

describe('PostgreSQL faults', { timeout: 20_000 }, () => {
  it('dropped connections: after pg_terminate_backend of every idle connection the next calls just work (the pool connects anew, no crash)', async () => {
    const { engine, ids, app } = await pgEngine();
    const admin = await adminClient();
    try {
      await sessionOf(engine, ids); // the pool holds idle connections now
      expect(await terminate(admin, app)).toBeGreaterThan(0);
      // At once: a read that still finds a dead connection in the pool runs again on a new one.
      expect(await sessionOf(engine, ids)).toMatchObject({ State: 'checkoutSummary' });
      expect((await claim(engine, ids)).isSuccess).toBe(true);
    } finally {
      await admin.end();
      await engine.close();
    }
  });

  it('a connection terminated in the middle of a transaction: the transaction never committed, so it runs again on a new connection and the call succeeds once', async () => {
    const { engine, ids, app, schema } = await pgEngine();
    const admin = await adminClient();
    try {
      await lockSessionRow(admin, schema, ids.session!);
      const call = claim(engine, ids);
      await lockWaiter(admin, app); // the claim's transaction waits for the row
      expect(await terminate(admin, app)).toBeGreaterThan(0);
      await lockWaiter(admin, app); // its re-run, on a new connection, waits again
      await admin.query('rollback');
      const r = await call;
      expect(r.isSuccess, JSON.stringify(r.errors)).toBe(true);
      expect(await sessionOf(engine, ids)).toMatchObject({ NextState: 'cartToOrder' });
      const claims = (await engine.getHistory(ids.session!)).filter(
        (h) => h.accepted && h.operation === 'updateCheckoutSessionStateAction',
      );
      expect(claims).toHaveLength(1); // the terminated attempt left nothing behind
    } finally {
      await admin.end();
      await engine.close();
    }
  });

  it('a connection lost while COMMIT is in flight: SERVICE_UNAVAILABLE 503 saying the outcome is unknown, never re-run; reading shows it did not commit, and the same call then succeeds', async () => {
    const { engine, ids, app, schema } = await pgEngine();
    const admin = await adminClient();
    try {
      // A deferred trigger makes COMMIT wait for an advisory lock the test holds.
      await admin.query(
        `create function "${schema}".dbf_wait() returns trigger language plpgsql as $$ begin perform pg_advisory_xact_lock(4242); return null; end $$`,
      );
      await admin.query(
        `create constraint trigger dbf_wait after update on "${schema}"."CartCheckoutSession" deferrable initially deferred for each row execute function "${schema}".dbf_wait()`,
      );
      await admin.query('select pg_advisory_lock(4242)');
      const call = claim(engine, ids);
      await lockWaiter(admin, app, /^commit$/i);
      expect(await terminate(admin, app)).toBe(1);
      const r = await call;
      expect(errorOf(r)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
      expect(errorOf(r).message).toMatch(/lost while the transaction was committing: it may or may not have been saved/);
      await admin.query(`drop trigger dbf_wait on "${schema}"."CartCheckoutSession"`);
      await admin.query('select pg_advisory_unlock(4242)');
      expect(await sessionOf(engine, ids)).toMatchObject({ State: 'checkoutSummary', NextState: null, IsProcessing: false }); // it had not committed
      expect((await claim(engine, ids)).isSuccess).toBe(true);
    } finally {
      await admin.end();
      await engine.close();
    }
  });

  it('lock_timeout: a row lock held longer than ?lock_timeout gives UNABLE_TO_LOCK_ROW 409; the same call succeeds once the lock is gone', async () => {
    const { engine, ids, schema } = await pgEngine('&lock_timeout=300');
    const admin = await adminClient();
    try {
      await lockSessionRow(admin, schema, ids.session!);
      const r = await claim(engine, ids);
      expect(errorOf(r)).toMatchObject({ code: 'UNABLE_TO_LOCK_ROW', status: 409 });
      expect(errorOf(r).message).toMatch(/lock_timeout.*55P03/);
      await admin.query('rollback');
      expect(await sessionOf(engine, ids)).toMatchObject({ State: 'checkoutSummary', NextState: null });
      expect((await claim(engine, ids)).isSuccess).toBe(true);
    } finally {
      await admin.end();
      await engine.close();
    }
  });

  it('statement_timeout: a statement stuck past ?statement_timeout (a lock wait here) gives REQUEST_RUNNING_TOO_LONG 503; the same call succeeds afterwards', async () => {
    const { engine, ids, schema } = await pgEngine('&statement_timeout=1000&lock_timeout=0');
    const admin = await adminClient();
    try {
      await lockSessionRow(admin, schema, ids.session!);
      const r = await claim(engine, ids);
      expect(errorOf(r)).toMatchObject({ code: 'REQUEST_RUNNING_TOO_LONG', status: 503 });
      expect(errorOf(r).message).toMatch(/statement timeout.*57014/);
      await admin.query('rollback');
      expect(await sessionOf(engine, ids)).toMatchObject({ State: 'checkoutSummary', NextState: null });
      expect((await claim(engine, ids)).isSuccess).toBe(true);
    } finally {
      await admin.end();
      await engine.close();
    }
  });

  it('statement_timeout limits requests, not the start: an engine starting while its schema check waits past the timeout still starts, and its requests are still limited', async () => {
    const url = freshPgUrl();
    const first = await createCheckoutEngine({ storage: url, onError: () => {} });
    const ids = await first.seed(demoFixture({ sessionState: 'checkoutSummary' }));
    await first.close();
    const schema = new URL(url).searchParams.get('schema')!;
    const admin = await adminClient();
    let engine: CheckoutEngine | null = null;
    try {
      // The start-up check reads the schema's version table: held here for longer than the timeout.
      await admin.query('begin');
      await admin.query(`lock table "${schema}"."engine_migration" in access exclusive mode`);
      const starting = createCheckoutEngine({ storage: `${url}&statement_timeout=1000&lock_timeout=0`, onError: () => {} });
      await new Promise((r) => setTimeout(r, 1300));
      await admin.query('rollback');
      engine = await starting;
      await lockSessionRow(admin, schema, ids.session!);
      const r = await claim(engine, ids);
      expect(errorOf(r)).toMatchObject({ code: 'REQUEST_RUNNING_TOO_LONG', status: 503 });
      await admin.query('rollback');
      expect((await claim(engine, ids)).isSuccess).toBe(true);
    } finally {
      await admin.query('rollback').catch(() => {});
      await admin.end();
      await engine?.close();
    }
  });

  it('bad fault settings are refused naming the storage field', async () => {
    for (const bad of ['statement_timeout=soon', 'lock_timeout=-1', 'connect_timeout=0']) {
      await expect(createCheckoutEngine({ storage: `${freshPgUrl()}&${bad}` })).rejects.toMatchObject({
        key: 'INVALID_INPUT',
        fields: ['storage'],
      });
    }
    await expect(createCheckoutEngine({ storage: `${freshSqliteFile()}?busy_timeout=x` })).rejects.toMatchObject({
      key: 'INVALID_INPUT',
      fields: ['storage'],
    });
  });
});

describe('the worker: an operation whose commit hits a database fault is not lost', { timeout: 20_000 }, () => {
  const ops = (engine: CheckoutEngine, admin: string) =>
    engine.query('SELECT Id, Status, Error, RetryCount FROM BackgroundOperation', { userId: admin }).then((r) => r.records);
  const orders = (engine: CheckoutEngine, admin: string) =>
    engine.query('SELECT COUNT() FROM Order', { userId: admin }).then((r) => r.totalSize);

  it('PostgreSQL: the connection terminated inside the commit transaction — it never committed, so it runs again and the operation completes with one Order', async () => {
    const app = `dbfault_${process.pid}_worker`;
    const admin = await adminClient();
    let cut = 0;
    const engine = await createCheckoutEngine({
      storage: `${freshPgUrl()}&application_name=${app}`,
      onError: () => {},
      faults: {
        // The engine's connection is checked out and idle between two statements here: its loss must not crash the process.
        insideCommit: async () => {
          if (cut++ === 0) expect(await terminate(admin, app)).toBeGreaterThan(0);
        },
      },
    });
    try {
      const ids = await claimedCart(engine);
      const [r] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: false }], { userId: ids.buyer! });
      expect(r!.isSuccess).toBe(true);
      expect(cut).toBe(2); // the commit transaction ran twice
      expect(await ops(engine, ids.admin!)).toEqual([expect.objectContaining({ Status: 'Complete', Error: null })]);
      expect(await orders(engine, ids.admin!)).toBe(1);
    } finally {
      await admin.end();
      await engine.close();
    }
  });

  it('SQLite disk full in the one-transaction cartToOrder: the caller gets STORAGE_LIMIT_EXCEEDED 507, nothing of the call is kept, and the same call succeeds once there is room', async () => {
    const store = openSqlite(freshSqliteFile());
    const engine = await createCheckoutEngine({ storage: store, onError: () => {} });
    const ids = await claimedCart(engine, { lines: 120 });
    const before = await sessionOf(engine, ids);
    const pages = store.pageCount();
    store.limitPages(pages);
    const [r] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: false }], { userId: ids.buyer! });
    expect(r).toMatchObject({
      isSuccess: false,
      httpStatus: 507,
      errors: [expect.objectContaining({ statusCode: 'STORAGE_LIMIT_EXCEEDED' })],
    });
    expect(r!.errors![0]!.message).toMatch(/storage limit exceeded.*SQLITE_FULL/);
    // The claim, the order and the operation were one transaction: none of it happened.
    expect(await ops(engine, ids.admin!)).toEqual([]);
    expect(await orders(engine, ids.admin!)).toBe(0);
    expect((await engine.query('SELECT COUNT() FROM OrderItem', { userId: ids.admin! })).totalSize).toBe(0);
    expect(await sessionOf(engine, ids)).toEqual(before);
    store.limitPages(pages * 4);
    const [again] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: false }], { userId: ids.buyer! });
    expect(again!.isSuccess).toBe(true);
    expect(await orders(engine, ids.admin!)).toBe(1);
    expect(await ops(engine, ids.admin!)).toEqual([expect.objectContaining({ Status: 'Complete' })]);
    await engine.close();
  });

  // A database fault (here a lock held past busy_timeout) in the commit and in the failure write
  // neither fails the checkout nor strands it: the caller gets the fault's clear error, the
  // operation stays Running and the worker runs it again after a backoff.
  it('SQLite: a lock held past busy_timeout during the commit and the failure write — the caller gets UNABLE_TO_LOCK_ROW, and the operation runs again once the lock is gone, without a restart', async () => {
    const file = freshSqliteFile();
    let other: Database.Database | undefined;
    const engine = await createCheckoutEngine({
      storage: `${file}?busy_timeout=200`,
      onError: () => {},
      faults: {
        beforeCommit: async () => {
          if (other) return;
          other = new Database(file);
          other.prepare('begin immediate').run();
        },
      },
    });
    try {
      const ids = await claimedCart(engine);
      const [r] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: false }], { userId: ids.buyer! });
      expect(r).toMatchObject({ isSuccess: false, errors: [expect.objectContaining({ statusCode: 'UNABLE_TO_LOCK_ROW' })] });
      other!.prepare('rollback').run();
      let status: unknown;
      for (let i = 0; i < 20 && status !== 'Complete'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await ops(engine, ids.admin!))[0]!.Status;
      }
      expect(status).toBe('Complete');
    } finally {
      other?.close();
      await engine.close();
    }
  });
});

describe('what a lost PostgreSQL connection may have left behind', () => {
  const lost = new Error('Connection terminated unexpectedly');
  const unsent = new Error('Client has encountered a connection error and is not queryable');
  it.each([
    ['a statement of a transaction', lost, 'none', false],
    ['a COMMIT', lost, 'commit', 'unknown'],
    ['a write outside a transaction', lost, 'write', 'unknown'],
    ['a statement node-postgres never sent', unsent, 'write', false],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'none', false],
    [
      'a terminated backend',
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      'commit',
      'unknown',
    ],
  ] as const)('%s', (_what, err, inFlight, committed) => {
    expect(postgresFault(err, inFlight)).toMatchObject({ key: 'STORAGE_UNAVAILABLE', status: 503, committed });
  });
  it('other errors are not faults; lock and statement timeouts are their own', () => {
    expect(postgresFault(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBeNull();
    expect(postgresFault(Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' }))).toMatchObject({
      key: 'UNABLE_TO_LOCK_ROW',
      status: 409,
    });
    expect(postgresFault(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }))).toMatchObject({
      key: 'STORAGE_TIMEOUT',
      status: 503,
    });
    expect(postgresFault(Object.assign(new Error('could not extend file: No space left on device'), { code: '53100' }))).toMatchObject({
      key: 'STORAGE_FULL',
      status: 507,
    });
  });
});
