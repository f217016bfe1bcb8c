/**
 * PostgreSQL's full-text index: a GIN index on the `tsvector` of the indexed fields (the `simple`
 * configuration: lowercased words, no stemming or stop words, so SKUs and part numbers match as
 * typed). An expression index is maintained by PostgreSQL itself on every insert, update and
 * delete of the table, whatever wrote it; a query uses the same expression, so the index serves it.
 */
import { sql } from 'kysely';
import type { FullTextSql } from '../dialect.js';

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The indexed document: the fields joined by spaces (a null field as empty), every run of
 * characters other than letters and digits a space — so `DRL-7788` holds the words `drl` and
 * `7788` (PostgreSQL's parser alone would read `-7788` as a signed number), as SQLite's tokenizer splits it.
 */
const vector = (fields: readonly string[]) =>
  `to_tsvector('simple'::regconfig, regexp_replace(${fields.map((f) => `coalesce(${q(f)}, '')`).join(` || ' ' || `)}, '[^[:alnum:]]+', ' ', 'g'))`;

export const postgresFullText: FullTextSql = {
  install(object, fields) {
    return {
      objects: [`fts_${object.name}`],
      create: [`create index if not exists ${q(`fts_${object.name}`)} on ${q(object.name)} using gin (${vector(fields)})`],
      keep: [],
    };
  },
  match(object, fields, words) {
    // Each word a prefix (bolt:*), joined by AND; words are letters and digits only (no tsquery syntax).
    const query = words.map((w) => `${w}:*`).join(' & ');
    const v = sql.raw(vector(fields));
    return sql`select "Id", -ts_rank(${v}, to_tsquery('simple'::regconfig, ${query})) as "rank" from ${sql.raw(q(object.name))} where ${v} @@ to_tsquery('simple'::regconfig, ${query})`;
  },
};
