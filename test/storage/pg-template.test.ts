/**
 * The tests' migrated PostgreSQL schemas (test/helpers/pg-template.ts, `migratedPgUrl()` and every
 * BACKENDS postgres location) are what an engine's own first start makes: the same tables,
 * columns, types, constraints and indexes, the same pg-boss schema (tables, functions, types, its
 * queue and version rows), and no engine rows, so a test on one checks what it would on an empty schema.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine } from '../../src/index.js';
import { dropTestSchemas, freshPgUrl, migratedPgUrl, PG_URL } from '../helpers/backends.js';
import { hasPgTemplate } from '../helpers/pg-template.js';

afterAll(dropTestSchemas);

const schemaOf = (url: string) => new URL(url).searchParams.get('schema')!;

/** Everything of `schema` and its pg-boss schema that an engine could see, with the schema names written as `S`. */
async function catalog(c: pg.Client, schema: string): Promise<Record<string, unknown[]>> {
  const names = [schema, `${schema}_pgboss`];
  const norm = (v: unknown) => (typeof v === 'string' ? v.replaceAll(schema, 'S') : v);
  const q = async (text: string) =>
    (await c.query(text, [names])).rows.map((r: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, norm(v)])),
    );
  return {
    columns: await q(`select table_schema, table_name, column_name, data_type, is_nullable, column_default, ordinal_position
                      from information_schema.columns where table_schema = any($1) order by 1, 2, 7`),
    indexes: await q(`select schemaname, tablename, indexname, indexdef from pg_indexes where schemaname = any($1) order by 1, 2, 3`),
    constraints: await q(`select n.nspname, cl.relname, co.conname, pg_get_constraintdef(co.oid) as def
                          from pg_constraint co join pg_class cl on cl.oid = co.conrelid join pg_namespace n on n.oid = cl.relnamespace
                          where n.nspname = any($1) order by 1, 2, 3`),
    relations: await q(`select n.nspname, c.relname, c.relkind, c.relispartition, pg_get_partkeydef(c.oid) as partkey
                        from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = any($1) order by 1, 2`),
    functions: await q(`select n.nspname, p.proname, pg_get_functiondef(p.oid) as def
                        from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = any($1) order by 1, 2`),
    types:
      await q(`select n.nspname, t.typname, t.typtype, (select array_agg(enumlabel order by enumsortorder) from pg_enum where enumtypid = t.oid) as labels
                    from pg_type t join pg_namespace n on n.oid = t.typnamespace where n.nspname = any($1) and t.typtype in ('e', 'd') order by 1, 2`),
  };
}

/** The rows of the small bookkeeping tables, without timestamps. */
async function bookkeeping(c: pg.Client, schema: string) {
  const rows = async (text: string) => (await c.query(text)).rows;
  return {
    migrations: (await rows(`select name from "${schema}".engine_migration order by name`)).map((r) => r.name),
    queues: await rows(`select name, policy, retry_limit, retry_delay, retry_backoff, expire_seconds, retention_minutes, partition_name
                        from "${schema}_pgboss".queue order by name`),
    version: await rows(`select version from "${schema}_pgboss".version`),
    jobs: Number((await rows(`select count(*) as n from "${schema}_pgboss".job`))[0].n),
    users: Number((await rows(`select count(*) as n from "${schema}"."User"`))[0].n),
  };
}

describe('a migrated test schema', () => {
  it('exists in this run (the global setup made the template)', () => {
    expect(hasPgTemplate()).toBe(true);
  });

  it('is what an engine makes of an empty schema, and an engine opens it without changing it', async () => {
    const made = freshPgUrl();
    await (await createCheckoutEngine({ storage: made, onError: () => {} })).close();
    const cloned = migratedPgUrl();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      const reference = await catalog(c, schemaOf(made));
      expect(reference.columns.length).toBeGreaterThan(100);
      expect(await catalog(c, schemaOf(cloned))).toEqual(reference);
      expect(await bookkeeping(c, schemaOf(cloned))).toEqual(await bookkeeping(c, schemaOf(made)));
      await (await createCheckoutEngine({ storage: cloned, onError: () => {} })).close();
      expect(await catalog(c, schemaOf(cloned))).toEqual(reference);
    } finally {
      await c.end();
    }
  });
});
