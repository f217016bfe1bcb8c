/**
 * Password hashing for User.Password: scrypt with a random salt, stored as `scrypt$salt$hash`.
 * The plain text is never stored or returned.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** Hashes a password for storage. */
export function hashPassword(plain: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(plain, salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Whether `plain` matches a stored hash (constant-time). */
export function verifyPassword(plain: string, stored: unknown): boolean {
  if (typeof stored !== 'string') return false;
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = scryptSync(plain, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(actual, expected);
}
