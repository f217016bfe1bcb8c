/**
 * The session-entry statement (`StorageOps.appendSessionEntry`): a CheckoutSessionEvent row for
 * the active checkout session of a cart, numbered after the session's entries at its current
 * version, written by one statement that reads the session, counts its entries and inserts — where
 * the engine used to read the session, count and insert in three.
 *
 * - SQLite: `insert … select … from (the session) returning *`, the session's columns the entry
 *   was made from read back by subqueries of the RETURNING clause;
 * - PostgreSQL: a data-modifying CTE, `with s as (the session), i as (insert … select … from s
 *   returning *) select i.*, s.… from i, s`;
 * - a backend of another SQL: the read, the count and the insert, one statement each.
 *
 * The entry's state path (`StateBefore` / `StateAfter`) is worked out in SQL for the snapshot
 * shapes a session stores (`{"value":"state"}`, `{"value":{"state":"substate"}}`), else left ''. The
 * engine works it out from the session's `_snapshot` and `State` read back, and corrects the row when
 * they differ (src/engine/sessions.ts, `writeSideEntry`).
 */
import { CompiledQuery, type QueryResult } from 'kysely';
import type { DialectSpec } from './dialect.js';
import type { AppendedSessionEntry, Row, StorageOps } from './port.js';
import { decodeRow, encodeValue, type TableInfo } from './tables.js';

/** The history table and the session table the statement joins. */
const ENTRY = 'CheckoutSessionEvent';
const SESSION = 'CartCheckoutSession';

/** The entry's columns that come from the session row (everything else comes from the caller's row). */
const FROM_SESSION = new Set(['SessionId', 'CartId', 'Seq', 'Sub', 'StateBefore', 'StateAfter']);

/** The session's columns returned with the entry (aliased `s__<column>` in the statement's result). */
const SESSION_COLUMNS = ['Id', 'WebCartId', '_version', '_flow', '_snapshot', 'State'] as const;

/** What the statement needs of the backend's operations (KyselyOps in src/storage/crud.ts has them). */
export interface SessionEntryOps extends Pick<StorageOps, 'find' | 'count' | 'insert'> {
  readonly spec: DialectSpec;
  exec(shape: string, params: unknown[], build: () => { compile(): CompiledQuery }): Promise<QueryResult<Row>>;
  table(object: string): TableInfo;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The state path of `x."_snapshot"` in SQL, for the shapes a session stores (see the module
 * comment); '' otherwise, or on a backend whose SQL this doesn't know (the engine corrects it).
 */
function pathSql(kind: string): string {
  const snap = 'x."_snapshot"';
  if (kind === 'sqlite')
    // json_valid first: json_type and json_extract throw on text that isn't JSON.
    return `coalesce(case when json_valid(${snap}) then case json_type(${snap}, '$.value')
      when 'text' then json_extract(${snap}, '$.value')
      when 'object' then (select case when count(*) = 1 and min(j.type) = 'text' and min(j.value) <> ''
        then min(j.key) || '.' || min(j.value) end from json_each(${snap}, '$.value') as j) end end, '')`;
  if (kind === 'postgres') {
    // Matched by pattern (a cast of text that isn't JSON would throw): a JSON string without escapes is its text.
    const str = '"([^"\\\\]+)"';
    const state = `^\\{"value":${str}\\}$`;
    const sub = `^\\{"value":\\{${str}:${str}\\}\\}$`;
    return `case when ${snap} ~ '${state}' then substring(${snap} from '${state}')
      when ${snap} ~ '${sub}' then regexp_replace(${snap}, '${sub}', '\\1.\\2')
      else '' end`;
  }
  return `''`;
}

/**
 * The statement's SQL. Its parameters, in the order they appear in its text (`?` placeholders are
 * positional): the cart id and the archived flag of the session read, and the caller's columns
 * (`bound`) — the session read first on PostgreSQL (its CTE leads), last on SQLite.
 */
function statementOf(spec: DialectSpec, info: TableInfo, bound: readonly string[]): string {
  const sessionFirst = spec.kind === 'postgres';
  const p = (i: number) => spec.placeholder(sessionFirst ? i : i + bound.length);
  const v = (i: number) => spec.placeholder(sessionFirst ? i + 2 : i);
  const sessionRead = `select ${SESSION_COLUMNS.map((c) => `x.${quote(c)}`).join(', ')}, ${pathSql(spec.kind)} as "p"
    from ${quote(SESSION)} as x where x."WebCartId" = ${p(1)} and x."IsArchived" = ${p(2)} limit 1`;
  const seq = 's."_version_or_0"';
  const values = info.columns.map((c) => {
    switch (c) {
      case 'SessionId':
        return 's."Id"';
      case 'CartId':
        return 's."WebCartId"';
      case 'Seq':
        return seq;
      case 'Sub':
        return `(select count(*) from ${quote(ENTRY)} as e where e."SessionId" = s."Id" and e."Seq" = ${seq})`;
      case 'StateBefore':
      case 'StateAfter':
        return 's."p"';
      default:
        return v(1 + bound.indexOf(c));
    }
  });
  const session = `select y.*, coalesce(y."_version", 0) as "_version_or_0" from (${sessionRead}) as y`;
  const insert = `insert into ${quote(ENTRY)} (${info.columns.map(quote).join(', ')}) select ${values.join(', ')} from`;
  if (spec.kind === 'postgres') {
    const picked = SESSION_COLUMNS.map((c) => `s.${quote(c)} as ${quote(`s__${c}`)}`).join(', ');
    return `with s as (${session}), i as (${insert} s returning *) select i.*, ${picked} from i cross join s`;
  }
  // SQLite: RETURNING names only the inserted row; its subqueries read the session it was made from.
  const picked = SESSION_COLUMNS.map(
    (c) => `(select z.${quote(c)} from ${quote(SESSION)} as z where z."Id" = ${quote(ENTRY)}."SessionId") as ${quote(`s__${c}`)}`,
  ).join(', ');
  return `${insert} (${session}) as s returning *, ${picked}`;
}

/** Appends a history entry for the cart's active session (see `StorageOps.appendSessionEntry`). */
export async function appendSessionEntry(ops: SessionEntryOps, cartId: string, row: Row): Promise<AppendedSessionEntry | undefined> {
  const spec = ops.spec;
  if (spec.kind !== 'sqlite' && spec.kind !== 'postgres') return readThenInsert(ops, cartId, row);
  const info = ops.table(ENTRY);
  const bound = info.columns.filter((c) => !FROM_SESSION.has(c));
  const values = bound.map((c) => (row[c] === undefined ? null : encodeValue(info, c, row[c])));
  const read = [cartId, spec.encodeBoolean(false)];
  const params = spec.kind === 'postgres' ? [...read, ...values] : [...values, ...read];
  const { rows } = await ops.exec('append-session-entry', params, () => ({
    compile: () => CompiledQuery.raw(statementOf(spec, info, bound), params),
  }));
  const r = rows[0];
  if (!r) return undefined;
  const inserted: Row = {};
  for (const c of info.columns) inserted[c] = r[c];
  const codecs = ops.table(SESSION).codecs;
  const session: Row = {};
  for (const c of SESSION_COLUMNS) session[c] = codecs.get(c)!.decode(r[`s__${c}`]);
  return { row: decodeRow(info, inserted), session };
}

/** The same on a backend of another SQL: the session read, its entries counted, the entry inserted. */
export async function readThenInsert(
  ops: Pick<StorageOps, 'find' | 'count' | 'insert'>,
  cartId: string,
  row: Row,
): Promise<AppendedSessionEntry | undefined> {
  const [s] = await ops.find(SESSION, {
    where: [
      { field: 'WebCartId', op: '=', value: cartId },
      { field: 'IsArchived', op: '=', value: false },
    ],
    limit: 1,
  });
  if (!s) return undefined;
  const seq = Number(s._version ?? 0);
  const sub = await ops.count(ENTRY, [
    { field: 'SessionId', op: '=', value: String(s.Id) },
    { field: 'Seq', op: '=', value: seq },
  ]);
  const inserted: Row = {
    ...row,
    SessionId: s.Id,
    CartId: s.WebCartId ?? null,
    Seq: seq,
    Sub: sub,
    StateBefore: '',
    StateAfter: '',
  };
  await ops.insert(ENTRY, [inserted]);
  const session: Row = {};
  for (const c of SESSION_COLUMNS) session[c] = s[c];
  return { row: inserted, session };
}
