/**
 * Issue 13 item 4: hostile input, as properties. fast-check generates action inputs (from each
 * action's described params), record writes (every object × create/update/delete, as buyer A, buyer
 * B of another account and the admin), SOQL (grammar-aware and arbitrary text) and raw HTTP requests;
 * each is sent through the library (`invoke`, `createRecord`, `updateRecord`, `deleteRecord`,
 * `query`) and over HTTP (Fastify `inject`, and a few over a real socket). For every one:
 * (a) nothing is thrown but an EngineError, no unhandled rejection, no internal error reported;
 * (b) every error is one of the table (src/errors.ts) — code and status as declared, never the
 *     500 "unexpected" — and over HTTP a Salesforce error body;
 * (c) after a refused request the whole database (every table, engine-internal ones included) is
 *     byte-for-byte unchanged, a refused offer's history row aside; reads change nothing at all;
 *     accepted requests leave the invariants of src/scenarios/invariants.ts true.
 *
 * Runs on SQLite in memory in `npm test`. HOSTILE_RUNS=10 runs ten times as many cases;
 * HOSTILE_PG=1 runs on PostgreSQL (TEST_DATABASE_URL) instead. The file's seed is printed at the
 * start: HOSTILE_SEED=<seed> replays every property's cases in the same order.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, freshPgUrl } from '../helpers/backends.js';
import {
  badOAuth,
  badRest,
  badResults,
  badThrow,
  buildWorld,
  changedTables,
  dumpAll,
  invariantProblems,
  prototypePolluted,
  restorePrincipals,
  type World,
} from './hostile-world.js';
import { ERRORS, type EngineError } from '../../src/errors.js';
import {
  actionNameArb,
  anyValue,
  httpAnyArb,
  httpInvokeArb,
  httpOAuthArb,
  idArb,
  httpQueryArb,
  httpRecordArb,
  invocationArb,
  recordWriteArb,
  soqlArb,
  toJson,
  type HostileRequest,
} from './hostile-arbitraries.js';

const DECLARED_STATUSES = new Set<number>(Object.values(ERRORS).map((e) => e.status));
const SCALE = Number(process.env.HOSTILE_RUNS ?? 1);
const PG = process.env.HOSTILE_PG === '1';
/** Per-property time limit: generous, scaled with the runs (the file's budget in npm test is 45 s in all). */
const TIMEOUT = 60_000 * Math.max(1, SCALE) * (PG ? 3 : 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
// The world is shared and changes with every accepted request, so a shrunk case would run on
// another state than the failing one: no shrinking; the failing case is reported as generated.
// One seed for the file, the k-th property seeded FILE_SEED + k: HOSTILE_SEED=<file seed> replays
// every property's cases in order, so the world reaches the failing case in the same state.
const FILE_SEED = process.env.HOSTILE_SEED ? Number(process.env.HOSTILE_SEED) : Math.floor(Math.random() * 2 ** 31);
let propertyIndex = 0;
const params = (n: number): fc.Parameters<unknown> => ({ numRuns: runs(n), endOnFailure: true, seed: FILE_SEED + propertyIndex++ });

/** Counts per property, printed at the end (how many were refused, accepted, and by which status). */
const tally: Record<string, Record<string, number>> = {};
const count = (prop: string, key: string) => {
  const t = (tally[prop] ??= {});
  t[key] = (t[key] ?? 0) + 1;
};

// Unhandled rejections anywhere during the file fail it.
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

let w: World;
beforeAll(async () => {
  console.log(`hostile input: file seed ${FILE_SEED} (replay with HOSTILE_SEED=${FILE_SEED})`);
  process.on('unhandledRejection', onUnhandled);
  w = await buildWorld(PG ? freshPgUrl() : ':memory:');
}, 120_000);
afterAll(async () => {
  await w?.close();
  process.off('unhandledRejection', onUnhandled);
  await dropTestSchemas();
  console.log(
    `hostile input (${PG ? 'postgres' : 'sqlite memory'}, scale ${SCALE}, file seed ${FILE_SEED}):\n${Object.entries(tally)
      .map(([p, t]) => `  ${p}: ${JSON.stringify(t)}`)
      .join('\n')}`,
  );
});

/** The checks shared by every case: no internal error reported, no pollution, no unhandled rejection. */
function common(before: number): void {
  expect(w.internalErrors.slice(before), 'internal errors reported to onError').toEqual([]);
  expect(prototypePolluted()).toBeNull();
  expect(unhandled).toEqual([]);
}

/** The last accepted requests, newest last: what changed the world before a failing case. */
const accepted: string[] = [];

/** Refused: the database is unchanged. Accepted: the invariants hold. */
async function afterOutcome(refused: boolean, before: Awaited<ReturnType<typeof dumpAll>>, what: string): Promise<void> {
  if (refused) {
    expect(changedTables(before, await dumpAll(w)), `tables changed by a refused ${what}`).toEqual([]);
  } else {
    accepted.push(what);
    if (accepted.length > 8) accepted.shift();
    expect(
      await invariantProblems(w),
      `invariants after an accepted ${what}; accepted before it: ${accepted.slice(0, -1).join(' | ')}`,
    ).toEqual([]);
    const restored = await restorePrincipals(w);
    if (restored) count('world', 'principal rows put back');
  }
}

describe('hostile input through the library', () => {
  it(
    'actions: any inputs, any caller — only table errors; refused calls change nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(invocationArb(w), async (inv) => {
          const errs = w.internalErrors.length;
          const before = await dumpAll(w);
          let refused = true;
          try {
            const results = await w.engine.invoke(inv.action, inv.inputs, { userId: w.users[inv.who] });
            expect(badResults(results)).toBeNull();
            refused = results.every((r) => !r.isSuccess);
            for (const r of results) count('library actions', r.isSuccess ? 'ok' : `${r.httpStatus} ${r.errors![0]!.statusCode}`);
          } catch (e) {
            expect(badThrow(e)).toBeNull();
            count('library actions', `thrown ${(e as { key: string }).key}`);
          }
          common(errs);
          await afterOutcome(refused, before, `${inv.action} as ${inv.who} with ${toJson(inv.inputs).slice(0, 300)}`);
        }),
        params(60),
      );
    },
    TIMEOUT,
  );

  it(
    'record writes: every object × create/update/delete × A, B, admin — only table errors; refused writes change nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(recordWriteArb(w), async (r) => {
          const errs = w.internalErrors.length;
          const before = await dumpAll(w);
          const as = { userId: w.users[r.who] };
          let refused = false;
          try {
            if (r.op === 'create') await w.engine.createRecord(r.type, r.fields, as);
            else if (r.op === 'update') await w.engine.updateRecord(r.type, r.id, r.fields, as);
            else await w.engine.deleteRecord(r.type, r.id, as);
            count('library records', `${r.op} ok`);
          } catch (e) {
            expect(badThrow(e)).toBeNull();
            refused = true;
            count('library records', `${r.op} ${(e as { key: string }).key}`);
          }
          common(errs);
          await afterOutcome(refused, before, `${r.op} of ${r.type} ${r.id} as ${r.who} with ${toJson(r.fields).slice(0, 300)}`);
        }),
        params(150),
      );
    },
    TIMEOUT,
  );

  it(
    'SOQL: grammar-aware and arbitrary text — only table errors, and a query never changes data',
    async () => {
      await fc.assert(
        fc.asyncProperty(soqlArb, fc.constantFrom<'a' | 'b' | 'admin'>('a', 'b', 'admin'), async (soql, who) => {
          const errs = w.internalErrors.length;
          const before = await dumpAll(w);
          try {
            const res = await w.engine.query(soql, { userId: w.users[who] });
            expect(res.done).toBe(true);
            expect(Array.isArray(res.records)).toBe(true);
            count('library soql', 'ok');
          } catch (e) {
            expect(badThrow(e)).toBeNull();
            count('library soql', (e as { key: string }).key);
          }
          common(errs);
          expect(changedTables(before, await dumpAll(w))).toEqual([]);
        }),
        params(120),
      );
    },
    TIMEOUT,
  );

  it(
    'the calls themselves: arguments of any type, hostile callers — only table errors; refused calls change nothing',
    async () => {
      const e = w.engine as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
      const caller = fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom('a', 'b', 'admin').map((k) => ({ userId: w.users[k as 'a' | 'b' | 'admin'] })) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(w.users.a.slice(0, 15), w.users.a.toLowerCase(), w.named.cartA, '', ' ').map((userId) => ({ userId })),
        },
        { weight: 1, arbitrary: anyValue.map((userId) => ({ userId })) },
        { weight: 1, arbitrary: anyValue },
      );
      const typeArg = anyValue;
      const call = fc.oneof(
        fc.tuple(fc.constant('query'), fc.tuple(fc.oneof(soqlArb, anyValue), caller)),
        fc.tuple(
          fc.constant('query'),
          fc.tuple(
            soqlArb,
            fc.tuple(caller, anyValue).map(([c, apiVersion]) => (c && typeof c === 'object' ? { ...c, apiVersion } : c)),
          ),
        ),
        fc.tuple(fc.constant('issueToken'), fc.tuple(fc.oneof(fc.constant(w.users.a), anyValue), anyValue)),
        fc.tuple(
          fc.constant('runCheckout'),
          fc.tuple(fc.oneof(fc.constant(w.named.cartA), anyValue), fc.oneof(fc.constant(null), anyValue)),
        ),
        fc.tuple(fc.constant('invoke'), fc.tuple(fc.oneof(actionNameArb(w), anyValue), anyValue, caller)),
        fc.tuple(fc.constantFrom('createRecord'), fc.tuple(typeArg, anyValue, caller)),
        fc.tuple(
          fc.constantFrom('updateRecord'),
          fc.tuple(
            fc.oneof(fc.constantFrom('WebCart', 'CartCheckoutSession', 'CartItem'), typeArg),
            fc.oneof(idArb(w), anyValue),
            anyValue,
            caller,
          ),
        ),
        fc.tuple(
          fc.constantFrom('deleteRecord', 'getRecord'),
          fc.tuple(fc.oneof(fc.constantFrom('WebCart', 'CartCheckoutSession', 'CartItem'), typeArg), fc.oneof(idArb(w), anyValue), caller),
        ),
        fc.tuple(fc.constantFrom('getHistory'), fc.tuple(fc.oneof(idArb(w, ['CartCheckoutSession']), anyValue), caller)),
        fc.tuple(fc.constantFrom('login'), fc.tuple(anyValue, anyValue)),
        fc.tuple(fc.constantFrom('authenticate', 'revokeToken', 'userIdByUsername', 'isActiveUser'), fc.tuple(anyValue)),
      );
      await fc.assert(
        fc.asyncProperty(call, async ([name, args]) => {
          const errs = w.internalErrors.length;
          const before = await dumpAll(w);
          let refused = false;
          try {
            await e[name]!.apply(w.engine, args);
            count('library calls', `${name} ok`);
          } catch (err) {
            expect(badThrow(err), `${name}(${args.map((a) => toJson(a).slice(0, 200)).join(', ')})`).toBeNull();
            refused = true;
            count('library calls', `${name} ${(err as { key: string }).key}`);
          }
          common(errs);
          const reads = ['query', 'getRecord', 'getHistory', 'login', 'authenticate', 'userIdByUsername', 'isActiveUser'];
          await afterOutcome(refused || reads.includes(name), before, `${name}(${args.map((a) => toJson(a).slice(0, 120)).join(', ')})`);
        }),
        params(100),
      );
    },
    TIMEOUT,
  );
});

describe('regressions the properties found', () => {
  it('a record type whose toString throws is INVALID_TYPE on create, update and delete, not a TypeError', async () => {
    const hostile = { toString: [null, 'x'] } as unknown as string;
    const as = { userId: w.users.a };
    for (const attempt of [
      () => w.engine.createRecord(hostile, { Name: 'x' }, as),
      () => w.engine.updateRecord(hostile, w.named.cartA, { Name: 'x' }, as),
      () => w.engine.deleteRecord(hostile, w.named.cartA, as),
    ]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(badThrow(err)).toBeNull();
      expect((err as { key: string }).key).toBe('INVALID_TYPE');
    }
  });

  it('a token, revoke or username lookup of a non-string answers "nobody" instead of throwing a TypeError', async () => {
    for (const v of [null, undefined, 5, {}, ['x'], false]) {
      expect(await w.engine.authenticate(v as never)).toBeNull();
      expect(await w.engine.revokeToken(v as never)).toBe(false);
      expect(await w.engine.userIdByUsername(v as never)).toBeNull();
      expect(await w.engine.login(v, v)).toBeNull();
    }
    // The buyer's token still works: nothing was revoked on the way.
    expect(await w.engine.authenticate(w.tokens.a)).toBe(w.users.a);
  });

  it('a date literal reaching past 1,000 years is MALFORMED_QUERY, not a RangeError (500) while planning the query', async () => {
    for (const lit of [
      'LAST_N_DAYS:99999999999',
      'NEXT_N_YEARS:1001',
      'N_MONTHS_AGO:12001',
      'LAST_N_WEEKS:53001',
      'NEXT_N_QUARTERS:4001',
    ]) {
      const err = await w.engine
        .query(`SELECT Id FROM WebCart WHERE CreatedDate != ${lit}`, { userId: w.users.a })
        .catch((e: unknown) => e);
      expect(badThrow(err), lit).toBeNull();
      expect((err as { key: string }).key, lit).toBe('MALFORMED_QUERY');
    }
    for (const lit of ['LAST_N_DAYS:366000', 'NEXT_N_YEARS:1000', 'N_MONTHS_AGO:12000']) {
      expect((await w.engine.query(`SELECT COUNT() FROM WebCart WHERE CreatedDate != ${lit}`, { userId: w.users.a })).done, lit).toBe(true);
    }
  });

  it('U+0000 in text is refused on every backend (PostgreSQL answered it with a database error, a 500)', async () => {
    const as = { userId: w.users.a };
    const before = await dumpAll(w);
    const write = await w.engine.updateRecord('WebCart', w.named.cartA, { PoNumber: 'PO\u00001' }, as).catch((e: unknown) => e);
    expect([(write as EngineError).key, (write as EngineError).fields]).toEqual(['FIELD_VALUE_TYPE', ['PoNumber']]);
    const seeded = await w.engine.seed({ Account: [{ Name: 'x\u0000' }] }).catch((e: unknown) => e);
    expect([(seeded as EngineError).key, (seeded as EngineError).fields]).toEqual(['INVALID_FIXTURE', ['Name']]);
    const query = await w.engine.query("SELECT Id FROM WebCart WHERE Name = 'a\u0000'", as).catch((e: unknown) => e);
    expect((query as EngineError).key).toBe('MALFORMED_QUERY');
    expect(await w.engine.login('buyer@acme.example\u0000', 'demo-password-1')).toBeNull();
    expect(await w.engine.userIdByUsername('\u0000')).toBeNull();
    expect(changedTables(before, await dumpAll(w))).toEqual([]);
  });

  it('an integer field holds 32 bits: a write past them is NUMBER_OUTSIDE_VALID_RANGE, a SOQL fraction or out-of-range literal INVALID_FIELD (PostgreSQL answered both with a database error, a 500)', async () => {
    const admin = { userId: w.users.admin };
    const before = await dumpAll(w);
    for (const v of [2147483648, 1e15, -2147483649]) {
      const err = await w.engine.updateRecord('WebStore', w.named.store, { CheckoutTimeToLive: v }, admin).catch((e: unknown) => e);
      expect([(err as EngineError).key, (err as EngineError).fields], String(v)).toEqual([
        'NUMBER_OUTSIDE_VALID_RANGE',
        ['CheckoutTimeToLive'],
      ]);
    }
    expect(changedTables(before, await dumpAll(w))).toEqual([]);
    for (const lit of ['0.5', '99999999999', '-2147483649']) {
      const err = await w.engine.query(`SELECT Id FROM WebStore WHERE CheckoutTimeToLive != ${lit}`, admin).catch((e: unknown) => e);
      expect([(err as EngineError).key, (err as EngineError).fields], lit).toEqual(['INVALID_FIELD', ['CheckoutTimeToLive']]);
    }
    expect((await w.engine.query('SELECT Id FROM WebStore WHERE CheckoutTimeToLive < 2147483647', admin)).done).toBe(true);
  });

  it("an admin's Draft Order (ModifyAllData may create one) is outside checkout: the invariants judge only checkout's orders", async () => {
    const { id } = await w.engine.createRecord('Order', { ...w.samples.Order, Status: 'Draft' }, { userId: w.users.admin });
    expect(await invariantProblems(w)).toEqual([]);
    // A checkout's order (cartToOrder wrote its `_sessionId`) that no session owns is still caught.
    await w.engine.core.storage.update('Order', id, { _sessionId: 'a-session-that-does-not-exist' });
    expect(await invariantProblems(w)).toEqual([`Order ${id} belongs to no checkout session (an order exists only after cartToOrder)`]);
    await w.engine.deleteRecord('Order', id, { userId: w.users.admin });
    expect(await invariantProblems(w)).toEqual([]);
  });
});

/** Sends a request through `inject` (or a real socket at `base`), returns status and parsed body. */
async function send(req: HostileRequest, base?: string): Promise<{ status: number; body: unknown; text: string }> {
  if (base) {
    const withBody = req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD';
    const res = await fetch(base + req.url, {
      method: req.method,
      headers: withBody ? req.headers : withoutContentType(req.headers),
      body: withBody ? req.body : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: parse(text), text };
  }
  const res = await w.app.inject({
    method: req.method as 'GET',
    url: req.url,
    headers: req.headers,
    ...(req.body !== undefined ? { payload: req.body } : {}),
  });
  return { status: res.statusCode, body: parse(res.body), text: res.body };
}
const withoutContentType = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'content-type'));
function parse(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return { notJson: text.slice(0, 200) };
  }
}

/** Whether an answer says nothing was done: an error list, or invocation results that all failed. */
function refusedAnswer(status: number, body: unknown): boolean {
  if (status < 400) return false;
  if (Array.isArray(body) && body.length && typeof body[0] === 'object' && body[0] && 'actionName' in body[0])
    return body.every((r: { isSuccess: boolean }) => !r.isSuccess);
  return true;
}

/** The HTTP property: a documented answer; refused or read-only requests change nothing; accepted ones keep the invariants. */
async function checkHttp(req: HostileRequest, prop: string, base?: string): Promise<void> {
  const errs = w.internalErrors.length;
  const logged = w.logs.text.length;
  const before = await dumpAll(w);
  const res = await send(req, base);
  count(prop, `${req.method} ${res.status}`);
  // HEAD answers carry no body: its status alone must be one the table (or success) has.
  if (req.method === 'HEAD')
    expect(res.status < 400 || DECLARED_STATUSES.has(res.status), `HEAD ${req.url} answered ${res.status}`).toBe(true);
  else expect(badRest(res.status, res.body), `${req.method} ${req.url.slice(0, 300)}`).toBeNull();
  // Errors are JSON; a success may be the statechart page's HTML or assets.
  if (req.method !== 'HEAD' && res.status >= 400)
    expect(
      res.text === '' || !('notJson' in (res.body as object)),
      `non-JSON error answer to ${req.method} ${req.url.slice(0, 200)}: ${res.text.slice(0, 200)}`,
    ).toBe(true);
  common(errs);
  // The server logs an unexpected error at level 50 ("error"); none may appear.
  expect(w.logs.text.slice(logged).filter((l) => l.includes('"level":50'))).toEqual([]);
  const readOnly = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
  await afterOutcome(
    readOnly || refusedAnswer(res.status, res.body),
    before,
    `${req.method} ${req.url.slice(0, 200)} ${(req.body ?? '').slice(0, 300)} → ${res.status}`,
  );
}

describe('hostile input over HTTP (inject)', () => {
  it(
    'action invocations: any body, version, token — Salesforce error bodies from the table; refused calls change nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(httpInvokeArb(w), (req) => checkHttp(req, 'http actions')),
        params(60),
      );
    },
    TIMEOUT,
  );

  it(
    'sObject writes and reads on every object — Salesforce error bodies from the table; refused writes change nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(httpRecordArb(w), (req) => checkHttp(req, 'http records')),
        params(150),
      );
    },
    TIMEOUT,
  );

  it(
    'SOQL over /query — Salesforce error bodies from the table; no query changes data',
    async () => {
      await fc.assert(
        fc.asyncProperty(httpQueryArb(w), (req) => checkHttp(req, 'http soql')),
        params(100),
      );
    },
    TIMEOUT,
  );

  it(
    'any method on any path with any body and content type — only documented answers',
    async () => {
      await fc.assert(
        fc.asyncProperty(httpAnyArb(w), (req) => checkHttp(req, 'http any')),
        params(80),
      );
    },
    TIMEOUT,
  );
});

describe('hostile input to the OAuth endpoints (inject)', () => {
  it(
    'token and revoke requests with hostile form, JSON and query parameters — OAuth error bodies from the table; refused ones change nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(httpOAuthArb(), async (req) => {
          const errs = w.internalErrors.length;
          const before = await dumpAll(w);
          const res = await send(req);
          count('http oauth', `${req.url.split('?')[0]!.split('/').at(-1)} ${res.status}`);
          expect(badOAuth(res.status, res.body), `${req.method} ${req.url.slice(0, 200)} ${req.body ?? ''}`).toBeNull();
          common(errs);
          // A token issued is a change; anything else must leave the database as it was.
          if (res.status !== 200 || !req.url.includes('token')) expect(changedTables(before, await dumpAll(w))).toEqual([]);
        }),
        params(30),
      );
    },
    TIMEOUT,
  );
});

describe('hostile input over a real socket', () => {
  let base: string;
  beforeAll(async () => {
    base = await w.app.listen({ port: 0, host: '127.0.0.1' });
  });

  it(
    'the same properties hold through Node’s HTTP parser (a few cases of each kind)',
    async () => {
      const any = fc.oneof(httpInvokeArb(w), httpRecordArb(w), httpQueryArb(w), httpAnyArb(w));
      await fc.assert(
        fc.asyncProperty(any, (req) => checkHttp(req, 'socket', base)),
        params(24),
      );
    },
    TIMEOUT,
  );
});
