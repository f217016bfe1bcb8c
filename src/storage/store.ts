/**
 * The storage port implemented once over Kysely: the store (schema migration, transactions, closing);
 * its reads and writes are `KyselyOps` (crud.ts), its select compiler select.ts, its checkout-facts
 * statement checkout-facts.ts. Each backend (src/storage/<name>/) supplies a `DialectSpec` (its
 * SQL) with its `StorageAdapter` (capabilities, error classification).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { STORED_OBJECTS } from '../domain/objects.js';
import { StorageFault } from '../errors.js';
import { KyselyOps, StatementCache, type TransactionLife } from './crud.js';
import type { DialectSpec } from './dialect.js';
import type {
  BatchWrite,
  FactsKey,
  MultiRead,
  Filter,
  FindOptions,
  Row,
  SelectPlan,
  Storage,
  StorageAdapter,
  StorageOps,
  TextQuery,
} from './port.js';
import {
  buildTables,
  checkVersions,
  expectedSchemaObjects,
  MIGRATION_TABLE,
  recordedVersions,
  SCHEMA_VERSIONS,
  schemaObjects,
  schemaStatements,
  upgradeSchema,
  type TableInfo,
} from './tables.js';

/** Storage over a Kysely instance; see `DialectSpec` for what a backend supplies. */
export class KyselyStore implements Storage {
  readonly kind: string;
  readonly adapter: StorageAdapter;
  private readonly tables: Map<string, TableInfo>;
  private readonly ops: KyselyOps;
  /** SQL text of the hot statement shapes, compiled once by Kysely (see `StatementCache`). */
  private readonly statements = new StatementCache();
  /** What the current schema has (`expectedSchemaObjects`), once known. */
  private expectedObjects: string[] | undefined;

  constructor(
    private readonly db: Kysely<any>,
    private readonly spec: DialectSpec,
    private readonly onClose?: () => Promise<void>,
  ) {
    this.kind = spec.kind;
    this.adapter = spec.adapter;
    this.tables = buildTables(spec);
    this.ops = new KyselyOps(db, spec, this.tables, this.statements);
  }

  /**
   * Whether the database's schema is current: every schema version recorded (and no other) and
   * every table, column, index and full-text object of the current schema there. Reads only (no
   * transaction, no lock): one read of the schema's catalog, and one of the versions when the
   * catalog has everything. A read stopped by PostgreSQL's `?statement_timeout=` or `?lock_timeout=`
   * is made again with neither (`untimed`): they limit requests, not the engine's start.
   */
  async schemaIsCurrent(): Promise<boolean> {
    const check = async (db: Kysely<any>) => {
      const present = await schemaObjects(db, this.spec);
      this.expectedObjects ??= expectedSchemaObjects(this.spec);
      if (!this.expectedObjects.every((o) => present.has(o))) return false;
      const executed = await recordedVersions(db, this.spec);
      return executed.length === SCHEMA_VERSIONS.length && executed.every((v, i) => v === SCHEMA_VERSIONS[i]);
    };
    try {
      return await check(this.db);
    } catch (e) {
      // Past a request's statement or lock timeout (a busy server): read again with none.
      const timedOut = e instanceof StorageFault && (e.key === 'STORAGE_TIMEOUT' || e.key === 'UNABLE_TO_LOCK_ROW');
      if (!timedOut || !this.spec.untimed) throw e;
      return this.spec.untimed(this.db, check);
    }
  }

  /**
   * Brings the schema up to date in one transaction: nothing when `schemaIsCurrent`; on an empty
   * database the current schema in one pass (`schemaStatements`); on an older one the versions it
   * lacks (`upgradeSchema`). A database recording a version this engine doesn't know is refused
   * ("corrupted migrations: …"), changing nothing.
   */
  async migrate(): Promise<void> {
    if (await this.schemaIsCurrent()) return;
    const run = (db: Kysely<any>) =>
      db.transaction().execute(async (trx) => {
        // Read again inside the transaction: another process may have migrated meanwhile.
        const present = await schemaObjects(trx, this.spec);
        const executed = present.has(MIGRATION_TABLE) ? await recordedVersions(trx, this.spec) : [];
        checkVersions(executed);
        const at = new Date().toISOString();
        const empty = !present.has(MIGRATION_TABLE) && ![...STORED_OBJECTS.keys()].some((name) => present.has(name));
        if (!empty) return upgradeSchema(trx, this.spec, present, executed, at);
        const statements = schemaStatements(trx, this.spec, at);
        if (this.spec.runsScripts) await sql.raw(statements.join(';\n')).execute(trx);
        else for (const s of statements) await sql.raw(s).execute(trx);
      });
    if (this.spec.withMigrationLock) await this.spec.withMigrationLock(this.db, run);
    else await run(this.db);
  }

  transaction<T>(fn: (tx: StorageOps) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => this.transactionBody(trx, fn));
  }

  /**
   * Runs `fn` (a transaction's body, between its BEGIN and COMMIT) on the row operations of a
   * transaction on `db` (Kysely's transaction, or a Kysely bound to the connection the transaction
   * holds). Where the backend runs a transaction's statements itself (`runInTransaction`), those
   * operations refuse to run anything once the body has ended (`TransactionLife`): Kysely's own
   * guard against a finished transaction only sees what goes through its executor.
   */
  protected async transactionBody<T>(db: Kysely<any> | Transaction<any>, fn: (tx: StorageOps) => Promise<T>): Promise<T> {
    const direct = this.spec.runInTransaction ?? null;
    const life: TransactionLife | null = direct ? { open: true } : null;
    // Where a transaction has the whole database to itself (no row locks), it also keeps what it found.
    const keepsFinds = !this.spec.adapter.supportsRowLocks;
    const ops = new KyselyOps(db, this.spec, this.tables, this.statements, new Map(), keepsFinds ? new Map() : null, direct, life);
    try {
      return await fn(ops);
    } finally {
      if (life) life.open = false;
    }
  }

  get(object: string, id: string, opts?: { forUpdate?: boolean }) {
    return this.ops.get(object, id, opts);
  }
  checkoutFacts(key: FactsKey, userId: string, opts?: { forUpdate?: boolean }) {
    return this.ops.checkoutFacts(key, userId, opts);
  }
  getWithRef(object: string, id: string, refField: string, refObject: string) {
    return this.ops.getWithRef(object, id, refField, refObject);
  }
  find(object: string, opts?: FindOptions) {
    return this.ops.find(object, opts);
  }
  count(object: string, where?: readonly Filter[]) {
    return this.ops.count(object, where);
  }
  readTogether<A, B>(first: (ops: StorageOps) => Promise<A>, second: (ops: StorageOps) => Promise<B>) {
    return this.ops.readTogether(first, second);
  }
  findAll(reads: readonly MultiRead[]) {
    return this.ops.findAll(reads);
  }
  select(plan: SelectPlan) {
    return this.ops.select(plan);
  }
  textSearch(object: string, query: TextQuery) {
    return this.ops.textSearch(object, query);
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
  writeBatch(writes: readonly BatchWrite[]) {
    return this.ops.writeBatch(writes);
  }
  appendSessionEntry(cartId: string, row: Row) {
    return this.ops.appendSessionEntry(cartId, row);
  }

  async close(): Promise<void> {
    await this.db.destroy();
    await this.onClose?.();
  }
}
