/**
 * One engine process for the multi-process tests and the benchmark: creates a checkout engine on
 * ENGINE_STORAGE and serves invocations over the IPC channel of `child_process.fork`. Started with
 * `--import tsx` (or built once per vitest run: test/helpers/child-build.ts). Messages in: { type: 'invoke', id, action, inputs, userId } | { type: 'checkout',
 * id, cartId, userId } (engine.runCheckout) | { type: 'close' }.
 * Messages out: { type: 'ready' } | { type: 'result', id, ms, result } | { type: 'failed', id,
 * error } | { type: 'atCommit', operationId } (only with ENGINE_COMMIT_DELAY_MS, from the worker's
 * fault hook: an operation is claimed Running and about to commit — the moment a kill -9 hurts most).
 */
import { createCheckoutEngine } from '../../src/engine/engine.js';

/** A request from the parent. */
export type ChildRequest =
  | { type: 'invoke'; id: number; action: string; inputs: unknown[]; userId: string }
  | { type: 'checkout'; id: number; cartId: string; userId: string }
  | { type: 'close' };

/** A message to the parent. */
export type ChildMessage =
  | { type: 'ready'; pid: number }
  | { type: 'result'; id: number; ms: number; result: unknown }
  | { type: 'failed'; id: number; error: string }
  | { type: 'atCommit'; operationId: string };

const send = (m: ChildMessage) => process.send?.(m);
const delayMs = Number(process.env.ENGINE_COMMIT_DELAY_MS ?? 0);

const engine = await createCheckoutEngine({
  storage: process.env.ENGINE_STORAGE!,
  leaseMs: Number(process.env.ENGINE_LEASE_MS ?? 60_000),
  workerConcurrency: Number(process.env.ENGINE_CONCURRENCY ?? 4),
  onError: (e) => console.error(`[engine ${process.pid}]`, e),
  faults:
    delayMs > 0
      ? {
          beforeCommit: async (_step, operationId) => {
            send({ type: 'atCommit', operationId });
            await new Promise((r) => setTimeout(r, delayMs));
          },
        }
      : {},
});

process.on('message', (m: ChildRequest) => {
  if (m.type === 'close') {
    void engine.close().then(() => process.exit(0));
    return;
  }
  const started = performance.now();
  const work =
    m.type === 'checkout' ? engine.runCheckout(m.cartId, { userId: m.userId }) : engine.invoke(m.action, m.inputs, { userId: m.userId });
  work.then(
    (result) => send({ type: 'result', id: m.id, ms: performance.now() - started, result }),
    (e) => send({ type: 'failed', id: m.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
process.on('disconnect', () => void engine.close().then(() => process.exit(0)));
send({ type: 'ready', pid: process.pid });
