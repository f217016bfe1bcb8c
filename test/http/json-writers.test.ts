/**
 * src/http/json-writers.ts: the record and action-result bodies the routes write directly are
 * byte for byte what JSON.stringify wrote before (same key order, same escaping, same omitted
 * keys) — as a property over record and result shapes (unicode, lone surrogates, control
 * characters and quotes, nulls, numbers incl. -0 / NaN / ±Infinity, nested objects, arrays and
 * Dates, odd keys), and for every case the fast path leaves to the generic one. Then over HTTP:
 * a record read and an invocation answer with Fastify's JSON content type and the same body.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordJson, resultsJson } from '../../src/http/json-writers.js';
import { startTestServer, V, type TestServer } from './helpers.js';

/** What the record route serialized before. */
const recordBefore = (v: string, type: string, rec: Record<string, unknown>) =>
  JSON.stringify({ attributes: { type, url: `/services/data/v${v}/sobjects/${type}/${String(rec.Id)}` }, ...rec });
/** What the action route serialized before. */
const resultsBefore = (results: readonly object[]) =>
  JSON.stringify(results.map(({ httpStatus: _s, ...r }: { httpStatus?: unknown }) => r));

/** The same string from both, or the same error thrown by both (e.g. an Id that can't be a string). */
function same(now: () => string, before: () => string): void {
  const outcome = (f: () => string) => {
    try {
      return { text: f() };
    } catch (e) {
      return { error: `${(e as Error).name}: ${(e as Error).message}` };
    }
  };
  expect(outcome(now)).toEqual(outcome(before));
}

// Text of every kind: full unicode (astral included), UTF-16 units (lone surrogates), and the characters JSON escapes.
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'binary-ascii' }),
  fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u2028', '\ud800', '\udc00x', '😀', '</script>'),
);
const number = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-0, NaN, Infinity, -Infinity, 1e21, 5e-324, Number.MAX_SAFE_INTEGER));
const scalar = fc.oneof(text, number, fc.boolean(), fc.constant(null));
// Values a field may hold: scalars mostly, some nested (JSON-like, Dates, undefined / functions JSON leaves out).
const fieldValue = fc.oneof(
  { weight: 6, arbitrary: scalar },
  { weight: 1, arbitrary: fc.jsonValue() },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }) },
  { weight: 1, arbitrary: fc.dictionary(text, fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })), { maxKeys: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, () => 1) },
);
// Field names: Salesforce-like or any text (escapes, unicode); `fallbackName`s also send a record down the generic path.
const plainName = fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[A-Z][A-Za-z0-9_]{0,20}(__c)?$/) }, { weight: 1, arbitrary: text });
const fallbackName = fc.constantFrom('attributes', 'toJSON', '0', '1', '42', '4294967295', '01');
const fieldName = fc.oneof(
  { weight: 12, arbitrary: plainName },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', '-1', 'Id') },
  { weight: 1, arbitrary: fallbackName },
);
/** A record of `name`d fields, with an Id mostly. */
const recordOf = (name: fc.Arbitrary<string>) =>
  fc
    .tuple(fc.oneof(fc.stringMatching(/^[a-zA-Z0-9]{18}$/), text, fc.constant(undefined)), fc.dictionary(name, fieldValue, { maxKeys: 50 }))
    .map(([id, fields]) => (id === undefined ? fields : { Id: id, ...fields }));
/** Records the fast path takes (keys never an index, `attributes` or `toJSON`; text starting with a digit is rare and only slower). */
const plainRecord = recordOf(plainName);
/** Records of any keys (the generic path for some). */
const anyRecord = recordOf(fieldName);
const version = fc.constantFrom('62.0', '64.0');
const typeName = fc.oneof(fc.constantFrom('WebCart', 'CartItem'), text);

/** Whether `run` hands `rec` itself to JSON.stringify (recordJson's fast path) rather than a copy. */
function serializesItself(run: () => string, rec: object): boolean {
  const spy = vi.spyOn(JSON, 'stringify');
  try {
    run();
    return spy.mock.calls.some(([v]) => v === rec);
  } finally {
    spy.mockRestore();
  }
}

describe('recordJson', () => {
  it.each([
    ['plain records (the fast path)', plainRecord],
    ['records of any keys', anyRecord],
  ])('writes byte for byte what JSON.stringify of { attributes, ...record } writes: %s', (_what, record) => {
    fc.assert(
      fc.property(version, typeName, record, (v, type, rec) => {
        same(
          () => recordJson(v, type, rec),
          () => recordBefore(v, type, rec),
        );
      }),
      { numRuns: 400 },
    );
  });

  it('a realistic 46-field record, an empty one and one of only omitted values', () => {
    const rec: Record<string, unknown> = { Id: '0a6xx0000000001AAA' };
    for (let i = 0; i < 45; i++)
      rec[`Field${i}__c`] = [`text "${i}" \n ü 😀`, i * 1.5, i % 2 === 0, null, '2026-12-04T09:00:00.000Z'][i % 5];
    expect(recordJson('64.0', 'WebCart', rec)).toBe(recordBefore('64.0', 'WebCart', rec));
    expect(serializesItself(() => recordJson('64.0', 'WebCart', rec), rec)).toBe(true);
    expect(recordJson('64.0', 'WebCart', {})).toBe(
      '{"attributes":{"type":"WebCart","url":"/services/data/v64.0/sobjects/WebCart/undefined"}}',
    );
    expect(recordJson('64.0', 'WebCart', { a: undefined, b: () => 1 })).toBe(recordBefore('64.0', 'WebCart', { a: undefined, b: () => 1 }));
  });

  it('falls back to the generic path where the shortcut would differ', () => {
    const cases: Record<string, unknown>[] = [
      // Its own `attributes`: the spread overwrote the value, the key stays first.
      { Id: '1', attributes: { type: 'Other' }, Name: 'x' },
      // Array-index keys: JSON writes them before `attributes`.
      { Id: '1', 2: 'two', 10: 'ten', Name: 'x' },
      { 0: 'zero' },
      // A toJSON of its own: the copy is serialized through it.
      { Id: '1', toJSON: () => ({ replaced: true }) },
      // Not a plain object.
      Object.assign(new (class Rec {})(), { Id: '1', Name: 'x' }) as unknown as Record<string, unknown>,
      // Null prototype is plain.
      Object.assign(Object.create(null) as object, { Id: '1', Name: 'x' }),
      // Keys starting with a digit that aren't indices keep their place: fast unless one comes first (then generic, to be safe).
      { Id: '1', '1a': 'x', '01': 'y' },
      { '1a': 'x', Id: '1' },
    ];
    for (const rec of cases) expect(recordJson('64.0', 'WebCart', rec)).toBe(recordBefore('64.0', 'WebCart', rec));
    // Which path: the fast one serializes the record itself, the generic one a copy.
    const paths = cases.map((rec) => (serializesItself(() => recordJson('64.0', 'WebCart', rec), rec) ? 'fast' : 'generic'));
    expect(paths).toEqual(['generic', 'generic', 'generic', 'generic', 'generic', 'fast', 'fast', 'generic']);
    expect(recordJson('64.0', 'WebCart', cases[0]!)).toBe('{"attributes":{"type":"Other"},"Id":"1","Name":"x"}');
    expect(recordJson('64.0', 'WebCart', cases[1]!)).toMatch(/^\{"2":"two","10":"ten","attributes":/);
    expect(recordJson('64.0', 'WebCart', cases[3]!)).toBe('{"replaced":true}');
  });

  it('reads each field once, as the spread did, and throws what JSON.stringify throws', () => {
    let reads = 0;
    const rec = Object.defineProperty({ Id: '1' }, 'Name', { enumerable: true, get: () => (reads++, 'n') });
    expect(recordJson('64.0', 'WebCart', rec)).toBe(
      '{"attributes":{"type":"WebCart","url":"/services/data/v64.0/sobjects/WebCart/1"},"Id":"1","Name":"n"}',
    );
    expect(reads).toBe(1);
    expect(() => recordJson('64.0', 'WebCart', { Id: '1', n: 1n })).toThrow(TypeError);
  });
});

// Results of the engine's shape (src/actions/index.ts), and mutations of it.
const outputs = fc.dictionary(fieldName, fieldValue, { maxKeys: 12 });
const success = fc.record({ actionName: text, outputValues: outputs }).map(({ actionName, outputValues }) => ({
  actionName,
  errors: null,
  isSuccess: true,
  outputValues,
  version: 1,
  httpStatus: 200,
}));
const failure = fc
  .record({
    actionName: text,
    statusCode: text,
    message: text,
    fields: fc.array(text, { maxLength: 3 }),
    status: fc.constantFrom(400, 404, 409, 500),
  })
  .map(({ actionName, statusCode, message, fields, status }) => ({
    actionName,
    errors: [{ statusCode, message, fields }],
    isSuccess: false,
    outputValues: null,
    version: 1,
    httpStatus: status,
  }));
const mutated = fc.oneof(
  // A key more, a key less, keys in another order, a value JSON leaves out or writes through toJSON.
  fc.tuple(success, fieldName, fieldValue).map(([r, k, v]) => ({ ...r, [k]: v })),
  success.map(({ version: _v, ...r }) => r),
  success.map(({ actionName, ...r }) => ({ ...r, actionName })),
  fc
    .tuple(success, fc.constantFrom('actionName', 'errors', 'isSuccess', 'outputValues', 'version'))
    .map(([r, k]) => ({ ...r, [k]: undefined })),
  fc
    .tuple(success, fc.constantFrom('actionName', 'errors', 'isSuccess', 'outputValues', 'version'), fieldValue)
    .map(([r, k, v]) => ({ ...r, [k]: v })),
  success.map((r) => ({ ...r, outputValues: { toJSON: (key: string) => `key:${key}` } })),
  success.map((r) => Object.assign(new (class Result {})(), r)),
);

describe('resultsJson', () => {
  it('writes byte for byte what JSON.stringify of the results without httpStatus writes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof({ weight: 3, arbitrary: success }, { weight: 2, arbitrary: failure }, { weight: 1, arbitrary: mutated }), {
          maxLength: 4,
        }),
        (results) => {
          same(
            () => resultsJson(results),
            () => resultsBefore(results),
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  it('the fallbacks: other shapes, a toJSON seeing its key, none at all', () => {
    const ok = { actionName: 'a', errors: null, isSuccess: true, outputValues: { x: 1 }, version: 1, httpStatus: 200 };
    const cases: object[][] = [
      [],
      [ok],
      [ok, { ...ok, extra: 1 }],
      [{ ...ok, version: undefined }],
      [{ ...ok, outputValues: { toJSON: (key: string) => `key:${key}` } }],
      [{ ...ok, outputValues: new Date(0) }],
      [{ ...ok, version: NaN }],
      [{ actionName: 'a', isSuccess: true, errors: null, outputValues: null, version: 1, httpStatus: 200 }],
    ];
    for (const results of cases) expect(resultsJson(results)).toBe(resultsBefore(results));
    expect(resultsJson([ok])).toBe('[{"actionName":"a","errors":null,"isSuccess":true,"outputValues":{"x":1},"version":1}]');
    expect(resultsJson(cases[4]!)).toBe(
      '[{"actionName":"a","errors":null,"isSuccess":true,"outputValues":"key:outputValues","version":1}]',
    );
  });
});

describe('over HTTP', () => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer(':memory:');
    token = await t.token();
  });
  afterAll(() => t?.close());

  const get = (path: string, init: RequestInit = {}) =>
    fetch(t.url + path, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });

  it('a record read: JSON content type, the record with its attributes first', async () => {
    const res = await get(`${V}/sobjects/WebCart/${t.ids.cart}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const rec = await t.engine.getRecord('WebCart', t.ids.cart!, { userId: t.ids.buyer! });
    expect(await res.text()).toBe(recordBefore('62.0', 'WebCart', rec));
    const some = await get(`${V}/sobjects/WebCart/${t.ids.cart}?fields=name,Status`);
    expect(await some.text()).toBe(recordBefore('62.0', 'WebCart', { Id: rec.Id, Name: rec.Name, Status: rec.Status }));
  });

  it('an invocation: JSON content type, the results without httpStatus, a failure with its status', async () => {
    const body = { inputs: [{ cartId: t.ids.cart }] };
    const res = await fetch(`${t.url}${V}/actions/standard/checkoutSessionAction`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const [r] = JSON.parse(await res.text()) as { isSuccess: boolean; httpStatus?: number }[];
    expect(r).toMatchObject({ actionName: 'checkoutSessionAction', isSuccess: true, errors: null, version: 1 });
    expect(r).not.toHaveProperty('httpStatus');
    const bad = await t.call('POST', `${V}/actions/standard/checkoutSessionAction`, {
      token,
      body: { inputs: [{ cartId: '0a6000000000000AAA' }] },
    });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(Object.keys(bad.body[0])).toEqual(['actionName', 'errors', 'isSuccess', 'outputValues', 'version']);
  });
});
