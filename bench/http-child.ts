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
 *   paths and methods as the engine's — answer a fixed JSON body of BENCH_BODY_BYTES bytes (the
 *   size of the engine's answer to the same call): the floor of an HTTP call on this machine.
 *
 * The calls (BENCH_CALL): `checkoutSessionAction` — engine.invoke('checkoutSessionAction',
 * [{ cartId }]) (get-or-create: the session exists, so it is found), and `getRecord` —
 * engine.getRecord('WebCart', cartId) as the buyer; carts rotate through BENCH_CARTS.
 */
import Fastify from 'fastify';
import { createCheckoutEngine } from '../src/engine/engine.js';
import { startServer } from '../src/http/server.js';

/** What the child reports. */
export type HttpChildReply =
  { type: 'listening'; url: string } | { type: 'ready' } | { type: 'slice'; latencies: number[]; failed: number; seconds: number };

/** What the library child is asked to do. */
export type HttpChildRequest = { type: 'run'; seconds: number } | { type: 'close' };

const send = (m: HttpChildReply) => process.send?.(m);
const mode = process.argv[2];
const engine = mode === 'bare' ? undefined! : await createCheckoutEngine({ storage: process.env.BENCH_STORAGE! });

if (mode === 'bare') {
  // A JSON body of exactly BENCH_BODY_BYTES bytes: {"p":"xxx…"}.
  const bytes = Math.max(8, Number(process.env.BENCH_BODY_BYTES ?? 100));
  const body = JSON.stringify({ p: 'x'.repeat(bytes - 8) });
  const app = Fastify({ logger: false });
  const answer = async (_req: unknown, reply: { type: (t: string) => unknown }) => {
    reply.type('application/json; charset=utf-8');
    return body;
  };
  app.post('/services/data/v64.0/actions/standard/checkoutSessionAction', answer);
  app.get('/services/data/v64.0/sobjects/WebCart/:id', answer);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  send({ type: 'listening', url });
  process.on('disconnect', () => void app.close().then(() => process.exit(0)));
} else if (mode === 'server') {
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
    else void slice(m.seconds).then((r) => send({ type: 'slice', ...r }));
  });
  process.on('disconnect', () => void engine.close().then(() => process.exit(0)));
  send({ type: 'ready' });
} else {
  throw new Error(`bench/http-child.ts: mode must be server, bare or library, got ${mode}`);
}
