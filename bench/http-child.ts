/**
 * The engine side of bench/http.ts, in its own OS process so that the load generator never shares
 * its event loop. Opens a checkout engine on BENCH_STORAGE (a prepared SQLite file) and either
 *
 * - `server`: starts the HTTP server (src/http/server.ts) on a free port and reports its URL, then
 *   serves until the parent disconnects; or
 * - `library`: on each { type: 'run', seconds } message runs BENCH_CALL through the library with
 *   BENCH_CONNECTIONS calls in flight for that long and reports every call's latency.
 *
 * - `bare`: a bare Fastify server (no engine, no auth, no validation) whose routes — the same
 *   paths and methods as the engine's — answer a fixed object whose JSON is BENCH_BODY_BYTES bytes
 *   (the size of the engine's answer to the same call), serialized per reply by Fastify as the
 *   engine's answers are: the floor of an HTTP call on this machine.
 *
 * Diagnosis: BENCH_STUB=auth, engine or auth,engine makes the server answer the auth read and/or
 * the engine call (invokeAs, getRecordAs) with the promise of its first real answer, so a run can
 * split the server's CPU per request into the HTTP layer, the auth read and the engine call.
 *
 * Every mode also answers `{ type: 'cpu' }` with its CPU time so far (process.cpuUsage, µs), so
 * the parent can tell CPU per request from calls/s, and `{ type: 'profile', file }` by starting a
 * sampling CPU profile (node:inspector), then — on the next such message — writing it to `file`.
 *
 * The calls (BENCH_CALL): `checkoutSessionAction` — engine.invoke('checkoutSessionAction',
 * [{ cartId }]) (get-or-create: the session exists, so it is found), and `getRecord` —
 * engine.getRecord('WebCart', cartId) as the buyer; carts rotate through BENCH_CARTS.
 */
import Fastify from 'fastify';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createCheckoutEngine } from '../src/engine/engine.js';
import { startServer } from '../src/http/server.js';

/** What the child reports. */
export type HttpChildReply =
  | { type: 'listening'; url: string }
  | { type: 'ready' }
  | { type: 'slice'; latencies: number[]; failed: number; seconds: number }
  | { type: 'cpu'; micros: number }
  | { type: 'profiled' };

/** What a child is asked to do (`run` and `close`: the library child only). */
export type HttpChildRequest = { type: 'run'; seconds: number } | { type: 'close' } | { type: 'cpu' } | { type: 'profile'; file: string };

const send = (m: HttpChildReply) => process.send?.(m);

let profiler: Session | undefined;
/** Starts a CPU profile, or stops the running one and writes it to `file`. */
async function profile(file: string): Promise<void> {
  if (!profiler) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
    await profiler.post('Profiler.start');
  } else {
    const { profile: p } = await profiler.post('Profiler.stop');
    profiler.disconnect();
    profiler = undefined;
    writeFileSync(file, JSON.stringify(p));
  }
  send({ type: 'profiled' });
}
/** The messages every mode answers. */
process.on('message', (m: HttpChildRequest) => {
  if (m.type === 'cpu') {
    const u = process.cpuUsage();
    send({ type: 'cpu', micros: u.user + u.system });
  } else if (m.type === 'profile') void profile(m.file);
});
const mode = process.argv[2];
const engine = mode === 'bare' ? undefined! : await createCheckoutEngine({ storage: process.env.BENCH_STORAGE! });

if (mode === 'bare') {
  // An object whose JSON is exactly BENCH_BODY_BYTES bytes, {"p":"xxx…"}, serialized per reply as the
  // engine's routes' answers are (Fastify's default serializer: no response schema, JSON.stringify).
  const bytes = Math.max(8, Number(process.env.BENCH_BODY_BYTES ?? 100));
  const body = { p: 'x'.repeat(bytes - 8) };
  const app = Fastify({ logger: false });
  const answer = async () => body;
  app.post('/services/data/v64.0/actions/standard/checkoutSessionAction', answer);
  app.get('/services/data/v64.0/sobjects/WebCart/:id', answer);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  send({ type: 'listening', url });
  process.on('disconnect', () => void app.close().then(() => process.exit(0)));
} else if (mode === 'server') {
  // Diagnosis only (BENCH_STUB=auth,engine): the auth read and/or the engine call answered from a first real answer, to split the server's cost.
  const stub = new Set((process.env.BENCH_STUB ?? '').split(',').filter(Boolean));
  if (stub.size) {
    const realAuth = engine.authenticateCaller.bind(engine);
    const realInvoke = engine.invokeAs.bind(engine);
    const realGet = engine.getRecordAs.bind(engine);
    const firstOf = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => {
      let first: Promise<R> | undefined;
      return (...a: A) => (first ??= f(...a));
    };
    if (stub.has('auth')) engine.authenticateCaller = firstOf(realAuth);
    if (stub.has('engine')) {
      engine.invokeAs = firstOf(realInvoke);
      engine.getRecordAs = firstOf(realGet);
    }
  }
  const server = await startServer(engine, { port: 0, host: '127.0.0.1', log: false });
  send({ type: 'listening', url: server.url });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
} else if (mode === 'library') {
  const call = process.env.BENCH_CALL!;
  const carts = process.env.BENCH_CARTS!.split(',');
  const userId = process.env.BENCH_USER!;
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
  let n = 0;
  let failed = 0;
  const once = async (): Promise<void> => {
    const cartId = carts[n++ % carts.length]!;
    if (call === 'checkoutSessionAction') {
      const [r] = await engine.invoke('checkoutSessionAction', [{ cartId }], { userId });
      if (!r?.isSuccess) failed++;
    } else {
      const rec = await engine.getRecord('WebCart', cartId, { userId });
      if (rec.Id !== cartId) failed++;
    }
  };
  /** Runs the call with `connections` in flight for `seconds`; returns every call's latency. */
  const slice = async (seconds: number) => {
    failed = 0;
    const latencies: number[] = [];
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < end) {
          const s = performance.now();
          await once();
          latencies.push(performance.now() - s);
        }
      }),
    );
    return { latencies, failed, seconds: (performance.now() - t0) / 1000 };
  };
  process.on('message', (m: HttpChildRequest) => {
    if (m.type === 'close') void engine.close().then(() => process.exit(0));
    else if (m.type === 'run') void slice(m.seconds).then((r) => send({ type: 'slice', ...r }));
  });
  process.on('disconnect', () => void engine.close().then(() => process.exit(0)));
  send({ type: 'ready' });
} else {
  throw new Error(`bench/http-child.ts: mode must be server, bare or library, got ${mode}`);
}
