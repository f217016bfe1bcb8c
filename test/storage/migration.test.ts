/**
 * The schema migration (src/storage/store.ts `migrate`, src/storage/tables.ts) on a SQLite file and
 * on PostgreSQL: an older database (made by the first N schema versions) is brought up to the
 * current schema, rows kept; a database recording a version this engine doesn't know is refused;
 * four stores opening one new database at once all succeed; four stores opening an up-to-date
 * database only read.
 *
 * An older database is made the way it would be found: the current schema with what the later
 * versions added taken away again and their names removed from `engine_migration`.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/index.js';
import type { Storage } from '../../src/storage/port.js';
import type { PostgresStore } from '../../src/storage/postgres/index.js';
import { SCHEMA_VERSIONS } from '../../src/storage/tables.js';
import { dropTestSchemas, freshPgUrl, freshSqliteFile, PG_URL } from '../helpers/backends.js';

afterAll(dropTestSchemas);

/** Runs SQL on the test database directly (not through a store). */
interface Direct {
  exec(text: string): Promise<void>;
  rows<T>(text: string): Promise<T[]>;
  close(): Promise<void>;
}

interface Target {
  name: string;
  /** A new, empty database. */
  location(): string;
  direct(location: string): Promise<Direct>;
  /** The schema's objects as a sorted list of `table.column`, indexes and triggers (shadow tables aside). */
  objects: string;
}

const sqlite: Target = {
  name: 'sqlite-file',
  location: freshSqliteFile,
  direct: async (location) => {
    const db = new Database(location);
    return {
      exec: async (text) => void db.exec(text),
      rows: async <T>(text: string) => db.prepare(text).all() as T[],
      close: async () => void db.close(),
    };
  },
  objects: `select m.name || '.' || p.name as o from sqlite_master m join pragma_table_info(m.name) p where m.type = 'table'
    union all select type || ' ' || name || ' ' || tbl_name from sqlite_master where type in ('index', 'trigger') order by 1`,
};

const postgres: Target = {
  name: 'postgres',
  location: freshPgUrl,
  direct: async (location) => {
    const schema = new URL(location).searchParams.get('schema')!;
    const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
    await c.connect();
    return {
      exec: async (text) => void (await c.query(text)),
      rows: async <T>(text: string) => (await c.query(text)).rows as T[],
      close: () => c.end(),
    };
  },
  objects: `select table_name || '.' || column_name || ' ' || data_type as o from information_schema.columns where table_schema = current_schema()
    union all select indexname || ' ' || replace(indexdef, current_schema() || '.', '') from pg_indexes where schemaname = current_schema() order by 1`,
};

/** Undoes, on a current database, what the schema versions after the first `n` added (newest first). */
async function downgradeTo(db: Direct, target: Target, n: number): Promise<void> {
  const undo: Record<number, string[]> = {
    6: ['drop table "ElectronicMediaGroup"', 'drop table "ProductMedia"'],
    5: ['alter table "CartCheckoutSession" drop column "_connect"'],
    4: [
      'drop table "ProductCategory"',
      'drop table "ProductCategoryProduct"',
      ...(target === sqlite
        ? [
            'drop table "Product2_fts"',
            'drop trigger "Product2_fts_insert"',
            'drop trigger "Product2_fts_delete"',
            'drop trigger "Product2_fts_update"',
          ]
        : ['drop index "fts_Product2"']),
    ],
    3: ['drop table "FlowInterview"'],
    2: ['drop index "ux_Order_CartId"'],
  };
  for (let v = SCHEMA_VERSIONS.length; v > n; v--) {
    for (const s of undo[v]!) await db.exec(s);
    await db.exec(`delete from engine_migration where name = '${SCHEMA_VERSIONS[v - 1]}'`);
  }
}

async function openMigrated(location: string): Promise<Storage> {
  const s = await openStorage(location);
  await s.migrate();
  return s;
}

async function versions(db: Direct): Promise<string[]> {
  return (await db.rows<{ name: string }>('select name from engine_migration order by name')).map((r) => r.name);
}

describe.each([sqlite, postgres])('schema migration ($name)', (target) => {
  it.each([1, 3, 5])('brings a database made by the first %i schema versions up to the current schema, keeping its rows', async (n) => {
    const current = target.location();
    await (await openMigrated(current)).close();
    const currentDb = await target.direct(current);
    const want = await currentDb.rows<{ o: string }>(target.objects);
    await currentDb.close();

    const older = target.location();
    await (await openMigrated(older)).close();
    const db = await target.direct(older);
    await downgradeTo(db, target, n);
    expect(await versions(db)).toEqual(SCHEMA_VERSIONS.slice(0, n));
    expect(await db.rows(target.objects)).not.toEqual(want);
    await db.exec(`insert into "Product2" ("Id", "Name", "StockKeepingUnit") values ('01t000000000001AAA', 'Bolt cutter', 'DRL-7788')`);

    const store = await openMigrated(older);
    expect(await db.rows(target.objects)).toEqual(want);
    expect(await versions(db)).toEqual(SCHEMA_VERSIONS);
    // The full-text index made by the upgrade holds the row stored before it, and follows new writes.
    expect((await store.textSearch('Product2', { words: ['bolt'] })).ids).toEqual(['01t000000000001AAA']);
    await store.insert('Product2', [{ Id: '01t000000000002AAA', Name: 'Bolt', StockKeepingUnit: 'B-1' }]);
    expect((await store.textSearch('Product2', { words: ['7788'] })).ids).toEqual(['01t000000000001AAA']);
    expect((await store.textSearch('Product2', { words: ['bolt'] })).total).toBe(2);
    await store.close();
    await db.close();
  });

  it('refuses a database recording a schema version it does not know, or versions out of order, changing nothing', async () => {
    const location = target.location();
    await (await openMigrated(location)).close();
    const db = await target.direct(location);
    await db.exec(
      `insert into engine_migration (name, timestamp) values ('2099-01-01-0007-from-a-newer-engine', '2099-01-01T00:00:00.000Z')`,
    );
    const before = await db.rows(target.objects);
    const store = await openStorage(location);
    await expect(store.migrate()).rejects.toThrow(
      'corrupted migrations: previously executed migration 2099-01-01-0007-from-a-newer-engine is missing',
    );
    await store.close();
    expect(await db.rows(target.objects)).toEqual(before);
    expect(await versions(db)).toEqual([...SCHEMA_VERSIONS, '2099-01-01-0007-from-a-newer-engine']);

    await db.exec(`delete from engine_migration where name <> '${SCHEMA_VERSIONS[0]}' and name <> '${SCHEMA_VERSIONS[2]}'`);
    const again = await openStorage(location);
    await expect(again.migrate()).rejects.toThrow(
      `corrupted migrations: expected previously executed migration ${SCHEMA_VERSIONS[2]} to be at index 1 but ${SCHEMA_VERSIONS[1]} was found in its place.`,
    );
    await again.close();
    expect(await versions(db)).toEqual([SCHEMA_VERSIONS[0], SCHEMA_VERSIONS[2]]);
    await db.close();
  });

  it('4 stores opening one new database at once all migrate it; the schema is made once', async () => {
    const location = target.location();
    const stores = await Promise.all([1, 2, 3, 4].map(() => openMigrated(location)));
    const want = target.location();
    await (await openMigrated(want)).close();
    const wantDb = await target.direct(want);
    const db = await target.direct(location);
    expect(await db.rows(target.objects)).toEqual(await wantDb.rows(target.objects));
    expect(await versions(db)).toEqual(SCHEMA_VERSIONS);
    expect(await db.rows('select id, is_locked from engine_migration_lock')).toEqual([{ id: 'migration_lock', is_locked: 0 }]);
    await stores[0]!.insert('Account', [{ Id: '001000000000001AAA', Name: 'A' }]);
    for (const s of stores) expect((await s.get('Account', '001000000000001AAA'))?.Name).toBe('A');
    for (const s of stores) await s.close();
    await db.close();
    await wantDb.close();
  });
});

describe('opening an up-to-date database only reads', () => {
  it('sqlite-file: 4 stores at once leave PRAGMA data_version unchanged (nothing committed)', async () => {
    const location = freshSqliteFile();
    await (await openMigrated(location)).close();
    const watcher = new Database(location);
    const version = () => watcher.pragma('data_version', { simple: true });
    const before = version();
    const stores = await Promise.all([1, 2, 3, 4].map(() => openMigrated(location)));
    expect(version()).toBe(before);
    for (const s of stores) await s.close();
    // A write by another connection does change it (the check above can see one).
    const writer = await openMigrated(location);
    await writer.insert('Account', [{ Id: '001000000000001AAA', Name: 'A' }]);
    expect(version()).not.toBe(before);
    await writer.close();
    watcher.close();
  });

  it('postgres: 4 stores at once each make exactly 2 reads (the schema catalog, the versions)', async () => {
    const location = freshPgUrl();
    await (await openMigrated(location)).close();
    const stores = (await Promise.all([1, 2, 3, 4].map(() => openStorage(location)))) as PostgresStore[];
    const traces = stores.map((s) => s.roundTrips.trace());
    await Promise.all(stores.map((s) => s.migrate()));
    for (const t of traces) {
      const seen = t.stop();
      expect(seen).toHaveLength(2);
      expect(seen[0]).toMatch(/^\s*select c\.relname as name, a\.attname as col from pg_catalog\.pg_class/);
      expect(seen[1]).toMatch(/^select "name", "timestamp" from "t_[0-9a-z_]+"\."engine_migration"$/);
    }
    for (const s of stores) await s.close();
  });
});
