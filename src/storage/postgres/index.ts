/**
 * The multi-node PostgreSQL backend: Kysely's PostgresDialect over a `pg` pool. Same tables and
 * contract as SQLite; row locks (`SELECT … FOR UPDATE`) plus the `_version` compare-and-set
 * serialize writers across processes. Migrations run under an advisory lock so several processes
 * can start at once.
 */
import {
  Kysely,
  PostgresDialect,
  sql,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type SchemaMetadata,
  type TableMetadata,
} from 'kysely';
import pg from 'pg';
import type { DialectSpec } from '../dialect.js';
import { StorageAdapterBase, type QueueConnection, type StorageOps } from '../port.js';
import { KyselyStore } from '../store.js';
import { postgresFullText } from './full-text.js';
import { RoundTripCounter } from './round-trips.js';

export { RoundTripCounter, type RoundTripTrace } from './round-trips.js';
import { EngineError, StorageFault } from '../../errors.js';

/**
 * What PostgreSQL can do and how its errors read: row locks (`FOR UPDATE`), a queue shared by every
 * engine process on the database (pg-boss, next to the engine's tables) and LISTEN/NOTIFY wake-ups;
 * 23505 is a unique violation, 40001 (serialization failure) and 40P01 (deadlock) are
 * serialization failures; faults are read by `postgresFault`.
 */
export class PostgresAdapter extends StorageAdapterBase {
  constructor(private readonly connection: QueueConnection) {
    super();
  }

  override get supportsRowLocks(): boolean {
    return true;
  }

  override get supportsFullText(): boolean {
    return true;
  }
  override get supportsNotify(): boolean {
    return true;
  }
  override get batchesWrites(): boolean {
    return true;
  }

  /** The URL (without `schema`) and schema, so pg-boss can live next to the engine's tables. */
  override queueConnection(): QueueConnection {
    return { ...this.connection };
  }

  override isUniqueViolation(err: unknown): boolean {
    return (err as { code?: string })?.code === '23505';
  }

  override isSerializationFailure(err: unknown): boolean {
    const code = (err as { code?: string })?.code;
    return code === '40001' || code === '40P01';
  }

  override classifyFault(err: unknown): StorageFault | null {
    return postgresFault(err);
  }
}

/** PostgreSQL's SQL (`$n` parameters, `ilike`, `limit null`) in the engine's schema. */
function specFor(schema: string, connection: QueueConnection): DialectSpec {
  /** Runs `fn` on one connection with no lock or statement timeout: the engine's start is not a request. */
  const untimed = <T>(db: Kysely<any>, fn: (db: Kysely<any>) => Promise<T>): Promise<T> =>
    db.connection().execute(async (conn) => {
      await sql.raw('set lock_timeout = 0; set statement_timeout = 0').execute(conn);
      try {
        return await fn(conn);
      } finally {
        await sql.raw('reset lock_timeout; reset statement_timeout').execute(conn); // back to the connection's own (startup) values
      }
    });
  return {
    kind: 'postgres',
    adapter: new PostgresAdapter(connection),
    columnType: (t) => {
      switch (t) {
        case 'number':
        case 'currency':
          return 'double precision';
        case 'integer':
          return 'integer';
        case 'boolean':
          return 'boolean';
        default:
          return 'text';
      }
    },
    maxParams: 60_000,
    encodeBoolean: (v) => v,
    likeOperator: 'ilike',
    placeholder: (i) => `$${i}`,
    pipelined: (reads) => ({ sql: PIPELINE_SQL, parameters: reads }),
    noLimit: null,
    fullText: postgresFullText,
    runsScripts: true,
    schema,
    schemaObjects: () => sql<{ name: string; col: string | null }>`
      select c.relname as name, a.attname as col from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where n.nspname = ${schema} and c.relkind = 'r'
      union all select c.relname, null from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${schema} and c.relkind in ('r', 'i')`,
    untimed,
    withMigrationLock: (db, fn) =>
      // Per schema: engines of other schemas (other stores, other test runs) migrate in parallel.
      // Waiting for another process's migration is not a row-lock wait: no lock or statement timeout here.
      untimed(db, async (conn) => {
        await sql`select pg_advisory_lock(727274, hashtext(${schema}))`.execute(conn);
        try {
          await sql.raw(`create schema if not exists "${schema}"`).execute(conn);
          // Kysely's introspection lists the tables of EVERY schema; another run dropping its own
          // schema at that moment makes the catalog query fail (3F000/42P01). That race is
          // harmless to us, so run the (idempotent) migration again.
          for (let attempt = 1; ; attempt++) {
            try {
              await fn(conn);
              break;
            } catch (e) {
              const code = (e as { code?: string })?.code;
              if (attempt >= 5 || (code !== '3F000' && code !== '42P01' && code !== 'XX000')) throw e;
              await new Promise((r) => setTimeout(r, 20 * attempt));
            }
          }
        } finally {
          await sql`select pg_advisory_unlock(727274, hashtext(${schema}))`.execute(conn);
        }
      }),
  };
}

/**
 * Kysely's PostgreSQL introspector lists the columns of every table in every schema of the
 * database; with many engines (or test runs) sharing one database that is slow (thousands of
 * tables) and races with other schemas being dropped. Ours looks at the engine's schema only.
 */
class SchemaIntrospector implements DatabaseIntrospector {
  constructor(
    private readonly db: Kysely<any>,
    private readonly schema: string,
  ) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ nspname: string }>`select nspname from pg_catalog.pg_namespace where nspname = ${this.schema}`.execute(
      this.db,
    );
    return rows.map((r) => ({ name: r.nspname }));
  }

  async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{
      table: string;
      kind: string;
      column: string;
      type: string;
      type_schema: string;
      not_null: boolean;
      has_default: boolean;
    }>`
      select c.relname as "table", c.relkind as kind, a.attname as "column", t.typname as type, tns.nspname as type_schema,
             a.attnotnull as not_null, a.atthasdef as has_default
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
      join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      join pg_catalog.pg_type t on t.oid = a.atttypid
      join pg_catalog.pg_namespace tns on tns.oid = t.typnamespace
      where ns.nspname = ${this.schema} and c.relkind in ('r', 'v', 'p')
      order by c.relname, a.attnum`.execute(this.db);
    const tables = new Map<string, TableMetadata & { columns: TableMetadata['columns'][number][] }>();
    for (const r of rows) {
      let t = tables.get(r.table);
      if (!t) tables.set(r.table, (t = { name: r.table, schema: this.schema, isView: r.kind === 'v', columns: [] }));
      t.columns.push({
        name: r.column,
        dataType: r.type,
        dataTypeSchema: r.type_schema,
        isNullable: !r.not_null,
        hasDefaultValue: r.has_default,
        isAutoIncrementing: false,
      });
    }
    return [...tables.values()];
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

/** PostgresDialect whose introspection stays inside the engine's schema. */
class SchemaDialect extends PostgresDialect {
  constructor(
    config: ConstructorParameters<typeof PostgresDialect>[0],
    private readonly schema: string,
  ) {
    super(config);
  }

  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SchemaIntrospector(db, this.schema);
  }
}

/** Server error codes that mean the connection or the server went away (class 08, shutdowns, no slots). */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '57P05', '53300', '53400']);
/** Socket errors of a connection that can't be made or was cut. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOENT',
]);
/** node-postgres's own messages for a connection that is gone (they carry no code). */
const LOST_MESSAGE = /Connection terminated|is not queryable|timeout exceeded when trying to connect|connection timeout|Connection ended/i;

/**
 * The engine's error for a PostgreSQL fault, or null when `err` is not one: a lock wait past
 * lock_timeout (55P03) → UNABLE_TO_LOCK_ROW; a statement past statement_timeout or canceled
 * (57014) → STORAGE_TIMEOUT; no disk space (53100) → STORAGE_FULL; a connection refused, cut or
 * terminated (class 08, 57P01–57P05, too many connections, socket errors) → STORAGE_UNAVAILABLE.
 * `inFlight` says what a lost connection may have left behind: 'commit' — a COMMIT was on its way,
 * 'write' — a statement outside a transaction that writes (it commits by itself): both make the
 * outcome 'unknown'; anything else (a statement of a transaction, a read, a statement never sent)
 * did not commit.
 */
export function postgresFault(err: unknown, inFlight: 'commit' | 'write' | 'none' = 'none'): StorageFault | null {
  if (err instanceof StorageFault) return err;
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  const what = `(PostgreSQL${typeof code === 'string' ? ` ${code}` : ''}: ${message})`;
  if (code === '55P03') return new StorageFault('UNABLE_TO_LOCK_ROW', `The lock wait passed lock_timeout ${what}.`, false, err);
  if (code === '57014') return new StorageFault('STORAGE_TIMEOUT', what, false, err);
  if (code === '53100') return new StorageFault('STORAGE_FULL', what, false, err);
  const lost =
    (typeof code === 'string' && (code.startsWith('08') || UNAVAILABLE_CODES.has(code) || NETWORK_CODES.has(code))) ||
    (code === undefined && LOST_MESSAGE.test(message));
  if (!lost) return null;
  const neverSent = /is not queryable/i.test(message); // node-postgres refused it before sending
  if (inFlight !== 'none' && !neverSent) {
    const change = inFlight === 'commit' ? 'the transaction was committing' : 'the change was being saved';
    return new StorageFault(
      'STORAGE_UNAVAILABLE',
      `The connection was lost while ${change}: it may or may not have been saved; read before retrying ${what}.`,
      'unknown',
      err,
    );
  }
  return new StorageFault('STORAGE_UNAVAILABLE', what, false, err);
}

type KyselyPool = Extract<ConstructorParameters<typeof PostgresDialect>[0]['pool'], { connect: unknown }>;
type KyselyClient = Awaited<ReturnType<KyselyPool['connect']>>;

/**
 * The pool as Kysely sees it: every driver error that is a database fault becomes the engine's
 * StorageFault. Each client gets an 'error' listener of its own (a server that drops a client
 * checked out between two statements would otherwise emit an unhandled 'error' and end the
 * process); a dead client is not queryable, so its next statement fails at once and the pool
 * drops it on release and connects a new one for the next call. A COMMIT that loses its connection
 * is remembered, so the failing ROLLBACK Kysely sends next reports that commit's unknown outcome.
 */
class FaultTranslatingPool implements KyselyPool {
  private readonly clients = new WeakMap<pg.PoolClient, KyselyClient>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly counter: RoundTripCounter,
    /** Named prepared statements (null: every statement is parsed and planned each time). */
    private readonly statements: PreparedNames | null,
  ) {}

  async connect(): Promise<KyselyClient> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw postgresFault(e) ?? e;
    }
    let wrapped = this.clients.get(client);
    if (!wrapped) {
      client.on('error', () => {}); // the failure surfaces on the client's next statement instead
      wrapped = this.wrap(client);
      this.clients.set(client, wrapped);
    }
    return wrapped;
  }

  private wrap(client: pg.PoolClient): KyselyClient {
    let inTransaction = false;
    let lostCommit: StorageFault | null = null;
    /** A prepared statement of this connection went stale (a schema change): the connection is dropped on release. */
    let stale = false;
    /** The BEGIN Kysely asked for, held back to go out with the transaction's first statement. */
    let heldBegin: string | null = null;
    const parsed = (client as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements;
    /** The columns of each named statement this connection has described (a prepared statement's columns can't change: see RowsQuery). */
    const shapes = new Map<string, RowShape>();
    /**
     * Several reads in one round trip (see Pipeline), a held BEGIN in front; each read's outcome
     * settles on its own, as Kysely's `rows`: a read the server refused or never ran (an earlier
     * one failed) rejects, the others are fulfilled with their result.
     */
    const pipeline = async (statements: readonly PipelinedRead[]) => {
      const begin = heldBegin;
      let pieces: PipelinePiece[];
      try {
        pieces = statements.map((s) => {
          if (s.parameters.length === 0 && s.sql.includes(';')) throw new Error('A pipelined read must be one statement.');
          const name = s.parameters.length ? this.statements?.nameOf(s.sql) : undefined;
          const firstParse = name !== undefined && parsed[name] !== s.sql;
          return {
            text: s.sql,
            name,
            values: s.parameters.map((v) => (prepareValue as (v: unknown) => unknown)(v)),
            shape: name !== undefined && !firstParse ? shapes.get(name) : undefined,
            firstParse,
          };
        });
      } catch (e) {
        // Nothing was sent: every read fails as the one that couldn't be sent would have.
        return { command: 'PIPELINE', rowCount: null, rows: statements.map(() => ({ status: 'rejected', reason: e })) };
      }
      heldBegin = null;
      if (begin !== null) inTransaction = true; // the BEGIN runs even if a read fails (the transaction is then aborted)
      this.counter.record([...(begin !== null ? [begin] : []), ...pieces.map((p) => p.text)].join('; '));
      const outcomes = await new Promise<(PipelineResult | Error)[]>((resolve) =>
        client.query(new Pipeline(begin, pieces, shapes, resolve)),
      );
      const failed = outcomes.findIndex((o) => o instanceof Error);
      const submitted = (client as unknown as { connection: PgConnection }).connection.submittedNamedStatements;
      pieces.forEach((p, i) => {
        if (p.name === undefined) return;
        delete submitted[p.name];
        if (failed < 0 || i < failed) parsed[p.name] = p.text;
        // Whether the failing read's own Parse got through is unknown: the connection's record of its prepared statements can't be trusted.
        else if (i === failed && p.firstParse) stale = true;
      });
      const rows = outcomes.map((o, i) => {
        if (!(o instanceof Error)) return { status: 'fulfilled', value: o };
        if (pieces[i]!.name !== undefined && isStalePlan(o)) {
          stale = true;
          return {
            status: 'rejected',
            reason: new StorageFault(
              'STORAGE_UNAVAILABLE',
              `A prepared statement went stale after a schema change (${o.message}).`,
              false,
              o,
            ),
          };
        }
        return { status: 'rejected', reason: postgresFault(o) ?? o };
      });
      return { command: 'PIPELINE', rowCount: null, rows };
    };
    const query = async (text: string, params: readonly unknown[]) => {
      if (text === PIPELINE_SQL) return pipeline(params as readonly PipelinedRead[]);
      if (text === 'begin' || text.startsWith('start transaction')) {
        if (heldBegin === null && !inTransaction) {
          heldBegin = text;
          return { command: 'BEGIN', rowCount: null, rows: [] };
        }
      } else if (heldBegin !== null && (text === 'commit' || text === 'rollback')) {
        // Nothing ran in the transaction: there is nothing to end either.
        heldBegin = null;
        return { command: text.toUpperCase(), rowCount: null, rows: [] };
      }
      const begin = heldBegin;
      heldBegin = null;
      const ends = text === 'commit' || text === 'rollback';
      const name = params.length ? this.statements?.nameOf(text) : undefined;
      // A held BEGIN goes out with the statement after it: one round trip (see BeginThen). Text
      // without parameters that may hold several statements (only the simple protocol runs those)
      // gets its BEGIN alone first.
      const fold = begin !== null && !(params.length === 0 && text.includes(';'));
      const firstParse = name !== undefined && parsed[name] !== text;
      if (begin !== null && !fold) {
        this.counter.record(begin);
        try {
          await client.query(begin);
        } catch (e) {
          throw postgresFault(e) ?? e;
        }
        inTransaction = true;
      }
      this.counter.record(fold ? `${begin}; ${text}` : text);
      try {
        if (fold) inTransaction = true; // the BEGIN runs even if the statement fails (it is then an aborted transaction)
        // A named statement this connection has run before: its columns are known, so no Describe (see RowsQuery).
        const known = name !== undefined && !firstParse ? shapes.get(name) : undefined;
        const result = await new Promise<pg.QueryResult>((resolve, reject) => {
          const done = (err: Error | null, res?: pg.QueryResult) => (err ? reject(err) : resolve(res!));
          client.query(
            fold ? new BeginThen(begin!, text, name, params, shapes, known, done) : new RowsQuery(text, name, params, shapes, known, done),
          );
        });
        if (text === 'begin' || text.startsWith('start transaction')) inTransaction = true;
        if (ends) inTransaction = false;
        if (ends) lostCommit = null;
        return result;
      } catch (e) {
        // pg took BEGIN's ParseComplete for the statement's: whether the statement's own Parse got
        // through is unknown, so this connection's record of its prepared statements can't be trusted.
        if (fold && firstParse) stale = true;
        if (name && isStalePlan(e)) {
          // Another process changed a table under this connection's prepared statement (a migration
          // added a column): nothing ran; drop the connection and say so as a lost one, which the
          // engine runs again (a read at once, a transaction from its start) on a fresh connection.
          stale = true;
          if (ends) inTransaction = false;
          throw new StorageFault(
            'STORAGE_UNAVAILABLE',
            `A prepared statement went stale after a schema change (${(e as Error).message}).`,
            false,
            e,
          );
        }
        if (text === 'rollback' && lostCommit) {
          const fault = lostCommit;
          lostCommit = null;
          inTransaction = false;
          throw fault;
        }
        // Outside a transaction a statement commits by itself: a lost write may have happened (BEGIN, ROLLBACK and reads change nothing).
        const inFlight =
          text === 'commit'
            ? 'commit'
            : !inTransaction && !/^\s*(select|begin|start transaction|rollback)\b/i.test(text)
              ? 'write'
              : 'none';
        if (ends) inTransaction = false;
        const fault = postgresFault(e, inFlight);
        if (fault && text === 'commit' && fault.committed === 'unknown') lostCommit = fault;
        throw fault ?? e;
      }
    };
    const release = (discard?: boolean) => {
      heldBegin = null;
      client.release(discard || stale);
    };
    return { query, release } as unknown as KyselyClient;
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

/** The protocol side of pg's Query that RowsQuery takes over (pg 8's Query internals, not in its types). */
interface PgQueryInternals {
  _result: { command: string | null; rows: unknown[]; fields: unknown[]; _types?: { getTypeParser(oid: number, format: string): Parser } };
  _canceledDueToError: Error | false;
  _checkForMultirow(): void;
  hasBeenParsed(connection: PgConnection): boolean;
  handleError(err: Error, connection: PgConnection): void;
}
interface PgConnection {
  parse(q: { text: string; name?: string; types?: unknown[] }): void;
  bind(c: { portal?: string; statement?: string; values?: unknown[]; binary?: boolean; valueMapper?: unknown }): void;
  describe(c: { type: 'P' | 'S'; name: string }): void;
  execute(c: { portal?: string; rows?: number }): void;
  close(c: { type: 'P' | 'S'; name?: string }): void;
  sync(): void;
  flush(): void;
  submittedNamedStatements: Record<string, string>;
}
type Parser = (value: string) => unknown;
/** A field of a RowDescription (pg-protocol's). */
interface FieldDescription {
  name: string;
  dataTypeID: number;
  format: string;
}

/** The columns of a statement's rows: names and type parsers (pg's own, by type oid), in the order the server sends them. */
interface RowShape {
  names: string[];
  parsers: Parser[];
}

/** pg's value mapper for Bind (the one its own Query uses). */
const prepareValue = (pg as unknown as { utils: { prepareValue: unknown } }).utils.prepareValue;

/**
 * pg's Query with two savings, same rows: (1) a named statement whose columns this connection
 * already knows is sent without a Describe — the server skips the RowDescription and pg its
 * parsing (a prepared statement's columns can't change under it: a table changed since it was
 * prepared makes the server refuse it, 0A000, and the connection is dropped); (2) each row is a
 * plain object built field by field with pg's own type parser of each column, where pg's Result
 * first builds an empty row from a null-prototype object and spreads it (slow for wide rows: the
 * checkout-facts read has 76 columns). Rows come out as pg makes them: the same keys in the same
 * order (a repeated name keeps its last value), the same values.
 */
class RowsQuery extends pg.Query {
  /** The columns of the rows being read (from the RowDescription, or known before sending). */
  private shape: RowShape | undefined;

  constructor(
    text: string,
    name: string | undefined,
    values: readonly unknown[],
    /** This connection's columns of named statements (a RowDescription of a named statement is recorded in it). */
    private readonly shapes: Map<string, RowShape>,
    known: RowShape | undefined,
    callback: (err: Error | null, res?: pg.QueryResult) => void,
  ) {
    super(text, undefined, (err: Error | undefined, res: unknown) => (err ? callback(err) : callback(null, res as pg.QueryResult)));
    if (values.length) {
      this.values = values as unknown[];
      this.queryMode = 'extended';
    }
    if (name !== undefined) this.name = name;
    this.shape = known;
  }

  declare text: string;
  declare values: unknown[] | undefined;
  declare queryMode: string | undefined;
  declare name: string | undefined;
  declare binary: boolean | undefined;

  prepare(connection: PgConnection): void {
    this.sendStatement(connection);
  }

  /** pg's Query.prepare (Parse when new on this connection, Bind, Describe, Execute, Sync), Describe left out when the columns are known. */
  protected sendStatement(connection: PgConnection): void {
    const self = this as unknown as PgQueryInternals;
    if (!self.hasBeenParsed(connection)) {
      connection.parse({ text: this.text, ...(this.name !== undefined ? { name: this.name } : {}) });
      if (this.name !== undefined) connection.submittedNamedStatements[this.name] = this.text;
    }
    try {
      connection.bind({ portal: '', statement: this.name, values: this.values, binary: this.binary, valueMapper: prepareValue });
    } catch (err) {
      connection.close({ type: 'S', name: this.name });
      connection.sync();
      self.handleError(err as Error, connection);
      return;
    }
    if (!this.shape) connection.describe({ type: 'P', name: '' });
    connection.execute({ portal: '', rows: undefined });
    connection.sync();
  }

  handleRowDescription(msg: { fields: FieldDescription[] }): void {
    const self = this as unknown as PgQueryInternals;
    self._checkForMultirow();
    const types = self._result._types ?? pg.types;
    const shape: RowShape = {
      names: msg.fields.map((f) => f.name),
      parsers: msg.fields.map((f) => types.getTypeParser(f.dataTypeID, (f.format || 'text') as 'text') as Parser),
    };
    self._result.fields = msg.fields;
    this.shape = shape;
    if (this.name !== undefined && this.values) this.shapes.set(this.name, shape);
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    const self = this as unknown as PgQueryInternals;
    if (self._canceledDueToError) return;
    // Without a Describe no RowDescription opens this statement's result: a result another statement completed (a BEGIN in front) is not it.
    self._checkForMultirow();
    const shape = this.shape;
    if (!shape) {
      self._canceledDueToError = new Error('A data row arrived without its row description.');
      return;
    }
    let row: Record<string, unknown>;
    try {
      row = rowOf(shape, msg.fields);
    } catch (err) {
      self._canceledDueToError = err as Error;
      return;
    }
    self._result.rows.push(row);
  }
}

/** A data row as a plain object, field by field with each column's type parser (see RowsQuery); a parser's error is thrown. */
function rowOf(shape: RowShape, values: (string | null)[]): Record<string, unknown> {
  const { names, parsers } = shape;
  const row: Record<string, unknown> = {};
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    row[names[i]!] = v === null || v === undefined ? null : parsers[i]!(v);
  }
  return row;
}

/**
 * A transaction's first statement with its BEGIN in front, as one round trip: BEGIN's
 * Parse/Bind/Execute, then the statement's (RowsQuery's), then one Sync. PostgreSQL runs
 * them in order and answers both; the statement's result is the last one. A BEGIN in the extended
 * protocol opens a real transaction block, so the statement runs inside it exactly as if BEGIN had
 * been sent alone (an error in it leaves the transaction aborted, and the caller rolls back).
 * When the statement is a named one parsed here for the first time, pg marks its name parsed on
 * the first ParseComplete it sees, which is BEGIN's: if the statement then fails, the caller
 * can't know whether its Parse got through, and drops the connection.
 */
class BeginThen extends RowsQuery {
  constructor(
    private readonly begin: string,
    text: string,
    name: string | undefined,
    values: readonly unknown[],
    shapes: Map<string, RowShape>,
    known: RowShape | undefined,
    callback: (err: Error | null, res?: pg.QueryResult) => void,
  ) {
    super(text, name, values, shapes, known, (err, res) =>
      err ? callback(err) : callback(null, Array.isArray(res) ? (res[res.length - 1] as pg.QueryResult) : res),
    );
    this.queryMode = 'extended';
  }

  override prepare(connection: PgConnection): void {
    connection.parse({ text: this.begin });
    connection.bind({});
    connection.execute({});
    this.sendStatement(connection);
  }
}

/** The text standing for a pipeline of reads (DialectSpec.pipelined): its parameters are the reads. */
const PIPELINE_SQL = '/* checkout-engine: pipelined reads */';

/** One read of a pipeline, as the store hands it over. */
interface PipelinedRead {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

/** A read of a Pipeline as it is sent: values mapped for Bind, its prepared name and known columns. */
interface PipelinePiece {
  text: string;
  name: string | undefined;
  values: unknown[];
  /** The columns, when this connection described the named statement before (no Describe is sent then). */
  shape: RowShape | undefined;
  /** A named statement this connection parses now. */
  firstParse: boolean;
}

/** What one read of a Pipeline answered, as Kysely's PostgreSQL connection reports a statement's result. */
interface PipelineResult {
  rows: Record<string, unknown>[];
  numAffectedRows?: bigint;
}

/**
 * Several reads in ONE round trip: (BEGIN's Parse/Bind/Execute, when the transaction starts with
 * them, then) each read's Parse (a named statement new to this connection), Bind, Describe (unless
 * its columns are known: see RowsQuery) and Execute, a Flush after each read but the last, then one
 * Sync. PostgreSQL runs them in order; the Flush makes it send each read's answer before it runs the
 * next, so a read that then waits (a row lock) or a connection lost meanwhile leaves the earlier
 * reads answered — each read settles as it would have alone. A read that fails makes the server skip
 * the rest until the Sync: they fail with its error. pg's bookkeeping of named statements is left to
 * the caller (this query has no name of its own; see FaultTranslatingPool.wrap).
 */
class Pipeline extends pg.Query {
  /** Whether BEGIN's answer is still to come. */
  private beginPending: boolean;
  /** The read whose answer comes next. */
  private current = 0;
  private rows: Record<string, unknown>[] = [];
  /** A row of the current read could not be parsed: the read fails with this. */
  private rowError: Error | null = null;
  private readonly outcomes: (PipelineResult | Error)[] = [];
  private finished = false;

  constructor(
    private readonly begin: string | null,
    private readonly pieces: PipelinePiece[],
    private readonly shapes: Map<string, RowShape>,
    private readonly done: (outcomes: (PipelineResult | Error)[]) => void,
  ) {
    super(pieces.map((p) => p.text).join('; '));
    this.beginPending = begin !== null;
    (this as unknown as { queryMode: string }).queryMode = 'extended';
  }

  prepare(connection: PgConnection): void {
    if (this.begin !== null) {
      connection.parse({ text: this.begin });
      connection.bind({});
      connection.execute({});
    }
    const parsedNow = (connection as unknown as { parsedStatements: Record<string, string> }).parsedStatements;
    this.pieces.forEach((p, i) => {
      if (p.name === undefined || (parsedNow[p.name] === undefined && connection.submittedNamedStatements[p.name] === undefined)) {
        connection.parse({ text: p.text, ...(p.name !== undefined ? { name: p.name } : {}) });
        if (p.name !== undefined) connection.submittedNamedStatements[p.name] = p.text;
      }
      connection.bind({ portal: '', statement: p.name, values: p.values });
      if (!p.shape) connection.describe({ type: 'P', name: '' });
      connection.execute({ portal: '', rows: undefined });
      if (i < this.pieces.length - 1) connection.flush();
    });
    connection.sync();
  }

  handleRowDescription(msg: { fields: FieldDescription[] }): void {
    const piece = this.pieces[this.current];
    if (!piece) return;
    const types = pg.types;
    const shape: RowShape = {
      names: msg.fields.map((f) => f.name),
      parsers: msg.fields.map((f) => types.getTypeParser(f.dataTypeID, (f.format || 'text') as 'text') as Parser),
    };
    piece.shape = shape;
    if (piece.name !== undefined) this.shapes.set(piece.name, shape);
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    const shape = this.pieces[this.current]?.shape;
    if (this.rowError) return;
    if (!shape) {
      this.rowError = new Error('A data row arrived without its row description.');
      return;
    }
    try {
      this.rows.push(rowOf(shape, msg.fields));
    } catch (err) {
      this.rowError = err as Error;
    }
  }

  handleCommandComplete(msg: { text?: string; command?: string }): void {
    if (this.beginPending) {
      this.beginPending = false;
      return;
    }
    const match = /^([A-Za-z]+)(?: (\d+))?(?: (\d+))?/.exec(msg.text ?? msg.command ?? '');
    const command = match?.[1];
    const count = match?.[3] ?? match?.[2];
    const affects = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
    this.outcomes.push(this.rowError ?? { rows: this.rows, ...(affects && count !== undefined ? { numAffectedRows: BigInt(count) } : {}) });
    this.rows = [];
    this.rowError = null;
    this.current++;
  }

  handleEmptyQuery(): void {
    this.handleCommandComplete({ text: '' });
  }

  handleError(err: Error): void {
    // The read answering now failed (or the connection did: every read not yet answered is lost);
    // the server skips the rest until the Sync.
    while (this.outcomes.length < this.pieces.length) this.outcomes.push(err);
    this.finish();
  }

  handleReadyForQuery(): void {
    while (this.outcomes.length < this.pieces.length) this.outcomes.push(new Error('A pipelined read got no answer.'));
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.done(this.outcomes);
  }
}

/** 0A000 "cached plan must not change result type": a table of a prepared statement changed shape since it was prepared. */
function isStalePlan(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === '0A000' && typeof e.message === 'string' && /cached plan/i.test(e.message);
}

/** Most statement texts a pool prepares (per connection, on first use there). */
const MAX_PREPARED = 256;
/** Sightings of not-yet-prepared texts remembered before the count starts over. */
const MAX_SIGHTINGS = 4096;

/**
 * Names for the statements worth preparing: a text with parameters seen twice gets a name (a
 * server-side prepared statement on each connection that runs it), so PostgreSQL parses and plans
 * it once per connection instead of on every run. One-off texts (an IN list of a rare length)
 * stay unnamed, and at most MAX_PREPARED texts get names, so each connection's prepared
 * statements stay few.
 */
class PreparedNames {
  private readonly names = new Map<string, string>();
  private sightings = new Map<string, number>();

  nameOf(text: string): string | undefined {
    const name = this.names.get(text);
    if (name !== undefined || this.names.size >= MAX_PREPARED) return name;
    const seen = (this.sightings.get(text) ?? 0) + 1;
    if (seen < 2) {
      if (this.sightings.size >= MAX_SIGHTINGS) this.sightings = new Map();
      this.sightings.set(text, seen);
      return undefined;
    }
    this.sightings.delete(text);
    const fresh = `ce_${this.names.size + 1}`;
    this.names.set(text, fresh);
    return fresh;
  }
}

/** Connection settings of the PostgreSQL backend, from the storage URL's parameters (see openPostgres). */
export interface PostgresOptions {
  /** Connections in the pool (`?pool=`, default 10). */
  poolSize?: number;
  /** Longest a statement may run before STORAGE_TIMEOUT, in ms (`?statement_timeout=`, default 0: no limit). */
  statementTimeoutMs?: number;
  /** Longest a statement waits for a row lock before UNABLE_TO_LOCK_ROW, in ms (`?lock_timeout=`, default 10 000; 0: no limit). */
  lockTimeoutMs?: number;
  /** Longest opening a connection may take before STORAGE_UNAVAILABLE, in ms (`?connect_timeout=` in seconds, libpq's unit; default 5 s). */
  connectTimeoutMs?: number;
  /**
   * Named prepared statements for the statements the engine runs again and again (`?prepare=false`
   * turns them off, e.g. behind a pooler in transaction mode that can't keep them; default true).
   */
  prepare?: boolean;
}

/** Default lock wait (ms): Salesforce's row-lock wait is 10 s too. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
/** Default time to open a connection (ms). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

function intParam(parsed: URL, name: string, min: number, max: number, unit: string): number | undefined {
  const raw = parsed.searchParams.get(name);
  parsed.searchParams.delete(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new EngineError(
      'INVALID_INPUT',
      `The storage URL's ${name} parameter '${raw}' must be an integer from ${min} to ${max} (${unit}).`,
      ['storage'],
    );
  }
  return n;
}

/**
 * Opens a PostgreSQL database by URL (`postgres://user@host:port/db`). A `schema` query parameter
 * (`?schema=shop1`) keeps the engine's tables in their own schema (created if missing), so several
 * engines or test runs can share one database; the default is `public`. Fault handling takes
 * `?statement_timeout=ms`, `?lock_timeout=ms` and `?connect_timeout=s` (see PostgresOptions), and
 * `?prepare=false` turns named prepared statements off;
 * connections are named `application_name=checkout-engine` unless the URL names them.
 */
export function openPostgres(url: string, options: PostgresOptions = {}): PostgresStore {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? 'public';
  parsed.searchParams.delete('schema');
  // `?pool=N` sizes the connection pool (default 10), e.g. to fit many processes under max_connections.
  const poolSize = intParam(parsed, 'pool', 1, 1000, 'connections') ?? options.poolSize ?? 10;
  const statementTimeoutMs = intParam(parsed, 'statement_timeout', 0, 86_400_000, 'milliseconds') ?? options.statementTimeoutMs ?? 0;
  const lockTimeoutMs = intParam(parsed, 'lock_timeout', 0, 86_400_000, 'milliseconds') ?? options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const connectSeconds = intParam(parsed, 'connect_timeout', 1, 3600, 'seconds');
  const connectTimeoutMs = connectSeconds !== undefined ? connectSeconds * 1000 : (options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new EngineError(
      'INVALID_INPUT',
      `The storage URL's schema parameter '${schema}' must be lowercase letters, digits and _ (at most 63).`,
      ['storage'],
    );
  }
  const prepareRaw = parsed.searchParams.get('prepare');
  parsed.searchParams.delete('prepare');
  if (prepareRaw !== null && prepareRaw !== 'true' && prepareRaw !== 'false') {
    throw new EngineError('INVALID_INPUT', `The storage URL's prepare parameter '${prepareRaw}' must be true or false.`, ['storage']);
  }
  const prepare = prepareRaw !== null ? prepareRaw === 'true' : (options.prepare ?? true);
  const applicationName = parsed.searchParams.get('application_name') ?? 'checkout-engine';
  parsed.searchParams.delete('application_name');
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: poolSize,
    options: `-c search_path=${schema}`,
    application_name: applicationName,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
    ...(lockTimeoutMs > 0 ? { lock_timeout: lockTimeoutMs } : {}),
  });
  pool.on('error', () => {}); // an idle client's error (server restart, pg_terminate_backend): the pool drops it and connects anew
  const roundTrips = new RoundTripCounter();
  const db = new Kysely<any>({
    dialect: new SchemaDialect({ pool: new FaultTranslatingPool(pool, roundTrips, prepare ? new PreparedNames() : null) }, schema),
  });
  return new PostgresStore(db, specFor(schema, { connectionString: parsed.toString(), schema }), roundTrips);
}

/** Extra runs of a read whose connection was lost (a read has no effects: running it again is always safe). */
const READ_RETRIES = 2;

/**
 * Runs a read again on a new connection when its connection was lost (a connection a proxy or a
 * restart cut while it sat idle in the pool fails its next statement).
 */
async function retryRead<T>(isRetryable: (err: unknown) => boolean, read: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await read();
    } catch (e) {
      if (!isRetryable(e) || i >= READ_RETRIES) throw e;
      await new Promise((r) => setTimeout(r, 50 * 3 ** i));
    }
  }
}

/** The PostgreSQL store (its adapter also tells the operation queue, pg-boss, where the database is). */
export class PostgresStore extends KyselyStore {
  constructor(
    db: Kysely<any>,
    spec: DialectSpec,
    /** Every round trip of this store's pool (cost guards and the bench read it). */
    readonly roundTrips: RoundTripCounter = new RoundTripCounter(),
  ) {
    super(db, spec);
  }

  // Reads outside a transaction run again when their connection was lost (transactions are re-run by `atomically`).
  override get(...args: Parameters<KyselyStore['get']>) {
    return retryRead(
      (e) => this.adapter.isRetryable(e),
      () => super.get(...args),
    );
  }
  override find(...args: Parameters<KyselyStore['find']>) {
    return retryRead(
      (e) => this.adapter.isRetryable(e),
      () => super.find(...args),
    );
  }
  /** Both reads run again (up to READ_RETRIES times) while one of them lost its connection. */
  override async readTogether<A, B>(
    first: (ops: StorageOps) => Promise<A>,
    second: (ops: StorageOps) => Promise<B>,
  ): Promise<[PromiseSettledResult<A>, PromiseSettledResult<B>]> {
    for (let i = 0; ; i++) {
      const got = await super.readTogether(first, second);
      if (i >= READ_RETRIES || !got.some((r) => r.status === 'rejected' && this.adapter.isRetryable(r.reason))) return got;
      await new Promise((r) => setTimeout(r, 50 * 3 ** i));
    }
  }
  override count(...args: Parameters<KyselyStore['count']>) {
    return retryRead(
      (e) => this.adapter.isRetryable(e),
      () => super.count(...args),
    );
  }
  override select(...args: Parameters<KyselyStore['select']>) {
    return retryRead(
      (e) => this.adapter.isRetryable(e),
      () => super.select(...args),
    );
  }
}
