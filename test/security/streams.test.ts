/**
 * Issue 17 item 4: the statechart page's event streams re-check the caller on every event and end
 * when access ends (revoked token, deactivated user, deleted share), are capped per user and in
 * total (429 REQUEST_LIMIT_EXCEEDED), and the page and its API carry the security headers. The
 * stream cells of the access matrix (STREAM_MATRIX, appended to test/security/access-matrix.ts)
 * are performed here, on SQLite and PostgreSQL. Events are counted; nothing waits on the clock:
 * a stream's end is awaited, and the server's shutdown ends each stream only after the events
 * already recorded were checked and sent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { cartOn } from '../flow/helpers.js';
import { startTestServer, V, type TestServer } from '../http/helpers.js';
import { ROLES, STREAM_MATRIX } from './access-matrix.js';
import { ANSWERS, roleFixture, roleTokens } from './helpers.js';
import { API_CSP, PAGE_CSP } from '../../src/http/headers.js';
import type { ListenOptions } from '../../src/http/server.js';

afterAll(dropTestSchemas);

interface SseEvent {
  event: string;
  data: any;
}

/** An open event stream: every event read so far, and a promise of its end (server closed it). */
interface Stream {
  status: number;
  headers: Headers;
  body: any;
  events: SseEvent[];
  /** Session events (history entries) read so far. */
  sessionEvents(sessionId?: string): any[];
  /** Resolves when the server ends the stream. */
  done: Promise<void>;
  /** Resolves once `pred` holds for the events read (checked on each new event). */
  until(pred: (events: SseEvent[]) => boolean): Promise<void>;
  abort(): void;
}

async function openStream(url: string, token: string, session?: string): Promise<Stream> {
  const ctrl = new AbortController();
  const res = await fetch(`${url}/page/api/events${session ? `?session=${session}` : ''}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: ctrl.signal,
  });
  const events: SseEvent[] = [];
  const waiters: { pred: (e: SseEvent[]) => boolean; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (!w.pred(events)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  const stream: Stream = {
    status: res.status,
    headers: res.headers,
    body: null,
    events,
    sessionEvents: (id) => events.filter((e) => e.event === 'session' && (!id || e.data.sessionId === id)).map((e) => e.data),
    done: Promise.resolve(),
    until: (pred) => new Promise<void>((resolve) => (waiters.push({ pred, resolve }), check())),
    abort: () => ctrl.abort(),
  };
  if (res.status !== 200 || !res.body) {
    stream.body = await res.json();
    return stream;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  stream.done = (async () => {
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          check();
        }
      }
    } catch (e) {
      if ((e as Error).name !== 'AbortError') throw e;
    }
  })();
  return stream;
}

/** Records one event on a session: a state update with a wrong expected state (rejected, recorded). */
async function poke(t: TestServer, token: string, sessionId: string): Promise<void> {
  const r = await t.call('POST', `${V}/actions/standard/updateCheckoutSessionStateAction`, {
    token,
    body: { inputs: [{ checkoutSessionId: sessionId, expCurrentState: 'start', nextState: 'inventory' }] },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(409);
}

/** A world like the access matrix's: cart A at Checkout Summary, a user per role. */
async function world(location: string, server: ListenOptions = {}) {
  let offsetMs = 0;
  const t = await startTestServer(location, { seed: false, server, engine: { clock: () => new Date(Date.now() + offsetMs) } });
  const engine = t.engine;
  const first = await cartOn(engine, { lines: 1, groups: 1 });
  const run = await engine.runCheckout(first.cartId, { userId: first.buyerId, answers: ANSWERS, stopAt: 'checkoutSummary' });
  if (run.status !== 'stopped') throw new Error(`world: ${run.errors.join('; ')}`);
  const [owner] = await engine.admin.find('User', { where: [{ field: 'Id', op: '=', value: first.buyerId }] });
  const ids = await engine.seed(roleFixture(String(owner!.AccountId), first.cartId));
  const [session] = await engine.admin.find('CartCheckoutSession', {
    where: [
      { field: 'WebCartId', op: '=', value: first.cartId },
      { field: 'IsArchived', op: '=', value: false },
    ],
  });
  const tokens = await roleTokens(t, ids.inactive!);
  return { t, ids, sessionId: String(session!.Id), cartId: first.cartId, tokens, setOffset: (ms: number) => (offsetMs = ms) };
}

/** What a stream cell answered: `ok` / `empty` when it opened, else `errorCode status`. */
function answer(s: Stream, sessionId: string): string {
  if (s.status !== 200) return `${s.body[0].errorCode} ${s.status}`;
  return s.sessionEvents(sessionId).length ? 'ok' : 'empty';
}

describe.each([BACKENDS[0]!, BACKENDS[2]!])('event streams on $name', (backend) => {
  it('the access matrix: roles × "open a session\'s event stream"', async () => {
    const w = await world(backend.location(), { streams: { perUser: 10, total: 100 } });
    const streams: Partial<Record<string, Stream>> = {};
    try {
      for (const [i, cell] of STREAM_MATRIX.entries()) {
        for (const role of ROLES) {
          if (role === 'expired') w.setOffset(7201 * 1000);
          streams[`${i}:${role}`] = await openStream(w.t.url, w.tokens[role], cell.stream.includes('?session=') ? w.sessionId : undefined);
          w.setOffset(0);
        }
      }
      await poke(w.t, w.tokens.owner, w.sessionId);
    } finally {
      // Shutdown ends each stream after the recorded events were checked and sent.
      await w.t.close();
    }
    const got: string[] = [];
    const want: string[] = [];
    for (const [i, cell] of STREAM_MATRIX.entries()) {
      for (const role of ROLES) {
        const s = streams[`${i}:${role}`]!;
        await s.done;
        got.push(`${cell.stream} | ${role}: ${answer(s, w.sessionId)}`);
        want.push(`${cell.stream} | ${role}: ${cell.expected[role]}`);
        if (s.status === 200) expect(s.events.at(-1)).toEqual({ event: 'closed', data: { reason: 'shutdown' } });
      }
    }
    expect(got).toEqual(want);
  });

  it('a stream ends when its token is revoked, its user deactivated or its share deleted: no event after that', async () => {
    const w = await world(backend.location());
    try {
      const owner = await openStream(w.t.url, w.tokens.owner); // every readable session
      const reader = await openStream(w.t.url, w.tokens.readShare, w.sessionId); // one session, through a Read share
      const editor = await openStream(w.t.url, w.tokens.editShare); // every readable session, through an Edit share
      const admin = await openStream(w.t.url, w.tokens.admin);
      const all = [owner, reader, editor, admin];
      for (const s of all) expect(s.status).toBe(200);
      await poke(w.t, w.tokens.admin, w.sessionId);
      for (const s of all) await s.until(() => s.sessionEvents(w.sessionId).length === 1);

      // Access ends three ways, then two more events are recorded on the session.
      expect((await fetch(`${w.t.url}/services/oauth2/revoke?token=${encodeURIComponent(w.tokens.owner)}`)).status).toBe(200);
      await w.t.engine.core.storage.delete('WebCartShare', [w.ids.readShare!]);
      expect(
        (await w.t.call('PATCH', `${V}/sobjects/User/${w.ids.editor}`, { token: w.tokens.admin, body: { IsActive: false } })).status,
      ).toBe(204);
      await poke(w.t, w.tokens.admin, w.sessionId);
      await poke(w.t, w.tokens.admin, w.sessionId);

      // Each affected stream was closed by the server at the first event after its access ended.
      await Promise.all([owner.done, reader.done, editor.done]);
      expect(owner.sessionEvents()).toHaveLength(1);
      expect(owner.events.at(-1)).toEqual({ event: 'closed', data: { reason: 'signed_out' } });
      expect(reader.sessionEvents()).toHaveLength(1);
      expect(reader.events.at(-1)).toEqual({ event: 'closed', data: { reason: 'no_access' } });
      expect(editor.sessionEvents()).toHaveLength(1);
      expect(editor.events.at(-1)).toEqual({ event: 'closed', data: { reason: 'signed_out' } });
      // The admin still reads the session: it got all three.
      await admin.until(() => admin.sessionEvents(w.sessionId).length === 3);
      admin.abort();
      // The revoked token can't open a new stream; the unshared reader can't open the session's.
      expect((await openStream(w.t.url, w.tokens.owner)).status).toBe(401);
      const again = await openStream(w.t.url, w.tokens.readShare, w.sessionId);
      expect(again.status).toBe(404);
      expect(again.body[0].errorCode).toBe('NOT_FOUND');
    } finally {
      await w.t.close();
    }
  });
});

describe('event stream caps and security headers', () => {
  it('caps open streams per user and in total with 429 REQUEST_LIMIT_EXCEEDED; a closed stream frees its slot', async () => {
    const w = await world(':memory:', { streams: { perUser: 2, total: 3 } });
    try {
      const a1 = await openStream(w.t.url, w.tokens.owner);
      const a2 = await openStream(w.t.url, w.tokens.owner, w.sessionId);
      expect([a1.status, a2.status]).toEqual([200, 200]);
      // A third for the same user (another token of it, too) is refused, before any work.
      for (const token of [w.tokens.owner, await w.t.token('buyer@acme.example')]) {
        const a3 = await openStream(w.t.url, token);
        expect(a3.status).toBe(429);
        expect(a3.body).toEqual([
          {
            errorCode: 'REQUEST_LIMIT_EXCEEDED',
            message: expect.stringMatching(/^Too many open event streams: this user has 2 open \(at most 2\)/),
            fields: [],
          },
        ]);
        expect(Number(a3.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      const b1 = await openStream(w.t.url, w.tokens.otherAccount);
      expect(b1.status).toBe(200);
      // The server's total is reached: another user is refused too.
      const c1 = await openStream(w.t.url, w.tokens.admin);
      expect(c1.status).toBe(429);
      expect(c1.body[0].message).toMatch(/the server has 3 open \(at most 3\)/);
      // Everything else still answers (the caps only refuse streams).
      expect(
        (await w.t.call('GET', `${V}/query?q=${encodeURIComponent('SELECT Id FROM WebCart')}`, { token: w.tokens.admin })).status,
      ).toBe(200);

      // A stream the server closes (its token revoked) frees its slot at once.
      expect((await fetch(`${w.t.url}/services/oauth2/revoke?token=${encodeURIComponent(w.tokens.owner)}`)).status).toBe(200);
      await poke(w.t, w.tokens.admin, w.sessionId);
      await Promise.all([a1.done, a2.done]);
      const fresh = await w.t.token('buyer@acme.example');
      const a4 = await openStream(w.t.url, fresh);
      expect(a4.status).toBe(200);
    } finally {
      await w.t.close();
    }
  });

  it('rejects invalid caps at start', async () => {
    await expect(startTestServer(':memory:', { seed: false, server: { streams: { perUser: 0 } } })).rejects.toThrow(
      /streams.perUser must be a positive whole number/,
    );
  });

  it('the page, its assets, its API and its stream carry CSP, frame and nosniff headers; /favicon.ico is served', async () => {
    const w = await world(':memory:');
    try {
      for (const path of ['/', '/page/app.js', '/page/app.css', '/page/favicon.svg', '/favicon.ico']) {
        const r = await fetch(`${w.t.url}${path}`);
        expect(r.status, path).toBe(200);
        expect(r.headers.get('content-security-policy'), path).toBe(PAGE_CSP);
        expect(r.headers.get('x-frame-options'), path).toBe('DENY');
        expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      }
      expect((await fetch(`${w.t.url}/favicon.ico`)).headers.get('content-type')).toBe('image/svg+xml');
      expect(PAGE_CSP).toContain("frame-ancestors 'none'");
      expect(PAGE_CSP).toContain("script-src 'self'");
      expect(PAGE_CSP).not.toContain('unsafe');
      for (const [path, token] of [
        ['/page/api/sessions', w.tokens.owner],
        ['/page/api/flows', undefined],
        [`${V}/query?q=SELECT+Id+FROM+WebCart`, w.tokens.owner],
        ['/no/such/thing', undefined],
      ] as const) {
        const r = await fetch(`${w.t.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
        expect(r.headers.get('content-security-policy'), path).toBe(API_CSP);
        expect(r.headers.get('x-frame-options'), path).toBe('DENY');
        expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      }
      const s = await openStream(w.t.url, w.tokens.owner);
      expect(s.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(s.headers.get('x-content-type-options')).toBe('nosniff');
      expect(s.headers.get('content-security-policy')).toBe(API_CSP);
      s.abort();
    } finally {
      await w.t.close();
    }
  });
});
