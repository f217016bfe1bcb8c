/**
 * HTTP invocations per second and p99 under autocannon vs the same calls through the library
 * (issue 12, item 3; target: HTTP ≥ 70% of the library's calls/s).
 *
 * One SQLite file (WAL) holds the demo store, its buyer and CARTS carts, each with an active
 * checkout session. Two calls are measured, each repeatable without changing the data:
 * - `checkoutSessionAction` — POST /services/data/v64.0/actions/standard/checkoutSessionAction
 *   `{ inputs: [{ cartId }] }` (get-or-create: the session exists, so it is returned);
 * - `getRecord` — GET /services/data/v64.0/sobjects/WebCart/{cartId}.
 * Carts rotate per request. HTTP side: the server (src/http/server.ts) runs in a child process
 * (bench/http-child.ts server) on a copy of the file; autocannon runs here with 10 connections for
 * SECONDS after a 1 s warm-up, with a bearer token from POST /services/oauth2/token (password
 * grant). Library side: a child process on another copy runs the same call with 10 in flight for
 * SECONDS (bench/http-child.ts library). Both report calls/s, p50 and p99.
 *
 * Run alone: npx tsx bench/http.ts [--quick]   (bench/run.ts runs it as a section)
 */
import autocannon, { type Request as LoadRequest } from 'autocannon';
import { fork } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCheckoutEngine } from '../src/engine/engine.js';
import { demoFixture } from '../src/demo/fixture.js';
import { moreCarts } from './cart-to-order.js';
import type { HttpChildReply } from './http-child.js';
import { fx, isMain, machine, machineLine, mark, mdTable, runChild, type Check, type SectionOptions, type SectionResult } from './lib.js';

const CHILD = fileURLToPath(new URL('./http-child.ts', import.meta.url));
const CARTS = 20;
const CONNECTIONS = 10;
const TARGET = 0.7;
const USERNAME = 'buyer@acme.example';
const PASSWORD = 'demo-password-1';
const CALLS = ['checkoutSessionAction', 'getRecord'] as const;
type Call = (typeof CALLS)[number];

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
}

async function prepare(): Promise<{ dir: string; file: string; cartIds: string[]; buyer: string }> {
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

/** Starts the server child on `file`; resolves with its URL and a stop function. */
function startServerChild(file: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = fork(CHILD, ['server'], { execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_STORAGE: file }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the HTTP server child exited with ${code} before listening`)));
    child.once('message', (m: HttpChildReply) => {
      if (m.type !== 'listening') return reject(new Error(`unexpected message ${JSON.stringify(m)}`));
      resolve({
        url: m.url,
        stop: async () => {
          child.disconnect();
          await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
          if (child.exitCode === null) child.kill('SIGKILL');
        },
      });
    });
  });
}

async function token(url: string): Promise<string> {
  const res = await fetch(`${url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: USERNAME, password: PASSWORD }).toString(),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || !body.access_token) throw new Error(`login failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

function requestFor(call: Call, cartIds: string[]): LoadRequest {
  let n = 0;
  if (call === 'checkoutSessionAction') {
    return {
      method: 'POST',
      path: '/services/data/v64.0/actions/standard/checkoutSessionAction',
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ inputs: [{ cartId: cartIds[n++ % cartIds.length] }] }) }),
    };
  }
  return { method: 'GET', setupRequest: (req) => ({ ...req, path: `/services/data/v64.0/sobjects/WebCart/${cartIds[n++ % cartIds.length]}` }) };
}

async function measureHttp(file: string, call: Call, cartIds: string[], seconds: number): Promise<Pick<HttpRow, 'httpPerSecond' | 'httpP50' | 'httpP99' | 'httpRequests' | 'httpFailed'>> {
  const server = await startServerChild(file);
  try {
    const bearer = await token(server.url);
    // One checked call first: the request really succeeds (status and body).
    const probe = requestFor(call, cartIds).setupRequest!({ method: call === 'getRecord' ? 'GET' : 'POST', path: '/services/data/v64.0/actions/standard/checkoutSessionAction' }, {});
    const res = await fetch(`${server.url}${probe.path}`, { method: probe.method, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: probe.body });
    const text = await res.text();
    if (res.status !== 200 || (call === 'checkoutSessionAction' && !text.includes('"isSuccess":true'))) throw new Error(`${call} over HTTP failed: ${res.status} ${text.slice(0, 300)}`);
    const opts = { url: server.url, connections: CONNECTIONS, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, requests: [requestFor(call, cartIds)] };
    await autocannon({ ...opts, duration: 1 }); // warm-up
    const r = await autocannon({ ...opts, duration: seconds });
    return { httpPerSecond: r.requests.total / r.duration, httpP50: r.latency.p50, httpP99: r.latency.p99, httpRequests: r.requests.total, httpFailed: r.non2xx + r.errors };
  } finally {
    await server.stop();
  }
}

async function measureLibrary(file: string, call: Call, cartIds: string[], buyer: string, seconds: number): Promise<Pick<HttpRow, 'libraryPerSecond' | 'libraryP50' | 'libraryP99' | 'libraryCalls' | 'libraryFailed'>> {
  const r = await runChild<HttpChildReply>(CHILD, ['library'], {
    env: { BENCH_STORAGE: file, BENCH_CALL: call, BENCH_CARTS: cartIds.join(','), BENCH_USER: buyer, BENCH_CONNECTIONS: String(CONNECTIONS), BENCH_SECONDS: String(seconds) },
  });
  if (r.type !== 'library') throw new Error(`unexpected message ${JSON.stringify(r)}`);
  return { libraryPerSecond: r.perSecond, libraryP50: r.p50, libraryP99: r.p99, libraryCalls: r.calls, libraryFailed: r.failed };
}

/** Measures both calls over HTTP and through the library. */
export async function benchHttp(opts: SectionOptions): Promise<SectionResult> {
  const seconds = opts.quick ? 3 : 8;
  const p = await prepare();
  const rows: HttpRow[] = [];
  try {
    for (const call of CALLS) {
      const httpFile = join(p.dir, `http-${call}.db`);
      const libFile = join(p.dir, `lib-${call}.db`);
      copyFileSync(p.file, httpFile);
      copyFileSync(p.file, libFile);
      const h = await measureHttp(httpFile, call, p.cartIds, seconds);
      const l = await measureLibrary(libFile, call, p.cartIds, p.buyer, seconds);
      rows.push({ call, ...h, ...l, ratio: h.httpPerSecond / l.libraryPerSecond });
      opts.log(`  ${call}: HTTP ${fx(h.httpPerSecond)}/s (p99 ${fx(h.httpP99)} ms), library ${fx(l.libraryPerSecond)}/s (p99 ${fx(l.libraryP99, 2)} ms)`);
    }
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
  const text = mdTable(
    ['call', 'HTTP calls/s', 'HTTP p50 ms', 'HTTP p99 ms', 'HTTP failed', 'library calls/s', 'library p50 ms', 'library p99 ms', 'library failed', 'HTTP ÷ library', 'target', ''],
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
  const checks: Check[] = rows.map((r) => ({ what: `${r.call}: HTTP calls/s ÷ library calls/s`, value: r.ratio, target: `≥ ${TARGET}`, ok: r.ratio >= TARGET && r.httpFailed === 0 && r.libraryFailed === 0 }));
  return { text, checks, data: { connections: CONNECTIONS, seconds, carts: CARTS, rows } };
}

if (isMain(import.meta.url)) {
  console.log(`machine: ${machineLine(machine())}`);
  const r = await benchHttp({ quick: process.argv.includes('--quick'), log: (l) => console.log(l) });
  console.log(`\nHTTP (autocannon, ${CONNECTIONS} connections) vs library\n${r.text}`);
}
