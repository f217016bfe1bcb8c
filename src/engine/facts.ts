/**
 * Loads what the usage requirements look at — caller, cart, account, buyer account, store
 * membership, share, active session, current operation — inside the action's transaction.
 */
import { EngineError } from '../errors.js';
import { parseId } from '../domain/ids.js';
import { OBJECTS } from '../domain/objects.js';
import type { CallerFacts, RequirementFacts } from '../domain/requirements.js';
import type { CheckoutFacts, FactsKey, Row, StorageOps } from '../storage/port.js';
import { expiryReason } from '../domain/expiry.js';

const CART_PREFIX = OBJECTS.get('WebCart')!.keyPrefix;

/** The authenticated user as the engine sees it. */
export interface Caller extends CallerFacts {
  readonly row: Row;
}

/** The error of a call whose user id names no user (or is malformed): an invalid session (401). */
const noUser = (userId: unknown) => new EngineError('INVALID_SESSION', `No user with id '${String(userId)}'.`, ['userId']);

/** Loads the caller; an unknown or malformed user id is an invalid session (401). */
export async function loadCaller(tx: StorageOps, userId: unknown): Promise<Caller> {
  const parsed = parseId(userId, [OBJECTS.get('User')!.keyPrefix]);
  const row = parsed.ok ? await tx.get('User', parsed.id) : undefined;
  if (!row) throw noUser(userId);
  return callerOf(row);
}

/**
 * What made reading a call's caller fail inside the call (`CallerRead`): the call fails with
 * `cause` as a whole, as it would have had the caller been read before the call (invokeAction
 * throws it; nothing converts it into a result or runs the call again).
 */
export class CallerFailed extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'CallerFailed';
  }
}

/**
 * The caller of a library call, read with the call's first facts read (`loadCartFacts`,
 * `loadSessionFacts`: `readTogether`, one round trip where the backend pipelines statements) rather
 * than in a round trip of its own before the call. The user read goes first and settles on its
 * own, so the call fails as if the caller had been read first: an unknown user fails the whole call
 * with INVALID_SESSION (`CallerFailed`) whatever the facts read met; a failed user read is a failed
 * read of the call (a transaction runs again when its connection was lost), after which
 * invokeAction reads the caller alone, as before a call, and its failure is the call's. Its `Id` is
 * the user id asked for (a malformed one is refused when this is made, before any read).
 */
export class CallerRead {
  private caller: Caller | undefined;
  private failed: CallerFailed | undefined;

  private constructor(
    readonly Id: string,
    private readonly userId: unknown,
    private readonly storage: StorageOps,
  ) {}

  /** The caller of `userId` to be read on `storage`; a malformed id is INVALID_SESSION at once. */
  static of(storage: StorageOps, userId: unknown): CallerRead {
    const parsed = parseId(userId, [OBJECTS.get('User')!.keyPrefix]);
    if (!parsed.ok) throw noUser(userId);
    return new CallerRead(parsed.id, userId, storage);
  }

  /** The caller, once read. */
  get known(): Caller | undefined {
    return this.caller;
  }

  /**
   * The caller, read on `ops` (a transaction's row operations, else the storage: as before a call)
   * unless already read. An unknown user fails the call (`CallerFailed`, and so does every later
   * use); a read that failed throws its error and leaves the caller unread, so the call handles it
   * as any failed read (a transaction whose connection was lost runs again) and invokeAction reads
   * the caller alone afterwards.
   */
  async load(ops: StorageOps = this.storage): Promise<Caller> {
    if (this.caller) return this.caller;
    if (this.failed) throw this.failed;
    return this.found(await ops.get('User', this.Id));
  }

  /** Takes the outcome of the user read sent with a facts read (see `load`). */
  settle(read: PromiseSettledResult<Row | undefined>): Caller {
    if (this.caller) return this.caller;
    if (this.failed) throw this.failed;
    if (read.status === 'rejected') throw read.reason;
    return this.found(read.value);
  }

  private found(row: Row | undefined): Caller {
    if (!row) throw (this.failed = new CallerFailed(noUser(this.userId)));
    return (this.caller = callerOf(row));
  }
}

/** The caller of a call: read already, or to be read with the call's first facts read. */
export type CallerRef = Caller | CallerRead;

/** The caller `ref` stands for, reading it on `ops` (the call's transaction) when no facts read has yet. */
export function callerNow(ref: CallerRef, ops: StorageOps): Promise<Caller> {
  return ref instanceof CallerRead ? ref.load(ops) : Promise.resolve(ref);
}

/**
 * The facts read of `key` (none: undefined) and the caller: a caller still to be read is read with
 * it (`readTogether`) and settled first, so an unknown caller fails the call whatever the facts read
 * met.
 */
async function readFacts(
  tx: StorageOps,
  ref: CallerRef,
  key: FactsKey | undefined,
  forUpdate: boolean | undefined,
): Promise<{ read: CheckoutFacts | undefined; caller: Caller }> {
  const known = ref instanceof CallerRead ? ref.known : ref;
  if (known) return { read: key ? await tx.checkoutFacts(key, known.Id, { forUpdate }) : undefined, caller: known };
  const pending = ref as CallerRead;
  if (!key) return { read: undefined, caller: await pending.load(tx) };
  const [user, facts] = await tx.readTogether(
    (o) => o.get('User', pending.Id),
    (o) => o.checkoutFacts(key, pending.Id, { forUpdate }),
  );
  const caller = pending.settle(user);
  if (facts.status === 'rejected') throw facts.reason;
  return { read: facts.value, caller };
}

/** The caller a stored User row describes. */
export function callerOf(row: Row): Caller {
  return {
    row,
    Id: String(row.Id),
    AccountId: (row.AccountId as string | null) ?? null,
    Permissions: (row.Permissions as string[] | null) ?? [],
    IsActive: row.IsActive !== false,
  };
}

/** Facts plus the rows they came from. */
export interface LoadedCartFacts {
  /** The checkout is usable at the read's `now` (see `CheckoutExpiry` for the other outcome). */
  expired: false;
  facts: RequirementFacts;
  cart: Row | null;
  session: Row | null;
  operation: Row | null;
  /** The cart's store (for its checkout settings), or null. */
  store: Row | null;
}

/** The active (non-archived) session of a cart, or null. */
export async function findActiveSession(tx: StorageOps, cartId: string, forUpdate = false): Promise<Row | null> {
  const rows = await tx.find('CartCheckoutSession', {
    where: [
      { field: 'WebCartId', op: '=', value: cartId },
      { field: 'IsArchived', op: '=', value: false },
    ],
    limit: 1,
    forUpdate,
  });
  return rows[0] ?? null;
}

/**
 * What a facts read checking expiry (`now` given) found instead of facts: the cart's active
 * checkout has expired at `now` (see expiry.ts). The call expires it there, in its transaction
 * (`expireInCall`), and returns that; the action runner runs it again (`withFreshCheckout`).
 */
export interface CheckoutExpiry {
  expired: true;
  cartId: string;
}

/** The facts of a cart, or that its checkout has expired (a read given `now`). */
export type FactsRead = LoadedCartFacts | CheckoutExpiry;

/** Options of `loadCartFacts`. */
export interface LoadFactsOptions {
  /** Lock the cart row (PostgreSQL FOR UPDATE) for the rest of the transaction. */
  forUpdate?: boolean;
}

/** Options of a facts read that checks expiry (cancel reads without: it needs no fresh checkout). */
export interface FreshFactsOptions extends LoadFactsOptions {
  /** The time expiry is checked at: an expired active checkout is read as a `CheckoutExpiry`. */
  now: Date;
  /**
   * The cart whose expired checkout expiry kept (its order is placed: src/domain/abandon.ts), while
   * a call runs again on it: its checkout isn't reported as expired a second time.
   */
  kept?: string | null;
}

/**
 * Loads every fact about a cart for the usage requirements in one statement (requirement 1 fails
 * when the id is bad): cart, account, buyer account, store membership, share, active session, its
 * operation and the store's expiry settings. `opts.now` checks expiry in the same read: an expired
 * checkout is read as a `CheckoutExpiry`, not as facts.
 */
export function loadCartFacts(tx: StorageOps, caller: CallerRef, cartIdInput: unknown, opts: FreshFactsOptions): Promise<FactsRead>;
export function loadCartFacts(tx: StorageOps, caller: CallerRef, cartIdInput: unknown, opts?: LoadFactsOptions): Promise<LoadedCartFacts>;
export async function loadCartFacts(
  tx: StorageOps,
  caller: CallerRef,
  cartIdInput: unknown,
  opts: LoadFactsOptions & Partial<FreshFactsOptions> = {},
): Promise<FactsRead> {
  const parsed = parseId(cartIdInput, [CART_PREFIX]);
  const got = await readFacts(tx, caller, parsed.ok ? { cartId: parsed.id } : undefined, opts.forUpdate);
  return factsOf(got.read, got.caller, opts.now, opts.kept);
}

/** The facts of the cart of a checkout session (that session, archived or not), in one statement; with `now`, or its expiry. */
export function loadSessionFacts(tx: StorageOps, caller: CallerRef, sessionId: string, opts: FreshFactsOptions): Promise<FactsRead>;
export function loadSessionFacts(tx: StorageOps, caller: CallerRef, sessionId: string, opts?: LoadFactsOptions): Promise<LoadedCartFacts>;
export async function loadSessionFacts(
  tx: StorageOps,
  caller: CallerRef,
  sessionId: string,
  opts: LoadFactsOptions & Partial<FreshFactsOptions> = {},
): Promise<FactsRead> {
  const got = await readFacts(tx, caller, { sessionId }, opts.forUpdate);
  return factsOf(got.read!, got.caller, opts.now, opts.kept);
}

function factsOf(read: CheckoutFacts | undefined, caller: Caller, now: Date | undefined, kept: string | null | undefined): FactsRead {
  const callerFacts: CallerFacts = {
    Id: caller.Id,
    AccountId: caller.AccountId,
    Permissions: caller.Permissions,
    IsActive: caller.IsActive,
  };
  const cart = read?.cart ?? null;
  const session = read?.session ?? null;
  if (!cart) {
    return {
      expired: false,
      facts: {
        caller: callerFacts,
        cart: null,
        accountExists: false,
        buyerStatus: null,
        storeMember: false,
        shareAccess: null,
        session: null,
        operationStatus: null,
      },
      cart: null,
      session,
      operation: read?.operation ?? null,
      store: null,
    };
  }
  if (
    now &&
    session &&
    session.IsArchived !== true &&
    cart.Status !== 'Closed' &&
    kept !== String(cart.Id) &&
    expiryReason(read!.store, session, now)
  ) {
    return { expired: true, cartId: String(cart.Id) };
  }
  const operation = read!.operation ?? null;
  return {
    expired: false,
    facts: {
      caller: callerFacts,
      cart: {
        Id: String(cart.Id),
        AccountId: (cart.AccountId as string | null) ?? null,
        OwnerId: (cart.OwnerId as string | null) ?? null,
        WebStoreId: String(cart.WebStoreId),
        Status: String(cart.Status),
      },
      accountExists: read!.accountExists && !!cart.AccountId,
      buyerStatus: cart.AccountId ? read!.buyerStatus : null,
      storeMember: !!cart.AccountId && read!.storeMember,
      shareAccess: read!.share,
      session: session
        ? {
            State: (session.State as string | null) ?? null,
            NextState: (session.NextState as string | null) ?? null,
            IsProcessing: session.IsProcessing === true,
            IsArchived: session.IsArchived === true,
            IsError: session.IsError === true,
          }
        : null,
      operationStatus: (operation?.Status as string | undefined) ?? null,
    },
    cart,
    session,
    operation,
    store: read!.store ?? null,
  };
}
