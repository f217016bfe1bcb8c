/**
 * The tables of the Kysely store: one table per stored object, named after it, one column per
 * field (and internal `_` column); each column's codec between JS values and the backend's column
 * values; the additive schema sync and the versioned migrations that run it.
 */
import { sql, type Kysely, type Migration } from 'kysely';
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

/** Creates every object's table, column and index that is missing (additive, idempotent). */
export async function syncSchema(db: Kysely<any>, spec: DialectSpec): Promise<void> {
  const tables = (await db.introspection.getTables()).filter((t) => !spec.schema || t.schema === spec.schema);
  const existing = new Map(tables.map((t) => [t.name, new Set(t.columns.map((c) => c.name))]));
  for (const object of STORED_OBJECTS.values()) {
    const cols = existing.get(object.name);
    const wanted: [string, string][] = [
      ['Id', `${spec.columnType('id')} primary key`],
      ...allFields(object)
        .filter((f) => f.name !== 'Id')
        .map((f) => [f.name, spec.columnType(f.type)] as [string, string]),
      ...(object.internal ?? []).map((c) => [c.name, spec.columnType(c.type)] as [string, string]),
    ];
    if (!cols) {
      let ct = db.schema.createTable(object.name).ifNotExists();
      for (const [name, type] of wanted) ct = ct.addColumn(name, sql.raw(type) as any);
      await ct.execute();
    } else {
      for (const [name, type] of wanted) {
        if (!cols.has(name))
          await db.schema
            .alterTable(object.name)
            .addColumn(name, sql.raw(type) as any)
            .execute();
      }
    }
    for (const idx of object.indexes ?? []) {
      await db.schema
        .createIndex(`ix_${object.name}_${idx.join('_')}`)
        .ifNotExists()
        .on(object.name)
        .columns([...idx])
        .execute();
    }
    for (const idx of object.unique ?? []) {
      await db.schema
        .createIndex(`ux_${object.name}_${idx.join('_')}`)
        .ifNotExists()
        .unique()
        .on(object.name)
        .columns([...idx])
        .execute();
    }
    if (object.fullText && spec.fullText) await spec.fullText.install(db, object, object.fullText);
  }
}

/** Versioned migrations; each also re-syncs the additive object schema. */
export const MIGRATIONS = (spec: DialectSpec): Record<string, Migration> => ({
  '2026-11-25-0001-objects': { up: (db) => syncSchema(db, spec) },
  // Order.CartId unique (a cart becomes at most one order): added to databases made before it.
  '2026-12-01-0002-one-order-per-cart': { up: (db) => syncSchema(db, spec) },
  // FlowInterview (internal): durable flow interviews (src/engine/interviews.ts).
  '2026-12-03-0003-flow-interviews': { up: (db) => syncSchema(db, spec) },
  // ProductCategory, ProductCategoryProduct and the full-text index of Product2 (Commerce Connect product search).
  '2026-12-03-0004-catalog-search': { up: (db) => syncSchema(db, spec) },
  // CartCheckoutSession._connect (internal): the Connect Checkout API's data of a session.
  '2026-12-03-0005-connect-checkout': { up: (db) => syncSchema(db, spec) },
  // ElectronicMediaGroup and ProductMedia (Commerce Connect product images).
  '2026-12-03-0006-product-media': { up: (db) => syncSchema(db, spec) },
});

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
