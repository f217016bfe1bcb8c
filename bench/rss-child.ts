/**
 * The measured process of bench/rss.ts (started with --expose-gc): opens a checkout engine on the
 * prepared SQLite file BENCH_STORAGE, creates one checkout session per cart with
 * `checkoutSessionAction` (BENCH_WARMUP carts first, then BENCH_COUNT more; BENCH_IN_FLIGHT calls at
 * a time), and reports RSS and
 * heap after a forced GC at the baseline (after the warm-up) and every BENCH_SAMPLE sessions.
 */
import Database from 'better-sqlite3';
import { createCheckoutEngine } from '../src/engine/engine.js';

/** A memory reading. */
export interface MemorySample {
  sessions: number;
  rssMB: number;
  heapUsedMB: number;
  seconds: number;
}

/** What the child reports. */
export interface RssReply {
  samples: MemorySample[];
  gc: boolean;
  failed: number;
  firstError: string | null;
}

const file = process.env.BENCH_STORAGE!;
const warmup = Number(process.env.BENCH_WARMUP ?? 1000);
const count = Number(process.env.BENCH_COUNT ?? 100_000);
const every = Number(process.env.BENCH_SAMPLE ?? 10_000);
const userId = process.env.BENCH_USER!;
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 1);

// The cart ids (read once; the list itself is part of the baseline).
const db = new Database(file, { readonly: true });
const cartIds = (db.prepare('select "Id" from "WebCart" order by rowid').all() as { Id: string }[]).map((r) => r.Id);
db.close();
if (cartIds.length < warmup + count) throw new Error(`bench/rss-child.ts: ${cartIds.length} carts, need ${warmup + count}`);

const gc = (globalThis as { gc?: () => void }).gc;
const engine = await createCheckoutEngine({ storage: file });
const started = performance.now();
const read = (sessions: number): MemorySample => {
  gc?.();
  const m = process.memoryUsage();
  return { sessions, rssMB: m.rss / 2 ** 20, heapUsedMB: m.heapUsed / 2 ** 20, seconds: (performance.now() - started) / 1000 };
};
let failed = 0;
let firstError: string | null = null;
const create = async (cartId: string) => {
  const [r] = await engine.invoke('checkoutSessionAction', [{ cartId }], { userId });
  if (!r?.isSuccess) {
    failed++;
    firstError ??= JSON.stringify(r?.errors);
  }
};
/** Creates sessions for carts [from, to) with `inFlight` calls at a time. */
const createAll = async (from: number, to: number) => {
  let next = from;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < to) await create(cartIds[next++]!);
    }),
  );
};
await createAll(0, warmup);
const samples: MemorySample[] = [read(0)];
for (let done = 0; done < count;) {
  const step = Math.min(every, count - done);
  await createAll(warmup + done, warmup + done + step);
  done += step;
  samples.push(read(done));
}
await engine.close();
process.send?.({ samples, gc: Boolean(gc), failed, firstError } satisfies RssReply);
