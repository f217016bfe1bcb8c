/**
 * The `checkout-engine` CLI: help on every command, usage errors, seed, sessions list/show, demo,
 * serve (SQLite file and PostgreSQL, --seed, --demo), the `npm start` two-command start with its
 * ready-to-paste curl, idempotent restarts, and graceful shutdown on SIGTERM with an accepted
 * operation completed after the restart. Where the process is the point (the executable's exit
 * codes and streams, npm start, signals, restarts, what a fresh process loads) the CLI is spawned;
 * elsewhere `main()` runs in this process (`inProcess`), the same code without the process start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { demoFixture } from '../../src/demo/fixture.js';
import { main } from '../../src/cli/main.js';
import type { RunningServer } from '../../src/http/server.js';
import { createCheckoutEngine } from '../../src/index.js';
import { dropTestSchemas, freshPgUrl, PG_URL } from '../helpers/backends.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'src/cli/bin.mjs');
const dir = mkdtempSync(join(tmpdir(), 'checkout-cli-'));
const started: ChildProcess[] = [];

afterAll(async () => {
  for (const p of started) if (p.exitCode === null && p.signalCode === null && p.pid) process.kill(-p.pid, 'SIGKILL');
  await dropTestSchemas();
});

const baseEnv = () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CHECKOUT_ENGINE_DB;
  delete env.PORT;
  return env;
};

/** Runs the CLI to completion. */
function run(args: string[], env = baseEnv(), cwd = dir): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A long-running `serve` (own process group, so the signal reaches it even through npm). */
interface Served {
  proc: ChildProcess;
  url: string;
  out: () => string;
  err: () => string;
  /** Sends a signal to the process group and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function serve(cmd: string, args: string[], env = baseEnv()): Promise<Served> {
  const proc = spawn(cmd, args, { cwd: cmd === 'npm' ? ROOT : dir, env, detached: true });
  started.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  // 'close' waits for every process holding the pipes (npm's child too), not just the first to exit.
  const exited = new Promise<number | null>((r) =>
    proc.on('close', (code, signal) => {
      // Say how it ended when it wasn't a clean exit, with its logs, so a failure explains itself.
      if (code !== 0 && cmd !== 'npm') console.error(`serve ended with code ${code}, signal ${signal}\n${out}\n${err}`);
      r(code);
    }),
  );
  const demo = cmd === 'npm' || args.includes('--demo'); // npm start serves the demo store
  return new Promise((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve did not start:\n${out}\n${err}`)), 45_000);
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m && out.includes('OpenAPI') && (!demo || /runAsync/.test(out))) {
        clearTimeout(timer);
        ready({
          proc,
          url: m[1]!,
          out: () => out,
          err: () => err,
          stop: (signal = 'SIGTERM') => {
            process.kill(-proc.pid!, signal);
            return exited;
          },
        });
      }
    };
    proc.stdout!.on('data', check);
    proc.on('exit', () => fail(new Error(`serve exited early:\n${out}\n${err}`)));
  });
}

/** Runs the banner's curl lines in bash and returns the parsed response. */
function runPrintedCurl(banner: string): Promise<unknown> {
  const script = banner.slice(banner.indexOf('TOKEN=$('));
  return new Promise((done, fail) => {
    const p = spawn('bash', ['-c', script], { cwd: dir });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => (code === 0 ? done(JSON.parse(out)) : fail(new Error(`curl failed (${code}): ${out}`))));
  });
}

async function login(url: string, username = 'buyer@acme.example'): Promise<string> {
  const r = await fetch(`${url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password: 'demo-password-1' }).toString(),
  });
  return ((await r.json()) as { access_token: string }).access_token;
}

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _e: string, cb: () => void) {
    this.text += chunk.toString('utf8');
    cb();
  }
}

/**
 * Runs the CLI in this process (no spawn): exit code and both streams. `cwd` is this process's
 * working folder for the call (relative paths and globs resolve against it, as in a spawned CLI);
 * `serve` returns once listening and hands its server to `onServe` (the caller closes it).
 */
async function inProcess(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; onServe?: (server: RunningServer) => void } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new Sink();
  const err = new Sink();
  const env = opts.env ?? baseEnv();
  const before = process.cwd();
  if (opts.cwd) process.chdir(opts.cwd);
  try {
    const code = await main(args, { out, err, env, ...(opts.onServe ? { onServe: opts.onServe } : {}) }, false);
    return { code, stdout: out.text, stderr: err.text };
  } finally {
    if (opts.cwd) process.chdir(before);
  }
}

/** `serve` in this process, listening: its banner and a way to close it. */
async function serveInProcess(args: string[]): Promise<{ url: string; out: string; close: () => Promise<void> }> {
  let server: RunningServer | undefined;
  const r = await inProcess(['serve', ...args], { onServe: (s) => (server = s) });
  expect(r.code, r.stderr).toBe(0);
  const url = /listening on (http:\/\/\S+)/.exec(r.stdout)![1]!;
  return { url, out: r.stdout, close: () => server!.close() };
}

describe('checkout-engine CLI', () => {
  it('prints help for every command and refuses bad usage with exit code 2', async () => {
    // The executable itself (exit code and streams through bin.mjs) for a success and a usage error…
    const [main, unknown] = await Promise.all([run(['--help']), run(['launch'])]);
    // …the rest in this process: the same main().
    const [serveH, seedH, sessionsH, demoH, none, badOpt, badPort, badSub] = await Promise.all([
      inProcess(['serve', '--help']),
      inProcess(['seed', '--help']),
      inProcess(['sessions', '--help']),
      inProcess(['demo', '--help']),
      inProcess([]),
      inProcess(['serve', '--bogus']),
      inProcess(['serve', '--port', 'eighty']),
      inProcess(['sessions', 'delete']),
    ]);
    expect(main.code).toBe(0);
    for (const c of ['serve', 'seed <fixture>', 'sessions list', 'sessions show <id>', 'demo']) expect(main.stdout).toContain(c);
    expect(serveH).toMatchObject({ code: 0 });
    for (const o of ['--db', '--port', '--seed', '--demo', '--trust-proxy', '--token-ttl']) expect(serveH.stdout).toContain(o);
    expect(seedH.stdout).toContain('Usage: checkout-engine seed <fixture file>');
    expect(sessionsH.stdout).toContain('checkout-engine sessions show <sessionId>');
    expect(demoH.stdout).toContain('Usage: checkout-engine demo');
    for (const h of [seedH, sessionsH, demoH]) expect(h.code).toBe(0);
    expect(none.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown command 'launch'");
    expect(badOpt.code).toBe(2);
    expect(badOpt.stderr).toMatch(/--bogus/);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain("--port must be a whole number, got 'eighty'");
    expect(badSub.code).toBe(2);
  });

  it('serve --flow takes a built-in flow name and refuses any other with exit code 2', async () => {
    const [help, bad] = await Promise.all([inProcess(['serve', '--help']), inProcess(['serve', '--flow', 'salesforce-everything'])]);
    expect(help.stdout).toContain('--flow <name>');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      "--flow must be one of default, salesforce-reentrant, salesforce-main, salesforce-main-checkout, connect; got 'salesforce-everything'.",
    );
  });

  for (const backend of ['sqlite', 'postgres'] as const)
    it(`seeds a fixture file and lists and shows sessions (${backend})`, async () => {
      const db = backend === 'sqlite' ? join(dir, 'seeded.db') : freshPgUrl();
      const fixture = join(dir, `store-${backend}.yaml`);
      writeFileSync(fixture, stringify(demoFixture({ sessionState: 'checkoutSummary' })));
      const seeded = await inProcess(['seed', fixture, '--db', db]);
      expect(seeded.code, seeded.stderr).toBe(0);
      const handles = JSON.parse(seeded.stdout) as Record<string, string>;
      expect(handles.cart).toMatch(/^0a6/);

      const again = await inProcess(['seed', fixture, '--db', db]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('INVALID_FIXTURE');
      const missing = await inProcess(['seed', join(dir, 'nope.yaml'), '--db', db]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('nope.yaml');

      const [list, listJson, show, showJson] = await Promise.all([
        inProcess(['sessions', 'list', '--db', db]),
        inProcess(['sessions', 'list', '--json', '--db', db]),
        inProcess(['sessions', 'show', handles.session!, '--db', db]),
        inProcess(['sessions', 'show', handles.session!, '--json', '--db', db]),
      ]);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(new RegExp(`${handles.session}\\s+${handles.cart}\\s+checkoutSummary`));
      expect(JSON.parse(listJson.stdout)).toEqual([
        expect.objectContaining({ Id: handles.session, WebCartId: handles.cart, State: 'checkoutSummary' }),
      ]);
      expect(show.stdout).toContain(`Session ${handles.session}`);
      expect(show.stdout).toContain('Cart: Cart — Status Checkout');
      expect(show.stdout).toContain('Order: none');
      expect(JSON.parse(showJson.stdout)).toMatchObject({
        session: { Id: handles.session },
        cart: { Id: handles.cart },
        order: null,
        validations: [],
      });
      const unknownSession = await inProcess(['sessions', 'show', '2z9000000000000', '--db', db]);
      expect(unknownSession.code).toBe(1);
      expect(unknownSession.stderr).toMatch(/NOT_FOUND|MALFORMED_ID/);
    });

  it('runs the demo', async () => {
    const r = await inProcess(['demo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Order 801\w+: Status \w+/);
  });

  it('npm start serves the demo store; the printed curl turns the demo cart into an order; restarts are idempotent; SIGTERM is graceful', async () => {
    const db = join(dir, 'start.db');
    const first = await serve('npm', ['start', '--silent', '--', '--port', '0', '--db', db]);
    const banner = first.out();
    expect(banner).toContain('demo store created');
    expect(banner).toContain('buyer: buyer@acme.example / demo-password-1');
    expect(banner).toContain(`${first.url}/services/oauth2/token`);
    const cart1 = /demo cart (0a6\w+)/.exec(banner)![1]!;
    const result = (await runPrintedCurl(banner)) as any[];
    expect(result[0]).toMatchObject({ actionName: 'cartToOrderAction', isSuccess: true });
    expect(first.err()).toContain('"event":"started"'); // structured JSON logs on stderr
    await first.stop('SIGTERM'); // npm itself dies of the signal; the server inside stops gracefully
    expect(first.err()).toContain('"event":"stopped"');

    // Restart on the same database: nothing re-seeded, a fresh cart is ready, the curl works again.
    const second = await serve(process.execPath, [BIN, 'serve', '--demo', '--port', '0', '--db', db]);
    expect(second.out()).toContain('demo store found');
    const cart2 = /demo cart (0a6\w+)/.exec(second.out())![1]!;
    expect(cart2).not.toBe(cart1);
    const token = await login(second.url, 'admin@store.example');
    const users = await fetch(`${second.url}/services/data/v62.0/query?q=SELECT+Id+FROM+User`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await users.json()) as { totalSize: number }).totalSize).toBe(3);

    // An async operation accepted just before SIGTERM is not lost: it completes (now or after restart).
    const buyer = await login(second.url);
    const accepted = await fetch(`${second.url}/services/data/v62.0/actions/standard/cartToOrderAction`, {
      method: 'POST',
      headers: { authorization: `Bearer ${buyer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ cartId: cart2, runAsync: true }] }),
    });
    expect(accepted.status).toBe(200);
    const operationId = ((await accepted.json()) as any[])[0].outputValues.backgroundOperationId;
    expect(await second.stop('SIGTERM')).toBe(0);
    expect(second.err()).toContain('"event":"stopping"');

    const third = await serve(process.execPath, [BIN, 'serve', '--demo', '--port', '0', '--db', db]);
    expect(third.out()).toContain('demo store found');
    expect(await third.stop('SIGINT')).toBe(0);
    const engine = await createCheckoutEngine({ storage: db, onError: () => {} });
    try {
      await engine.whenIdle();
      expect((await engine.getRecord('BackgroundOperation', operationId)).Status).toBe('Complete');
      const orders = await engine.query('SELECT Id, Status FROM Order', {
        userId: (await engine.userIdByUsername('admin@store.example'))!,
      });
      expect(orders.records).toHaveLength(2); // one per converted demo cart, no duplicates
    } finally {
      await engine.close();
    }
  });

  it('serves PostgreSQL with --seed and --demo, without printing the database password', async () => {
    const url = freshPgUrl();
    const fixture = join(dir, 'extra.json');
    writeFileSync(fixture, JSON.stringify({ Product2: [{ ref: 'gizmo', Name: 'Gizmo', StockKeepingUnit: 'GIZ-1' }] }));
    const s = await serve(process.execPath, [BIN, 'serve', '--db', url, '--seed', fixture, '--demo', '--port', '0']);
    try {
      const pgUrl = new URL(PG_URL); // the banner names host, port and database, never the user's password
      expect(s.out()).toContain(`database: postgres://${pgUrl.hostname}${pgUrl.port ? `:${pgUrl.port}` : ''}${pgUrl.pathname}`);
      if (pgUrl.password) expect(s.out()).not.toContain(pgUrl.password);
      expect(s.out()).toContain('seeded:   ');
      expect(s.out()).toContain('demo store created');
      const result = (await runPrintedCurl(s.out())) as any[];
      expect(result[0].isSuccess).toBe(true);
      const token = await login(s.url);
      const q = await fetch(
        `${s.url}/services/data/v62.0/query?q=${encodeURIComponent("SELECT Id FROM Product2 WHERE StockKeepingUnit = 'GIZ-1'")}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(((await q.json()) as { totalSize: number }).totalSize).toBe(1);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  it('fails clearly when the port is taken', async () => {
    const a = await serveInProcess(['--db', ':memory:', '--port', '0']);
    try {
      const port = new URL(a.url).port;
      const b = await inProcess(['serve', '--db', ':memory:', '--port', port]);
      expect(b.code).toBe(1);
      expect(b.stderr).toContain('already in use');
    } finally {
      await a.close();
    }
  });
});

/** The schemas this process's scenario runs created (named scn_<pid>_…), with pg-boss's beside them. */
async function scenarioSchemas(): Promise<string[]> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const { rows } = await c.query<{ nspname: string }>(`select nspname from pg_namespace where nspname like $1 order by 1`, [
      `scn\\_${process.pid}\\_%`,
    ]);
    return rows.map((r) => r.nspname);
  } finally {
    await c.end();
  }
}

async function dropSchemas(names: string[]): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    for (const n of names) await c.query(`drop schema if exists "${n}" cascade`);
  } finally {
    await c.end();
  }
}

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('CLI hygiene', () => {
  it('--version and -v print the package version (the executable answers without loading the CLI)', async () => {
    const [long, short, inside] = await Promise.all([run(['--version']), run(['-v']), inProcess(['--version'])]);
    for (const r of [long, short, inside]) expect(r).toMatchObject({ code: 0, stdout: `checkout-engine ${VERSION}\n`, stderr: '' });
    expect((await inProcess(['-v'])).stdout).toBe(`checkout-engine ${VERSION}\n`);
    expect((await inProcess(['--help'])).stdout).toMatch(/--version, -v +Print the version/);
  });

  it('a usage error is one line (with "did you mean" for a command or a flag) and the usage, not the whole help', async () => {
    const command = await inProcess(['sesions', 'list']);
    expect(command.code).toBe(2);
    expect(command.stderr.split('\n')[0]).toBe("checkout-engine: Unknown command 'sesions' (did you mean sessions?).");
    expect(command.stderr).toContain('Usage: checkout-engine <command> [options]');
    expect(command.stderr).not.toContain('Commands:');
    expect(command.stdout).toBe('');

    const flag = await inProcess(['serve', '--prot', '3000']);
    expect(flag.code).toBe(2);
    expect(flag.stderr.trimEnd().split('\n')).toEqual([
      "checkout-engine serve: Unknown option '--prot' (did you mean --port?).",
      'Usage: checkout-engine serve [options]',
      "Run 'checkout-engine serve --help' for its options.",
    ]);

    const sub = await inProcess(['sessions', 'lsit']);
    expect(sub.code).toBe(2);
    expect(sub.stderr.split('\n')[0]).toBe(
      "checkout-engine sessions: sessions takes 'list' or 'show <sessionId>', got 'lsit' (did you mean list?).",
    );
    expect(sub.stderr).toContain('checkout-engine sessions show <sessionId>');
    expect(sub.stderr).not.toContain('--limit'); // the options table stays in --help

    const runFlag = await inProcess(['run', 'scenarios', '--reportr', 'junit']);
    expect(runFlag.code).toBe(2);
    expect(runFlag.stderr.split('\n')[0]).toBe("checkout-engine run: Unknown option '--reportr' (did you mean --reporter?).");
    expect(runFlag.stderr).not.toContain('--concurrency');

    const flow = await inProcess(['serve', '--flow', 'defualt']);
    expect(flow.stderr.split('\n')[0]).toContain("got 'defualt' (did you mean default?)");
    const far = await inProcess(['launch']);
    expect(far.stderr.split('\n')[0]).toBe("checkout-engine: Unknown command 'launch'.");
  });

  it('sessions and inspect refuse a --db path with no database, and create nothing', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cli-missing-db-'));
    const typo = join(cwd, 'typo.db');
    const [list, show, inspect, fromEnv] = await Promise.all([
      inProcess(['sessions', 'list', '--db', typo]),
      inProcess(['sessions', 'show', '2z9000000000000', '--db', typo]),
      inProcess(['inspect', '2z9000000000000', '--url', 'ws://127.0.0.1:9', '--db', typo]),
      inProcess(['sessions', 'list'], { env: { ...baseEnv(), CHECKOUT_ENGINE_DB: './typo.db' }, cwd }),
    ]);
    for (const r of [list, show, inspect, fromEnv]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/No database at '[^']*typo\.db' \(nothing was created\): this command reads an existing database/);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(typo)).toBe(false);
    expect(existsSync(join(cwd, 'typo.db'))).toBe(false);
    expect(existsSync(join(cwd, 'checkout-engine.db'))).toBe(false);
  });

  it('a directory as --db is refused with what to give instead, by every command that opens a database', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'cli-db-folder-'));
    const fixture = join(folder, 'fixture.json');
    writeFileSync(fixture, '{}');
    const results = await Promise.all([
      inProcess(['sessions', 'list', '--db', folder]),
      inProcess(['inspect', '2z9000000000000', '--url', 'ws://127.0.0.1:9', '--db', folder]),
      inProcess(['seed', fixture, '--db', folder]),
      inProcess(['serve', '--port', '0', '--db', folder]),
      inProcess(['demo', '--db', folder]),
    ]);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(
        `--db '${folder}' is a directory: give the database file path (e.g. ${join(folder, 'checkout-engine.db')}).`,
      );
      expect(r.stderr).not.toContain('SERVICE_UNAVAILABLE');
    }
    const noFolder = await inProcess(['seed', fixture, '--db', join(folder, 'missing', 'x.db')]);
    expect(noFolder.code).toBe(2);
    expect(noFolder.stderr).toContain(`the folder ${join(folder, 'missing')} doesn't exist`);
    // seed (like serve and demo) may create a new database file where the folder exists
    const created = await inProcess(['seed', fixture, '--db', join(folder, 'new.db')]);
    expect(created.code, created.stderr).toBe(0);
    expect(existsSync(join(folder, 'new.db'))).toBe(true);
  });

  it("run expands globs ('scenarios/**/*.yaml' finds nested files) and folder paths still work", async () => {
    const root = mkdtempSync(join(tmpdir(), 'cli-glob-'));
    const scenario = (name: string) =>
      `name: ${name}\nsteps:\n  - invoke: checkoutSessionAction\n    input: { cartId: '@cart' }\n    expect: { session: { active: 1 } }\n`;
    mkdirSync(join(root, 'scenarios', 'a', 'b'), { recursive: true });
    writeFileSync(join(root, 'scenarios', 'top.yaml'), scenario('top'));
    writeFileSync(join(root, 'scenarios', 'a', 'one.yaml'), scenario('one'));
    writeFileSync(join(root, 'scenarios', 'a', 'b', 'two.yml'), scenario('two'));
    writeFileSync(join(root, 'scenarios', 'a', 'notes.txt'), 'not a scenario');
    const glob = await inProcess(['run', 'scenarios/**/*.yaml'], { cwd: root });
    expect(glob.code, glob.stderr).toBe(0);
    expect(glob.stdout).toContain('2 passed, 0 failed, 2 scenarios'); // top.yaml and a/one.yaml (two.yml isn't *.yaml)
    expect(glob.stdout).toContain(join('scenarios', 'a', 'one.yaml'));
    const deep = await inProcess(['run', 'scenarios/**/*.{yaml,yml}', 'scenarios/a/**/t*.yml'], { cwd: root });
    expect(deep.stdout, deep.stderr).toContain('3 passed, 0 failed, 3 scenarios');
    const folder = await inProcess(['run', 'scenarios/a'], { cwd: root });
    expect(folder.stdout, folder.stderr).toContain('2 passed, 0 failed, 2 scenarios');
    const none = await inProcess(['run', 'scenarios/**/*.json'], { cwd: root });
    expect(none.code).toBe(2);
    expect(none.stderr.split('\n')[0]).toBe('checkout-engine run: no scenario files match scenarios/**/*.json.');
  });

  it('JUnit output has time= (seconds) on testsuites, testsuite and every testcase', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'cli-junit-')), 'junit.xml');
    const r = await inProcess([
      'run',
      'scenarios/library/errors-step-req1-invalid-cart-id.yaml',
      'scenarios/library/errors-step-req3-other-account.yaml',
      '--reporter',
      'junit',
      '--output',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const xml = readFileSync(out, 'utf8');
    const time = 'time="\\d+\\.\\d{3}"';
    expect(xml).toMatch(new RegExp(`<testsuites [^>]*tests="2" failures="0" ${time}>`));
    expect(xml).toMatch(new RegExp(`<testsuite [^>]*tests="2"[^>]* ${time}>`));
    const cases = xml.match(/<testcase [^>]*>/g) ?? [];
    expect(cases).toHaveLength(2);
    for (const c of cases) expect(c).toMatch(new RegExp(`${time}>$`));
  });

  it('run --db postgres:// drops the schemas each scenario created; --keep keeps them and names them', async () => {
    const files = ['scenarios/library/errors-step-req1-invalid-cart-id.yaml', 'scenarios/library/flow-happy-path.yaml'];
    expect(await scenarioSchemas()).toEqual([]);
    const dropped = await inProcess(['run', ...files, '--db', PG_URL]);
    expect(dropped.code, dropped.stdout + dropped.stderr).toBe(0);
    expect(await scenarioSchemas()).toEqual([]);

    const kept = await inProcess(['run', ...files, '--db', PG_URL, '--keep']);
    expect(kept.code, kept.stdout + kept.stderr).toBe(0);
    const named = [...kept.stderr.matchAll(/\(schema (scn_\w+)\)/g)].map((m) => m[1]!);
    expect(named).toHaveLength(2);
    try {
      // each scenario's engine schema and its pg-boss queue schema
      expect(await scenarioSchemas()).toEqual(named.flatMap((n) => [n, `${n}_pgboss`]).sort());
    } finally {
      await dropSchemas(await scenarioSchemas());
    }
    const keepWithoutPg = await inProcess(['run', files[0]!, '--keep']);
    expect(keepWithoutPg.code).toBe(2);
    expect(keepWithoutPg.stderr.split('\n')[0]).toContain('--keep applies to --db postgres://');
  });

  it('--help loads none of the heavy modules (Fastify, pg, SQLite, the engine); a command that needs them does', async () => {
    const probe = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
        // Runs main() through tsx like bin.mjs, then lists the CommonJS packages loaded so far.
        const script = `
          const tsx = await import('tsx/esm/api'); tsx.register();
          const { createRequire } = await import('node:module');
          const { main } = await import(${JSON.stringify(join(ROOT, 'src/cli/main.ts'))});
          const { Writable } = await import('node:stream');
          const sink = new Writable({ write(_c, _e, cb) { cb(); } });
          await main(${JSON.stringify(args)}, { out: sink, err: sink, env: {} }, false);
          const loaded = Object.keys(createRequire(import.meta.url).cache);
          const heavy = ['fastify', 'pg', 'better-sqlite3', 'pg-boss', 'elkjs'].filter((p) => loaded.some((f) => f.includes('/node_modules/' + p + '/')));
          process.stdout.write(JSON.stringify(heavy));
          process.exit(0);`;
        const p = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env: baseEnv() });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.stderr.on('data', (d) => (stderr += d));
        p.on('close', (code) => done({ code, stdout, stderr }));
      });
    const [help, serveHelp, viz, served] = await Promise.all([
      probe(['--help']),
      probe(['serve', '--help']),
      probe(['viz']),
      probe(['serve', '--port', '0', '--db', ':memory:']),
    ]);
    for (const r of [help, serveHelp, viz]) expect(JSON.parse(r.stdout), r.stderr).toEqual([]);
    // the control: running a command that opens an engine loads them, so the probe sees loads
    expect(JSON.parse(served.stdout), served.stderr).toEqual(expect.arrayContaining(['fastify', 'better-sqlite3']));
  });
});
