/**
 * The storage port implemented once over Kysely; each backend (sqlite/, postgres/) supplies only a
 * `DialectSpec`: its column types, value codecs, parameter limit and how it reports unique-key
 * violations. One table per object, named after it, one column per field.
 */
import { CompiledQuery, Migrator, sql, type Compilable, type Kysely, type Migration, type QueryResult, type RawBuilder, type Transaction } from 'kysely';
import { allFields, STORED_OBJECTS, type FieldType, type ObjectDef } from '../domain/objects.js';
import { UniqueViolation, type CheckoutFacts, type FactsKey, type ColumnRef, type Filter, type FindOptions, type Predicate, type Row, type SelectPlan, type Storage, type StorageOps } from './port.js';

/** What differs between backends. */
export interface DialectSpec {
  readonly kind: 'sqlite' | 'postgres';
  /** DDL column type for a field type (or an internal column type). */
  columnType(type: FieldType | 'text' | 'integer' | 'id'): string;
  /** Bound parameters allowed in one statement. */
  readonly maxParams: number;
  /** Booleans as the driver wants them. */
  encodeBoolean(v: boolean): unknown;
  /** Whether a driver error is a unique-key violation. */
  isUniqueViolation(err: unknown): boolean;
  /** Whether `SELECT … FOR UPDATE` is supported (SQLite transactions already serialize). */
  readonly forUpdate: boolean;
  /** The case-insensitive LIKE operator. */
  readonly likeOperator: 'like' | 'ilike';
  /** The schema tables live in, where the backend has schemas. */
  readonly schema?: string;
  /** Runs schema changes holding a cross-process lock (PostgreSQL advisory lock). */
  withMigrationLock?: (db: Kysely<any>, fn: (db: Kysely<any>) => Promise<void>) => Promise<void>;
}

type Codec = { encode: (v: unknown) => unknown; decode: (v: unknown) => unknown };

const identity: Codec = { encode: (v) => v, decode: (v) => v };

interface TableInfo {
  columns: string[];
  codecs: Map<string, Codec>;
  decoders: [string, (v: unknown) => unknown][];
}

function buildTableInfo(object: ObjectDef, spec: DialectSpec): TableInfo {
  const codecs = new Map<string, Codec>();
  const boolCodec: Codec = {
    encode: (v) => (v === null || v === undefined ? null : spec.encodeBoolean(Boolean(v))),
    decode: (v) => (v === null || v === undefined ? null : v === true || v === 1 || v === '1' || v === 't'),
  };
  const listCodec: Codec = {
    encode: (v) => (v === null || v === undefined ? null : JSON.stringify(v)),
    decode: (v) => (v === null || v === undefined ? null : typeof v === 'string' ? JSON.parse(v) : v),
  };
  const numCodec: Codec = { encode: (v) => v, decode: (v) => (v === null || v === undefined ? null : typeof v === 'number' ? v : Number(v)) };
  const columns: string[] = [];
  for (const f of allFields(object)) {
    columns.push(f.name);
    codecs.set(
      f.name,
      f.type === 'boolean' ? boolCodec : f.type === 'stringList' ? listCodec : ['number', 'currency', 'integer'].includes(f.type) ? numCodec : identity,
    );
  }
  for (const c of object.internal ?? []) {
    columns.push(c.name);
    codecs.set(c.name, c.type === 'integer' ? numCodec : identity);
  }
  const decoders = [...codecs.entries()].filter(([, c]) => c !== identity).map(([k, c]) => [k, c.decode] as [string, (v: unknown) => unknown]);
  return { columns, codecs, decoders };
}

/** Creates every object's table, column and index that is missing (additive, idempotent). */
async function syncSchema(db: Kysely<any>, spec: DialectSpec): Promise<void> {
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
        if (!cols.has(name)) await db.schema.alterTable(object.name).addColumn(name, sql.raw(type) as any).execute();
      }
    }
    for (const idx of object.indexes ?? []) {
      await db.schema.createIndex(`ix_${object.name}_${idx.join('_')}`).ifNotExists().on(object.name).columns([...idx]).execute();
    }
    for (const idx of object.unique ?? []) {
      await db.schema.createIndex(`ux_${object.name}_${idx.join('_')}`).ifNotExists().unique().on(object.name).columns([...idx]).execute();
    }
  }
}

/** Versioned migrations; each also re-syncs the additive object schema. */
const MIGRATIONS = (spec: DialectSpec): Record<string, Migration> => ({
  '2026-11-25-0001-objects': { up: (db) => syncSchema(db, spec) },
  // Order.CartId unique (a cart becomes at most one order): added to databases made before it.
  '2026-12-01-0002-one-order-per-cart': { up: (db) => syncSchema(db, spec) },
});

/** Storage over a Kysely instance; see `DialectSpec` for what a backend supplies. */
export class KyselyStore implements Storage {
  readonly kind: 'sqlite' | 'postgres';
  private readonly tables = new Map<string, TableInfo>();
  private readonly ops: KyselyOps;
  /** SQL text of the hot statement shapes, compiled once by Kysely (see `StatementCache`). */
  private readonly statements = new StatementCache();

  constructor(
    private readonly db: Kysely<any>,
    private readonly spec: DialectSpec,
    private readonly onClose?: () => Promise<void>,
  ) {
    this.kind = spec.kind;
    for (const o of STORED_OBJECTS.values()) this.tables.set(o.name, buildTableInfo(o, spec));
    this.ops = new KyselyOps(db, spec, this.tables, this.statements);
  }

  async migrate(): Promise<void> {
    const run = async (db: Kysely<any>) => {
      const migrator = new Migrator({
        db,
        provider: { getMigrations: async () => MIGRATIONS(this.spec) },
        migrationTableName: 'engine_migration',
        migrationLockTableName: 'engine_migration_lock',
        ...(this.spec.schema ? { migrationTableSchema: this.spec.schema } : {}),
      });
      const { error } = await migrator.migrateToLatest();
      if (error) throw error;
      await syncSchema(db, this.spec);
    };
    if (this.spec.withMigrationLock) await this.spec.withMigrationLock(this.db, run);
    else await run(this.db);
  }

  transaction<T>(fn: (tx: StorageOps) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(new KyselyOps(trx, this.spec, this.tables, this.statements, new Map())));
  }

  get(object: string, id: string, opts?: { forUpdate?: boolean }) {
    return this.ops.get(object, id, opts);
  }
  checkoutFacts(key: FactsKey, userId: string, opts?: { forUpdate?: boolean }) {
    return this.ops.checkoutFacts(key, userId, opts);
  }
  find(object: string, opts?: FindOptions) {
    return this.ops.find(object, opts);
  }
  count(object: string, where?: readonly Filter[]) {
    return this.ops.count(object, where);
  }
  select(plan: SelectPlan) {
    return this.ops.select(plan);
  }
  insert(object: string, rows: readonly Row[]) {
    return this.ops.insert(object, rows);
  }
  update(object: string, id: string, values: Row, expect?: readonly Filter[]) {
    return this.ops.update(object, id, values, expect);
  }
  updateWhere(object: string, where: readonly Filter[], values: Row) {
    return this.ops.updateWhere(object, where, values);
  }
  updateColumn(object: string, field: string, values: ReadonlyMap<string, unknown>) {
    return this.ops.updateColumn(object, field, values);
  }
  delete(object: string, ids: readonly string[]) {
    return this.ops.delete(object, ids);
  }
  updateRows(object: string, rows: readonly { id: string; values: Row }[]) {
    return this.ops.updateRows(object, rows);
  }

  async close(): Promise<void> {
    await this.db.destroy();
    await this.onClose?.();
  }
}

/**
 * The SQL of each statement shape (object, columns, filter fields and operators, list lengths),
 * compiled by Kysely the first time and reused with fresh parameters after: building and compiling
 * a query costs more than running it on SQLite. The first compile of a shape checks that the
 * parameters we derive equal Kysely's own; a shape where they don't is never cached. Bounded (LRU).
 */
class StatementCache {
  private readonly sqlByShape = new Map<string, string | null>();
  constructor(private readonly size = 2_000) {}

  /** The cached SQL of a shape (null: never cache it), or undefined when not seen yet. */
  lookup(shape: string): string | null | undefined {
    const hit = this.sqlByShape.get(shape);
    if (hit !== undefined) {
      this.sqlByShape.delete(shape);
      this.sqlByShape.set(shape, hit);
    }
    return hit;
  }

  remember(shape: string, sqlText: string | null): void {
    if (this.sqlByShape.size >= this.size) this.sqlByShape.delete(this.sqlByShape.keys().next().value!);
    this.sqlByShape.set(shape, sqlText);
  }
}

const sameParams = (a: readonly unknown[], b: readonly unknown[]) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

class KyselyOps implements StorageOps {
  constructor(
    private readonly db: Kysely<any> | Transaction<any>,
    private readonly spec: DialectSpec,
    private readonly tables: Map<string, TableInfo>,
    private readonly statements: StatementCache,
    /** Rows read by id in this transaction (null outside one): a row is read once per transaction. */
    private readonly rows: Map<string, { row: Row; locked: boolean }> | null = null,
  ) {}

  /** A row this transaction already read (a copy), if the read it needs (locking or not) was made. */
  private readBefore(object: string, id: string, lock: boolean): Row | undefined {
    const hit = this.rows?.get(`${object}\u0000${id}`);
    return hit && (hit.locked || !lock) ? { ...hit.row } : undefined;
  }

  private keepRead(object: string, row: Row | undefined, locked: boolean): void {
    if (!this.rows || !row || typeof row.Id !== 'string') return;
    const key = `${object}\u0000${row.Id}`;
    this.rows.set(key, { row: { ...row }, locked: locked || this.rows.get(key)?.locked === true });
  }

  /** Forgets what this transaction read of `object` (it is being written). */
  private forgetReads(object: string): void {
    if (!this.rows?.size) return;
    const prefix = `${object}\u0000`;
    for (const k of this.rows.keys()) if (k.startsWith(prefix)) this.rows.delete(k);
  }

  /**
   * Runs the statement of `shape` with `params`: the cached SQL when the shape was compiled before,
   * else `build()` compiled by Kysely (and its SQL cached when its parameters are exactly `params`).
   */
  private async exec(shape: string, params: unknown[], build: () => Compilable): Promise<QueryResult<Row>> {
    const cached = this.statements.lookup(shape);
    if (typeof cached === 'string') return this.db.executeQuery<Row>(CompiledQuery.raw(cached, params));
    const compiled = build().compile();
    if (cached === undefined) this.statements.remember(shape, sameParams(compiled.parameters, params) ? compiled.sql : null);
    return this.db.executeQuery<Row>(compiled as CompiledQuery<Row>);
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
          const vals = f.value.map((v) => this.encodeValue(info, f.field, v));
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
            params.push(this.encodeValue(info, f.field, f.value));
            key += `|${f.field} ${f.op}`;
          }
          break;
        default:
          params.push(this.encodeValue(info, f.field, f.value));
          key += `|${f.field} ${f.op}`;
      }
    }
    return key;
  }

  private table(object: string): TableInfo {
    const t = this.tables.get(object);
    if (!t) throw new Error(`unknown object ${object}`);
    return t;
  }

  private decode(info: TableInfo, row: Row): Row {
    for (const [k, dec] of info.decoders) row[k] = dec(row[k]);
    return row;
  }

  private encodeValue(info: TableInfo, field: string, v: unknown): unknown {
    const codec = info.codecs.get(field);
    if (!codec) throw new Error(`unknown column ${field}`);
    return codec.encode(v);
  }

  private applyWhere<Q extends { where: (...a: any[]) => Q }>(qb: Q, info: TableInfo, where: readonly Filter[] | undefined): Q {
    for (const f of where ?? []) {
      if (!info.codecs.has(f.field)) throw new Error(`unknown column ${f.field}`);
      switch (f.op) {
        case 'is null':
          qb = qb.where(f.field, 'is', null);
          break;
        case 'is not null':
          qb = qb.where(f.field, 'is not', null);
          break;
        case 'in':
        case 'not in': {
          const vals = f.value.map((v) => this.encodeValue(info, f.field, v));
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
          qb = f.value === null ? qb.where(f.field, 'is', null) : qb.where(f.field, '=', this.encodeValue(info, f.field, f.value));
          break;
        case '!=':
          qb =
            f.value === null
              ? qb.where(f.field, 'is not', null)
              : qb.where((eb: any) => eb.or([eb(f.field, '!=', this.encodeValue(info, f.field, f.value)), eb(f.field, 'is', null)]));
          break;
        default:
          qb = qb.where(f.field, f.op, this.encodeValue(info, f.field, f.value));
      }
    }
    return qb;
  }

  async get(object: string, id: string, opts?: { forUpdate?: boolean }): Promise<Row | undefined> {
    const info = this.table(object);
    const lock = !!opts?.forUpdate && this.spec.forUpdate;
    const hit = this.readBefore(object, id, lock);
    if (hit) return hit;
    const { rows } = await this.exec(`get ${object} ${lock}`, [id], () => {
      const q = this.db.selectFrom(object).selectAll().where('Id', '=', id);
      return lock ? q.forUpdate() : q;
    });
    const row = rows[0] ? this.decode(info, rows[0]) : undefined;
    this.keepRead(object, row, lock);
    return row;
  }

  async checkoutFacts(key: FactsKey, userId: string, opts?: { forUpdate?: boolean }): Promise<CheckoutFacts> {
    const bySession = 'sessionId' in key;
    const lock = !!opts?.forUpdate && this.spec.forUpdate;
    const notArchived = this.spec.encodeBoolean(false);
    const id = bySession ? key.sessionId : key.cartId;
    const params = bySession ? [userId, id] : [userId, notArchived, id];
    const tables = { c: 'WebCart', s: 'CartCheckoutSession', o: 'BackgroundOperation', w: 'WebStore' } as const;
    const { rows } = await this.exec(`facts ${bySession} ${lock}`, params, () => {
      const cols = sql.join(
        Object.entries(tables).flatMap(([alias, object]) => this.table(object).columns.map((c) => sql`${sql.ref(`${alias}.${c}`)} as ${sql.ref(`${alias}__${c}`)}`)),
      );
      const t = (name: string, alias: string) => sql`${sql.table(name)} as ${sql.raw(alias)}`;
      const from = bySession
        ? sql`${t('CartCheckoutSession', 's')} left join ${t('WebCart', 'c')} on c."Id" = s."WebCartId"`
        : sql`${t('WebCart', 'c')} left join ${t('CartCheckoutSession', 's')} on s."WebCartId" = c."Id" and s."IsArchived" = ${notArchived}`;
      const q = sql`select ${cols},
        (select 1 from ${t('Account', 'a')} where a."Id" = c."AccountId") as "x__account",
        (select b."BuyerStatus" from ${t('BuyerAccount', 'b')} where b."BuyerId" = c."AccountId" limit 1) as "x__buyer",
        (select 1 from ${t('BuyerGroupMember', 'm')} join ${t('WebStoreBuyerGroup', 'g')} on g."BuyerGroupId" = m."BuyerGroupId"
          where m."BuyerId" = c."AccountId" and g."WebStoreId" = c."WebStoreId" limit 1) as "x__member",
        (select max(case when sh."AccessLevel" = 'Edit' then 2 else 1 end) from ${t('WebCartShare', 'sh')}
          where sh."ParentId" = c."Id" and sh."UserOrGroupId" = ${userId}) as "x__share"
        from ${from}
        left join ${t('BackgroundOperation', 'o')} on o."Id" = s."BackgroundOperationId"
        left join ${t('WebStore', 'w')} on w."Id" = c."WebStoreId"
        where ${sql.raw(bySession ? 's' : 'c')}."Id" = ${id}
        ${sql.raw(lock ? `for update of ${bySession ? 's' : 'c'}` : '')}`;
      return { compile: () => q.compile(this.db) };
    });
    const row = rows[0];
    const part = (alias: keyof typeof tables): Row | undefined => {
      if (!row || row[`${alias}__Id`] === null || row[`${alias}__Id`] === undefined) return undefined;
      const info = this.table(tables[alias]);
      const out: Row = {};
      for (const c of info.columns) out[c] = row[`${alias}__${c}`];
      return this.decode(info, out);
    };
    const cart = part('c');
    const session = part('s');
    const operation = part('o');
    const store = part('w');
    this.keepRead('WebCart', cart, lock && !bySession);
    this.keepRead('CartCheckoutSession', session, lock && bySession);
    this.keepRead('BackgroundOperation', operation, false);
    this.keepRead('WebStore', store, false);
    const share = Number(row?.x__share ?? 0);
    return {
      cart,
      session,
      operation,
      store,
      accountExists: row?.x__account !== null && row?.x__account !== undefined,
      buyerStatus: (row?.x__buyer as string | null | undefined) ?? null,
      storeMember: row?.x__member !== null && row?.x__member !== undefined,
      share: !cart || cart.OwnerId === userId ? null : share >= 2 ? 'Edit' : share === 1 ? 'Read' : null,
    };
  }

  async find(object: string, opts: FindOptions = {}): Promise<Row[]> {
    const info = this.table(object);
    const params: unknown[] = [];
    let shape = `find ${object}${this.whereShape(info, opts.where, params)}`;
    for (const o of opts.orderBy ?? []) shape += ` order ${o.field} ${o.direction} ${o.nulls ?? ''}`;
    if (opts.limit !== undefined) params.push(opts.limit);
    if (opts.offset !== undefined) {
      if (opts.limit === undefined && this.spec.kind === 'sqlite') params.push(-1);
      params.push(opts.offset);
    }
    shape += ` ${opts.limit !== undefined} ${opts.offset !== undefined} ${!!opts.forUpdate && this.spec.forUpdate}`;
    const { rows } = await this.exec(shape, params, () => this.findQuery(info, object, opts));
    for (const r of rows) this.decode(info, r);
    return rows;
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
      if (opts.limit === undefined) q = q.limit(this.spec.kind === 'sqlite' ? -1 : (null as any));
      q = q.offset(opts.offset);
    }
    if (opts.forUpdate && this.spec.forUpdate) q = q.forUpdate();
    return q;
  }

  async count(object: string, where?: readonly Filter[]): Promise<number> {
    const info = this.table(object);
    const params: unknown[] = [];
    const shape = `count ${object}${this.whereShape(info, where, params)}`;
    const { rows } = await this.exec(shape, params, () => this.applyWhere(this.db.selectFrom(object).select(sql<number>`count(*)`.as('n')), info, where));
    return Number((rows[0] as { n?: number | string } | undefined)?.n ?? 0);
  }

  /** Compiles a select plan to one SQL statement: left joins, a condition tree, aggregates, grouping. */
  async select(plan: SelectPlan): Promise<Row[]> {
    const aliases = new Map<string, TableInfo>([['t0', this.table(plan.object)]]);
    for (const j of plan.joins ?? []) {
      if (!/^t\d+$/.test(j.alias) || aliases.has(j.alias)) throw new Error(`bad join alias ${j.alias}`);
      aliases.set(j.alias, this.table(j.object));
    }
    const col = (r: ColumnRef): RawBuilder<unknown> => {
      const info = aliases.get(r.alias);
      if (!info || !info.codecs.has(r.field)) throw new Error(`unknown column ${r.alias}.${r.field}`);
      return sql.ref(`${r.alias}.${r.field}`);
    };
    // Long AND / OR lists nest as a balanced tree: SQLite refuses expression trees deeper than 1000.
    const joinBalanced = (parts: RawBuilder<boolean>[], op: 'and' | 'or'): RawBuilder<boolean> => {
      if (parts.length <= 16) return sql<boolean>`(${sql.join(parts, sql.raw(` ${op} `))})`;
      const mid = Math.ceil(parts.length / 2);
      return sql<boolean>`(${joinBalanced(parts.slice(0, mid), op)} ${sql.raw(op)} ${joinBalanced(parts.slice(mid), op)})`;
    };
    const pred = (p: Predicate): RawBuilder<boolean> => {
      if ('and' in p) return p.and.length ? joinBalanced(p.and.map(pred), 'and') : sql<boolean>`1 = 1`;
      if ('or' in p) return p.or.length ? joinBalanced(p.or.map(pred), 'or') : sql<boolean>`1 = 0`;
      if ('not' in p) return sql<boolean>`(not coalesce(${pred(p.not)}, false))`;
      const c = col(p);
      const info = aliases.get(p.alias)!;
      const enc = (v: unknown) => this.encodeValue(info, p.field, v);
      // Repeated list values bind once (a list is bounded by the statement's parameter limit).
      const list = (vs: readonly unknown[]) => [...new Set(vs.map(enc))];
      switch (p.op) {
        case 'is null':
          return sql<boolean>`${c} is null`;
        case 'is not null':
          return sql<boolean>`${c} is not null`;
        case 'in':
          return p.value.length ? sql<boolean>`${c} in (${sql.join(list(p.value))})` : sql<boolean>`1 = 0`;
        case 'not in':
          return p.value.length ? sql<boolean>`(${c} not in (${sql.join(list(p.value))}) or ${c} is null)` : sql<boolean>`1 = 1`;
        case 'like':
          return sql<boolean>`${c} ${sql.raw(this.spec.likeOperator)} ${p.value} escape '\\'`;
        case '=':
          return p.value === null ? sql<boolean>`${c} is null` : sql<boolean>`${c} = ${enc(p.value)}`;
        case '!=':
          return p.value === null ? sql<boolean>`${c} is not null` : sql<boolean>`(${c} <> ${enc(p.value)} or ${c} is null)`;
        default:
          return sql<boolean>`${c} ${sql.raw(p.op)} ${enc(p.value)}`;
      }
    };
    let q: any = this.db.selectFrom(`${plan.object} as t0`);
    for (const j of plan.joins ?? []) {
      const on = j.on ? sql<boolean>` and ${pred(j.on)}` : sql``;
      col(j.from);
      q = q.leftJoin(`${j.object} as ${j.alias}`, (jb: any) => jb.on(sql<boolean>`${sql.ref(`${j.alias}.Id`)} = ${col(j.from)}${on}`));
    }
    const fnSql = { count: 'count', count_distinct: 'count', sum: 'sum', avg: 'avg', min: 'min', max: 'max' } as const;
    q = q.select(
      plan.columns.map((c) => {
        if (!/^\w+$/.test(c.as)) throw new Error(`bad column name ${c.as}`);
        if (!c.fn) return col(c.ref).as(c.as);
        if (!c.ref) return sql`count(*)`.as(c.as);
        const inner = c.fn === 'count_distinct' ? sql`distinct ${col(c.ref)}` : col(c.ref);
        return sql`${sql.raw(fnSql[c.fn])}(${inner})`.as(c.as);
      }),
    );
    if (plan.where) q = q.where(pred(plan.where));
    if (plan.groupBy?.length) q = q.groupBy(plan.groupBy.map(col));
    for (const o of plan.orderBy ?? []) {
      const nulls = o.nulls ?? (o.direction === 'asc' ? 'first' : 'last');
      q = q.orderBy(sql`${col(o)} ${sql.raw(o.direction === 'asc' ? 'asc' : 'desc')} nulls ${sql.raw(nulls === 'first' ? 'first' : 'last')}`);
    }
    if (plan.limit !== undefined) q = q.limit(plan.limit);
    if (plan.offset !== undefined) {
      if (plan.limit === undefined) q = q.limit(this.spec.kind === 'sqlite' ? -1 : null);
      q = q.offset(plan.offset);
    }
    const rows = (await q.execute()) as Row[];
    const decoders = plan.columns.map((c): [string, (v: unknown) => unknown] => {
      if (c.fn === 'count' || c.fn === 'count_distinct') return [c.as, (v) => Number(v ?? 0)];
      if (c.fn === 'sum' || c.fn === 'avg') return [c.as, (v) => (v === null || v === undefined ? null : Number(v))];
      const codec = aliases.get(c.ref!.alias)!.codecs.get(c.ref!.field)!;
      return [c.as, codec.decode];
    });
    for (const r of rows) for (const [k, dec] of decoders) r[k] = dec(r[k]);
    return rows;
  }

  /** `insert into "T" ("a", …) values (?, …), …` for `n` rows, in the dialect's placeholders (cached per shape). */
  private insertSql(object: string, cols: readonly string[], n: number): string {
    const shape = `insert ${object} ${n}`;
    const hit = this.statements.lookup(shape);
    if (typeof hit === 'string') return hit;
    const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
    let p = 0;
    const placeholder = this.spec.kind === 'postgres' ? () => `$${++p}` : () => '?';
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
        await this.db.executeQuery(CompiledQuery.raw(this.insertSql(object, cols, part.length), params));
      }
    } catch (err) {
      if (this.spec.isUniqueViolation(err)) throw new UniqueViolation(object, err);
      throw err;
    }
  }

  private encodeValues(info: TableInfo, values: Row): Row {
    const out: Row = {};
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) continue;
      out[k] = this.encodeValue(info, k, v);
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
      if (this.spec.isUniqueViolation(err)) throw new UniqueViolation(object, err);
      throw err;
    }
  }

  async updateColumn(object: string, field: string, values: ReadonlyMap<string, unknown>): Promise<number> {
    this.forgetReads(object);
    const info = this.table(object);
    const type = allFields(STORED_OBJECTS.get(object)!).find((f) => f.name === field)?.type;
    if (!type || !info.codecs.has(field)) throw new Error(`unknown column ${field}`);
    const cast = sql.raw(this.spec.columnType(type));
    const entries = [...values.entries()];
    const chunk = Math.max(1, Math.floor((this.spec.maxParams - 10) / 3));
    let n = 0;
    for (let i = 0; i < entries.length; i += chunk) {
      const part = entries.slice(i, i + chunk);
      const cases = sql.join(
        part.map(([id, v]) => sql`when ${id} then cast(${this.encodeValue(info, field, v)} as ${cast})`),
        sql` `,
      );
      const r = await this.db
        .updateTable(object)
        .set({ [field]: sql`case ${sql.ref('Id')} ${cases} end` })
        .where(
          'Id',
          'in',
          part.map(([id]) => id),
        )
        .executeTakeFirst();
      n += Number(r.numUpdatedRows);
    }
    return n;
  }

  /** The SQL type to cast a bound value of a column to (PostgreSQL types CASE branches by their parameters). */
  private castOf(object: string, field: string): RawBuilder<unknown> {
    const def = STORED_OBJECTS.get(object)!;
    const type = allFields(def).find((f) => f.name === field)?.type ?? def.internal?.find((c) => c.name === field)?.type;
    if (!type) throw new Error(`unknown column ${field}`);
    return sql.raw(this.spec.columnType(type));
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
      const casts = fields.map((f) => this.castOf(object, f));
      const chunk = Math.max(1, Math.floor((this.spec.maxParams - 10) / (1 + 2 * fields.length)));
      for (let i = 0; i < group.length; i += chunk) {
        const part = group.slice(i, i + chunk);
        const set: Record<string, unknown> = {};
        fields.forEach((f, j) => {
          const values = part.map((r) => this.encodeValue(info, f, r.values[f]));
          if (values.every((v) => v === values[0])) {
            set[f] = sql`cast(${values[0]} as ${casts[j]!})`;
            return;
          }
          const cases = sql.join(
            part.map((r, k) => sql`when ${r.id} then cast(${values[k]} as ${casts[j]!})`),
            sql` `,
          );
          set[f] = sql`case ${sql.ref('Id')} ${cases} end`;
        });
        try {
          const r = await this.db
            .updateTable(object)
            .set(set)
            .where(
              'Id',
              'in',
              part.map((p) => p.id),
            )
            .executeTakeFirst();
          n += Number(r.numUpdatedRows);
        } catch (err) {
          if (this.spec.isUniqueViolation(err)) throw new UniqueViolation(object, err);
          throw err;
        }
      }
    }
    return n;
  }

  async delete(object: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    this.forgetReads(object);
    let n = 0;
    const chunk = this.spec.maxParams - 10;
    for (let i = 0; i < ids.length; i += chunk) {
      const r = await this.db.deleteFrom(object).where('Id', 'in', ids.slice(i, i + chunk)).executeTakeFirst();
      n += Number(r.numDeletedRows);
    }
    return n;
  }
}
