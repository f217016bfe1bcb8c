/**
 * The Flow runtime and the Connect Checkout API vs the core actions they run (issue 22, item 4).
 * Target: each within 2× the same work done through the core actions directly (p50).
 *
 * - navigate: a durable flow interview (test/flows/fixtures/engine/good, Interview_Basics) started
 *   on a fresh demo cart outside the timing; timed: `engine.navigate(id, { action: 'NEXT' })` from
 *   the Welcome screen to the Ask_PO screen, which runs checkoutSessionAction (creating the
 *   cart's session) on the way. Direct: `engine.invoke('checkoutSessionAction', [{ cartId }])` on
 *   another fresh demo cart (the same session created).
 * - Connect PATCH + poll: the HTTP server in this process on a SQLite file, a Connect checkout
 *   started and polled to 200 outside the timing; timed: PATCH checkouts/{id} { deliveryMethodId }
 *   (202) and GET checkouts/{id} repeated at once until it answers 200, one request at a time, by
 *   two clients: node:http with a keep-alive Agent (the ratio checked: a plain standard client, so
 *   the client's own cost doesn't swamp the server's work) and the WHATWG `fetch` of Node (undici;
 *   reported beside it, the number this bench gave before). Direct: `setCheckoutDeliveryMethod` and `engine.calculateCart({ buyerActions:
 *   ['deliveryMethodSelected'] })` on the same cart as the buyer — the core actions the PATCH runs.
 *   The two sides alternate on that cart, each switching the method (Ground ↔ Express), so every
 *   run really changes the method and re-runs taxes.
 * The sides alternate run by run, their order rotating (so a shared machine's load hits all alike);
 * the first 10% of each are warm-up and dropped.
 *
 * Runs: 200 each (quick: 30; BENCH_FLOW_RUNS=N overrides), after untimed warm-up runs of every side:
 * navigate 200 on carts of their own (quick: 20; BENCH_FLOW_NAV_WARMUP=N), Connect 600 rounds
 * (quick: 60; BENCH_FLOW_WARMUP=N). V8 keeps speeding the HTTP side up for thousands of requests, so
 * without them the ratio measures warm-up more than steady state. Run alone:
 *   npx tsx bench/flow-connect.ts [--quick]   (bench/run.ts runs it as the `flow-connect` section)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCheckoutEngine, demo } from '../src/index.js';
import { startTestServer } from '../test/http/helpers.js';
import { GOOD, storeCode } from '../test/flows/interview-helpers.js';
import type { Around } from './checkout.js';
import {
  fx,
  inTurns,
  isMain,
  machine,
  machineLine,
  mark,
  mdTable,
  pct,
  type Check,
  type SectionOptions,
  type SectionResult,
} from './lib.js';

const TARGET = 2;

interface Pair {
  what: string;
  /** Connect: GETs per PATCH until the 200 (mean over the timed runs). */
  pollsPerRun?: number;
  runs: number;
  viaP50: number;
  viaP99: number;
  directP50: number;
  directP99: number;
  ratio: number;
}

const pair = (what: string, via: number[], direct: number[]): Pair => {
  const warm = Math.max(1, Math.floor(via.length / 10));
  const v = via.slice(warm);
  const d = direct.slice(warm);
  return {
    what,
    runs: v.length,
    viaP50: pct(v, 50),
    viaP99: pct(v, 99),
    directP50: pct(d, 50),
    directP99: pct(d, 99),
    ratio: pct(v, 50) / pct(d, 50),
  };
};

/** navigate of a screen step vs checkoutSessionAction directly. */
export async function benchNavigate(
  runs: number,
  dir: string,
  sides = { via: true, direct: true },
  around?: Around,
  /** Untimed runs of each side first (on carts and interviews of their own), so the timed ones see warm code. */
  warmup = 0,
): Promise<Pair> {
  const engine = await createCheckoutEngine({ storage: join(dir, 'flow.db'), flowSources: [GOOD], ...storeCode });
  try {
    const via: number[] = [];
    const direct: number[] = [];
    // Carts and interviews first (outside the timed loop).
    const prepared = [];
    for (let i = 0; i < warmup + runs; i++) {
      const a = await demo.newCart(engine, { lines: 2, groups: 1 });
      const b = await demo.newCart(engine, { lines: 2, groups: 1 });
      const as = { userId: a.buyerId };
      prepared.push({ b, as, iv: sides.via ? await engine.startInterview('Interview_Basics', { cartId: a.cartId }, as) : { id: '' } });
    }
    for (let i = 0; i < warmup + runs; i++) {
      if (i === warmup) {
        via.length = direct.length = 0;
        await around?.start();
      }
      const { b, as, iv } = prepared[i]!;
      const runVia = async () => {
        if (!sides.via) return;
        const t0 = performance.now();
        const next = await engine.navigate(iv.id, { action: 'NEXT' }, as);
        via.push(performance.now() - t0);
        if (next.screen?.name !== 'Ask_PO') throw new Error(`navigate reached ${next.status} ${next.screen?.name ?? ''}, not Ask_PO`);
      };
      const runDirect = async () => {
        if (!sides.direct) return;
        const t0 = performance.now();
        const [r] = await engine.invoke('checkoutSessionAction', [{ cartId: b.cartId }], as);
        direct.push(performance.now() - t0);
        if (!r?.isSuccess) throw new Error(`checkoutSessionAction failed: ${JSON.stringify(r?.errors)}`);
      };
      await inTurns(i, runVia, runDirect);
    }
    await around?.stop();
    return pair('navigate NEXT (screen → screen, runs checkoutSessionAction) vs checkoutSessionAction', via, direct);
  } finally {
    await engine.close();
  }
}

type Call = (method: string, path: string, o: { token: string; body?: unknown }) => Promise<{ status: number; body: any }>;

/** A JSON request over node:http with one keep-alive connection (what the test helper's `call` does with fetch). */
function httpClient(url: string): { call: Call; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const call: Call = (method, path, o) =>
    new Promise((done, fail) => {
      const headers: Record<string, string> = { authorization: `Bearer ${o.token}` };
      const body = o.body === undefined ? undefined : JSON.stringify(o.body);
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      const req = request(url + path, { method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            /* not JSON: keep the text */
          }
          done({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('error', fail);
      req.end(body);
    });
  return { call, close: () => agent.destroy() };
}

/**
 * Connect PATCH + poll vs setCheckoutDeliveryMethod + calculateCart directly. The Pair returned is
 * the node:http client's; with `sides.fetch`, `fetchPair` is the same measured with fetch (the
 * test helper's client), against the same direct runs.
 */
export async function benchConnect(
  runs: number,
  dir: string,
  sides: { via: boolean; direct: boolean; fetch?: boolean } = { via: true, direct: true },
  around?: Around,
  /** Untimed rounds of every side first (BENCH_FLOW_WARMUP overrides). */
  warmupRounds = 0,
): Promise<Pair & { fetchPair?: Pair }> {
  const t = await startTestServer(join(dir, 'connect.db'), { sessionState: '' });
  const http = httpClient(t.url);
  try {
    const token = await t.token();
    const base = `/services/data/v62.0/commerce/webstores/${t.ids.store}`;
    let gets = 0;
    const viaFetchCall: Call = (method, path, o) => t.call(method, path, o);
    const poll = async (id: string, call: Call = viaFetchCall) => {
      for (let n = 0; n < 10_000; n++) {
        gets++;
        const r = await call('GET', `${base}/checkouts/${id}`, { token });
        if (r.status !== 202) return r;
      }
      throw new Error(`checkout ${id} still 202`);
    };
    const start = await t.call('POST', `${base}/checkouts`, { token, body: { cartId: 'active' } });
    if (start.status !== 202) throw new Error(`starting a Connect checkout failed: ${start.status} ${JSON.stringify(start.body)}`);
    const id = String(start.body.checkoutId);
    const first = await poll(id);
    if (first.status !== 200) throw new Error(`the Connect checkout answered ${first.status}: ${JSON.stringify(first.body)}`);
    const methods = (first.body.deliveryGroups.items[0].availableDeliveryMethods as { id: string }[]).map((m) => m.id);
    if (methods.length < 2) throw new Error('the demo store offers fewer than two delivery methods');
    const cartId = t.ids.cart!;
    const buyer = t.ids.buyer!;
    const via: number[] = [];
    const viaFetch: number[] = [];
    const direct: number[] = [];
    let k = 0;
    const nextMethod = () => methods[k++ % 2]!;
    let httpGets = 0;
    const viaBy = (call: Call, into: number[]) => async () => {
      const m = nextMethod();
      const g = gets;
      const t0 = performance.now();
      const p = await call('PATCH', `${base}/checkouts/${id}`, { token, body: { deliveryMethodId: m } });
      if (p.status !== 202) throw new Error(`PATCH answered ${p.status}: ${JSON.stringify(p.body)}`);
      const got = await poll(id, call);
      into.push(performance.now() - t0);
      if (into === via) httpGets += gets - g;
      if (got.status !== 200 || got.body.deliveryGroups.items[0].selectedDeliveryMethod.id !== m)
        throw new Error(`after PATCH: ${got.status} ${JSON.stringify(got.body).slice(0, 300)}`);
    };
    const runVia = viaBy(http.call, via);
    const runViaFetch = viaBy(viaFetchCall, viaFetch);
    const runDirect = async () => {
      if (!sides.direct) return;
      const m = nextMethod();
      const t0 = performance.now();
      const [r] = await t.engine.invoke('setCheckoutDeliveryMethod', [{ cartId, deliveryMethodId: m }], { userId: buyer });
      if (!r?.isSuccess) throw new Error(`setCheckoutDeliveryMethod failed: ${JSON.stringify(r?.errors)}`);
      const c = await t.engine.calculateCart({ cartId, buyerActions: ['deliveryMethodSelected'], caller: { Id: buyer } });
      direct.push(performance.now() - t0);
      if (c.status !== 'Completed') throw new Error(`calculateCart ended ${c.status}`);
    };
    const turns = [sides.via ? runVia : null, sides.fetch && sides.via ? runViaFetch : null, sides.direct ? runDirect : null].filter(
      (f): f is () => Promise<void> => f !== null,
    );
    // Untimed rounds of every side first. The HTTP side runs much more code (Node's HTTP client and
    // server, Fastify, the logger, Connect) than the direct one, and V8 keeps speeding it up for
    // thousands of requests: without them the timed runs measure mostly that warm-up.
    const warmup = Number(process.env.BENCH_FLOW_WARMUP ?? warmupRounds);
    for (let i = 0; i < warmup; i++) for (let j = 0; j < turns.length; j++) await turns[(i + j) % turns.length]!();
    via.length = viaFetch.length = direct.length = 0;
    httpGets = 0;
    gets = 0;
    await around?.start();
    for (let i = 0; i < runs; i++) {
      // Each run takes every side once, the order rotating run by run.
      for (let j = 0; j < turns.length; j++) await turns[(i + j) % turns.length]!();
    }
    await around?.stop();
    const what = 'Connect PATCH deliveryMethodId + GET until 200 vs setCheckoutDeliveryMethod + calculateCart';
    return {
      ...pair(`${what} (node:http keep-alive client)`, via, direct),
      pollsPerRun: via.length ? httpGets / via.length : NaN,
      ...(sides.fetch && sides.via ? { fetchPair: pair(`${what} (fetch client, as before)`, viaFetch, direct) } : {}),
    };
  } finally {
    http.close();
    await t.close();
    await t.engine.close();
  }
}

/** The section: both pairs. */
export async function benchFlowConnect(opts: SectionOptions): Promise<SectionResult> {
  const runs = Number(process.env.BENCH_FLOW_RUNS ?? (opts.quick ? 30 : 200));
  // Untimed warm-up: navigate runs on carts of their own, Connect rounds of every side (a round of
  // the three Connect sides is ~10 ms, so 600 rounds are a few seconds).
  const navWarmup = Number(process.env.BENCH_FLOW_NAV_WARMUP ?? (opts.quick ? 20 : 200));
  const connectWarmup = opts.quick ? 60 : 600;
  const dir = mkdtempSync(join(tmpdir(), 'bench-flow-'));
  const rows: Pair[] = [];
  try {
    rows.push(await benchNavigate(runs, dir, undefined, undefined, navWarmup));
    opts.log(`  navigate: ${fx(rows[0]!.viaP50, 2)} ms vs ${fx(rows[0]!.directP50, 2)} ms direct`);
    const { fetchPair, ...connect } = await benchConnect(runs, dir, { via: true, direct: true, fetch: true }, undefined, connectWarmup);
    rows.push(connect);
    opts.log(`  Connect PATCH + poll: ${fx(rows[1]!.viaP50, 2)} ms vs ${fx(rows[1]!.directP50, 2)} ms direct (node:http client)`);
    if (fetchPair) {
      rows.push(fetchPair);
      opts.log(`  Connect PATCH + poll: ${fx(fetchPair.viaP50, 2)} ms vs ${fx(fetchPair.directP50, 2)} ms direct (fetch client)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The fetch row is reported, not checked: its client's own cost (Node's WHATWG fetch) is most of it.
  const text = mdTable(
    ['call', 'runs', 'via p50 ms', 'via p99 ms', 'direct p50 ms', 'direct p99 ms', 'ratio p50', 'target', ''],
    rows.map((r, i) => [
      r.what,
      String(r.runs),
      fx(r.viaP50, 2),
      fx(r.viaP99, 2),
      fx(r.directP50, 2),
      fx(r.directP99, 2),
      fx(r.ratio, 2),
      i === 2 ? '(shown)' : `≤ ${TARGET}`,
      i === 2 ? '' : mark(r.ratio <= TARGET),
    ]),
  );
  const checks: Check[] = [
    { what: 'flow navigate ÷ the core action directly (p50)', value: rows[0]!.ratio, target: `≤ ${TARGET}`, ok: rows[0]!.ratio <= TARGET },
    {
      what: 'Connect PATCH + poll (node:http client) ÷ the core actions directly (p50)',
      value: rows[1]!.ratio,
      target: `≤ ${TARGET}`,
      ok: rows[1]!.ratio <= TARGET,
    },
  ];
  const polls = rows[1]?.pollsPerRun;
  return {
    text: `${text}\n\nConnect: ${fx(polls ?? NaN, 1)} GETs per PATCH until the 200 (each GET is a full request: auth, reads, the checkout's JSON).`,
    checks,
    data: rows,
  };
}

if (isMain(import.meta.url)) {
  console.log(`machine: ${machineLine(machine())}`);
  const r = await benchFlowConnect({ quick: process.argv.includes('--quick'), log: (l) => console.log(l) });
  console.log(`\nFlow runtime and Connect API vs the core actions\n${r.text}`);
}
