/**
 * Wake-ups: how a call waiting for an operation (a runAsync=false call whose operation another
 * process holds, the runner waiting for someone else's step, `whenIdle`) learns that it finished,
 * and how a worker learns that work was queued — without polling for it.
 *
 *  - `Wakeups` is the in-process hub: a waiter `watch`es operation ids, the queue `fire`s an id
 *    when it hears the operation finished (from this process's worker, or from a notification).
 *    Every wait is bounded by a fallback poll, so a lost signal costs latency, never correctness:
 *    the waiter re-reads the operation either way.
 *  - `PgNotifier` is PostgreSQL's LISTEN/NOTIFY on one dedicated connection per engine process,
 *    on a channel per engine schema; it reconnects (with backoff) when its connection is lost.
 */
// pg loads when a PgNotifier connects: the in-process queue (SQLite) shares this module without it.
import type pg from 'pg';

/** Why a wait ended: this process's worker finished the operation, another process notified, or the fallback poll. */
export type WakeReason = 'local' | 'notify' | 'poll';

/** A watch on some operations; create it BEFORE re-reading them, so no signal falls in between. */
export interface OperationWatch {
  /**
   * Resolves when a watched operation is signaled (or all are: after a listener reconnect) or when
   * the fallback poll interval passes, with the reason. A signal that arrived since the watch was
   * made or since the last `next()` resolves at once.
   */
  next(): Promise<WakeReason>;
  /** Stops watching (always call it, e.g. in `finally`). */
  close(): void;
}

/** Counters of a queue's wake-ups (for tests and benchmarks). */
export interface WakeStats {
  /** Waits ended by this process's own worker finishing the operation. */
  local: number;
  /** Waits ended by a notification from another process. */
  notified: number;
  /** Waits ended by the fallback poll. */
  polls: number;
  /** Notifications this process sent (queued + finished). */
  sent: number;
  /** Notifications received from other processes. */
  received: number;
  /** Times the listener connection was re-established after it was lost. */
  reconnects: number;
  /** Whether the listener is connected right now (false on SQLite: nothing to listen to). */
  listening: boolean;
}

class Watch implements OperationWatch {
  private latched: WakeReason | null = null;
  private wake?: (r: WakeReason) => void;
  private timer?: NodeJS.Timeout;
  private attempt = 0;

  constructor(
    private readonly hub: Wakeups,
    readonly ids: string[],
  ) {}

  signal(reason: WakeReason): void {
    if (this.wake) this.settle(reason);
    else if (this.latched === null || this.latched === 'poll') this.latched = reason;
  }

  next(): Promise<WakeReason> {
    if (this.latched !== null) {
      const r = this.latched;
      this.latched = null;
      this.hub.count(r);
      return Promise.resolve(r);
    }
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(() => this.settle('poll'), this.hub.delay(this.attempt++));
    });
  }

  private settle(reason: WakeReason): void {
    const wake = this.wake;
    if (!wake) return;
    this.wake = undefined;
    clearTimeout(this.timer);
    this.hub.count(reason);
    wake(reason);
  }

  close(): void {
    clearTimeout(this.timer);
    this.hub.drop(this);
    // A pending next() ends as a poll (not counted): the caller re-reads and decides.
    const wake = this.wake;
    this.wake = undefined;
    wake?.('poll');
  }
}

/** The in-process hub of operation watches. */
export class Wakeups {
  private readonly watches = new Map<string, Set<Watch>>();
  readonly counts = { local: 0, notified: 0, polls: 0 };

  /** @param delay the fallback poll before the `attempt`-th (0-based) re-read of a watch */
  constructor(readonly delay: (attempt: number) => number) {}

  watch(ids: Iterable<string>): OperationWatch {
    const w = new Watch(this, [...new Set(ids)]);
    for (const id of w.ids) {
      let set = this.watches.get(id);
      if (!set) this.watches.set(id, (set = new Set()));
      set.add(w);
    }
    return w;
  }

  /** Wakes the watchers of one operation. */
  fire(id: string, reason: WakeReason): void {
    for (const w of this.watches.get(id) ?? []) w.signal(reason);
  }

  /** Wakes every watcher (signals may have been lost, e.g. while the listener was reconnecting). */
  fireAll(reason: WakeReason): void {
    for (const set of this.watches.values()) for (const w of set) w.signal(reason);
  }

  /** @internal */
  count(reason: WakeReason): void {
    if (reason === 'local') this.counts.local++;
    else if (reason === 'notify') this.counts.notified++;
    else this.counts.polls++;
  }

  /** @internal */
  drop(w: Watch): void {
    for (const id of w.ids) {
      const set = this.watches.get(id);
      set?.delete(w);
      if (set && set.size === 0) this.watches.delete(id);
    }
  }
}

/**
 * What a notification says: an operation was queued (`q`) or finished (`f`), or a session event
 * was recorded (`s`, payload `sessionId:seq:sub`: the statechart page's live streams in other
 * processes read it from the database).
 */
export type NoticeKind = 'q' | 'f' | 's';

/** The NOTIFY channel of an engine schema (an identifier of at most 63 bytes). */
export function wakeChannelFor(schema: string): string {
  const name = `checkout_ops_${schema}`;
  return name.length <= 63 ? name : `checkout_ops_${schema.slice(-50)}`;
}

/** Options of the listener. */
export interface PgNotifierOptions {
  connectionString: string;
  channel: string;
  /** A notification from another process (our own are not delivered back). */
  onNotice: (kind: NoticeKind, id: string) => void;
  /** The connection came back after it was lost: notifications of the gap are gone. */
  onReconnect: () => void;
  onError: (err: unknown) => void;
}

const RECONNECT_MIN_MS = 100;
/** How long a session event's notice may wait for others to go out with (ms). */
const SESSION_NOTICE_DELAY_MS = 20;
const RECONNECT_MAX_MS = 5_000;

/**
 * LISTEN on a dedicated connection, NOTIFY through the same connection. Notifications are hints:
 * a receiver re-reads before it acts, and one sent while the connection is down is dropped.
 */
export class PgNotifier {
  private client?: pg.Client;
  private closed = false;
  private retryMs = RECONNECT_MIN_MS;
  private retryTimer?: NodeJS.Timeout;
  private everConnected = false;
  listening = false;
  sent = 0;
  received = 0;
  reconnects = 0;

  constructor(private readonly opts: PgNotifierOptions) {}

  /** Connects and listens; a failure is reported and retried in the background (waiters poll meanwhile). */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (e) {
      this.opts.onError(e);
      this.scheduleReconnect();
    }
  }

  /** The server process id of the listening connection (null while disconnected). */
  get backendPid(): number | null {
    const c = this.client as (pg.Client & { processID?: number }) | undefined;
    return this.listening && c?.processID ? c.processID : null;
  }

  private async connect(): Promise<void> {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: this.opts.connectionString, application_name: 'checkout-engine-wake' });
    const lost = (err?: unknown) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.listening = false;
      if (this.closed) return;
      if (err) this.opts.onError(err);
      client.end().catch(() => {});
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (msg) => {
      if (msg.processId === (client as pg.Client & { processID?: number }).processID) return; // our own
      const payload = msg.payload ?? '';
      const kind = payload.slice(0, 1);
      if (msg.channel !== this.opts.channel || payload[1] !== ':' || (kind !== 'q' && kind !== 'f' && kind !== 's')) return;
      if (kind !== 's') this.received++; // the counters are the operation wake-ups'
      this.opts.onNotice(kind, payload.slice(2));
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.opts.channel}"`);
    } catch (e) {
      await client.end().catch(() => {});
      throw e;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.listening = true;
    this.retryMs = RECONNECT_MIN_MS;
    if (this.everConnected) {
      this.reconnects++;
      this.opts.onReconnect();
    }
    this.everConnected = true;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(RECONNECT_MAX_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect().catch((e) => {
        this.opts.onError(e);
        this.scheduleReconnect();
      });
    }, wait);
    this.retryTimer.unref();
  }

  /**
   * Sends a notification (fire and forget); dropped while the connection is down. Notices sent
   * while one statement is on its way go out together in the next one (one round trip). A session
   * event (`s`: for a live page, one per history entry, ~30 per checkout) waits up to
   * SESSION_NOTICE_DELAY_MS for company — any other notice takes it along at once — so a busy
   * process sends a few statements per second for them instead of one per event.
   */
  send(kind: NoticeKind, id: string): void {
    if (!this.client || !this.listening) return;
    this.outbox.push(`${kind}:${id}`);
    if (this.flushing) return;
    if (kind === 's') this.later();
    else void this.flush();
  }

  private outbox: string[] = [];
  private flushing = false;
  /** The pending send of session events (see `send`). */
  private soon?: NodeJS.Timeout;

  private later(): void {
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      if (!this.flushing) void this.flush();
    }, SESSION_NOTICE_DELAY_MS);
    this.soon.unref();
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    clearTimeout(this.soon);
    this.soon = undefined;
    try {
      while (this.outbox.length) {
        const client = this.client;
        if (!client || !this.listening) {
          this.outbox.length = 0;
          break;
        }
        const batch = this.outbox.splice(0, 500);
        this.sent += batch.filter((p) => p[0] !== 's').length;
        await client.query('select pg_notify($1, p) from unnest($2::text[]) as p', [this.opts.channel, batch]).catch(() => {
          // the connection is failing; its 'error'/'end' handler reconnects, receivers poll meanwhile
        });
        // Only session events came in meanwhile: they wait for company again.
        if (this.outbox.length && this.outbox.every((p) => p[0] === 's')) {
          this.later();
          break;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.soon);
    this.listening = false;
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => {});
  }
}
