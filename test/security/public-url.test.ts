/**
 * The URLs the server writes come from configuration, never from the Host header (issue 17 item 6):
 * a first `/openapi.json` asked with `Host: evil.example` doesn't poison the document later callers
 * get, and the token response's `instance_url` and `id`, the identity URLs and the version
 * resource's `identity` name the configured public URL (or the listen address).
 */
import { request as httpRequest } from 'node:http';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, startTestServer, V, type TestServer } from '../http/helpers.js';
import { buildServer, type RunningServer } from '../../src/http/server.js';
import { main, type CliIO } from '../../src/cli/main.js';
import { createCheckoutEngine } from '../../src/index.js';
import { parsePublicUrl } from '../../src/http/public-url.js';

const EVIL = 'evil.example';

/** A request with a Host header of our choosing (fetch won't set one). */
function send(
  url: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, url), { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const evilHeaders = { host: EVIL, 'x-forwarded-host': EVIL, 'x-forwarded-proto': 'https' };

async function tokenResponse(url: string) {
  return send(url, '/services/oauth2/token', {
    method: 'POST',
    headers: { ...evilHeaders, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: 'buyer@acme.example', password: PASSWORD }).toString(),
  });
}

/** Every URL the server wrote, from the responses a client can get. */
async function writtenUrls(t: TestServer, headers: Record<string, string>) {
  // Where it listens (t.url is the public URL when one is configured).
  const url = `http://127.0.0.1:${(t.server.app.server.address() as { port: number }).port}`;
  const login = await tokenResponse(url);
  expect(login.status).toBe(200);
  const auth = { ...headers, authorization: `Bearer ${login.body.access_token}` };
  const openapi = await send(url, '/openapi.json', { headers: auth });
  const identity = await send(url, new URL(login.body.id).pathname, { headers: auth });
  const userinfo = await send(url, '/services/oauth2/userinfo', { headers: auth });
  const version = await send(url, V, { headers: auth });
  expect([openapi.status, identity.status, userinfo.status, version.status]).toEqual([200, 200, 200, 200]);
  return { login: login.body, openapi: openapi.body, identity: identity.body, userinfo: userinfo.body, version: version.body };
}

describe.each([
  { name: 'default: the listen address', publicUrl: undefined },
  { name: 'configured public URL', publicUrl: 'https://checkout.example.com/' },
])('URLs the server writes ($name)', ({ publicUrl }) => {
  let t: TestServer;
  let base: string;
  beforeAll(async () => {
    t = await startTestServer(':memory:', { server: { trustProxy: true, ...(publicUrl ? { publicUrl } : {}) } });
    base = publicUrl ? 'https://checkout.example.com' : t.url;
    expect(t.url).toBe(base);
  });
  afterAll(() => t.close());

  it('never follow the Host header: the first OpenAPI request with Host evil.example, the token response, identity', async () => {
    // The very first OpenAPI request of this server carries the hostile Host (and X-Forwarded-Host).
    const first = await writtenUrls(t, evilHeaders);
    const later = await writtenUrls(t, {});
    for (const got of [first, later]) {
      expect(got.openapi.servers).toEqual([{ url: base }]);
      expect(got.login.instance_url).toBe(base);
      expect(got.login.id).toBe(`${base}/id/${got.login.id.split('/id/')[1]}`);
      expect(got.identity.urls.custom_domain).toBe(base);
      expect(got.userinfo.sub).toBe(got.login.id);
      expect(got.version.identity.startsWith(`${base}/id/`)).toBe(true);
      expect(JSON.stringify(got)).not.toContain(EVIL);
    }
  });
});

describe('buildServer without startServer', () => {
  it('writes the local address of the connection, not the Host header', async () => {
    const engine = await createCheckoutEngine({ onError: () => {} });
    await engine.seed({ User: [{ ref: 'u', Username: 'solo@example.com', Password: 'solo-pass-1' }] });
    const { app } = buildServer(engine, { log: false });
    try {
      const r = await app.inject({
        method: 'POST',
        url: '/services/oauth2/token',
        headers: { host: EVIL, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=password&username=solo@example.com&password=solo-pass-1',
      });
      expect(r.statusCode).toBe(200);
      expect(r.body).not.toContain(EVIL);
      expect(r.json().instance_url).toMatch(/^http:\/\/127\.0\.0\.1/);
    } finally {
      await app.close();
      await engine.close();
    }
  });

  it('refuses a public URL that is not a plain http(s) base URL', () => {
    for (const bad of ['evil.example', 'ftp://x.example', 'https://u:p@x.example', 'https://x.example/?a=1', 'https://x.example/#f']) {
      expect(() => parsePublicUrl(bad), bad).toThrow();
    }
    expect(parsePublicUrl('https://X.example:8443/base/')).toBe('https://x.example:8443/base');
  });
});

describe('serve --public-url', () => {
  it('puts the configured URL in the banner and the token response; refuses a bad one', async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    let server: RunningServer | undefined;
    const env = { ...process.env };
    delete env.CHECKOUT_ENGINE_DB;
    const io: CliIO = { out, err, env, onServe: (s) => (server = s) };
    expect(await main(['serve', '--db', ':memory:', '--port', '0', '--demo', '--public-url', 'https://shop.example.com'], io, false)).toBe(
      0,
    );
    try {
      expect(text).toContain('checkout-engine listening on https://shop.example.com');
      const port = (server!.app.server.address() as { port: number }).port;
      // The demo buyer (buyer@acme.example, the demo password), asked with Host evil.example.
      const r = await tokenResponse(`http://127.0.0.1:${port}`);
      expect(r.status).toBe(200);
      expect(r.body.instance_url).toBe('https://shop.example.com');
      expect(r.body.id.startsWith('https://shop.example.com/id/')).toBe(true);
    } finally {
      await server!.close();
    }
    let errText = '';
    const err2 = new PassThrough();
    err2.on('data', (d) => (errText += d));
    expect(
      await main(
        ['serve', '--db', ':memory:', '--port', '0', '--public-url', 'not-a-url'],
        { out: new PassThrough(), err: err2, env },
        false,
      ),
    ).toBe(2);
    expect(errText).toContain('--public-url');
  });
});
