/**
 * The local Stately inspector bridge (issue 17 item 5), attacked as the hostile tester did: it
 * listens only on the serve host, a WebSocket client without the bridge secret is refused (401),
 * one from a foreign Origin is refused (403) even with the secret, and a viewer from the bridge's
 * own origin with the secret receives the engine's messages but can't inject any.
 */
import { networkInterfaces } from 'node:os';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createCheckoutEngine, type CheckoutEngine } from '../../src/index.js';
import { startInspectorBridge, type InspectorBridge } from '../../src/inspect/bridge.js';
import { main, type CliIO } from '../../src/cli/main.js';
import type { RunningServer } from '../../src/http/server.js';
import { CA_ADDRESS, cartOn } from '../flow/helpers.js';

type Outcome =
  { opened: true; ws: WebSocket; messages: string[] } | { opened: false; status: number; body: string } | { opened: false; error: string };

/** Connects a WebSocket client; resolves once it opened (collecting messages) or was refused. */
function connect(url: string, origin?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    const messages: string[] = [];
    ws.on('message', (d) => messages.push(d.toString()));
    ws.once('open', () => resolve({ opened: true, ws, messages }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ opened: false, status: res.statusCode!, body }));
    });
    ws.once('error', (e) => resolve({ opened: false, error: (e as NodeJS.ErrnoException).code ?? e.message }));
  });
}

async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

const withoutToken = (b: InspectorBridge) => `ws://127.0.0.1:${b.port}/`;

describe('the inspector bridge', () => {
  let bridge: InspectorBridge;
  let engine: CheckoutEngine;
  let sessionId: string;
  beforeAll(async () => {
    bridge = await startInspectorBridge({ port: 0, allowedOrigins: ['https://inspect.example.com'] });
    engine = await createCheckoutEngine({ inspect: bridge.wsUrl, onError: () => {} });
    const c = await cartOn(engine);
    const run = await engine.runCheckout(c.cartId, { ...c.as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-BRIDGE' } });
    expect(run.status, run.errors.join()).toBe('complete');
    sessionId = run.sessionId;
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
    await bridge?.stop();
  });

  it('listens on the serve host (127.0.0.1) only', async () => {
    expect(bridge.address).toBe('127.0.0.1');
    expect(bridge.wsUrl).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${bridge.port}/\\?token=[A-Za-z0-9_-]{43}$`));
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      const r = await connect(`ws://${external.address}:${bridge.port}/?token=${bridge.secret}`);
      expect(r).toMatchObject({ opened: false, error: 'ECONNREFUSED' });
    }
  });

  it('refuses a client without the secret, or with a wrong one (401), before any message', async () => {
    for (const url of [withoutToken(bridge), `${withoutToken(bridge)}?token=`, `${withoutToken(bridge)}?token=${bridge.secret}x`]) {
      for (const origin of [undefined, `http://127.0.0.1:${bridge.port}`]) {
        const r = await connect(url, origin);
        expect(r, `${url} ${origin}`).toMatchObject({ opened: false, status: 401 });
      }
    }
  });

  it('refuses a foreign Origin (403) even with the secret', async () => {
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${bridge.port + 1}`, 'https://stately.ai.evil.example']) {
      const r = await connect(bridge.wsUrl, origin);
      expect(r, origin).toMatchObject({ opened: false, status: 403 });
      expect((r as { body: string }).body).not.toContain(sessionId);
    }
  });

  it("from an allowed origin with the secret, a viewer gets the engine's messages and can't inject any", async () => {
    const viewer = await connect(bridge.wsUrl, `http://localhost:${bridge.port}`);
    const other = await connect(bridge.wsUrl, 'https://inspect.example.com');
    const stately = await connect(bridge.wsUrl, 'https://stately.ai');
    expect(viewer.opened && other.opened && stately.opened).toBe(true);
    if (!viewer.opened || !other.opened || !stately.opened) return;
    // The buffered session messages arrive at once.
    await until(() => viewer.messages.some((m) => m.includes(sessionId)), 'buffered session messages');
    expect(viewer.messages.map((m) => JSON.parse(m).type)).toContain('@xstate.snapshot');
    // A viewer's message is not relayed to other viewers.
    const before = other.messages.length;
    viewer.ws.send(JSON.stringify({ type: '@xstate.event', sessionId, event: { type: 'FORGED' } }));
    // The engine's next message is relayed (and arrives after anything the viewer could have injected).
    engine.core.notify({ ...(await engine.getHistory(sessionId))[0]!, event: { type: 'SET_STATE', state: 'after-forgery' } });
    await until(() => other.messages.slice(before).some((m) => m.includes('after-forgery')), 'the engine message');
    expect(other.messages.slice(before).join('\n')).not.toContain('FORGED');
    for (const c of [viewer, other, stately]) c.ws.close();
  });

  it('serves its page to anyone (it holds no data) with the address fragment carrying the secret', async () => {
    const page = await fetch(`http://127.0.0.1:${bridge.port}/`);
    const html = await page.text();
    expect(html).toContain('Stately Inspector');
    expect(html).not.toContain(bridge.secret);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(bridge.pageUrl).toBe(`http://127.0.0.1:${bridge.port}/#token=${bridge.secret}`);
  });
});

function io() {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  let server: RunningServer | undefined;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CHECKOUT_ENGINE_DB;
  delete env.PORT;
  const value: CliIO = { out, err, env, onServe: (s) => (server = s) };
  return { io: value, out: () => o, err: () => e, server: () => server };
}

describe('serve --inspect (the local bridge)', () => {
  it('binds the bridge to the serve host, prints its secret address, takes configured origins, refuses bad flags', async () => {
    const t = io();
    const code = await main(
      [
        'serve',
        '--db',
        ':memory:',
        '--port',
        '0',
        '--demo',
        '--inspect',
        '--inspect-port',
        '0',
        '--inspect-origin',
        'https://a.example,https://b.example:8443',
      ],
      t.io,
      false,
    );
    expect(code, t.err()).toBe(0);
    const m = /Stately inspector bridge on (http:\/\/127\.0\.0\.1:(\d+))\/#token=([A-Za-z0-9_-]{43}) /.exec(t.out());
    expect(m, t.out()).not.toBeNull();
    const [, , port, secret] = m!;
    try {
      // The demo's CLAIM reached the bridge: a configured origin with the secret sees it; a foreign one is refused; none without the secret.
      const viewer = await connect(`ws://127.0.0.1:${port}/?token=${secret}`, 'https://b.example:8443');
      expect(viewer.opened).toBe(true);
      if (viewer.opened) {
        await until(() => viewer.messages.some((x) => JSON.parse(x).type === '@xstate.snapshot'), 'the demo claim');
        viewer.ws.close();
      }
      expect(await connect(`ws://127.0.0.1:${port}/?token=${secret}`, 'https://c.example')).toMatchObject({ opened: false, status: 403 });
      expect(await connect(`ws://127.0.0.1:${port}/`, 'https://a.example')).toMatchObject({ opened: false, status: 401 });
    } finally {
      await t.server()!.close();
    }
    // The bridge stopped with the server.
    expect(await connect(`ws://127.0.0.1:${port}/?token=${secret}`)).toMatchObject({ opened: false, error: 'ECONNREFUSED' });

    for (const args of [
      ['--inspect', '--inspect-origin', 'not an origin'],
      ['--inspect', '--inspect-origin', 'https://a.example/path'],
      ['--inspect', 'ws://127.0.0.1:1', '--inspect-host', '0.0.0.0'],
    ]) {
      const bad = io();
      expect(await main(['serve', '--db', ':memory:', '--port', '0', ...args], bad.io, false), args.join(' ')).toBe(2);
      expect(bad.err()).toMatch(/--inspect-(origin|host)/);
    }
  });
});
