/**
 * The default integrations compute exactly what spec §4 says, from their records: pricing from the
 * store's price book (changes reported), promotions (percentage and fixed, cart- and line-level),
 * shipping (flat and per-unit fees), taxes (state rate, else country rate, else none) and inventory
 * (short stock fails; success reserves). And the data API refuses writes outside the step's cart.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dropTestSchemas } from '../helpers/backends.js';
import { call, cartOn, failure, FLOW_BACKENDS, ok, rows, sharedEngine } from './helpers.js';
import { StagingCartDataApi } from '../../src/integrations/data-api.js';

afterAll(dropTestSchemas);

describe.each(FLOW_BACKENDS)('default integrations on $name', (backend) => {
  const shared = sharedEngine(backend.location);

  it('price, promotions, shipping and taxes produce the documented amounts', async () => {
    const { engine, cartId, as, adminId, storeId } = await cartOn(shared.get(), { lines: 3, groups: 3 });
    const admin = { userId: adminId };
    // Catalog price change for Widget 2 (12.30 → 11.00) and a 10.00 cart-wide discount for this store.
    const items = (await rows(engine, 'CartItem', { CartId: cartId, Type: 'Product' })).sort((a, b) =>
      String(a.Sku).localeCompare(String(b.Sku)),
    );
    const [entry] = await rows(engine, 'PricebookEntry', { Product2Id: items[1]!.Product2Id });
    await engine.updateRecord('PricebookEntry', String(entry!.Id), { UnitPrice: 11 }, admin);
    const promo = await engine.createRecord(
      'Promotion',
      { Name: 'Ten off', DiscountType: 'FixedAmount', DiscountValue: 10, WebStoreId: storeId },
      admin,
    );
    // Three groups in three tax jurisdictions.
    const groups = (await rows(engine, 'CartDeliveryGroup', { CartId: cartId })).sort((a, b) =>
      String(a.Name).localeCompare(String(b.Name)),
    );
    const places = [
      { DeliverToState: 'CA', DeliverToCountry: 'US' },
      { DeliverToState: 'NY', DeliverToCountry: 'US' },
      { DeliverToState: 'BY', DeliverToCountry: 'DE' },
    ];
    for (const [i, g] of groups.entries()) await engine.updateRecord('CartDeliveryGroup', String(g.Id), places[i]!, as);
    try {
      const run = await engine.runCheckout(cartId, { ...as, answers: { poNumber: 'PO-I' }, stopAt: 'taxes' });
      expect(run.status, run.errors.join()).toBe('stopped');
      const after = new Map((await rows(engine, 'CartItem', { CartId: cartId })).map((i) => [String(i.Id), i]));
      // Pricing: Widget 2 repriced with a warning.
      const w2 = after.get(String(items[1]!.Id))!;
      expect([w2.SalesPrice, w2.TotalLineAmount]).toEqual([11, 22]);
      const warnings = await rows(engine, 'CartValidationOutput', { CartId: cartId, Level: 'Warning' });
      expect(warnings.map((w) => [w.Type, w.Message, w.RelatedEntityId])).toEqual([
        ['Pricing', 'The price of SKU SKU-0002 changed from 12.30 to 11.00.', items[1]!.Id],
      ]);
      // Promotions: lines 5.00, 22.00, 58.80 (total 85.80). 5% each; 2.00 off Widget 1; 10.00 spread by amount.
      const adj = items.map((i) => after.get(String(i.Id))!.AdjustmentAmount);
      expect(adj).toEqual([-(0.25 + 2 + 0.58), -(1.1 + 2.56), -(2.94 + 6.86)].map((x) => Math.round(x * 100) / 100));
      // Shipping: Ground 9.99 flat, Express 24.99 + 1.00 per unit, for every group.
      const options = await rows(engine, 'CartDeliveryGroupMethod', { WebCartId: cartId });
      expect(options).toHaveLength(6);
      for (const [i, g] of groups.entries()) {
        const units = Number(items[i]!.Quantity);
        const fees = options
          .filter((o) => o.CartDeliveryGroupId === g.Id)
          .map((o) => [o.Name, o.ShippingFee])
          .sort();
        expect(fees).toEqual([
          ['Express', Math.round((24.99 + units) * 100) / 100],
          ['Ground', 9.99],
        ]);
      }
      // Taxes: CA 7.25% (state rate), NY 5% (country rate), DE none; products and charges alike.
      const taxes = await rows(engine, 'CartTax', { CartId: cartId });
      const byItem = new Map(taxes.map((t) => [String(t.CartItemId), t]));
      const all = [...after.values()];
      for (const [i, g] of groups.entries()) {
        const rate = [0.0725, 0.05, null][i];
        for (const line of all.filter((x) => x.CartDeliveryGroupId === g.Id)) {
          const t = byItem.get(String(line.Id));
          if (rate === null) expect(t).toBeUndefined();
          else
            expect([t!.TaxRate, t!.Amount, t!.TaxType]).toEqual([
              rate,
              Math.round(Number(line.TotalPrice) * rate * 100 + 1e-9) / 100,
              'Actual',
            ]);
        }
      }
      const cart = (await engine.admin.get('WebCart', cartId))!;
      expect(cart.TotalTaxAmount).toBe(Math.round(taxes.reduce((n, t) => n + Number(t.Amount) * 100, 0)) / 100);
    } finally {
      await engine.updateRecord('PricebookEntry', String(entry!.Id), { UnitPrice: 12.3 }, admin);
      await engine.deleteRecord('Promotion', promo.id, admin);
    }
  });

  it('inventory reserves what a checkout takes, so the next checkout finds the stock short', async () => {
    const engine = shared.get();
    const first = await cartOn(engine, { lines: 1 });
    const [line] = await rows(engine, 'CartItem', { CartId: first.cartId, Type: 'Product' });
    const [stock] = await rows(engine, 'ProductInventory', { Product2Id: line!.Product2Id });
    await engine.updateRecord(
      'ProductInventory',
      String(stock!.Id),
      { QuantityAvailable: Number(stock!.QuantityReserved) + Number(line!.Quantity) },
      { userId: first.adminId },
    );
    expect((await engine.runCheckout(first.cartId, { ...first.as, stopAt: 'inventory' })).status).toBe('stopped');
    const reserved = (await engine.admin.get('ProductInventory', String(stock!.Id)))!;
    expect(reserved.QuantityReserved).toBe(Number(stock!.QuantityReserved) + Number(line!.Quantity));
    const second = await cartOn(engine, { lines: 1 });
    const run = await engine.runCheckout(second.cartId, second.as);
    expect(run.status).toBe('error');
    expect(run.errors).toContain(`Insufficient quantity for SKU ${String(line!.Sku)}: 1 requested, 0 available.`);
    ok(await call(engine, 'cancelCartAsyncOperation', { cartId: second.cartId }, second.as.userId));
    await engine.updateRecord('ProductInventory', String(stock!.Id), { QuantityAvailable: 100_000 }, { userId: first.adminId });
  });

  it("the data API refuses reads of unknown objects and writes outside the integration's reach", async () => {
    const engine = shared.get();
    const { cartId, as } = await cartOn(engine, { lines: 1 });
    const cart = (await engine.admin.get('WebCart', cartId))!;
    const api = new StagingCartDataApi(engine.core, cart, new Date(), new AbortController().signal);
    await expect(api.find('Nope')).rejects.toThrow(/no object named 'Nope'/);
    expect(() => api.insert('Order', { AccountId: cart.AccountId })).toThrow(/can't create Order records/);
    expect(() => api.update('CartItem', 'x', { Quantity: 5 })).toThrow(/can't update CartItem\.Quantity/);
    expect(() => api.insert('CartTax', { Name: 'no item', Amount: 1 })).toThrow(/CartTax/);
    expect(() => api.addValidation({ Message: '' })).toThrow(/needs a Message/);
    // A write to another cart's line is caught at commit: the step fails and nothing is written.
    const other = await cartOn(engine, { lines: 1 });
    const [foreign] = await rows(engine, 'CartItem', { CartId: other.cartId });
    engine.registerIntegration('inventory', {
      startCartProcessAsync: async (_i, _c, data) => (
        data.update('CartItem', String(foreign!.Id), { SalesPrice: 0.01 }),
        { status: 'SUCCESS' }
      ),
    });
    try {
      const run = await engine.runCheckout(cartId, as);
      expect(run.status).toBe('error');
      expect(run.errors[0]).toMatch(new RegExp(`wrote CartItem ${String(foreign!.Id)}, which isn't part of cart ${cartId}`));
      expect((await engine.admin.get('CartItem', String(foreign!.Id)))!.SalesPrice).toBe(foreign!.SalesPrice);
      expect(failure(await call(engine, 'checkCartInventoryAction', { cartId }, as.userId)).status).toBe(403);
    } finally {
      const { DEFAULT_INTEGRATIONS } = await import('../../src/integrations/defaults.js');
      engine.registerIntegration('inventory', DEFAULT_INTEGRATIONS.inventory!);
    }
  });
});
