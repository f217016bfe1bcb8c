/**
 * The CLI's inspection commands, in-process: `viz` (and the README's diagram kept equal to it),
 * `sessions show` with history, `inspect` replaying into a WebSocket receiver, and `serve` logs:
 * pretty under the banner on a terminal, JSON lines otherwise or with --log-format json.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { main, type CliIO } from '../../src/cli/main.js';
import type { RunningServer } from '../../src/http/server.js';
import { createCheckoutEngine } from '../../src/index.js';
import { dropTestSchemas, freshSqliteFile } from '../helpers/backends.js';
import { CA_ADDRESS, call, cartOn } from '../flow/helpers.js';

afterAll(dropTestSchemas);

function io(opts: { tty?: boolean } = {}) {
  const out = new PassThrough();
  const err = new PassThrough();
  if (opts.tty) (out as unknown as { isTTY: boolean }).isTTY = true;
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  let server: RunningServer | undefined;
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKOUT_ENGINE_SECRET: 'inspection-cli-secret-0123' };
  delete env.CHECKOUT_ENGINE_DB;
  const value: CliIO = { out, err, env, onServe: (s) => (server = s) };
  return { io: value, out: () => o, err: () => e, server: () => server };
}

describe('checkout-engine viz', () => {
  it('prints the default flow as Mermaid, the same diagram docs/flows.md shows', async () => {
    const t = io();
    expect(await main(['viz'], t.io, false)).toBe(0);
    expect(t.out()).toMatch(/^stateDiagram-v2\n/);
    expect(t.out()).toContain('checkoutSummary --> cartToOrder : claim, cartToOrderAction');
    expect(t.out()).toContain('cartToOrder --> error : cartToOrderAction fails');
    const page = readFileSync(new URL('../../docs/flows.md', import.meta.url), 'utf8');
    const block = /<!-- default-flow:start -->\n```mermaid\n([\s\S]*?)\n```\n<!-- default-flow:end -->/.exec(page);
    expect(block, 'docs/flows.md has the default-flow block').not.toBeNull();
    expect(block![1]).toBe(t.out().trimEnd());
  });

  it('draws a custom flow file with its own steps and error exits; refuses bad input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'viz-'));
    const file = join(dir, 'flow.yaml');
    writeFileSync(
      file,
      [
        'id: fraud',
        'steps:',
        '  - { key: start, label: Start, kind: screen }',
        '  - { key: fraudCheck, label: Fraud Check, kind: async, action: fraudCheckAction, onError: review, next: [cartToOrder, review] }',
        '  - { key: cartToOrder, label: Cart To Order, kind: async, action: cartToOrderAction, next: [done] }',
        '  - { key: review, label: Manual Review, kind: screen, next: [cartToOrder] }',
        '  - { key: done, label: Done, kind: final }',
      ].join('\n'),
    );
    const t = io();
    expect(await main(['viz', '--file', file], t.io, false)).toBe(0);
    expect(t.out()).toContain('fraudCheck --> review : fraudCheckAction fails');
    expect(t.out()).toContain('review --> cartToOrder : claim, cartToOrderAction');
    expect(t.out()).toContain('fraudCheck --> review : State update');
    expect(t.out()).toContain('cartToOrder --> done : State update');
    expect(t.out()).toContain('state "Manual Review (screen)" as review');

    const unknown = io();
    expect(await main(['viz', '--flow', 'nope'], unknown.io, false)).toBe(2);
    expect(unknown.err()).toContain("No flow 'nope'");
    writeFileSync(file, 'id: bad\nsteps:\n  - { key: start, label: Start, kind: screen }\n');
    const bad = io();
    expect(await main(['viz', '--file', file], bad.io, false)).toBe(1);
    expect(bad.err()).toMatch(/INVALID_FLOW: .*flow 'bad' is not valid/);
    const missing = io();
    expect(await main(['viz', '--file', join(dir, 'none.yaml')], missing.io, false)).toBe(1);
    expect(missing.err()).toContain('ENOENT');
  });
});

describe('sessions show and inspect', () => {
  it('print and replay the stored history', async () => {
    const db = freshSqliteFile();
    const engine = await createCheckoutEngine({ storage: db, onError: () => {} });
    const c = await cartOn(engine);
    const run = await engine.runCheckout(c.cartId, {
      ...c.as,
      answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-C' },
      stopAt: 'deliveryMethod',
    });
    await call(
      engine,
      'updateCheckoutSessionStateAction',
      { checkoutSessionId: run.sessionId, expCurrentState: 'start', nextState: 'inventory' },
      c.buyerId,
    );
    const n = (await engine.getHistory(run.sessionId)).length;
    await engine.close();

    const show = io();
    expect(await main(['sessions', 'show', run.sessionId, '--db', db], show.io, false)).toBe(0);
    expect(show.out()).toContain(`History: ${n} events`);
    expect(show.out()).toMatch(/CLAIM inventory\s+start\.idle\s+start\.claimed_inventory\s+updateCheckoutSessionStateAction/);
    expect(show.out()).toMatch(/REJECTED STATE_MISMATCH/);
    const json = io();
    expect(await main(['sessions', 'show', run.sessionId, '--json', '--db', db], json.io, false)).toBe(0);
    expect(JSON.parse(json.out()).history).toHaveLength(n);

    const { url, got, close } = await receiver();
    try {
      const t = io();
      expect(await main(['inspect', run.sessionId, '--url', url, '--db', db], t.io, false)).toBe(0);
      expect(t.out()).toContain(`Replayed ${n} events`);
      for (let i = 0; i < 300 && got.length < 1 + 2 * n; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got.map((m) => m.type)).toEqual([
        '@xstate.actor',
        ...Array.from({ length: n }, () => ['@xstate.event', '@xstate.snapshot']).flat(),
      ]);
      expect(new Set(got.map((m) => m.sessionId))).toEqual(new Set([run.sessionId]));
      const bad = io();
      expect(await main(['inspect', run.sessionId, '--url', 'http://x', '--db', db], bad.io, false)).toBe(2);
      const none = io();
      expect(await main(['inspect', '0a7000000000000AAA', '--url', url, '--db', db], none.io, false)).toBe(1);
    } finally {
      await close();
    }
  });
});

/** A local WebSocket receiver standing in for the Stately inspector: every message it got, in order. */
async function receiver() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const got: { type: string; sessionId: string }[] = [];
  wss.on('connection', (ws) => ws.on('message', (d) => got.push(JSON.parse(d.toString()))));
  const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
  return { url, got, close: () => new Promise((r) => wss.close(r)) };
}

describe('serve --inspect', () => {
  it('sends live events to the given inspector; bare, starts the local bridge without a browser', async () => {
    const { url, got, close } = await receiver();
    try {
      const t = io();
      expect(await main(['serve', '--db', ':memory:', '--port', '0', '--demo', '--inspect', url], t.io, false)).toBe(0);
      expect(t.out()).toContain(`inspect:  ${url}`);
      // --demo claims the demo cart for cartToOrder: that CLAIM reaches the inspector.
      for (let i = 0; i < 300 && !got.some((m) => m.type === '@xstate.snapshot'); i++) await new Promise((r) => setTimeout(r, 10));
      expect(got.map((m) => m.type).slice(0, 3)).toEqual(['@xstate.actor', '@xstate.event', '@xstate.snapshot']);
      await t.server()!.close();
    } finally {
      await close();
    }
    const probe = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => probe.once('listening', r));
    const free = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const bare = io();
    const bareCode = await main(['serve', '--db', ':memory:', '--port', '0', '--inspect', '--inspect-port', String(free)], bare.io, false);
    expect(bareCode, bare.err()).toBe(0);
    // The bridge binds where serve does (127.0.0.1) and its address carries its secret (docs/inspection.md).
    expect(bare.out()).toMatch(new RegExp(`Stately inspector bridge on http://127\\.0\\.0\\.1:${free}/#token=[A-Za-z0-9_-]{43} `));
    const bridgePage = await fetch(`http://127.0.0.1:${free}/`);
    expect(await bridgePage.text()).toContain('Stately Inspector');
    await bare.server()!.close();
    const bad = io();
    expect(await main(['serve', '--db', ':memory:', '--port', '0', '--inspect', 'http://nope'], bad.io, false)).toBe(2);
  });
});

describe('serve logs', () => {
  it('are pretty lines under the banner on a terminal, JSON on stderr otherwise', async () => {
    const tty = io({ tty: true });
    expect(await main(['serve', '--db', ':memory:', '--port', '0'], tty.io, false)).toBe(0);
    const server = tty.server()!;
    await fetch(`${server.url}/services/data`);
    await server.close();
    const out = tty.out();
    expect(out.indexOf('checkout-engine listening')).toBe(0);
    const logPart = out.slice(out.indexOf('\n\n'));
    expect(logPart).toMatch(/INFO.*checkout-engine listening/);
    expect(logPart).not.toMatch(/^\{"level"/m);
    expect(tty.err()).toBe('');

    const json = io({ tty: true });
    expect(await main(['serve', '--db', ':memory:', '--port', '0', '--log-format', 'json'], json.io, false)).toBe(0);
    await json.server()!.close();
    expect(json.out()).not.toMatch(/^\{"level"/m);
    const lines = json
      .err()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.some((l) => l.msg === 'checkout-engine listening')).toBe(true);

    const piped = io();
    expect(await main(['serve', '--db', ':memory:', '--port', '0'], piped.io, false)).toBe(0);
    await piped.server()!.close();
    expect(piped.err()).toMatch(/^\{"level":30/m);
    const badFormat = io();
    expect(await main(['serve', '--db', ':memory:', '--port', '0', '--log-format', 'xml'], badFormat.io, false)).toBe(2);
  });
});
