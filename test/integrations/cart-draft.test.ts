/**
 * The patch → write translation of the cart draft (src/integrations/cart-draft.ts), as pure
 * functions over in-memory states: no database, no engine. Patches come from immer's
 * `produceWithPatches`, as the engine's `data.edit` makes them.
 */
import { describe, expect, it } from 'vitest';
import { produceWithPatches, type Patch } from 'immer';
import { CartEditor, cartState, planWrites, type CartDraft, type CartState } from '../../src/integrations/cart-draft.js';
import { mintId } from '../../src/domain/ids.js';
import { StepFailed } from '../../src/engine/core.js';
import type { Row } from '../../src/storage/port.js';

const cartId = mintId('0a6');
const groupId = mintId('0a7');
const line = (n: number): Row => ({
  Id: mintId('0a9'),
  CartId: cartId,
  CartDeliveryGroupId: groupId,
  Name: `W${n}`,
  Type: 'Product',
  Quantity: 2,
  SalesPrice: 10,
  ListPrice: 12,
  AdjustmentAmount: 0,
});

function state(lines = 3): CartState {
  const items = Array.from({ length: lines }, (_, i) => line(i));
  return cartState(
    { Id: cartId, Name: 'Cart', WebStoreId: mintId('0ZE') },
    {
      items,
      deliveryGroups: [{ Id: groupId, CartId: cartId, Name: 'G', DeliverToCountry: 'US' }],
      taxes: [{ Id: mintId('0aT'), CartId: cartId, CartItemId: items[0]!.Id, Name: 'Old', Amount: 1, TaxType: 'Actual' }],
      deliveryMethods: [
        {
          Id: mintId('2dm'),
          WebCartId: cartId,
          CartDeliveryGroupId: groupId,
          DeliveryMethodId: mintId('2Dm'),
          Name: 'Ground',
          ShippingFee: 9.99,
        },
      ],
    },
  );
}

/** The patches of one recipe run on `base`. */
function patchesOf(base: CartState, recipe: (d: CartDraft) => void): Patch[] {
  return produceWithPatches(base, recipe)[1];
}

const ids = (rows: Record<string, Row>) => Object.keys(rows);

describe('the cart draft: patches → writes', () => {
  it('writes only the fields the patches name, of only the rows they name', () => {
    const base = state(500);
    const all = ids(base.items as Record<string, Row>);
    const patches = patchesOf(base, (d) => {
      for (const id of all.slice(0, 250)) d.items[id]!.SalesPrice = 9.5;
      d.items[all[499]!]!.AdjustmentAmount = -1;
    });
    const plan = planWrites(base, patches, cartId);
    expect(plan.deletes).toEqual([]);
    expect(plan.inserts).toEqual([]);
    expect(plan.updates).toHaveLength(251);
    const byId = new Map(plan.updates.map((u) => [u.id, u]));
    expect(byId.get(all[0]!)).toEqual({ object: 'CartItem', id: all[0], values: { SalesPrice: 9.5 } });
    expect(byId.get(all[499]!)).toEqual({ object: 'CartItem', id: all[499], values: { AdjustmentAmount: -1 } });
    expect(all.slice(250, 499).some((id) => byId.has(id))).toBe(false);
  });

  it('an assignment of the same value, or a change undone by a later edit, writes nothing', () => {
    const base = state();
    const id = ids(base.items as Record<string, Row>)[0]!;
    expect(patchesOf(base, (d) => void (d.items[id]!.SalesPrice = 10))).toEqual([]);
    const [mid, first] = produceWithPatches(base, (d) => void (d.items[id]!.SalesPrice = 11));
    const second = patchesOf(mid, (d) => void (d.items[id]!.SalesPrice = 10));
    expect(first).toHaveLength(1);
    expect(planWrites(base, [...first, ...second], cartId)).toEqual({ deletes: [], inserts: [], updates: [] });
  });

  it('a row replaced as a whole writes only the fields that differ', () => {
    const base = state();
    const id = ids(base.items as Record<string, Row>)[1]!;
    const plan = planWrites(
      base,
      patchesOf(base, (d) => void (d.items[id] = { ...base.items[id]!, ListPrice: 15 })),
      cartId,
    );
    expect(plan.updates).toEqual([{ object: 'CartItem', id, values: { ListPrice: 15 } }]);
  });

  it('replacing a collection deletes the old rows in one list and inserts the new ones (ids, cart and dates left to the engine)', () => {
    const base = state();
    const [a, b] = ids(base.items as Record<string, Row>);
    const oldTax = ids(base.taxes as Record<string, Row>)[0]!;
    const patches = patchesOf(base, (d) => {
      d.taxes = {
        'tax:a': { CartItemId: a, Name: 'VAT', Amount: 2.5, TaxRate: 0.25 },
        'tax:b': { CartItemId: b, Name: 'VAT', Amount: 0.5, CartId: cartId },
      };
    });
    const plan = planWrites(base, patches, cartId);
    expect(plan.deletes).toEqual([{ object: 'CartTax', ids: [oldTax] }]);
    expect(plan.inserts.map((i) => [i.object, i.key, i.values.CartItemId, i.values.Amount, 'CartId' in i.values])).toEqual([
      ['CartTax', 'tax:a', a, 2.5, false],
      ['CartTax', 'tax:b', b, 0.5, false],
    ]);
    // Deleting one row, and adding then removing a new one, leave one delete and no insert.
    const method = ids(base.deliveryMethods as Record<string, Row>)[0]!;
    const p2 = patchesOf(base, (d) => {
      delete d.deliveryMethods[method];
      d.taxes.x = { CartItemId: a, Name: 'T', Amount: 1 };
      delete d.taxes.x;
    });
    expect(planWrites(base, p2, cartId)).toEqual({
      deletes: [{ object: 'CartDeliveryGroupMethod', ids: [method] }],
      inserts: [],
      updates: [],
    });
  });

  it('refuses what the staged API refuses, naming the object and field', () => {
    const base = state();
    const id = ids(base.items as Record<string, Row>)[0]!;
    const tax = ids(base.taxes as Record<string, Row>)[0]!;
    const plan = (recipe: (d: CartDraft) => void) => () => planWrites(base, patchesOf(base, recipe), cartId);
    expect(plan((d) => void (d.items[id]!.Quantity = 5))).toThrow(
      /integration write refused: integrations can't update CartItem\.Quantity/,
    );
    expect(plan((d) => void delete d.items[id])).toThrow(/can't delete CartItem records/);
    expect(plan((d) => void (d.items.x = { Name: 'free' }))).toThrow(/can't create CartItem records/);
    expect(plan((d) => void (d.cart.Name = 'x'))).toThrow(/can't update WebCart records/);
    expect(plan((d) => void (d.deliveryGroups[groupId]!.DeliverToCountry = 'DE'))).toThrow(/can't update CartDeliveryGroup records/);
    expect(plan((d) => void ((d as unknown as Record<string, unknown>).orders = {}))).toThrow(/the cart draft has no 'orders'/);
    expect(plan((d) => void (d.taxes[tax]!.Amount = 'lots'))).toThrow(/CartTax\.Amount/);
    expect(plan((d) => void (d.taxes.n = { CartItemId: id, Name: 'T' }))).toThrow(/REQUIRED_FIELD_MISSING|Amount/);
    expect(plan((d) => void (d.taxes.n = { Id: mintId('0aT'), CartItemId: id, Name: 'T', Amount: 1 }))).toThrow(
      /gets its Id from the engine/,
    );
    expect(plan((d) => void (d.taxes.n = { CartItemId: id, Name: 'T', Amount: 1, CartId: mintId('0a6') }))).toThrow(
      /belongs to the step's cart/,
    );
    // A new row pointing at another cart's line fails the step as a staged one would.
    const foreign = mintId('0a9');
    const failed = (() => {
      try {
        plan((d) => void (d.taxes.n = { CartItemId: foreign, Name: 'T', Amount: 1 }))();
      } catch (e) {
        return e;
      }
    })();
    expect(failed).toBeInstanceOf(StepFailed);
    expect((failed as Error).message).toBe(`The integration wrote CartItem ${foreign}, which isn't part of cart ${cartId}.`);
  });

  it('an editor keeps valid edits as the schema stores them and drops a refused edit whole', () => {
    const base = state();
    const [a, b] = ids(base.items as Record<string, Row>);
    const editor = new CartEditor(base, cartId);
    const after = editor.edit((d) => {
      d.items[a!]!.SalesPrice = 10.005; // stored rounded half-up to cents
    });
    expect(after.items[a!]!.SalesPrice).toBe(10.01);
    expect(() =>
      editor.edit((d) => {
        d.items[b!]!.SalesPrice = 3;
        d.items[b!]!.Name = 'renamed';
      }),
    ).toThrow(/CartItem\.Name/);
    expect(editor.state.items[b!]!.SalesPrice).toBe(10);
    expect(() => editor.edit((async () => {}) as unknown as (d: CartDraft) => void)).toThrow(/runs synchronously/);
    editor.edit((d) => void (d.taxes['tax:b'] = { CartItemId: b, Name: 'VAT', Amount: 1.234 }));
    const plan = editor.plan();
    expect(plan.updates).toEqual([{ object: 'CartItem', id: a, values: { SalesPrice: 10.01 } }]);
    expect(plan.inserts.map((i) => i.values.Amount)).toEqual([1.23]);
    // The states an integration sees are frozen: only edits change them.
    expect(Object.isFrozen(editor.state.items[a!])).toBe(true);
  });
});
