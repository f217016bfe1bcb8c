/**
 * Issue 20 item 5: `serve` logs one line per request — on a terminal (pretty) just
 * `METHOD path status ms`, in JSON one structured line — and the statechart page's own traffic
 * (page, assets, /page/api polling and streams) only at debug. `serve --demo` logs how many records
 * it seeded. The logger output is captured by running the CLI in process.
 */
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { RunningServer } from '../../src/http/server.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { PASSWORD } from './helpers.js';

afterAll(dropTestSchemas);

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text += chunk.toString('utf8');
    cb();
  }
}

/** Runs `serve` in process with its output captured; returns the server and the two streams. */
async function serve(args: string[]) {
  const out = new Capture();
  const err = new Capture();
  let server: RunningServer | undefined;
  const code = await main(
    ['serve', '--db', ':memory:', '--port', '0', ...args],
    { out, err, env: {}, onServe: (s) => (server = s) },
    false,
  );
  expect(code).toBe(0);
  const token = async () => {
    const r = await fetch(`${server!.url}/services/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: 'buyer@acme.example', password: PASSWORD }),
    });
    return ((await r.json()) as { access_token: string }).access_token;
  };
  /** A few API calls and the page's own calls. */
  const traffic = async () => {
    const tok = await token();
    const auth = { headers: { authorization: `Bearer ${tok}` } };
    expect((await fetch(`${server!.url}/services/data`)).status).toBe(200);
    expect((await fetch(`${server!.url}/services/data/v62.0/query?q=SELECT+Id+FROM+WebCart`, auth)).status).toBe(200);
    expect((await fetch(`${server!.url}/services/data/v62.0/sobjects/Nope/1`, auth)).status).toBe(404);
    for (const path of ['/', '/page/app.js', '/favicon.ico', '/page/api/flows', '/page/api/sessions', '/page/api/sessions?state=start']) {
      expect((await fetch(`${server!.url}${path}`, auth)).status, path).toBe(200);
    }
  };
  return { out, err, server: server!, traffic };
}

describe('request logs', () => {
  it("on a terminal (pretty): one short line per API request, none for the page's own traffic", async () => {
    const s = await serve(['--demo', '--log-format', 'pretty']);
    let banner: string;
    try {
      banner = s.out.text;
      await s.traffic();
    } finally {
      await s.server.close();
    }
    const logged = s.out.text.slice(banner.length).split('\n').filter(Boolean);
    const requests = logged.filter((l) => /\b(GET|POST|PATCH|DELETE) \//.test(l));
    expect(requests.map((l) => l.replace(/^.*?INFO.*?: /, '').replace(/ \d+ ms$/, ' _ ms'))).toEqual([
      'POST /services/oauth2/token 200 _ ms',
      'GET /services/data 200 _ ms',
      'GET /services/data/v62.0/query?q=SELECT+Id+FROM+WebCart 200 _ ms',
      'GET /services/data/v62.0/sobjects/Nope/1 404 _ ms',
    ]);
    // Each request is one line: no field dump under it, no float noise.
    expect(s.out.text).not.toMatch(/responseTime|reqId|statusCode|incoming request|request completed/);
    expect(s.out.text).not.toContain('/page/api/');
  });

  it('JSON: one structured line per request (rounded ms, redacted URL); page traffic only at debug; --demo counts what it seeded', async () => {
    const s = await serve(['--demo', '--log-format', 'json']);
    try {
      await s.traffic();
      expect(
        (await fetch(`${s.server.url}/services/oauth2/token?grant_type=password&username=x&password=hunter2-secret`, { method: 'POST' }))
          .status,
      ).toBe(400);
    } finally {
      await s.server.close();
    }
    const lines = s.err.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
    const started = lines.find((l) => l.event === 'started')!;
    expect(started.demo).toBe(true);
    expect(started.seeded).toBeGreaterThan(10); // the demo store's records, not 0
    const requests = lines.filter((l) => l.req && l.res);
    expect(requests.map((l) => `${l.req.method} ${l.req.url} ${l.res.statusCode}`)).toEqual([
      'POST /services/oauth2/token 200',
      'GET /services/data 200',
      'GET /services/data/v62.0/query?q=SELECT+Id+FROM+WebCart 200',
      'GET /services/data/v62.0/sobjects/Nope/1 404',
      'POST /services/oauth2/token?grant_type=password&username=x&password=[REDACTED] 400',
    ]);
    for (const l of requests) {
      expect(l.level).toBe(30);
      expect(Number.isInteger(l.responseTime * 10)).toBe(true);
      expect(l.msg.startsWith(`${l.req.method} ${l.req.url} ${l.res.statusCode} `)).toBe(true);
      expect(l.msg).toMatch(/ \d+ ms$/);
    }
    expect(s.err.text).not.toContain('hunter2-secret');
    expect(s.err.text).not.toContain('/page/');
  });

  it("at debug the page's own requests are logged too", async () => {
    const s = await serve(['--log-format', 'json', '--log-level', 'debug', '--demo']);
    try {
      await s.traffic();
    } finally {
      await s.server.close();
    }
    const lines = s.err.text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
    const page = lines.filter((l) => l.req && l.level === 20).map((l) => l.req.url);
    expect(page).toEqual(['/', '/page/app.js', '/favicon.ico', '/page/api/flows', '/page/api/sessions', '/page/api/sessions?state=start']);
  });
});
