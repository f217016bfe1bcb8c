/**
 * HTTP invocations per second and p99 under autocannon vs the same calls through the library
 * (issue 12, item 3; target: HTTP ≥ 70% of the library's calls/s).
 *
 * One SQLite file (WAL) holds the demo store, its buyer and CARTS carts, each with an active
 * checkout session. Two calls are measured, each repeatable without changing the data:
 * - `checkoutSessionAction` — POST /services/data/v64.0/actions/standard/checkoutSessionAction
 *   `{ inputs: [{ cartId }] }` (get-or-create: the session exists, so it is returned);
 * - `getRecord` — GET /services/data/v64.0/sobjects/WebCart/{cartId}.
 * Carts rotate per request. HTTP side: the server (src/http/server.ts) in a child process
 * (bench/http-child.ts server) on a copy of the file, autocannon here with 10 connections and a
 * bearer token from POST /services/oauth2/token (password grant). Library side: a child process on
 * another copy (bench/http-child.ts library) with 10 calls in flight. Both run side by side: after
 * a warm-up of each (5 s; quick 2 s; and at least 15,000 calls either way — throughput keeps rising
 * for seconds while the JIT warms up, longer on a loaded machine), the measurement alternates HTTP and library slices (4 × 2 s each;
 * quick 3 × 1 s) so both see the same load. Every response's latency is kept: calls/s, p50, p99.
 * Each serving process (server, library child, bare route) also reports its CPU time around each of
 * its slices, so the tables give CPU µs per call beside calls/s (less swayed by other load than
 * calls/s). BENCH_NODE_ARGS adds node options to the children (e.g. --perf-basic-prof).
 *
 * Placement (see `pinClient`): with taskset and ≥ 2 CPUs the client (autocannon, this process) runs
 * on one CPU and every serving process — engine server, library child, bare route — on another, the
 * same for all three sides (BENCH_PIN=0: not pinned). The bare route does the HTTP work the engine's
 * routes do for these calls — same paths and methods, same request bodies parsed by Fastify's JSON
 * parser, an object of the same JSON size serialized per reply, keep-alive and logger as the server
 * (no logger) — and nothing else: no auth hook, no validation, no security headers.
 * BENCH_PROFILE=DIR writes a CPU profile of each serving process over its timed slices to DIR and
 * prints its top self times per call. BENCH_STUB=auth|engine (bench/http-child.ts) splits the server's cost.
 *
 * Run alone: npx tsx bench/http.ts [--quick]   (bench/run.ts runs it as a section)
 */
import autocannon, { type Request as LoadRequest } from 'autocannon';
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCheckoutEngine } from '../src/engine/engine.js';
import { demoFixture } from '../src/demo/fixture.js';
import { moreCarts } from './cart-to-order.js';
import type { HttpChildReply, HttpChildRequest } from './http-child.js';
import { fx, isMain, machine, machineLine, mark, mdTable, pct, type Check, type SectionOptions, type SectionResult } from './lib.js';
import { summarise } from './profile.js';

const CHILD = fileURLToPath(new URL('./http-child.ts', import.meta.url));
const CARTS = 20;
const CONNECTIONS = 10;
const TARGET = 0.7;
/** What HTTP adds to a call, at most this many times what a bare Fastify route costs (issue 22). */
const OVERHEAD_TARGET = 1.3;
/** Each side's warm-up lasts at least this many calls (beside its seconds): V8 keeps optimizing the hot paths for thousands of requests. */
const WARMUP_CALLS = 15_000;
const USERNAME = 'buyer@acme.example';
const PASSWORD = 'demo-password-1';
const CALLS = ['checkoutSessionAction', 'getRecord'] as const;
type Call = (typeof CALLS)[number];

/**
 * Where each side runs (issue 22). On a machine of 2 cores the client (autocannon, this process)
 * and the serving process would otherwise share both: the server is preempted by the client about
 * once per request and its SQLite time per call doubles, while a bare route hardly notices. So, when
 * `taskset` is there and this process may use ≥ 2 CPUs, this process — the client — is pinned to
 * the first CPU of its affinity list for the section (and restored after), and every serving
 * process (engine server, library child, bare route) to the second: the same core for all three
 * sides, the client never on it. BENCH_PIN=0 turns it off.
 */
export interface Pinning {
  /** The CPU list this process had before (restored by `restore`). */
  original: string;
  client: number;
  server: number;
}

/** The serving children are started on this CPU (taskset) while the client is pinned. */
let serverCpu: number | undefined;

/** The CPUs this process may run on (`taskset -cp`), or undefined without taskset. */
function affinity(pid: number): { list: string; cpus: number[] } | undefined {
  try {
    const out = execFileSync('taskset', ['-cp', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const list = out.slice(out.lastIndexOf(':') + 1).trim();
    const cpus = list.split(',').flatMap((r) => {
      const [a, b] = r.split('-').map(Number);
      return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
    });
    return { list, cpus };
  } catch {
    return undefined;
  }
}

/** Pins this process (all its threads) to the client's CPU; the serving children are started on the other one. */
export function pinClient(): Pinning | undefined {
  if (process.env.BENCH_PIN === '0') return undefined;
  const a = affinity(process.pid);
  if (!a || a.cpus.length < 2) return undefined;
  const pin = { original: a.list, client: a.cpus[0]!, server: a.cpus[1]! };
  execFileSync('taskset', ['-a', '-cp', String(pin.client), String(process.pid)], { stdio: 'ignore' });
  serverCpu = pin.server;
  return pin;
}

/** Gives this process back the CPUs it had. */
export function unpin(pin: Pinning | undefined): void {
  serverCpu = undefined;
  if (pin) execFileSync('taskset', ['-a', '-cp', pin.original, String(process.pid)], { stdio: 'ignore' });
}

/** How the sides were placed, for the section's text. */
export function pinningLine(pin: Pinning | undefined): string {
  return pin
    ? `pinned with taskset: the client (autocannon, the bench process) on CPU ${pin.client}; every serving process — engine server, library child, bare route — on CPU ${pin.server}`
    : 'not pinned (no taskset, fewer than 2 CPUs, or BENCH_PIN=0): client and serving processes share the CPUs';
}

/** One call's numbers. */
export interface HttpRow {
  call: Call;
  httpPerSecond: number;
  httpP50: number;
  httpP99: number;
  httpRequests: number;
  httpFailed: number;
  libraryPerSecond: number;
  libraryP50: number;
  libraryP99: number;
  libraryCalls: number;
  libraryFailed: number;
  ratio: number;
  /** Size of the engine's answer, and of the bare route's. */
  bodyBytes: number;
  barePerSecond: number;
  bareP50: number;
  bareFailed: number;
  /** Time per call (connections ÷ calls/s) that HTTP adds to the library call, in ms. */
  httpAddedMs: number;
  /** Time per call of the bare route, in ms. */
  bareMs: number;
  /** httpAddedMs ÷ bareMs (target ≤ OVERHEAD_TARGET). */
  overhead: number;
  /** CPU time per call (µs) of the process serving it: the engine's server, the library child, the bare route's server. */
  httpCpuMicros: number;
  libraryCpuMicros: number;
  bareCpuMicros: number;
}

export async function prepare(): Promise<{ dir: string; file: string; cartIds: string[]; buyer: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-http-'));
  const file = join(dir, 'seed.db');
  const engine = await createCheckoutEngine({ storage: file, worker: false, recover: false });
  const base = demoFixture({ lines: 3 });
  for (const k of ['WebCart', 'CartDeliveryGroup', 'CartItem', 'CartTax', 'CartCheckoutSession']) delete base[k];
  const ids = await engine.seed(base);
  const h = await engine.seed(moreCarts(CARTS, 3, 0));
  const cartIds = Array.from({ length: CARTS }, (_, c) => h[`c${c}_cart`]!);
  for (const cartId of cartIds) {
    const [r] = await engine.invoke('checkoutSessionAction', [{ cartId }], { userId: ids.buyer! });
    if (!r!.isSuccess) throw new Error(`checkoutSessionAction failed while seeding: ${JSON.stringify(r!.errors)}`);
  }
  await engine.close();
  return { dir, file, cartIds, buyer: ids.buyer! };
}

/** A child process started with tsx: waits for its first message of `type`. */
export function startChild(
  args: string[],
  env: Record<string, string>,
  type: HttpChildReply['type'],
): Promise<{ child: ChildProcess; first: HttpChildReply; stop: () => Promise<void> }> {
  // BENCH_NODE_ARGS: more node options for the children (e.g. --perf-basic-prof, --trace-deopt), to look inside.
  const nodeArgs = ['--import', 'tsx', ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
  const child = fork(CHILD, args, {
    // Pinned: `taskset -c CPU node …` (fork runs execPath with execArgv before the module; the IPC channel is inherited).
    ...(serverCpu === undefined
      ? { execArgv: nodeArgs }
      : { execPath: 'taskset', execArgv: ['-c', String(serverCpu), process.execPath, ...nodeArgs] }),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.connected) child.disconnect();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench/http-child.ts ${args[0]} exited with ${code} before it was ready`)));
    child.once('message', (m: HttpChildReply) =>
      m.type === type ? resolve({ child, first: m, stop }) : reject(new Error(`unexpected message ${JSON.stringify(m)}`)),
    );
  });
}

/** Sends a child a request and waits for its reply of type `type`. */
export function ask<T extends HttpChildReply['type']>(
  child: ChildProcess,
  request: HttpChildRequest,
  type: T,
): Promise<Extract<HttpChildReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    child.once('message', (m: HttpChildReply) =>
      m.type === type ? resolve(m as Extract<HttpChildReply, { type: T }>) : reject(new Error(`unexpected message ${JSON.stringify(m)}`)),
    );
    child.send(request);
  });
}

/** Asks the library child for one slice of calls. */
function librarySlice(child: ChildProcess, seconds: number): Promise<Extract<HttpChildReply, { type: 'slice' }>> {
  return ask(child, { type: 'run', seconds }, 'slice');
}

/** A child's CPU time so far, in µs. */
async function cpuOf(child: ChildProcess): Promise<number> {
  return (await ask(child, { type: 'cpu' }, 'cpu')).micros;
}

export async function token(url: string): Promise<string> {
  const res = await fetch(`${url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: USERNAME, password: PASSWORD }).toString(),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || !body.access_token) throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

export function requestFor(call: Call, cartIds: string[]): LoadRequest {
  let n = 0;
  if (call === 'checkoutSessionAction') {
    return {
      method: 'POST',
      path: '/services/data/v64.0/actions/standard/checkoutSessionAction',
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ inputs: [{ cartId: cartIds[n++ % cartIds.length] }] }) }),
    };
  }
  return {
    method: 'GET',
    setupRequest: (req) => ({ ...req, path: `/services/data/v64.0/sobjects/WebCart/${cartIds[n++ % cartIds.length]}` }),
  };
}

/**
 * Measures one call both ways. The server and the library process run side by side, and the
 * measurement alternates between them in SLICES slices of SLICE seconds each (HTTP, library, HTTP,
 * …) after a warm-up of each, so both see the same machine load even when it changes by the minute.
 */
async function measure(
  p: { dir: string; file: string; cartIds: string[]; buyer: string },
  call: Call,
  warmup: number,
  slices: number,
  slice: number,
): Promise<Omit<HttpRow, 'call' | 'ratio' | 'httpAddedMs' | 'bareMs' | 'overhead'>> {
  const httpFile = join(p.dir, `http-${call}.db`);
  const libFile = join(p.dir, `lib-${call}.db`);
  copyFileSync(p.file, httpFile);
  copyFileSync(p.file, libFile);
  const server = await startChild(['server'], { BENCH_STORAGE: httpFile }, 'listening');
  const library = await startChild(
    ['library'],
    {
      BENCH_STORAGE: libFile,
      BENCH_CALL: call,
      BENCH_CARTS: p.cartIds.join(','),
      BENCH_USER: p.buyer,
      BENCH_CONNECTIONS: String(CONNECTIONS),
    },
    'ready',
  );
  let bare: Awaited<ReturnType<typeof startChild>> | undefined;
  try {
    const url = (server.first as Extract<HttpChildReply, { type: 'listening' }>).url;
    const bearer = await token(url);
    // One checked call first: the request really succeeds (status and body).
    const probe = requestFor(call, p.cartIds).setupRequest!(
      { method: call === 'getRecord' ? 'GET' : 'POST', path: '/services/data/v64.0/actions/standard/checkoutSessionAction' },
      {},
    );
    const res = await fetch(`${url}${probe.path}`, {
      method: probe.method,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: probe.body,
    });
    const text = await res.text();
    if (res.status !== 200 || (call === 'checkoutSessionAction' && !text.includes('"isSuccess":true')))
      throw new Error(`${call} over HTTP failed: ${res.status} ${text.slice(0, 300)}`);
    // The bare route answers a body of the same size as the engine's answer to this call.
    const bodyBytes = Buffer.byteLength(text);
    bare = await startChild(['bare'], { BENCH_BODY_BYTES: String(bodyBytes) }, 'listening');
    const bareUrl = (bare.first as Extract<HttpChildReply, { type: 'listening' }>).url;
    const opts = {
      url,
      connections: CONNECTIONS,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      requests: [requestFor(call, p.cartIds)],
    };
    const bareOpts = { ...opts, url: bareUrl };
    // Warm-up of all three (JIT, caches): throughput keeps rising for seconds, longer on a loaded
    // machine — each side for `warmup` seconds and at least WARMUP_CALLS calls (topped up with
    // autocannon's `amount`, or more library slices), so a slow machine doesn't measure half-warm code.
    const warmLoad = async (o: typeof opts, seconds: number) => {
      const r = await autocannon({ ...o, duration: seconds });
      if (r.requests.total < WARMUP_CALLS) await autocannon({ ...o, amount: WARMUP_CALLS - r.requests.total });
    };
    await warmLoad(opts, warmup);
    await warmLoad(bareOpts, Math.max(1, warmup / 2));
    for (let calls = 0; calls < WARMUP_CALLS;) calls += (await librarySlice(library.child, warmup)).latencies.length;
    const http = { latencies: [] as number[], seconds: 0, failed: 0, cpu: 0 };
    const bareSide = { latencies: [] as number[], seconds: 0, failed: 0, cpu: 0 };
    const lib = { latencies: [] as number[], seconds: 0, failed: 0, cpu: 0 };
    const loadSlice = async (o: typeof opts, into: typeof http, serving: ChildProcess) => {
      const cpu0 = await cpuOf(serving);
      const inst = autocannon({ ...o, duration: slice });
      // `on` returns the instance, a promise awaited just below.
      void inst.on('response', (_client, status, _bytes, responseTime) => {
        into.latencies.push(responseTime);
        if (status < 200 || status > 299) into.failed++;
      });
      const r = await inst;
      into.cpu += (await cpuOf(serving)) - cpu0;
      into.seconds += r.duration;
      into.failed += r.errors;
    };
    // BENCH_PROFILE=DIR: a CPU profile of each serving process over the timed slices (each idle between its own).
    const profileDir = process.env.BENCH_PROFILE;
    const profiled = [
      { name: 'server', child: server.child },
      { name: 'bare', child: bare.child },
      { name: 'library', child: library.child },
    ];
    if (profileDir) for (const s of profiled) await ask(s.child, { type: 'profile', file: '' }, 'profiled');
    for (let i = 0; i < slices; i++) {
      await loadSlice(opts, http, server.child);
      await loadSlice(bareOpts, bareSide, bare.child);
      const cpu0 = await cpuOf(library.child);
      const l = await librarySlice(library.child, slice);
      lib.cpu += (await cpuOf(library.child)) - cpu0;
      lib.latencies.push(...l.latencies);
      lib.seconds += l.seconds;
      lib.failed += l.failed;
    }
    if (profileDir) {
      mkdirSync(profileDir, { recursive: true });
      for (const s of profiled) {
        const file = join(profileDir, `${s.name}-${call}.cpuprofile`);
        await ask(s.child, { type: 'profile', file }, 'profiled');
        logProfile(file, `${s.name} (${call})`, { server: http, bare: bareSide, library: lib }[s.name]!.latencies.length);
      }
    }
    return {
      httpPerSecond: http.latencies.length / http.seconds,
      httpP50: pct(http.latencies, 50),
      httpP99: pct(http.latencies, 99),
      httpRequests: http.latencies.length,
      httpFailed: http.failed,
      libraryPerSecond: lib.latencies.length / lib.seconds,
      libraryP50: pct(lib.latencies, 50),
      libraryP99: pct(lib.latencies, 99),
      libraryCalls: lib.latencies.length,
      libraryFailed: lib.failed,
      bodyBytes,
      barePerSecond: bareSide.latencies.length / bareSide.seconds,
      bareP50: pct(bareSide.latencies, 50),
      bareFailed: bareSide.failed,
      httpCpuMicros: http.cpu / http.latencies.length,
      libraryCpuMicros: lib.cpu / lib.latencies.length,
      bareCpuMicros: bareSide.cpu / bareSide.latencies.length,
    };
  } finally {
    await Promise.allSettled([server.stop(), library.stop(), ...(bare ? [bare.stop()] : [])]);
  }
}

/** Prints a profile's top self times (µs per call) by group and by function. */
function logProfile(file: string, what: string, calls: number): void {
  const { total, groups, functions } = summarise(JSON.parse(readFileSync(file, 'utf8')));
  const perCall = (ms: number) => fx((ms * 1000) / calls, 1);
  console.log(`  profile of ${what}: ${file}, ${fx(total)} ms sampled, ${calls} calls; self µs per call:`);
  for (const [name, ms] of groups.slice(0, 14)) console.log(`    ${perCall(ms).padStart(7)}  ${name}`);
  console.log('    functions:');
  for (const [name, ms] of functions.slice(0, 30)) console.log(`    ${perCall(ms).padStart(7)}  ${name}`);
}

/** Measures both calls over HTTP and through the library. */
export async function benchHttp(opts: SectionOptions): Promise<SectionResult> {
  const warmup = opts.quick ? 2 : 5;
  const slices = opts.quick ? 3 : 4;
  const slice = opts.quick ? 1 : 2;
  const p = await prepare();
  const rows: HttpRow[] = [];
  const pin = pinClient();
  opts.log(`  ${pinningLine(pin)}`);
  try {
    for (const call of CALLS) {
      const m = await measure(p, call, warmup, slices, slice);
      // Time per call in a closed loop of CONNECTIONS callers (Little's law): connections ÷ calls/s.
      const perCall = (rate: number) => (CONNECTIONS / rate) * 1000;
      const httpAddedMs = perCall(m.httpPerSecond) - perCall(m.libraryPerSecond);
      const bareMs = perCall(m.barePerSecond);
      rows.push({ call, ...m, ratio: m.httpPerSecond / m.libraryPerSecond, httpAddedMs, bareMs, overhead: httpAddedMs / bareMs });
      opts.log(
        `  ${call}: HTTP ${fx(m.httpPerSecond)}/s (p99 ${fx(m.httpP99)} ms), library ${fx(m.libraryPerSecond)}/s (p99 ${fx(m.libraryP99, 2)} ms), bare route ${fx(m.barePerSecond)}/s (${m.bodyBytes} B); CPU µs per call: server ${fx(m.httpCpuMicros, 0)}, library ${fx(m.libraryCpuMicros, 0)}, bare server ${fx(m.bareCpuMicros, 0)}`,
      );
    }
  } finally {
    unpin(pin);
    rmSync(p.dir, { recursive: true, force: true });
  }
  const text = mdTable(
    [
      'call',
      'HTTP calls/s',
      'HTTP p50 ms',
      'HTTP p99 ms',
      'HTTP failed',
      'library calls/s',
      'library p50 ms',
      'library p99 ms',
      'library failed',
      'HTTP ÷ library',
      'target',
      '',
    ],
    rows.map((r) => [
      r.call,
      fx(r.httpPerSecond),
      fx(r.httpP50),
      fx(r.httpP99),
      String(r.httpFailed),
      fx(r.libraryPerSecond),
      fx(r.libraryP50, 2),
      fx(r.libraryP99, 2),
      String(r.libraryFailed),
      `${fx(r.ratio * 100, 0)}%`,
      `≥ ${TARGET * 100}%`,
      mark(r.ratio >= TARGET && r.httpFailed === 0 && r.libraryFailed === 0),
    ]),
  );
  const overheadText = mdTable(
    [
      'call',
      'body bytes',
      'bare route calls/s',
      'bare p50 ms',
      'ms per call: library',
      'ms per call: HTTP',
      'HTTP adds ms',
      'bare route ms',
      'added ÷ bare',
      'target',
      '',
      'CPU µs per call: server',
      'library',
      'bare server',
    ],
    rows.map((r) => [
      r.call,
      String(r.bodyBytes),
      fx(r.barePerSecond),
      fx(r.bareP50),
      fx((CONNECTIONS / r.libraryPerSecond) * 1000, 3),
      fx((CONNECTIONS / r.httpPerSecond) * 1000, 3),
      fx(r.httpAddedMs, 3),
      fx(r.bareMs, 3),
      fx(r.overhead, 2),
      `≤ ${OVERHEAD_TARGET}`,
      mark(r.overhead <= OVERHEAD_TARGET && r.bareFailed === 0),
      fx(r.httpCpuMicros, 0),
      fx(r.libraryCpuMicros, 0),
      fx(r.bareCpuMicros, 0),
    ]),
  );
  const checks: Check[] = rows.flatMap((r) => [
    {
      what: `${r.call}: HTTP calls/s ÷ library calls/s`,
      value: r.ratio,
      target: `≥ ${TARGET}`,
      ok: r.ratio >= TARGET && r.httpFailed === 0 && r.libraryFailed === 0,
    },
    {
      what: `${r.call}: time HTTP adds ÷ a bare route's time`,
      value: r.overhead,
      target: `≤ ${OVERHEAD_TARGET}`,
      ok: r.overhead <= OVERHEAD_TARGET && r.bareFailed === 0,
    },
  ]);
  const fullText = `${text}\n\nHTTP overhead vs a bare Fastify route (same client, same connections, a body of the same size; ms per call = ${CONNECTIONS} connections ÷ calls/s; CPU µs per call = the serving process's CPU time, all its threads, ÷ its calls in the timed slices; ${pinningLine(pin)}):\n\n${overheadText}`;
  return {
    text: fullText,
    checks,
    data: {
      connections: CONNECTIONS,
      warmupSeconds: warmup,
      warmupCalls: WARMUP_CALLS,
      slices,
      sliceSeconds: slice,
      carts: CARTS,
      pinned: pin ? { clientCpu: pin.client, serverCpu: pin.server } : false,
      rows,
    },
  };
}

if (isMain(import.meta.url)) {
  console.log(`machine: ${machineLine(machine())}`);
  const r = await benchHttp({ quick: process.argv.includes('--quick'), log: (l) => console.log(l) });
  console.log(`\nHTTP (autocannon, ${CONNECTIONS} connections) vs library\n${r.text}`);
}
