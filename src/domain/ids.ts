/**
 * Salesforce record ids: the case-safe checksum suffix, 15→18 conversion, minting and validation.
 * Pure and dependency-free apart from Node's `crypto` for random bytes.
 */

import { randomFillSync } from 'node:crypto';

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE62_RE = /^[A-Za-z0-9]*$/;
const PREFIX_RE = /^[A-Za-z0-9]{3}$/;
/** Largest multiple of 62 that fits in a byte: bytes at or above it are rejected to keep base62 uniform. */
const REJECT_FROM = 248;
const POOL_SIZE = 4096;

const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolPos = POOL_SIZE;

/** Why a value is not an acceptable Salesforce id. */
export type IdErrorReason = 'type' | 'length' | 'characters' | 'checksum' | 'prefix';

/** Result of {@link parseId}: the normalized 18-char id, or the reason and a human-readable message. */
export type ParseIdResult = { ok: true; id: string } | { ok: false; reason: IdErrorReason; message: string };

/** The 3-char case-safe suffix Salesforce appends to a 15-char id to make it 18 chars. */
export function checksumSuffix(id15: string): string {
  if (id15.length !== 15) throw new Error(`checksumSuffix needs a 15-character id, got ${id15.length} characters`);
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const code = id15.charCodeAt(chunk * 5 + i);
      if (code >= 65 && code <= 90) bits |= 1 << i; // 'A'..'Z'
    }
    suffix += SUFFIX_ALPHABET[bits];
  }
  return suffix;
}

/** Converts a 15-char id to its 18-char form; a valid 18-char id is returned unchanged; throws on anything invalid. */
export function to18(id: string): string {
  const parsed = parseId(id);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.id;
}

/** Returns the next uniformly distributed base62 character from the pooled random bytes. */
function randomBase62Char(): string {
  for (;;) {
    if (poolPos >= POOL_SIZE) {
      randomFillSync(pool);
      poolPos = 0;
    }
    const byte = pool[poolPos++];
    if (byte < REJECT_FROM) return BASE62[byte % 62];
  }
}

/** Mints a fresh random 18-char id with the given 3-char key prefix (12 random base62 chars + checksum). */
export function mintId(prefix: string): string {
  if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix)) {
    throw new Error(`invalid key prefix ${JSON.stringify(prefix)}: it must be exactly 3 characters from [A-Za-z0-9]`);
  }
  let id15 = prefix;
  for (let i = 0; i < 12; i++) id15 += randomBase62Char();
  return id15 + checksumSuffix(id15);
}

/** Shows a value in an error message: strings quoted (and shortened when long), other values by type. */
function describe(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `'${shown}'`;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a value of type ${typeof value}`;
}

/** Validates a 15- or 18-char Salesforce id (optionally restricted to key prefixes) and normalizes it to 18 chars. */
export function parseId(value: unknown, expectedPrefixes?: readonly string[]): ParseIdResult {
  // The message's head is written only for a value that fails (the usual id passes).
  const head = (): string => `${describe(value)} is not a valid Salesforce id`;
  if (typeof value !== 'string') {
    return { ok: false, reason: 'type', message: `${head()}: it must be a string` };
  }
  if (value.length !== 15 && value.length !== 18) {
    return {
      ok: false,
      reason: 'length',
      message: `${head()}: it must be 15 or 18 characters long (got ${value.length})`,
    };
  }
  if (!BASE62_RE.test(value)) {
    const badIndex = value.search(/[^A-Za-z0-9]/);
    return {
      ok: false,
      reason: 'characters',
      message: `${head()}: it contains the character '${value[badIndex]}' at position ${badIndex}; only A-Z, a-z and 0-9 are allowed`,
    };
  }
  const id15 = value.slice(0, 15);
  const expected = checksumSuffix(id15);
  if (value.length === 18) {
    const actual = value.slice(15);
    if (actual !== expected) {
      return {
        ok: false,
        reason: 'checksum',
        message: `${head()}: the case-safe suffix '${actual}' does not match (expected '${expected}')`,
      };
    }
  }
  if (expectedPrefixes !== undefined) {
    const prefix = value.slice(0, 3);
    if (!expectedPrefixes.includes(prefix)) {
      const wanted = expectedPrefixes.length === 0 ? '(no prefixes allowed)' : expectedPrefixes.join(' or ');
      return {
        ok: false,
        reason: 'prefix',
        message: `${head()}: expected an id starting with ${wanted} but got ${prefix}`,
      };
    }
  }
  // A valid 18-character id is already its own normal form.
  return { ok: true, id: value.length === 18 ? value : id15 + expected };
}

/** The 3-char key prefix (object type) of an id. */
export function keyPrefix(id: string): string {
  return id.slice(0, 3);
}

/** True when the value is a syntactically valid 15- or 18-char id whose checksum (if present) is correct. */
export function isId(value: unknown): value is string {
  return parseId(value).ok;
}
