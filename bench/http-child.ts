/**
 * The engine side of bench/http.ts, in its own OS process so that the load generator never shares
 * its event loop. Opens a checkout engine on BENCH_STORAGE (a prepared SQLite file) and either
 *
 * - `server`: starts the HTTP server (src/http/server.ts) on a free port and reports its URL, then
 *   serves until the parent disconnects; or
 * - `library`: runs BENCH_CALL through the library with BENCH_CONNECTIONS calls in flight for
 *   BENCH_SECONDS and reports calls/s and latency percentiles.
 *
 * The calls (BENCH_CALL): `checkoutSessionAction` — engine.invoke('checkoutSessionAction',
 * [{ cartId }]) (get-or-create: the session exists, so it is found), and `getRecord` —
 * engine.getRecord('WebCart', cartId) as the buyer; carts rotate through BENCH_CARTS.
 */
import { createCheckoutEngine } from '../src/engine/engine.js';
import { startServer } from '../src/http/server.js';
import { pct } from './lib.js';

/** What the child reports. */
export type HttpChildReply =
  | { type: 'listening'; url: string }
  | { type: 'library'; calls: number; failed: number; seconds: number; perSecond: number; p50: number; p99: number };

const send = (m: HttpChildReply) => process.send?.(m);
const mode = process.argv[2];
const engine = await createCheckoutEngine({ storage: process.env.BENCH_STORAGE! });

if (mode === 'server') {
  const server = await startServer(engine, { port: 0, host: '127.0.0.1', log: false });
  send({ type: 'listening', url: server.url });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
} else if (mode === 'library') {
  const call = process.env.BENCH_CALL!;
  const carts = process.env.BENCH_CARTS!.split(',');
  const userId = process.env.BENCH_USER!;
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
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
  // Warm-up (not counted), as autocannon's first second is on the HTTP side.
  const warmEnd = performance.now() + 1000;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < warmEnd) await once();
  }));
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
  const took = (performance.now() - t0) / 1000;
  await engine.close();
  send({ type: 'library', calls: latencies.length, failed, seconds: took, perSecond: latencies.length / took, p50: pct(latencies, 50), p99: pct(latencies, 99) });
} else {
  throw new Error(`bench/http-child.ts: mode must be server or library, got ${mode}`);
}
