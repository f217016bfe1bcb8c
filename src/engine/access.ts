/**
 * Who may read and write which records, modelled on Salesforce sharing for B2B buyers:
 * ModifyAllData sees and edits everything; a buyer reads and edits carts they own or that are
 * shared with them with Edit (Read shares read only) and everything under those carts, and deletes
 * only under carts they own (mode 'delete': an Edit share never grants delete); reads their
 * own account's records and orders; reads and writes their own account's saved addresses
 * (ContactPointAddress); reads catalog and store data; and reads only their own User.
 */
import type { Caller } from './facts.js';
import type { AccessMode } from '../domain/write-rules.js';
import type { Filter, Row, StorageOps } from '../storage/port.js';

/** Readable/writable scope of an object for a caller: everything, nothing, or rows matching filters. */
export type Scope = 'all' | 'none' | Filter[];

/** Objects everyone may read (catalog and store setup) and only ModifyAllData may write. */
const PUBLIC_READ = new Set([
  'Product2',
  'WebStore',
  'Pricebook2',
  'PricebookEntry',
  'WebStorePricebook',
  'OrderDeliveryMethod',
  'Promotion',
  'TaxRate',
  'ProductInventory',
  'BuyerGroup',
  'WebStoreBuyerGroup',
  'ProductCategory',
  'ProductCategoryProduct',
  'ElectronicMediaGroup',
  'ProductMedia',
]);

/** Objects that live under a cart, and the field naming their cart. */
export const CART_CHILDREN: Readonly<Record<string, string>> = {
  CartItem: 'CartId',
  CartDeliveryGroup: 'CartId',
  CartTax: 'CartId',
  CartValidationOutput: 'CartId',
  CartDeliveryGroupMethod: 'WebCartId',
  CartCheckoutSession: 'WebCartId',
  WebCartShare: 'ParentId',
  BackgroundOperation: '_cartId',
};

/** Objects that live under an order, and the field naming their order. */
export const ORDER_CHILDREN: Readonly<Record<string, string>> = {
  OrderDeliveryGroup: 'OrderId',
  OrderItem: 'OrderId',
  OrderItemTaxLineItem: 'OrderId',
  OrderItemAdjustmentLineItem: 'OrderId',
};

/** Whether the caller bypasses sharing. */
export const isAdmin = (c: Caller) => c.Permissions.includes('ModifyAllData');

/**
 * Ids of carts the caller owns, can read (owned or shared) and edit (owned or Edit-shared). With
 * `only`, just whether that one cart is among them — a read or two, however many carts the caller
 * has elsewhere (single-record checks).
 */
export async function cartAccess(
  tx: StorageOps,
  caller: Caller,
  only?: string,
): Promise<{ owned: string[]; read: string[]; edit: string[] }> {
  if (only !== undefined && (await tx.get('WebCart', only))?.OwnerId === caller.Id) return { owned: [only], read: [only], edit: [only] };
  const owned =
    only !== undefined
      ? []
      : (await tx.find('WebCart', { where: [{ field: 'OwnerId', op: '=', value: caller.Id }] })).map((r) => String(r.Id));
  const shares = await tx.find('WebCartShare', {
    where: [
      { field: 'UserOrGroupId', op: '=', value: caller.Id },
      ...(only !== undefined ? [{ field: 'ParentId', op: '=' as const, value: only }] : []),
    ],
  });
  const read = new Set(owned);
  const edit = new Set(owned);
  for (const s of shares) {
    read.add(String(s.ParentId));
    if (s.AccessLevel === 'Edit') edit.add(String(s.ParentId));
  }
  return { owned, read: [...read], edit: [...edit] };
}

async function accountOrderIds(tx: StorageOps, caller: Caller, only?: string): Promise<string[]> {
  if (!caller.AccountId) return [];
  const where = [
    { field: 'AccountId', op: '=' as const, value: caller.AccountId },
    ...(only !== undefined ? [{ field: 'Id', op: '=' as const, value: only }] : []),
  ];
  return (await tx.find('Order', { where })).map((r) => String(r.Id));
}

/**
 * The rows of `object` the caller may read (mode 'read') or write (mode 'edit'). Given the one
 * `row` being checked, the scope is narrowed to what decides that row (its cart or order), so a
 * single-record check doesn't list everything the caller owns.
 */
export async function scopeFor(tx: StorageOps, caller: Caller, object: string, mode: AccessMode, row?: Row): Promise<Scope> {
  if (isAdmin(caller)) return 'all';
  if (PUBLIC_READ.has(object)) return mode === 'read' ? 'all' : 'none';
  const account = caller.AccountId;
  /** The id `field` of the row names, when a row is checked (null: it names none, so nothing matches). */
  const only = (field: string): string | null | undefined =>
    row ? (typeof row[field] === 'string' ? (row[field] as string) : null) : undefined;
  switch (object) {
    case 'User':
      return mode === 'read' ? [{ field: 'Id', op: '=', value: caller.Id }] : 'none';
    case 'Account':
      return mode === 'read' && account ? [{ field: 'Id', op: '=', value: account }] : 'none';
    case 'BuyerAccount':
    case 'BuyerGroupMember':
      return mode === 'read' && account ? [{ field: 'BuyerId', op: '=', value: account }] : 'none';
    case 'WebCart': {
      // Ownership as stored: a checked row may carry the very OwnerId change being checked.
      const id = only('Id');
      if (id === null) return 'none';
      const a = await cartAccess(tx, caller, id);
      return [{ field: 'Id', op: 'in', value: mode === 'read' ? a.read : mode === 'delete' ? a.owned : a.edit }];
    }
    case 'Order':
    case 'OrderSummary':
      return account ? [{ field: 'AccountId', op: '=', value: account }] : 'none';
    case 'ContactPointAddress':
      // An account's saved addresses: its buyers read, edit and delete them; nobody else sees them.
      return account ? [{ field: 'ParentId', op: '=', value: account }] : 'none';
  }
  if (object in CART_CHILDREN) {
    if (object === 'BackgroundOperation' && mode !== 'read') return 'none';
    const field = CART_CHILDREN[object]!;
    const id = only(field);
    if (id === null) return 'none';
    const a = await cartAccess(tx, caller, id);
    // A cart's shares are edited by its owner only; only the owner deletes under a cart.
    return [{ field, op: 'in', value: mode === 'read' ? a.read : mode === 'delete' || object === 'WebCartShare' ? a.owned : a.edit }];
  }
  if (object in ORDER_CHILDREN) {
    const field = ORDER_CHILDREN[object]!;
    const id = only(field);
    if (id === null) return 'none';
    return [{ field, op: 'in', value: await accountOrderIds(tx, caller, id) }];
  }
  return 'none';
}

/** Whether one row falls inside a scope (evaluated in memory for single-record checks). */
export function rowInScope(scope: Scope, row: Row): boolean {
  if (scope === 'all') return true;
  if (scope === 'none') return false;
  return scope.every((f) => {
    const v = row[f.field];
    switch (f.op) {
      case '=':
        return v === f.value;
      case 'in':
        return f.value.includes(v);
      default:
        return false;
    }
  });
}

/** Whether the caller may read (or edit) one row: `rowInScope` of the scope narrowed to that row. */
export async function rowAccessible(tx: StorageOps, caller: Caller, object: string, row: Row, mode: AccessMode): Promise<boolean> {
  return rowInScope(await scopeFor(tx, caller, object, mode, row), row);
}
