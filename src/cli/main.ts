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
// Only light modules load up front, so `--help` and `--version` answer at once: the engine, Fastify,
// storage, the inspector and the diagram code load (dynamic import) in the command that uses them.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { ParseArgsConfig } from 'node:util';
import type { CheckoutEngine } from '../engine/engine.js';
import { EngineError } from '../errors.js';
import type { RunningServer } from '../http/server.js';
import type { InspectorBridge } from '../inspect/bridge.js';
import type { FlowDefinition } from '../domain/flow.js';
import { hint, parseOptions, UsageError, usageMessage } from './args.js';
import { RUN_HELP, runCommand } from './run.js';
import { FLOW_HELP, flowCommand } from './flow.js';

/** Where a command writes (process streams in production; buffers in tests). */
export interface CliIO {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Told of the running server when `serve` runs without signal handling (tests close it). */
  onServe?: (server: RunningServer) => void;
}

const DEFAULT_DB = './checkout-engine.db';
const LOCAL_BRIDGE = '\0local-bridge';

/** A log destination that holds lines until `pipeTo` names the real one (so logs never interleave with the banner). */
class DeferredStream extends Writable {
  private target: NodeJS.WritableStream | undefined;
  private held: Buffer[] = [];
  /** Sends held and future lines to `target` (the first call wins). */
  pipeTo(target: NodeJS.WritableStream): void {
    if (this.target) return;
    this.target = target;
    for (const b of this.held.splice(0)) target.write(b);
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    if (this.target) this.target.write(chunk);
    else this.held.push(chunk);
    done();
  }
}

/** Human-readable log lines (pino-pretty) onto `out`. */
async function prettyStream(out: NodeJS.WritableStream): Promise<NodeJS.WritableStream> {
  const [{ default: pinoPretty }, { PRETTY_HIDDEN_FIELDS }] = await Promise.all([import('pino-pretty'), import('../http/request-log.js')]);
  // A request line's message says method, path, status and ms: its fields would only repeat them (src/http/request-log.ts).
  return pinoPretty({
    destination: out,
    colorize: (out as { isTTY?: boolean }).isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: PRETTY_HIDDEN_FIELDS.join(','),
    sync: true,
  }) as unknown as NodeJS.WritableStream;
}

const HELP: Record<string, string> = {
  main: `checkout-engine — Salesforce B2B Commerce checkout, offline

Usage: checkout-engine <command> [options]

Commands:
  serve                 Run the Salesforce-compatible HTTP API (OAuth2, actions, sObjects, SOQL)
  seed <fixture>        Load a JSON or YAML fixture into a database (all-or-nothing)
  sessions list         List checkout sessions
  sessions show <id>    Show one session with its cart, operation, validation outputs, order and history
  inspect <id>          Replay a stored session's history into the Stately inspector
  viz [--flow NAME]     Print a flow as a Mermaid stateDiagram-v2 (--flows <path>: a store's Flow metadata)
  demo                  Run the demo checkout and print what happened
  run <scenarios…>      Run scenario files (YAML) and report pass/fail
  flow check <path…>    Load Salesforce Flow metadata and print every issue per file and element
  flow run <path…>      Run a flow interview on the demo store, screen by screen, from an answers file

Options:
  --version, -v         Print the version
  --help, -h            This help

Run 'checkout-engine <command> --help' for a command's options.
Database: --db <SQLite file | :memory: | postgres://URL> (default ${DEFAULT_DB}, or $CHECKOUT_ENGINE_DB).
serve, seed and demo create a SQLite file that doesn't exist yet; sessions and inspect only read an
existing one and refuse a path where there is none.`,
  serve: `Usage: checkout-engine serve [options]

Runs the HTTP API and the statechart page (GET /). The banner with the URL is printed on stdout;
when stdout is a terminal, human-readable log lines follow it there, otherwise logs are JSON lines
on stderr (--log-format json forces JSON).
SIGINT/SIGTERM shut down gracefully: in-flight requests finish, running operations finish, queued
ones stay New and resume on the next start.

Options:
  --db <location>       SQLite file (created when missing), :memory: or postgres:// URL (default ${DEFAULT_DB}, or $CHECKOUT_ENGINE_DB)
  --port <n>            Port (default 3000, or $PORT; 0 picks a free one)
  --host <addr>         Interface to bind (default 127.0.0.1)
  --public-url <url>    The server's external base URL, written into instance_url, id and OpenAPI servers
                        (default: the listen address; never taken from the Host header)
  --seed <fixture>      Load this JSON/YAML fixture before serving (fails if it repeats stored records)
  --demo                Seed the demo store once and keep one demo cart ready for cartToOrderAction
  --trust-proxy         Take client addresses (login throttle) from X-Forwarded-For, behind a trusted proxy
  --flow <name>         Checkout flow of new sessions: default, salesforce-reentrant or salesforce-main (default: default)
  --flows <path>        Salesforce Flow metadata (a file or a directory) to serve as flow interviews under
                        /services/data/vXX.X/flows/ (repeatable; any load issue stops the start, listing each)
  --token-ttl <sec>     Access token lifetime in seconds (default 7200)
  --log-level <level>   fatal, error, warn, info, debug, trace or silent (default info)
  --log-format <f>      pretty or json (default: pretty when stdout is a terminal, else json)
  --inspect [ws-url]    Send every session's events to a Stately inspector at ws-url; without a URL,
                        start the local inspector bridge on --inspect-port (it never opens a browser)
  --inspect-port <n>    Port of the local inspector bridge (default 8080)
  --inspect-host <addr> Interface of the local bridge (default: --host); it always wants its secret
  --inspect-origin <o>  A further browser origin allowed to connect to the bridge (repeatable)
  --help                This help`,
  inspect: `Usage: checkout-engine inspect <sessionId> [--url ws://…] [--port <n>] [--db <location>]

Replays a stored session's history (actor, then each event and the snapshot after it) into a
Stately inspector, secrets redacted. With --url, sends to that WebSocket inspector and exits; without,
starts the local inspector bridge on --port (default 8080; it never opens a browser), prints its
address, replays, and keeps serving until Ctrl-C.

Options:
  --url <ws-url>        A WebSocket inspector to send to
  --port <n>            Port of the local bridge (default 8080)
  --db <location>       An existing SQLite file or a postgres:// URL (default ${DEFAULT_DB}, or $CHECKOUT_ENGINE_DB)
  --help                This help`,
  viz: `Usage: checkout-engine viz [--flow NAME] [--file flow.json|flow.yaml]
       checkout-engine viz --flows <flow files or folders…> [--flow <apiName>]

Prints a flow as a Mermaid stateDiagram-v2 (paste into any Mermaid renderer, or a Markdown file
inside a mermaid code block): steps by kind, the transitions the flow allows, error exits.
With --flows: a store's own Salesforce Flow metadata, drawn from the flow's element graph
(screens, decisions with their outcome labels, loops, subflows, actions, fault connectors). It is
checked like 'flow check'; a flow the engine would refuse to run is still drawn, its issues on stderr.

Options:
  --flow <id>           A built-in flow (default: default); with --flows, the flow's API name
                        (needed when the files hold more than one flow)
  --file <path>         A flow definition file (JSON or YAML: { id, steps: [...] })
  --flows <path>        A .flow-meta.xml file or a folder of them (repeatable)
  --help                This help`,
  seed: `Usage: checkout-engine seed <fixture file> [--db <location>]

Loads a fixture (object type → list of records; "ref" handles, "@handle" references) in one
transaction and prints the handle → id map as JSON.

Options:
  --db <location>       SQLite file (created when missing), :memory: or postgres:// URL (default ${DEFAULT_DB}, or $CHECKOUT_ENGINE_DB)
  --help                This help`,
  sessions: `Usage: checkout-engine sessions list [--all] [--json] [--db <location>]
       checkout-engine sessions show <sessionId> [--json] [--db <location>]

list: active checkout sessions, newest first (--all includes archived ones).
show: one session with its cart, current background operation, validation outputs, order, and its
history (every event offered to it, applied or rejected, with states, operation, caller and time).

Options:
  --db <location>       An existing SQLite file or a postgres:// URL (default ${DEFAULT_DB}, or $CHECKOUT_ENGINE_DB)
  --all                 Include archived sessions (list)
  --limit <n>           At most n sessions (list; default 100)
  --json                Print JSON instead of a table
  --help                This help`,
  demo: `Usage: checkout-engine demo [--db <location>]

Seeds the demo store into a database (default: in memory) and runs the demo checkout, printing
each step's state.

Options:
  --db <location>       SQLite file (created when missing), :memory: or postgres:// URL (default :memory:)
  --help                This help`,
  run: RUN_HELP,
  flow: FLOW_HELP,
};

const COMMON = { db: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

/** Parses a command's options (plus --db and --help); an unknown option is a usage error with a hint. */
function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  return parseOptions(args, { ...COMMON, ...options });
}

/** Runs a value check, turning its Error into a usage error naming the option. */
function usage<T>(check: () => T, option: string): T {
  try {
    return check();
  } catch (e) {
    throw new UsageError(`${option}: ${(e as Error).message}`);
  }
}

function intOption(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number, got '${v}'.`);
  return Number(v);
}

/**
 * The database location of a command (--db, else $CHECKOUT_ENGINE_DB, else the default), checked
 * before anything opens it. A SQLite path must not be a directory, and its folder must exist.
 * `existing`: the command only reads (sessions, inspect), so a path with no file is refused rather
 * than silently created empty.
 */
function dbOf(v: string | undefined, io: CliIO, opts: { dflt?: string; existing?: boolean } = {}): string {
  const db = v ?? io.env.CHECKOUT_ENGINE_DB ?? opts.dflt ?? DEFAULT_DB;
  if (db === ':memory:' || /^postgres(ql)?:\/\//i.test(db)) return db;
  const st = statSync(db, { throwIfNoEntry: false });
  if (st?.isDirectory())
    throw new UsageError(`--db '${db}' is a directory: give the database file path (e.g. ${join(db, 'checkout-engine.db')}).`);
  if (!st && opts.existing)
    throw new UsageError(
      `No database at '${db}' (nothing was created): this command reads an existing database; check the path, or create one with 'checkout-engine seed' or 'checkout-engine serve'.`,
    );
  if (!st && !existsSync(dirname(resolve(db)))) throw new UsageError(`--db '${db}': the folder ${dirname(db)} doesn't exist.`);
  return db;
}

/** The package's version (package.json above this file, in a source checkout or a built package). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'checkout-engine' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

function readFixture(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new EngineError(
      'INVALID_FIXTURE',
      `Can't read fixture file '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
    );
  }
}

async function withEngine<T>(db: string, fn: (engine: CheckoutEngine) => Promise<T>): Promise<T> {
  const { createCheckoutEngine } = await import('../engine/engine.js');
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
  // `--inspect` takes an optional URL: a bare one (last, or before another option) means "local bridge".
  args = args.flatMap((a, i) =>
    a === '--inspect' && (i === args.length - 1 || args[i + 1]!.startsWith('-')) ? ['--inspect', LOCAL_BRIDGE] : [a],
  );
  // One line per option (add a flag here, in HELP.serve, and where it is used).
  const { values, positionals } = parse(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    seed: { type: 'string' },
    demo: { type: 'boolean' },
    'trust-proxy': { type: 'boolean' },
    flow: { type: 'string' },
    flows: { type: 'string', multiple: true },
    'token-ttl': { type: 'string' },
    'log-level': { type: 'string' },
    'log-format': { type: 'string' },
    inspect: { type: 'string' },
    'inspect-port': { type: 'string' },
    'inspect-host': { type: 'string' },
    'inspect-origin': { type: 'string', multiple: true },
    'public-url': { type: 'string' },
  });
  if (values.help) return (line(io.out, HELP.serve), 0);
  if (positionals.length) throw new UsageError(`serve takes no positional arguments, got '${positionals[0]}'.`);
  const port = intOption('port', values.port ?? io.env.PORT, 3000);
  const ttl = intOption('token-ttl', values['token-ttl'], 7200);
  if (ttl <= 0) throw new UsageError('--token-ttl must be positive.');
  const db = dbOf(values.db, io);
  const { BUILTIN_FLOWS } = await import('../domain/flow.js');
  const flowIds = BUILTIN_FLOWS.map((f) => f.id);
  if (values.flow !== undefined && !flowIds.includes(values.flow))
    throw new UsageError(`--flow must be one of ${flowIds.join(', ')}; got '${values.flow}'${hint(values.flow, flowIds)}.`);
  const logFormat = values['log-format'] ?? ((io.out as { isTTY?: boolean }).isTTY ? 'pretty' : 'json');
  if (logFormat !== 'pretty' && logFormat !== 'json') throw new UsageError(`--log-format must be pretty or json, got '${logFormat}'.`);
  const inspectPort = intOption('inspect-port', values['inspect-port'], 8080);
  const host = values.host ?? '127.0.0.1';
  const { parsePublicUrl } = await import('../http/public-url.js');
  const publicUrl = values['public-url'] === undefined ? undefined : usage(() => parsePublicUrl(values['public-url']!), '--public-url');
  let bridge: InspectorBridge | undefined;
  let inspectUrl = values.inspect;
  if (inspectUrl === LOCAL_BRIDGE) {
    // The bridge binds where the API does unless told otherwise, and wants its secret (docs/inspection.md).
    const { normalizeOrigin, startInspectorBridge } = await import('../inspect/bridge.js');
    const origins = usage(
      () =>
        (values['inspect-origin'] ?? [])
          .flatMap((o) => o.split(','))
          .filter(Boolean)
          .map(normalizeOrigin),
      '--inspect-origin',
    );
    bridge = await startInspectorBridge({ host: values['inspect-host'] ?? host, port: inspectPort, allowedOrigins: origins }).catch(
      (e: NodeJS.ErrnoException) => {
        throw e?.code === 'EADDRINUSE'
          ? new Error(`the inspector bridge's port ${inspectPort} is already in use; pass --inspect-port <n> (or 0 for any free port).`)
          : e;
      },
    );
    inspectUrl = bridge.wsUrl;
  } else if (inspectUrl !== undefined && !/^wss?:\/\//.test(inspectUrl)) {
    throw new UsageError(`--inspect takes a ws:// or wss:// URL, got '${inspectUrl}'.`);
  } else if (values['inspect-host'] !== undefined || values['inspect-origin'] !== undefined) {
    throw new UsageError('--inspect-host and --inspect-origin configure the local bridge: pass --inspect without a URL.');
  }

  // Signals are caught from the very start: a Ctrl-C while the database opens or the demo store
  // seeds is remembered and honoured (gracefully) as soon as the server is up.
  let requested: string | undefined;
  let onSignal: ((signal: string) => void) | undefined;
  const handle = (signal: string) => (onSignal ? onSignal(signal) : (requested ??= signal));
  if (signals) {
    process.on('SIGINT', () => handle('SIGINT'));
    process.on('SIGTERM', () => handle('SIGTERM'));
  }

  const [
    { createCheckoutEngine },
    { startServer },
    { LATEST_VERSION },
    { demoCurl, DEMO_ADMIN, DEMO_PASSWORD, DEMO_USERNAME, ensureDemoStore, fixtureRecordCount },
    { parse: parseYaml },
    { attachInspector },
  ] = await Promise.all([
    import('../engine/engine.js'),
    import('../http/server.js'),
    import('../http/describe.js'),
    import('./demo-store.js'),
    import('yaml'),
    inspectUrl ? import('../inspect/attach.js') : { attachInspector: undefined },
  ]);
  let report: (err: unknown) => void = (err) => line(io.err, JSON.stringify({ level: 50, msg: 'engine error', err: String(err) }));
  const engine = await createCheckoutEngine(
    {
      storage: db,
      defaultFlow: values.flow,
      onError: (e) => report(e),
      ...(inspectUrl ? { inspect: inspectUrl } : {}),
      ...(values.flows ? { flowSources: values.flows } : {}),
    },
    { attachInspector },
  ).catch(async (e) => {
    await bridge?.stop();
    throw e;
  });
  // Pretty logs go to stdout under the banner, so they start only once the banner is printed.
  const pretty = logFormat === 'pretty' ? new DeferredStream() : undefined;
  let server;
  try {
    const fixtureText = values.seed ? readFixture(values.seed) : undefined;
    const seeded = fixtureText !== undefined ? await engine.seed(fixtureText) : undefined;
    const demo = values.demo ? await ensureDemoStore(engine) : undefined;
    server = await startServer(engine, {
      port,
      host,
      ...(publicUrl ? { publicUrl } : {}),
      trustProxy: values['trust-proxy'] === true,
      tokenTtlSeconds: ttl,
      log: { level: values['log-level'] ?? 'info', stream: pretty ?? io.err },
    });
    const log = server.app.log;
    report = (err) => log.error({ err }, 'engine error');
    log.info(
      {
        event: 'started',
        url: server.url,
        db: describeDb(db),
        storage: engine.storageKind,
        seeded: (fixtureText !== undefined ? fixtureRecordCount(parseYaml(fixtureText)) : 0) + (demo?.seeded ?? 0),
        demo: !!demo,
      },
      'checkout-engine listening',
    );

    line(io.out, `checkout-engine listening on ${server.url}`);
    line(io.out, `  database: ${describeDb(db)}`);
    line(io.out, `  API:      ${server.url}/services/data/v${LATEST_VERSION}   OpenAPI: ${server.url}/openapi.json`);
    line(io.out, `  page:     ${server.url}/   (statecharts and live sessions; sign in with a user of this database)`);
    if (inspectUrl)
      line(
        io.out,
        `  inspect:  ${bridge ? `Stately inspector bridge on ${bridge.pageUrl} (open it in a browser; the #token part is its secret)` : inspectUrl}`,
      );
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
    if (pretty) {
      line(io.out);
      pretty.pipeTo(await prettyStream(io.out));
    }
  } catch (e) {
    if (server) await server.close();
    else await engine.close();
    await bridge?.stop();
    throw e;
  }
  if (!signals) {
    if (bridge) {
      const b = bridge;
      const served = server;
      server = { ...server, close: () => served.close().finally(() => b.stop()) };
    }
    io.onServe?.(server);
    return 0;
  }
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
          void bridge?.stop().finally(resolve);
          if (!bridge) resolve();
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
  if (values.help) return (line(io.out, HELP.seed), 0);
  if (positionals.length !== 1) throw new UsageError('seed takes exactly one fixture file.');
  const text = readFixture(positionals[0]!);
  const handles = await withEngine(dbOf(values.db, io), (engine) => engine.seed(text));
  line(io.out, JSON.stringify(handles, null, 2));
  return 0;
}

function table(rows: Record<string, unknown>[], cols: string[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const fmt = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [fmt(cols), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => fmt(cols.map((c) => cell(r[c]))))].join('\n');
}

async function sessions(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(args, { all: { type: 'boolean' }, json: { type: 'boolean' }, limit: { type: 'string' } });
  if (values.help) return (line(io.out, HELP.sessions), 0);
  const [sub, id, ...extra] = positionals;
  if (sub === 'list' && id) throw new UsageError(`sessions list takes no session id, got '${id}'.`);
  if (sub === 'show' && (!id || extra.length)) throw new UsageError(`sessions show takes exactly one session id.`);
  if (sub !== 'list' && sub !== 'show')
    throw new UsageError(
      sub === undefined
        ? "sessions takes 'list' or 'show <sessionId>'."
        : `sessions takes 'list' or 'show <sessionId>', got '${sub}'${hint(sub, ['list', 'show'])}.`,
    );
  const db = dbOf(values.db, io, { existing: true });
  if (sub === 'list') {
    const limit = intOption('limit', values.limit, 100);
    const list = await withEngine(db, (engine) => engine.listSessions({ includeArchived: values.all === true, limit }));
    if (values.json) line(io.out, JSON.stringify(list, null, 2));
    else if (!list.length)
      line(io.out, values.all ? 'No checkout sessions.' : 'No active checkout sessions (use --all to include archived ones).');
    else
      line(
        io.out,
        table(list, ['Id', 'WebCartId', 'State', 'NextState', 'IsProcessing', 'IsError', 'IsArchived', 'OrderId', 'CreatedDate']),
      );
    return 0;
  }
  {
    const d = await withEngine(db, async (engine) => ({ ...(await engine.sessionDetail(id!)), history: await engine.getHistory(id!) }));
    if (values.json) return (line(io.out, JSON.stringify(d, null, 2)), 0);
    const s = d.session;
    line(io.out, `Session ${s.Id}  (cart ${s.WebCartId})`);
    line(
      io.out,
      `  State: ${s.State}   NextState: ${s.NextState ?? '—'}   IsProcessing: ${s.IsProcessing}   IsError: ${s.IsError}   IsArchived: ${s.IsArchived}`,
    );
    if (d.cart)
      line(
        io.out,
        `  Cart: ${d.cart.Name} — Status ${d.cart.Status}, GrandTotalAmount ${d.cart.GrandTotalAmount} ${d.cart.CurrencyIsoCode ?? ''}`.trimEnd(),
      );
    if (d.operation)
      line(
        io.out,
        `  Operation ${d.operation.Id}: ${d.operation.Name ?? ''} ${d.operation.Status}${d.operation.Error ? ` — ${d.operation.Error}` : ''}`,
      );
    else line(io.out, '  Operation: none');
    if (d.order) line(io.out, `  Order ${d.order.Id}: Status ${d.order.Status}, GrandTotalAmount ${d.order.GrandTotalAmount}`);
    else line(io.out, '  Order: none');
    line(io.out, `  Validation outputs: ${d.validations.length}`);
    for (const v of d.validations) line(io.out, `    [${v.Level}/${v.Type}] ${v.Message}`);
    line(io.out, `  History: ${d.history.length} event${d.history.length === 1 ? '' : 's'}`);
    if (d.history.length) {
      const rows = d.history.map((h) => ({
        '#': h.sub ? `${h.seq}.${h.sub}` : String(h.seq),
        Time: h.at,
        Event: eventLabel(h.event),
        From: h.from,
        To: h.accepted ? h.to : `REJECTED ${h.rejection?.error ?? ''}`,
        Operation: h.operation ?? '',
        Caller: h.callerId ?? 'engine',
      }));
      line(io.out, table(rows, ['#', 'Time', 'Event', 'From', 'To', 'Operation', 'Caller']).replace(/^/gm, '    '));
    }
    return 0;
  }
}

/** A short label for a history event: its type and its main parameter. */
function eventLabel(e: Record<string, unknown>): string {
  const arg = e.nextState ?? e.state ?? e.step ?? (e.type === 'xstate.error.actor.step' ? 'failed' : undefined);
  return arg === undefined ? String(e.type) : `${String(e.type)} ${String(arg)}`;
}

async function inspect(args: string[], io: CliIO, signals: boolean): Promise<number> {
  const { values, positionals } = parse(args, { url: { type: 'string' }, port: { type: 'string' } });
  if (values.help) return (line(io.out, HELP.inspect), 0);
  if (positionals.length !== 1) throw new UsageError('inspect takes exactly one session id.');
  if (values.url !== undefined && !/^wss?:\/\//.test(values.url))
    throw new UsageError(`--url must be a ws:// or wss:// URL, got '${values.url}'.`);
  const port = intOption('port', values.port, 8080);
  const db = dbOf(values.db, io, { existing: true });
  const [{ flushInspector, openInspector }, { replayHistory }, { startInspectorBridge }] = await Promise.all([
    import('../inspect/inspector.js'),
    import('../inspect/attach.js'),
    import('../inspect/bridge.js'),
  ]);
  const bridge = values.url ? undefined : await startInspectorBridge({ port });
  try {
    const inspector = openInspector(values.url ?? bridge!.wsUrl);
    const n = await withEngine(db, (engine) => replayHistory(engine, positionals[0]!, inspector));
    const delivered = await flushInspector(inspector);
    inspector.stop?.();
    if (!delivered) throw new EngineError('INSPECTOR_UNREACHABLE', `Couldn't deliver the replay to ${values.url ?? bridge!.baseUrl}.`);
    line(
      io.out,
      `Replayed ${n} event${n === 1 ? '' : 's'} of session ${positionals[0]} to ${values.url ?? `the inspector bridge on ${bridge!.baseUrl}`}.`,
    );
    if (bridge && signals) {
      line(
        io.out,
        `Open ${bridge.pageUrl} in a browser to see it (it keeps the last 200 messages; the #token part is its secret); Ctrl-C to stop.`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    return 0;
  } finally {
    await bridge?.stop();
  }
}

async function viz(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(args, {
    flow: { type: 'string' },
    file: { type: 'string' },
    flows: { type: 'string', multiple: true },
  });
  if (values.help) return (line(io.out, HELP.viz), 0);
  if (positionals.length) throw new UsageError('viz takes no positional arguments; use --flow NAME, --file PATH or --flows PATH.');
  if (values.flows && values.file) throw new UsageError('Pass --flows or --file, not both.');
  if (values.flows) {
    const { vizFlowFiles } = await import('./viz-flows.js');
    return vizFlowFiles(values.flows, values.flow, io.out, io.err);
  }
  if (values.flow && values.file) throw new UsageError('Pass --flow or --file, not both.');
  let def: FlowDefinition | undefined;
  const [{ flowMermaid }, { builtInFlows }] = await Promise.all([import('../inspect/mermaid.js'), import('../inspect/flows.js')]);
  if (values.file) {
    let text: string;
    try {
      text = readFileSync(values.file, 'utf8');
    } catch (e) {
      throw new EngineError(
        'INVALID_FLOW',
        `Can't read flow file '${values.file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
      );
    }
    const { parse: parseYaml } = await import('yaml');
    try {
      def = parseYaml(text) as FlowDefinition;
    } catch (e) {
      throw new EngineError('INVALID_FLOW', `Flow file '${values.file}' is neither JSON nor YAML: ${(e as Error).message}`);
    }
  } else {
    const flows = builtInFlows();
    def = flows.get(values.flow ?? 'default');
    if (!def)
      throw new UsageError(
        `No flow '${values.flow}'${hint(values.flow!, [...flows.keys()])}; built-in flows: ${[...flows.keys()].join(', ')}.`,
      );
  }
  try {
    line(io.out, flowMermaid(def));
  } catch (e) {
    throw new EngineError('INVALID_FLOW', (e as Error).message, ['steps']);
  }
  return 0;
}

async function demo(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return (line(io.out, HELP.demo), 0);
  if (positionals.length) throw new UsageError('demo takes no arguments.');
  const db = dbOf(values.db, { ...io, env: {} }, { dflt: ':memory:' });
  const { runDemo } = await import('../demo/run-demo.js');
  await withEngine(db, (engine) => runDemo(engine, io.out));
  return 0;
}

const COMMANDS: Record<string, (args: string[], io: CliIO, signals: boolean) => Promise<number>> = {
  serve,
  seed,
  sessions,
  inspect,
  viz,
  demo,
  run: (args, io) => runCommand(args, io),
  flow: (args, io) => flowCommand(args, io),
};
const COMMAND_NAMES = Object.keys(COMMANDS);

/**
 * Runs the CLI with `argv` (without node and script); returns the exit code. `signals` makes
 * `serve` run until SIGINT/SIGTERM (the real process); without it `serve` returns once listening.
 */
export async function main(
  argv: string[],
  io: CliIO = { out: process.stdout, err: process.stderr, env: process.env },
  signals = true,
): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    line(cmd ? io.out : io.err, HELP.main);
    return cmd ? 0 : 2;
  }
  if (cmd === '--version' || cmd === '-v') {
    line(io.out, `checkout-engine ${packageVersion()}`);
    return 0;
  }
  const run = COMMANDS[cmd];
  if (!run) {
    const what = cmd.startsWith('-')
      ? `Unknown option '${cmd}'${hint(cmd, ['--help', '--version'])}`
      : `Unknown command '${cmd}'${hint(cmd, COMMAND_NAMES)}`;
    line(io.err, usageMessage('checkout-engine', `${what}.`, HELP.main!));
    return 2;
  }
  try {
    return await run(rest, io, signals);
  } catch (e) {
    if (e instanceof UsageError) {
      line(io.err, usageMessage(`checkout-engine ${cmd}`, e.message, HELP[cmd]!));
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
