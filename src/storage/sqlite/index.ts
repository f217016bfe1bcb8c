/**
 * The embedded SQLite backend: better-sqlite3 (12.x) in WAL mode behind Kysely's SqliteDialect.
 * One connection; Kysely serializes transactions on it, so a transaction is a critical section for
 * the whole process. `':memory:'` gives a throwaway database.
 */
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import { KyselyStore, type DialectSpec } from '../kysely-store.js';
import type { Storage } from '../port.js';

const spec: DialectSpec = {
  kind: 'sqlite',
  columnType: (t) => {
    switch (t) {
      case 'number':
      case 'currency':
        return 'real';
      case 'integer':
      case 'boolean':
        return 'integer';
      default:
        return 'text';
    }
  },
  maxParams: 32_000,
  encodeBoolean: (v) => (v ? 1 : 0),
  isUniqueViolation: (err) => {
    const code = (err as { code?: string })?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  },
  forUpdate: false,
  likeOperator: 'like',
};

/**
 * The slice of better-sqlite3 Kysely uses, with prepared statements cached by SQL text: Kysely
 * prepares every query anew, which costs more than running it. Statements are reusable because
 * Kysely only calls `all`/`run` (which finish synchronously); the cache is bounded (LRU).
 */
function cachingDatabase(db: Database.Database, size = 512): SqliteDatabase {
  const cache = new Map<string, Database.Statement>();
  return {
    close: () => db.close(),
    prepare: (sql: string) => {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
      } else {
        stmt = db.prepare(sql);
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt as unknown as ReturnType<SqliteDatabase['prepare']>;
    },
  };
}

/** Opens (creating if needed) a SQLite database file, or an in-memory one for `':memory:'`. */
export function openSqlite(filename: string): Storage {
  const database = new Database(filename);
  if (filename !== ':memory:') database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = OFF');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: cachingDatabase(database) }) });
  return new KyselyStore(db, spec);
}
