/**
 * Bearer tokens: stateless, HMAC-SHA256-signed and expiring, so every engine process that shares
 * the database and the secret (CHECKOUT_ENGINE_SECRET) accepts the others' tokens without a
 * session table. A token names only the user id and its lifetime; it carries no password.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { to18 } from '../domain/ids.js';

/** The one organization this engine plays: a fixed Salesforce-shaped org id (key prefix 00D). */
export const ORG_ID = to18('00D000000000001');

/** A token and when it was issued and expires (ms since epoch). */
export interface IssuedToken {
  token: string;
  issuedAt: number;
  expiresAt: number;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** Issues and verifies tokens with one secret. */
export class TokenSigner {
  private readonly key: Buffer;

  /** `secret` must be at least 16 characters; `ttlSeconds` is the token lifetime. */
  constructor(
    secret: string,
    readonly ttlSeconds: number,
    private readonly clock: () => number = Date.now,
  ) {
    if (secret.length < 16) throw new Error('The token secret must be at least 16 characters.');
    if (!(ttlSeconds > 0)) throw new Error('The token lifetime must be a positive number of seconds.');
    this.key = Buffer.from(secret, 'utf8');
  }

  /** A random secret for a single process (its tokens die with it and other processes reject them). */
  static randomSecret(): string {
    return randomBytes(32).toString('base64url');
  }

  private sign(body: string): string {
    return b64(createHmac('sha256', this.key).update(body).digest());
  }

  /** A new token for a user, shaped like Salesforce's `<orgId>!<opaque>`. */
  issue(userId: string): IssuedToken {
    const issuedAt = this.clock();
    const expiresAt = issuedAt + this.ttlSeconds * 1000;
    const payload = b64(JSON.stringify({ u: userId, iat: issuedAt, exp: expiresAt, n: randomBytes(6).toString('base64url') }));
    const body = `${ORG_ID}!${payload}`;
    return { token: `${body}.${this.sign(body)}`, issuedAt, expiresAt };
  }

  /** The user id a token names, or null when it is malformed, forged, or expired. */
  verify(token: string): string | null {
    const dot = token.lastIndexOf('.');
    if (dot < 0 || !token.startsWith(`${ORG_ID}!`)) return null;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(body), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    try {
      const claims = JSON.parse(Buffer.from(body.slice(ORG_ID.length + 1), 'base64url').toString('utf8')) as { u?: unknown; exp?: unknown };
      if (typeof claims.u !== 'string' || typeof claims.exp !== 'number' || claims.exp <= this.clock()) return null;
      return claims.u;
    } catch {
      return null;
    }
  }
}
