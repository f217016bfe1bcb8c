/**
 * Login throttles kept in the database (issue 17 item 7): two servers on one SQLite file, and on one
 * PostgreSQL schema, count together; a restart forgets nothing; an attacker's ten wrong passwords
 * for a victim's username lock out new addresses but not the address the victim signed in from
 * before (with the right password); refusals do no password work; wrong-password answers keep
 * Salesforce's OAuth shape. Client addresses are set with X-Forwarded-For (trustProxy).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dropTestSchemas, freshPgUrl, freshSqliteFile } from '../helpers/backends.js';
import { PASSWORD, startTestServer, type TestServer } from '../http/helpers.js';
import { createCheckoutEngine } from '../../src/index.js';
import { startServer, type RunningServer } from '../../src/http/server.js';

afterAll(dropTestSchemas);

const VICTIM = 'buyer@acme.example';
const VICTIM_HOME = '192.0.2.10';
const ATTACKER = '203.0.113.7';
const NEWCOMER = '198.51.100.9';
const LIMITS = { perUsername: { max: 3, windowSeconds: 600 }, perAddress: { max: 40, windowSeconds: 600 } };

async function login(url: string, address: string, username: string, password: string) {
  const res = await fetch(`${url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
    body: new URLSearchParams({ grant_type: 'password', username, password }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string>, retryAfter: res.headers.get('retry-after') };
}

/** The exact answer to a wrong password, as Salesforce gives it. */
function expectWrongPassword(r: { status: number; body: Record<string, string> }) {
  expect(r.status).toBe(400);
  expect(r.body).toEqual({ error: 'invalid_grant', error_description: 'authentication failure' });
}

function expectLocked(r: { status: number; body: Record<string, string>; retryAfter: string | null }, which: 'username' | 'address') {
  expect(r.status).toBe(429);
  expect(Object.keys(r.body).sort()).toEqual(['error', 'error_description']);
  expect(r.body.error).toBe('invalid_grant');
  expect(r.body.error_description).toContain(
    which === 'username' ? 'too many failed attempts for this username' : 'too many attempts from this address',
  );
  expect(Number(r.retryAfter)).toBeGreaterThan(0);
}

describe.each([
  { name: 'one SQLite file', location: freshSqliteFile },
  { name: 'one PostgreSQL schema', location: freshPgUrl },
])('login throttles shared through the database ($name)', (backend) => {
  let location: string;
  let a: TestServer;
  let b: RunningServer;
  let bEngine: Awaited<ReturnType<typeof createCheckoutEngine>>;
  beforeAll(async () => {
    location = backend.location();
    a = await startTestServer(location, { server: { trustProxy: true, loginLimits: LIMITS } });
    bEngine = await createCheckoutEngine({ storage: location, onError: () => {} });
    b = await startServer(bEngine, { port: 0, log: false, trustProxy: true, loginLimits: LIMITS });
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("an attacker's failures on two servers add up; the victim still signs in from its known address; new addresses are locked out", async () => {
    // The victim signed in from home before: that address is now known for the username.
    expect((await login(a.url, VICTIM_HOME, VICTIM, PASSWORD)).status).toBe(200);
    // The attacker: two wrong passwords on A, one on B — three in all, the limit.
    expectWrongPassword(await login(a.url, ATTACKER, VICTIM, 'guess-1'));
    expectWrongPassword(await login(a.url, ATTACKER, VICTIM, 'guess-2'));
    expectWrongPassword(await login(b.url, ATTACKER, VICTIM, 'guess-3'));
    // Now the username is locked on both servers for every address that never signed in as it,
    // the attacker's included (even with the right password), and with no password work.
    const checks = vi.spyOn(bEngine, 'login');
    expectLocked(await login(b.url, ATTACKER, VICTIM, PASSWORD), 'username');
    expectLocked(await login(b.url, NEWCOMER, VICTIM, PASSWORD), 'username');
    expectLocked(await login(a.url, NEWCOMER, ` ${VICTIM.toUpperCase()}`, PASSWORD), 'username');
    expect(checks).not.toHaveBeenCalled();
    // The victim, from home, with the right password: in, on either server.
    const home = await login(b.url, VICTIM_HOME, VICTIM, PASSWORD);
    expect(home.status).toBe(200);
    expect(home.body.access_token).toBeTruthy();
    expect((await login(a.url, VICTIM_HOME, VICTIM, PASSWORD)).status).toBe(200);
    expect(checks).toHaveBeenCalledTimes(1);
    checks.mockRestore();
    // Other usernames are untouched.
    expect((await login(a.url, ATTACKER, 'buyer@globex.example', PASSWORD)).status).toBe(200);
  });

  it('a known address is still limited by its own failures', async () => {
    const home = '192.0.2.44';
    const who = 'admin@store.example';
    expect((await login(a.url, home, who, PASSWORD)).status).toBe(200);
    for (let i = 0; i < 3; i++) expectWrongPassword(await login(i % 2 ? a.url : b.url, home, who, `nope-${i}`));
    expectLocked(await login(b.url, home, who, PASSWORD), 'username');
  });

  it('every attempt counts per address on every server', async () => {
    const crowd = '203.0.113.200';
    // 40 attempts between the two servers reach the limit; the 41st is refused whatever it sends.
    for (let i = 0; i < 40; i++) {
      const r = await login(i % 2 ? a.url : b.url, crowd, `nobody-${i}@example.com`, 'x');
      expectWrongPassword(r);
    }
    expectLocked(await login(a.url, crowd, 'buyer@globex.example', PASSWORD), 'address');
    expectLocked(await login(b.url, crowd, 'buyer@globex.example', PASSWORD), 'address');
  });

  it('the counters survive a restart of every server', async () => {
    await b.close();
    await a.close();
    const engine = await createCheckoutEngine({ storage: location, onError: () => {} });
    const again = await startServer(engine, { port: 0, log: false, trustProxy: true, loginLimits: LIMITS });
    try {
      expectLocked(await login(again.url, NEWCOMER, VICTIM, PASSWORD), 'username');
      expectLocked(await login(again.url, '203.0.113.200', 'buyer@globex.example', PASSWORD), 'address');
      // The known address is remembered too.
      expect((await login(again.url, VICTIM_HOME, VICTIM, PASSWORD)).status).toBe(200);
    } finally {
      await again.close();
    }
  });
});

describe('login throttle windows', () => {
  it('a lockout ends with its window (engine clock), ended rows are swept, and no row names the username or address', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const engine = await createCheckoutEngine({ storage: ':memory:', clock: () => new Date(now), onError: () => {} });
    try {
      await engine.seed({ User: [{ ref: 'u', Username: 'win@example.com', Password: 'right-pass-1' }] });
      const limits = { perUsername: { max: 2, windowSeconds: 60 }, perAddress: { max: 100, windowSeconds: 60 }, knownAddressSeconds: 3600 };
      expect(await engine.attemptLogin('win@example.com', 'bad', '10.0.0.1', limits)).toEqual({ outcome: 'failure' });
      expect(await engine.attemptLogin('win@example.com', 'bad', '10.0.0.1', limits)).toEqual({ outcome: 'failure' });
      expect(await engine.attemptLogin('win@example.com', 'right-pass-1', '10.0.0.2', limits)).toEqual({
        outcome: 'refused',
        reason: 'username',
        retryAfterSeconds: 60,
      });
      now += 30_000;
      expect(await engine.attemptLogin('win@example.com', 'right-pass-1', '10.0.0.2', limits)).toMatchObject({
        outcome: 'refused',
        retryAfterSeconds: 30,
      });
      const during = await engine.admin.find('EngineLoginThrottle');
      expect(new Set(during.map((r) => r.Kind))).toEqual(new Set(['address', 'username', 'pair']));
      now += 30_000;
      expect(await engine.attemptLogin('win@example.com', 'right-pass-1', '10.0.0.2', limits)).toMatchObject({ outcome: 'success' });
      // Ended windows are swept; the new address window and the known address remain.
      const after = await engine.admin.find('EngineLoginThrottle');
      expect(after.map((r) => r.Kind).sort()).toEqual(['address', 'known']);
      const text = JSON.stringify([...during, ...after]);
      for (const secret of ['win@example.com', '10.0.0.1', '10.0.0.2']) expect(text).not.toContain(secret);
    } finally {
      await engine.close();
    }
  });
});
