/**
 * The multi-node PostgreSQL backend: Kysely's PostgresDialect over a `pg` pool. Same tables and
 * contract as SQLite; row locks (`SELECT … FOR UPDATE`) plus the `_version` compare-and-set
 * serialize writers across processes. Migrations run under an advisory lock so several processes
 * can start at once.
 */
import { Kysely, PostgresDialect, sql, type DatabaseIntrospector, type DatabaseMetadata, type SchemaMetadata, type TableMetadata } from 'kysely';
import pg from 'pg';
import { KyselyStore, type DialectSpec } from '../kysely-store.js';
import { EngineError } from '../../errors.js';
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
        // Per schema: engines of other schemas (other stores, other test runs) migrate in parallel.
        await sql`select pg_advisory_lock(727274, hashtext(${schema}))`.execute(conn);
        try {
          await sql.raw(`create schema if not exists "${schema}"`).execute(conn);
          // Kysely's introspection lists the tables of EVERY schema; another run dropping its own
          // schema at that moment makes the catalog query fail (3F000/42P01). That race is
          // harmless to us, so run the (idempotent) migration again.
          for (let attempt = 1; ; attempt++) {
            try {
              await fn(conn);
              break;
            } catch (e) {
              const code = (e as { code?: string })?.code;
              if (attempt >= 5 || (code !== '3F000' && code !== '42P01' && code !== 'XX000')) throw e;
              await new Promise((r) => setTimeout(r, 20 * attempt));
            }
          }
        } finally {
          await sql`select pg_advisory_unlock(727274, hashtext(${schema}))`.execute(conn);
        }
      });
    },
  };
}

/**
 * Kysely's PostgreSQL introspector lists the columns of every table in every schema of the
 * database; with many engines (or test runs) sharing one database that is slow (thousands of
 * tables) and races with other schemas being dropped. Ours looks at the engine's schema only.
 */
class SchemaIntrospector implements DatabaseIntrospector {
  constructor(
    private readonly db: Kysely<any>,
    private readonly schema: string,
  ) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ nspname: string }>`select nspname from pg_catalog.pg_namespace where nspname = ${this.schema}`.execute(this.db);
    return rows.map((r) => ({ name: r.nspname }));
  }

  async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ table: string; kind: string; column: string; type: string; type_schema: string; not_null: boolean; has_default: boolean }>`
      select c.relname as "table", c.relkind as kind, a.attname as "column", t.typname as type, tns.nspname as type_schema,
             a.attnotnull as not_null, a.atthasdef as has_default
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
      join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      join pg_catalog.pg_type t on t.oid = a.atttypid
      join pg_catalog.pg_namespace tns on tns.oid = t.typnamespace
      where ns.nspname = ${this.schema} and c.relkind in ('r', 'v', 'p')
      order by c.relname, a.attnum`.execute(this.db);
    const tables = new Map<string, TableMetadata & { columns: TableMetadata['columns'][number][] }>();
    for (const r of rows) {
      let t = tables.get(r.table);
      if (!t) tables.set(r.table, (t = { name: r.table, schema: this.schema, isView: r.kind === 'v', columns: [] }));
      t.columns.push({
        name: r.column,
        dataType: r.type,
        dataTypeSchema: r.type_schema,
        isNullable: !r.not_null,
        hasDefaultValue: r.has_default,
        isAutoIncrementing: false,
      });
    }
    return [...tables.values()];
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

/** PostgresDialect whose introspection stays inside the engine's schema. */
class SchemaDialect extends PostgresDialect {
  constructor(
    config: ConstructorParameters<typeof PostgresDialect>[0],
    private readonly schema: string,
  ) {
    super(config);
  }

  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SchemaIntrospector(db, this.schema);
  }
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
  // `?pool=N` sizes the connection pool (default 10), e.g. to fit many processes under max_connections.
  const poolParam = parsed.searchParams.get('pool');
  parsed.searchParams.delete('pool');
  if (poolParam !== null) {
    const n = Number(poolParam);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new EngineError('INVALID_INPUT', `The storage URL's pool parameter '${poolParam}' must be an integer from 1 to 1000.`, ['storage']);
    poolSize = n;
  }
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new EngineError('INVALID_INPUT', `The storage URL's schema parameter '${schema}' must be lowercase letters, digits and _ (at most 63).`, ['storage']);
  }
  const pool = new pg.Pool({ connectionString: parsed.toString(), max: poolSize, options: `-c search_path=${schema}` });
  pool.on('error', () => {}); // idle-client errors (server restarts) surface on the next query instead
  const db = new Kysely<any>({ dialect: new SchemaDialect({ pool }, schema) });
  return new PostgresStore(db, specFor(schema), { connectionString: parsed.toString(), schema });
}

/** The PostgreSQL store; it also tells the operation queue (pg-boss) where the database is. */
export class PostgresStore extends KyselyStore {
  constructor(
    db: Kysely<any>,
    spec: DialectSpec,
    private readonly connection: { connectionString: string; schema: string },
  ) {
    super(db, spec);
  }

  /** The URL (without `schema`) and schema, so pg-boss can live next to the engine's tables. */
  queueConnection(): { connectionString: string; schema: string } {
    return { ...this.connection };
  }
}
