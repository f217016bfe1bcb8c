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

function specFor(schema: string): DialectSpec {
  return {
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
    schema,
    withMigrationLock: async (db, fn) => {
      await db.connection().execute(async (conn) => {
        await sql`select pg_advisory_lock(727274)`.execute(conn);
        try {
          await sql.raw(`create schema if not exists "${schema}"`).execute(conn);
          await fn(conn);
        } finally {
          await sql`select pg_advisory_unlock(727274)`.execute(conn);
        }
      });
    },
  };
}

/**
 * Opens a PostgreSQL database by URL (`postgres://user@host:port/db`). A `schema` query parameter
 * (`?schema=shop1`) keeps the engine's tables in their own schema (created if missing), so several
 * engines or test runs can share one database; the default is `public`.
 */
export function openPostgres(url: string, poolSize = 10): Storage {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? 'public';
  parsed.searchParams.delete('schema');
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name '${schema}' (lowercase letters, digits and _)`);
  const pool = new pg.Pool({ connectionString: parsed.toString(), max: poolSize, options: `-c search_path=${schema}` });
  pool.on('error', () => {}); // idle-client errors (server restarts) surface on the next query instead
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  return new KyselyStore(db, specFor(schema));
}
