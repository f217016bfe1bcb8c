/**
 * Login throttles kept in the database (the internal EngineLoginThrottle table), so every engine
 * process on one database counts together and a restart forgets nothing.
 *
 * Four kinds of rows, each a fixed window that starts with its first hit:
 * - `address`  — every attempt from a client address (default 100 per 60 s);
 * - `username` — failed attempts for a username (default 10 per 900 s, Salesforce's lockout);
 * - `pair`     — failed attempts for a username from one address (same limit as `username`);
 * - `known`    — an address that signed in successfully as that username (kept 30 days).
 *
 * A username past its limit is refused before any hash work, EXCEPT from a known address of that
 * username, which may still try until its own `pair` counter is full. So an attacker who sends ten
 * wrong passwords for someone else's username locks out only the addresses that never signed in as
 * them: the victim, signing in from where they signed in before, gets in with the right password.
 * Every update runs in a transaction that holds the row, so concurrent processes never lose a hit.
 */
import { createHash } from 'node:crypto';
import { UniqueViolation, type Row, type Storage } from '../storage/port.js';

const OBJECT = 'EngineLoginThrottle';

/** One login throttle: at most `max` per `windowSeconds`. */
export interface ThrottleLimit {
  max: number;
  windowSeconds: number;
}

/** The limits `attemptLogin` applies. */
export interface ThrottleLimits {
  perUsername: ThrottleLimit;
  perAddress: ThrottleLimit;
  /** How long a successful sign-in makes its address known for that username (seconds). */
  knownAddressSeconds: number;
}

/** The default limits (Salesforce's lockout per username; a generous per-address rate; known addresses for 30 days). */
export const DEFAULT_THROTTLE_LIMITS: Readonly<ThrottleLimits> = {
  perUsername: { max: 10, windowSeconds: 900 },
  perAddress: { max: 100, windowSeconds: 60 },
  knownAddressSeconds: 30 * 24 * 3600,
};

/** What an attempt came to. */
export type LoginAttempt =
  | { outcome: 'success'; userId: string }
  | { outcome: 'failure' }
  | { outcome: 'refused'; reason: 'address' | 'username'; retryAfterSeconds: number };

type Kind = 'address' | 'username' | 'pair' | 'known';

interface Counter {
  count: number;
  resetAt: number;
}

const rowId = (kind: Kind, key: string) => createHash('sha256').update(`${kind}\u0000${key}`, 'utf8').digest('hex');

/** The live counter of a kind and key (count 0 when missing or its window ended). */
async function read(storage: Storage, kind: Kind, key: string, now: number): Promise<Counter> {
  const row = await storage.get(OBJECT, rowId(kind, key));
  const resetAt = row ? Date.parse(String(row.ResetAt)) : 0;
  return resetAt > now ? { count: Number(row!.Count), resetAt } : { count: 0, resetAt: 0 };
}

/**
 * Runs `fn` on a row in a transaction holding it (PostgreSQL `FOR UPDATE`; SQLite's transactions
 * take the write lock), inserting it when missing; a row another process inserted first is retried.
 */
async function locked<T>(
  storage: Storage,
  kind: Kind,
  key: string,
  now: number,
  fn: (row: Row | undefined) => { values: Row; result: T },
): Promise<T> {
  const id = rowId(kind, key);
  const stamp = new Date(now).toISOString();
  for (let attempt = 0; ; attempt++) {
    try {
      return await storage.transaction(async (tx) => {
        const row = await tx.get(OBJECT, id, { forUpdate: true });
        const { values, result } = fn(row);
        if (row) await tx.update(OBJECT, id, { ...values, LastModifiedDate: stamp });
        else await tx.insert(OBJECT, [{ Id: id, Kind: kind, ...values, CreatedDate: stamp, LastModifiedDate: stamp }]);
        return result;
      });
    } catch (e) {
      if (!(e instanceof UniqueViolation) || attempt >= 3) throw e;
    }
  }
}

/** Adds one to a counter (a new window when its last one ended); returns it after. */
function hit(storage: Storage, kind: Kind, key: string, now: number, windowSeconds: number): Promise<Counter> {
  return locked(storage, kind, key, now, (row) => {
    const resetAt = row ? Date.parse(String(row.ResetAt)) : 0;
    const next: Counter = resetAt > now ? { count: Number(row!.Count) + 1, resetAt } : { count: 1, resetAt: now + windowSeconds * 1000 };
    return { values: { Count: next.count, ResetAt: new Date(next.resetAt).toISOString() }, result: next };
  });
}

/** Sets a row to a count and expiry outright (a known address; clearing a pair counter). */
function put(storage: Storage, kind: Kind, key: string, now: number, count: number, resetAt: number): Promise<void> {
  return locked(storage, kind, key, now, () => ({ values: { Count: count, ResetAt: new Date(resetAt).toISOString() }, result: undefined }));
}

const lastSweep = new WeakMap<Storage, number>();

/** Drops rows whose window ended (at most once a minute per process, a bounded batch). */
async function sweep(storage: Storage, now: number): Promise<void> {
  if (now - (lastSweep.get(storage) ?? 0) < 60_000) return;
  lastSweep.set(storage, now);
  const ended = await storage.find(OBJECT, { where: [{ field: 'ResetAt', op: '<=', value: new Date(now).toISOString() }], limit: 500 });
  if (ended.length)
    await storage.delete(
      OBJECT,
      ended.map((r) => String(r.Id)),
    );
}

const seconds = (c: Counter, now: number) => Math.max(1, Math.ceil((c.resetAt - now) / 1000));

/**
 * One login attempt under the throttles: `verify` (the password check, with its hash work) runs
 * only when no throttle refuses. `username` is normalized; `address` is the client's.
 */
export async function throttledLogin(
  storage: Storage,
  username: string,
  address: string,
  limits: ThrottleLimits,
  now: number,
  verify: () => Promise<string | null>,
): Promise<LoginAttempt> {
  await sweep(storage, now);
  const byAddress = await hit(storage, 'address', address, now, limits.perAddress.windowSeconds);
  if (byAddress.count > limits.perAddress.max) return { outcome: 'refused', reason: 'address', retryAfterSeconds: seconds(byAddress, now) };
  const pairKey = `${username}\u0000${address}`;
  const [byName, byPair] = await Promise.all([read(storage, 'username', username, now), read(storage, 'pair', pairKey, now)]);
  if (byPair.count >= limits.perUsername.max) return { outcome: 'refused', reason: 'username', retryAfterSeconds: seconds(byPair, now) };
  if (byName.count >= limits.perUsername.max) {
    const known = await read(storage, 'known', pairKey, now);
    if (!known.count) return { outcome: 'refused', reason: 'username', retryAfterSeconds: seconds(byName, now) };
  }
  const userId = await verify();
  if (!userId) {
    await hit(storage, 'username', username, now, limits.perUsername.windowSeconds);
    await hit(storage, 'pair', pairKey, now, limits.perUsername.windowSeconds);
    return { outcome: 'failure' };
  }
  // This address is now known for the username, and its own failures are forgiven.
  await put(storage, 'known', pairKey, now, 1, now + limits.knownAddressSeconds * 1000);
  if (byPair.count) await put(storage, 'pair', pairKey, now, 0, now);
  return { outcome: 'success', userId };
}
