/**
 * The `checkout-engine` command line: serve the Salesforce-compatible API, seed fixtures, inspect
 * sessions, run the demo. A thin edge: it parses arguments, calls the engine, and prints.
 *
 * @example
 *   checkout-engine serve --demo                 # embedded SQLite file, demo store, prints a curl
 *   checkout-engine serve --db postgres://postgres@127.0.0.1/test --port 8080
 *   checkout-engine seed fixtures/store.yaml --db ./checkout.db
 *   checkout-engine sessions list --db ./checkout.db
 */
import { BUILTIN_FLOWS } from '../../machines/flow.js';
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createCheckoutEngine, type CheckoutEngine } from '../engine/engine.js';
import { EngineError } from '../errors.js';
import { startServer } from '../http/server.js';
import { LATEST_VERSION } from '../http/describe.js';
import { runDemo } from '../demo/run-demo.js';
import { runCommand } from './run.js';
import { demoCurl, DEMO_ADMIN, DEMO_PASSWORD, DEMO_USERNAME, ensureDemoStore } from './demo-store.js';

/** Where a command writes (process streams in production; buffers in tests). */
export interface CliIO {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/** A usage error: printed with the command's help, exit code 2. */
class UsageError extends Error {}

const DEFAULT_DB = './checkout-engine.db';

const HELP: Record<string, string> = {
  main: `checkout-engine — Salesforce B2B Commerce checkout, offline

Usage: checkout-engine <command> [options]

Commands:
  serve                 Run the Salesforce-compatible HTTP API (OAuth2, actions, sObjects, SOQL)
  seed <fixture>        Load a JSON or YAML fixture into a database (all-or-nothing)
  sessions list         List checkout sessions
  sessions show <id>    Show one session with its cart, operation, validation outputs and order
  demo                  Run the demo checkout and print what happened
  run <scenarios…>      Run scenario files (YAML) and report pass/fail

Run 'checkout-engine <command> --help' for a command's options.
Database: --db <SQLite file | :memory: | postgres://URL> (default ${DEFAULT_DB}, or $CHECKOUT_ENGINE_DB).`,
  serve: `Usage: checkout-engine serve [options]

Runs the HTTP API. Logs are JSON lines on stderr; the banner with the URL is printed on stdout.
SIGINT/SIGTERM shut down gracefully: in-flight requests finish, running operations finish, queued
ones stay New and resume on the next start.

Options:
  --db <location>       SQLite file, :memory: or postgres:// URL (default ${DEFAULT_DB}, or $CHECKOUT_ENGINE_DB)
  --port <n>            Port (default 3000, or $PORT; 0 picks a free one)
  --host <addr>         Interface to bind (default 127.0.0.1)
  --seed <fixture>      Load this JSON/YAML fixture before serving (fails if it repeats stored records)
  --demo                Seed the demo store once and keep one demo cart ready for cartToOrderAction
  --trust-proxy         Take client addresses (login throttle) from X-Forwarded-For, behind a trusted proxy
  --flow <name>         Checkout flow of new sessions: default, salesforce-reentrant or salesforce-main (default: default)
  --token-ttl <sec>     Access token lifetime in seconds (default 7200)
  --log-level <level>   fatal, error, warn, info, debug, trace or silent (default info)
  --help                This help`,
  seed: `Usage: checkout-engine seed <fixture file> [--db <location>]

Loads a fixture (object type → list of records; "ref" handles, "@handle" references) in one
transaction and prints the handle → id map as JSON.

Options:
  --db <location>       SQLite file, :memory: or postgres:// URL (default ${DEFAULT_DB}, or $CHECKOUT_ENGINE_DB)
  --help                This help`,
  sessions: `Usage: checkout-engine sessions list [--all] [--json] [--db <location>]
       checkout-engine sessions show <sessionId> [--json] [--db <location>]

list: active checkout sessions, newest first (--all includes archived ones).
show: one session with its cart, current background operation, validation outputs and order.

Options:
  --db <location>       SQLite file, :memory: or postgres:// URL (default ${DEFAULT_DB}, or $CHECKOUT_ENGINE_DB)
  --all                 Include archived sessions (list)
  --limit <n>           At most n sessions (list; default 100)
  --json                Print JSON instead of a table
  --help                This help`,
  demo: `Usage: checkout-engine demo [--db <location>]

Seeds the demo store into a database (default: in memory) and runs the demo checkout, printing
each step's state.

Options:
  --db <location>       SQLite file, :memory: or postgres:// URL (default :memory:)
  --help                This help`,
};

const COMMON = { db: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function intOption(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number, got '${v}'.`);
  return Number(v);
}

function dbOf(v: string | undefined, io: CliIO, dflt = DEFAULT_DB): string {
  return v ?? io.env.CHECKOUT_ENGINE_DB ?? dflt;
}

function readFixture(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new EngineError('INVALID_FIXTURE', `Can't read fixture file '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
}

async function withEngine<T>(db: string, fn: (engine: CheckoutEngine) => Promise<T>): Promise<T> {
  const engine = await createCheckoutEngine({ storage: db });
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

const line = (s: NodeJS.WritableStream, text = '') => s.write(`${text}\n`);

/** Only the location kind of a database, so a postgres password never reaches a banner or log. */
export function describeDb(db: string): string {
  if (/^postgres(ql)?:\/\//.test(db)) {
    try {
      const u = new URL(db);
      return `postgres://${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
    } catch {
      return 'postgres://…';
    }
  }
  return db === ':memory:' ? 'SQLite in memory' : `SQLite file ${db}`;
}

async function serve(args: string[], io: CliIO, signals: boolean): Promise<number> {
  const { values } = parse(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    seed: { type: 'string' },
    demo: { type: 'boolean' },
    'trust-proxy': { type: 'boolean' },
    flow: { type: 'string' },
    'token-ttl': { type: 'string' },
    'log-level': { type: 'string' },
  });
  if (values.help) return line(io.out, HELP.serve), 0;
  const port = intOption('port', values.port ?? io.env.PORT, 3000);
  const ttl = intOption('token-ttl', values['token-ttl'], 7200);
  if (ttl <= 0) throw new UsageError('--token-ttl must be positive.');
  const db = dbOf(values.db, io);
  const flowIds = BUILTIN_FLOWS.map((f) => f.id);
  if (values.flow !== undefined && !flowIds.includes(values.flow)) throw new UsageError(`--flow must be one of ${flowIds.join(', ')}; got '${values.flow}'.`);

  // Signals are caught from the very start: a Ctrl-C while the database opens or the demo store
  // seeds is remembered and honoured (gracefully) as soon as the server is up.
  let requested: string | undefined;
  let onSignal: ((signal: string) => void) | undefined;
  const handle = (signal: string) => (onSignal ? onSignal(signal) : (requested ??= signal));
  if (signals) {
    process.on('SIGINT', () => handle('SIGINT'));
    process.on('SIGTERM', () => handle('SIGTERM'));
  }

  let report: (err: unknown) => void = (err) => line(io.err, JSON.stringify({ level: 50, msg: 'engine error', err: String(err) }));
  const engine = await createCheckoutEngine({ storage: db, defaultFlow: values.flow, onError: (e) => report(e) });
  let server;
  try {
    const seeded = values.seed ? await engine.seed(readFixture(values.seed)) : undefined;
    const demo = values.demo ? await ensureDemoStore(engine) : undefined;
    server = await startServer(engine, {
      port,
      host: values.host ?? '127.0.0.1',
      trustProxy: values['trust-proxy'] === true,
      tokenTtlSeconds: ttl,
      log: { level: values['log-level'] ?? 'info', stream: io.err },
    });
    const log = server.app.log;
    report = (err) => log.error({ err }, 'engine error');
    log.info({ event: 'started', url: server.url, db: describeDb(db), storage: engine.storageKind, seeded: seeded ? Object.keys(seeded).length : 0, demo: !!demo }, 'checkout-engine listening');

    line(io.out, `checkout-engine listening on ${server.url}`);
    line(io.out, `  database: ${describeDb(db)}`);
    line(io.out, `  API:      ${server.url}/services/data/v${LATEST_VERSION}   OpenAPI: ${server.url}/openapi.json`);
    if (seeded) line(io.out, `  seeded:   ${values.seed} (${Object.keys(seeded).length} handles)`);
    if (demo) {
      line(io.out, `  demo store ${demo.created ? 'created' : 'found'}; demo cart ${demo.cartId} is claimed for cartToOrder`);
      line(io.out, `  buyer: ${DEMO_USERNAME} / ${DEMO_PASSWORD}   admin: ${DEMO_ADMIN} / ${DEMO_PASSWORD}`);
      line(io.out);
      line(io.out, 'Get a token and turn the demo cart into a draft order (paste into a shell):');
      line(io.out);
      line(io.out, demoCurl(server.url, demo.cartId, LATEST_VERSION));
      line(io.out);
    }
  } catch (e) {
    if (server) await server.close();
    else await engine.close();
    throw e;
  }
  if (!signals) return 0;
  const running = server;
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        running.app.log.warn({ event: 'forced_exit', signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      running.app.log.info({ event: 'stopping', signal }, 'shutting down: finishing in-flight requests and operations');
      running.close().then(
        () => {
          running.app.log.info({ event: 'stopped' }, 'stopped');
          resolve();
        },
        (err) => {
          running.app.log.error({ err }, 'shutdown failed');
          resolve();
        },
      );
    };
    onSignal = stop;
    if (requested) stop(requested);
  });
  return 0;
}

async function seed(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return line(io.out, HELP.seed), 0;
  if (positionals.length !== 1) throw new UsageError('seed takes exactly one fixture file.');
  const text = readFixture(positionals[0]!);
  const handles = await withEngine(dbOf(values.db, io), (engine) => engine.seed(text));
  line(io.out, JSON.stringify(handles, null, 2));
  return 0;
}

function table(rows: Record<string, unknown>[], cols: string[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const fmt = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(cols), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => fmt(cols.map((c) => cell(r[c]))))].join('\n');
}

async function sessions(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(args, { all: { type: 'boolean' }, json: { type: 'boolean' }, limit: { type: 'string' } });
  if (values.help) return line(io.out, HELP.sessions), 0;
  const [sub, id, ...extra] = positionals;
  const db = dbOf(values.db, io);
  if (sub === 'list' && !id) {
    const limit = intOption('limit', values.limit, 100);
    const list = await withEngine(db, (engine) => engine.listSessions({ includeArchived: values.all === true, limit }));
    if (values.json) line(io.out, JSON.stringify(list, null, 2));
    else if (!list.length) line(io.out, values.all ? 'No checkout sessions.' : 'No active checkout sessions (use --all to include archived ones).');
    else line(io.out, table(list, ['Id', 'WebCartId', 'State', 'NextState', 'IsProcessing', 'IsError', 'IsArchived', 'OrderId', 'CreatedDate']));
    return 0;
  }
  if (sub === 'show' && id && !extra.length) {
    const d = await withEngine(db, (engine) => engine.sessionDetail(id));
    if (values.json) return line(io.out, JSON.stringify(d, null, 2)), 0;
    const s = d.session;
    line(io.out, `Session ${s.Id}  (cart ${s.WebCartId})`);
    line(io.out, `  State: ${s.State}   NextState: ${s.NextState ?? '—'}   IsProcessing: ${s.IsProcessing}   IsError: ${s.IsError}   IsArchived: ${s.IsArchived}`);
    if (d.cart) line(io.out, `  Cart: ${d.cart.Name} — Status ${d.cart.Status}, GrandTotalAmount ${d.cart.GrandTotalAmount} ${d.cart.CurrencyIsoCode ?? ''}`.trimEnd());
    if (d.operation) line(io.out, `  Operation ${d.operation.Id}: ${d.operation.Name ?? ''} ${d.operation.Status}${d.operation.Error ? ` — ${d.operation.Error}` : ''}`);
    else line(io.out, '  Operation: none');
    if (d.order) line(io.out, `  Order ${d.order.Id}: Status ${d.order.Status}, GrandTotalAmount ${d.order.GrandTotalAmount}`);
    else line(io.out, '  Order: none');
    line(io.out, `  Validation outputs: ${d.validations.length}`);
    for (const v of d.validations) line(io.out, `    [${v.Level}/${v.Type}] ${v.Message}`);
    return 0;
  }
  throw new UsageError("sessions takes 'list' or 'show <sessionId>'.");
}

async function demo(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return line(io.out, HELP.demo), 0;
  if (positionals.length) throw new UsageError('demo takes no arguments.');
  await withEngine(values.db ?? ':memory:', (engine) => runDemo(engine, io.out));
  return 0;
}

const COMMANDS: Record<string, (args: string[], io: CliIO, signals: boolean) => Promise<number>> = { serve, seed, sessions, demo, run: (args, io) => runCommand(args, io) };

/**
 * Runs the CLI with `argv` (without node and script); returns the exit code. `signals` makes
 * `serve` run until SIGINT/SIGTERM (the real process); without it `serve` returns once listening.
 */
export async function main(argv: string[], io: CliIO = { out: process.stdout, err: process.stderr, env: process.env }, signals = true): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    line(cmd ? io.out : io.err, HELP.main);
    return cmd ? 0 : 2;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    line(io.err, `Unknown command '${cmd}'.\n\n${HELP.main}`);
    return 2;
  }
  try {
    return await run(rest, io, signals);
  } catch (e) {
    if (e instanceof UsageError) {
      line(io.err, `checkout-engine ${cmd}: ${e.message}\n\n${HELP[cmd]}`);
      return 2;
    }
    if (e instanceof EngineError) {
      line(io.err, `checkout-engine ${cmd}: ${e.code}: ${e.message}`);
      return 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (err?.code === 'EADDRINUSE') {
      line(io.err, `checkout-engine ${cmd}: the port is already in use; pass --port <n> (or 0 for any free port).`);
      return 1;
    }
    line(io.err, `checkout-engine ${cmd}: ${err?.message ?? String(e)}`);
    return 1;
  }
}
