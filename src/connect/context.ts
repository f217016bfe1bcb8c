/**
 * Who a Commerce Connect call acts for: the store (`webstoreId` of the path) and the buyer account
 * (`effectiveAccountId`, defaulting to the caller's own account), checked once per request.
 *
 * Salesforce resolves `effectiveAccountId` against the buyer's accounts; a buyer user here belongs
 * to one account (User.AccountId), so a buyer may name only that account. ModifyAllData users (the
 * store's administrators) may act for any account that is a member of the store. Every refusal
 * answers like a missing record (NOT_FOUND 404 naming the field): an account or a store the caller
 * can't use is indistinguishable from one that doesn't exist, so the API is no existence oracle.
 */
import { EngineError } from '../errors.js';
import { OBJECTS } from '../domain/objects.js';
import { parseId } from '../domain/ids.js';
import type { CheckoutEngine } from '../engine/engine.js';
import type { Caller } from '../engine/facts.js';
import type { Row } from '../storage/port.js';

/** The store and account a Connect request acts for. */
export interface StoreContext {
  readonly caller: Caller;
  readonly webstore: Row;
  readonly webstoreId: string;
  /** The buyer account the request acts for (effectiveAccountId or the caller's own). */
  readonly accountId: string;
  /** The Connect API version of the path as a number (e.g. 62 for v62.0). */
  readonly version: number;
}

const prefixOf = (type: string) => OBJECTS.get(type)!.keyPrefix;

/** A well-formed id of `type` (normalized to 18 characters), or undefined. */
export function parsedIdOf(type: string, value: unknown): string | undefined {
  const parsed = parseId(value, [prefixOf(type)]);
  return parsed.ok ? parsed.id : undefined;
}

/** `v62.0` / `62.0` → 62. */
export function versionNumber(version: string): number {
  return Number.parseInt(version.replace(/^v/, ''), 10);
}

/** A well-formed id of `type`, or MALFORMED_ID 400 naming `field`. */
export function idOf(type: string, value: unknown, field: string): string {
  const parsed = parseId(value, [prefixOf(type)]);
  if (!parsed.ok) throw new EngineError('INVALID_ID_FIELD', `${field}: '${String(value)}' is not a valid ${type} id.`, [field]);
  return parsed.id;
}

/** Whether `accountId` is a buyer of a buyer group assigned to store `webstoreId`. */
export async function isStoreMember(engine: CheckoutEngine, webstoreId: string, accountId: string): Promise<boolean> {
  const memberships = await engine.admin.find('BuyerGroupMember', { where: [{ field: 'BuyerId', op: '=', value: accountId }] });
  if (memberships.length === 0) return false;
  const groups = memberships.map((m) => String(m.BuyerGroupId));
  const links = await engine.admin.find('WebStoreBuyerGroup', {
    where: [
      { field: 'WebStoreId', op: '=', value: webstoreId },
      { field: 'BuyerGroupId', op: 'in', value: groups },
    ],
  });
  return links.length > 0;
}

/**
 * Resolves the store and the buyer account of a Connect request (see the module comment).
 * `effectiveAccountId` is the query or body parameter as received (undefined or '' = the caller's account).
 */
export async function resolveStoreContext(
  engine: CheckoutEngine,
  caller: Caller,
  webstoreIdInput: unknown,
  effectiveAccountId: unknown,
  version: string,
): Promise<StoreContext> {
  const webstoreId = idOf('WebStore', webstoreIdInput, 'webstoreId');
  const webstore = await engine.admin.get('WebStore', webstoreId);
  const notFound = (field: string, what: string) => new EngineError('NOT_FOUND', what, [field]);
  if (!webstore) throw notFound('webstoreId', `webstoreId: no store '${String(webstoreIdInput)}' this user can shop in.`);
  const admin = caller.Permissions.includes('ModifyAllData');
  let accountId: string;
  if (effectiveAccountId === undefined || effectiveAccountId === null || effectiveAccountId === '') {
    if (!caller.AccountId) {
      throw new EngineError('REQUIRED_FIELD_MISSING', 'Required fields are missing: effectiveAccountId (this user has no account).', [
        'effectiveAccountId',
      ]);
    }
    accountId = caller.AccountId;
  } else {
    accountId = idOf('Account', effectiveAccountId, 'effectiveAccountId');
    if (!admin && accountId !== caller.AccountId) {
      throw notFound('effectiveAccountId', `effectiveAccountId: no account '${String(effectiveAccountId)}' this user can act for.`);
    }
    if (admin && !(await engine.admin.get('Account', accountId))) {
      throw notFound('effectiveAccountId', `effectiveAccountId: no account '${String(effectiveAccountId)}' this user can act for.`);
    }
  }
  if (!(await isStoreMember(engine, webstoreId, accountId))) {
    throw notFound('webstoreId', `webstoreId: no store '${String(webstoreIdInput)}' this user can shop in.`);
  }
  return { caller, webstore, webstoreId, accountId, version: versionNumber(version) };
}
