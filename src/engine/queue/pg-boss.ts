/**
 * The PostgreSQL queue: every engine process that shares a database also shares one pg-boss queue
 * (in its own schema next to the engine's tables), so an operation queued by one process may be
 * run by a worker in any of them.
 *
 * Losing a worker (kill -9) is covered twice:
 *  - pg-boss: a job that stays active longer than its expiration (the lease) is failed by pg-boss
 *    maintenance and retried, so another process fetches it;
 *  - the lease sweep: every process periodically looks for operations that are New or Running
 *    with an expired `_leaseUntil` — an operation run synchronously by a caller that died has no
 *    job at all, nor does one whose action crashed between its commit and the send — stamps a new
 *    lease on it with a compare-and-set (so exactly one sweeper wins) and sends a job carrying
 *    that lease as its token.
 * Either way the new worker's claim fences out the dead one, and the commit stays atomic and keyed
 * by the session, so the result is still exactly one Order.
 *
 * Waiting out a whole lease after a crash is needless when PostgreSQL itself knows the owner is
 * gone: each process holds a session-level advisory lock (its owner key, written into every lease
 * it takes) on a connection of its own. PostgreSQL drops that lock when the process dies, so a
 * lease whose owner's lock can be taken belongs to a dead process and is taken over at once; a
 * live but stalled owner keeps its lease until it expires.
 *
 * Nobody sleeps on a poll to learn about work: each process LISTENs on a channel of its schema
 * (src/engine/queue/wake.ts) and NOTIFYs it when it queues an operation (an idle worker of every
 * listening process fetches at once) and when it finishes one (a waiter in any process re-reads at
 * once). Notifications are hints; pg-boss's polling and the waiters' re-reads stay as a slower
 * fallback (`pollMs`), so a lost notification or a lost listener costs latency, never correctness.
 */
import pg from 'pg';
import PgBoss from 'pg-boss';
import type { QueueConnection, Storage } from '../../storage/port.js';
import { formatLease, parseLease, type OperationQueue, type OperationRunner } from './types.js';
import { bossSchemaFor, OPERATION_JOB, PG_POLL_MS } from './names.js';

export { bossSchemaFor, OPERATION_JOB, PG_POLL_MS } from './names.js';
import { PgNotifier, Wakeups, wakeChannelFor, type NoticeKind, type OperationWatch, type WakeStats } from './wake.js';

/** pg-boss's shortest polling interval, used while no notifications can arrive. */
const FAST_POLL_MS = 500;

/** Advisory-lock namespace (first key) of engine owner locks. */
const OWNER_LOCK_NS = 727275;

/** How to reach the database the engine stores to (the storage adapter's `queueConnection()`). */
export type { QueueConnection };

/** Options of the pg-boss queue. */
export interface PgBossQueueOptions {
  connection: QueueConnection;
  /** Operations this process runs at once (one pg-boss worker each). */
  concurrency: number;
  /** Lease length (ms): how long a claimed operation belongs to its worker. */
  leaseMs: number;
  /** false: send jobs but run none here (an API-only process). */
  work: boolean;
  onError: (err: unknown) => void;
  /** LISTEN/NOTIFY wake-ups between processes (default true); false: poll only. */
  notify?: boolean;
  /** Fallback poll (ms) while notifications flow (default 1000; at least 500, pg-boss's minimum). */
  pollMs?: number;
}

interface OperationJob {
  operationId: string;
  /** The lease the sweeper stamped when it sent this job (a takeover token). */
  lease?: string | null;
}

/** A pg-boss backed queue shared by every engine process on one PostgreSQL schema. */
export class PgBossQueue implements OperationQueue {
  readonly kind = 'pg-boss' as const;
  readonly shared = true;
  owner: string | null = null;
  private ownerClient?: pg.Client;
  private readonly boss: PgBoss;
  private readonly workerIds: string[] = [];
  private runner?: OperationRunner;
  private sweepTimer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  private stopped = false;
  /** Operations this process queued and has not yet seen finish (what `idle()` waits for). */
  private readonly pending = new Set<string>();
  /** pg-boss workers of this process not inside a job right now. */
  private readonly idleWorkers = new Set<string>();
  private readonly wakes: Wakeups;
  private readonly notifier?: PgNotifier;
  private readonly pollMs: number;
  private nudgeTimer?: NodeJS.Timeout;

  constructor(
    private readonly storage: Storage,
    private readonly opts: PgBossQueueOptions,
  ) {
    const leaseSeconds = Math.max(1, Math.ceil(opts.leaseMs / 1000));
    this.boss = new PgBoss({
      connectionString: opts.connection.connectionString,
      schema: bossSchemaFor(opts.connection.schema),
      max: Math.max(2, Math.min(opts.concurrency + 1, 5)),
      application_name: 'checkout-engine-queue',
      // Expired jobs are found by maintenance; run it about as often as a lease lasts.
      maintenanceIntervalSeconds: Math.min(60, leaseSeconds),
      schedule: false,
      migrate: true,
    });
    this.boss.on('error', (e) => opts.onError(e));
    this.pollMs = Math.max(FAST_POLL_MS, opts.pollMs ?? PG_POLL_MS);
    // While notifications flow, a waiter re-reads at the fallback poll; without them, it polls as
    // fast as before notifications existed (20 ms doubling to 250 ms).
    this.wakes = new Wakeups((attempt) => (this.notifier?.listening ? this.pollMs : Math.min(250, 20 * 2 ** attempt)));
    if (opts.notify !== false) {
      this.notifier = new PgNotifier({
        connectionString: opts.connection.connectionString,
        channel: wakeChannelFor(opts.connection.schema),
        onNotice: (kind, id) => this.onNotice(kind, id),
        onReconnect: () => {
          // Notifications sent while we were gone are lost: re-check everything once.
          this.wakes.fireAll('poll');
          this.nudgeWorkers(true);
        },
        onError: (e) => opts.onError(e),
      });
    }
  }

  watch(ids: Iterable<string>): OperationWatch {
    return this.wakes.watch(ids);
  }

  finished(id: string): void {
    this.pending.delete(id);
    this.wakes.fire(id, 'local');
    this.notifier?.send('f', id);
  }

  stats(): WakeStats {
    const n = this.notifier;
    return {
      ...this.wakes.counts,
      sent: n?.sent ?? 0,
      received: n?.received ?? 0,
      reconnects: n?.reconnects ?? 0,
      listening: n?.listening ?? false,
    };
  }

  /** @internal the listener's server process id (null while disconnected), for tests. */
  get listenerPid(): number | null {
    return this.notifier?.backendPid ?? null;
  }

  private readonly sessionListeners: ((payload: string) => void)[] = [];
  get sessionEvents() {
    if (!this.notifier) return undefined;
    return {
      publish: (payload: string) => this.notifier?.send('s', payload),
      subscribe: (listener: (payload: string) => void) => void this.sessionListeners.push(listener),
    };
  }

  private onNotice(kind: NoticeKind, id: string): void {
    if (kind === 's') for (const l of this.sessionListeners) l(id);
    else if (kind === 'f') this.wakes.fire(id, 'notify');
    else this.nudgeWorkers(false);
  }

  /** Makes an idle local worker fetch now (every worker with `all`). */
  private nudgeWorkers(all: boolean): void {
    if (this.stopped || !this.workerIds.length) return;
    if (all) {
      for (const w of this.workerIds) this.boss.notifyWorker(w);
      return;
    }
    const idle = this.idleWorkers.values().next();
    // All busy: each fetches again as soon as its job ends (see the handler).
    if (!idle.done) this.boss.notifyWorker(idle.value);
  }

  async start(runner: OperationRunner): Promise<void> {
    this.runner = runner;
    await this.takeOwnerLock();
    try {
      await this.notifier?.start();
      await this.startBoss(runner);
    } catch (e) {
      this.stopped = true;
      if (this.sweepTimer) clearInterval(this.sweepTimer);
      await this.boss.stop({ graceful: false, wait: true }).catch(() => {});
      await this.ownerClient?.end().catch(() => {});
      await this.notifier?.close();
      throw e;
    }
  }

  private async startBoss(runner: OperationRunner): Promise<void> {
    await this.boss.start();
    const leaseSeconds = Math.max(1, Math.ceil(this.opts.leaseMs / 1000));
    await this.boss.createQueue(OPERATION_JOB, {
      name: OPERATION_JOB,
      policy: 'standard',
      // A job outlives a dead worker by its lease, then pg-boss retries it elsewhere.
      expireInSeconds: leaseSeconds,
      retryLimit: 20,
      retryDelay: 1,
      retryBackoff: true,
      retentionMinutes: 60,
    });
    const every = Math.max(250, Math.min(5_000, Math.floor(this.opts.leaseMs / 2)));
    this.sweepTimer = setInterval(() => {
      if (!this.sweeping) {
        this.sweeping = this.sweep(false)
          .then(
            () => undefined,
            (e) => this.opts.onError(e),
          )
          .finally(() => (this.sweeping = undefined));
      }
    }, every);
    this.sweepTimer.unref();
    if (!this.opts.work) return;
    // pg-boss polls at the fallback interval while notifications wake it, at its fastest otherwise.
    const pollingIntervalSeconds = (this.notifier ? this.pollMs : FAST_POLL_MS) / 1000;
    for (let i = 0; i < this.opts.concurrency; i++) {
      let myId = '';
      const id = await this.boss.work<OperationJob>(OPERATION_JOB, { batchSize: 1, pollingIntervalSeconds }, async ([job]) => {
        if (myId) this.idleWorkers.delete(myId);
        try {
          if (!job) return;
          const outcome = await runner.process(job.data.operationId, job.data.lease ?? null);
          // 'busy': a live worker holds the lease; if it dies, its lease expires and the sweep re-sends.
          if (outcome === 'done') this.finished(job.data.operationId);
          return { outcome };
        } finally {
          if (myId) this.idleWorkers.add(myId);
          // Fetch again at once instead of sleeping out the polling interval while work is queued.
          if (myId && !this.stopped) this.boss.notifyWorker(myId);
        }
      });
      myId = id;
      this.workerIds.push(id);
      this.idleWorkers.add(id);
    }
    if (this.notifier) {
      // While the listener is down no notification can wake the workers: poll at pg-boss's fastest.
      this.nudgeTimer = setInterval(() => {
        if (!this.notifier?.listening) this.nudgeWorkers(true);
      }, FAST_POLL_MS);
      this.nudgeTimer.unref();
    }
  }

  /** Takes a free owner key: a session-level advisory lock held for this queue's lifetime. */
  private async takeOwnerLock(): Promise<void> {
    const client = new pg.Client({ connectionString: this.opts.connection.connectionString, application_name: 'checkout-engine-owner' });
    client.on('error', (e) => this.opts.onError(e)); // lock lost: our leases become takeable, and our late commits are fenced off
    await client.connect();
    for (;;) {
      const key = 1 + Math.floor(Math.random() * 0x7ffffffe);
      const { rows } = await client.query('select pg_try_advisory_lock($1::int, $2::int) as ok', [OWNER_LOCK_NS, key]);
      if (rows[0].ok) {
        this.owner = String(key);
        break;
      }
    }
    this.ownerClient = client;
  }

  async heldElsewhere(owner: string): Promise<boolean> {
    if (owner === this.owner) return false; // ours, yet not running here: orphaned by an earlier run
    const key = Number(owner);
    const client = this.ownerClient;
    if (!Number.isInteger(key) || !client) return true;
    // One round trip: take the owner's lock if it is free and give it back at once. Calls are
    // chained, since claims in several workers ask at the same time over this one connection.
    const asked = this.ownerChain.then(() =>
      client.query(
        'select case when pg_try_advisory_lock($1::int, $2::int) then pg_advisory_unlock($1::int, $2::int) else false end as free',
        [OWNER_LOCK_NS, key],
      ),
    );
    this.ownerChain = asked.catch(() => undefined);
    const { rows } = await asked;
    return rows[0].free !== true;
  }

  private ownerChain: Promise<unknown> = Promise.resolve();

  async enqueue(id: string): Promise<void> {
    await this.send(id, null);
  }

  withdraw(): boolean {
    // A sent job can't be unsent; the caller runs the operation and the job then finds it done.
    return true;
  }

  async recover(): Promise<number> {
    return this.sweep(true);
  }

  async idle(): Promise<void> {
    while (this.pending.size) {
      const ids = [...this.pending];
      const watch = this.wakes.watch(ids);
      try {
        const open = await this.storage.find('BackgroundOperation', {
          where: [
            { field: 'Id', op: 'in', value: ids },
            { field: 'Status', op: 'in', value: ['New', 'Running'] },
          ],
        });
        const still = new Set(open.map((o) => String(o.Id)));
        for (const id of ids) if (!still.has(id)) this.pending.delete(id);
        // Woken when one finishes here or in another process, else by the fallback poll.
        if (this.pending.size) await watch.next();
      } finally {
        watch.close();
      }
    }
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.nudgeTimer) clearInterval(this.nudgeTimer);
    await this.sweeping;
    // Graceful: running handlers finish (their operations complete); queued jobs stay for others.
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    await this.notifier?.close();
    await this.ownerClient?.end().catch(() => {});
  }

  private async send(id: string, lease: string | null): Promise<void> {
    if (this.stopped) return;
    this.pending.add(id);
    await this.boss.send(OPERATION_JOB, { operationId: id, lease } satisfies OperationJob);
    // An idle worker here fetches at once; every other listening process wakes one of its own.
    this.nudgeWorkers(false);
    this.notifier?.send('q', id);
  }

  /**
   * Re-dispatches operations nobody holds: New, or Running with an expired lease or a dead owner.
   * Periodically, a New operation seen for the first time only gets a lease stamped (its action is
   * probably sending its job right now) and is sent again if still New when that lease expires; on
   * start (`startup`), every New operation is sent at once.
   */
  private async sweep(startup: boolean): Promise<number> {
    const ops = await this.storage.find('BackgroundOperation', {
      where: [{ field: 'Status', op: 'in', value: ['New', 'Running'] }],
      orderBy: [{ field: 'Id', direction: 'asc' }],
      limit: 500,
    });
    const now = Date.now();
    let sent = 0;
    for (const op of ops) {
      if (this.stopped) break;
      const id = String(op.Id);
      if (this.runner?.isRunning(id)) continue;
      const old = op._leaseUntil == null ? null : String(op._leaseUntil);
      const held = parseLease(old);
      if (held && held.until > now && (op.Status === 'New' ? !startup : held.owner === null || (await this.heldElsewhere(held.owner))))
        continue;
      const lease = formatLease(now + this.opts.leaseMs, this.owner);
      const won = await this.storage.update('BackgroundOperation', id, { _leaseUntil: lease }, [
        old === null ? { field: '_leaseUntil', op: 'is null' } : { field: '_leaseUntil', op: '=', value: old },
        { field: 'Status', op: 'in', value: ['New', 'Running'] },
      ]);
      if (!won) continue; // another process's sweep took it
      if (old === null && op.Status === 'New' && !startup) continue; // first sight: give its own job a lease's time
      await this.send(id, lease);
      sent++;
    }
    return sent;
  }
}
