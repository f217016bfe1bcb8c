/**
 * The SOAP Partner API login (`POST /services/Soap/u/{version}`): a loginResponse whose sessionId is
 * the same access token the OAuth2 password grant issues, SOAP 1.1 faults as Salesforce sends them,
 * the OAuth throttles shared with the token endpoint, hostile envelopes, and jsforce 3 logging in
 * through it (no OAuth settings) and working with the session it got.
 */
import { XMLParser } from 'fast-xml-parser';
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, freshPgUrl } from '../helpers/backends.js';
import { PASSWORD, V, startTestServer, type TestServer } from './helpers.js';

afterAll(dropTestSchemas);

const SOAP = '/services/Soap/u/64.0';
const xmlEsc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const loginXml = (username: string, password: string) =>
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">\n' +
  '  <soapenv:Header/>\n  <soapenv:Body>\n    <urn:login>\n' +
  `      <urn:username>${xmlEsc(username)}</urn:username>\n      <urn:password>${xmlEsc(password)}</urn:password>\n` +
  '    </urn:login>\n  </soapenv:Body>\n</soapenv:Envelope>';

const parser = new XMLParser({ removeNSPrefix: true, parseTagValue: false, ignoreAttributes: false });

async function soap(t: TestServer, body: string, opts: { path?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(t.url + (opts.path ?? SOAP), {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""', ...opts.headers },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    retryAfter: res.headers.get('retry-after'),
    text,
    doc: parser.parse(text),
  };
}

/** The fault of an answer: faultcode, faultstring and the detail's exception code. */
const faultOf = (r: Awaited<ReturnType<typeof soap>>) => {
  const f = r.doc.Envelope.Body.Fault;
  const detail = f.detail ? (Object.values(f.detail)[0] as Record<string, string>) : undefined;
  return { status: r.status, faultcode: f.faultcode as string, faultstring: f.faultstring as string, exceptionCode: detail?.exceptionCode };
};

const INVALID_LOGIN = {
  status: 500,
  faultcode: 'sf:INVALID_LOGIN',
  faultstring: 'INVALID_LOGIN: Invalid username, password, security token; or user locked out.',
  exceptionCode: 'INVALID_LOGIN',
};

describe('SOAP login', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(':memory:');
  });
  afterAll(() => t.close());

  it('answers a loginResponse whose sessionId works as a bearer token', async () => {
    const r = await soap(t, loginXml('buyer@acme.example', PASSWORD));
    expect(r.status, r.text).toBe(200);
    expect(r.type).toMatch(/^text\/xml/);
    const result = r.doc.Envelope.Body.loginResponse.result;
    expect(result).toMatchObject({
      metadataServerUrl: `${t.url}/services/Soap/m/64.0/${result.userInfo.organizationId}`,
      passwordExpired: 'false',
      sandbox: 'false',
      serverUrl: `${t.url}/services/Soap/u/64.0/${result.userInfo.organizationId}`,
      userId: t.ids.buyer,
      userInfo: {
        organizationId: expect.stringMatching(/^00D\w{15}$/),
        userId: t.ids.buyer,
        userName: 'buyer@acme.example',
        userFullName: 'Bea Buyer',
        sessionSecondsValid: '7200',
      },
    });
    expect(result.sessionId).toMatch(/^00D\w{15}!/);
    const me = await t.call('GET', '/services/oauth2/userinfo', { token: result.sessionId });
    expect(me.status).toBe(200);
    expect(me.body.user_id).toBe(t.ids.buyer);
    expect(t.logs.all).not.toContain(PASSWORD);
    expect(t.logs.all).not.toContain(result.sessionId);
  });

  it('decodes XML escapes in the password', async () => {
    const admin = await t.token('admin@store.example');
    const odd = 'p<&>"\'ss-1';
    const changed = await t.call('PATCH', `${V}/sobjects/User/${t.ids.admin}`, { token: admin, body: { Password: odd } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(204);
    const r = await soap(t, loginXml('admin@store.example', odd));
    expect(r.status, r.text).toBe(200);
  });

  it('answers INVALID_LOGIN for a wrong password, an unknown user and an inactive user alike', async () => {
    expect(faultOf(await soap(t, loginXml('buyer@acme.example', 'wrong-password')))).toEqual(INVALID_LOGIN);
    expect(faultOf(await soap(t, loginXml('nobody@nowhere.example', PASSWORD)))).toEqual(INVALID_LOGIN);
    const admin = await t.token('admin@store.example', 'p<&>"\'ss-1');
    expect((await t.call('PATCH', `${V}/sobjects/User/${t.ids.outsider}`, { token: admin, body: { IsActive: false } })).status).toBe(204);
    const r = await soap(t, loginXml('buyer@globex.example', PASSWORD));
    expect(faultOf(r)).toEqual(INVALID_LOGIN);
    expect(r.type).toMatch(/^text\/xml/);
    expect(r.text).toContain('xsi:type="sf:LoginFault"');
  });

  it('refuses a version not served with UNSUPPORTED_API_VERSION', async () => {
    const r = faultOf(await soap(t, loginXml('buyer@acme.example', PASSWORD), { path: '/services/Soap/u/20.0' }));
    expect(r).toMatchObject({ status: 500, faultcode: 'sf:UNSUPPORTED_API_VERSION', exceptionCode: 'UNSUPPORTED_API_VERSION' });
    expect(r.faultstring).toContain('20.0');
  });

  it('answers a soapenv:Client fault naming what is wrong with a malformed envelope', async () => {
    const cases: [string, RegExp][] = [
      ['<soapenv:Envelope><soapenv:Body><login>', /not well-formed XML/],
      ['{"username":"x"}', /not well-formed XML/],
      ['<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"/>', /no Body element/],
      ['<other/>', /root element must be/],
      [loginXml('buyer@acme.example', PASSWORD).replace(/urn:login/g, 'urn:query'), /No operation available .*query/],
      [
        loginXml('buyer@acme.example', PASSWORD).replace(/<urn:username>.*<\/urn:username>/, ''),
        /element \{urn:partner.soap.sforce.com\}username is missing/,
      ],
      [
        loginXml('buyer@acme.example', PASSWORD).replace(/<urn:password>.*<\/urn:password>/, '<urn:password/>'),
        /\}password is missing or empty/,
      ],
      [
        loginXml('buyer@acme.example', PASSWORD).replace('<urn:password>', '<urn:username>x</urn:username><urn:password>'),
        /\}username appears more than once/,
      ],
      [
        '<!DOCTYPE x [<!ENTITY a "aaaa">]>' + loginXml('buyer@acme.example', PASSWORD).replace(/^<\?xml[^>]*>\n/, ''),
        /DOCTYPE is not allowed/,
      ],
    ];
    for (const [body, message] of cases) {
      const f = faultOf(await soap(t, body));
      expect(f.status, body).toBe(500);
      expect(f.faultcode, body).toBe('soapenv:Client');
      expect(f.faultstring, body).toMatch(message);
    }
    // A JSON body parses as JSON, not as an envelope: still a SOAP fault, not a REST error.
    const json = await soap(t, '{"username":"x"}', { headers: { 'content-type': 'application/json' } });
    expect(faultOf(json)).toMatchObject({ status: 500, faultcode: 'soapenv:Client', faultstring: expect.stringMatching(/text\/xml/) });
    for (const [type, body] of [
      ['application/json', '{"username":'],
      ['text/plain', loginXml('buyer@acme.example', PASSWORD)],
    ]) {
      const r = await soap(t, body!, { headers: { 'content-type': type! } });
      expect(faultOf(r), type).toMatchObject({ status: 500, faultcode: 'soapenv:Client', faultstring: expect.stringMatching(/text\/xml/) });
    }
  });

  it('refuses hostile sizes before any hash work', async () => {
    const big = await soap(t, loginXml('buyer@acme.example', 'x'.repeat(20_000)));
    expect(faultOf(big)).toMatchObject({ status: 413, faultcode: 'soapenv:Client', faultstring: expect.stringMatching(/too large/) });
    const long = faultOf(await soap(t, loginXml('u'.repeat(2000) + '@acme.example', PASSWORD)));
    expect(long).toMatchObject({
      status: 500,
      faultcode: 'soapenv:Client',
      faultstring: expect.stringMatching(/\}username is longer than 1024/),
    });
    const deep = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>${'<a>'.repeat(2000)}${'</a>'.repeat(2000)}</soapenv:Body></soapenv:Envelope>`;
    expect(faultOf(await soap(t, deep))).toMatchObject({
      status: 500,
      faultcode: 'soapenv:Client',
      faultstring: expect.stringMatching(/nested/i),
    });
    // The server still answers.
    expect((await soap(t, loginXml('buyer@acme.example', PASSWORD))).status).toBe(200);
  });
});

describe('SOAP login throttles (shared with the token endpoint)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(':memory:', {
      server: {
        trustProxy: true,
        loginLimits: { perUsername: { max: 3, windowSeconds: 600 }, perAddress: { max: 6, windowSeconds: 600 } },
      },
    });
  });
  afterAll(() => t.close());
  const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

  it('locks a username after its failures, answering the INVALID_LOGIN fault with retry-after', async () => {
    for (let i = 0; i < 3; i++)
      expect(faultOf(await soap(t, loginXml('buyer@acme.example', 'wrong'), from('10.0.0.1')))).toEqual(INVALID_LOGIN);
    const locked = await soap(t, loginXml('buyer@acme.example', PASSWORD), from('10.0.0.2'));
    expect(faultOf(locked)).toEqual(INVALID_LOGIN);
    expect(Number(locked.retryAfter)).toBeGreaterThan(0);
    // The OAuth2 token endpoint counts the same failures.
    const oauth = await fetch(`${t.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '10.0.0.3' },
      body: new URLSearchParams({ grant_type: 'password', username: 'buyer@acme.example', password: PASSWORD }).toString(),
    });
    expect(oauth.status).toBe(429);
    // Another username is unaffected.
    expect((await soap(t, loginXml('admin@store.example', PASSWORD), from('10.0.0.4'))).status).toBe(200);
  });

  it('limits attempts per address', async () => {
    const ip = from('10.0.0.9');
    for (let i = 0; i < 6; i++) expect((await soap(t, loginXml('admin@store.example', PASSWORD), ip)).status).toBe(200);
    const refused = await soap(t, loginXml('admin@store.example', PASSWORD), ip);
    expect(faultOf(refused)).toEqual(INVALID_LOGIN);
    expect(refused.retryAfter).toBeTruthy();
  });
});

describe.each([
  { name: 'sqlite', location: () => ':memory:' },
  { name: 'postgres', location: freshPgUrl },
])('jsforce logs in through the SOAP API on $name', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(backend.location());
  });
  afterAll(() => t.close());

  it('logs in with username and password (no OAuth settings), then queries and invokes an action with the session', async () => {
    const conn = new jsforce.Connection({ loginUrl: t.url, version: '64.0' });
    const info = await conn.login('buyer@acme.example', PASSWORD);
    expect(info).toMatchObject({ id: t.ids.buyer, organizationId: expect.stringMatching(/^00D/) });
    expect(conn.instanceUrl).toBe(t.url);
    const carts = await conn.query<{ Id: string }>(`SELECT Id FROM WebCart WHERE Id = '${t.ids.cart}'`);
    expect(carts.records.map((r) => r.Id)).toEqual([t.ids.cart]);
    const [session] = await conn.requestPost<any[]>('/services/data/v64.0/actions/standard/checkoutSessionAction', {
      inputs: [{ cartId: t.ids.cart }],
    });
    expect(session).toMatchObject({ isSuccess: true, outputValues: { requestId: t.ids.session } });
    // A second buyer account's session sees none of the first one's cart.
    const other = new jsforce.Connection({ loginUrl: t.url, version: '64.0' });
    await other.login('buyer@globex.example', PASSWORD);
    expect((await other.query(`SELECT Id FROM WebCart WHERE Id = '${t.ids.cart}'`)).totalSize).toBe(0);
  });

  it('logs out through the SOAP API: the session stops working everywhere', async () => {
    const conn = new jsforce.Connection({ loginUrl: t.url, version: '64.0' });
    await conn.login('buyer@acme.example', PASSWORD);
    const token = conn.accessToken!;
    expect((await t.call('GET', V, { token })).status).toBe(200);
    await conn.logout();
    expect((await t.call('GET', V, { token })).status).toBe(401);
    // The same session again, or none at all: faults, not a REST error.
    const logout = (header: string) =>
      `<se:Envelope xmlns:se="http://schemas.xmlsoap.org/soap/envelope/"><se:Header>${header}</se:Header><se:Body><logout xmlns="urn:partner.soap.sforce.com"/></se:Body></se:Envelope>`;
    const again = faultOf(
      await soap(t, logout(`<SessionHeader xmlns="urn:partner.soap.sforce.com"><sessionId>${token}</sessionId></SessionHeader>`)),
    );
    expect(again).toEqual({
      status: 500,
      faultcode: 'sf:INVALID_SESSION_ID',
      faultstring: 'INVALID_SESSION_ID: Invalid Session ID found in SessionHeader: Illegal Session',
      exceptionCode: 'INVALID_SESSION_ID',
    });
    expect(faultOf(await soap(t, logout('')))).toMatchObject({
      faultcode: 'soapenv:Client',
      faultstring: expect.stringMatching(/\}sessionId is missing/),
    });
  });

  it('surfaces a wrong password as the INVALID_LOGIN faultstring', async () => {
    const conn = new jsforce.Connection({ loginUrl: t.url, version: '64.0' });
    await expect(conn.login('buyer@acme.example', 'wrong')).rejects.toThrow(
      'INVALID_LOGIN: Invalid username, password, security token; or user locked out.',
    );
  });
});
