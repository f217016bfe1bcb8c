/**
 * Who may read and write which records, modelled on Salesforce sharing for B2B buyers:
 * ModifyAllData sees and edits everything; a buyer reads and edits carts they own or that are
 * shared with them with Edit (Read shares read only) and everything under those carts; reads their
 * own account's records and orders; reads catalog and store data; and reads only their own User.
 */
import type { Caller } from './facts.js';
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

/** Ids of carts the caller can read (owned or shared) and edit (owned or Edit-shared). */
export async function cartAccess(tx: StorageOps, caller: Caller): Promise<{ read: string[]; edit: string[] }> {
  const owned = (await tx.find('WebCart', { where: [{ field: 'OwnerId', op: '=', value: caller.Id }] })).map((r) => String(r.Id));
  const shares = await tx.find('WebCartShare', { where: [{ field: 'UserOrGroupId', op: '=', value: caller.Id }] });
  const read = new Set(owned);
  const edit = new Set(owned);
  for (const s of shares) {
    read.add(String(s.ParentId));
    if (s.AccessLevel === 'Edit') edit.add(String(s.ParentId));
  }
  return { read: [...read], edit: [...edit] };
}

async function accountOrderIds(tx: StorageOps, caller: Caller): Promise<string[]> {
  if (!caller.AccountId) return [];
  return (await tx.find('Order', { where: [{ field: 'AccountId', op: '=', value: caller.AccountId }] })).map((r) => String(r.Id));
}

/** The rows of `object` the caller may read (mode 'read') or write (mode 'edit'). */
export async function scopeFor(tx: StorageOps, caller: Caller, object: string, mode: 'read' | 'edit'): Promise<Scope> {
  if (isAdmin(caller)) return 'all';
  if (PUBLIC_READ.has(object)) return mode === 'read' ? 'all' : 'none';
  const account = caller.AccountId;
  switch (object) {
    case 'User':
      return mode === 'read' ? [{ field: 'Id', op: '=', value: caller.Id }] : 'none';
    case 'Account':
      return mode === 'read' && account ? [{ field: 'Id', op: '=', value: account }] : 'none';
    case 'BuyerAccount':
    case 'BuyerGroupMember':
      return mode === 'read' && account ? [{ field: 'BuyerId', op: '=', value: account }] : 'none';
    case 'WebCart': {
      const a = await cartAccess(tx, caller);
      return [{ field: 'Id', op: 'in', value: mode === 'read' ? a.read : a.edit }];
    }
    case 'Order':
    case 'OrderSummary':
      return account ? [{ field: 'AccountId', op: '=', value: account }] : 'none';
  }
  if (object in CART_CHILDREN) {
    if (object === 'BackgroundOperation' && mode === 'edit') return 'none';
    const a = await cartAccess(tx, caller);
    if (object === 'WebCartShare' && mode === 'edit') {
      const owned = (await tx.find('WebCart', { where: [{ field: 'OwnerId', op: '=', value: caller.Id }] })).map((r) => String(r.Id));
      return [{ field: 'ParentId', op: 'in', value: owned }];
    }
    return [{ field: CART_CHILDREN[object]!, op: 'in', value: mode === 'read' ? a.read : a.edit }];
  }
  if (object in ORDER_CHILDREN) {
    return [{ field: ORDER_CHILDREN[object]!, op: 'in', value: await accountOrderIds(tx, caller) }];
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

/** Whether the caller may read or edit one cart: its owner, or a share on it (Edit for editing). */
async function cartAllows(tx: StorageOps, caller: Caller, cartId: string, mode: 'read' | 'edit'): Promise<boolean> {
  if ((await tx.get('WebCart', cartId))?.OwnerId === caller.Id) return true;
  const shares = await tx.find('WebCartShare', {
    where: [
      { field: 'ParentId', op: '=', value: cartId },
      { field: 'UserOrGroupId', op: '=', value: caller.Id },
    ],
  });
  return mode === 'read' ? shares.length > 0 : shares.some((s) => s.AccessLevel === 'Edit');
}

/**
 * Whether the caller may read (or edit) one row: the same rule as `rowInScope(scopeFor(…), row)`,
 * decided from the row's own cart or order in a read or two, whatever the caller owns elsewhere.
 */
export async function rowAccessible(tx: StorageOps, caller: Caller, object: string, row: Row, mode: 'read' | 'edit'): Promise<boolean> {
  if (isAdmin(caller)) return true;
  if (PUBLIC_READ.has(object)) return mode === 'read';
  const account = caller.AccountId;
  switch (object) {
    case 'User':
      return mode === 'read' && row.Id === caller.Id;
    case 'Account':
      return mode === 'read' && !!account && row.Id === account;
    case 'BuyerAccount':
    case 'BuyerGroupMember':
      return mode === 'read' && !!account && row.BuyerId === account;
    case 'WebCart':
      // Ownership as stored: `row` may carry the very OwnerId change being checked.
      return typeof row.Id === 'string' && cartAllows(tx, caller, row.Id, mode);
    case 'Order':
    case 'OrderSummary':
      return !!account && row.AccountId === account;
  }
  if (object in CART_CHILDREN) {
    if (object === 'BackgroundOperation' && mode === 'edit') return false;
    const cartId = row[CART_CHILDREN[object]!];
    if (typeof cartId !== 'string') return false;
    if (object === 'WebCartShare' && mode === 'edit') return (await tx.get('WebCart', cartId))?.OwnerId === caller.Id;
    return cartAllows(tx, caller, cartId, mode);
  }
  if (object in ORDER_CHILDREN) {
    const orderId = row[ORDER_CHILDREN[object]!];
    if (typeof orderId !== 'string' || !account) return false;
    return (await tx.get('Order', orderId))?.AccountId === account;
  }
  return false;
}
