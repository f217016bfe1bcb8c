/**
 * Reads sent together (`readTogether`) on PostgreSQL: one round trip for both (a held BEGIN in
 * front), each read settling on its own — the first's answer is in before the second runs, so a
 * second read that waits for a row lock and then fails (lock timeout, connection terminated) leaves
 * the first read's answer intact; a first read that fails makes the second fail with its error.
 * SQLite runs the same reads one by one with the same outcomes.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgres, type PostgresStore } from '../../src/storage/postgres/index.js';
import { openStorage } from '../../src/storage/index.js';
import type { Row, StorageOps } from '../../src/storage/port.js';
import { StorageFault } from '../../src/errors.js';
import { dropTestSchemas, freshPgUrl, PG_URL } from '../helpers/backends.js';

afterAll(dropTestSchemas);

const USER = '005000000000000AAA';
const OTHER = '005000000000001AAA';

async function pgStore(params = ''): Promise<{ storage: PostgresStore; schema: string; app: string }> {
  const app = `pipe_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const url = `${freshPgUrl()}&application_name=${app}${params}`;
  const storage = openPostgres(url);
  await storage.migrate();
  await storage.insert('User', [
    { Id: USER, Name: 'U', Username: 'u', IsActive: true },
    { Id: OTHER, Name: 'O', Username: 'o', IsActive: true },
  ]);
  return { storage, schema: new URL(url).searchParams.get('schema')!, app };
}

/** The SQL of every round trip `fn` made. */
async function traced<T>(storage: PostgresStore, fn: () => Promise<T>): Promise<{ result: T; sql: string[] }> {
  const trace = storage.roundTrips.trace();
  try {
    return { result: await fn(), sql: trace.stop() };
  } finally {
    trace.stop();
  }
}

const getUser = (id: string) => (o: StorageOps) => o.get('User', id);
const nameOf = (r: PromiseSettledResult<Row | undefined>) => (r.status === 'fulfilled' ? r.value?.Name : r.reason);

async function admin(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  return c;
}

/** Waits until a backend of `app` waits on a lock. */
async function lockWaiter(c: pg.Client, app: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const { rows } = await c.query(`select 1 from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'`, [app]);
    if (rows.length) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('nothing waited on the lock');
}

describe('readTogether (PostgreSQL)', () => {
  it('two reads outside a transaction are one round trip, each with its own rows, again and again (prepared statements named on the way)', async () => {
    const { storage } = await pgStore();
    for (let i = 0; i < 4; i++) {
      const { result, sql } = await traced(storage, () => storage.readTogether(getUser(USER), getUser(OTHER)));
      expect(result.map(nameOf)).toEqual(['U', 'O']);
      expect(sql).toEqual(['select * from "User" where "Id" = $1; select * from "User" where "Id" = $1']);
      // The same statement alone afterwards: the connection's record of its prepared statements holds.
      expect((await storage.get('User', USER))?.Name).toBe('U');
    }
    const { result } = await traced(storage, () => storage.readTogether(getUser('005000000000009AAA'), getUser(OTHER)));
    expect(result.map(nameOf)).toEqual([undefined, 'O']);
    await storage.close();
  });

  it('in a transaction the held BEGIN goes with them: one round trip', async () => {
    const { storage } = await pgStore();
    const { result, sql } = await traced(storage, () =>
      storage.transaction(async (tx) => {
        const both = await tx.readTogether(getUser(USER), (o) => o.get('User', OTHER, { forUpdate: true }));
        await tx.update('User', OTHER, { Name: 'O2' });
        return both;
      }),
    );
    expect(result.map(nameOf)).toEqual(['U', 'O']);
    expect(sql[0]).toBe('begin; select * from "User" where "Id" = $1; select * from "User" where "Id" = $1 for update');
    expect(sql).toHaveLength(3);
    expect((await storage.get('User', OTHER))?.Name).toBe('O2');
    await storage.close();
  });

  it("the second read waiting for a row lock past lock_timeout fails on its own; the first read's rows are kept", async () => {
    const { storage, schema } = await pgStore('&lock_timeout=200');
    const c = await admin();
    try {
      await c.query('begin');
      await c.query(`select 1 from "${schema}"."User" where "Id" = $1 for update`, [OTHER]);
      const result = await storage
        .transaction((tx) => tx.readTogether(getUser(USER), (o) => o.get('User', OTHER, { forUpdate: true })))
        .catch((e: unknown) => e);
      // The transaction's body got both outcomes; it returned them, and the aborted transaction's COMMIT failed.
      expect(result).toBeInstanceOf(Error);
      const inside: PromiseSettledResult<Row | undefined>[] = [];
      await storage
        .transaction(async (tx) => {
          inside.push(...(await tx.readTogether(getUser(USER), (o) => o.get('User', OTHER, { forUpdate: true }))));
          throw new Error('roll back');
        })
        .catch(() => {});
      expect(nameOf(inside[0]!)).toBe('U');
      expect(inside[1]!.status).toBe('rejected');
      expect((inside[1] as PromiseRejectedResult).reason).toMatchObject({ key: 'UNABLE_TO_LOCK_ROW' });
      // The first read locked out: the second is skipped and fails with the first's error.
      const [a, b] = await storage
        .transaction(async (tx) => {
          const r = await tx.readTogether((o) => o.get('User', OTHER, { forUpdate: true }), getUser(USER));
          throw Object.assign(new Error('roll back'), { r });
        })
        .catch((e: { r: PromiseSettledResult<Row | undefined>[] }) => e.r);
      expect((a as PromiseRejectedResult).reason).toMatchObject({ key: 'UNABLE_TO_LOCK_ROW' });
      expect((b as PromiseRejectedResult).reason).toBe((a as PromiseRejectedResult).reason);
      await c.query('rollback');
      // The pool's connections still work (the failed statements' prepared names are accounted for).
      expect((await storage.readTogether(getUser(USER), getUser(OTHER))).map(nameOf)).toEqual(['U', 'O']);
    } finally {
      await c.end();
      await storage.close();
    }
  });

  it("a connection terminated while the second read waits for a lock: the first read's answer had arrived, the second is lost (not committed)", async () => {
    const { storage, schema, app } = await pgStore();
    const c = await admin();
    try {
      await c.query('begin');
      await c.query(`select 1 from "${schema}"."User" where "Id" = $1 for update`, [OTHER]);
      let got: PromiseSettledResult<Row | undefined>[] = [];
      const call = storage
        .transaction(async (tx) => {
          got = await tx.readTogether(getUser(USER), (o) => o.get('User', OTHER, { forUpdate: true }));
        })
        .catch((e: unknown) => e);
      await lockWaiter(c, app);
      await c.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [app]);
      expect(await call).toMatchObject({ key: 'STORAGE_UNAVAILABLE' }); // its ROLLBACK found the connection gone too
      const [a, b] = got;
      expect(nameOf(a!)).toBe('U');
      expect((b as PromiseRejectedResult).reason).toBeInstanceOf(StorageFault);
      expect((b as PromiseRejectedResult).reason).toMatchObject({ key: 'STORAGE_UNAVAILABLE', committed: false });
      await c.query('rollback');
      expect((await storage.readTogether(getUser(USER), getUser(OTHER))).map(nameOf)).toEqual(['U', 'O']);
    } finally {
      await c.end();
      await storage.close();
    }
  });
});

describe('readTogether outside a transaction (PostgreSQL)', () => {
  it('after every idle connection of the pool was terminated, the reads run again on a new connection', async () => {
    const { storage, app } = await pgStore('&pool=1');
    const c = await admin();
    try {
      await storage.get('User', USER); // the pool's one connection is idle now
      const { rows } = await c.query(
        'select count(*)::int as n from (select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1) t',
        [app],
      );
      expect(rows[0].n).toBe(1);
      expect((await storage.readTogether(getUser(USER), getUser(OTHER))).map(nameOf)).toEqual(['U', 'O']);
    } finally {
      await c.end();
      await storage.close();
    }
  });
});

describe('readTogether (SQLite)', () => {
  it('runs the reads one by one with the same outcomes', async () => {
    const storage = await openStorage(':memory:');
    await storage.migrate();
    await storage.insert('User', [
      { Id: USER, Name: 'U', Username: 'u', IsActive: true },
      { Id: OTHER, Name: 'O', Username: 'o', IsActive: true },
    ]);
    expect((await storage.readTogether(getUser(USER), getUser(OTHER))).map(nameOf)).toEqual(['U', 'O']);
    const boom = new Error('boom');
    const [a, b] = await storage.readTogether(() => Promise.reject(boom), getUser(OTHER));
    expect([a.status, b.status]).toEqual(['rejected', 'rejected']);
    expect((b as PromiseRejectedResult).reason).toBe(boom);
    await storage.close();
  });
});
