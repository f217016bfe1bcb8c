/**
 * SQLite's full-text index: an FTS5 table `<Object>_fts` (the row's Id, unindexed, and the
 * indexed fields; unicode61 tokenizer folding case and diacritics) filled from the rows already
 * stored when created, and kept in step by triggers on the object's table — every insert, update
 * of an indexed field and delete, whatever wrote it (record API, seed, engine).
 */
import { sql } from 'kysely';
import type { FullTextSql } from '../dialect.js';

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

export const sqliteFullText: FullTextSql = {
  install(object, fields) {
    const table = q(object.name);
    const fts = `${object.name}_fts`;
    const cols = fields.map(q).join(', ');
    const insertNew = `insert into ${q(fts)} ("Id", ${cols}) values (new."Id", ${fields.map((f) => `new.${q(f)}`).join(', ')});`;
    const deleteOld = `delete from ${q(fts)} where "Id" = old."Id";`;
    return {
      objects: [fts, `${fts}_insert`, `${fts}_delete`, `${fts}_update`],
      create: [
        `create virtual table ${q(fts)} using fts5("Id" unindexed, ${cols}, tokenize = 'unicode61 remove_diacritics 2')`,
        `insert into ${q(fts)} ("Id", ${cols}) select "Id", ${cols} from ${table}`,
      ],
      keep: [
        `create trigger if not exists ${q(`${fts}_insert`)} after insert on ${table} begin ${insertNew} end`,
        `create trigger if not exists ${q(`${fts}_delete`)} after delete on ${table} begin ${deleteOld} end`,
        `create trigger if not exists ${q(`${fts}_update`)} after update of "Id", ${cols} on ${table} begin ${deleteOld} ${insertNew} end`,
      ],
    };
  },
  match(object, _fields, words) {
    const fts = sql.raw(q(`${object.name}_fts`));
    // Each word a quoted prefix query ("bolt"*); FTS5 joins them with AND.
    const query = words.map((w) => `"${w.replace(/"/g, '""')}"*`).join(' ');
    return sql`select "Id", bm25(${fts}) as "rank" from ${fts} where ${fts} match ${query}`;
  },
};
