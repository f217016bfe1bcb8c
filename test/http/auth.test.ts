/**
 * Security over HTTP: bearer tokens on every endpoint but the token endpoint, expiry, forgery,
 * tokens shared by processes on one database, deactivated users, hashed passwords, Salesforce
 * sharing (own or shared carts, own account's records; ModifyAllData sees all), and no secret in
 * logs or error bodies.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, freshPgUrl, freshSqliteFile } from '../helpers/backends.js';
import { claimCartToOrder, PASSWORD, startTestServer, V, type TestServer } from './helpers.js';
import { startServer } from '../../src/http/server.js';
import { createCheckoutEngine } from '../../src/index.js';

afterAll(dropTestSchemas);

async function storedPasswords(location: string): Promise<string[]> {
  if (!location.startsWith('postgres')) {
    const db = new Database(location, { readonly: true });
    try {
      return db
        .prepare('select Password from "User"')
        .all()
        .map((r) => String((r as { Password: string }).Password));
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
    return (await c.query(`select "Password" from "${schema}"."User"`)).rows.map((r) => String(r.Password));
  } finally {
    await c.end();
  }
}

const BACKENDS = [
  { name: 'sqlite-file', location: freshSqliteFile },
  { name: 'postgres', location: freshPgUrl },
];

describe.each(BACKENDS)('security on $name', (backend) => {
  let location: string;
  let t: TestServer;
  let now = Date.now();
  let buyer: string;
  let outsider: string;
  let admin: string;
  const issued: string[] = [];
  beforeAll(async () => {
    location = backend.location();
    t = await startTestServer(location, { engine: { clock: () => new Date(now) }, server: { tokenTtlSeconds: 600 } });
    buyer = await t.token();
    outsider = await t.token('buyer@globex.example');
    admin = await t.token('admin@store.example');
    issued.push(buyer, outsider, admin);
  });
  afterAll(() => t.close());

  it('every endpoint but the token endpoint, the versions list and revoke needs a valid bearer token', async () => {
    const cart = `${V}/sobjects/WebCart/${t.ids.cart}`;
    // Salesforce documents GET /services/data as "Authentication: none".
    expect((await t.call('GET', '/services/data')).status).toBe(200);
    const requests: [string, string, unknown?][] = [
      ['GET', '/services/oauth2/userinfo'],
      ['GET', V],
      ['GET', `${V}/actions`],
      ['GET', `${V}/actions/standard`],
      ['GET', `${V}/actions/standard/cartToOrderAction`],
      ['POST', `${V}/actions/standard/cartToOrderAction`, { inputs: [{ cartId: t.ids.cart }] }],
      ['GET', `${V}/sobjects`],
      ['GET', `${V}/sobjects/WebCart`],
      ['GET', `${V}/sobjects/WebCart/describe`],
      ['GET', cart],
      ['POST', `${V}/sobjects/WebCart`, { Name: 'x', WebStoreId: t.ids.store, AccountId: t.ids.acme }],
      ['PATCH', cart, { PoNumber: 'stolen' }],
      ['DELETE', cart],
      ['GET', `${V}/query?q=SELECT+Id+FROM+WebCart`],
      ['GET', '/openapi.json'],
      ['GET', `/id/00D000000000001EAA/${t.ids.buyer}`],
      ['GET', '/no/such/route'],
      // A path some route serves, with a method none takes (405 with a token): no token, 401 first.
      ['PUT', cart, { PoNumber: 'stolen' }],
    ];
    const forged = buyer.slice(0, -3) + (buyer.endsWith('AAA') ? 'BBB' : 'AAA');
    for (const [method, path, body] of requests) {
      for (const token of [undefined, 'garbage', forged]) {
        const r = await t.call(method, path, { token, body });
        expect(r.status, `${method} ${path} with ${token ? 'bad' : 'no'} token`).toBe(401);
        expect(r.body).toEqual([
          { message: expect.stringContaining('Session expired or invalid'), errorCode: 'INVALID_SESSION_ID', fields: [] },
        ]);
      }
    }
    // HEAD is GET without a body: a token where GET needs one, none where GET is public.
    expect((await fetch(`${t.url}${cart}`, { method: 'HEAD' })).status).toBe(401);
    expect((await fetch(`${t.url}/services/data`, { method: 'HEAD' })).status).toBe(200);
    expect((await t.call('PUT', cart, { token: buyer, body: {} })).status).toBe(405);
    expect((await t.call('GET', cart, { token: buyer })).body.PoNumber).toBe('PO-1001');
    // Salesforce's older "OAuth <token>" scheme works as well as "Bearer".
    const res = await fetch(`${t.url}${V}`, { headers: { authorization: `OAuth ${buyer}` } });
    expect(res.status).toBe(200);
  });

  it('tokens expire', async () => {
    const short = await startServer(t.engine, { port: 0, tokenTtlSeconds: 60, log: false });
    try {
      const res = await fetch(`${short.url}/services/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=password&username=buyer%40acme.example&password=${PASSWORD}`,
      });
      const token = ((await res.json()) as { access_token: string }).access_token;
      const get = () => fetch(`${short.url}${V}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
      expect(await get()).toBe(200);
      now += 59_000;
      expect(await get()).toBe(200);
      now += 2_000;
      expect(await get()).toBe(401);
    } finally {
      now = Date.now();
      await short.app.close(); // the engine belongs to the main test server
    }
  });

  it('a token from one process works in another on the same database, with no shared secret', async () => {
    const engine2 = await createCheckoutEngine({ storage: location, onError: () => {} });
    const same = await startServer(engine2, { port: 0, log: false });
    try {
      const ok = await fetch(`${same.url}${V}/sobjects/WebCart/${t.ids.cart}`, { headers: { authorization: `Bearer ${buyer}` } });
      expect(ok.status).toBe(200);
      const forged = await fetch(`${same.url}${V}/sobjects/WebCart/${t.ids.cart}`, { headers: { authorization: `Bearer ${buyer}x` } });
      expect(forged.status).toBe(401);
    } finally {
      await same.close();
    }
  });

  it('passwords are stored hashed (scrypt) and never returned', async () => {
    const stored = await storedPasswords(location);
    expect(stored).toHaveLength(3);
    for (const p of stored) {
      expect(p).toMatch(/^scrypt\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
      expect(p).not.toContain(PASSWORD);
    }
    const me = await t.call('GET', `${V}/sobjects/User/${t.ids.buyer}`, { token: buyer });
    expect(me.status).toBe(200);
    expect(me.body).not.toHaveProperty('Password');
    const q = await t.call('GET', `${V}/query?q=${encodeURIComponent('SELECT Id, Password FROM User')}`, { token: admin });
    expect(q.status).toBe(400);
  });

  it('a buyer reads and writes only their own or shared carts and their account records', async () => {
    const cart = `${V}/sobjects/WebCart/${t.ids.cart}`;
    // The outsider (another account) gets Salesforce's answer for records they can't see: NOT_FOUND.
    for (const [method, body] of [['GET'], ['PATCH', { PoNumber: 'mine' }], ['DELETE']] as const) {
      const r = await t.call(method, cart, { token: outsider, body });
      expect(r.status, method).toBe(404);
      expect(r.body[0].errorCode).toBe('NOT_FOUND');
    }
    expect((await t.call('GET', `${V}/sobjects/Account/${t.ids.acme}`, { token: outsider })).status).toBe(404);
    expect((await t.call('GET', `${V}/sobjects/User/${t.ids.buyer}`, { token: outsider })).status).toBe(404);
    const seen = await t.call('GET', `${V}/query?q=${encodeURIComponent('SELECT Id FROM WebCart')}`, { token: outsider });
    expect(seen.body.totalSize).toBe(0);
    const items = await t.call('GET', `${V}/query?q=${encodeURIComponent('SELECT Id FROM CartItem')}`, { token: outsider });
    expect(items.body.totalSize).toBe(0);
    const act = await t.call('POST', `${V}/actions/standard/cartToOrderAction`, {
      token: outsider,
      body: { inputs: [{ cartId: t.ids.cart }] },
    });
    expect(act.body[0].isSuccess).toBe(false);
    expect(act.body[0].errors[0].statusCode).toBe('UNKNOWN_EXCEPTION'); // requirement 1: a cart they can't see answers as a missing one

    // A buyer can't create records for another account, nor grant themselves access.
    const steal = await t.call('POST', `${V}/sobjects/WebCartShare`, {
      token: outsider,
      body: { ParentId: t.ids.cart, UserOrGroupId: t.ids.outsider, AccessLevel: 'Edit' },
    });
    // (a cart the caller can't see answers as if it didn't exist)
    expect(steal.status).toBe(400);
    expect(steal.body[0]).toMatchObject({ errorCode: 'INVALID_CROSS_REFERENCE_KEY', fields: ['ParentId'] });
    const mint = await t.call('PATCH', `${V}/sobjects/User/${t.ids.outsider}`, {
      token: outsider,
      body: { Permissions: ['ModifyAllData'] },
    });
    expect(mint.status).toBe(403);

    // A buyer shares only with active users of the cart's account: another account's user answers as a missing one.
    const share = await t.call('POST', `${V}/sobjects/WebCartShare`, {
      token: buyer,
      body: { ParentId: t.ids.cart, UserOrGroupId: t.ids.outsider, AccessLevel: 'Read' },
    });
    expect(share.status).toBe(400);
    expect(share.body[0]).toMatchObject({ errorCode: 'INVALID_CROSS_REFERENCE_KEY', fields: ['UserOrGroupId'] });
    // A Read share (here set up as fixture data) lets the outsider read the cart but not change it.
    await t.engine.seed({ WebCartShare: [{ ParentId: t.ids.cart, UserOrGroupId: t.ids.outsider, AccessLevel: 'Read' }] });
    expect((await t.call('GET', cart, { token: outsider })).status).toBe(200);
    const write = await t.call('PATCH', cart, { token: outsider, body: { PoNumber: 'mine' } });
    expect(write.status).toBe(403);
    expect(write.body[0].errorCode).toBe('INSUFFICIENT_ACCESS_OR_READONLY');
    expect((await t.call('GET', cart, { token: buyer })).body.PoNumber).toBe('PO-1001');
    const readOnly = await t.call('POST', `${V}/actions/standard/cartToOrderAction`, {
      token: outsider,
      body: { inputs: [{ cartId: t.ids.cart }] },
    });
    expect(readOnly.body[0].isSuccess).toBe(false);

    // ModifyAllData sees and edits everything.
    const all = await t.call('GET', `${V}/query?q=${encodeURIComponent('SELECT Id FROM User')}`, { token: admin });
    expect(all.body.totalSize).toBe(3);
    expect((await t.call('PATCH', cart, { token: admin, body: { PoNumber: 'PO-ADMIN' } })).status).toBe(204);
    expect((await t.call('GET', cart, { token: buyer })).body.PoNumber).toBe('PO-ADMIN');
    // And the owner can still check out.
    await claimCartToOrder(t, buyer);
    const run = await t.call('POST', `${V}/actions/standard/cartToOrderAction`, {
      token: buyer,
      body: { inputs: [{ cartId: t.ids.cart }] },
    });
    expect(run.status).toBe(200);
  });

  it("a deactivated user's tokens stop working and they can't log in", async () => {
    const before = await t.call('GET', V, { token: outsider });
    expect(before.status).toBe(200);
    expect((await t.call('PATCH', `${V}/sobjects/User/${t.ids.outsider}`, { token: admin, body: { IsActive: false } })).status).toBe(204);
    expect((await t.call('GET', V, { token: outsider })).status).toBe(401);
    await expect(t.token('buyer@globex.example')).rejects.toThrow(/invalid_grant/);
  });

  it('no password, secret or token appears in logs or error bodies', async () => {
    // A login with the password in the URL (as some clients do) and failed logins.
    const q = new URLSearchParams({
      grant_type: 'password',
      username: 'buyer@acme.example',
      password: PASSWORD,
      client_secret: 'client-secret-xyz',
    });
    const viaUrl = await fetch(`${t.url}/services/oauth2/token?${q}`, { method: 'POST' });
    expect(viaUrl.status).toBe(200);
    issued.push(((await viaUrl.json()) as { access_token: string }).access_token);
    const bad = await fetch(`${t.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=buyer%40acme.example&password=wrong-password-42',
    });
    const badText = await bad.text();
    const forged = await t.call('GET', V, { token: `${buyer}x` });
    const bodies = badText + JSON.stringify(forged.body);
    const logs = t.logs.all;
    expect(logs).toContain('"statusCode":401'); // the requests above were logged
    expect(logs).toContain('[REDACTED]');
    for (const secret of [PASSWORD, 'wrong-password-42', 'client-secret-xyz', ...issued]) {
      expect(logs).not.toContain(secret);
      expect(bodies).not.toContain(secret);
    }
  });
});
