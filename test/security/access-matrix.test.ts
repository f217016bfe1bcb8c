/**
 * Issue 8, item 9: the access matrix (test/security/access-matrix.ts) performed over HTTP, on
 * SQLite and PostgreSQL. One server per backend; the world (two buyer accounts in one store, users per role, cart A in Checkout resting
 * at the Checkout Summary screen, a Draft order of account A, catalog) is built once; each role's
 * run performs every action and every record verb with a real token of that role (logged in;
 * expired by moving the engine's clock past the token lifetime; revoked through
 * /services/oauth2/revoke) and compares the answer with the expected one. A refused write or
 * action leaves its object's table (and cart A and its session) unchanged; a write that succeeds
 * is undone by restoring every table to the world's snapshot, so each cell starts from the same
 * world.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { cartOn } from '../flow/helpers.js';
import { startTestServer, V, type TestServer } from '../http/helpers.js';
import { OBJECTS } from '../../src/domain/objects.js';
import type { Row } from '../../src/storage/port.js';
import { ACTION_MATRIX, OBJECT_MATRIX, ROLES, VERBS, type RoleName } from './access-matrix.js';
import { ANSWERS, roleFixture, roleTokens } from './helpers.js';

afterAll(dropTestSchemas);

/** Token lifetime the server issues (its default), and the clock jump that expires a token. */
const TTL_SECONDS = 7200;

type Snapshot = Record<string, Row[]>;

/** Every row of every object (internal columns included), by Id. */
async function snapshot(t: TestServer, objects: Iterable<string> = OBJECTS.keys()): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const o of objects) out[o] = (await t.engine.admin.find(o, {})).sort((a, b) => String(a.Id).localeCompare(String(b.Id)));
  return out;
}

/** Puts every table back to `snap`: new rows deleted, deleted rows re-inserted, changed rows rewritten. */
async function restore(t: TestServer, snap: Snapshot): Promise<void> {
  await t.engine.core.atomically(async (tx) => {
    for (const o of Object.keys(snap)) {
      const want = new Map(snap[o]!.map((r) => [String(r.Id), r]));
      const have = await tx.find(o, {});
      const extra = have.filter((r) => !want.has(String(r.Id))).map((r) => String(r.Id));
      if (extra.length) await tx.delete(o, extra);
      const byId = new Map(have.map((r) => [String(r.Id), r]));
      for (const [id, r] of want) {
        const cur = byId.get(id);
        if (!cur) await tx.insert(o, [r]);
        else if (JSON.stringify(cur) !== JSON.stringify(r)) {
          const { Id: _id, ...rest } = r;
          await tx.update(o, id, rest);
        }
      }
    }
  });
}

describe.each([BACKENDS[0]!, BACKENDS[2]!])('access matrix over HTTP on $name', (backend) => {
  let t: TestServer;
  let offsetMs = 0;
  const tokens = {} as Record<RoleName, string>;
  const ids: Record<string, string> = {};
  /** The sample record of each object, and the bodies its create and update send. */
  const sample: Record<string, { id: string; create: Record<string, unknown>; update: Record<string, unknown> }> = {};
  /** Action inputs. */
  const inputs: Record<string, Record<string, unknown>> = {};
  let world: Snapshot;

  beforeAll(async () => {
    t = await startTestServer(backend.location(), { seed: false, engine: { clock: () => new Date(Date.now() + offsetMs) } });
    const engine = t.engine;
    const storage = engine.admin;
    const first = await cartOn(engine, { lines: 2, groups: 1 });
    const cartId = first.cartId;
    const run = await engine.runCheckout(cartId, { userId: first.buyerId, answers: ANSWERS, stopAt: 'checkoutSummary' });
    if (run.status !== 'stopped') throw new Error(`world: checkout did not stop at checkoutSummary: ${run.errors.join('; ')}`);
    const [owner] = await storage.find('User', { where: [{ field: 'Id', op: '=', value: first.buyerId }] });
    const acme = String(owner!.AccountId);
    const [member] = await storage.find('BuyerGroupMember', { where: [{ field: 'BuyerId', op: '=', value: acme }] });
    const [product] = await storage.find('Product2', { limit: 1 });
    const [item] = await storage.find('CartItem', {
      where: [
        { field: 'CartId', op: '=', value: cartId },
        { field: 'Type', op: '=', value: 'Product' },
      ],
    });
    const [method] = await storage.find('OrderDeliveryMethod', { limit: 1 });
    const [book] = await storage.find('Pricebook2', { limit: 1 });
    const seeded = await engine.seed({
      ...roleFixture(acme, cartId),
      CartValidationOutput: [{ ref: 'cvo', CartId: cartId, Level: 'Info', Type: 'Other', Message: 'A note for the buyer' }],
      Product2: [{ ref: 'spare', Name: 'Spare product (no price, no stock)' }],
      Order: [{ ref: 'order', AccountId: acme, OwnerId: first.buyerId, SalesStoreId: first.storeId, Status: 'Draft', PoNumber: 'PO-M' }],
      OrderDeliveryGroup: [{ ref: 'odg', OrderId: '@order', DeliverToCity: 'Oakland' }],
      OrderItem: [
        {
          ref: 'oi',
          OrderId: '@order',
          OrderDeliveryGroupId: '@odg',
          Product2Id: String(product!.Id),
          Type: 'Order Product',
          Quantity: 1,
          ListPrice: 10,
          UnitPrice: 10,
          TotalLineAmount: 10,
        },
      ],
      OrderItemTaxLineItem: [{ ref: 'oitax', OrderItemId: '@oi', OrderId: '@order', Name: 'Tax', Amount: 0.8 }],
      OrderItemAdjustmentLineItem: [{ ref: 'oiadj', OrderItemId: '@oi', OrderId: '@order', Name: 'Promo', Amount: -1 }],
      OrderSummary: [{ ref: 'summary', OriginalOrderId: '@order', AccountId: acme, OwnerId: first.buyerId }],
      ContactPointAddress: [
        { ref: 'cpa', Name: 'Dock 1', ParentId: acme, AddressType: 'Shipping', Street: '1 Main St', City: 'Oakland', IsDefault: true },
      ],
    });
    Object.assign(ids, seeded, {
      cart: cartId,
      acme,
      owner: first.buyerId,
      store: first.storeId,
      product: String(product!.Id),
      item: String(item!.Id),
      method: String(method!.Id),
      book: String(book!.Id),
    });
    const firstOf = async (object: string, where: Record<string, unknown> = {}) => {
      const [r] = await storage.find(object, {
        where: Object.entries(where).map(([field, value]) => ({ field, op: '=' as const, value })),
        limit: 1,
      });
      if (!r) throw new Error(`world: no ${object} ${JSON.stringify(where)}`);
      return String(r.Id);
    };
    const group = await firstOf('CartDeliveryGroup', { CartId: cartId });
    const session = await firstOf('CartCheckoutSession', { WebCartId: cartId, IsArchived: false });
    const s = (object: string, id: string, create: Record<string, unknown>, update: Record<string, unknown>) =>
      (sample[object] = { id, create, update });
    s('Account', acme, { Name: 'New account' }, { Name: 'Acme Renamed' });
    s(
      'BuyerAccount',
      await firstOf('BuyerAccount', { BuyerId: acme }),
      { Name: 'New buyer', BuyerId: acme, BuyerStatus: 'Active' },
      { Name: 'Renamed' },
    );
    s(
      'ContactPointAddress',
      seeded.cpa!,
      { Name: 'Dock 2', ParentId: acme, AddressType: 'Billing', City: 'Berkeley' },
      { City: 'Alameda' },
    );
    s('User', first.buyerId, { Username: 'new@acme.example', Name: 'New', AccountId: acme }, { Name: 'Renamed' });
    s('WebStore', first.storeId, { Name: 'New store' }, { Name: 'Renamed store' });
    s('BuyerGroup', String(member!.BuyerGroupId), { Name: 'New group' }, { Name: 'Renamed group' });
    s('BuyerGroupMember', String(member!.Id), { BuyerGroupId: member!.BuyerGroupId, BuyerId: acme }, { BuyerId: acme });
    s(
      'WebStoreBuyerGroup',
      await firstOf('WebStoreBuyerGroup', { WebStoreId: first.storeId }),
      { BuyerGroupId: member!.BuyerGroupId, WebStoreId: first.storeId },
      { WebStoreId: first.storeId },
    );
    s('Product2', ids.product!, { Name: 'New product' }, { Description: 'Changed' });
    const category = await firstOf('ProductCategory', { WebStoreId: first.storeId });
    s('ProductCategory', category, { Name: 'New category', WebStoreId: first.storeId }, { Name: 'Renamed category' });
    s(
      'ProductCategoryProduct',
      await firstOf('ProductCategoryProduct'),
      { ProductCategoryId: category, ProductId: seeded.spare },
      { IsPrimaryCategory: false },
    );
    const mediaGroup = await firstOf('ElectronicMediaGroup', { DeveloperName: 'productDetailImage' });
    s('ElectronicMediaGroup', mediaGroup, { Name: 'Tiles', DeveloperName: 'tiles', UsageType: 'Tile' }, { Name: 'Renamed group' });
    s(
      'ProductMedia',
      await firstOf('ProductMedia', { ElectronicMediaGroupId: mediaGroup }),
      { ProductId: seeded.spare, ElectronicMediaGroupId: mediaGroup, ImageUrl: '/img/products/SPARE.svg' },
      { SortOrder: 5 },
    );
    s('WebCart', cartId, { Name: 'New cart', WebStoreId: first.storeId, AccountId: acme }, { PoNumber: 'PO-CHANGED' });
    s('WebCartShare', seeded.readShare!, { ParentId: cartId, UserOrGroupId: seeded.same, AccessLevel: 'Read' }, { AccessLevel: 'Edit' });
    s('CartDeliveryGroup', group, { CartId: cartId, Name: 'Second dock' }, { ShippingInstructions: 'Ring twice' });
    s('CartItem', ids.item!, { CartId: cartId, CartDeliveryGroupId: group, Product2Id: ids.product, Quantity: 1 }, { Quantity: 3 });
    s(
      'CartTax',
      await firstOf('CartTax', { CartId: cartId }),
      { CartItemId: ids.item, Name: 'Extra tax', Amount: 1 },
      { Description: 'Changed' },
    );
    s(
      'CartDeliveryGroupMethod',
      await firstOf('CartDeliveryGroupMethod', { WebCartId: cartId }),
      { CartDeliveryGroupId: group, DeliveryMethodId: ids.method, Name: 'Option', ShippingFee: 1 },
      { Carrier: 'Other' },
    );
    s('CartValidationOutput', seeded.cvo!, { CartId: cartId, Level: 'Info', Type: 'Other', Message: 'Another' }, { IsDismissed: true });
    s('CartCheckoutSession', session, { Name: 'Planted', WebCartId: cartId, State: 'checkoutSummary' }, { State: 'Complete' });
    s('BackgroundOperation', await firstOf('BackgroundOperation', { _cartId: cartId }), { Name: 'Planted' }, { Name: 'Renamed' });
    s('Order', seeded.order!, { AccountId: acme, Status: 'Draft' }, { PoNumber: 'PO-CHANGED' });
    s('OrderDeliveryGroup', seeded.odg!, { OrderId: seeded.order, DeliverToCity: 'Berkeley' }, { DeliverToCity: 'Berkeley' });
    s(
      'OrderItem',
      seeded.oi!,
      { OrderId: seeded.order, Product2Id: ids.product, Type: 'Order Product', Quantity: 1, UnitPrice: 1 },
      { Description: 'Changed' },
    );
    s('OrderItemTaxLineItem', seeded.oitax!, { OrderItemId: seeded.oi, Name: 'Tax', Amount: 1 }, { Description: 'Changed' });
    s('OrderItemAdjustmentLineItem', seeded.oiadj!, { OrderItemId: seeded.oi, Name: 'Adj', Amount: -1 }, { Description: 'Changed' });
    s('OrderSummary', seeded.summary!, { OriginalOrderId: seeded.order, AccountId: acme }, { Status: 'Approved' });
    s('OrderDeliveryMethod', ids.method!, { Name: 'Drone' }, { Carrier: 'Other' });
    s('Pricebook2', ids.book!, { Name: 'Other book' }, { Name: 'Renamed book' });
    s(
      'PricebookEntry',
      await firstOf('PricebookEntry', { Pricebook2Id: ids.book }),
      { Pricebook2Id: ids.book, Product2Id: seeded.spare, UnitPrice: 5 },
      { UnitPrice: 1 },
    );
    s(
      'WebStorePricebook',
      await firstOf('WebStorePricebook', { WebStoreId: first.storeId }),
      { WebStoreId: first.storeId, Pricebook2Id: ids.book },
      { IsActive: false },
    );
    s('ProductInventory', await firstOf('ProductInventory'), { Product2Id: seeded.spare, QuantityAvailable: 5 }, { QuantityAvailable: 1 });
    s(
      'Promotion',
      await firstOf('Promotion'),
      { Name: 'New promo', DiscountType: 'Percentage', DiscountValue: 5 },
      { Name: 'Renamed promo' },
    );
    s('TaxRate', await firstOf('TaxRate'), { Country: 'US', Rate: 0.05 }, { Rate: 0.5 });
    s(
      'ProductReservation',
      await firstOf('ProductReservation', { WebCartId: cartId }),
      { WebCartId: cartId, ProductInventoryId: await firstOf('ProductInventory'), Quantity: 1 },
      { Quantity: 1 },
    );

    for (const a of ACTION_MATRIX) inputs[a.action] = { cartId };
    inputs.updateCheckoutSessionStateAction = { checkoutSessionId: session, expCurrentState: 'cartToOrder', nextState: 'authorizePayment' };
    inputs.setCheckoutDeliveryMethod = { cartId, deliveryMethodId: ids.method };

    Object.assign(tokens, await roleTokens(t, seeded.inactive!));
    world = await snapshot(t);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await t?.engine.close();
  });

  /** The answer of an HTTP call as the matrix states it. */
  const answer = (r: { status: number; body: any }, success: boolean): string => {
    if (success) return 'ok';
    const e = Array.isArray(r.body) ? (r.body[0]?.errors?.[0]?.statusCode ?? r.body[0]?.errorCode) : undefined;
    return `${e ?? JSON.stringify(r.body)} ${r.status}`;
  };

  /** Tables a refused cell must leave untouched: its object's, the cart's and the session's. */
  const guarded = (object?: string) => [...new Set([...(object ? [object] : []), 'WebCart', 'CartCheckoutSession', 'CartItem'])];

  /** Performs one cell; returns its answer and, for a refusal that changed data, a note. */
  async function perform(
    role: RoleName,
    kind: 'action' | (typeof VERBS)[number],
    object: string,
  ): Promise<{ got: string; changed?: string }> {
    const token = tokens[role];
    const before = await snapshot(t, guarded(kind === 'action' ? undefined : object));
    let got: string;
    if (kind === 'action') {
      const r = await t.call('POST', `${V}/actions/standard/${object}`, { token, body: { inputs: [inputs[object]] } });
      got = answer(r, r.status === 200 && r.body?.[0]?.isSuccess === true);
    } else {
      const s = sample[object]!;
      const path = `${V}/sobjects/${object}`;
      let r: { status: number; body: any };
      switch (kind) {
        case 'read':
          r = await t.call('GET', `${path}/${s.id}`, { token });
          got = answer(r, r.status === 200 && r.body?.Id === s.id);
          break;
        case 'query':
          r = await t.call('GET', `${V}/query?q=${encodeURIComponent(`SELECT Id FROM ${object} WHERE Id = '${s.id}'`)}`, { token });
          got = r.status === 200 ? (r.body.records.some((x: { Id: string }) => x.Id === s.id) ? 'ok' : 'empty') : answer(r, false);
          break;
        case 'create':
          r = await t.call('POST', path, { token, body: s.create });
          got = answer(r, r.status === 201);
          break;
        case 'update':
          r = await t.call('PATCH', `${path}/${s.id}`, { token, body: s.update });
          got = answer(r, r.status === 204);
          break;
        case 'delete':
          r = await t.call('DELETE', `${path}/${s.id}`, { token });
          got = answer(r, r.status === 204);
          break;
      }
    }
    const writes = kind !== 'read' && kind !== 'query';
    if (got === 'ok' && writes) {
      await restore(t, world);
      return { got };
    }
    const after = await snapshot(t, Object.keys(before));
    for (const o of Object.keys(before)) {
      if (JSON.stringify(after[o]) !== JSON.stringify(before[o])) {
        await restore(t, world);
        return { got, changed: o };
      }
    }
    return { got };
  }

  it.each(ROLES.map((r) => [r]))(
    'every action and record verb as %s answers as the matrix states, and refusals change nothing',
    async (role) => {
      const diffs: string[] = [];
      if (role === 'expired') offsetMs = (TTL_SECONDS + 1) * 1000;
      try {
        for (const a of ACTION_MATRIX) {
          const { got, changed } = await perform(role, 'action', a.action);
          if (got !== a.expected[role]) diffs.push(`${a.action}: expected ${a.expected[role]}, got ${got}`);
          if (changed) diffs.push(`${a.action}: answered ${got} but changed ${changed}`);
        }
        for (const o of OBJECT_MATRIX) {
          for (const v of VERBS) {
            const { got, changed } = await perform(role, v, o.object);
            if (got !== o.expected[v][role]) diffs.push(`${o.object} ${v}: expected ${o.expected[v][role]}, got ${got}`);
            if (changed) diffs.push(`${o.object} ${v}: answered ${got} but changed ${changed}`);
          }
        }
      } finally {
        offsetMs = 0;
      }
      expect(diffs, `${role}: ${diffs.length} cells differ:\n${diffs.join('\n')}`).toEqual([]);
      // The world is intact after the run (every success was undone, nothing else moved).
      expect(await snapshot(t)).toEqual(world);
    },
    120_000,
  );

  it('covers every object and every action the engine serves', async () => {
    expect(OBJECT_MATRIX.map((o) => o.object).sort()).toEqual([...OBJECTS.keys()].sort());
    const { ACTIONS } = await import('../../src/actions/index.js');
    // updateCheckoutSessionAction is the same action under Help's name.
    expect(ACTION_MATRIX.map((a) => a.action).sort()).toEqual(
      [...ACTIONS.keys()].filter((a) => a !== 'updateCheckoutSessionAction').sort(),
    );
  });
});
