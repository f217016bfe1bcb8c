/**
 * Issue 17 (items 3, 8, 9, 10): the exploits found over HTTP with two accounts, replayed on SQLite
 * and PostgreSQL. Each is refused with the documented code, and stored data is unchanged:
 * - an Edit share deletes the owner's cart (or a line) mid-checkout;
 * - a CartDeliveryGroup that still holds lines is deleted during checkout;
 * - WebStore.CheckoutTimeToLive = -5 (or past a year) is stored;
 * - existence oracles: another account's cart / session / share target answers differently from a
 *   missing id;
 * - a buyer reads ProductInventory.QuantityReserved (every account's holds).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestSchemas } from '../helpers/backends.js';
import { FLOW_BACKENDS } from '../flow/helpers.js';
import { PASSWORD } from '../http/helpers.js';
import { ANSWERS, actionRefused, dump, refused, twoBuyers, V, type Buyers } from './helpers.js';
import { CHECKOUT_TTL_MAX_MINUTES } from '../../src/domain/objects.js';

afterAll(dropTestSchemas);

const sob = (type: string, id?: string) => `${V}/sobjects/${type}${id ? `/${id}` : ''}`;
const act = (name: string) => `${V}/actions/standard/${name}`;

/** An error answer with the one id it names replaced, so two answers compare as the client sees them. */
const shape = (r: { status: number; body: any }, id: string) => ({
  status: r.status,
  body: JSON.parse(JSON.stringify(r.body).split(id).join('<id>')),
});

describe.each(FLOW_BACKENDS)('record rules of issue 17 on $name', (backend) => {
  let s: Buyers;
  /** An account A colleague with an Edit share on each cart of A it is given. */
  let editorId: string;
  let editor: string;
  let inactiveId: string;
  beforeAll(async () => {
    s = await twoBuyers(backend.location());
    const [owner] = await s.t.engine.admin.find('User', { where: [{ field: 'Id', op: '=', value: s.aId }] });
    const ids = await s.t.engine.seed({
      User: [
        {
          ref: 'editor',
          Username: 'editor@acme.example',
          Name: 'Ed Editor',
          AccountId: owner!.AccountId,
          Permissions: ['B2BCommerceIntegrator'],
          Password: PASSWORD,
        },
        {
          ref: 'gone',
          Username: 'gone@acme.example',
          Name: 'Gone',
          AccountId: owner!.AccountId,
          Permissions: ['B2BCommerceIntegrator'],
          IsActive: false,
          Password: PASSWORD,
        },
      ],
    });
    editorId = ids.editor!;
    inactiveId = ids.gone!;
    editor = await s.t.token('editor@acme.example');
  });
  afterAll(async () => {
    await s.t.close();
    await s.t.engine.close();
  });

  /** A fresh cart of A in Checkout, resting at Checkout Summary, shared with the editor (Edit). */
  async function cartInCheckout() {
    const cart = await s.freshCartA();
    await s.t.engine.seed({ WebCartShare: [{ ParentId: cart.cartId, UserOrGroupId: editorId, AccessLevel: 'Edit' }] });
    const run = await s.t.engine.runCheckout(cart.cartId, { userId: s.aId, answers: ANSWERS, stopAt: 'checkoutSummary' });
    expect(run.status, run.errors.join('; ')).toBe('stopped');
    return cart;
  }

  it("an Edit share can't delete the owner's cart or its records mid-checkout; the owner still may", async () => {
    const { t, a } = s;
    const { cartId, itemId, groupId } = await cartInCheckout();
    const before = await dump(t);
    refused(await t.call('DELETE', sob('WebCart', cartId), { token: editor }), 403, 'INSUFFICIENT_ACCESS_OR_READONLY');
    refused(await t.call('DELETE', sob('CartItem', itemId), { token: editor }), 403, 'INSUFFICIENT_ACCESS_OR_READONLY');
    refused(await t.call('DELETE', sob('CartDeliveryGroup', groupId), { token: editor }), 403, 'INSUFFICIENT_ACCESS_OR_READONLY');
    expect(await dump(t)).toEqual(before);
    // The share still edits (a PO number change doesn't cancel the checkout).
    expect((await t.call('PATCH', sob('WebCart', cartId), { token: editor, body: { PoNumber: 'PO-EDIT' } })).status).toBe(204);
    // The owner deletes its own line (which cancels the checkout).
    expect((await t.call('DELETE', sob('CartItem', itemId), { token: a })).status).toBe(204);
    expect((await t.engine.admin.get('WebCart', cartId))!.Status).toBe('Active');
  });

  it('a delivery group that still has lines is refused, naming it, for the owner and ModifyAllData alike; an empty one goes', async () => {
    const { t, a, admin } = s;
    const { cartId, groupId } = await cartInCheckout();
    const before = await dump(t);
    for (const token of [a, admin]) {
      const r = await t.call('DELETE', sob('CartDeliveryGroup', groupId), { token });
      refused(r, 400, 'DELETE_FAILED');
      expect(r.body[0].message).toContain(groupId);
      expect(r.body[0].message).toContain('CartItem');
    }
    expect(await dump(t)).toEqual(before);
    // An empty group (no lines) is deleted; the checkout it belonged to is canceled.
    const created = await t.call('POST', sob('CartDeliveryGroup'), { token: a, body: { CartId: cartId, Name: 'Spare dock' } });
    expect(created.status).toBe(201);
    expect((await t.call('DELETE', sob('CartDeliveryGroup', created.body.id), { token: a })).status).toBe(204);
    expect(await t.engine.admin.get('CartDeliveryGroup', created.body.id)).toBeUndefined();
  });

  it('WebStore.CheckoutTimeToLive stays within null, 0 and a year: out-of-range writes and fixtures are refused naming the field', async () => {
    const { t, admin, storeId } = s;
    const storage = t.engine.admin;
    const store = await storage.get('WebStore', storeId);
    const before = await dump(t);
    for (const ttl of [-5, -1, CHECKOUT_TTL_MAX_MINUTES + 1, 2_147_483_647, 1.5]) {
      const r = await t.call('PATCH', sob('WebStore', storeId), { token: admin, body: { CheckoutTimeToLive: ttl } });
      refused(r, 400, Number.isInteger(ttl) ? 'NUMBER_OUTSIDE_VALID_RANGE' : 'INVALID_TYPE_ON_FIELD_IN_RECORD', ['CheckoutTimeToLive']);
    }
    refused(
      await t.call('POST', sob('WebStore'), { token: admin, body: { Name: 'Forever', CheckoutTimeToLive: -5 } }),
      400,
      'NUMBER_OUTSIDE_VALID_RANGE',
      ['CheckoutTimeToLive'],
    );
    // Other store settings: a fee, a tax rate, a discount and stock are never negative.
    const [method] = await storage.find('OrderDeliveryMethod', { limit: 1 });
    refused(
      await t.call('PATCH', sob('OrderDeliveryMethod', String(method!.Id)), { token: admin, body: { ShippingFee: -1 } }),
      400,
      'NUMBER_OUTSIDE_VALID_RANGE',
      ['ShippingFee'],
    );
    refused(
      await t.call('POST', sob('TaxRate'), { token: admin, body: { Country: 'US', Rate: -0.1 } }),
      400,
      'NUMBER_OUTSIDE_VALID_RANGE',
      ['Rate'],
    );
    refused(
      await t.call('POST', sob('Promotion'), { token: admin, body: { Name: 'Bad', DiscountType: 'FixedAmount', DiscountValue: -10 } }),
      400,
      'NUMBER_OUTSIDE_VALID_RANGE',
      ['DiscountValue'],
    );
    await expect(t.engine.seed({ WebStore: [{ Name: 'Seeded', CheckoutTimeToLive: -5 }] })).rejects.toThrow(/CheckoutTimeToLive/);
    expect(await storage.get('WebStore', storeId)).toEqual(store);
    expect((await storage.find('WebStore', {})).map((w) => w.Name)).not.toContain('Seeded');
    expect(await dump(t)).toEqual(before);
    // The documented values are taken: null (never), 0 (disabled) and a year.
    for (const ttl of [null, 0, CHECKOUT_TTL_MAX_MINUTES, store!.CheckoutTimeToLive]) {
      expect((await t.call('PATCH', sob('WebStore', storeId), { token: admin, body: { CheckoutTimeToLive: ttl } })).status).toBe(204);
    }
  });

  it("another account's cart answers every action exactly as a missing id does", async () => {
    const { t, b } = s;
    const { cartId } = await cartInCheckout();
    const missing = t.engine.core.mint('WebCart');
    const [method] = await t.engine.admin.find('OrderDeliveryMethod', { limit: 1 });
    const extra: Record<string, Record<string, unknown>> = { setCheckoutDeliveryMethod: { deliveryMethodId: String(method!.Id) } };
    const before = await dump(t);
    for (const action of [
      'checkoutSessionAction',
      'checkCartInventoryAction',
      'cartToOrderAction',
      'setCheckoutDeliveryMethod',
      'cancelCartAsyncOperation',
    ]) {
      const foreign = await t.call('POST', act(action), { token: b, body: { inputs: [{ cartId, ...extra[action] }] } });
      const none = await t.call('POST', act(action), { token: b, body: { inputs: [{ cartId: missing, ...extra[action] }] } });
      actionRefused(foreign, 500, 'UNKNOWN_EXCEPTION');
      expect(shape(foreign, cartId), action).toEqual(shape(none, missing));
    }
    const [session] = await t.engine.admin.find('CartCheckoutSession', {
      where: [
        { field: 'WebCartId', op: '=', value: cartId },
        { field: 'IsArchived', op: '=', value: false },
      ],
    });
    const missingSession = t.engine.core.mint('CartCheckoutSession');
    const claim = (id: string) =>
      t.call('POST', act('updateCheckoutSessionStateAction'), {
        token: b,
        body: { inputs: [{ checkoutSessionId: id, expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' }] },
      });
    const foreign = await claim(String(session!.Id));
    actionRefused(foreign, 403, 'UNKNOWN_EXCEPTION', ['checkoutSessionId']);
    expect(shape(foreign, String(session!.Id))).toEqual(shape(await claim(missingSession), missingSession));
    expect(await dump(t)).toEqual(before);
  });

  it("the record API answers another account's record and a missing id alike (NOT_FOUND 404) on GET, PATCH and DELETE", async () => {
    const { t, b } = s;
    const { cartId, itemId } = await s.freshCartA();
    const before = await dump(t);
    for (const [type, id] of [
      ['WebCart', cartId],
      ['CartItem', itemId],
    ] as const) {
      const missing = t.engine.core.mint(type);
      for (const [method, body] of [
        ['GET', undefined],
        ['PATCH', { Name: 'Mine now' }],
        ['DELETE', undefined],
      ] as const) {
        const foreign = await t.call(method, sob(type, id), { token: b, ...(body ? { body } : {}) });
        refused(foreign, 404, 'NOT_FOUND');
        expect(shape(foreign, id), `${method} ${type}`).toEqual(
          shape(await t.call(method, sob(type, missing), { token: b, ...(body ? { body } : {}) }), missing),
        );
      }
    }
    expect(await dump(t)).toEqual(before);
  });

  it("a WebCartShare targets only an active user of the cart's account; any other id answers as a missing user", async () => {
    const { t, a, bId } = s;
    const { cartId } = await s.freshCartA();
    const missing = t.engine.core.mint('User');
    const share = (user: string) =>
      t.call('POST', sob('WebCartShare'), { token: a, body: { ParentId: cartId, UserOrGroupId: user, AccessLevel: 'Read' } });
    const before = await dump(t);
    const none = await share(missing);
    refused(none, 400, 'INVALID_CROSS_REFERENCE_KEY', ['UserOrGroupId']);
    for (const user of [bId, inactiveId]) expect(shape(await share(user), user)).toEqual(shape(none, missing));
    expect(await dump(t)).toEqual(before);
    // An active colleague of the same account is shared with.
    expect((await share(editorId)).status).toBe(201);
  });

  it("a buyer reads stock as on hand only: QuantityReserved (every account's holds) is no field for it; ModifyAllData reads it", async () => {
    const { t, a, b, admin } = s;
    await cartInCheckout();
    const [inv] = await t.engine.admin.find('ProductInventory', { where: [{ field: 'QuantityReserved', op: '>', value: 0 }], limit: 1 });
    expect(inv, 'a checkout holds stock').toBeTruthy();
    const id = String(inv!.Id);
    for (const token of [a, b]) {
      const r = await t.call('GET', sob('ProductInventory', id), { token });
      expect(r.status).toBe(200);
      expect(r.body.QuantityAvailable).toBe(inv!.QuantityAvailable);
      expect(r.body).not.toHaveProperty('QuantityReserved');
      refused(await t.call('GET', `${sob('ProductInventory', id)}?fields=QuantityReserved`, { token }), 400, 'INVALID_FIELD');
      for (const q of [
        'SELECT Id, QuantityReserved FROM ProductInventory',
        'SELECT Id FROM ProductInventory WHERE QuantityReserved > 0',
        'SELECT SUM(QuantityReserved) FROM ProductInventory',
        'SELECT Id FROM ProductInventory ORDER BY QuantityReserved',
      ]) {
        refused(await t.call('GET', `${V}/query?q=${encodeURIComponent(q)}`, { token }), 400, 'INVALID_FIELD');
      }
      const ok = await t.call(
        'GET',
        `${V}/query?q=${encodeURIComponent(`SELECT Id, QuantityAvailable FROM ProductInventory WHERE Id = '${id}'`)}`,
        { token },
      );
      expect(ok.body.records[0].QuantityAvailable).toBe(inv!.QuantityAvailable);
    }
    expect((await t.call('GET', sob('ProductInventory', id), { token: admin })).body.QuantityReserved).toBe(inv!.QuantityReserved);
    const q = await t.call(
      'GET',
      `${V}/query?q=${encodeURIComponent(`SELECT QuantityReserved FROM ProductInventory WHERE Id = '${id}'`)}`,
      { token: admin },
    );
    expect(q.body.records[0].QuantityReserved).toBe(inv!.QuantityReserved);
  });
});
