/**
 * One engine OS process for bench/scale.ts: opens a checkout engine on BENCH_STORAGE (worker on,
 * BENCH_CONCURRENCY operations at a time) and runs `engine.runCheckout` for every cart it is sent
 * over IPC. A checkout that throws is reported as failed with its message (it is a result to
 * count, not a crash); engine errors go to stderr only for the first few, then are counted.
 *
 * In:  { type: 'checkout', id, cartId, userId } | { type: 'cpu' } | { type: 'close' }
 * Out: { type: 'ready' } | { type: 'done', id, status, errors, cartToOrderMs } | { type: 'cpu', ms } | { type: 'closed', engineErrors }
 */
import { createCheckoutEngine } from '../src/engine/engine.js';

/** A request from bench/scale.ts. */
export type CheckoutRequest = { type: 'checkout'; id: number; cartId: string; userId: string } | { type: 'cpu' } | { type: 'close' };

/** A message to bench/scale.ts. */
export type CheckoutReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; status: string; errors: string[]; cartToOrderMs: number | null }
  /** CPU time (user + system) this process has used so far, in ms. */
  | { type: 'cpu'; ms: number }
  | { type: 'closed'; engineErrors: number };

const send = (m: CheckoutReply) => process.send?.(m);
let engineErrors = 0;
const engine = await createCheckoutEngine({
  storage: process.env.BENCH_STORAGE!,
  workerConcurrency: Number(process.env.BENCH_CONCURRENCY ?? 4),
  onError: (e) => {
    if (++engineErrors <= 3) console.error(`[engine ${process.pid}] ${e instanceof Error ? e.message : String(e)}`);
  },
});

process.on('message', (m: CheckoutRequest) => {
  if (m.type === 'cpu') {
    const u = process.cpuUsage();
    send({ type: 'cpu', ms: (u.user + u.system) / 1000 });
    return;
  }
  if (m.type === 'close') {
    void engine.close().then(() => {
      send({ type: 'closed', engineErrors });
      process.exit(0);
    });
    return;
  }
  engine.runCheckout(m.cartId, { userId: m.userId }).then(
    (run) => {
      const step = run.trajectory.find((t) => t.state === 'cartToOrder');
      send({ type: 'done', id: m.id, status: run.status, errors: run.errors ?? [], cartToOrderMs: step ? step.durationMs : null });
    },
    (e: unknown) =>
      send({ type: 'done', id: m.id, status: 'threw', errors: [e instanceof Error ? e.message : String(e)], cartToOrderMs: null }),
  );
});
send({ type: 'ready' });
