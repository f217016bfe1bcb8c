/**
 * The tables of the Kysely store: one table per stored object, named after it, one column per
 * field (and internal `_` column); each column's codec between JS values and the backend's column
 * values; the current schema made in one pass, the schema versions a database records and the
 * additive sync that brings an older database's tables up to date.
 */
import { sql, type Kysely } from 'kysely';
import { allFields, STORED_OBJECTS, type ObjectDef } from '../domain/objects.js';
import type { DialectSpec } from './dialect.js';
import type { Row } from './port.js';

export type Codec = { encode: (v: unknown) => unknown; decode: (v: unknown) => unknown };

const identity: Codec = { encode: (v) => v, decode: (v) => v };

export interface TableInfo {
  columns: string[];
  codecs: Map<string, Codec>;
  decoders: [string, (v: unknown) => unknown][];
}

export function buildTableInfo(object: ObjectDef, spec: DialectSpec): TableInfo {
  const codecs = new Map<string, Codec>();
  const boolCodec: Codec = {
    encode: (v) => (v === null || v === undefined ? null : spec.encodeBoolean(Boolean(v))),
    decode: (v) => (v === null || v === undefined ? null : v === true || v === 1 || v === '1' || v === 't'),
  };
  const listCodec: Codec = {
    encode: (v) => (v === null || v === undefined ? null : JSON.stringify(v)),
    decode: (v) => (v === null || v === undefined ? null : typeof v === 'string' ? JSON.parse(v) : v),
  };
  const numCodec: Codec = {
    encode: (v) => v,
    decode: (v) => (v === null || v === undefined ? null : typeof v === 'number' ? v : Number(v)),
  };
  const columns: string[] = [];
  for (const f of allFields(object)) {
    columns.push(f.name);
    codecs.set(
      f.name,
      f.type === 'boolean'
        ? boolCodec
        : f.type === 'stringList'
          ? listCodec
          : ['number', 'currency', 'integer'].includes(f.type)
            ? numCodec
            : identity,
    );
  }
  for (const c of object.internal ?? []) {
    columns.push(c.name);
    codecs.set(c.name, c.type === 'integer' ? numCodec : identity);
  }
  const decoders = [...codecs.entries()]
    .filter(([, c]) => c !== identity)
    .map(([k, c]) => [k, c.decode] as [string, (v: unknown) => unknown]);
  return { columns, codecs, decoders };
}

/**
 * The schema versions a database records in `engine_migration` (sorted): the names of the
 * migrations that built the schema step by step before it was made in one pass. A database
 * recording all of them has the current schema; one recording the first few was made by an older
 * engine and gets the rest (the additive sync, `syncSchema`); one recording a name not here was
 * made by a newer engine and is refused.
 */
export const SCHEMA_VERSIONS: readonly string[] = [
  '2026-11-25-0001-objects',
  // Order.CartId unique (a cart becomes at most one order): added to databases made before it.
  '2026-12-01-0002-one-order-per-cart',
  // FlowInterview (internal): durable flow interviews (src/engine/interviews.ts).
  '2026-12-03-0003-flow-interviews',
  // ProductCategory, ProductCategoryProduct and the full-text index of Product2 (Commerce Connect product search).
  '2026-12-03-0004-catalog-search',
  // CartCheckoutSession._connect (internal): the Connect Checkout API's data of a session.
  '2026-12-03-0005-connect-checkout',
  // ElectronicMediaGroup and ProductMedia (Commerce Connect product images).
  '2026-12-03-0006-product-media',
];

/** The table recording the schema versions, and its lock table (as Kysely's Migrator made them). */
export const MIGRATION_TABLE = 'engine_migration';
export const MIGRATION_LOCK_TABLE = 'engine_migration_lock';

/** The columns of `object`'s table with their DDL types, in table order. */
function wantedColumns(object: ObjectDef, spec: DialectSpec): [string, string][] {
  return [
    ['Id', `${spec.columnType('id')} primary key`],
    ...allFields(object)
      .filter((f) => f.name !== 'Id')
      .map((f) => [f.name, spec.columnType(f.type)] as [string, string]),
    ...(object.internal ?? []).map((c) => [c.name, spec.columnType(c.type)] as [string, string]),
  ];
}

/** The indexes of `object`'s table: name, columns, unique. */
function wantedIndexes(object: ObjectDef): { name: string; columns: readonly string[]; unique: boolean }[] {
  return [
    ...(object.indexes ?? []).map((idx) => ({ name: `ix_${object.name}_${idx.join('_')}`, columns: idx, unique: false })),
    ...(object.unique ?? []).map((idx) => ({ name: `ux_${object.name}_${idx.join('_')}`, columns: idx, unique: true })),
  ];
}

function createTableSql(db: Kysely<any>, object: ObjectDef, columns: readonly [string, string][]): string {
  let ct = db.schema.createTable(object.name).ifNotExists();
  for (const [name, type] of columns) ct = ct.addColumn(name, sql.raw(type) as any);
  return ct.compile().sql;
}

function createIndexSql(db: Kysely<any>, object: ObjectDef, idx: { name: string; columns: readonly string[]; unique: boolean }): string {
  let ci = db.schema.createIndex(idx.name).ifNotExists();
  if (idx.unique) ci = ci.unique();
  return ci
    .on(object.name)
    .columns([...idx.columns])
    .compile().sql;
}

/** The DDL of the version table and its lock table (Kysely's Migrator's, in the dialect's schema). */
function migrationTablesSql(db: Kysely<any>, spec: DialectSpec): string[] {
  const schema = spec.schema ? db.schema.withSchema(spec.schema) : db.schema;
  return [
    schema
      .createTable(MIGRATION_TABLE)
      .ifNotExists()
      .addColumn('name', 'varchar(255)', (c) => c.notNull().primaryKey())
      .addColumn('timestamp', 'varchar(255)', (c) => c.notNull())
      .compile().sql,
    schema
      .createTable(MIGRATION_LOCK_TABLE)
      .ifNotExists()
      .addColumn('id', 'varchar(255)', (c) => c.notNull().primaryKey())
      .addColumn('is_locked', 'integer', (c) => c.notNull().defaultTo(0))
      .compile().sql,
  ];
}

/** `name` of the dialect's schema (quoted, schema-qualified where it has schemas). */
export function qualified(spec: DialectSpec, name: string): string {
  return spec.schema ? `"${spec.schema}"."${name}"` : `"${name}"`;
}

/** The statement recording `versions` as applied at `at` (an ISO time). */
export function recordVersionsSql(spec: DialectSpec, versions: readonly string[], at: string): string {
  return `insert into ${qualified(spec, MIGRATION_TABLE)} ("name", "timestamp") values ${versions.map((v) => `('${v}', '${at}')`).join(', ')}`;
}

/** The statement adding the lock table's one row (Kysely's Migrator's `migration_lock`, unlocked). */
export function lockRowSql(spec: DialectSpec): string {
  return `insert into ${qualified(spec, MIGRATION_LOCK_TABLE)} ("id", "is_locked") values ('migration_lock', 0)`;
}

/**
 * The current schema of a dialect, made in one pass on an empty database: the version and lock
 * tables (with the lock row), every object's table, indexes and full-text index, and every schema
 * version recorded at `at` — the same tables, columns, indexes and triggers, in the same order, as
 * the step-by-step migrations made. `db` only compiles (nothing runs).
 */
export function schemaStatements(db: Kysely<any>, spec: DialectSpec, at: string): string[] {
  const out = [...migrationTablesSql(db, spec), lockRowSql(spec)];
  for (const object of STORED_OBJECTS.values()) {
    out.push(createTableSql(db, object, wantedColumns(object, spec)));
    for (const idx of wantedIndexes(object)) out.push(createIndexSql(db, object, idx));
    if (object.fullText && spec.fullText) {
      const ft = spec.fullText.install(object, object.fullText);
      out.push(...ft.create, ...ft.keep);
    }
  }
  out.push(recordVersionsSql(spec, SCHEMA_VERSIONS, at));
  return out;
}

/**
 * What the current schema has, as `schemaObjects` lists it: each table, `table.column`, index and
 * full-text object (the version and lock tables included).
 */
export function expectedSchemaObjects(spec: DialectSpec): string[] {
  const out = [MIGRATION_TABLE, `${MIGRATION_TABLE}.name`, `${MIGRATION_TABLE}.timestamp`, MIGRATION_LOCK_TABLE];
  for (const object of STORED_OBJECTS.values()) {
    out.push(object.name);
    for (const [name] of wantedColumns(object, spec)) out.push(`${object.name}.${name}`);
    for (const idx of wantedIndexes(object)) out.push(idx.name);
    if (object.fullText && spec.fullText) out.push(...spec.fullText.install(object, object.fullText).objects);
  }
  return out;
}

/** The tables (`name`), their columns (`table.column`), indexes and triggers of the database's schema. */
export async function schemaObjects(db: Kysely<any>, spec: DialectSpec): Promise<Set<string>> {
  const { rows } = await spec.schemaObjects().execute(db);
  const found = new Set<string>();
  for (const r of rows) found.add(r.col === null ? r.name : `${r.name}.${r.col}`);
  return found;
}

/**
 * Creates every object's table, column, index and full-text index that is missing from `present`
 * (what `schemaObjects` found): additive, idempotent — what brings an older database's tables up
 * to date.
 */
export async function syncSchema(db: Kysely<any>, spec: DialectSpec, present: ReadonlySet<string>): Promise<void> {
  for (const object of STORED_OBJECTS.values()) {
    const wanted = wantedColumns(object, spec);
    if (!present.has(object.name)) {
      await sql.raw(createTableSql(db, object, wanted)).execute(db);
    } else {
      for (const [name, type] of wanted) {
        if (!present.has(`${object.name}.${name}`))
          await db.schema
            .alterTable(object.name)
            .addColumn(name, sql.raw(type) as any)
            .execute();
      }
    }
    for (const idx of wantedIndexes(object)) await sql.raw(createIndexSql(db, object, idx)).execute(db);
    if (object.fullText && spec.fullText) {
      const ft = spec.fullText.install(object, object.fullText);
      if (!present.has(ft.objects[0]!)) for (const s of ft.create) await sql.raw(s).execute(db);
      for (const s of ft.keep) await sql.raw(s).execute(db);
    }
  }
}

/**
 * Brings an older database (`executed`: the versions it records, maybe none; `present`: what its
 * schema has) up to date inside the caller's transaction: the version and lock tables if missing,
 * the additive sync, and the versions not yet recorded.
 */
export async function upgradeSchema(
  db: Kysely<any>,
  spec: DialectSpec,
  present: ReadonlySet<string>,
  executed: readonly string[],
  at: string,
): Promise<void> {
  for (const s of migrationTablesSql(db, spec)) await sql.raw(s).execute(db);
  const lock = await sql`select "id" from ${sql.raw(qualified(spec, MIGRATION_LOCK_TABLE))} where "id" = 'migration_lock'`.execute(db);
  if (lock.rows.length === 0) await sql.raw(lockRowSql(spec)).execute(db);
  await syncSchema(db, spec, present);
  const pending = SCHEMA_VERSIONS.filter((v) => !executed.includes(v));
  if (pending.length > 0) await sql.raw(recordVersionsSql(spec, pending, at)).execute(db);
}

/** The versions `engine_migration` records, in Kysely's Migrator's order (time, then name). */
export async function recordedVersions(db: Kysely<any>, spec: DialectSpec): Promise<string[]> {
  const { rows } = await sql<{ name: string; timestamp: string }>`select "name", "timestamp" from ${sql.raw(
    qualified(spec, MIGRATION_TABLE),
  )}`.execute(db);
  return rows
    .sort((a, b) =>
      a.timestamp === b.timestamp ? a.name.localeCompare(b.name) : new Date(a.timestamp).getTime() - new Date(b.timestamp).getTime(),
    )
    .map((r) => r.name);
}

/**
 * Refuses recorded versions this engine doesn't know (a newer engine's database) or that are not
 * the first of SCHEMA_VERSIONS in order, with Kysely's Migrator's errors.
 */
export function checkVersions(executed: readonly string[]): void {
  for (const name of executed) {
    if (!SCHEMA_VERSIONS.includes(name)) throw new Error(`corrupted migrations: previously executed migration ${name} is missing`);
  }
  for (let i = 0; i < executed.length; i++) {
    if (SCHEMA_VERSIONS[i] !== executed[i]) {
      throw new Error(
        `corrupted migrations: expected previously executed migration ${executed[i]} to be at index ${i} but ${SCHEMA_VERSIONS[i]} was found in its place. New migrations must always have a name that comes alphabetically after the last executed migration.`,
      );
    }
  }
}

/** Each stored object's table info for a dialect. */
export function buildTables(spec: DialectSpec): Map<string, TableInfo> {
  const tables = new Map<string, TableInfo>();
  for (const o of STORED_OBJECTS.values()) tables.set(o.name, buildTableInfo(o, spec));
  return tables;
}

/** Decodes a row read from `info`'s table in place (and returns it). */
export function decodeRow(info: TableInfo, row: Row): Row {
  for (const [k, dec] of info.decoders) row[k] = dec(row[k]);
  return row;
}

/** A JS value of `field` as the column stores it; an unknown column throws. */
export function encodeValue(info: TableInfo, field: string, v: unknown): unknown {
  const codec = info.codecs.get(field);
  if (!codec) throw new Error(`unknown column ${field}`);
  return codec.encode(v);
}
