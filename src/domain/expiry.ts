/**
 * Checkout expiry as a rule of the data (src/engine/expiry.ts applies it): `WebStore.CheckoutTimeToLive`
 * minutes after a session was created it expires (null never, 0 = checkout disabled, so every
 * session is stale), and a session created before `WebStore.CheckoutValidAfterDate` is stale too.
 */

/** Why a session is expired at `now`, or null while it is valid. */
export function expiryReason(
  store: Readonly<Record<string, unknown>> | undefined,
  session: Readonly<Record<string, unknown>>,
  now: Date,
): string | null {
  if (!store) return null;
  const created = Date.parse(String(session.CreatedDate));
  const ttl = store.CheckoutTimeToLive;
  if (ttl === 0) return 'checkout is disabled for this store (CheckoutTimeToLive = 0)';
  if (typeof ttl === 'number' && ttl > 0 && Number.isFinite(created) && now.getTime() >= created + ttl * 60_000) {
    return `the checkout expired (CheckoutTimeToLive ${ttl} minutes)`;
  }
  const after = typeof store.CheckoutValidAfterDate === 'string' ? Date.parse(store.CheckoutValidAfterDate) : NaN;
  if (Number.isFinite(after) && Number.isFinite(created) && created < after && now.getTime() >= after) {
    return "the checkout started before the store's CheckoutValidAfterDate";
  }
  return null;
}
