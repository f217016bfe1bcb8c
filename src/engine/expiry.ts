/**
 * Checkout expiry (spec §2.7 of the reference): `WebStore.CheckoutTimeToLive` minutes after a
 * session was created it expires (null never, 0 = checkout disabled, so every session is stale),
 * and a session created before `WebStore.CheckoutValidAfterDate` is stale too. Deadlines are data
 * compared with the engine's injected clock whenever a call touches the checkout (never timers,
 * which would not survive a restart); an expired checkout is canceled like any other, so the buyer
 * is back on an Active cart and the next checkout re-runs every integration with fresh data. A
 * draft order the checkout made is deleted with it; a checkout that has placed (Activated) its
 * order never expires back to an Active cart (src/domain/abandon.ts).
 */
import { parseId } from '../domain/ids.js';
import { OBJECTS } from '../domain/objects.js';
import type { EngineCore } from './core.js';
import { cancelCheckout } from './cart.js';
import { findActiveSession, type CheckoutExpiry } from './facts.js';
import type { Tx } from './transaction.js';
import { expiryReason } from '../domain/expiry.js';

export { expiryReason } from '../domain/expiry.js';

/**
 * Cancels the cart's active checkout when it is expired (deleting a draft order it made); returns
 * the reason, or null. Closed carts, and checkouts whose order is placed, are left alone.
 */
export async function expireIfStale(core: EngineCore, tx: Tx, cartId: string, now: Date): Promise<string | null> {
  const session = await findActiveSession(tx, cartId, true);
  if (!session) return null;
  const cart = await tx.get('WebCart', cartId);
  if (!cart || cart.Status === 'Closed') return null;
  const reason = expiryReason(await tx.get('WebStore', String(cart.WebStoreId)), session, now);
  if (!reason) return null;
  // A checkout whose order is placed is never reopened by expiry (src/domain/abandon.ts): it goes on.
  const canceled = await cancelCheckout(core, tx, cartId, now, 'expiry', { operation: `expiry: ${reason}`, callerId: null });
  return canceled ? reason : null;
}

/**
 * A call's transaction found the checkout it was about to use expired (its facts read gave a
 * `CheckoutExpiry`) before writing anything: it returns this instead of going on. The expiry
 * commits with that transaction, and the call runs again (`withFreshCheckout`) on what expiry left.
 */
export class ExpiredCheckout {
  constructor(
    readonly cartId: string,
    /** Expiry kept the checkout (its order is placed: src/domain/abandon.ts) rather than canceling it. */
    readonly kept: boolean,
  ) {}
}

/**
 * In the call's transaction, where its facts read found the checkout expired: expires it (cancels
 * it, deleting a draft order; keeps one whose order is placed) and says so, for the transaction to
 * return and commit. The call's transaction has written nothing before its facts read.
 */
export async function expireInCall(core: EngineCore, tx: Tx, expiry: CheckoutExpiry, now: Date): Promise<ExpiredCheckout> {
  const canceled = await expireIfStale(core, tx, expiry.cartId, now);
  return new ExpiredCheckout(expiry.cartId, canceled === null);
}

/**
 * Runs a call that needs a fresh checkout: `attempt(kept)` runs with no kept checkout; when it
 * returns an `ExpiredCheckout` (its transaction expired the checkout and committed), it runs once
 * more, as if the expiry had been seen before the call — on the canceled checkout, or with `kept`
 * naming the cart whose placed order's checkout expiry kept, so it isn't found expired again.
 */
export async function withFreshCheckout<T>(attempt: (kept: string | null) => Promise<T | ExpiredCheckout>): Promise<T> {
  const first = await attempt(null);
  if (!(first instanceof ExpiredCheckout)) return first;
  const again = await attempt(first.kept ? first.cartId : null);
  if (again instanceof ExpiredCheckout) throw new Error(`the checkout of cart ${again.cartId} expired again while the call ran`);
  return again;
}

/** Expires the checkout of a cart (by cart id or session id) before a call uses it; ids that don't resolve are ignored. */
export async function expireBeforeCall(core: EngineCore, ref: { cartId?: unknown; checkoutSessionId?: unknown }): Promise<string | null> {
  const cart0 = parseId(ref.cartId, [OBJECTS.get('WebCart')!.keyPrefix]);
  const s0 = cart0.ok ? null : parseId(ref.checkoutSessionId, [OBJECTS.get('CartCheckoutSession')!.keyPrefix]);
  if (!cart0.ok && !s0?.ok) return null;
  const now = core.now();
  // One cheap read first (cart, session, store): most calls find a valid session and take no write lock.
  const read = await core.storage.checkoutFacts(cart0.ok ? { cartId: cart0.id } : { sessionId: (s0 as { id: string }).id }, '');
  const { cart, session } = read;
  if (!cart || cart.Status === 'Closed') return null;
  if (!session || session.IsArchived === true) {
    // By session id: an archived session's cart may have another, active one.
    if (cart0.ok || !session) return null;
    return expireBeforeCall(core, { cartId: String(cart.Id) });
  }
  if (!expiryReason(read.store, session, now)) return null;
  const id = String(cart.Id);
  return core.atomically((tx) => expireIfStale(core, tx, id, now));
}

/** Expires every stale checkout (for operators and schedulers); returns how many were canceled. */
export async function sweepExpiredCheckouts(core: EngineCore): Promise<number> {
  const sessions = await core.storage.find('CartCheckoutSession', { where: [{ field: 'IsArchived', op: '=', value: false }] });
  let n = 0;
  for (const s of sessions) if (await expireBeforeCall(core, { cartId: String(s.WebCartId) })) n++;
  return n;
}
