/**
 * Reads and writes of the Kysely store, inside or outside a transaction: get, find, count,
 * insert, update (compare-and-set), updateWhere, updateColumn, updateRows, delete. Hot statement
 * shapes are compiled once (`StatementCache`); a transaction reads a row by id once (and, where it
 * has the database to itself, makes a `find` once until it writes that object: `FoundRows`). `select`
 * is compiled by select.ts, `checkoutFacts` by checkout-facts.ts, `appendSessionEntry` by session-entry.ts.
 */
import { CompiledQuery, sql, type Compilable, type Kysely, type QueryResult, type Transaction } from 'kysely';
import { allFields, STORED_OBJECTS } from '../domain/objects.js';
import { readCheckoutFacts } from './checkout-facts.js';
import { appendSessionEntry } from './session-entry.js';
import type { DialectSpec, Statement } from './dialect.js';
import {
  UniqueViolation,
  type AppendedSessionEntry,
  type BatchWrite,
  type CheckoutFacts,
  type FactsKey,
  type Filter,
  type FindOptions,
  type MultiRead,
  type Row,
  type SelectPlan,
  type StorageOps,
  type TextQuery,
  type TextSearchResult,
} from './port.js';
import { selectRows } from './select.js';
import { decodeRow, encodeValue, type TableInfo } from './tables.js';

/**
 * The SQL of each statement shape (object, columns, filter fields and operators, list lengths),
 * compiled by Kysely the first time and reused with fresh parameters after: building and compiling
 * a query costs more than running it on SQLite. The first compile of a shape checks that the
 * parameters we derive equal Kysely's own; a shape where they don't is never cached. Bounded: past
 * `size` shapes the oldest is dropped (first in, first out — a hit costs one map read, no
 * reordering; a hot shape dropped by a flood of one-off shapes is simply compiled again).
 */
/**
 * Rows per `case "Id" when … end` update: the database tests a row's id against the branches one by
 * one, so a statement's cost grows with rows × branches. 2,000 keeps a large cart (2,000 lines) in one
 * statement while 25,000 rows cost ~13 statements instead of one quadratic one (a minute on PostgreSQL).
 */
const MAX_CASE_ROWS = 2_000;

export class StatementCache {
  private readonly sqlByShape = new Map<string, string | null>();
  constructor(private readonly size = 2_000) {}

  /** The cached SQL of a shape (null: never cache it), or undefined when not seen yet. */
  lookup(shape: string): string | null | undefined {
    return this.sqlByShape.get(shape);
  }

  remember(shape: string, sqlText: string | null): void {
    if (this.sqlByShape.size >= this.size) this.sqlByShape.delete(this.sqlByShape.keys().next().value!);
    this.sqlByShape.set(shape, sqlText);
  }
}

/** What `p` settles to, as Promise.allSettled reports it. */
const settle = <T>(p: Promise<T>): Promise<PromiseSettledResult<T>> =>
  p.then(
    (value) => ({ status: 'fulfilled', value }) as const,
    (reason: unknown) => ({ status: 'rejected', reason }) as const,
  );

const sameParams = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/** A table or column name as SQL (double-quoted). */
const quoteName = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A copy of a decoded row that shares nothing mutable with it (list values are copied too). */
function copyRow(row: Row): Row {
  // One clone of the row's shape, then its lists replaced (setting every key one by one costs more).
  const out: Row = { ...row };
  for (const k in out) {
    const v = out[k];
    if (Array.isArray(v)) out[k] = [...(v as unknown[])];
  }
  return out;
}

/**
 * What a transaction found (`find`), by object, then statement shape and parameters: rows as read,
 * kept only where a transaction has the whole database to itself (no row locks: SQLite's
 * BEGIN IMMEDIATE), so nothing but this transaction's own writes can change them — and every
 * write through `KyselyOps` drops what was found of the object it writes.
 */
export type FoundRows = Map<string, Map<string, Row[]>>;

/**
 * Whether a transaction that runs its statements itself (`DialectSpec.runInTransaction`, on the
 * connection it holds) is still running: once it has committed or rolled back, its `KyselyOps` must
 * not run anything — the connection is no longer its own (a statement would land outside any
 * transaction, or inside another one).
 */
export interface TransactionLife {
  open: boolean;
}

/** What a `KyselyOps` of a finished transaction throws (kept from a callback after its end). */
export class TransactionFinished extends Error {
  constructor() {
    super('This transaction has already committed or rolled back: its operations can no longer run statements.');
    this.name = 'TransactionFinished';
  }
}

/** `statement` as Kysely's executor takes it: a CompiledQuery as it is, plain SQL wrapped (PostgreSQL, or SQLite's queued path). */
const compiled = (statement: Statement): CompiledQuery =>
  'query' in statement ? (statement as CompiledQuery) : CompiledQuery.raw(statement.sql, statement.parameters as unknown[]);

/** Each table's columns as `alias__column`, by alias (the names getWithRef's join selects them as): built once per table. */
const aliasedColumns = new WeakMap<TableInfo, Map<string, string[]>>();

/** The row of `tableInfo` in a getWithRef join row, under `alias` (its `alias__column` values), decoded. */
function joinedPart(tableInfo: TableInfo, alias: string, joined: Row): Row {
  let byAlias = aliasedColumns.get(tableInfo);
  if (!byAlias) aliasedColumns.set(tableInfo, (byAlias = new Map()));
  let names = byAlias.get(alias);
  if (!names) byAlias.set(alias, (names = tableInfo.columns.map((c) => `${alias}__${c}`)));
  const columns = tableInfo.columns;
  const out: Row = {};
  for (let i = 0; i < columns.length; i++) out[columns[i]!] = joined[names[i]!];
  return decodeRow(tableInfo, out);
}

export class KyselyOps implements StorageOps {
  constructor(
    readonly db: Kysely<any> | Transaction<any>,
    readonly spec: DialectSpec,
    private readonly tables: Map<string, TableInfo>,
    private readonly statements: StatementCache,
    /** Rows read by id in this transaction (null outside one): a row is read once per transaction. */
    private readonly rows: Map<string, { row: Row; locked: boolean }> | null = null,
    /** What this transaction found (null outside one, or where other transactions may write meanwhile). */
    private readonly found: FoundRows | null = null,
    /** In a transaction, the backend's `runInTransaction` (else statements go through Kysely's executor). */
    private readonly direct: ((query: Statement) => QueryResult<any>) | null = null,
    /** With `direct`: whether the transaction still runs (its statements are refused after its end). */
    private readonly life: TransactionLife | null = null,
  ) {}

  /** While `readTogether` starts its reads: the statements they send, sent together afterwards. */
  private collecting: { query: Statement; resolve: (r: QueryResult<Row>) => void; reject: (e: unknown) => void }[] | null = null;

  async readTogether<A, B>(
    first: (ops: StorageOps) => Promise<A>,
    second: (ops: StorageOps) => Promise<B>,
  ): Promise<[PromiseSettledResult<A>, PromiseSettledResult<B>]> {
    const pipelined = this.spec.pipelined;
    if (!pipelined || this.direct) {
      const a = await settle(first(this));
      return [a, a.status === 'rejected' ? a : await settle(second(this))];
    }
    const queue: NonNullable<KyselyOps['collecting']> = (this.collecting = []);
    let a: Promise<PromiseSettledResult<A>>;
    let b: Promise<PromiseSettledResult<B>>;
    try {
      a = settle(first(this));
      b = settle(second(this));
    } finally {
      this.collecting = null;
    }
    if (queue.length === 1) {
      this.run(queue[0]!.query).then(queue[0]!.resolve, queue[0]!.reject);
    } else if (queue.length > 1) {
      this.db.executeQuery<PromiseSettledResult<QueryResult<Row>>>(compiled(pipelined(queue.map((q) => q.query)))).then(
        ({ rows }) => rows.forEach((r, i) => (r.status === 'fulfilled' ? queue[i]!.resolve(r.value) : queue[i]!.reject(r.reason))),
        (e: unknown) => queue.forEach((q) => q.reject(e)),
      );
    }
    const [ra, rb] = await Promise.all([a, b]);
    return [ra, ra.status === 'rejected' ? ra : rb];
  }

  /** Throws TransactionFinished when this is a finished transaction's (see `TransactionLife`). */
  private live(): void {
    if (this.life && !this.life.open) throw new TransactionFinished();
  }

  /**
   * Runs a compiled statement: on the transaction's connection at once where the backend allows
   * (outside a transaction too, while nothing else uses the connection: `runOutsideTransaction`),
   * else through Kysely.
   */
  private async run<R = Row>(query: Statement): Promise<QueryResult<R>> {
    if (this.collecting) {
      const queue = this.collecting;
      return new Promise<QueryResult<Row>>((resolve, reject) => queue.push({ query, resolve, reject })) as Promise<QueryResult<R>>;
    }
    if (this.direct) {
      this.live();
      return this.direct(query) as QueryResult<R>;
    }
    const now = this.rows === null ? this.spec.runOutsideTransaction?.(query) : undefined;
    if (now) return now as QueryResult<R>;
    return this.db.executeQuery<R>(compiled(query) as CompiledQuery<R>);
  }

  /** A row this transaction already read (a copy), if the read it needs (locking or not) was made. */
  private readBefore(object: string, id: string, lock: boolean): Row | undefined {
    const hit = this.rows?.get(`${object}\u0000${id}`);
    return hit && (hit.locked || !lock) ? { ...hit.row } : undefined;
  }

  /** Remembers a row this transaction read by id (`locked`: with a row lock). */
  keepRead(object: string, row: Row | undefined, locked: boolean): void {
    if (!this.rows || !row || typeof row.Id !== 'string') return;
    const key = `${object}\u0000${row.Id}`;
    this.rows.set(key, { row: { ...row }, locked: locked || this.rows.get(key)?.locked === true });
  }

  /** Forgets what this transaction read of `object` (it is being written). */
  private forgetReads(object: string): void {
    this.found?.delete(object);
    if (!this.rows?.size) return;
    const prefix = `${object}\u0000`;
    for (const k of this.rows.keys()) if (k.startsWith(prefix)) this.rows.delete(k);
  }

  /**
   * Runs the statement of `shape` with `params`: the cached SQL when the shape was compiled before,
   * else `build()` compiled by Kysely (and its SQL cached when its parameters are exactly `params`).
   */
  async exec(shape: string, params: unknown[], build: () => Compilable): Promise<QueryResult<Row>> {
    const cached = this.statements.lookup(shape);
    if (typeof cached === 'string') return this.run({ sql: cached, parameters: params });
    const compiled = build().compile();
    if (cached === undefined) this.statements.remember(shape, sameParams(compiled.parameters, params) ? compiled.sql : null);
    return this.run(compiled);
  }

  /** The shape key and parameters of a filter list, in the order `applyWhere` binds them. */
  private whereShape(info: TableInfo, where: readonly Filter[] | undefined, params: unknown[]): string {
    let key = '';
    for (const f of where ?? []) {
      switch (f.op) {
        case 'is null':
        case 'is not null':
          key += `|${f.field} ${f.op}`;
          break;
        case 'in':
        case 'not in': {
          const vals = f.value.map((v) => encodeValue(info, f.field, v));
          params.push(...vals);
          key += `|${f.field} ${f.op} ${vals.length}`;
          break;
        }
        case 'like':
          params.push(f.value);
          key += `|${f.field} like`;
          break;
        case '=':
        case '!=':
          if (f.value === null) key += `|${f.field} ${f.op} null`;
          else {
            params.push(encodeValue(info, f.field, f.value));
            key += `|${f.field} ${f.op}`;
          }
          break;
        default:
          params.push(encodeValue(info, f.field, f.value));
          key += `|${f.field} ${f.op}`;
      }
    }
    return key;
  }

  /** The table of `object`; an unknown object throws. */
  table(object: string): TableInfo {
    const t = this.tables.get(object);
    if (!t) throw new Error(`unknown object ${object}`);
    return t;
  }

  /** Adds `where` to `qb`; with `table`, columns are named `table.field` (a query joining other tables). */
  private applyWhere<Q extends { where: (...a: any[]) => Q }>(
    qb: Q,
    info: TableInfo,
    where: readonly Filter[] | undefined,
    table?: string,
  ): Q {
    for (const raw of where ?? []) {
      if (!info.codecs.has(raw.field)) throw new Error(`unknown column ${raw.field}`);
      const f = table ? { ...raw, field: `${table}.${raw.field}` } : raw;
      const field = raw.field;
      switch (f.op) {
        case 'is null':
          qb = qb.where(f.field, 'is', null);
          break;
        case 'is not null':
          qb = qb.where(f.field, 'is not', null);
          break;
        case 'in':
        case 'not in': {
          const vals = f.value.map((v) => encodeValue(info, field, v));
          if (vals.length === 0) {
            if (f.op === 'in') qb = qb.where(sql<boolean>`1 = 0`);
            break;
          }
          qb = qb.where(f.field, f.op, vals);
          break;
        }
        case 'like':
          qb = qb.where(f.field, this.spec.likeOperator, f.value);
          break;
        case '=':
          qb = f.value === null ? qb.where(f.field, 'is', null) : qb.where(f.field, '=', encodeValue(info, field, f.value));
          break;
        case '!=':
          qb =
            f.value === null
              ? qb.where(f.field, 'is not', null)
              : qb.where((eb: any) => eb.or([eb(f.field, '!=', encodeValue(info, field, f.value)), eb(f.field, 'is', null)]));
          break;
        default:
          qb = qb.where(f.field, f.op, encodeValue(info, field, f.value));
      }
    }
    return qb;
  }

  async get(object: string, id: string, opts?: { forUpdate?: boolean }): Promise<Row | undefined> {
    const info = this.table(object);
    const lock = !!opts?.forUpdate && this.spec.adapter.supportsRowLocks;
    const hit = this.readBefore(object, id, lock);
    if (hit) return hit;
    const { rows } = await this.exec(`get ${object} ${lock}`, [id], () => {
      const q = this.db.selectFrom(object).selectAll().where('Id', '=', id);
      return lock ? q.forUpdate() : q;
    });
    const row = rows[0] ? decodeRow(info, rows[0]) : undefined;
    this.keepRead(object, row, lock);
    return row;
  }

  checkoutFacts(key: FactsKey, userId: string, opts?: { forUpdate?: boolean }): Promise<CheckoutFacts> {
    return readCheckoutFacts(this, key, userId, opts);
  }

  async getWithRef(
    object: string,
    id: string,
    refField: string,
    refObject: string,
  ): Promise<{ row: Row; ref: Row | undefined } | undefined> {
    const info = this.table(object);
    const refInfo = this.table(refObject);
    if (!info.codecs.has(refField)) throw new Error(`unknown column ${refField}`);
    const { rows } = await this.exec(`get-with-ref ${object} ${refField} ${refObject}`, [id], () => {
      const cols = sql.join([
        ...info.columns.map((c) => sql`${sql.ref(`r.${c}`)} as ${sql.ref(`r__${c}`)}`),
        ...refInfo.columns.map((c) => sql`${sql.ref(`f.${c}`)} as ${sql.ref(`f__${c}`)}`),
      ]);
      const q = sql`select ${cols} from ${sql.table(object)} as r left join ${sql.table(refObject)} as f on f."Id" = ${sql.ref(`r.${refField}`)} where r."Id" = ${id}`;
      return { compile: () => q.compile(this.db) };
    });
    const joined = rows[0];
    if (!joined) return undefined;
    const row = joinedPart(info, 'r', joined);
    const ref = joined.f__Id === null || joined.f__Id === undefined ? undefined : joinedPart(refInfo, 'f', joined);
    this.keepRead(object, row, false);
    this.keepRead(refObject, ref, false);
    return { row, ref };
  }

  async find(object: string, opts: FindOptions = {}): Promise<Row[]> {
    const info = this.table(object);
    const params: unknown[] = [];
    let shape = `find ${object}${this.whereShape(info, opts.where, params)}`;
    for (const o of opts.orderBy ?? []) shape += ` order ${o.field} ${o.direction} ${o.nulls ?? ''}`;
    if (opts.limit !== undefined) params.push(opts.limit);
    if (opts.offset !== undefined) {
      if (opts.limit === undefined && this.spec.noLimit !== null) params.push(this.spec.noLimit);
      params.push(opts.offset);
    }
    shape += ` ${opts.limit !== undefined} ${opts.offset !== undefined} ${!!opts.forUpdate && this.spec.adapter.supportsRowLocks}`;
    // The same read again in this transaction, with no write to `object` since: the rows it found.
    const key = this.found ? `${shape}\u0000${JSON.stringify(params)}` : '';
    const before = this.found?.get(object)?.get(key);
    if (before) return before.map(copyRow);
    const { rows } = await this.exec(shape, params, () => this.findQuery(info, object, opts));
    for (const r of rows) decodeRow(info, r);
    if (this.found) {
      let byKey = this.found.get(object);
      if (!byKey) this.found.set(object, (byKey = new Map()));
      byKey.set(key, rows.map(copyRow));
    }
    return rows;
  }

  /**
   * Several reads. With the adapter's `batchesWrites`, one statement: each read's rows as a JSON
   * array in its order (`select (select coalesce(json_agg(q order by …), '[]') from (…) q) as "r0", …`), decoded like
   * `find`'s rows (JSON keeps text, numbers — PostgreSQL prints doubles exactly — and booleans).
   */
  async findAll(reads: readonly MultiRead[]): Promise<Row[][]> {
    if (!this.spec.adapter.batchesWrites || reads.length < 2) {
      const out: Row[][] = [];
      for (const r of reads) out.push(await this.find(r.object, r.orderBy ? { where: r.where, orderBy: r.orderBy } : { where: r.where }));
      return out;
    }
    const params: unknown[] = [];
    const parts = reads.map((r, i) => {
      const info = this.table(r.object);
      const compiled = this.findQuery(info, r.object, { where: r.where }).compile();
      // The order is the aggregate's own (an order inside the subquery would not bind json_agg), with find's null placement.
      const order = (r.orderBy ?? []).map((o) => {
        if (!info.codecs.has(o.field)) throw new Error(`unknown column ${o.field}`);
        const nulls = o.nulls ?? (o.direction === 'asc' ? 'first' : 'last');
        return `q."${o.field.replace(/"/g, '""')}" ${o.direction} nulls ${nulls}`;
      });
      const offset = params.length;
      params.push(...compiled.parameters);
      // Kysely numbers its parameters $1…; ours follow the reads before it (its SQL holds no literals).
      const text = compiled.sql.replace(/\$(\d+)/g, (_m, n: string) => this.spec.placeholder(offset + Number(n)));
      const agg = order.length ? `json_agg(q order by ${order.join(', ')})` : 'json_agg(q)';
      return `(select coalesce(${agg}, '[]'::json) from (${text}) as q) as "r${i}"`;
    });
    const { rows } = await this.db.executeQuery<Row>(CompiledQuery.raw(`select ${parts.join(', ')}`, params));
    return reads.map((r, i) => {
      const raw = rows[0]?.[`r${i}`];
      const list = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Row[];
      const info = this.table(r.object);
      return list.map((row) => decodeRow(info, row));
    });
  }

  private findQuery(info: TableInfo, object: string, opts: FindOptions): Compilable {
    let q = this.applyWhere(this.db.selectFrom(object).selectAll(), info, opts.where);
    for (const o of opts.orderBy ?? []) {
      if (!info.codecs.has(o.field)) throw new Error(`unknown column ${o.field}`);
      const nulls = o.nulls ?? (o.direction === 'asc' ? 'first' : 'last');
      q = q.orderBy(o.field, (ob: any) => {
        const dir = o.direction === 'asc' ? ob.asc() : ob.desc();
        return nulls === 'first' ? dir.nullsFirst() : dir.nullsLast();
      });
    }
    if (opts.limit !== undefined) q = q.limit(opts.limit);
    if (opts.offset !== undefined) {
      if (opts.limit === undefined) q = q.limit(this.spec.noLimit as any);
      q = q.offset(opts.offset);
    }
    if (opts.forUpdate && this.spec.adapter.supportsRowLocks) q = q.forUpdate();
    return q;
  }

  async count(object: string, where?: readonly Filter[]): Promise<number> {
    const info = this.table(object);
    const params: unknown[] = [];
    const shape = `count ${object}${this.whereShape(info, where, params)}`;
    const { rows } = await this.exec(shape, params, () =>
      this.applyWhere(this.db.selectFrom(object).select(sql<number>`count(*)`.as('n')), info, where),
    );
    return Number((rows[0] as { n?: number | string } | undefined)?.n ?? 0);
  }

  /** Full-text search: the backend's match subquery joined to the table, filtered, ranked and paged. */
  async textSearch(object: string, q: TextQuery): Promise<TextSearchResult> {
    const def = STORED_OBJECTS.get(object);
    const ft = this.spec.fullText;
    if (!this.spec.adapter.supportsFullText || !ft) throw new Error(`the ${this.spec.kind} storage backend has no full-text index`);
    if (!def?.fullText) throw new Error(`${object} has no full-text index`);
    if (q.words.length === 0) throw new Error('textSearch needs at least one word');
    this.live();
    const info = this.table(object);
    const base = () =>
      this.applyWhere(
        this.db
          .selectFrom(object)
          .innerJoin(sql`(${ft.match(def, def.fullText!, q.words)})`.as('m') as any, (j: any) => j.onRef('m.Id', '=', `${object}.Id`)),
        info,
        q.where,
        object,
      );
    const counted = await base()
      .select(sql<number>`count(*)`.as('n'))
      .execute();
    const total = Number((counted[0] as { n?: number | string } | undefined)?.n ?? 0);
    let page = base()
      .select(sql.ref(`${object}.Id`).as('Id'))
      .orderBy(sql.ref('m.rank'))
      .orderBy(sql.ref(`${object}.Id`));
    if (q.limit !== undefined) page = page.limit(q.limit);
    if (q.offset !== undefined) {
      if (q.limit === undefined) page = page.limit(this.spec.noLimit as any);
      page = page.offset(q.offset);
    }
    const rows = await page.execute();
    return { ids: rows.map((r) => String((r as Row).Id)), total };
  }

  /** Runs a select plan: compiled to one statement by select.ts. */
  async select(plan: SelectPlan): Promise<Row[]> {
    this.live();
    return selectRows(this.db, this.spec, (object) => this.table(object), plan);
  }

  /** `insert into "T" ("a", …) values (?, …), …` for `n` rows, in the dialect's placeholders (cached per shape). */
  private insertSql(object: string, cols: readonly string[], n: number): string {
    const shape = `insert ${object} ${n}`;
    const hit = this.statements.lookup(shape);
    if (typeof hit === 'string') return hit;
    const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
    let p = 0;
    const placeholder = () => this.spec.placeholder(++p);
    const tuple = () => `(${cols.map(placeholder).join(', ')})`;
    const text = `insert into ${quote(object)} (${cols.map(quote).join(', ')}) values ${Array.from({ length: n }, tuple).join(', ')}`;
    this.statements.remember(shape, text);
    return text;
  }

  async insert(object: string, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    this.forgetReads(object);
    const info = this.table(object);
    const cols = info.columns;
    const codecs = cols.map((c) => info.codecs.get(c)!);
    const chunk = Math.max(1, Math.floor(this.spec.maxParams / cols.length));
    try {
      for (let i = 0; i < rows.length; i += chunk) {
        const part = rows.slice(i, i + chunk);
        const params: unknown[] = new Array(part.length * cols.length);
        let k = 0;
        for (const r of part) {
          for (let j = 0; j < cols.length; j++) {
            const v = r[cols[j]!];
            params[k++] = v === undefined ? null : codecs[j]!.encode(v);
          }
        }
        // A multi-row insert is plain text: written here once per shape rather than parsed by Kysely's builder.
        await this.run({ sql: this.insertSql(object, cols, part.length), parameters: params });
      }
    } catch (err) {
      if (this.spec.adapter.isUniqueViolation(err)) throw new UniqueViolation(object, err);
      throw err;
    }
  }

  private encodeValues(info: TableInfo, values: Row): Row {
    const out: Row = {};
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) continue;
      out[k] = encodeValue(info, k, v);
    }
    return out;
  }

  async update(object: string, id: string, values: Row, expect?: readonly Filter[]): Promise<boolean> {
    const n = await this.updateWhere(object, [{ field: 'Id', op: '=', value: id }, ...(expect ?? [])], values);
    return n > 0;
  }

  async updateWhere(object: string, where: readonly Filter[], values: Row): Promise<number> {
    this.forgetReads(object);
    const info = this.table(object);
    const set = this.encodeValues(info, values);
    if (Object.keys(set).length === 0) return this.count(object, where);
    try {
      const params = Object.values(set);
      const shape = `update ${object} ${Object.keys(set).join(',')}${this.whereShape(info, where, params)}`;
      const r = await this.exec(shape, params, () => this.applyWhere(this.db.updateTable(object).set(set), info, where));
      return Number(r.numAffectedRows ?? 0);
    } catch (err) {
      if (this.spec.adapter.isUniqueViolation(err)) throw new UniqueViolation(object, err);
      throw err;
    }
  }

  async updateColumn(object: string, field: string, values: ReadonlyMap<string, unknown>): Promise<number> {
    this.forgetReads(object);
    const info = this.table(object);
    const type = allFields(STORED_OBJECTS.get(object)!).find((f) => f.name === field)?.type;
    if (!type || !info.codecs.has(field)) throw new Error(`unknown column ${field}`);
    const cast = this.spec.columnType(type);
    const entries = [...values.entries()];
    const chunk = Math.min(MAX_CASE_ROWS, Math.max(1, Math.floor((this.spec.maxParams - 10) / 3)));
    let n = 0;
    for (let i = 0; i < entries.length; i += chunk) {
      const part = entries.slice(i, i + chunk);
      // Written as text (what Kysely's builder made of it, without building it per call).
      const params: unknown[] = [];
      const p = (v: unknown) => {
        params.push(v);
        return this.spec.placeholder(params.length);
      };
      const cases = part.map(([id, v]) => `when ${p(id)} then cast(${p(encodeValue(info, field, v))} as ${cast})`).join(' ');
      const ids = part.map(([id]) => p(id)).join(', ');
      const r = await this.run({
        sql: `update ${quoteName(object)} set ${quoteName(field)} = case "Id" ${cases} end where "Id" in (${ids})`,
        parameters: params,
      });
      n += Number(r.numAffectedRows ?? 0);
    }
    return n;
  }

  async updateRows(object: string, rows: readonly { id: string; values: Row }[]): Promise<number> {
    this.forgetReads(object);
    const info = this.table(object);
    // Rows setting the same fields go together: one statement per field set and chunk.
    const groups = new Map<string, { id: string; values: Row }[]>();
    for (const r of rows) {
      const fields = Object.keys(r.values).filter((f) => r.values[f] !== undefined);
      if (fields.length === 0) continue;
      const key = fields.sort().join(',');
      (groups.get(key) ?? groups.set(key, []).get(key)!).push(r);
    }
    let n = 0;
    for (const [key, group] of groups) {
      const fields = key.split(',');
      for (const f of fields) if (!info.codecs.has(f)) throw new Error(`unknown column ${f}`);
      const casts = fields.map((f) => this.castSql(object, f));
      const chunk = Math.min(MAX_CASE_ROWS, Math.max(1, Math.floor((this.spec.maxParams - 10) / (1 + 2 * fields.length))));
      for (let i = 0; i < group.length; i += chunk) {
        const part = group.slice(i, i + chunk);
        // Written as text (what Kysely's builder made of it, without building it per call).
        const params: unknown[] = [];
        const p = (v: unknown) => {
          params.push(v);
          return this.spec.placeholder(params.length);
        };
        const sets = fields.map((f, j) => {
          const values = part.map((r) => encodeValue(info, f, r.values[f]));
          if (values.every((v) => v === values[0])) return `${quoteName(f)} = cast(${p(values[0])} as ${casts[j]!})`;
          const cases = part.map((r, k) => `when ${p(r.id)} then cast(${p(values[k])} as ${casts[j]!})`).join(' ');
          return `${quoteName(f)} = case "Id" ${cases} end`;
        });
        const ids = part.map((r) => p(r.id)).join(', ');
        try {
          const r = await this.run({
            sql: `update ${quoteName(object)} set ${sets.join(', ')} where "Id" in (${ids})`,
            parameters: params,
          });
          n += Number(r.numAffectedRows ?? 0);
        } catch (err) {
          if (this.spec.adapter.isUniqueViolation(err)) throw new UniqueViolation(object, err);
          throw err;
        }
      }
    }
    return n;
  }

  /**
   * Runs writes in order, stopping at the first update that matched nothing (see `StorageOps`). With
   * the adapter's `batchesWrites`, each run of writes that updates no row twice is one statement: a
   * data-modifying CTE per write, each after a failed compare-and-set skipped (`batchStatement`).
   */
  async appendSessionEntry(cartId: string, row: Row): Promise<AppendedSessionEntry | undefined> {
    this.forgetReads('CheckoutSessionEvent');
    try {
      return await appendSessionEntry(this, cartId, row);
    } catch (err) {
      if (this.spec.adapter.isUniqueViolation(err)) throw new UniqueViolation('CheckoutSessionEvent', err);
      throw err;
    }
  }

  async writeBatch(writes: readonly BatchWrite[]): Promise<number> {
    for (const w of writes) this.forgetReads(w.object);
    let start = 0;
    while (start < writes.length) {
      // A run ends before an update of a row the run already updates (one statement may change a row once).
      const seen = new Set<string>();
      let end = start;
      for (; end < writes.length; end++) {
        const w = writes[end]!;
        if (w.kind !== 'update') continue;
        const key = `${w.object}\u0000${w.id}`;
        if (seen.has(key)) break;
        seen.add(key);
      }
      const run = writes.slice(start, end);
      const statement = this.spec.adapter.batchesWrites && run.length > 1 ? this.batchStatement(run) : null;
      if (statement) {
        let rows: Row[];
        try {
          ({ rows } = await this.db.executeQuery<Row>(CompiledQuery.raw(statement.sql, statement.params)));
        } catch (err) {
          if (this.spec.adapter.isUniqueViolation(err)) {
            const table = (err as { table?: unknown }).table;
            throw new UniqueViolation(typeof table === 'string' ? table : run[0]!.object, err);
          }
          throw err;
        }
        const missed = statement.updates.findIndex((i) => Number(rows[0]?.[`u${i}`] ?? 0) === 0);
        if (missed >= 0) return start + statement.updates[missed]!;
      } else {
        for (let i = 0; i < run.length; i++) {
          const w = run[i]!;
          if (w.kind === 'insert') await this.insert(w.object, w.rows);
          else if (!(await this.update(w.object, w.id, w.values, w.expect))) return start + i;
        }
      }
      start = end;
    }
    return -1;
  }

  /**
   * One statement for `writes`: \`with "w0" as (update … returning 1), "w1" as (insert … select … where
   * exists (select 1 from "w0")) select (select count(*) from "w0") as "u0"\` — every write after an
   * update runs only when that update matched. Null when a write doesn't fit (an expectation other
   * than =, !=, is null; an update setting nothing; too many parameters): run them one by one then.
   */
  private batchStatement(writes: readonly BatchWrite[]): { sql: string; params: unknown[]; updates: number[] } | null {
    const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return this.spec.placeholder(params.length);
    };
    const ctes: string[] = [];
    const updates: number[] = [];
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i]!;
      const info = this.table(w.object);
      const guard = updates.map((j) => `exists (select 1 from "w${j}")`);
      if (w.kind === 'update') {
        const set = this.encodeValues(info, w.values);
        const fields = Object.keys(set);
        if (fields.length === 0) return null;
        const sets: string[] = [];
        for (const f of fields) {
          if (!info.codecs.has(f)) throw new Error(`unknown column ${f}`);
          sets.push(`${quote(f)} = ${p(set[f])}`);
        }
        const conds = [`"Id" = ${p(w.id)}`];
        for (const f of w.expect ?? []) {
          if (!info.codecs.has(f.field)) throw new Error(`unknown column ${f.field}`);
          const col = quote(f.field);
          if (f.op === 'is null' || ((f.op === '=' || f.op === '!=') && f.value === null))
            conds.push(`${col} ${f.op === '!=' ? 'is not' : 'is'} null`);
          else if (f.op === 'is not null') conds.push(`${col} is not null`);
          else if (f.op === '=') conds.push(`${col} = ${p(encodeValue(info, f.field, f.value))}`);
          else if (f.op === '!=') conds.push(`(${col} <> ${p(encodeValue(info, f.field, f.value))} or ${col} is null)`);
          else return null;
        }
        ctes.push(`"w${i}" as (update ${quote(w.object)} set ${sets.join(', ')} where ${[...conds, ...guard].join(' and ')} returning 1)`);
        updates.push(i);
      } else {
        if (w.rows.length === 0) continue;
        const cols = info.columns;
        const codecs = cols.map((c) => info.codecs.get(c)!);
        // Selected values are typed by their casts (an insert's own VALUES would take the columns' types).
        const casts = cols.map((c) => this.castSql(w.object, c));
        const tuples = w.rows.map(
          (r) =>
            `(${cols
              .map((c, j) => {
                const v = r[c];
                return `cast(${p(v === undefined ? null : codecs[j]!.encode(v))} as ${casts[j]})`;
              })
              .join(', ')})`,
        );
        const into = `insert into ${quote(w.object)} (${cols.map(quote).join(', ')})`;
        ctes.push(
          guard.length
            ? `"w${i}" as (${into} select * from (values ${tuples.join(', ')}) as v where ${guard.join(' and ')})`
            : `"w${i}" as (${into} values ${tuples.join(', ')})`,
        );
      }
      if (params.length > this.spec.maxParams) return null;
    }
    if (ctes.length === 0) return null;
    const counts = updates.map((j) => `(select count(*) from "w${j}") as "u${j}"`);
    return { sql: `with ${ctes.join(', ')} select ${counts.length ? counts.join(', ') : '1 as "none"'}`, params, updates };
  }

  /** The SQL type of a column (a field's or an internal column's), for casts. */
  private castSql(object: string, column: string): string {
    const def = STORED_OBJECTS.get(object)!;
    const type = allFields(def).find((f) => f.name === column)?.type ?? def.internal?.find((c) => c.name === column)?.type;
    if (!type) throw new Error(`unknown column ${column}`);
    return this.spec.columnType(type);
  }

  async delete(object: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    this.forgetReads(object);
    let n = 0;
    const chunk = this.spec.maxParams - 10;
    for (let i = 0; i < ids.length; i += chunk) {
      const r = await this.run(
        this.db
          .deleteFrom(object)
          .where('Id', 'in', ids.slice(i, i + chunk))
          .compile(),
      );
      n += Number(r.numAffectedRows ?? 0);
    }
    return n;
  }
}
