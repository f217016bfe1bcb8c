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
  async install(db, object, fields) {
    const table = q(object.name);
    const fts = `${object.name}_fts`;
    const cols = fields.map(q).join(', ');
    const found = await sql`select 1 as x from sqlite_master where name = ${fts}`.execute(db);
    if (found.rows.length === 0) {
      await sql
        .raw(`create virtual table ${q(fts)} using fts5("Id" unindexed, ${cols}, tokenize = 'unicode61 remove_diacritics 2')`)
        .execute(db);
      await sql.raw(`insert into ${q(fts)} ("Id", ${cols}) select "Id", ${cols} from ${table}`).execute(db);
    }
    const insertNew = `insert into ${q(fts)} ("Id", ${cols}) values (new."Id", ${fields.map((f) => `new.${q(f)}`).join(', ')});`;
    const deleteOld = `delete from ${q(fts)} where "Id" = old."Id";`;
    await sql.raw(`create trigger if not exists ${q(`${fts}_insert`)} after insert on ${table} begin ${insertNew} end`).execute(db);
    await sql.raw(`create trigger if not exists ${q(`${fts}_delete`)} after delete on ${table} begin ${deleteOld} end`).execute(db);
    await sql
      .raw(
        `create trigger if not exists ${q(`${fts}_update`)} after update of "Id", ${cols} on ${table} begin ${deleteOld} ${insertNew} end`,
      )
      .execute(db);
  },
  match(object, _fields, words) {
    const fts = sql.raw(q(`${object.name}_fts`));
    // Each word a quoted prefix query ("bolt"*); FTS5 joins them with AND.
    const query = words.map((w) => `"${w.replace(/"/g, '""')}"*`).join(' ');
    return sql`select "Id", bm25(${fts}) as "rank" from ${fts} where ${fts} match ${query}`;
  },
};
