/**
 * Sign-in and request limits, tried as a hostile client would: wrong-password loops don't stall
 * anyone else (scrypt runs off the event loop), logins are throttled per username and per client
 * address in OAuth's error shape, tokens live hashed in the database (a second engine process on
 * the same SQLite file or PostgreSQL database accepts them, they survive a restart, revoking one or
 * changing the password ends it), usernames ignore case and surrounding spaces, an invocation with
 * 30,000 inputs is refused before any work, and every error the HTTP framework raises itself
 * answers in Salesforce's `[{ message, errorCode, fields }]` shape.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, freshPgUrl, freshSqliteFile } from '../helpers/backends.js';
import { PASSWORD, startTestServer, V, type TestServer } from '../http/helpers.js';
import { createCheckoutEngine, EngineError } from '../../src/index.js';
import { startServer } from '../../src/http/server.js';
import { demoFixture } from '../../src/demo/fixture.js';

afterAll(dropTestSchemas);

const BIN = join(resolve(import.meta.dirname, '../..'), 'src/cli/bin.mjs');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Logs in through the token endpoint; returns status and OAuth body (and the Retry-After header). */
async function login(url: string, username: string, password: string): Promise<{ status: number; body: any; retryAfter: string | null }> {
  const res = await fetch(`${url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
  });
  return { status: res.status, body: await res.json(), retryAfter: res.headers.get('retry-after') };
}

/** GET with a bearer token; returns the status. */
const statusWith = (url: string, token: string) => fetch(url, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);

/** Starts `checkout-engine serve` as a separate OS process on `db`; resolves with its URL. */
function spawnServe(db: string): Promise<{ url: string; proc: ChildProcess }> {
  const env = { ...process.env };
  delete env.PORT;
  const proc = spawn(process.execPath, [BIN, 'serve', '--db', db, '--port', '0', '--log-level', 'silent'], { env });
  children.push(proc);
  return new Promise((resolvePromise, reject) => {
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolvePromise({ url: m[1]!, proc });
    });
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

/** Every row of the internal token table, read straight from the database. */
async function storedTokenRows(location: string): Promise<Record<string, unknown>[]> {
  if (!location.startsWith('postgres')) {
    const db = new Database(location, { readonly: true });
    try {
      return db.prepare('select * from "EngineAuthToken"').all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
  const url = new URL(location);
  const schema = url.searchParams.get('schema')!;
  url.searchParams.delete('schema');
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    return (await c.query(`select * from "${schema}"."EngineAuthToken"`)).rows;
  } finally {
    await c.end();
  }
}

describe.each([
  { name: 'sqlite-file', location: freshSqliteFile },
  { name: 'postgres', location: freshPgUrl },
])('tokens in the database ($name)', (backend) => {
  let location: string;
  let t: TestServer;
  let other: { url: string; proc: ChildProcess };
  beforeAll(async () => {
    location = backend.location();
    t = await startTestServer(location);
    other = await spawnServe(location);
  }, 60_000);
  afterAll(async () => {
    other?.proc.kill('SIGTERM');
    await t?.close();
  });

  it('a token issued by one process is accepted by another engine process on the same database, with no shared secret', async () => {
    const token = await t.token();
    expect(await statusWith(`${other.url}${V}/sobjects/WebCart/${t.ids.cart}`, token)).toBe(200);
    // And the other way round: a token the child issued works here.
    const theirs = await login(other.url, 'buyer@acme.example', PASSWORD);
    expect(theirs.status).toBe(200);
    expect(await statusWith(`${t.url}${V}/sobjects/WebCart/${t.ids.cart}`, theirs.body.access_token)).toBe(200);
    // A forged token is refused by both.
    for (const url of [t.url, other.url]) expect(await statusWith(`${url}${V}`, `${token}x`)).toBe(401);
  });

  it('tokens are opaque and stored only as their SHA-256', async () => {
    const token = await t.token('admin@store.example');
    expect(token).toMatch(/^00D000000000001EAA![A-Za-z0-9_-]{43}$/);
    const rows = await storedTokenRows(location);
    expect(rows.length).toBeGreaterThan(0);
    const text = JSON.stringify(rows);
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split('!')[1]);
    expect(rows.map((r) => r.Id)).toContain(createHash('sha256').update(token).digest('hex'));
  });

  it('the token table is never exposed through sObject URLs, SOQL or describe', async () => {
    const admin = await t.token('admin@store.example');
    expect((await t.call('GET', `${V}/sobjects/EngineAuthToken/describe`, { token: admin })).status).toBe(404);
    const q = await t.call('GET', `${V}/query?q=${encodeURIComponent('SELECT Id FROM EngineAuthToken')}`, { token: admin });
    expect(q.status).toBe(400);
    expect(q.body[0].errorCode).toBe('INVALID_TYPE');
    const global = await t.call('GET', `${V}/sobjects`, { token: admin });
    expect(global.body.sobjects.map((o: { name: string }) => o.name)).not.toContain('EngineAuthToken');
    expect(global.body.sobjects.map((o: { name: string }) => o.name)).not.toContain('EngineSetting');
  });

  it('a revoked token is refused by every process; revoking it again is unsupported_token_type', async () => {
    const token = await t.token();
    expect(await statusWith(`${other.url}${V}`, token)).toBe(200);
    const revoke = () =>
      fetch(`${other.url}/services/oauth2/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${encodeURIComponent(token)}`,
      });
    expect((await revoke()).status).toBe(200);
    expect(await statusWith(`${t.url}${V}`, token)).toBe(401);
    expect(await statusWith(`${other.url}${V}`, token)).toBe(401);
    const again = await revoke();
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({ error: 'unsupported_token_type', error_description: 'this token type is not supported' });
    const missing = await fetch(`${t.url}/services/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toBe('invalid_request');
  });

  it("a password change ends the user's tokens in every process; other users keep theirs", async () => {
    const admin = await t.token('admin@store.example');
    const buyer1 = await t.token();
    const buyer2 = (await login(other.url, 'buyer@acme.example', PASSWORD)).body.access_token as string;
    const outsider = await t.token('buyer@globex.example');
    const change = await t.call('PATCH', `${V}/sobjects/User/${t.ids.buyer}`, { token: admin, body: { Password: 'a-new-password-2' } });
    expect(change.status).toBe(204);
    for (const token of [buyer1, buyer2]) {
      expect(await statusWith(`${t.url}${V}`, token)).toBe(401);
      expect(await statusWith(`${other.url}${V}`, token)).toBe(401);
    }
    expect(await statusWith(`${other.url}${V}`, outsider)).toBe(200);
    expect(await statusWith(`${t.url}${V}`, admin)).toBe(200);
    expect((await login(t.url, 'buyer@acme.example', PASSWORD)).status).toBe(400);
    const fresh = await login(other.url, 'buyer@acme.example', 'a-new-password-2');
    expect(fresh.status).toBe(200);
    // A refused password change (a buyer editing someone else) ends nothing.
    const refused = await t.call('PATCH', `${V}/sobjects/User/${t.ids.admin}`, {
      token: fresh.body.access_token,
      body: { Password: 'hijack-1234' },
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(await statusWith(`${t.url}${V}`, admin)).toBe(200);
  });

  it('tokens survive a restart of every process', async () => {
    const token = await t.token('admin@store.example');
    other.proc.kill('SIGTERM');
    await new Promise((r) => other.proc.once('exit', r));
    await t.close();
    const engine = await createCheckoutEngine({ storage: location, onError: () => {} });
    const again = await startServer(engine, { port: 0, log: false });
    try {
      expect(await statusWith(`${again.url}${V}/sobjects/WebCart/${t.ids.cart}`, token)).toBe(200);
    } finally {
      await again.close();
    }
  });
});

describe('usernames ignore case and surrounding spaces', () => {
  let t: TestServer;
  let admin: string;
  beforeAll(async () => {
    t = await startTestServer(':memory:');
    admin = await t.token('admin@store.example');
  });
  afterAll(() => t.close());

  it('are stored normalized, unique regardless of case and spaces, and log in however typed', async () => {
    const created = await t.call('POST', `${V}/sobjects/User`, {
      token: admin,
      body: { Username: '  Carol@Acme.Example ', Name: 'Carol', AccountId: t.ids.acme, Password: 'carol-pass-1' },
    });
    expect(created.status).toBe(201);
    expect((await t.call('GET', `${V}/sobjects/User/${created.body.id}`, { token: admin })).body.Username).toBe('carol@acme.example');
    for (const name of ['CAROL@acme.example', ' carol@acme.example', 'Buyer@Acme.Example']) {
      const dup = await t.call('POST', `${V}/sobjects/User`, { token: admin, body: { Username: name, Password: 'x-pass-1234' } });
      expect(dup.status, name).toBe(400);
      expect(dup.body[0].errorCode).toBe('DUPLICATE_VALUE');
    }
    // Renaming a user onto another's name in another case is a duplicate too.
    const rename = await t.call('PATCH', `${V}/sobjects/User/${created.body.id}`, {
      token: admin,
      body: { Username: ' BUYER@acme.EXAMPLE' },
    });
    expect(rename.status).toBe(400);
    expect(rename.body[0].errorCode).toBe('DUPLICATE_VALUE');
    const blank = await t.call('POST', `${V}/sobjects/User`, { token: admin, body: { Username: '    ', Password: 'x-pass-1234' } });
    expect(blank.status).toBe(400);
    expect(blank.body[0].fields).toContain('Username');
    expect((await login(t.url, ' CAROL@ACME.EXAMPLE  ', 'carol-pass-1')).status).toBe(200);
    expect((await login(t.url, 'Buyer@ACME.example', PASSWORD)).status).toBe(200);
    expect(await t.engine.userIdByUsername(' Carol@acme.example')).toBe(created.body.id);
  });

  it('a fixture can’t seed the same username twice in different case', async () => {
    const engine = await createCheckoutEngine({ onError: () => {} });
    try {
      await engine.seed({ User: [{ ref: 'a', Username: ' Dup@Example.com', Password: 'p-123456' }] });
      await expect(engine.seed({ User: [{ ref: 'b', Username: 'dup@example.COM ', Password: 'p-123456' }] })).rejects.toBeInstanceOf(
        EngineError,
      );
      expect(await engine.userIdByUsername('DUP@example.com')).toBeTruthy();
    } finally {
      await engine.close();
    }
  });
});

describe('login throttling', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(':memory:', {
      server: { loginLimits: { perUsername: { max: 3, windowSeconds: 600 }, perAddress: { max: 12, windowSeconds: 600 } } },
    });
  });
  afterAll(() => t.close());

  it('after 3 failed attempts a username is refused (even with the right password) with 429 in OAuth shape; others are not', async () => {
    // Successful logins don't count against the username.
    for (let i = 0; i < 4; i++) expect((await login(t.url, 'admin@store.example', PASSWORD)).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const r = await login(t.url, 'buyer@acme.example', `wrong-${i}`);
      expect(r).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: 'authentication failure' } });
    }
    // However the name is typed, it's the same username.
    for (const name of ['buyer@acme.example', ' BUYER@acme.example']) {
      const r = await login(t.url, name, PASSWORD);
      expect(r.status).toBe(429);
      expect(Object.keys(r.body).sort()).toEqual(['error', 'error_description']);
      expect(r.body.error).toBe('invalid_grant');
      expect(r.body.error_description).toContain('too many failed attempts for this username');
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
    }
    expect((await login(t.url, 'buyer@globex.example', PASSWORD)).status).toBe(200);
    expect(t.logs.all).toContain('"event":"login_throttled"');
  });

  it('every attempt counts per client address; past the limit the address is refused', async () => {
    // 4 + 3 + 2 + 1 attempts so far; two more reach 12, the 13th is refused whatever it sends.
    expect((await login(t.url, 'nobody@example.com', 'x')).status).toBe(400);
    expect((await login(t.url, 'admin@store.example', PASSWORD)).status).toBe(200);
    const r = await login(t.url, 'admin@store.example', PASSWORD);
    expect(r.status).toBe(429);
    expect(r.body).toMatchObject({ error: 'invalid_grant' });
    expect(r.body.error_description).toContain('too many attempts from this address');
  });
});

describe('wrong-password loops run off the event loop', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(':memory:', {
      server: { log: false, loginLimits: { perUsername: { max: 10_000 }, perAddress: { max: 10_000 } } },
    });
  });
  afterAll(() => t.close());

  it('16 loops of wrong passwords do not hold up a concurrent request', async () => {
    const token = await t.token();
    const events: string[] = [];
    const LOOPS = 16;
    const ATTEMPTS = 4;
    const loops = Array.from({ length: LOOPS }, async (_, i) => {
      for (let k = 0; k < ATTEMPTS; k++) {
        const r = await login(t.url, 'buyer@acme.example', `wrong-${i}-${k}`);
        expect(r.status).toBe(400);
        events.push('login');
      }
    });
    // Five reads one after the other, issued while the loops run.
    const reads = (async () => {
      await new Promise((r) => setImmediate(r));
      events.push('reads-start');
      for (let k = 0; k < 5; k++) {
        expect(await statusWith(`${t.url}${V}/sobjects/WebCart/${t.ids.cart}`, token)).toBe(200);
        events.push('read');
      }
      events.push('reads-end');
    })();
    await Promise.all([...loops, reads]);
    const start = events.indexOf('reads-start');
    const end = events.indexOf('reads-end');
    const loginsDuring = events.slice(start, end).filter((e) => e === 'login').length;
    // The reads finished before the loops did, and while they ran fewer logins completed than
    // one per loop: with hashing on the event loop each read would wait behind a whole round.
    expect(events.lastIndexOf('login')).toBeGreaterThan(end);
    expect(loginsDuring).toBeLessThan(LOOPS);
    expect(events.filter((e) => e === 'login')).toHaveLength(LOOPS * ATTEMPTS);
  });
});

/** Asserts Salesforce's REST error shape, exactly. */
function expectRestShape(r: { status: number; body: any }, status: number, errorCode: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(Array.isArray(r.body)).toBe(true);
  expect(r.body).toHaveLength(1);
  expect(Object.keys(r.body[0]).sort()).toEqual(['errorCode', 'fields', 'message']);
  expect(r.body[0].errorCode).toBe(errorCode);
  expect(r.body[0].message.length).toBeGreaterThan(10);
}

/** A raw HTTP/1.1 request (for what fetch won't send), answering status, headers and parsed body. */
function rawRequest(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  return new Promise((resolvePromise, reject) => {
    const req = httpRequest(new URL(path, url), { method: 'GET', headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolvePromise({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('request limits and framework errors', () => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer(':memory:', { server: { bodyLimit: 1024 * 1024 } });
    token = await t.token();
  });
  afterAll(() => t.close());

  it('30,000 inputs in one invocation: 400 naming inputs, and nothing changed', async () => {
    const before = await t.call('GET', `${V}/sobjects/CartCheckoutSession/${t.ids.session}`, { token });
    const cartBefore = await t.call('GET', `${V}/sobjects/WebCart/${t.ids.cart}`, { token });
    const inputs = Array.from({ length: 30_000 }, () => ({ cartId: t.ids.cart }));
    const r = await t.call('POST', `${V}/actions/standard/cartToOrderAction`, { token, body: { inputs } });
    expectRestShape(r, 400, 'LIMIT_EXCEEDED');
    expect(r.body[0].fields).toEqual(['inputs']);
    expect(r.body[0].message).toContain('30000');
    expect(r.body[0].message).toContain('200');
    expect((await t.call('GET', `${V}/sobjects/CartCheckoutSession/${t.ids.session}`, { token })).body).toEqual(before.body);
    expect((await t.call('GET', `${V}/sobjects/WebCart/${t.ids.cart}`, { token })).body).toEqual(cartBefore.body);
    const orders = await t.call('GET', `${V}/query?q=${encodeURIComponent('SELECT Id FROM Order')}`, { token });
    expect(orders.body.totalSize).toBe(0);
    // 200 inputs is within the limit: each gets its own result.
    const ok = await t.call('POST', `${V}/actions/standard/cartToOrderAction`, {
      token,
      body: { inputs: Array.from({ length: 200 }, () => ({ cartId: 'not-a-cart' })) },
    });
    expect(ok.body).toHaveLength(200);
    expect(ok.body[0].errors[0].message).toContain('Invalid CartId Input');
  });

  it('the library applies the same limit, configurable per engine', async () => {
    const engine = await createCheckoutEngine({ onError: () => {}, maxInputsPerInvocation: 3 });
    try {
      const ids = await engine.seed(demoFixture({}));
      const err = await engine.invokeAny('cartToOrderAction', [{}, {}, {}, {}], { userId: ids.buyer! }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect(err).toMatchObject({ key: 'TOO_MANY_INPUTS', code: 'LIMIT_EXCEEDED', status: 400, fields: ['inputs'] });
      expect(await engine.invokeAny('cartToOrderAction', [{}, {}, {}], { userId: ids.buyer! })).toHaveLength(3);
    } finally {
      await engine.close();
    }
  });

  it('every error the framework raises answers in Salesforce shape', async () => {
    // 413: over the body limit.
    expectRestShape(
      await t.call('POST', `${V}/sobjects/WebCart`, { token, raw: JSON.stringify({ Name: 'x'.repeat(1_100_000) }) }),
      413,
      'REQUEST_ENTITY_TOO_LARGE',
    );
    // 415: a body that isn't JSON.
    expectRestShape(
      await t.call('POST', `${V}/sobjects/WebCart`, { token, raw: 'Name=x', contentType: 'text/plain' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectRestShape(
      await t.call('POST', `${V}/sobjects/WebCart`, { token, raw: '<Name/>', contentType: 'application/xml' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    // 400: malformed JSON.
    expectRestShape(
      await t.call('PATCH', `${V}/sobjects/WebCart/${t.ids.cart}`, { token, raw: '{"PoNumber": ' }),
      400,
      'JSON_PARSER_ERROR',
    );
    // 404: no such route.
    expectRestShape(await t.call('GET', `${V}/no/such/thing`, { token }), 404, 'NOT_FOUND');
    // 405: a known resource with a method it doesn't take, with Allow.
    const wrong = await fetch(`${t.url}${V}/query?q=SELECT+Id+FROM+WebCart`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expectRestShape({ status: wrong.status, body: await wrong.json() }, 405, 'METHOD_NOT_ALLOWED');
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    const post = await t.call('POST', `${V}/sobjects/WebCart/${t.ids.cart}`, { token, body: {} });
    expectRestShape(post, 405, 'METHOD_NOT_ALLOWED');
    expect(post.body[0].message).toContain('GET, PATCH, DELETE');
    // 400: a URL Fastify can't decode.
    expectRestShape(await t.call('GET', `${V}/sobjects/WebCart/%zz`, { token }), 400, 'BAD_REQUEST');
    // 431: headers over Node's limit, answered before any route runs.
    const big = await rawRequest(t.url, `${V}/sobjects`, { authorization: `Bearer ${token}`, 'x-padding': 'p'.repeat(20_000) });
    expectRestShape(big, 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE');
  });
});
