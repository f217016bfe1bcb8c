/**
 * REST as Salesforce documents it: the versions list needs no token and labels each version with
 * its release, `latest` names the newest version, the token response carries `signature` (base64
 * HMAC-SHA256 of id + issued_at), the identity URL and `/services/oauth2/userinfo` describe the
 * token's user, and jsforce's `identity()` and `logout()` work unchanged.
 */
import { createHmac } from 'node:crypto';
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, freshPgUrl, freshSqliteFile } from '../helpers/backends.js';
import { PASSWORD, startTestServer, type TestServer } from './helpers.js';
import { createCheckoutEngine } from '../../src/index.js';
import { startServer } from '../../src/http/server.js';
import { releaseName } from '../../src/http/describe.js';

afterAll(dropTestSchemas);

/** Logs in with a form post; returns the token response. */
async function tokenResponse(url: string, username = 'buyer@acme.example'): Promise<Record<string, string>> {
  const res = await fetch(`${url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password: PASSWORD }).toString(),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, string>;
}

describe('release labels', () => {
  it('names each API version after the release that introduced it', () => {
    expect(releaseName('50.0')).toBe("Winter '21");
    expect(releaseName('51.0')).toBe("Spring '21");
    expect(releaseName('52.0')).toBe("Summer '21");
    expect(releaseName('59.0')).toBe("Winter '24");
    expect(releaseName('62.0')).toBe("Winter '25");
    expect(releaseName('63.0')).toBe("Spring '25");
    expect(releaseName('64.0')).toBe("Summer '25");
  });
});

describe.each([
  { name: 'sqlite-file', location: freshSqliteFile },
  { name: 'postgres', location: freshPgUrl },
])('REST as documented on $name', (backend) => {
  let location: string;
  let t: TestServer;
  beforeAll(async () => {
    location = backend.location();
    t = await startTestServer(location);
  });
  afterAll(() => t.close());

  it('GET /services/data/ answers without a token, labelled by release', async () => {
    for (const path of ['/services/data', '/services/data/']) {
      const r = await t.call('GET', path);
      expect(r.status, path).toBe(200);
      expect(r.body).toContainEqual({ label: "Winter '25", url: '/services/data/v62.0', version: '62.0' });
      expect(r.body.at(-1)).toEqual({ label: "Summer '25", url: '/services/data/v64.0', version: '64.0' });
    }
  });

  it('/services/data/latest/… is the newest version', async () => {
    const token = await t.token();
    const resources = await t.call('GET', '/services/data/latest', { token });
    expect(resources.status).toBe(200);
    expect(resources.body.sobjects).toBe('/services/data/v64.0/sobjects');
    const cart = await t.call('GET', `/services/data/latest/sobjects/WebCart/${t.ids.cart}`, { token });
    expect(cart.status).toBe(200);
    expect(cart.body.attributes.url).toBe(`/services/data/v64.0/sobjects/WebCart/${t.ids.cart}`);
    const q = await t.call('GET', `/services/data/latest/query?q=${encodeURIComponent('SELECT Id FROM WebCart')}`, { token });
    expect(q.body.records[0].attributes.url).toContain('/services/data/v64.0/');
    expect((await t.call('GET', '/services/data/latest/actions/standard', { token })).status).toBe(200);
  });

  it("the token response's signature is base64 HMAC-SHA256 of id + issued_at, the same in every process", async () => {
    const body = await tokenResponse(t.url);
    const engine2 = await createCheckoutEngine({ storage: location, onError: () => {} });
    try {
      // The install's key lives in the database: another engine on it signs alike.
      expect(await engine2.signTokenResponse(body.id!, body.issued_at!)).toBe(body.signature);
      expect(await engine2.signTokenResponse(body.id!, String(Number(body.issued_at) + 1))).not.toBe(body.signature);
    } finally {
      await engine2.close();
    }
    // With a configured key, a client holding it can verify the response.
    const keyed = await startServer(t.engine, { port: 0, log: false, signatureSecret: 'shared-with-the-client' });
    try {
      const k = await tokenResponse(keyed.url);
      expect(k.signature).toBe(
        createHmac('sha256', 'shared-with-the-client')
          .update(k.id! + k.issued_at!)
          .digest('base64'),
      );
    } finally {
      await keyed.app.close(); // the engine belongs to the main test server
    }
  });

  it('the identity URL and userinfo describe the token user only', async () => {
    const body = await tokenResponse(t.url);
    const who = await t.call('GET', new URL(body.id!).pathname, { token: body.access_token });
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({
      id: body.id,
      user_id: t.ids.buyer,
      organization_id: '00D000000000001EAA',
      username: 'buyer@acme.example',
      display_name: 'Bea Buyer',
      active: true,
    });
    expect(who.body.urls.sobjects).toBe(`${t.url}/services/data/v{version}/sobjects/`);
    const info = await t.call('GET', '/services/oauth2/userinfo', { token: body.access_token });
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({
      sub: body.id,
      user_id: t.ids.buyer,
      organization_id: '00D000000000001EAA',
      preferred_username: 'buyer@acme.example',
      name: 'Bea Buyer',
      active: true,
    });
    expect((await t.call('GET', '/services/oauth2/userinfo')).status).toBe(401);
    // Another user's identity URL is not visible.
    const other = await t.call('GET', `/id/00D000000000001EAA/${t.ids.admin}`, { token: body.access_token });
    expect(other.status).toBe(404);
  });

  it('jsforce identity() and logout() work unchanged', async () => {
    const conn = new jsforce.Connection({
      oauth2: { loginUrl: t.url, clientId: 'checkout-client', clientSecret: 'checkout-secret', redirectUri: 'http://localhost/callback' },
      version: '62.0',
    });
    await conn.login('buyer@acme.example', PASSWORD);
    const token = conn.accessToken!;
    const me = await conn.identity();
    expect(me).toMatchObject({ user_id: t.ids.buyer, organization_id: '00D000000000001EAA', username: 'buyer@acme.example' });
    await conn.logout();
    expect(conn.accessToken).toBeFalsy();
    // The token is revoked on the server, not only forgotten by the client.
    const after = await fetch(`${t.url}/services/data/v62.0/sobjects/WebCart/${t.ids.cart}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(after.status).toBe(401);
    expect(t.logs.all).not.toContain(token);
  });

  it('revoke also takes GET with the token in the URL (redacted from logs); HEAD of the versions list is public too', async () => {
    const token = await t.token();
    const r = await fetch(`${t.url}/services/oauth2/revoke?token=${encodeURIComponent(token)}`);
    expect(r.status).toBe(200);
    expect((await t.call('GET', '/services/data/v62.0', { token })).status).toBe(401);
    expect(t.logs.all).not.toContain(token);
    expect((await fetch(`${t.url}/services/data`, { method: 'HEAD' })).status).toBe(200);
  });
});
