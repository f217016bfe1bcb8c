/**
 * Where the time goes (issue 22): a CPU profile (node:inspector's sampling Profiler, in this
 * process) of each side of the floor comparisons, summarised as self time grouped by module, and
 * written into bench/RESULTS.md between the `profile:start` / `profile:end` markers.
 *
 * Profiles (each side alone, so its samples are its own):
 *   checkout: engine   — engine.runCheckout of N demo carts (bench/checkout.ts, engine side only)
 *   checkout: floor    — the floor's checkouts of N carts (bench/checkout-floor.ts)
 *   navigate: flow / direct, Connect: PATCH + poll / direct (bench/flow-connect.ts, one side each)
 *   http: server + client — the HTTP server and autocannon in this process, checkoutSessionAction
 *     (autocannon's own frames are their own group, so the server's share can be read off)
 * Groups: a frame's file — src/<folder>, bench/<file>, node_modules/<package>, node: internals —
 * or, for frames without one, the native function (better-sqlite3's run/all/get are SQLite
 * itself), the garbage collector, (program) (the VM outside JS) and (idle).
 *
 * Run: npx tsx bench/profile.ts [--quick] [--no-write]   (BENCH_PROFILE_RUNS=N sets the runs)
 */
import autocannon from 'autocannon';
import { Session } from 'node:inspector/promises';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCheckoutEngine } from '../src/engine/engine.js';
import { startServer } from '../src/http/server.js';
import { demoFixture } from '../src/demo/fixture.js';
import { moreCarts } from './cart-to-order.js';
import { timeCheckouts } from './checkout.js';
import { benchConnect, benchNavigate } from './flow-connect.js';
import { fx, isMain, machine, machineLine, mdTable } from './lib.js';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The group a frame's self time counts under. */
export function groupOf(frame: Node['callFrame']): string {
  const url = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  if (!url) {
    const n = frame.functionName;
    if (n.startsWith('(')) return n;
    if (['run', 'all', 'get', 'iterate', 'prepare', 'exec', 'transaction'].includes(n)) return `SQLite (native ${n})`;
    return `native: ${n || '(anonymous)'}`;
  }
  if (url.startsWith('node:')) return 'node: internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return `node_modules/${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const rel = url.startsWith(ROOT) ? url.slice(ROOT.length) : url;
  const parts = rel.split('/');
  if (parts[0] === 'src') return parts.length > 2 ? `src/${parts[1]}` : rel;
  if (parts[0] === 'bench') return rel;
  return rel;
}

/** Self time (ms) per group and per function, from a profile. */
export function summarise(p: Profile): { total: number; groups: [string, number][]; functions: [string, number][] } {
  const ms = (p.endTime - p.startTime) / 1000;
  const hits = p.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0) || 1;
  const per = ms / hits;
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const n of p.nodes) {
    const t = (n.hitCount ?? 0) * per;
    if (!t) continue;
    const g = groupOf(n.callFrame);
    groups.set(g, (groups.get(g) ?? 0) + t);
    const url = n.callFrame.url.startsWith('file://') ? fileURLToPath(n.callFrame.url) : n.callFrame.url;
    // The file, not the line: tsx runs transformed code, so V8's line numbers aren't the source's.
    const where =
      url && !g.startsWith('node_modules') && !g.startsWith('node:') ? (url.startsWith(ROOT) ? url.slice(ROOT.length) : url) : g;
    const f = g.startsWith('(') || g.startsWith('SQLite') ? g : `${n.callFrame.functionName || '(anonymous)'} (${where})`;
    functions.set(f, (functions.get(f) ?? 0) + t);
  }
  const sort = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return { total: ms, groups: sort(groups), functions: sort(functions) };
}

/** A profiler session started and stopped around the timed part of a run (`Around`); `take()` hands the profile over. */
function profilerAround(session: Session) {
  let profile: Profile | undefined;
  return {
    async start() {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 250 });
      await session.post('Profiler.start');
    },
    async stop() {
      profile = ((await session.post('Profiler.stop')) as unknown as { profile: Profile }).profile;
      await session.post('Profiler.disable');
    },
    take(): Profile {
      if (!profile) throw new Error('the run ended before its profile was taken');
      return profile;
    },
  };
}

/** HTTP: the server and autocannon in this process, checkoutSessionAction for `seconds`. */
async function httpLoad(dir: string, seconds: number): Promise<() => Promise<void>> {
  const file = join(dir, 'http.db');
  const seeder = await createCheckoutEngine({ storage: file, worker: false, recover: false });
  const base = demoFixture({ lines: 3 });
  for (const k of ['WebCart', 'CartDeliveryGroup', 'CartItem', 'CartTax', 'CartCheckoutSession']) delete base[k];
  const ids = await seeder.seed(base);
  const h = await seeder.seed(moreCarts(20, 3, 0));
  const carts = Array.from({ length: 20 }, (_, c) => h[`c${c}_cart`]!);
  for (const cartId of carts) await seeder.invoke('checkoutSessionAction', [{ cartId }], { userId: ids.buyer! });
  await seeder.close();
  copyFileSync(file, join(dir, 'http2.db'));
  const engine = await createCheckoutEngine({ storage: join(dir, 'http2.db') });
  const server = await startServer(engine, { port: 0, host: '127.0.0.1', log: false });
  const res = await fetch(`${server.url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: 'buyer@acme.example', password: 'demo-password-1' }).toString(),
  });
  const token = ((await res.json()) as { access_token: string }).access_token;
  const run = async (duration: number) => {
    let n = 0;
    await autocannon({
      url: server.url,
      connections: 10,
      duration,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      requests: [
        {
          method: 'POST',
          path: '/services/data/v64.0/actions/standard/checkoutSessionAction',
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ inputs: [{ cartId: carts[n++ % carts.length] }] }) }),
        },
      ],
    });
  };
  await run(1); // warm-up
  return async () => {
    try {
      await run(seconds);
    } finally {
      await server.close();
      await engine.close();
    }
  };
}

const BEGIN = '<!-- profile:start -->';
const END = '<!-- profile:end -->';

/** Runs every profile and returns the markdown. */
export async function profileAll(opts: { quick: boolean; log: (l: string) => void }): Promise<string> {
  const runs = Number(process.env.BENCH_PROFILE_RUNS ?? (opts.quick ? 20 : 150));
  const session = new Session();
  session.connect();
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
  const out: string[] = [];
  const started = machine();
  try {
    type A = ReturnType<typeof profilerAround>;
    const cases: [string, (a: A) => Promise<unknown>][] = [
      ['checkout: engine.runCheckout', (a) => timeCheckouts(runs, { engine: true, floor: false }, a)],
      ['checkout: the floor', (a) => timeCheckouts(runs, { engine: false, floor: true }, a)],
      ['navigate: flow interview NEXT', (a) => benchNavigate(runs, mkdtempSync(join(dir, 'n')), { via: true, direct: false }, a)],
      [
        'navigate: checkoutSessionAction directly',
        (a) => benchNavigate(runs, mkdtempSync(join(dir, 'd')), { via: false, direct: true }, a),
      ],
      ['Connect: PATCH + poll over HTTP', (a) => benchConnect(runs, mkdtempSync(join(dir, 'c')), { via: true, direct: false }, a)],
      [
        'Connect: setCheckoutDeliveryMethod + calculateCart',
        (a) => benchConnect(runs, mkdtempSync(join(dir, 'e')), { via: false, direct: true }, a),
      ],
    ];
    for (const [name, fn] of cases) {
      const a = profilerAround(session);
      await fn(a);
      out.push(section(name, a.take(), `${runs} runs, the timed loop only`));
      opts.log(`  profiled ${name}`);
    }
    const http = await httpLoad(dir, opts.quick ? 3 : 10);
    const a = profilerAround(session);
    await a.start();
    await http();
    await a.stop();
    const p = a.take();
    out.push(
      section('http: server + autocannon in one process (checkoutSessionAction)', p, `${opts.quick ? 3 : 10} s under 10 connections`),
    );
    opts.log('  profiled http');
  } finally {
    session.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    `Written by \`npx tsx bench/profile.ts${opts.quick ? ' --quick' : ''}\` on ${machineLine(started)}.`,
    'Self time by group (a frame\'s module; "SQLite (native …)" is better-sqlite3\'s statement calls, i.e. SQLite itself; "(idle)" is the event loop waiting — on timers, I/O or another process); each side profiled alone, the timed loop only.',
    '',
    ...out,
  ].join('\n');
}

function section(name: string, p: Profile, note: string): string {
  const s = summarise(p);
  const top = (xs: [string, number][], n: number) => xs.slice(0, n).map(([k, v]) => [k, fx(v, 0), `${fx((v / s.total) * 100, 1)}%`]);
  return [
    `#### ${name}`,
    '',
    `${fx(s.total / 1000, 1)} s profiled (${note}).`,
    '',
    mdTable(['group', 'self ms', 'share'], top(s.groups, 12)),
    '',
    mdTable(['function (top self time)', 'self ms', 'share'], top(s.functions, 10)),
    '',
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const md = await profileAll({ quick, log: (l) => console.log(l) });
  console.log(md);
  if (!process.argv.includes('--no-write')) {
    const file = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
    const text = readFileSync(file, 'utf8');
    const a = text.indexOf(BEGIN);
    const b = text.indexOf(END);
    if (a < 0 || b < a) throw new Error(`bench/RESULTS.md has no ${BEGIN} … ${END} block to write into`);
    writeFileSync(file, `${text.slice(0, a + BEGIN.length)}\n${md}\n${text.slice(b)}`);
    console.log(`written into ${file}`);
  }
}
