/** Set-up for the attack tests: one server per backend, buyer A (Acme) and buyer B (Globex) with their own carts. */
import { expect } from 'vitest';
import { PASSWORD, startTestServer, V, type TestServer } from '../http/helpers.js';
import type { RoleName } from './access-matrix.js';
import { CA_ADDRESS, cartOn } from '../flow/helpers.js';
import type { Row } from '../../src/storage/port.js';

export { V };

/** Objects whose every row is compared before and after a refused attack. */
const WATCHED = [
  'WebCart',
  'WebCartShare',
  'CartDeliveryGroup',
  'CartItem',
  'CartTax',
  'CartDeliveryGroupMethod',
  'CartValidationOutput',
  'CartCheckoutSession',
  'BackgroundOperation',
  'Order',
  'OrderItem',
  'OrderDeliveryGroup',
  'OrderItemTaxLineItem',
  'OrderItemAdjustmentLineItem',
  'OrderSummary',
];

/** Every stored row of the watched objects, internal columns included, in a stable order. */
export async function dump(t: TestServer): Promise<Record<string, Row[]>> {
  return t.engine.admin.dump(WATCHED);
}

/** Two buyers of two accounts, each with a token; `freshCartA`/`freshCartB` give each a new Active cart. */
export interface Buyers {
  t: TestServer;
  a: string;
  b: string;
  admin: string;
  aId: string;
  bId: string;
  storeId: string;
  freshCartA(): Promise<{ cartId: string; groupId: string; itemId: string }>;
  freshCartB(): Promise<{ cartId: string; groupId: string; itemId: string }>;
}

/** Starts a server on `location` with the demo store, its catalog and price book, and both buyers. */
export async function twoBuyers(location: string): Promise<Buyers> {
  const t = await startTestServer(location, { seed: false });
  const first = await cartOn(t.engine, { lines: 2, groups: 1 });
  const storage = t.engine.admin;
  const [outsider] = await storage.find('User', { where: [{ field: 'Id', op: '=', value: first.outsiderId }] });
  const [product] = await storage.find('Product2', { limit: 1 });
  const linesOf = async (cartId: string) => {
    const [group] = await storage.find('CartDeliveryGroup', { where: [{ field: 'CartId', op: '=', value: cartId }] });
    const [item] = await storage.find('CartItem', { where: [{ field: 'CartId', op: '=', value: cartId }] });
    return { cartId, groupId: String(group!.Id), itemId: String(item!.Id) };
  };
  return {
    t,
    a: await t.token('buyer@acme.example'),
    b: await t.token('buyer@globex.example'),
    admin: await t.token('admin@store.example'),
    aId: first.buyerId,
    bId: first.outsiderId,
    storeId: first.storeId,
    async freshCartA() {
      return linesOf((await cartOn(t.engine, { lines: 2, groups: 1 })).cartId);
    },
    async freshCartB() {
      // B's cart: one line of 2 × 100 = 200.
      const ids = await t.engine.seed({
        WebCart: [
          {
            ref: 'cart',
            Name: 'Globex cart',
            WebStoreId: first.storeId,
            AccountId: outsider!.AccountId,
            OwnerId: first.outsiderId,
            Status: 'Active',
          },
        ],
        CartDeliveryGroup: [{ ref: 'group', CartId: '@cart', Name: 'Globex dock', ...CA_ADDRESS }],
        CartItem: [
          {
            ref: 'item',
            CartId: '@cart',
            CartDeliveryGroupId: '@group',
            Product2Id: String(product!.Id),
            Name: 'Widget',
            Quantity: 2,
            ListPrice: 100,
            SalesPrice: 100,
          },
        ],
      });
      return { cartId: ids.cart!, groupId: ids.group!, itemId: ids.item! };
    },
  };
}

/** Asserts a REST error answer: status, errorCode and (when given) exactly these fields. */
export function refused(r: { status: number; body: any }, status: number, errorCode: string, fields?: string[]): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body[0].errorCode, JSON.stringify(r.body)).toBe(errorCode);
  if (fields) expect(r.body[0].fields).toEqual(fields);
}

/** Asserts an invocable action's single result failed with this status code, HTTP status and fields. */
export function actionRefused(r: { status: number; body: any }, httpStatus: number, statusCode: string, fields?: string[]): void {
  expect(r.body[0].isSuccess, JSON.stringify(r.body)).toBe(false);
  expect(r.status).toBe(httpStatus);
  expect(r.body[0].errors[0].statusCode).toBe(statusCode);
  if (fields) expect(r.body[0].errors[0].fields).toEqual(fields);
}

/** The buyer's answers for a full checkout. */
export const ANSWERS = { deliveryAddress: CA_ADDRESS, poNumber: 'PO-SEC' };

/**
 * The role users of the access matrix (docs/access-matrix.md), as fixture records on account
 * `accountId`: a same-account buyer, a Read and an Edit share holder, an inactive user (Edit share),
 * and an integrator of no account. With them, the shares on `cartId` (refs `readShare`, `editShare`).
 */
export function roleFixture(accountId: string, cartId: string): Record<string, Record<string, unknown>[]> {
  const user = (ref: string, username: string, extra: Record<string, unknown> = {}) => ({
    ref,
    Username: username,
    Name: ref,
    AccountId: accountId,
    Permissions: ['B2BCommerceIntegrator'],
    Password: PASSWORD,
    ...extra,
  });
  return {
    User: [
      user('same', 'same@acme.example'),
      user('reader', 'reader@acme.example'),
      user('editor', 'editor@acme.example'),
      user('inactive', 'inactive@acme.example'),
      user('integrator', 'integrator@store.example', { AccountId: null }),
    ],
    WebCartShare: [
      { ref: 'readShare', ParentId: cartId, UserOrGroupId: '@reader', AccessLevel: 'Read' },
      { ref: 'editShare', ParentId: cartId, UserOrGroupId: '@editor', AccessLevel: 'Edit' },
      { ParentId: cartId, UserOrGroupId: '@inactive', AccessLevel: 'Edit' },
    ],
  };
}

/**
 * A token of every role: signs each in, then deactivates the inactive user (`inactiveId`) and
 * revokes the `revoked` token. `expired` is a fresh token the caller ages with its clock.
 */
export async function roleTokens(t: TestServer, inactiveId: string): Promise<Record<RoleName, string>> {
  const tokens = {} as Record<RoleName, string>;
  tokens.owner = await t.token('buyer@acme.example');
  tokens.sameAccount = await t.token('same@acme.example');
  tokens.otherAccount = await t.token('buyer@globex.example');
  tokens.readShare = await t.token('reader@acme.example');
  tokens.editShare = await t.token('editor@acme.example');
  tokens.integrator = await t.token('integrator@store.example');
  tokens.admin = await t.token('admin@store.example');
  tokens.inactive = await t.token('inactive@acme.example');
  await t.engine.core.storage.update('User', inactiveId, { IsActive: false });
  tokens.expired = await t.token('buyer@acme.example');
  tokens.revoked = await t.token('buyer@acme.example');
  const revoked = await fetch(`${t.url}/services/oauth2/revoke?token=${encodeURIComponent(tokens.revoked)}`);
  if (revoked.status !== 200) throw new Error(`world: revoke answered ${revoked.status}`);
  return tokens;
}
