/**
 * The statechart page's live event streams (`GET /page/api/events`): server-sent events of the
 * checkout sessions the caller may read, with the caller re-checked for as long as the stream is
 * open — not once, when it opens:
 *
 *  - before each event is written, the stream's token must still be live (stored, unexpired,
 *    unrevoked), its user active, and the session readable by that user (sharing as for SOQL);
 *  - every `recheckSeconds` (default 5) the same check runs with no event at all, so an idle
 *    stream also ends when access does;
 *  - a stream scoped to one session (`?session=<id>`) ends when its session stops being readable;
 *    an unscoped one skips the sessions the user can't read and ends when the token or user does.
 *
 * A stream that ends for one of these reasons gets a last `event: closed` with `{ reason }` and is
 * closed by the server. Open streams are capped per user and in total (this process): past a cap the
 * open is refused with 429 REQUEST_LIMIT_EXCEEDED and a Retry-After, before any work is done.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller, CheckoutEngine } from '../engine/engine.js';
import type { HistoryEntry } from '../engine/sessions.js';
import { EngineError } from '../errors.js';

/** Caps and re-check period of the event streams (`startServer({ streams })`, docs/http-security.md). */
export interface StreamLimits {
  /** Open streams per user in this process (default 5). */
  perUser?: number;
  /** Open streams in this process, all users together (default 100). */
  total?: number;
  /** Seconds between re-checks of an idle stream's token, user and session access (default 5). */
  recheckSeconds?: number;
}

/** The default stream limits. */
export const DEFAULT_STREAM_LIMITS: Readonly<Required<StreamLimits>> = { perUser: 5, total: 100, recheckSeconds: 5 };

/** Why a stream was closed by the server (sent as the last event's `reason`). */
export type CloseReason = 'signed_out' | 'no_access' | 'shutdown';

/** The bearer token of a request (the `onRequest` hook already accepted it). */
export function bearerOf(req: FastifyRequest): string {
  return /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
}

/** One open stream. */
class LiveStream {
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly off: () => void;
  /** Session events written to this stream. */
  sent = 0;

  constructor(
    private readonly hub: StreamHub,
    private readonly reply: FastifyReply,
    readonly userId: string,
    private readonly token: string,
    private readonly sessionId: string | null,
    recheckMs: number,
  ) {
    // Entries are sent in the order they were recorded, even though the checks are async.
    this.off = hub.engine.onSessionEvent((entry) => this.enqueue(() => this.deliver(entry)), { otherProcesses: true });
    const recheck = setInterval(() => this.enqueue(() => this.recheck()), recheckMs);
    const ping = setInterval(() => this.write(': ping\n\n'), 15_000);
    recheck.unref();
    ping.unref();
    this.timers.push(recheck, ping);
    reply.raw.on('close', () => this.dispose());
  }

  private enqueue(fn: () => Promise<void>): void {
    if (this.closed) return;
    this.chain = this.chain.then(fn).catch(() => {
      // A failing check (the database is down) ends the stream: the client reconnects and is checked again.
      this.end('no_access');
    });
  }

  /** The live caller behind the token, or null (revoked, expired, deactivated, deleted). */
  private async caller(): Promise<Caller | null> {
    const caller = await this.hub.engine.authenticateCaller(this.token);
    return caller && caller.Id === this.userId ? caller : null;
  }

  private async readable(sessionId: string, caller: Caller): Promise<boolean> {
    try {
      await this.hub.engine.getRecordAs(caller, 'CartCheckoutSession', sessionId);
      return true;
    } catch (e) {
      if (e instanceof EngineError && e.status < 500) return false;
      throw e;
    }
  }

  private async deliver(entry: HistoryEntry): Promise<void> {
    if (this.closed || (this.sessionId && entry.sessionId !== this.sessionId)) return;
    const caller = await this.caller();
    if (!caller) return this.end('signed_out');
    if (!(await this.readable(entry.sessionId, caller))) {
      if (this.sessionId) this.end('no_access');
      return;
    }
    if (this.closed) return;
    this.sent++;
    this.write(`event: session\ndata: ${JSON.stringify(entry)}\n\n`);
  }

  private async recheck(): Promise<void> {
    if (this.closed) return;
    const caller = await this.caller();
    if (!caller) return this.end('signed_out');
    if (this.sessionId && !(await this.readable(this.sessionId, caller))) this.end('no_access');
  }

  private write(text: string): void {
    if (!this.closed && this.reply.raw.writable) this.reply.raw.write(text);
  }

  /** Sends the closing event and ends the response. */
  end(reason: CloseReason): void {
    if (this.closed) return;
    this.write(`event: closed\ndata: ${JSON.stringify({ reason })}\n\n`);
    this.dispose();
    this.reply.raw.end();
  }

  /** Ends after every event already recorded was checked and written (server shutdown). */
  async drain(): Promise<void> {
    await this.chain;
    this.end('shutdown');
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.off();
    for (const t of this.timers) clearInterval(t);
    this.hub.release(this);
  }
}

/** Every open stream of one server, with the caps. */
export class StreamHub {
  private readonly open = new Set<LiveStream>();
  private readonly perUser = new Map<string, number>();
  readonly limits: Readonly<Required<StreamLimits>>;

  constructor(
    readonly engine: CheckoutEngine,
    limits: StreamLimits = {},
    /** Extra response headers of the stream (the security headers of the page's API). */
    private readonly headers: Record<string, string> = {},
  ) {
    this.limits = { ...DEFAULT_STREAM_LIMITS, ...limits };
    for (const k of ['perUser', 'total'] as const) {
      const v = this.limits[k];
      if (!Number.isInteger(v) || v < 1) throw new Error(`streams.${k} must be a positive whole number, got ${String(v)}.`);
    }
    if (!(this.limits.recheckSeconds > 0))
      throw new Error(`streams.recheckSeconds must be a positive number of seconds, got ${String(this.limits.recheckSeconds)}.`);
  }

  /** How many streams are open (all users, or one user's). */
  count(userId?: string): number {
    return userId === undefined ? this.open.size : (this.perUser.get(userId) ?? 0);
  }

  /**
   * Opens a stream for an authenticated request (the caller may read `sessionId`, when given: the
   * route checked it). Past a cap, throws STREAM_LIMIT_EXCEEDED (429) with Retry-After set.
   */
  start(req: FastifyRequest, reply: FastifyReply, sessionId: string | null): void {
    const userId = req.userId;
    const mine = this.count(userId);
    if (mine >= this.limits.perUser || this.open.size >= this.limits.total) {
      reply.header('retry-after', String(Math.ceil(this.limits.recheckSeconds)));
      throw new EngineError(
        'STREAM_LIMIT_EXCEEDED',
        mine >= this.limits.perUser
          ? `this user has ${mine} open (at most ${this.limits.perUser}); close one (another tab of the page) and try again.`
          : `the server has ${this.open.size} open (at most ${this.limits.total}); try again later.`,
      );
    }
    reply.hijack();
    reply.raw.writeHead(200, {
      ...this.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.write(': connected\n\n');
    const stream = new LiveStream(this, reply, userId, bearerOf(req), sessionId, this.limits.recheckSeconds * 1000);
    this.open.add(stream);
    this.perUser.set(userId, mine + 1);
  }

  /** @internal a stream ended. */
  release(stream: LiveStream): void {
    if (!this.open.delete(stream)) return;
    const n = (this.perUser.get(stream.userId) ?? 1) - 1;
    if (n > 0) this.perUser.set(stream.userId, n);
    else this.perUser.delete(stream.userId);
  }

  /** Ends every stream once the events already recorded have been checked and sent (server shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((s) => s.drain()));
  }
}
