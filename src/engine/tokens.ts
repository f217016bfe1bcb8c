/**
 * Access tokens of the HTTP API, kept in the database: a token is 32 random bytes shaped like
 * Salesforce's `<orgId>!<opaque>`; only its SHA-256 is stored (as the row id of the internal
 * EngineAuthToken object), with the user and the expiry. Every engine process on one database
 * accepts every token, tokens survive a restart, and revoking one (or changing the user's
 * password) ends it everywhere at once. No secret has to be shared between processes.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { to18 } from '../domain/ids.js';
import { UniqueViolation, type Row, type StorageOps } from '../storage/port.js';
import type { Storage } from '../storage/port.js';

/** The one organization this engine plays: a fixed Salesforce-shaped org id (key prefix 00D). */
export const ORG_ID = to18('00D000000000001');

const TOKEN_OBJECT = 'EngineAuthToken';
const SETTING_OBJECT = 'EngineSetting';
/** The EngineSetting row holding the key that signs token responses (`signature`). */
const SIGNATURE_KEY_SETTING = 'oauth.signatureKey';

/** A token as issued: the secret text (shown once) and when it was issued and expires. */
export interface IssuedToken {
  token: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** How many tokens' hashes `tokenHash` remembers (first in, first out). */
const HASHES_KEPT = 1024;
/** token → its SHA-256: a pure function's memo, so nothing revocable is kept (the lookup still reads the database every time). */
const hashes = new Map<string, string>();

/** The stored key of a token: its SHA-256, hex. A client sends its token with every request: the hash is remembered (see `hashes`). */
export function tokenHash(token: string): string {
  let hash = hashes.get(token);
  if (hash === undefined) {
    hash = createHash('sha256').update(token, 'utf8').digest('hex');
    if (hashes.size >= HASHES_KEPT) hashes.delete(hashes.keys().next().value!);
    hashes.set(token, hash);
  }
  return hash;
}

/** Whether a value is a string with the shape of an access token this engine issues (cheap check before a lookup). */
export function looksLikeToken(token: unknown): token is string {
  return typeof token === 'string' && token.length < 200 && token.startsWith(TOKEN_PREFIX);
}
const TOKEN_PREFIX = `${ORG_ID}!`;

/** Issues a token for a user, valid for `ttlSeconds`; expired tokens of that user are dropped on the way. */
export async function issueToken(storage: Storage, userId: string, ttlSeconds: number, now: Date): Promise<IssuedToken> {
  if (!(ttlSeconds > 0)) throw new Error('The token lifetime must be a positive number of seconds.');
  const token = `${ORG_ID}!${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  await storage.transaction(async (tx) => {
    const expired = await tx.find(TOKEN_OBJECT, {
      where: [
        { field: 'UserId', op: '=', value: userId },
        { field: 'ExpiresAt', op: '<=', value: now.toISOString() },
      ],
    });
    await tx.delete(
      TOKEN_OBJECT,
      expired.map((r) => String(r.Id)),
    );
    const stamp = now.toISOString();
    await tx.insert(TOKEN_OBJECT, [
      { Id: tokenHash(token), UserId: userId, ExpiresAt: expiresAt.toISOString(), CreatedDate: stamp, LastModifiedDate: stamp },
    ]);
  });
  return { token, issuedAt: now, expiresAt };
}

/** The user row of a live (stored, unexpired) token, read with the token in one statement, or null. */
export async function tokenUserRow(storage: StorageOps, token: string, now: Date): Promise<Row | null> {
  if (!looksLikeToken(token)) return null;
  const read = await storage.getWithRef(TOKEN_OBJECT, tokenHash(token), 'UserId', 'User');
  if (!read || !(Date.parse(String(read.row.ExpiresAt)) > now.getTime())) return null;
  return read.ref ?? null;
}

/** Ends one token; returns whether it was live (stored). */
export async function revokeToken(storage: StorageOps, token: string): Promise<boolean> {
  if (!looksLikeToken(token)) return false;
  return (await storage.delete(TOKEN_OBJECT, [tokenHash(token)])) > 0;
}

/** Ends every token of a user (a password change); returns how many. */
export async function revokeUserTokens(tx: StorageOps, userId: string): Promise<number> {
  const rows = await tx.find(TOKEN_OBJECT, { where: [{ field: 'UserId', op: '=', value: userId }] });
  return tx.delete(
    TOKEN_OBJECT,
    rows.map((r) => String(r.Id)),
  );
}

/**
 * The install's key for token-response signatures: created at random on first use and kept in
 * the database (EngineSetting), so every process on one database signs alike.
 */
export async function signatureKey(storage: Storage, now: Date): Promise<string> {
  const row = await storage.get(SETTING_OBJECT, SIGNATURE_KEY_SETTING);
  if (typeof row?.Value === 'string') return row.Value;
  const stamp = now.toISOString();
  try {
    await storage.insert(SETTING_OBJECT, [
      { Id: SIGNATURE_KEY_SETTING, Value: randomBytes(32).toString('base64url'), CreatedDate: stamp, LastModifiedDate: stamp },
    ]);
  } catch (e) {
    if (!(e instanceof UniqueViolation)) throw e; // another process created it first: use theirs
  }
  const stored = await storage.get(SETTING_OBJECT, SIGNATURE_KEY_SETTING);
  return String(stored!.Value);
}

/** Salesforce's token `signature`: base64 HMAC-SHA256 of the identity URL followed by issued_at. */
export function signIdentity(key: string, id: string, issuedAt: string): string {
  return createHmac('sha256', key)
    .update(id + issuedAt)
    .digest('base64');
}
