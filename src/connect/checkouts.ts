/**
 * The Commerce Connect Checkout API (start, get, update, cancel) on the engine's checkout session.
 *
 * A Connect checkout is a CartCheckoutSession of the built-in `connect` flow (src/domain/flow.ts):
 * the caller never names states; the engine drives the session. Every calculator run goes through
 * one function, `runCalculators`, by the buyer action that triggered it (Cart Calculate's
 * `checkoutStarted`, `deliveryGroupChanged`, `deliveryMethodSelected`): it claims and runs the
 * flow's steps with the engine's own actions and checkout runner, so the usage requirements,
 * the compare-and-set claims, the BackgroundOperations and the completion invariants all apply.
 *
 * A run goes on in the background after the request answered 202. While it runs the checkout is
 * locked: GET answers 202 and any other write 409 CHECKOUT_CONFLICT. The lock has two parts: this
 * process's (the run's promise, per cart and checkout id: two requests of one process never both
 * reach the database) and the database's (`lock` in the session's Connect data, taken by a
 * compare-and-set under the row's lock, with a lease renewed while the work runs), so two engine
 * processes on one database get one winner too, and a holder that crashed blocks no one once its
 * lease ran out.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { EngineError, toEngineError } from '../errors.js';
import type { CheckoutEngine } from '../engine/engine.js';
import type { Caller } from '../engine/facts.js';
import type { InvocationResult } from '../actions/typed.js';
import { ERRORS, type ErrorKey } from '../errors.js';
import type { Row, StorageOps } from '../storage/port.js';
import { idOf, parsedIdOf, resolveStoreContext, versionNumber, type StoreContext } from './context.js';
import type { CalculateCartResult } from '../engine/cart-calculate.js';
import type { BuyerAction as CartBuyerAction } from '../integrations/cart-calculate.js';
import { parseStamps } from '../domain/completion-invariants.js';
import { rowAccessible } from '../engine/access.js';

/** The session flow of Connect checkouts. */
export const CONNECT_FLOW_ID = 'connect';

/** Where a Connect checkout rests once calculated with an address, a delivery method and taxes. */
const READY_STATE = 'paymentAndBillingAddress';

/** A Checkout Error (RFC 7807-like). */
export interface CheckoutError {
  type: string;
  title: string;
  detail: string;
}

const ERROR_TITLE = 'We are unable to continue the checkout. Please correct the error and try again.';

/** The buyer actions a calculator run is triggered by (Cart Calculate's CartExtension.BuyerActions) and their details. */
export type BuyerAction =
  | { kind: 'checkoutStarted' }
  | { kind: 'deliveryGroupChanged'; keepMethodId?: string | null }
  | { kind: 'deliveryMethodSelected'; deliveryMethodId: string };

/** The Connect data kept on the session (`_connect`). */
export interface ConnectData {
  contactInfo?: Record<string, string | null>;
  payment?: {
    requestType: string;
    token: string | null;
    poNumber: string | null;
    resultCode: string;
    authorizationCode: string | null;
    /** The cart's GrandTotalAmount the payment was made for (a change means the cart changed after it). */
    grandTotal: number;
    /** Earlier authorizations reversed by a re-entry (v63+). */
    reversed: string[];
  };
  /** The errors of the last calculator run (or order placement) that failed; empty when it succeeded. */
  errors?: CheckoutError[];
  /** The checkout's lock across processes: who holds it, until when (wall-clock ms; renewed while held). */
  lock?: { owner: string; until: number } | null;
  /** When the last holder released it (wall-clock ms): a call that arrived before overlapped it. */
  releasedAt?: number;
}

// ── Locks: runs in flight, per engine, by cart id and checkout id ───────────────────────────────────

/** A held lock: its keys (cart id, checkout id), released when its work ends. */
export interface Held {
  readonly token: { p: Promise<void> };
  /** Releases the keys (a no-op once handed to background work: that work releases them when it ends). */
  release(): Promise<void>;
  /**
   * Hands the lock to background work: released when the work ends, whatever the outcome. `last`:
   * the session row as the work last read it, if it did (the release then needn't read it first).
   */
  hand(work: () => Promise<void>, last?: () => Row | undefined): void;
  /**
   * Takes the checkout's lock in the database too (see the module comment), kept until the
   * release; false when another holder's lease is live, or (with `arrival`) another call released
   * it after this one arrived. `under`: work done in the same transaction once the lock is taken
   * (see `UnderLock`); what it throws rolls the lock back with everything else.
   */
  share(sessionId: string, arrival?: Arrival, under?: UnderLock): Promise<boolean>;
  /** The session row as the transaction that took the database lock wrote it (undefined before, or when there was none). */
  written(): Row | undefined;
}

/**
 * Work a call does under the checkout's lock in the transaction that takes it: `session` is the
 * row as it is now (locked; undefined when it is gone). It may read and write through `tx`; what
 * it returns is merged into the session's row written with the lock (`connect` into its Connect
 * data, `fields` as columns), so the lock, the call's checks and its writes are one transaction.
 */
export type UnderLock = (tx: StorageOps, session: Row | undefined) => Promise<{ connect?: Partial<ConnectData>; fields?: Row } | void>;

const runs = new WeakMap<CheckoutEngine, Map<string, { p: Promise<void> }>>();
/** When the last lock of each key ended (null while held), per engine: what a request that waited overlapped. */
const ends = new WeakMap<CheckoutEngine, Map<string, number | null>>();

function runsOf(engine: CheckoutEngine): Map<string, { p: Promise<void> }> {
  let m = runs.get(engine);
  if (!m) runs.set(engine, (m = new Map()));
  return m;
}

function endsOf(engine: CheckoutEngine): Map<string, number | null> {
  let m = ends.get(engine);
  if (!m) ends.set(engine, (m = new Map()));
  return m;
}

/** Whether a calculator run, a call or an order placement of this cart (or checkout id) is in flight in this process. */
export function isRunning(engine: CheckoutEngine, key: string): boolean {
  return runsOf(engine).has(key);
}

/** Whether a lock of `key` was held at some moment since `since` (`performance.now()` ms): a call that arrived then overlapped it. */
export function busySince(engine: CheckoutEngine, key: string, since: number): boolean {
  if (isRunning(engine, key)) return true;
  const end = endsOf(engine).get(key);
  // A 1 ms margin: a call sent right after the previous one answered never counts as overlapping it.
  return end !== undefined && (end === null || end > since + 1);
}

/** Waits for the cart's run in flight, if any (tests, shutdown). */
export async function settled(engine: CheckoutEngine, cartId?: string): Promise<void> {
  const m = runsOf(engine);
  const list = cartId ? [m.get(cartId)] : [...new Set(m.values())];
  for (const t of list) if (t) await t.p.catch(() => {});
}

/**
 * Takes the lock of `keys` synchronously (no await between the check and the set, so of two
 * requests in this process exactly one gets it) or throws 409 CHECKOUT_CONFLICT. `owned`: a lock
 * this request already holds, extended to the new keys.
 */
export function lock(engine: CheckoutEngine, keys: string | string[], owned?: Held | null): Held {
  const m = runsOf(engine);
  const e = endsOf(engine);
  const list = typeof keys === 'string' ? [keys] : keys;
  for (const k of list) {
    const t = m.get(k);
    if (t && t !== owned?.token) throw new EngineError('CHECKOUT_IN_PROGRESS', '', ['checkoutId']);
  }
  if (owned) {
    for (const k of list) {
      m.set(k, owned.token);
      e.set(k, null);
    }
    return owned;
  }
  let done!: () => void;
  const token = { p: new Promise<void>((r) => (done = r)) };
  let handed = false;
  let released = false;
  const owner = randomUUID();
  let shared: { sessionId: string; timer: ReturnType<typeof setInterval> } | null = null;
  let wrote: Row | undefined;
  const unshare = async (known?: Row) => {
    if (!shared) return;
    const { sessionId, timer } = shared;
    shared = null;
    clearInterval(timer);
    if (engine.core.closed) return; // a lease left behind runs out
    await releaseShared(engine, sessionId, owner, known).catch((e: unknown) => {
      if (!engine.core.closed) engine.core.onInternalError(e);
    });
  };
  const free = () => {
    const now = performance.now();
    for (const [k, t] of m) {
      if (t !== token) continue;
      m.delete(k);
      e.set(k, now);
    }
    // Only requests still waiting care about an end: forget those long past.
    if (e.size > 1000) for (const [k, end] of e) if (end !== null && end < now - 10 * 60_000) e.delete(k);
    done();
  };
  for (const k of list) {
    m.set(k, token);
    e.set(k, null);
  }
  return {
    token,
    release: async () => {
      if (handed || released) return;
      released = true;
      await unshare();
      free();
    },
    hand: (work, last) => {
      handed = true;
      token.p = work().finally(async () => {
        await unshare(last?.());
        free();
      });
      token.p.catch(() => {});
    },
    share: async (sessionId, arrival, under) => {
      if (shared) return true;
      const took = await takeShared(engine, sessionId, owner, arrival, under);
      if (!took) return false;
      if (took !== true) wrote = took;
      const renewEvery = Math.max(200, Math.floor(leaseOf(engine) / 3));
      const timer = setInterval(() => {
        if (engine.core.closed || !shared) return clearInterval(timer);
        renewShared(engine, sessionId, owner).catch(() => {});
      }, renewEvery);
      timer.unref();
      shared = { sessionId, timer };
      return true;
    },
    written: () => wrote,
  };
}

// ── The lock in the database ───────────────────────────────────────────────────────────────────────

/** How long a database lock lasts without renewal: the worker's lease (a crashed holder blocks no longer). */
function leaseOf(engine: CheckoutEngine): number {
  return engine.worker.leaseMs;
}

/**
 * Takes the session's database lock for `owner` (compare-and-set under the row's lock), then runs
 * `under` in the same transaction; false when held or overlapped, else the session row as written
 * (true when there was none).
 */
async function takeShared(
  engine: CheckoutEngine,
  sessionId: string,
  owner: string,
  arrival?: Arrival,
  under?: UnderLock,
): Promise<Row | boolean> {
  return engine.core.atomically(async (tx) => {
    // Without row locks (SQLite: the transaction holds the whole database) the session comes with its
    // cart in one read, and the cart read `under` makes is answered from the transaction's own reads.
    const s =
      under && !engine.core.storage.adapter.supportsRowLocks
        ? (await tx.getWithRef('CartCheckoutSession', sessionId, 'WebCartId', 'WebCart'))?.row
        : await tx.get('CartCheckoutSession', sessionId, { forUpdate: true });
    if (!s) {
      // Nothing to lock: the caller's own checks answer (404).
      await under?.(tx, undefined);
      return true;
    }
    const data = connectData(s);
    const now = Date.now();
    if (data.lock && data.lock.owner !== owner && data.lock.until > now) return false;
    // A call released it after this one arrived: they overlapped (as busySince, across processes).
    if (arrival?.wall !== undefined && data.releasedAt !== undefined && data.releasedAt > arrival.wall + 1) return false;
    const more = (await under?.(tx, s)) ?? {};
    // Object.assign rather than spreads followed by a key (V8's slow path on Node 20): the same keys in the same order.
    const values = Object.assign({}, more.fields, {
      _connect: JSON.stringify(Object.assign({}, data, more.connect, { lock: { owner, until: now + leaseOf(engine) } })),
    });
    await tx.update('CartCheckoutSession', sessionId, values);
    return { ...s, ...values };
  });
}

async function renewShared(engine: CheckoutEngine, sessionId: string, owner: string): Promise<void> {
  await engine.core.atomically(async (tx) => {
    const s = await tx.get('CartCheckoutSession', sessionId, { forUpdate: true });
    const data = s ? connectData(s) : {};
    if (!s || data.lock?.owner !== owner) return;
    await tx.update('CartCheckoutSession', sessionId, {
      _connect: JSON.stringify({ ...data, lock: { owner, until: Date.now() + leaseOf(engine) } }),
    });
  });
}

/**
 * Releases the session's database lock held by `owner`: a compare-and-set of the Connect data as
 * read (one read, one update, no transaction of its own; `known`: the row as the holder's work last
 * read it, standing for the read); a write since (the lease renewed) makes it read again, and after
 * a few misses it releases in a transaction as before.
 */
async function releaseShared(engine: CheckoutEngine, sessionId: string, owner: string, known?: Row): Promise<void> {
  const storage = engine.core.storage;
  for (let attempt = 0; attempt < 3; attempt++) {
    const fromKnown = attempt === 0 && !!known && known.Id === sessionId;
    const s = fromKnown ? known : await storage.get('CartCheckoutSession', sessionId);
    const data = s ? connectData(s) : {};
    // A known row not showing this holder's lock is no proof it isn't held: the stored row says.
    if (fromKnown && data.lock?.owner !== owner) continue;
    if (!s || data.lock?.owner !== owner) return;
    const released = JSON.stringify(Object.assign({}, data, { lock: null, releasedAt: Date.now() }));
    if (await storage.update('CartCheckoutSession', sessionId, { _connect: released }, [{ field: '_connect', op: '=', value: s._connect }]))
      return;
  }
  await engine.core.atomically(async (tx) => {
    const s = await tx.get('CartCheckoutSession', sessionId, { forUpdate: true });
    const data = s ? connectData(s) : {};
    if (!s || data.lock?.owner !== owner) return;
    await tx.update('CartCheckoutSession', sessionId, { _connect: JSON.stringify({ ...data, lock: null, releasedAt: Date.now() }) });
  });
}

/** Whether the session's database lock is held by a live lease (another process's work in flight). */
export function lockedInDatabase(session: Row, arrival?: Arrival): boolean {
  const data = connectData(session);
  if (data.lock && data.lock.until > Date.now()) return true;
  return arrival?.wall !== undefined && data.releasedAt !== undefined && data.releasedAt > arrival.wall + 1;
}

/**
 * When a request arrived (`performance.now()` ms, from the HTTP layer's clock of the request). A request reads
 * the database before it knows its cart — on SQLite those reads, and its authentication, wait for a
 * running calculation's transaction — so "a call while another is in progress" is decided by
 * whether a lock of the checkout was held at any moment since the call arrived.
 */
export interface Arrival {
  readonly at: number;
  /** The same moment on the wall clock (`Date.now()` ms), what other processes compare with. */
  readonly wall?: number;
}

/**
 * The lock of a resolved checkout (cart and checkout ids) in this process and in the database;
 * 409 CHECKOUT_CONFLICT when another call (of any process) holds it or overlapped this one's arrival.
 */
export async function lockCheckout(engine: CheckoutEngine, ref: CheckoutRef, arrival?: Arrival, under?: UnderLock): Promise<Held> {
  const keys = [String(ref.cart.Id), String(ref.session.Id)];
  if (arrival && keys.some((k) => busySince(engine, k, arrival.at))) throw new EngineError('CHECKOUT_IN_PROGRESS', '', ['checkoutId']);
  const held = lock(engine, keys);
  let ok = false;
  try {
    ok = await held.share(String(ref.session.Id), arrival, under);
  } finally {
    if (!ok) await held.release();
  }
  if (!ok) throw new EngineError('CHECKOUT_IN_PROGRESS', '', ['checkoutId']);
  return held;
}

// ── Lookups ────────────────────────────────────────────────────────────────────────────────────────

/** The error of a failed action result, as the table declares it (same code and status), else CHECKOUT_REFUSED. */
export function resultError(r: InvocationResult, field = 'checkoutId'): EngineError {
  const e = r.errors![0]!;
  const key = (Object.keys(ERRORS) as ErrorKey[]).find((k) => ERRORS[k].code === e.statusCode && ERRORS[k].status === r.httpStatus);
  const err = new EngineError(key ?? 'CHECKOUT_REFUSED', key ? e.message.replace(ERRORS[key].message, '').trim() : e.message, [field]);
  return err;
}

/** Invokes an action as the caller; its outputs, or its error thrown. */
export async function invoke(engine: CheckoutEngine, caller: Caller, action: string, input: Record<string, unknown>, field?: string) {
  const [r] = await engine.invokeAs(caller, action, [input], CONNECT_FLOW_ID);
  if (!r!.isSuccess) throw resultError(r!, field);
  return r!.outputValues ?? {};
}

/**
 * The cart a request names (`active`, or an id) if it is the context account's cart in the
 * context store that the caller can read; anything else answers as missing (404 naming `field`).
 */
export async function resolveCart(engine: CheckoutEngine, ctx: StoreContext, input: unknown, field = 'cartId'): Promise<Row> {
  const missing = () => new EngineError('NOT_FOUND', `${field}: no cart '${String(input)}' in this store for this account.`, [field]);
  if (input === 'active' || input === 'current') {
    const carts = await engine.admin.find('WebCart', {
      where: [
        { field: 'WebStoreId', op: '=', value: ctx.webstoreId },
        { field: 'AccountId', op: '=', value: ctx.accountId },
        { field: 'Status', op: 'in', value: ['Active', 'Checkout', 'PendingClosed'] },
      ],
      orderBy: [{ field: 'LastModifiedDate', direction: 'desc' }],
    });
    for (const c of carts) if (await canRead(engine, ctx.caller, c)) return c;
    throw missing();
  }
  if (typeof input !== 'string' || input === '') {
    throw new EngineError('REQUIRED_FIELD_MISSING', `${field}: a cart id or 'active'.`, [field]);
  }
  const id = idOf('WebCart', input, field);
  const cart = await engine.admin.get('WebCart', id);
  if (!cart || !(await usableCart(engine, ctx, cart))) throw missing();
  return cart;
}

/** Whether `cart` is the context account's cart in the context store and the caller can read it. */
async function usableCart(engine: CheckoutEngine, ctx: StoreContext, cart: Row): Promise<boolean> {
  if (cart.WebStoreId !== ctx.webstoreId || cart.AccountId !== ctx.accountId) return false;
  return canRead(engine, ctx.caller, cart);
}

/**
 * Whether the caller may read the cart: the record layer's read check in user mode (rowAccessible)
 * on the row just read. Its owner reads it whatever else holds (the check's own first test, on the
 * stored OwnerId), so only another user's cart goes on to the shares.
 */
async function canRead(engine: CheckoutEngine, caller: Caller, cart: Row): Promise<boolean> {
  if (typeof cart.OwnerId === 'string' && cart.OwnerId === caller.Id) return true;
  return rowAccessible(engine.core.storage, caller, 'WebCart', cart, 'read');
}

/** A checkout and its cart. */
export interface CheckoutRef {
  readonly session: Row;
  readonly cart: Row;
}

/**
 * The checkout a path names (`active` or a CartCheckoutSession id): the non-archived session of a
 * cart the context account may use; anything else (archived, another account's) answers as missing.
 */
export async function resolveCheckout(engine: CheckoutEngine, ctx: StoreContext, input: unknown): Promise<CheckoutRef> {
  const missing = () =>
    new EngineError('NOT_FOUND', `checkoutId: no checkout '${String(input)}' for this account in this store.`, ['checkoutId']);
  let session: Row | undefined;
  let cart: Row;
  if (input === 'active') {
    try {
      cart = await resolveCart(engine, ctx, 'active', 'checkoutId');
    } catch {
      throw missing();
    }
    session = await activeSession(engine, String(cart.Id));
  } else {
    const id = idOf('CartCheckoutSession', input, 'checkoutId');
    // The session and its cart in one read (as `resolveCart` would read the cart by the session's WebCartId).
    const read = await engine.core.storage.getWithRef('CartCheckoutSession', id, 'WebCartId', 'WebCart');
    session = read?.row;
    if (!session || session.IsArchived === true) throw missing();
    let usable = false;
    try {
      usable = !!read?.ref && (await usableCart(engine, ctx, read.ref));
    } catch {
      // As the cart's own lookup: anything that fails it answers as a missing checkout.
    }
    if (!usable) throw missing();
    cart = read!.ref!;
  }
  if (!session) throw missing();
  return { session, cart };
}

/** A request's store context and, when it could be read with it, the checkout its path names. */
export interface CheckoutContext {
  readonly ctx: StoreContext;
  /** The checkout (resolved as `resolveCheckout` would); undefined when the caller must resolve it (`resolveCheckout`). */
  readonly ref: CheckoutRef | undefined;
}

/**
 * The store context of a Connect request on a checkout named by id (`resolveStoreContext`'s
 * arguments and the path's checkout id) with that checkout, in one read: the checkout facts of the
 * session (the session, its cart, the cart's store, the account's store membership). Only the
 * usual case is answered from it — the caller's own account (or its id as `effectiveAccountId`),
 * a usable, non-archived session of the account's cart in the path's store; anything else (an
 * `active` or malformed id, another account, a refusal of any kind) takes the old reads, store
 * context first (`ref` undefined: the caller resolves the checkout where it did), so every error
 * keeps its code, status, message and order.
 */
export async function resolveCheckoutContext(
  engine: CheckoutEngine,
  caller: Caller,
  webstoreIdInput: unknown,
  effectiveAccountId: unknown,
  version: string,
  checkoutId: unknown,
): Promise<CheckoutContext> {
  let at: CheckoutContext | undefined;
  try {
    at = await checkoutContextAtOnce(engine, caller, webstoreIdInput, effectiveAccountId, version, checkoutId);
  } catch {
    // The old reads answer (their own errors included).
  }
  return at ?? { ctx: await resolveStoreContext(engine, caller, webstoreIdInput, effectiveAccountId, version), ref: undefined };
}

async function checkoutContextAtOnce(
  engine: CheckoutEngine,
  caller: Caller,
  webstoreIdInput: unknown,
  effectiveAccountId: unknown,
  version: string,
  checkoutId: unknown,
): Promise<CheckoutContext | undefined> {
  const accountId = caller.AccountId;
  if (!accountId || checkoutId === 'active') return undefined;
  const webstoreId = parsedIdOf('WebStore', webstoreIdInput);
  const sessionId = parsedIdOf('CartCheckoutSession', checkoutId);
  if (!webstoreId || !sessionId) return undefined;
  // effectiveAccountId naming the caller's own account acts as leaving it out (an administrator's
  // named account must exist: the facts tell for the cart's account).
  const named = effectiveAccountId !== undefined && effectiveAccountId !== null && effectiveAccountId !== '';
  if (named && parsedIdOf('Account', effectiveAccountId) !== accountId) return undefined;
  const f = await engine.core.storage.checkoutFacts({ sessionId }, caller.Id);
  const { session, cart, store } = f;
  if (!session || session.IsArchived === true || !cart || !store) return undefined;
  // The store and the membership resolveStoreContext reads are those of the cart: its store is the path's, its account the caller's.
  if (store.Id !== webstoreId || cart.WebStoreId !== webstoreId || cart.AccountId !== accountId || !f.storeMember) return undefined;
  if (named && caller.Permissions.includes('ModifyAllData') && !f.accountExists) return undefined;
  if (!(await canRead(engine, caller, cart))) return undefined;
  return { ctx: { caller, webstore: store, webstoreId, accountId, version: versionNumber(version) }, ref: { session, cart } };
}

/** The cart's non-archived session (also the one that completed a Closed cart). */
export async function activeSession(engine: CheckoutEngine, cartId: string): Promise<Row | undefined> {
  const [s] = await engine.admin.find('CartCheckoutSession', {
    where: [
      { field: 'WebCartId', op: '=', value: cartId },
      { field: 'IsArchived', op: '=', value: false },
    ],
    limit: 1,
  });
  return s;
}

export function connectData(session: Row): ConnectData {
  try {
    return typeof session._connect === 'string' ? (JSON.parse(session._connect) as ConnectData) : {};
  } catch {
    return {};
  }
}

/** Merges `patch` into the session's Connect data (one small transaction). */
export async function writeConnectData(engine: CheckoutEngine, sessionId: string, patch: Partial<ConnectData>): Promise<void> {
  await engine.core.atomically(async (tx) => {
    const s = await tx.get('CartCheckoutSession', sessionId, { forUpdate: true });
    if (!s) return;
    await tx.update('CartCheckoutSession', sessionId, { _connect: JSON.stringify({ ...connectData(s), ...patch }) });
  });
}

// ── Input ──────────────────────────────────────────────────────────────────────────────────────────

const ADDRESS_FIELDS: Record<string, string> = {
  name: 'DeliverToName',
  firstName: 'DeliverToFirstName',
  lastName: 'DeliverToLastName',
  companyName: 'CompanyName',
  street: 'DeliverToStreet',
  city: 'DeliverToCity',
  region: 'DeliverToState',
  postalCode: 'DeliverToPostalCode',
  country: 'DeliverToCountry',
};

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A CheckoutAddressInput as CartDeliveryGroup fields: `{id}` of a ContactPointAddress of the
 * context account (another account's answers as missing), or the address fields (street, city and
 * country required). `field` names the input in errors.
 */
export async function deliveryFields(engine: CheckoutEngine, ctx: StoreContext, input: unknown, field: string): Promise<Row> {
  if (!isObject(input)) throw new EngineError('INVALID_INPUT', `${field} must be an object: {id} or address fields.`, [field]);
  for (const [k, v] of Object.entries(input)) {
    if (k !== 'id' && !(k in ADDRESS_FIELDS))
      throw new EngineError(
        'INVALID_INPUT',
        `${field}.${k} is not an address field (${['id', ...Object.keys(ADDRESS_FIELDS)].join(', ')}).`,
        [`${field}.${k}`],
      );
    if (v !== null && typeof v !== 'string') throw new EngineError('INVALID_INPUT', `${field}.${k} must be a string.`, [`${field}.${k}`]);
    if (typeof v === 'string' && v.length > 255)
      throw new EngineError('INVALID_INPUT', `${field}.${k} is longer than 255 characters.`, [`${field}.${k}`]);
  }
  if (input.id !== undefined && input.id !== null) {
    const id = idOf('ContactPointAddress', input.id, `${field}.id`);
    const cpa = await engine.admin.get('ContactPointAddress', id);
    if (!cpa || cpa.ParentId !== ctx.accountId) {
      throw new EngineError('NOT_FOUND', `${field}.id: no address '${String(input.id)}' of this account.`, [`${field}.id`]);
    }
    return {
      DeliverToName: cpa.Name ?? null,
      DeliverToStreet: cpa.Street ?? null,
      DeliverToCity: cpa.City ?? null,
      DeliverToState: cpa.StateCode ?? cpa.State ?? null,
      DeliverToPostalCode: cpa.PostalCode ?? null,
      DeliverToCountry: cpa.CountryCode ?? cpa.Country ?? null,
    };
  }
  for (const req of ['street', 'city', 'country']) {
    const v = input[req];
    if (typeof v !== 'string' || v.trim() === '')
      throw new EngineError('REQUIRED_FIELD_MISSING', `${field}.${req} (or ${field}.id of a saved address).`, [`${field}.${req}`]);
  }
  const out: Row = {};
  for (const [k, col] of Object.entries(ADDRESS_FIELDS)) out[col] = typeof input[k] === 'string' ? (input[k] as string).trim() : null;
  return out;
}

/** `customFields`: accepted only as an empty list (custom fields of WebCart and CartDeliveryGroup aren't supported). */
export function checkCustomFields(v: unknown): void {
  if (v === undefined || v === null) return;
  if (!Array.isArray(v)) throw new EngineError('INVALID_INPUT', 'customFields must be a list.', ['customFields']);
  if (v.length > 0)
    throw new EngineError(
      'INVALID_INPUT',
      'customFields: custom fields of WebCart and CartDeliveryGroup are not supported by this engine.',
      ['customFields'],
    );
}

const hasAddress = (g: Row) =>
  ['DeliverToStreet', 'DeliverToCity', 'DeliverToCountry'].every((k) => typeof g[k] === 'string' && g[k] !== '');

async function groupsOf(engine: CheckoutEngine, cartId: string): Promise<Row[]> {
  return engine.admin.find('CartDeliveryGroup', {
    where: [{ field: 'CartId', op: '=', value: cartId }],
    orderBy: [{ field: 'Id', direction: 'asc' }],
  });
}

/** Writes delivery-group fields (the engine's own write: a Connect address change re-runs shipping instead of canceling). */
async function writeGroups(engine: CheckoutEngine, cartId: string, fields: Row): Promise<void> {
  if (!Object.keys(fields).length) return;
  await engine.core.atomically(async (tx) => {
    const stamp = engine.core.now().toISOString();
    for (const g of await tx.find('CartDeliveryGroup', { where: [{ field: 'CartId', op: '=', value: cartId }] })) {
      await tx.update('CartDeliveryGroup', String(g.Id), { ...fields, LastModifiedDate: stamp });
    }
  });
}

// ── The calculator run ─────────────────────────────────────────────────────────────────────────────

/** The delivery methods offered to every delivery group of the cart, with their total fee. */
async function offeredToAll(engine: CheckoutEngine, cartId: string): Promise<Map<string, number>> {
  const groups = await groupsOf(engine, cartId);
  const options = await engine.admin.find('CartDeliveryGroupMethod', { where: [{ field: 'WebCartId', op: '=', value: cartId }] });
  return offeredOf(groups, options);
}

/** `offeredToAll` of the cart's delivery groups and their CartDeliveryGroupMethod rows. */
function offeredOf(groups: readonly Row[], options: readonly Row[]): Map<string, number> {
  const byMethod = new Map<string, { n: number; fee: number }>();
  for (const o of options) {
    const m = byMethod.get(String(o.DeliveryMethodId)) ?? { n: 0, fee: 0 };
    m.n++;
    m.fee += Number(o.ShippingFee ?? 0);
    byMethod.set(String(o.DeliveryMethodId), m);
  }
  return new Map([...byMethod].filter(([, m]) => groups.length > 0 && m.n === groups.length).map(([id, m]) => [id, m.fee]));
}

/** The Checkout Error items of a Cart Calculate result that didn't complete. */
function resultErrors(result: CalculateCartResult): CheckoutError[] {
  const errors = result.validations
    .filter((v) => v.Level === 'Error')
    .map((v) => ({ type: `/commerce/errors/${v.Type.toLowerCase()}-failure`, title: ERROR_TITLE, detail: v.Message }));
  if (!errors.length)
    errors.push({ type: '/commerce/errors/checkout-failure', title: ERROR_TITLE, detail: result.error ?? 'A calculator failed.' });
  return errors;
}

/**
 * THE calculator run of a Connect checkout: the Cart Calculate orchestrator (engine.calculateCart,
 * one transaction per request) by buyer action —
 * - `checkoutStarted`: prices, promotions, inventory; with an address also shipping and taxes;
 * - `deliveryGroupChanged`: shipping and taxes;
 * - `deliveryMethodSelected`: the method on every group (setCheckoutDeliveryMethod), then taxes.
 * After shipping ran, the method is selected — the one kept if still offered to every group, else
 * the cheapest — and taxes run again with it (`deliveryMethodSelected`). A calculation with an
 * error-level validation (or rolled back) stops the run; its errors are what GET answers with 422.
 * The session moves to `paymentAndBillingAddress` once every group has an address and a method.
 */
export async function runCalculators(
  engine: CheckoutEngine,
  caller: Caller,
  cartId: string,
  action: BuyerAction,
  known?: Row,
  ended?: (session: Row) => void,
): Promise<void> {
  // `known`: the cart's active session as the caller read it under the checkout's lock (not read again).
  // `ended`: told of the session as the run last read it (the lock's release reads it no more).
  const session = known ?? (await activeSession(engine, cartId));
  if (!session) return;
  const sessionId = String(session.Id);
  const calculate = async (buyerActions: CartBuyerAction[]): Promise<boolean> => {
    const result = await engine.calculateCart({ cartId, buyerActions, caller });
    if (result.status === 'Completed') return true;
    await writeConnectData(engine, sessionId, { errors: resultErrors(result) });
    return false;
  };
  let keep: string | null | undefined;
  if (action.kind === 'deliveryMethodSelected') {
    await invoke(engine, caller, 'setCheckoutDeliveryMethod', { cartId, deliveryMethodId: action.deliveryMethodId }, 'deliveryMethodId');
    if (!(await calculate(['deliveryMethodSelected']))) return;
  } else {
    keep = action.kind === 'deliveryGroupChanged' ? action.keepMethodId : null;
    const groups = await groupsOf(engine, cartId);
    const withAddress = groups.length > 0 && groups.every(hasAddress);
    if (!(await calculate([action.kind === 'checkoutStarted' ? 'checkoutStarted' : 'deliveryGroupChanged']))) return;
    if (withAddress) {
      const offered = await offeredToAll(engine, cartId);
      const current = keep ?? (groups[0]?.DeliveryMethodId as string | null | undefined) ?? null;
      const cheapest = [...offered].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))[0]?.[0];
      const method = current && offered.has(current) ? current : cheapest;
      if (!method) {
        await writeConnectData(engine, sessionId, {
          errors: [
            {
              type: '/commerce/errors/shipping-failure',
              title: ERROR_TITLE,
              detail: 'No delivery method is offered for every delivery group.',
            },
          ],
        });
        return;
      }
      await invoke(engine, caller, 'setCheckoutDeliveryMethod', { cartId, deliveryMethodId: method }, 'deliveryMethodId');
      if (!(await calculate(['deliveryMethodSelected']))) return;
    }
  }
  // A session past `start` stays there (no run moves it back): `known`, as the lock's transaction
  // wrote it, stands for the read (its Connect data is what the lock's release compares).
  const now = known && known.State !== 'start' ? known : await activeSession(engine, cartId);
  if (now) ended?.(now);
  if (!now || now.State !== 'start') return;
  const groups = await groupsOf(engine, cartId);
  if (groups.length > 0 && groups.every((g) => hasAddress(g) && !!g.DeliveryMethodId)) {
    await engine.updateRecordAs(caller, 'CartCheckoutSession', String(now.Id), { State: READY_STATE });
  }
}

/**
 * Starts `runCalculators` in the background under the cart's lock; a failure outside a calculation
 * is kept for GET. The last run's errors are cleared first, unless the caller cleared them in the
 * transaction that took the lock (`cleared`: the session as it wrote it there).
 */
export function startRun(
  engine: CheckoutEngine,
  held: Held,
  caller: Caller,
  sessionId: string,
  cartId: string,
  action: BuyerAction,
  cleared?: Row,
) {
  let last: Row | undefined;
  held.hand(
    async () => {
      try {
        if (!cleared) await writeConnectData(engine, sessionId, { errors: [] });
        await runCalculators(engine, caller, cartId, action, cleared, (s) => (last = s));
      } catch (e) {
        last = undefined;
        if (engine.core.closed) return;
        if (!(e instanceof EngineError)) engine.core.onInternalError(e);
        const detail = toEngineError(e).message;
        await writeConnectData(engine, sessionId, {
          errors: [{ type: '/commerce/errors/checkout-failure', title: ERROR_TITLE, detail }],
        }).catch(() => {});
      }
    },
    () => last,
  );
}

// ── The endpoints' services ────────────────────────────────────────────────────────────────────────

/** POST/PUT checkouts: get or create the session and run the calculators of a start. Answers the checkout id. */
export async function startCheckout(engine: CheckoutEngine, ctx: StoreContext, body: unknown): Promise<{ checkoutId: string }> {
  const input = isObject(body) ? body : {};
  if (!isObject(body) && body !== undefined && body !== null) throw new EngineError('INVALID_INPUT', 'The body must be a JSON object.', []);
  for (const k of Object.keys(input))
    if (!['cartId', 'deliveryAddress', 'customFields', 'effectiveAccountId'].includes(k))
      throw new EngineError('INVALID_INPUT', `Unknown field '${k}' (cartId, deliveryAddress, customFields).`, [k]);
  checkCustomFields(input.customFields);
  const cart = await resolveCart(engine, ctx, input.cartId ?? 'active', 'cartId');
  const cartId = String(cart.Id);
  const address =
    input.deliveryAddress === undefined || input.deliveryAddress === null
      ? null
      : await deliveryFields(engine, ctx, input.deliveryAddress, 'deliveryAddress');
  const existing = await activeSession(engine, cartId);
  if (existing) {
    // Salesforce answers the existing checkout.
    if (existing._flow !== CONNECT_FLOW_ID) throw new EngineError('CHECKOUT_NOT_CONNECT', '', ['cartId']);
    if (
      address &&
      !isRunning(engine, cartId) &&
      !isRunning(engine, String(existing.Id)) &&
      existing.IsProcessing !== true &&
      !['PendingClosed', 'Closed'].includes(String(cart.Status))
    ) {
      const held = lock(engine, [cartId, String(existing.Id)]);
      let ok: boolean;
      try {
        // Another process's call in flight: the existing checkout is answered as it is.
        ok = await held.share(String(existing.Id));
        if (ok) await writeGroups(engine, cartId, address);
      } catch (e) {
        await held.release();
        throw e;
      }
      if (ok) startRun(engine, held, ctx.caller, String(existing.Id), cartId, { kind: 'deliveryGroupChanged', keepMethodId: null });
      else await held.release();
    }
    return { checkoutId: String(existing.Id) };
  }
  const held = lock(engine, cartId);
  let sessionId: string;
  try {
    if (address) await writeGroups(engine, cartId, address);
    const out = await invoke(engine, ctx.caller, 'checkoutSessionAction', { cartId }, 'cartId');
    sessionId = String(out.requestId);
  } catch (e) {
    await held.release();
    throw e;
  }
  lock(engine, [sessionId], held);
  // The new session's lock in the database (no other process has it yet): other processes see the run.
  await held.share(sessionId).catch(() => false);
  startRun(engine, held, ctx.caller, sessionId, cartId, { kind: 'checkoutStarted' });
  return { checkoutId: sessionId };
}

/** Whether the checkout is busy: a run in this process or another (the database lock), or a step in flight. */
export function isBusy(engine: CheckoutEngine, ref: CheckoutRef, arrival?: Arrival): boolean {
  return (
    isRunning(engine, String(ref.cart.Id)) ||
    isRunning(engine, String(ref.session.Id)) ||
    ref.session.IsProcessing === true ||
    lockedInDatabase(ref.session, arrival)
  );
}

/** The Checkout Error items of a checkout whose last run failed (or whose session is in error). */
async function checkoutErrors(engine: CheckoutEngine, ref: CheckoutRef): Promise<CheckoutError[]> {
  const errors = [...(connectData(ref.session).errors ?? [])];
  if (ref.session.IsError === true && ref.session.BackgroundOperationId) {
    const cvos = await engine.admin.find('CartValidationOutput', {
      where: [
        { field: 'BackgroundOperationId', op: '=', value: ref.session.BackgroundOperationId },
        { field: 'Level', op: '=', value: 'Error' },
      ],
    });
    for (const v of cvos)
      errors.push({ type: `/commerce/errors/${String(v.Type).toLowerCase()}-failure`, title: ERROR_TITLE, detail: String(v.Message) });
    if (!cvos.length) {
      const op = await engine.admin.get('BackgroundOperation', String(ref.session.BackgroundOperationId));
      errors.push({ type: '/commerce/errors/checkout-failure', title: ERROR_TITLE, detail: String(op?.Error ?? 'A step failed.') });
    }
  }
  return errors;
}

/** The Checkout output and its HTTP status: 202 while calculators run, 422 when one failed, else 200. */
export async function checkoutOutput(
  engine: CheckoutEngine,
  ctx: StoreContext,
  ref: CheckoutRef,
  arrival?: Arrival,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const cartId = String(ref.cart.Id);
  const placing = ref.cart.Status === 'PendingClosed' || ref.cart.Status === 'Closed';
  const errors = await checkoutErrors(engine, ref);
  const keys = [String(ref.cart.Id), String(ref.session.Id)];
  const busy = isBusy(engine, ref, arrival) || (!!arrival && keys.some((k) => busySince(engine, k, arrival.at)));
  const status = errors.length && !busy ? 422 : busy && !placing ? 202 : 200;
  // A GET (its arrival known) reads the groups and their options at once (`findAll`: one round trip
  // on PostgreSQL; on SQLite the same two statements in the same order). The PATCH's 202 reads them
  // one after the other as before, while the run it started moves on.
  const optionsRead = { object: 'CartDeliveryGroupMethod', where: [{ field: 'WebCartId', op: '=' as const, value: cartId }] };
  const [groups, options] = arrival
    ? await engine.core.storage.findAll([
        { object: 'CartDeliveryGroup', where: [{ field: 'CartId', op: '=', value: cartId }], orderBy: [{ field: 'Id', direction: 'asc' }] },
        optionsRead,
      ])
    : [await groupsOf(engine, cartId), await engine.admin.find(optionsRead.object, { where: optionsRead.where })];
  const methods = new Map<string, Row>();
  // The OrderDeliveryMethod only fills in what an option row lacks (its name, carrier, class of service).
  const lacking = options.filter((o) => o.Name == null || o.Carrier == null || o.ClassOfService == null);
  if (lacking.length) {
    for (const m of await engine.admin.find('OrderDeliveryMethod', {
      where: [{ field: 'Id', op: 'in', value: [...new Set(lacking.map((o) => String(o.DeliveryMethodId)))] }],
    })) {
      methods.set(String(m.Id), m);
    }
  }
  const methodOut = (o: Row) => {
    const m = methods.get(String(o.DeliveryMethodId));
    return {
      id: String(o.DeliveryMethodId),
      name: String(o.Name ?? m?.Name ?? ''),
      shippingFee: String(Number(o.ShippingFee ?? 0).toFixed(2)),
      currencyIsoCode: String(ref.cart.CurrencyIsoCode ?? 'USD'),
      carrier: (o.Carrier ?? m?.Carrier ?? null) as string | null,
      classOfService: (o.ClassOfService ?? m?.ClassOfService ?? null) as string | null,
    };
  };
  const items = groups.map((g, i) => {
    const available = options.filter((o) => o.CartDeliveryGroupId === g.Id).map(methodOut);
    const selected = available.find((a) => a.id === g.DeliveryMethodId);
    const item: Record<string, unknown> = {
      id: String(g.Id),
      name: String(g.Name),
      isDefault: i === 0,
      deliveryAddress: {
        name: g.DeliverToName ?? null,
        firstName: g.DeliverToFirstName ?? null,
        lastName: g.DeliverToLastName ?? null,
        companyName: g.CompanyName ?? null,
        street: g.DeliverToStreet ?? null,
        city: g.DeliverToCity ?? null,
        region: g.DeliverToState ?? null,
        postalCode: g.DeliverToPostalCode ?? null,
        country: g.DeliverToCountry ?? null,
      },
      availableDeliveryMethods: available,
    };
    // Keys added in their order (no spread in the middle of the literal: the keys after it are slow on Node 20).
    if (selected) item.selectedDeliveryMethod = selected;
    item.desiredDeliveryDate = g.DesiredDeliveryDate ?? null;
    item.shippingInstructions = g.ShippingInstructions ?? null;
    return item;
  });
  const data = connectData(ref.session);
  const body: Record<string, unknown> = {
    checkoutId: String(ref.session.Id),
    deliveryGroups: { count: items.length, items },
    contactInfo: data.contactInfo ?? null,
    errors,
  };
  if (ctx.version >= 57) body.statusCode = String(status);
  if (ctx.version >= 61) {
    // With the request's arrival, a 200 means no run of this process held the checkout since the
    // request arrived, so the cart `ref` read since then is current; otherwise it is read again.
    const cart = (arrival ? ref.cart : await engine.admin.get('WebCart', cartId)) ?? ref.cart;
    const money = (k: string) => String(Number(cart[k] ?? 0).toFixed(2));
    body.cartSummary = {
      cartId,
      status: String(cart.Status),
      currencyIsoCode: String(cart.CurrencyIsoCode ?? 'USD'),
      totalListPrice: money('TotalListPrice'),
      totalProductAmount: money('TotalProductAmount'),
      totalChargeAmount: money('TotalChargeAmount'),
      totalTaxAmount: money('TotalTaxAmount'),
      totalAdjustmentAmount: money('TotalAdjustmentAmount'),
      grandTotalAmount: money('GrandTotalAmount'),
      uniqueProductCount: Number(cart.UniqueProductCount ?? 0),
    };
    body.orderReferenceNumber = placing ? String(ref.session.Id) : null;
  }
  if (ctx.version >= 62) body.customFields = [];
  return { status, body };
}

const CONTACT_FIELDS = ['email', 'firstName', 'lastName', 'phoneNumber'];

/**
 * PATCH checkouts/{id}: contact info, delivery address, delivery method, desired date and
 * instructions; an address change re-runs shipping and taxes, a method change re-runs taxes (and
 * clears the payment). The checks and writes go in the transaction that takes the checkout's
 * database lock (`UnderLock`); answers once they committed and the run has started (202).
 */
export async function updateCheckout(
  engine: CheckoutEngine,
  ctx: StoreContext,
  checkoutId: unknown,
  body: unknown,
  arrival?: Arrival,
  resolved?: CheckoutRef,
): Promise<CheckoutRef> {
  if (!isObject(body)) throw new EngineError('INVALID_INPUT', 'The body must be a JSON object.', []);
  const known = [
    'contactInfo',
    'deliveryAddress',
    'deliveryMethodId',
    'desiredDeliveryDate',
    'shippingInstructions',
    'customFields',
    'effectiveAccountId',
  ];
  for (const k of Object.keys(body))
    if (!known.includes(k)) throw new EngineError('INVALID_INPUT', `Unknown field '${k}' (${known.slice(0, 6).join(', ')}).`, [k]);
  checkCustomFields(body.customFields);
  let contact: Record<string, string | null> | undefined;
  if (body.contactInfo !== undefined) {
    if (!isObject(body.contactInfo)) throw new EngineError('INVALID_INPUT', 'contactInfo must be an object.', ['contactInfo']);
    contact = {};
    for (const [k, v] of Object.entries(body.contactInfo)) {
      if (!CONTACT_FIELDS.includes(k))
        throw new EngineError('INVALID_INPUT', `contactInfo.${k} is not a contact field (${CONTACT_FIELDS.join(', ')}).`, [
          `contactInfo.${k}`,
        ]);
      if (v !== null && (typeof v !== 'string' || v.length > 255))
        throw new EngineError('INVALID_INPUT', `contactInfo.${k} must be a string (255 characters at most).`, [`contactInfo.${k}`]);
      contact[k] = v as string | null;
    }
    if (typeof contact.email === 'string' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(contact.email))
      throw new EngineError('INVALID_INPUT', `contactInfo.email '${contact.email}' is not an email address.`, ['contactInfo.email']);
  }
  const groupFields: Row = {};
  if (body.desiredDeliveryDate !== undefined) {
    const d = body.desiredDeliveryDate;
    if (d !== null && (typeof d !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(d) || Number.isNaN(Date.parse(d.slice(0, 10)))))
      throw new EngineError('INVALID_INPUT', 'desiredDeliveryDate must be a date (YYYY-MM-DD).', ['desiredDeliveryDate']);
    groupFields.DesiredDeliveryDate = d === null ? null : d.slice(0, 10);
  }
  if (body.shippingInstructions !== undefined) {
    const v = body.shippingInstructions;
    if (v !== null && (typeof v !== 'string' || v.length > 255))
      throw new EngineError('INVALID_INPUT', 'shippingInstructions must be a string (255 characters at most).', ['shippingInstructions']);
    groupFields.ShippingInstructions = v;
  }
  let methodId: string | undefined;
  if (body.deliveryMethodId !== undefined) methodId = idOf('OrderDeliveryMethod', body.deliveryMethodId, 'deliveryMethodId');
  // `resolved`: the checkout read with the store context (resolveCheckoutContext), else resolved here as always.
  const ref = resolved ?? (await resolveCheckout(engine, ctx, checkoutId));
  const address = body.deliveryAddress === undefined ? null : await deliveryFields(engine, ctx, body.deliveryAddress, 'deliveryAddress');
  const cartId = String(ref.cart.Id);
  const sessionId = String(ref.session.Id);
  if (ref.session._flow !== CONNECT_FLOW_ID) throw new EngineError('CHECKOUT_NOT_CONNECT', '', ['checkoutId']);
  const runs = !!(address || methodId);
  /** The session and cart as this call left them (written in the lock's transaction), and the method an address change keeps. */
  let after: { session: Row; cart: Row; keep: string | null } | undefined;
  // The checks and writes go in the transaction that takes the checkout's lock, on the rows as they
  // are now (another process may have moved them): one transaction, all or nothing.
  const held = await lockCheckout(engine, ref, arrival, async (tx, session) => {
    if (!session || session.IsArchived === true)
      throw new EngineError('NOT_FOUND', `checkoutId: no checkout '${String(checkoutId)}'.`, ['checkoutId']);
    if (session.IsProcessing === true) throw new EngineError('CHECKOUT_IN_PROGRESS', '', ['checkoutId']);
    let cart = (await tx.get('WebCart', cartId))!;
    if (cart.Status !== 'Checkout')
      throw new EngineError('CHECKOUT_REFUSED', `The cart is ${String(cart.Status)}: the order is placed or being placed.`, ['checkoutId']);
    if (session.IsError === true && runs)
      throw new EngineError('CHECKOUT_REFUSED', 'A calculator failed: cancel the checkout (DELETE) and start again.', ['checkoutId']);
    const fields = { ...groupFields, ...(address ?? {}) };
    const groups =
      (methodId && !address) || address || Object.keys(fields).length
        ? await tx.find('CartDeliveryGroup', {
            where: [{ field: 'CartId', op: '=', value: cartId }],
            orderBy: [{ field: 'Id', direction: 'asc' }],
          })
        : [];
    if (methodId && !address) {
      const options = await tx.find('CartDeliveryGroupMethod', { where: [{ field: 'WebCartId', op: '=', value: cartId }] });
      const offered = offeredOf(groups, options);
      if (offered.size === 0)
        throw new EngineError('CHECKOUT_REFUSED', 'No delivery methods are offered yet: set a delivery address first.', [
          'deliveryMethodId',
        ]);
      if (!offered.has(methodId))
        throw new EngineError(
          'INVALID_INPUT',
          `deliveryMethodId: '${methodId}' is not one of the delivery group's available delivery methods.`,
          ['deliveryMethodId'],
        );
    }
    const data = connectData(session);
    const connect: Partial<ConnectData> = {};
    const sessionFields: Row = {};
    if (contact) connect.contactInfo = { ...(data.contactInfo ?? {}), ...contact };
    if (Object.keys(fields).length) {
      // The engine's own write: a Connect address change re-runs shipping instead of canceling.
      const stamp = engine.core.now().toISOString();
      for (const g of groups) await tx.update('CartDeliveryGroup', String(g.Id), { ...fields, LastModifiedDate: stamp });
    }
    if (methodId) {
      // A delivery method change invalidates the payment information, as Salesforce documents.
      // A cart with none of it set is left as it is (nothing changes, so no write and no new
      // LastModifiedDate: the run's own write of the cart stamps it).
      const cleared: Row = { PaymentMethodId: null, PoNumber: null };
      for (const part of ['Street', 'City', 'State', 'PostalCode', 'Country']) cleared[`Billing${part}`] = null;
      if (Object.keys(cleared).some((k) => cart[k] !== null && cart[k] !== undefined)) {
        cleared.LastModifiedDate = engine.core.now().toISOString();
        await tx.update('WebCart', cartId, cleared);
        cart = { ...cart, ...cleared };
      }
      const { preauthorization: _cleared, ...stamps } = parseStamps(session._stamps);
      connect.payment = undefined;
      sessionFields._stamps = JSON.stringify(stamps);
    }
    // The run about to start begins with no errors of the last one.
    if (runs) connect.errors = [];
    after = {
      // Object.assign rather than spreads followed by a key (V8's slow path on Node 20): the same keys in the same order.
      session: Object.assign({}, session, sessionFields, { _connect: JSON.stringify({ ...data, ...connect }) }),
      cart,
      keep: (groups[0]?.DeliveryMethodId as string | null | undefined) ?? null,
    };
    return { connect, fields: sessionFields };
  });
  // The session exactly as the lock's transaction stored it (its Connect data with the lock): the run
  // needn't read it again, and the lock's release compares against it.
  after = { session: held.written() ?? after!.session, cart: after!.cart, keep: after!.keep };
  try {
    const { session, keep } = after;
    if (address) {
      startRun(engine, held, ctx.caller, sessionId, cartId, { kind: 'deliveryGroupChanged', keepMethodId: methodId ?? keep }, session);
    } else if (methodId) {
      startRun(engine, held, ctx.caller, sessionId, cartId, { kind: 'deliveryMethodSelected', deliveryMethodId: methodId }, session);
    } else {
      await held.release();
    }
  } catch (e) {
    await held.release();
    throw e;
  }
  return { session: after!.session, cart: after!.cart };
}

/** DELETE checkouts/{id}: cancels the checkout (cancelCartAsyncOperation's rules); 409 while a call is in progress. */
export async function cancelCheckout(
  engine: CheckoutEngine,
  ctx: StoreContext,
  checkoutId: unknown,
  arrival?: Arrival,
  resolved?: CheckoutRef,
): Promise<void> {
  // `resolved`: the checkout read with the store context (resolveCheckoutContext), else resolved here as always.
  const ref = resolved ?? (await resolveCheckout(engine, ctx, checkoutId));
  const cartId = String(ref.cart.Id);
  // A placement in progress can't be canceled; one that failed (its session in error) can: the draft
  // order, if any, is deleted and the cart is Active again (cancelCartAsyncOperation's rules).
  if (ref.cart.Status === 'PendingClosed' && ref.session.IsError !== true)
    throw new EngineError('CHECKOUT_REFUSED', 'The order is being placed: the checkout can no longer be canceled.', ['checkoutId']);
  const held = await lockCheckout(engine, ref, arrival);
  try {
    if (ref.cart.Status === 'PendingClosed') {
      // The failed placement gives the cart back to its checkout first (compare-and-set), so the
      // cancel's own rules apply as to any checkout; a crash in between leaves an ordinary checkout in error.
      await engine.core.atomically((tx) =>
        tx.updateWhere(
          'WebCart',
          [
            { field: 'Id', op: '=', value: cartId },
            { field: 'Status', op: '=', value: 'PendingClosed' },
          ],
          { Status: 'Checkout', LastModifiedDate: engine.core.now().toISOString() },
        ),
      );
    }
    await invoke(engine, ctx.caller, 'cancelCartAsyncOperation', { cartId }, 'checkoutId');
  } finally {
    await held.release();
  }
}
