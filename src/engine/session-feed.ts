/**
 * Session events across engine processes on one PostgreSQL database, for the statechart page's
 * live streams: a process that records a session event announces it on the queue's LISTEN/NOTIFY
 * channel (`s:sessionId:seq:sub`, src/engine/queue/wake.ts); the others read that entry back from
 * the history table and hand it to their cross-process listeners. Like every notification it is a
 * hint — one sent while a listener is reconnecting is lost (the page re-reads a session's history
 * when it is chosen) — and nothing is announced when no one could listen (SQLite: one process).
 */
import type { StorageOps } from '../storage/port.js';
import { HISTORY_OBJECT, historyEntry, type HistoryEntry } from './sessions.js';
import type { OperationQueue } from './queue/types.js';

/** The notification payload of an entry. */
export function sessionNotice(entry: Pick<HistoryEntry, 'sessionId' | 'seq' | 'sub'>): string {
  return `${entry.sessionId}:${entry.seq}:${entry.sub}`;
}

/** Relays session events to and from other processes. */
export class SessionFeed {
  /** Told of entries recorded by other processes (in the order their notices arrived). */
  readonly remote = new Set<(entry: HistoryEntry) => void>();
  private chain: Promise<void> = Promise.resolve();
  /** Entries read back from other processes' notices. */
  received = 0;

  constructor(
    private readonly queue: OperationQueue,
    private readonly storage: StorageOps,
    private readonly flowOf: (sessionId: string) => Promise<string>,
    private readonly onError: (err: unknown) => void,
  ) {
    queue.sessionEvents?.subscribe((payload) => this.heard(payload));
  }

  /** Whether entries reach other processes at all. */
  get crossProcess(): boolean {
    return !!this.queue.sessionEvents;
  }

  /** Announces an entry recorded by this process. */
  publish(entry: HistoryEntry): void {
    this.queue.sessionEvents?.publish(sessionNotice(entry));
  }

  private heard(payload: string): void {
    if (!this.remote.size) return;
    const m = /^(\w{15,18}):(\d+):(\d+)$/.exec(payload);
    if (!m) return;
    const [, sessionId, seq, sub] = m;
    this.chain = this.chain
      .then(async () => {
        const rows = await this.storage.find(HISTORY_OBJECT, {
          where: [
            { field: 'SessionId', op: '=', value: sessionId! },
            { field: 'Seq', op: '=', value: Number(seq) },
            { field: 'Sub', op: '=', value: Number(sub) },
          ],
          limit: 1,
        });
        if (!rows[0]) return;
        const entry = { ...historyEntry(rows[0]), flowId: await this.flowOf(sessionId!) };
        this.received++;
        for (const l of this.remote) {
          try {
            l(entry);
          } catch (e) {
            this.onError(e);
          }
        }
      })
      .catch((e) => this.onError(e));
  }
}
