/** Shared set-up for HTTP tests: an engine with the demo store behind a listening server on port 0. */
import { Writable } from 'node:stream';
import { createCheckoutEngine, type CheckoutEngine, type CheckoutEngineOptions } from '../../src/index.js';
import { demoFixture } from '../../src/demo/fixture.js';
import { startServer, type ListenOptions, type RunningServer } from '../../src/http/server.js';

/** The demo password. */
export const PASSWORD = 'demo-password-1';
/** API version prefix used by tests. */
export const V = '/services/data/v62.0';

/** Collects a server's JSON log lines. */
export class LogSink extends Writable {
  readonly text: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text.push(chunk.toString('utf8'));
    cb();
  }
  get all(): string {
    return this.text.join('');
  }
}

/** A running test server. */
export interface TestServer {
  engine: CheckoutEngine;
  server: RunningServer;
  url: string;
  ids: Record<string, string>;
  logs: LogSink;
  /** Logs in through the token endpoint and returns the access token. */
  token(username?: string, password?: string): Promise<string>;
  /** A JSON request with a bearer token; returns status and parsed body. */
  call(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; raw?: string; contentType?: string },
  ): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** Starts an engine on `location`, seeds the demo store (session at `sessionState`) and listens on port 0. */
export async function startTestServer(
  location: string,
  opts: { sessionState?: string; server?: ListenOptions; engine?: CheckoutEngineOptions; seed?: boolean } = {},
): Promise<TestServer> {
  const engine = await createCheckoutEngine({ storage: location, onError: () => {}, ...opts.engine });
  const ids = opts.seed === false ? {} : await engine.seed(demoFixture({ sessionState: opts.sessionState ?? 'checkoutSummary' }));
  const logs = new LogSink();
  const server = await startServer(engine, { port: 0, log: { level: 'info', stream: logs }, ...opts.server });
  const url = server.url;
  const call: TestServer['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    if (body !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed };
  };
  const token = async (username = 'buyer@acme.example', password = PASSWORD) => {
    const res = await fetch(`${url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'test', client_secret: 'test', username, password }).toString(),
    });
    const body = (await res.json()) as { access_token?: string };
    if (res.status !== 200 || !body.access_token) throw new Error(`login of ${username} failed: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  };
  return { engine, server, url, ids, logs, token, call, close: () => server.close() };
}

/** Claims cartToOrder on the demo session as the given token's user. */
export async function claimCartToOrder(t: TestServer, token: string): Promise<void> {
  const r = await t.call('POST', `${V}/actions/standard/updateCheckoutSessionStateAction`, {
    token,
    body: { inputs: [{ checkoutSessionId: t.ids.session, expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' }] },
  });
  if (r.status !== 200) throw new Error(`claim failed: ${JSON.stringify(r.body)}`);
}
