/**
 * Loads what the usage requirements look at — caller, cart, account, buyer account, store
 * membership, share, active session, current operation — inside the action's transaction.
 */
import { EngineError } from '../errors.js';
import { parseId } from '../domain/ids.js';
import { OBJECTS } from '../domain/objects.js';
import type { CallerFacts, RequirementFacts } from '../domain/requirements.js';
import type { CheckoutFacts, Row, StorageOps } from '../storage/port.js';
import { expiryReason } from '../domain/expiry.js';

const CART_PREFIX = OBJECTS.get('WebCart')!.keyPrefix;

/** The authenticated user as the engine sees it. */
export interface Caller extends CallerFacts {
  readonly row: Row;
}

/** Loads the caller; an unknown or malformed user id is an invalid session (401). */
export async function loadCaller(tx: StorageOps, userId: unknown): Promise<Caller> {
  const parsed = parseId(userId, [OBJECTS.get('User')!.keyPrefix]);
  const row = parsed.ok ? await tx.get('User', parsed.id) : undefined;
  if (!row) throw new EngineError('INVALID_SESSION', `No user with id '${String(userId)}'.`, ['userId']);
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
 * Thrown inside an action's transaction when the checkout it is about to use has expired (see
 * expiry.ts): the action's transaction rolls back, the expiry is committed on its own, and the
 * action runs again on the canceled checkout — or, when expiry kept it (its order is placed), with
 * `ActionEnv.keptCheckout` naming the cart (invokeAction does this).
 */
export class CheckoutExpired extends Error {
  constructor(readonly cartId: string) {
    super(`the checkout of cart ${cartId} expired`);
    this.name = 'CheckoutExpired';
  }
}

/** Options of `loadCartFacts`. */
export interface LoadFactsOptions {
  /** Lock the cart row (PostgreSQL FOR UPDATE) for the rest of the transaction. */
  forUpdate?: boolean;
  /** When given, an expired active checkout throws CheckoutExpired (cancel passes none: it needs no fresh checkout). */
  now?: Date;
  /**
   * The cart whose expired checkout expiry kept (its order is placed: src/domain/abandon.ts), while
   * an action runs again on it: its checkout isn't reported as expired a second time.
   */
  kept?: string | null;
}

/**
 * Loads every fact about a cart for the usage requirements in one statement (requirement 1 fails
 * when the id is bad): cart, account, buyer account, store membership, share, active session, its
 * operation and the store's expiry settings. `opts.now` checks expiry in the same read.
 */
export async function loadCartFacts(tx: StorageOps, caller: Caller, cartIdInput: unknown, opts: LoadFactsOptions = {}): Promise<LoadedCartFacts> {
  const parsed = parseId(cartIdInput, [CART_PREFIX]);
  const read = parsed.ok ? await tx.checkoutFacts({ cartId: parsed.id }, caller.Id, { forUpdate: opts.forUpdate }) : undefined;
  return factsOf(read, caller, opts.now, opts.kept);
}

/** The facts of the cart of a checkout session (that session, archived or not), in one statement. */
export async function loadSessionFacts(tx: StorageOps, caller: Caller, sessionId: string, opts: LoadFactsOptions = {}): Promise<LoadedCartFacts> {
  return factsOf(await tx.checkoutFacts({ sessionId }, caller.Id, { forUpdate: opts.forUpdate }), caller, opts.now, opts.kept);
}

function factsOf(read: CheckoutFacts | undefined, caller: Caller, now: Date | undefined, kept: string | null | undefined): LoadedCartFacts {
  const callerFacts: CallerFacts = { Id: caller.Id, AccountId: caller.AccountId, Permissions: caller.Permissions, IsActive: caller.IsActive };
  const cart = read?.cart ?? null;
  const session = read?.session ?? null;
  if (!cart) {
    return {
      facts: { caller: callerFacts, cart: null, accountExists: false, buyerStatus: null, storeMember: false, shareAccess: null, session: null, operationStatus: null },
      cart: null,
      session,
      operation: read?.operation ?? null,
      store: null,
    };
  }
  if (now && session && session.IsArchived !== true && cart.Status !== 'Closed' && kept !== String(cart.Id) && expiryReason(read!.store, session, now)) {
    throw new CheckoutExpired(String(cart.Id));
  }
  const operation = read!.operation ?? null;
  return {
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
