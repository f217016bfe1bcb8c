/**
 * Loads what the usage requirements look at — caller, cart, account, buyer account, store
 * membership, share, active session, current operation — inside the action's transaction.
 */
import { EngineError } from '../errors.js';
import { parseId } from '../domain/ids.js';
import { OBJECTS } from '../domain/objects.js';
import type { CallerFacts, RequirementFacts } from '../domain/requirements.js';
import type { Row, StorageOps } from '../storage/port.js';

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

/** Whether the account belongs to a buyer group assigned to the store. */
export async function isStoreMember(tx: StorageOps, accountId: string, storeId: string): Promise<boolean> {
  const memberships = await tx.find('BuyerGroupMember', { where: [{ field: 'BuyerId', op: '=', value: accountId }] });
  if (memberships.length === 0) return false;
  const n = await tx.count('WebStoreBuyerGroup', [
    { field: 'WebStoreId', op: '=', value: storeId },
    { field: 'BuyerGroupId', op: 'in', value: memberships.map((m) => m.BuyerGroupId) },
  ]);
  return n > 0;
}

/** The caller's best share on a cart: Edit, Read or null. */
export async function shareAccess(tx: StorageOps, cartId: string, userId: string): Promise<'Read' | 'Edit' | null> {
  const shares = await tx.find('WebCartShare', {
    where: [
      { field: 'ParentId', op: '=', value: cartId },
      { field: 'UserOrGroupId', op: '=', value: userId },
    ],
  });
  if (shares.some((s) => s.AccessLevel === 'Edit')) return 'Edit';
  return shares.length ? 'Read' : null;
}

/** Loads every fact about a cart for the usage requirements (requirement 1 fails when the id is bad). */
export async function loadCartFacts(tx: StorageOps, caller: Caller, cartIdInput: unknown, forUpdate = false): Promise<LoadedCartFacts> {
  const parsed = parseId(cartIdInput, [CART_PREFIX]);
  const cart = parsed.ok ? ((await tx.get('WebCart', parsed.id, { forUpdate })) ?? null) : null;
  const callerFacts: CallerFacts = { Id: caller.Id, AccountId: caller.AccountId, Permissions: caller.Permissions, IsActive: caller.IsActive };
  if (!cart) {
    return {
      facts: { caller: callerFacts, cart: null, accountExists: false, buyerStatus: null, storeMember: false, shareAccess: null, session: null, operationStatus: null },
      cart: null,
      session: null,
      operation: null,
    };
  }
  const accountId = (cart.AccountId as string | null) ?? null;
  const account = accountId ? await tx.get('Account', accountId) : undefined;
  const buyer = accountId ? (await tx.find('BuyerAccount', { where: [{ field: 'BuyerId', op: '=', value: accountId }], limit: 1 }))[0] : undefined;
  const member = accountId ? await isStoreMember(tx, accountId, String(cart.WebStoreId)) : false;
  const share = cart.OwnerId === caller.Id ? null : await shareAccess(tx, String(cart.Id), caller.Id);
  const session = await findActiveSession(tx, String(cart.Id), forUpdate);
  const operation = session?.BackgroundOperationId ? ((await tx.get('BackgroundOperation', String(session.BackgroundOperationId))) ?? null) : null;
  return {
    facts: {
      caller: callerFacts,
      cart: {
        Id: String(cart.Id),
        AccountId: accountId,
        OwnerId: (cart.OwnerId as string | null) ?? null,
        WebStoreId: String(cart.WebStoreId),
        Status: String(cart.Status),
      },
      accountExists: !!account,
      buyerStatus: (buyer?.BuyerStatus as string | undefined) ?? null,
      storeMember: member,
      shareAccess: share,
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
  };
}
