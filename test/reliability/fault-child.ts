/**
 * One engine process of the process-fault harness (test/reliability/faults.ts), started with
 * `--import tsx` (or built once per vitest run: test/helpers/child-build.ts) and killed with SIGKILL by its parent at a point of the seeded schedule.
 *
 * It loads its modules and says `loaded`; on `open` it opens the engine on FAULT_STORAGE
 * (recovering what an earlier, killed process left New or Running), says `ready`, then works off
 * the carts the parent sends: FAULT_CONCURRENCY checkouts in flight, each `engine.runCheckout` as the buyer (resumable: it continues from the stored State).
 * An "async" cart first has its inventory and cartToOrder steps started with runAsync:true (the
 * operation goes through the queue: pg-boss on PostgreSQL, the in-process queue on SQLite) and
 * runCheckout then waits for that operation and continues.
 *
 * Environment: FAULT_STORAGE, FAULT_LEASE_MS (PostgreSQL lease), FAULT_CONCURRENCY,
 * FAULT_STALL = `inside:K` | `before:K` — stall (forever) at the K-th step commit of this process,
 * inside the commit transaction or just before it, after telling the parent, which kills it there.
 *
 * Messages in: { type: 'open' } | { type: 'work', userId, carts: { cartId, async }[] } | { type: 'close' }.
 * Messages out: loaded | ready | begin (a checkout starts) | call (one per completed engine call) | stalled | done (a checkout ended) |
 * failed (a checkout threw) | finished (every cart sent was worked off) | closed.
 * A process entry point only: importing it would wait for an `open` message (import its types only).
 */
import { createCheckoutEngine, type CheckoutEngine } from '../../src/engine/engine.js';
import { FAULT_ANSWERS } from './faults.js';

/** A cart to check out; `async` carts start two of their steps with runAsync:true. */
export interface FaultCart {
  cartId: string;
  async: boolean;
}

/** A request from the parent. */
export type FaultRequest = { type: 'open' } | { type: 'work'; userId: string; carts: FaultCart[] } | { type: 'close' };

/** A message to the parent. */
export type FaultMessage =
  | { type: 'loaded' }
  | { type: 'ready'; pid: number; openAtStart: number }
  | { type: 'begin'; cartId: string }
  | { type: 'call' }
  | { type: 'stalled'; step: string; operationId: string; where: 'inside' | 'before' }
  | { type: 'done'; cartId: string; status: string; state: string; orderId: string | null; errors: string[] }
  | { type: 'failed'; cartId: string; error: string }
  | { type: 'finished' }
  | { type: 'closed' };

const send = (m: FaultMessage) => process.send?.(m);
const [stallWhere, stallAt] = (process.env.FAULT_STALL ?? '').split(':') as ['inside' | 'before' | '', string | undefined];
let commits = 0;
const stall = (where: 'inside' | 'before') => async (step: string, operationId: string) => {
  if (stallWhere !== where || ++commits !== Number(stallAt)) return;
  send({ type: 'stalled', step, operationId, where });
  await new Promise(() => {}); // the parent kills us here
};

// Loaded: the parent forks the next process while the current one works, and lets it open the
// engine (recovery included) only once the current one is dead.
send({ type: 'loaded' });
await new Promise<void>((resolve) => {
  const opening = (m: FaultRequest) => {
    if (m.type !== 'open') return;
    process.off('message', opening);
    resolve();
  };
  process.on('message', opening);
});

const engine = await createCheckoutEngine({
  storage: process.env.FAULT_STORAGE!,
  leaseMs: Number(process.env.FAULT_LEASE_MS ?? 60_000),
  workerConcurrency: 4,
  onError: (e) => console.error(`[fault-child ${process.pid}]`, e),
  faults: { insideCommit: stall('inside'), beforeCommit: stall('before') },
});
/** Operations left New or Running by killed processes, as this one starts (its recovery queued them). */
const openAtStart = await engine.admin.count('BackgroundOperation', [{ field: 'Status', op: 'in', value: ['New', 'Running'] }]);

// Count every completed call the runner makes (the parent's "after K calls" trigger).
for (const name of ['invoke', 'updateRecord'] as const) {
  const original = engine[name].bind(engine) as (...args: unknown[]) => Promise<unknown>;
  (engine as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
    const r = await original(...args);
    send({ type: 'call' });
    return r;
  };
}

/** Starts the step after `state` with runAsync:true when the session rests at `state`; returns whether it did. */
async function startAsync(e: CheckoutEngine, cartId: string, userId: string, state: string, action: string): Promise<boolean> {
  const [s] = await e.admin.find('CartCheckoutSession', {
    where: [{ field: 'WebCartId', op: '=', value: cartId }],
    orderBy: [{ field: 'CreatedDate', direction: 'desc' }],
    limit: 1,
  });
  if (!s || s.IsArchived === true || s.State !== state || s.IsProcessing === true || s.IsError === true) return false;
  const { flow } = e.core.flow(s._flow as string);
  const next = flow.byAction.get(action)?.key;
  if (!next || flow.next.get(state)?.[0] !== next) return false;
  const [claim] = await e.invoke(
    'updateCheckoutSessionStateAction',
    [{ checkoutSessionId: String(s.Id), expCurrentState: state, nextState: next }],
    { userId },
  );
  if (!claim!.isSuccess) return false; // moved under us: runCheckout routes from whatever is stored
  const [r] = await e.invoke(action, [{ cartId, runAsync: true }], { userId });
  return r!.isSuccess;
}

async function checkout(cart: FaultCart, userId: string): Promise<void> {
  const run = (stopAt?: string) => engine.runCheckout(cart.cartId, { userId, answers: FAULT_ANSWERS, ...(stopAt ? { stopAt } : {}) });
  send({ type: 'begin', cartId: cart.cartId });
  try {
    if (cart.async) {
      // Start → inventory and checkoutSummary → cartToOrder go through the queue; the runner waits for them.
      await run('start');
      await startAsync(engine, cart.cartId, userId, 'start', 'checkCartInventoryAction');
      await run('checkoutSummary');
      await startAsync(engine, cart.cartId, userId, 'checkoutSummary', 'cartToOrderAction');
    }
    const r = await run();
    send({ type: 'done', cartId: cart.cartId, status: r.status, state: r.state, orderId: r.orderId, errors: r.errors });
  } catch (e) {
    send({ type: 'failed', cartId: cart.cartId, error: e instanceof Error ? e.message : String(e) });
  }
}

process.on('message', (m: FaultRequest) => {
  if (m.type === 'open') return;
  if (m.type === 'close') {
    void engine
      .whenIdle()
      .then(() => engine.close())
      .then(() => {
        send({ type: 'closed' });
        process.exit(0);
      });
    return;
  }
  const queue = [...m.carts];
  const lanes = Math.max(1, Number(process.env.FAULT_CONCURRENCY ?? 6));
  void Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) await checkout(c, m.userId);
    }),
  ).then(() => send({ type: 'finished' }));
});
process.on('disconnect', () => process.exit(1));
send({ type: 'ready', pid: process.pid, openAtStart });
