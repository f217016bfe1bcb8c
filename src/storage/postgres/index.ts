/**
 * The multi-node PostgreSQL backend: Kysely's PostgresDialect over a `pg` pool. Same tables and
 * contract as SQLite; row locks (`SELECT … FOR UPDATE`) plus the `_version` compare-and-set
 * serialize writers across processes. Migrations run under an advisory lock so several processes
 * can start at once.
 */
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { KyselyStore, type DialectSpec } from '../kysely-store.js';
import type { Storage } from '../port.js';

const spec: DialectSpec = {
  kind: 'postgres',
  columnType: (t) => {
    switch (t) {
      case 'number':
      case 'currency':
        return 'double precision';
      case 'integer':
        return 'integer';
      case 'boolean':
        return 'boolean';
      default:
        return 'text';
    }
  },
  maxParams: 60_000,
  encodeBoolean: (v) => v,
  isUniqueViolation: (err) => (err as { code?: string })?.code === '23505',
  forUpdate: true,
  likeOperator: 'ilike',
  withMigrationLock: async (db, fn) => {
    await db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(727274)`.execute(conn);
      try {
        await fn(conn);
      } finally {
        await sql`select pg_advisory_unlock(727274)`.execute(conn);
      }
    });
  },
};

/** Opens a PostgreSQL database by URL (`postgres://user@host:port/db`). */
export function openPostgres(url: string, poolSize = 10): Storage {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on('error', () => {}); // idle-client errors (server restarts) surface on the next query instead
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyStore(db, spec);
}
