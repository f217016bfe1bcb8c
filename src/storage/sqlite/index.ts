/**
 * The embedded SQLite backend: better-sqlite3 (12.x) in WAL mode behind Kysely's SqliteDialect.
 * One connection; Kysely serializes transactions on it, so a transaction is a critical section for
 * the whole process. `':memory:'` gives a throwaway database.
 */
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
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

/** Opens (creating if needed) a SQLite database file, or an in-memory one for `':memory:'`. */
export function openSqlite(filename: string): Storage {
  const database = new Database(filename);
  if (filename !== ':memory:') database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = OFF');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database }) });
  return new KyselyStore(db, spec);
}
