/**
 * Credentials of a User: passwords hashed with scrypt and a random salt, stored as
 * `scrypt$salt$hash` (the plain text is never stored or returned), and usernames normalized so
 * that one name can't exist twice in different case or with surrounding spaces.
 *
 * Hashing runs on libuv's thread pool (`crypto.scrypt` with a callback), never on the event loop:
 * a burst of wrong-password attempts costs CPU on worker threads while other requests go on.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { EngineError } from '../errors.js';

/** scrypt as a promise: the work runs off the event loop. */
function scryptAsync(plain: string, salt: Buffer, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(plain, salt, length, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Hashes a password for storage (off the event loop). */
export async function hashPassword(plain: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(plain, salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Whether `plain` matches a stored hash (constant-time compare; the hashing runs off the event loop). */
export async function verifyPassword(plain: string, stored: unknown): Promise<boolean> {
  if (typeof stored !== 'string') return false;
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(plain, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}

/**
 * A username as stored and looked up: trimmed and lower-cased (Salesforce usernames ignore case);
 * '' — which names nobody — for a non-string or one holding U+0000 (no stored username can, and
 * PostgreSQL refuses it in a lookup).
 */
export function normalizeUsername(username: unknown): string {
  return typeof username === 'string' && !username.includes('\u0000') ? username.trim().toLowerCase() : '';
}

/**
 * Prepares User field values for storage, in place: the Username normalized, the Password hashed.
 * Used by record create/update and by seeding, so every path stores the same shapes.
 */
export async function prepareUserCredentials(values: Record<string, unknown>): Promise<void> {
  if (typeof values.Username === 'string') {
    values.Username = normalizeUsername(values.Username);
    if (!values.Username)
      throw new EngineError('REQUIRED_FIELD_MISSING', 'Username (it is blank once its surrounding spaces are removed).', ['Username']);
  }
  if (typeof values.Password === 'string') values.Password = await hashPassword(values.Password);
}
