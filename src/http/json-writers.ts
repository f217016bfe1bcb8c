/**
 * JSON bodies of the two hottest answers, written directly instead of building an object for
 * Fastify's serializer to walk (issue 22: the time HTTP adds to a call):
 *
 * - `recordJson` — a record read (GET /sobjects/{Type}/{id}):
 *   `JSON.stringify({ attributes: { type, url }, ...rec })` without the spread copy;
 * - `resultsJson` — an action invocation's results, `JSON.stringify(results.map(({ httpStatus, ...r }) => r))`
 *   without the rest copies.
 *
 * Each answer is byte-identical to the JSON.stringify it replaces (same key order, same escaping,
 * same omitted `undefined`s): whatever the fast path can't vouch for — a record with its own
 * `attributes` or `toJSON`, array-index-like keys (JSON puts those first), a prototype other than
 * Object's, a result of another shape — goes to that very JSON.stringify. Routes send the string
 * with `reply.type(JSON_TYPE)`, the content type Fastify gives a serialized object.
 */

/** The content type Fastify's serializer sets on a JSON answer. */
export const JSON_TYPE = 'application/json; charset=utf-8';

/** Whether `o` is a plain object (Object's prototype or none). */
function isPlain(o: object): boolean {
  const proto = Object.getPrototypeOf(o) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Whether the fast record path reproduces JSON.stringify of `{ attributes, ...rec }`: a plain
 * object without its own `attributes` (the spread would overwrite the value but keep the key first)
 * or `toJSON` (the copy would be serialized through it), and no array-index-like key (JSON
 * writes those before `attributes`). Array indices come first among own keys, so only the first
 * enumerated key is checked (conservatively: a first key starting with a digit falls back).
 */
function plainRecord(rec: Record<string, unknown>): boolean {
  if (!isPlain(rec) || Object.hasOwn(rec, 'attributes') || Object.hasOwn(rec, 'toJSON')) return false;
  for (const k in rec) {
    const c = k.charCodeAt(0);
    return !(c >= 48 && c <= 57);
  }
  return true;
}

/**
 * `JSON.stringify({ attributes: { type, url: `/services/data/v${version}/sobjects/${type}/${String(rec.Id)}` }, ...rec })`,
 * byte for byte. The record's own fields are serialized by one JSON.stringify of the record itself
 * (no copy): every value is then at the same depth and under the same key as in the copy, so
 * nested `toJSON`s see the same arguments.
 */
export function recordJson(version: string, type: string, rec: Record<string, unknown>): string {
  const attributes = { type, url: `/services/data/v${version}/sobjects/${type}/${String(rec.Id)}` };
  if (!plainRecord(rec)) return JSON.stringify({ attributes, ...rec });
  const head = `{"attributes":{"type":${JSON.stringify(type)},"url":${JSON.stringify(attributes.url)}}`;
  const body = JSON.stringify(rec);
  // '{}': no field (or only ones JSON leaves out); else '{…}' whose '{' becomes the comma.
  return body.length === 2 ? `${head}}` : `${head},${body.slice(1)}`;
}

/** The keys of an action result, in the order the engine builds them (src/actions/index.ts). */
const RESULT_KEYS = ['actionName', 'errors', 'isSuccess', 'outputValues', 'version', 'httpStatus'] as const;

/** An action result as the engine builds it: a plain object of exactly RESULT_KEYS in that order. */
type KnownResult = Record<(typeof RESULT_KEYS)[number], unknown>;

/** Whether `r` is a plain object of exactly RESULT_KEYS, in that order. */
function knownResult(r: object): r is KnownResult {
  if (!isPlain(r)) return false;
  let i = 0;
  for (const k in r) if (k !== RESULT_KEYS[i++]) return false;
  return i === RESULT_KEYS.length;
}

/**
 * A value's JSON as JSON.stringify writes it inside its object, or undefined when that could
 * differ from JSON.stringify of the value alone: a `toJSON` of its own is called with the key
 * there and '' here, and undefined, functions and symbols drop the key there.
 */
function nested(v: unknown): string | undefined {
  if (v === null) return 'null';
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  if (typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON !== 'function') return JSON.stringify(v);
  return undefined;
}

/**
 * `JSON.stringify(results.map(({ httpStatus, ...r }) => r))`, byte for byte: the answer of an
 * action invocation. Each result of the engine's shape is written key by key (its errors and
 * outputs by JSON.stringify, which nests them as it would inside the result); anything else
 * sends the whole answer down that generic path.
 */
export function resultsJson(results: readonly object[]): string {
  let out = '[';
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if (!knownResult(r)) return generic(results);
    const actionName = nested(r.actionName);
    const errors = nested(r.errors);
    const isSuccess = nested(r.isSuccess);
    const outputValues = nested(r.outputValues);
    const version = nested(r.version);
    if (actionName === undefined || errors === undefined || isSuccess === undefined || outputValues === undefined || version === undefined)
      return generic(results);
    out += `${i > 0 ? ',' : ''}{"actionName":${actionName},"errors":${errors},"isSuccess":${isSuccess},"outputValues":${outputValues},"version":${version}}`;
  }
  return `${out}]`;
}

/** The generic path of `resultsJson`: exactly what the route serialized before. */
function generic(results: readonly object[]): string {
  return JSON.stringify(results.map(({ httpStatus: _s, ...r }: { httpStatus?: unknown }) => r));
}
