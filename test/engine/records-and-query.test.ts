/**
 * The library's record and query API: SOQL honouring the caller's access, record writes with the
 * action rules (screen-step State moves, cart changes in Checkout cancel the checkout, derived
 * totals), field validation errors naming the field, and a file database surviving a restart.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine } from '../../src/index.js';
import { demoFixture } from '../../src/demo/fixture.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { engineWithClaimedCart } from '../helpers/engine.js';

afterAll(dropTestSchemas);

for (const backend of [BACKENDS[0]!, BACKENDS[2]!]) {
  describe(`records and queries on ${backend.name}`, () => {
    it('queries see only what the caller may read; ModifyAllData sees everything', async () => {
      const engine = await createCheckoutEngine({ storage: backend.location() });
      const ids = await engine.seed(demoFixture({ lines: 4 }));
      const { globexCart } = await engine.seed({
        WebCart: [{ ref: 'globexCart', Name: 'Globex cart', WebStoreId: '@store', AccountId: '@globex', OwnerId: '@outsider' }],
      });
      const q = (soql: string, userId: string) => engine.query(soql, { userId });
      expect((await q('SELECT Id, Name FROM WebCart ORDER BY Name', ids.buyer!)).records.map((r) => r.Id)).toEqual([ids.cart]);
      expect((await q('SELECT Id FROM WebCart', ids.outsider!)).records.map((r) => r.Id)).toEqual([globexCart]);
      expect((await q('SELECT COUNT() FROM WebCart', ids.admin!)).totalSize).toBe(2);
      expect((await q('SELECT COUNT() FROM CartItem', ids.outsider!)).totalSize).toBe(0);
      expect((await q('SELECT COUNT() FROM CartItem', ids.buyer!)).totalSize).toBe(5);
      expect((await q('SELECT Id, Username FROM User', ids.buyer!)).records.map((r) => r.Username)).toEqual(['buyer@acme.example']);
      expect((await q('SELECT COUNT() FROM Product2', ids.outsider!)).totalSize).toBe(4);
      const r = await q(
        `SELECT Id, Name, Quantity, Type FROM CartItem WHERE CartId = '${ids.cart}' AND Type = 'Product' AND Quantity >= 2 ORDER BY Quantity DESC LIMIT 2`,
        ids.buyer!,
      );
      expect(r).toMatchObject({ done: true, totalSize: 2 });
      expect(r.records.map((x) => x.Quantity)).toEqual([4, 3]);
      expect(r.records[0]).toMatchObject({
        attributes: { type: 'CartItem', url: `/services/data/v64.0/sobjects/CartItem/${r.records[0]!.Id}` },
        Type: 'Product',
      });
      expect((await q("SELECT Id FROM CartItem WHERE Name LIKE 'widget%' AND Sku IN ('SKU-0001', 'SKU-0002')", ids.buyer!)).totalSize).toBe(
        2,
      );
      expect((await q('SELECT Id FROM CartItem WHERE CreatedDate = TODAY', ids.buyer!)).totalSize).toBe(5);
      await engine.close();
    });

    it.each([
      ['SELECT Id FROM Nothing', 'INVALID_TYPE', /Nothing/],
      ['SELECT Colour FROM WebCart', 'INVALID_FIELD', /Colour/],
      ['SELECT Id, Password FROM User', 'INVALID_FIELD', /Password/],
      ["SELECT Id FROM CartItem WHERE Quantity = 'two'", 'INVALID_FIELD', /Quantity.*number/],
      // OR is SOQL and now runs; mixing AND and OR without parentheses is what Salesforce refuses.
      ["SELECT Id FROM WebCart WHERE Name = 'a' OR Name = 'b' AND Name = 'c'", 'MALFORMED_QUERY', /parentheses when mixing AND and OR/],
      ['SELECT Id FROM WebCart WHERE', 'MALFORMED_QUERY', /WHERE|end/i],
      ['', 'MALFORMED_QUERY', /required/],
    ])('refuses %j with %s', async (soql, code, message) => {
      const engine = await createCheckoutEngine({ storage: backend.location() });
      const ids = await engine.seed(demoFixture());
      const err = await engine.query(soql, { userId: ids.buyer! }).catch((e) => e);
      expect(err).toMatchObject({ code, status: 400 });
      expect(err.message).toMatch(message);
      await engine.close();
    });

    it('moves a session State only to the next screen state, and only while nothing is processing', async () => {
      const engine = await createCheckoutEngine({ storage: backend.location() });
      const ids = await engine.seed(demoFixture({ sessionState: 'paymentAndBillingAddress' }));
      const as = { userId: ids.buyer! };
      await engine.updateRecord('CartCheckoutSession', ids.session!, { State: 'Checkout Summary' }, as);
      expect((await engine.getRecord('CartCheckoutSession', ids.session!)).State).toBe('Checkout Summary'); // stored as written: a label stays a label
      await expect(engine.updateRecord('CartCheckoutSession', ids.session!, { State: 'complete' }, as)).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        status: 409,
        fields: ['State'],
      });
      await expect(engine.updateRecord('CartCheckoutSession', ids.session!, { State: 'cartToOrder' }, as)).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        status: 409,
      });
      await expect(engine.updateRecord('CartCheckoutSession', ids.session!, { State: 'nowhere' }, as)).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        fields: ['State'],
      });
      // Updatable as Salesforce documents it, but only to what the statechart holds: writing the value it has is a no-op, anything else names the field.
      await engine.updateRecord('CartCheckoutSession', ids.session!, { IsProcessing: false }, as);
      await expect(engine.updateRecord('CartCheckoutSession', ids.session!, { IsProcessing: true }, as)).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        status: 400,
        fields: ['IsProcessing'],
      });
      await expect(engine.updateRecord('CartCheckoutSession', ids.session!, { OrderId: null, IsError: true }, as)).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        fields: ['IsError'],
      });
      await expect(
        engine.updateRecord('CartCheckoutSession', ids.session!, { State: 'checkoutSummary' }, { userId: ids.outsider! }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
      expect(await engine.getRecord('CartCheckoutSession', ids.session!)).toMatchObject({ State: 'Checkout Summary', IsProcessing: false });
      await engine.close();
    });

    it('a buyer’s change to product lines of a cart in Checkout cancels the checkout; totals follow the lines', async () => {
      const { engine, ids } = await engineWithClaimedCart(backend.location(), { lines: 3 });
      const as = { userId: ids.buyer! };
      const before = await engine.getRecord('WebCart', ids.cart!);
      await engine.updateRecord('CartItem', ids.item0!, { Quantity: 10 }, as);
      expect(await engine.getRecord('CartCheckoutSession', ids.session!)).toMatchObject({ IsArchived: true });
      const cart = await engine.getRecord('WebCart', ids.cart!);
      expect(cart.Status).toBe('Active');
      const item = await engine.getRecord('CartItem', ids.item0!);
      expect(item.TotalLineAmount).toBe(Math.round((item.SalesPrice as number) * 10 * 100) / 100);
      expect(cart.TotalProductAmount).toBeGreaterThan(before.TotalProductAmount as number);
      const [r] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart }], as);
      expect(r!.errors![0]!.statusCode).toBe('INVALID_OPERATION');
      // A new checkout starts a fresh session.
      const [s] = await engine.invoke('checkoutSessionAction', [{ cartId: ids.cart, initialState: 'Start' }], as);
      expect(s!.outputValues!.requestId).not.toBe(ids.session);
      expect((await engine.getRecord('WebCart', ids.cart!)).Status).toBe('Checkout');
      await engine.close();
    });

    it('validates record writes and names the field; refuses what the caller may not touch', async () => {
      const engine = await createCheckoutEngine({ storage: backend.location() });
      const ids = await engine.seed(demoFixture());
      const as = { userId: ids.buyer! };
      await expect(
        engine.createRecord('CartItem', { CartId: ids.cart, CartDeliveryGroupId: ids.group0, Name: 'X', Quantity: 'many' }, as),
      ).rejects.toMatchObject({
        code: 'INVALID_TYPE_ON_FIELD_IN_RECORD',
        fields: ['Quantity'],
      });
      await expect(engine.createRecord('CartItem', { CartId: ids.cart, Name: 'X', Quantity: 1 }, as)).rejects.toMatchObject({
        code: 'REQUIRED_FIELD_MISSING',
        fields: ['CartDeliveryGroupId'],
      });
      await expect(
        engine.createRecord('CartItem', { CartId: ids.cart, CartDeliveryGroupId: ids.group0, Name: 'X', Quantity: 1, Type: 'Gift' }, as),
      ).rejects.toMatchObject({
        code: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
        fields: ['Type'],
      });
      await expect(
        engine.createRecord('CartItem', { CartId: 'nope', CartDeliveryGroupId: ids.group0, Name: 'X', Quantity: 1 }, as),
      ).rejects.toMatchObject({ code: 'MALFORMED_ID', fields: ['CartId'] });
      await expect(
        engine.createRecord('CartItem', { CartId: ids.cart, CartDeliveryGroupId: ids.group0, Name: 'X', Quantity: 1, TotalPrice: 1 }, as),
      ).rejects.toMatchObject({
        code: 'INVALID_FIELD_FOR_INSERT_UPDATE',
        fields: ['TotalPrice'],
      });
      await expect(engine.createRecord('Gadget', {}, as)).rejects.toMatchObject({ code: 'INVALID_TYPE' });
      await expect(engine.createRecord('Product2', { Name: 'Mine' }, as)).rejects.toMatchObject({
        code: 'INSUFFICIENT_ACCESS_OR_READONLY',
      });
      await expect(
        engine.createRecord(
          'CartItem',
          { CartId: ids.cart, CartDeliveryGroupId: ids.group0, Name: 'X', Quantity: 1 },
          { userId: ids.outsider! },
        ),
      ).rejects.toMatchObject({
        // Another account's cart answers as if it didn't exist.
        code: 'INVALID_CROSS_REFERENCE_KEY',
        fields: ['CartId'],
      });
      await expect(engine.createRecord('CartCheckoutSession', { Name: 'x', WebCartId: ids.cart }, as)).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
      });
      // A buyer doesn't write a cart's Status; an administrator can't move it into Checkout either.
      // Checkout is entered and left only by the checkout actions.
      await expect(engine.updateRecord('WebCart', ids.cart!, { Status: 'Checkout' }, as)).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        fields: ['Status'],
      });
      await expect(engine.updateRecord('WebCart', ids.cart!, { Status: 'Closed' }, as)).rejects.toMatchObject({
        code: 'INVALID_FIELD_FOR_INSERT_UPDATE',
        fields: ['Status'],
      });
      await expect(engine.updateRecord('WebCart', ids.cart!, { Status: 'Checkout' }, { userId: ids.admin! })).rejects.toMatchObject({
        code: 'INVALID_OPERATION',
        fields: ['Status'],
      });
      await expect(
        engine.createRecord(
          'CartItem',
          { CartId: ids.cart, CartDeliveryGroupId: ids.group0, Name: 'Extra', Quantity: 2, SalesPrice: 5 },
          as,
        ),
      ).rejects.toMatchObject({
        code: 'INVALID_FIELD_FOR_INSERT_UPDATE',
        fields: ['SalesPrice'],
      });
      const created = await engine.createRecord(
        'CartItem',
        { CartId: ids.cart, CartDeliveryGroupId: ids.group0, Name: 'Extra', Quantity: 2, SalesPrice: 5 },
        { userId: ids.admin! },
      );
      expect(created).toMatchObject({ success: true, errors: [] });
      expect(await engine.getRecord('CartItem', created.id)).toMatchObject({ TotalLineAmount: 10, TotalPrice: 10, Type: 'Product' });
      await engine.deleteRecord('CartItem', created.id, as);
      await expect(engine.getRecord('CartItem', created.id)).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
      await engine.close();
    });
  });
}

describe('durability', () => {
  it('a file database keeps every session, operation and order across an engine restart', async () => {
    const location = BACKENDS[1]!.location();
    const { engine, ids } = await engineWithClaimedCart(location, { lines: 6, groups: 2 });
    await engine.invoke('cartToOrderAction', [{ cartId: ids.cart }], { userId: ids.buyer! });
    const admin = { userId: ids.admin! };
    const snapshot = async (e: typeof engine) => ({
      sessions: (
        await e.query(
          'SELECT Id, State, NextState, IsProcessing, OrderId, BackgroundOperationId FROM CartCheckoutSession ORDER BY Id',
          admin,
        )
      ).records,
      operations: (await e.query('SELECT Id, Status, StartedAt, FinishedAt FROM BackgroundOperation ORDER BY Id', admin)).records,
      orders: (await e.query('SELECT Id, Status, GrandTotalAmount FROM Order ORDER BY Id', admin)).records,
      items: (await e.query('SELECT Id, UnitPrice, Quantity FROM OrderItem ORDER BY Id', admin)).records,
    });
    const before = await snapshot(engine);
    await engine.close();
    const reopened = await createCheckoutEngine({ storage: location });
    expect(await snapshot(reopened)).toEqual(before);
    expect(before.orders).toHaveLength(1);
    expect(before.items).toHaveLength(8);
    await reopened.close();
  });
});
