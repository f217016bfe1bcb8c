/**
 * One engine process of the soak (scripts/soak.ts): an engine on SOAK_STORAGE behind the HTTP
 * server (`startServer`, as `checkout-engine serve` runs it) on a free loopback port. Started by
 * `child_process.fork` with `--import tsx` (or built once per vitest run: test/helpers/child-build.ts); the login throttle per client address is raised
 * because every soak buyer logs in from 127.0.0.1.
 *
 * Messages out: { type: 'ready', url } once listening; { type: 'closed', internalErrors, samples }
 * after a graceful close. Message in: { type: 'close' } (or SIGTERM, or the parent's IPC channel
 * closing): stop accepting, let in-flight requests and running operations finish, close the
 * engine, exit 0.
 */
import { createCheckoutEngine } from '../../src/engine/engine.js';
import { startServer } from '../../src/http/server.js';

/** A message to the parent. */
export type ServerMessage = { type: 'ready'; url: string; pid: number } | { type: 'closed'; internalErrors: number; samples: string[] };

const storage = process.env.SOAK_STORAGE;
if (!storage) throw new Error('SOAK_STORAGE is not set: the soak server needs a database location.');

let internalErrors = 0;
const samples: string[] = [];
const engine = await createCheckoutEngine({
  storage,
  workerConcurrency: Number(process.env.SOAK_WORKER_CONCURRENCY ?? 4),
  onError: (e) => {
    internalErrors++;
    if (samples.length < 20) samples.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  },
});
const server = await startServer(engine, {
  port: 0,
  host: '127.0.0.1',
  log: false,
  loginLimits: { perAddress: { max: 1_000_000, windowSeconds: 60 } },
});

let closing: Promise<void> | undefined;
const close = () =>
  (closing ??= server.close().then(
    () => {
      if (process.connected) {
        process.send?.({ type: 'closed', internalErrors, samples } satisfies ServerMessage);
        process.disconnect?.();
      }
      process.exitCode = 0;
    },
    (e: unknown) => {
      console.error(`[soak server ${process.pid}] close failed:`, e);
      process.exit(1);
    },
  ));

process.on('message', (m: { type?: string }) => {
  if (m?.type === 'close') void close();
});
process.on('SIGTERM', () => void close());
// The parent went away without asking (a test that timed out, a killed run): close, so no engine process outlives its soak.
process.on('disconnect', () => void close());
process.send?.({ type: 'ready', url: server.url, pid: process.pid } satisfies ServerMessage);
