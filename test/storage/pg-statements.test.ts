/**
 * How the PostgreSQL pool sends statements (src/storage/postgres/index.ts): a text with parameters
 * seen twice becomes a named prepared statement on each connection that runs it; BEGIN goes out
 * with the transaction's first statement; a prepared statement a schema change made stale fails as
 * a lost connection (retryable) and the connection is dropped, so the next run succeeds.
 * PostgreSQL being unreachable fails these tests (the global setup checks it); they never skip.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { StorageFault } from '../../src/errors.js';
import { openPostgres, type PostgresStore } from '../../src/storage/postgres/index.js';
import { dropTestSchemas, freshPgUrl, PG_URL } from '../helpers/backends.js';

afterAll(dropTestSchemas);

const schemaOf = (url: string) => new URL(url).searchParams.get('schema')!;

/** The statements prepared on the store's connection (a pool of one: pg_prepared_statements lists the asking session's). */
async function prepared(s: PostgresStore): Promise<string[]> {
  const db = (s as unknown as { db: Kysely<any> }).db;
  const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements order by prepare_time`.execute(db);
  // The migration's own repeated statements (run on the same connection) are left out.
  return rows.map((r) => r.statement).filter((t) => t.includes('"User"'));
}

describe('PostgreSQL statements', () => {
  it('prepares a repeated statement once per connection and keeps answering the same rows', async () => {
    const url = `${freshPgUrl()}&pool=1`;
    const s = openPostgres(url);
    await s.migrate();
    await s.insert('User', [{ Id: '005000000000001AAA', Username: 'a@example.com', IsActive: true }]);
    expect((await s.get('User', '005000000000001AAA'))?.Username).toBe('a@example.com');
    expect(await prepared(s)).toEqual([]); // seen once: not worth a name yet
    for (let i = 0; i < 4; i++) expect((await s.get('User', '005000000000001AAA'))?.Username).toBe('a@example.com');
    expect(await prepared(s)).toEqual(['select * from "User" where "Id" = $1']);
    // Inside a transaction too (the first statement goes out with BEGIN), same rows.
    for (let i = 0; i < 3; i++) {
      const rows = await s.transaction(async (tx) => {
        await tx.get('User', '005000000000001AAA');
        return tx.find('User', { where: [{ field: 'Username', op: '=', value: 'a@example.com' }] });
      });
      expect(rows.map((r) => r.Id)).toEqual(['005000000000001AAA']);
    }
    expect(await prepared(s)).toHaveLength(2);
    await s.close();
  });

  it('sends a prepared statement without a Describe once its columns are known, and answers the rows pg itself makes', async () => {
    const url = `${freshPgUrl()}&pool=1`;
    const s = openPostgres(url);
    await s.migrate();
    const id = '0a6000000000001AAA';
    await s.insert('WebCart', [
      {
        Id: id,
        Name: 'Cart "1"',
        Status: 'Active',
        TotalListPrice: 12.5,
        GrandTotalAmount: 0.1 + 0.2,
        UniqueProductCount: 3,
        PoNumber: null,
      },
    ]);
    const db = (s as unknown as { db: Kysely<any> }).db;
    // Every type the store reads: text, double precision, integer, null, a bigint count, json, boolean; a repeated name keeps its last value.
    const read = () =>
      sql<Record<string, unknown>>`select *, count(*) over () as n, json_build_array(1, 'a', null) as j, ("UniqueProductCount" > 2) as b,
        1 as "dup", 2 as "dup" from "WebCart" where "Id" = ${id}`.execute(db);
    const admin = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schemaOf(url)}` });
    await admin.connect();
    const describe = vi.spyOn(pg.Connection.prototype, 'describe');
    try {
      const expected = (
        await admin.query(
          `select *, count(*) over () as n, json_build_array(1, 'a', null) as j, ("UniqueProductCount" > 2) as b, 1 as "dup", 2 as "dup" from "WebCart" where "Id" = $1`,
          [id],
        )
      ).rows;
      expect(expected[0]).toMatchObject({ TotalListPrice: 12.5, UniqueProductCount: 3, n: '1', j: [1, 'a', null], b: true, dup: 2 });
      describe.mockClear();
      const described: number[] = [];
      for (let i = 0; i < 5; i++) {
        const { rows } = await read();
        expect(rows).toEqual(expected);
        expect(Object.keys(rows[0]!)).toEqual(Object.keys(expected[0]!));
        described.push(describe.mock.calls.length);
      }
      // Unnamed the first time, named (and so parsed and described) the second, then sent without a Describe.
      expect(described).toEqual([1, 2, 2, 2, 2]);
      // A transaction's first statement goes out with BEGIN in front (two results: the statement's is the last), also without a Describe.
      for (let i = 0; i < 3; i++) await s.get('WebCart', id);
      const before = describe.mock.calls.length;
      for (let i = 0; i < 2; i++) {
        const row = await s.transaction((tx) => tx.get('WebCart', id));
        expect(row).toMatchObject({
          Id: id,
          Name: 'Cart "1"',
          TotalListPrice: 12.5,
          GrandTotalAmount: 0.1 + 0.2,
          UniqueProductCount: 3,
          PoNumber: null,
        });
      }
      expect(describe.mock.calls.length).toBe(before);
    } finally {
      describe.mockRestore();
      await admin.end();
      await s.close();
    }
  });

  it('sends BEGIN with the first statement of a transaction, and a failing first statement still rolls back cleanly', async () => {
    const s = openPostgres(`${freshPgUrl()}&pool=1`);
    await s.migrate();
    const trace = s.roundTrips.trace();
    await s.transaction(async (tx) => {
      await tx.insert('User', [{ Id: '005000000000002AAA', Username: 'b@example.com', IsActive: true }]);
    });
    const sent = trace.stop();
    expect(sent[0]).toMatch(/^begin; insert into "User"/);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toBe('commit');
    // A unique violation in the first statement: the transaction is rolled back, the connection stays usable.
    for (let i = 0; i < 3; i++) {
      await expect(
        s.transaction(async (tx) => {
          await tx.insert('User', [{ Id: `00500000000000${3 + i}AAA`, Username: 'b@example.com', IsActive: true }]);
        }),
      ).rejects.toThrow();
    }
    expect(await s.count('User')).toBe(1);
    // Text that may hold several statements (no parameters, a ';') is sent after a BEGIN of its own.
    const t1 = s.roundTrips.trace();
    const db = (s as unknown as { db: Kysely<any> }).db;
    const n = await db.transaction().execute(async (trx) => {
      await sql`select 1; select 2`.execute(trx);
      return (await sql<{ n: string }>`select count(*) as n from "User"`.execute(trx)).rows[0]!.n;
    });
    expect(Number(n)).toBe(1);
    expect(t1.stop()).toEqual(['begin', 'select 1; select 2', 'select count(*) as n from "User"', 'commit']);
    // An empty transaction sends nothing.
    const t2 = s.roundTrips.trace();
    await s.transaction(async () => undefined);
    expect(t2.stop()).toEqual([]);
    await s.close();
  });

  it('a statement made stale by another process adding a column fails as a lost connection and then runs again', async () => {
    const url = `${freshPgUrl()}&pool=1`;
    const s = openPostgres(url);
    await s.migrate();
    await s.insert('User', [{ Id: '005000000000009AAA', Username: 'c@example.com', IsActive: true }]);
    for (let i = 0; i < 4; i++) await s.get('User', '005000000000009AAA');
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(`alter table "${schemaOf(url)}"."User" add column "Extra" text`);
      // A read outside a transaction is run again on a fresh connection: the caller sees its rows.
      expect((await s.get('User', '005000000000009AAA'))?.Username).toBe('c@example.com');
      // Inside a transaction the failure is a retryable StorageFault (the engine's atomically() runs it again).
      for (let i = 0; i < 4; i++) await s.transaction((tx) => tx.get('User', '005000000000009AAA'));
      await admin.query(`alter table "${schemaOf(url)}"."User" add column "Extra2" text`);
      const failed = await s.transaction((tx) => tx.get('User', '005000000000009AAA')).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(StorageFault);
      expect(s.adapter.isRetryable(failed)).toBe(true);
      // The dropped connection is replaced: the next transaction succeeds.
      expect((await s.transaction((tx) => tx.get('User', '005000000000009AAA')))?.Username).toBe('c@example.com');
    } finally {
      await admin.end();
      await s.close();
    }
  });

  it('?prepare=false sends every statement unnamed, and a bad value is refused', async () => {
    const s = openPostgres(`${freshPgUrl()}&pool=1&prepare=false`);
    await s.migrate();
    await s.insert('User', [{ Id: '005000000000010AAA', Username: 'd@example.com', IsActive: true }]);
    for (let i = 0; i < 4; i++) expect((await s.get('User', '005000000000010AAA'))?.Username).toBe('d@example.com');
    await s.close();
    expect(() => openPostgres(`${freshPgUrl()}&prepare=maybe`)).toThrow(/prepare parameter 'maybe' must be true or false/);
  });
});
