/**
 * The SQLite driver (src/storage/sqlite/index.ts): row objects built from raw rows (`rowMaker`) have
 * the same keys, key order and values better-sqlite3's own named rows have, for every shape of
 * result; a statement outside a transaction runs at once only while nothing else uses the
 * connection, so it never lands inside a transaction nor overtakes one asked for before it; a
 * transaction runs its BEGIN, body and COMMIT (or ROLLBACK) on the connection it takes from Kysely's
 * driver, and its operations refuse to run anything once it has ended.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { TransactionFinished } from '../../src/storage/crud.js';
import type { StorageOps } from '../../src/storage/port.js';
import { openSqlite, rowMaker } from '../../src/storage/sqlite/index.js';
import { sqlWhile } from '../helpers/sql-log.js';

/** The named rows better-sqlite3 gives for `sql`, and the ones rowMaker builds from the raw rows. */
function both(db: Database.Database, sql: string, params: unknown[] = []) {
  const named = db.prepare(sql).all(params) as Record<string, unknown>[];
  const stmt = db.prepare(sql);
  const maker = rowMaker(stmt)!;
  const made = maker.all(stmt.all(params) as unknown[][]);
  const iterated = [...maker.iterate(stmt.iterate(params) as IterableIterator<unknown[]>)];
  return { named, made, iterated };
}

const same = (a: Record<string, unknown>[], b: Record<string, unknown>[]) => {
  expect(a.map((r) => Object.keys(r))).toEqual(b.map((r) => Object.keys(r)));
  expect(a).toEqual(b);
  for (const r of a) expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
};

describe('SQLite row objects', () => {
  it('equal better-sqlite3’s named rows: wide rows, nulls, numbers, blobs, repeated and numeric names, no rows', () => {
    const db = new Database(':memory:');
    const cols = Array.from({ length: 40 }, (_, i) => `"c${i}" ${i % 3 === 0 ? 'real' : 'text'}`);
    db.exec(`create table t ("Id" text primary key, ${cols.join(', ')}, b blob)`);
    const ins = db.prepare(`insert into t values (${Array.from({ length: 42 }, () => '?').join(', ')})`);
    for (let r = 0; r < 3; r++)
      ins.run([
        `id${r}`,
        ...Array.from({ length: 40 }, (_, i) => (r === 1 && i % 5 === 0 ? null : i % 3 === 0 ? i + r / 7 : `v${i}-${r}`)),
        Buffer.from([r]),
      ]);
    for (const [sql, params] of [
      ['select * from t order by "Id"', []],
      ['select * from t where "Id" = ?', ['id1']],
      ['select * from t where "Id" = ?', ['none']],
      ['select "c1" as x, "c2" as x, 1, 2 as "10", "Id" from t order by "Id"', []],
      ['select a.*, b."c4" as "c4" from t as a join t as b on b."Id" = a."Id"', []],
      ['select count(*) as n from t', []],
    ] as [string, unknown[]][]) {
      const { named, made, iterated } = both(db, sql, params);
      same(made, named);
      same(iterated, named);
    }
    db.close();
  });

  it('reads the columns again when a select * grows with its table, and leaves a __proto__ column to named rows', () => {
    const db = new Database(':memory:');
    db.exec('create table t ("Id" text, a text)');
    db.prepare('insert into t values (?, ?)').run('x', 'a');
    const stmt = db.prepare('select * from t');
    const maker = rowMaker(stmt)!;
    expect(maker.all(stmt.all() as unknown[][])).toEqual([{ Id: 'x', a: 'a' }]);
    db.exec("alter table t add column b text default 'bee'");
    const grown = maker.all(stmt.all() as unknown[][]);
    expect(grown).toEqual(db.prepare('select * from t').all());
    expect(Object.keys(grown[0]!)).toEqual(['Id', 'a', 'b']);
    expect(rowMaker(db.prepare('select 1 as "__proto__"'))).toBeNull();
    db.close();
  });

  it('a store reads the rows it wrote, through Kysely and in a transaction alike', async () => {
    const store = openSqlite(':memory:');
    await store.migrate();
    const row = { Id: '001000000000001AAA', Name: 'Acme', CreatedDate: '2026-01-01T00:00:00.000Z' };
    await store.transaction(async (tx) => {
      await tx.insert('Account', [row]);
      expect(await tx.get('Account', row.Id)).toMatchObject(row);
    });
    expect(await store.get('Account', row.Id)).toMatchObject(row);
    expect(await store.find('Account', { where: [{ field: 'Name', op: '=', value: 'Acme' }] })).toHaveLength(1);
    await store.close();
  });

  it('the facts read answers each of its rows as a plain read of it would: the same keys, order and decoded values', async () => {
    const store = openSqlite(':memory:');
    await store.migrate();
    const at = '2026-01-01T00:00:00.000Z';
    const ids = { store: '0ZE000000000001AAA', cart: '0a6000000000001AAA', session: '2z9000000000001AAA', op: '0Yb000000000001AAA' };
    await store.transaction(async (tx) => {
      await tx.insert('WebStore', [{ Id: ids.store, Name: 'Shop', CreatedDate: at, CheckoutTimeToLive: 3600 }]);
      await tx.insert('WebCart', [
        { Id: ids.cart, Name: 'Cart', WebStoreId: ids.store, Status: 'Checkout', OwnerId: '005000000000001AAA', CreatedDate: at },
      ]);
      await tx.insert('CartCheckoutSession', [
        {
          Id: ids.session,
          WebCartId: ids.cart,
          State: 'start',
          NextState: 'inventory',
          IsProcessing: true,
          IsArchived: false,
          BackgroundOperationId: ids.op,
          CreatedDate: at,
        },
      ]);
      await tx.insert('BackgroundOperation', [{ Id: ids.op, Status: 'Running', CreatedDate: at }]);
    });
    for (const key of [{ cartId: ids.cart }, { sessionId: ids.session }]) {
      const facts = await store.checkoutFacts(key, '005000000000001AAA');
      const plain = {
        cart: await store.get('WebCart', ids.cart),
        session: await store.get('CartCheckoutSession', ids.session),
        operation: await store.get('BackgroundOperation', ids.op),
        store: await store.get('WebStore', ids.store),
      };
      for (const part of ['cart', 'session', 'operation', 'store'] as const) {
        expect(facts[part]).toEqual(plain[part]);
        expect(Object.keys(facts[part]!)).toEqual(Object.keys(plain[part]!));
      }
      expect(facts.session!.IsProcessing).toBe(true);
    }
    await store.close();
  });

  it('a statement outside a transaction waits for a running transaction and never overtakes one asked for before it', async () => {
    const store = openSqlite(':memory:');
    await store.migrate();
    const a = { Id: '001000000000001AAA', Name: 'A' };
    const b = { Id: '001000000000002AAA', Name: 'B' };
    let finish!: () => void;
    const held = new Promise<void>((r) => (finish = r));
    const tx = store.transaction(async (t) => {
      await t.insert('Account', [a]);
      await held;
    });
    await new Promise((r) => setTimeout(r, 5));
    // The transaction has written A and waits: a read now must not see its uncommitted row nor run inside it.
    let read: unknown = 'pending';
    const reading = store.get('Account', a.Id).then((r) => (read = r));
    await new Promise((r) => setTimeout(r, 5));
    expect(read).toBe('pending');
    finish();
    await tx;
    await reading;
    expect(read).toMatchObject(a);
    // Asked for in this order without waiting: the read comes after the transaction.
    const second = store.transaction((t) => t.insert('Account', [b]));
    const after = store.get('Account', b.Id);
    await second;
    expect(await after).toMatchObject(b);
    // Nothing running: a statement outside a transaction has run by the time its call returns.
    const proto = Object.getPrototypeOf(new Database(':memory:').prepare('select 1')) as { all: (...a: unknown[]) => unknown };
    const all = proto.all;
    let reads = 0;
    proto.all = function (this: unknown, ...args: unknown[]) {
      reads++;
      return all.apply(this, args);
    };
    try {
      const pending = store.get('Account', a.Id);
      expect(reads).toBe(1);
      expect(await pending).toMatchObject(a);
    } finally {
      proto.all = all;
    }
    await store.update('Account', b.Id, { Name: 'B2' });
    expect(await store.get('Account', b.Id)).toMatchObject({ Name: 'B2' });
    await store.close();
    await expect(store.get('Account', a.Id)).rejects.toThrow(/destroyed/);
  });

  it('a transaction runs BEGIN IMMEDIATE, its statements and COMMIT on the connection it holds (ROLLBACK when it throws), also before the first statement and never after close', async () => {
    const store = openSqlite(':memory:');
    // Before Kysely's first statement (its driver not initialised yet): through Kysely's own path, alike.
    const first = await sqlWhile(() => store.transaction(async () => 42), { pragmas: false });
    expect(first.result).toBe(42);
    expect(first.sql).toEqual(['begin immediate', 'commit']);
    await store.migrate();
    const a = { Id: '001000000000001AAA', Name: 'A' };
    const written = await sqlWhile(
      () =>
        store.transaction(async (tx) => {
          await tx.insert('Account', [a]);
          // A select goes through Kysely's executor: on the connection this transaction holds.
          return tx.select({ object: 'Account', columns: [{ as: 'n', fn: 'count' }] });
        }),
      { pragmas: false },
    );
    expect(written.result).toEqual([{ n: 1 }]);
    expect(written.sql[0]).toBe('begin immediate');
    expect(written.sql.at(-1)).toBe('commit');
    expect(written.sql).toHaveLength(4);
    // A body that throws: rolled back, the same error rethrown.
    const boom = new Error('boom');
    const failed = await sqlWhile(
      () =>
        store
          .transaction(async (tx) => {
            await tx.update('Account', a.Id, { Name: 'changed' });
            throw boom;
          })
          .catch((e: unknown) => e),
      { pragmas: false },
    );
    expect(failed.result).toBe(boom);
    expect(failed.sql).toEqual(['begin immediate', expect.stringMatching(/^update "Account"/), 'rollback']);
    expect(await store.get('Account', a.Id)).toMatchObject({ Name: 'A' });
    // Transactions asked for together run one after the other, each seeing the one before.
    const names = await Promise.all(
      ['B', 'C', 'D'].map((Name) =>
        store.transaction(async (tx) => {
          const before = (await tx.get('Account', a.Id))!.Name as string;
          await tx.update('Account', a.Id, { Name: before + Name });
          return before;
        }),
      ),
    );
    expect(names).toEqual(['A', 'AB', 'ABC']);
    await store.close();
    await expect(store.transaction(async () => 1)).rejects.toThrow(/destroyed/);
  });

  it("a transaction's operations kept past its end refuse every statement with a clear error, and run none", async () => {
    const store = openSqlite(':memory:');
    const leak = async () => {
      let kept!: StorageOps;
      await store.transaction(async (tx) => {
        kept = tx;
      });
      return kept;
    };
    // Kept from a transaction through Kysely's path (before its first statement) and from one on the held connection.
    const early = await leak();
    await store.migrate();
    const late = await leak();
    const row = { Id: '001000000000001AAA', Name: 'A' };
    for (const kept of [early, late]) {
      const { sql } = await sqlWhile(async () => {
        await expect(kept.insert('Account', [row])).rejects.toThrow(TransactionFinished);
        await expect(kept.get('Account', row.Id)).rejects.toThrow(/already committed or rolled back/);
        await expect(kept.find('Account')).rejects.toThrow(TransactionFinished);
        await expect(kept.select({ object: 'Account', columns: [{ as: 'n', fn: 'count' }] })).rejects.toThrow(TransactionFinished);
      });
      expect(sql).toEqual([]);
    }
    // Kept from a transaction that threw: refused alike.
    let kept!: StorageOps;
    await expect(
      store.transaction(async (tx) => {
        kept = tx;
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(kept.update('Account', row.Id, { Name: 'B' })).rejects.toThrow(TransactionFinished);
    expect(await store.get('Account', row.Id)).toBeUndefined();
    await store.close();
  });
});
