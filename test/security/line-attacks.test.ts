/**
 * Issue 17, line rules: two exploits that worked over HTTP, replayed by buyer A on SQLite and
 * PostgreSQL. Each is refused with the code, status and field a Salesforce client expects, and
 * the stored data is unchanged.
 * - SKU and name spoofing: a buyer's CartItem Name and Sku are copies of the product; an order
 *   line's Product2Id, Description and Sku are read from the Product2 record.
 * - Rounding to free: quantities follow the product's QuantityScale (whole units by default), and
 *   a priced product line can't round to 0.00 — at write time, in the pricing step for seeded
 *   lines, and at activation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestSchemas } from '../helpers/backends.js';
import { FLOW_BACKENDS } from '../flow/helpers.js';
import { ANSWERS, dump, refused, twoBuyers, V, type Buyers } from './helpers.js';
import type { Row } from '../../src/storage/port.js';

afterAll(dropTestSchemas);

const sob = (type: string, id?: string) => `${V}/sobjects/${type}${id ? `/${id}` : ''}`;

describe.each(FLOW_BACKENDS)('line attacks of issue 17 on $name', (backend) => {
  let s: Buyers;
  /** A 0.49 product sold in hundredths (QuantityScale 2) and a 0.49 product sold in whole units, both priced and stocked. */
  let nail: string;
  let screw: string;
  beforeAll(async () => {
    s = await twoBuyers(backend.location());
    const storage = s.t.engine.admin;
    const [link] = await storage.find('WebStorePricebook', { where: [{ field: 'WebStoreId', op: '=', value: s.storeId }], limit: 1 });
    const ids = await s.t.engine.seed({
      Product2: [
        { ref: 'nail', Name: 'Nail (by the hundredth)', StockKeepingUnit: 'NAIL-H', QuantityScale: 2 },
        { ref: 'screw', Name: 'Screw', StockKeepingUnit: 'SCREW-1' },
      ],
      PricebookEntry: [
        { Pricebook2Id: String(link!.Pricebook2Id), Product2Id: '@nail', UnitPrice: 0.49, IsActive: true },
        { Pricebook2Id: String(link!.Pricebook2Id), Product2Id: '@screw', UnitPrice: 0.49, IsActive: true },
      ],
      ProductInventory: [
        { Product2Id: '@nail', QuantityAvailable: 100000 },
        { Product2Id: '@screw', QuantityAvailable: 100000 },
      ],
    });
    nail = ids.nail!;
    screw = ids.screw!;
  });
  afterAll(async () => {
    await s.t.close();
    await s.t.engine.close();
  });

  const run = (cartId: string, stopAt?: string) =>
    s.t.engine.runCheckout(cartId, { userId: s.aId, answers: ANSWERS, ...(stopAt ? { stopAt } : {}) });
  const byCart = (cartId: string) => [{ field: 'CartId', op: '=' as const, value: cartId }];

  it("SKU and name spoofing: after the Taxes step A can't rename a line; the order line is read from its Product2", async () => {
    const { t, a, admin } = s;
    const storage = t.engine.admin;
    const { cartId, groupId, itemId } = await s.freshCartA();
    expect((await run(cartId, 'checkoutSummary')).status).toBe('stopped');
    const line = (await storage.get('CartItem', itemId))!;
    const product = (await storage.get('Product2', String(line.Product2Id)))!;
    const [other] = (await storage.find('Product2', { where: [{ field: 'Id', op: '!=', value: product.Id }], limit: 1 })) as Row[];
    const before = await dump(t);

    refused(
      await t.call('PATCH', sob('CartItem', itemId), { token: a, body: { Sku: other!.StockKeepingUnit, Name: other!.Name } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['Name', 'Sku'],
    );
    refused(await t.call('PATCH', sob('CartItem', itemId), { token: a, body: { Sku: 'SKU-2' } }), 400, 'INVALID_FIELD_FOR_INSERT_UPDATE', [
      'Sku',
    ]);
    refused(
      await t.call('PATCH', sob('CartItem', itemId), { token: a, body: { Name: 'Gadget' } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['Name'],
    );
    // A new line with a conflicting name or SKU is refused too, and one without a product has nothing to copy.
    refused(
      await t.call('POST', sob('CartItem'), {
        token: a,
        body: { CartId: cartId, CartDeliveryGroupId: groupId, Product2Id: product.Id, Name: 'Gadget', Sku: 'SKU-2', Quantity: 1 },
      }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      ['Name', 'Sku'],
    );
    refused(
      await t.call('POST', sob('CartItem'), {
        token: a,
        body: { CartId: cartId, CartDeliveryGroupId: groupId, Name: 'Gadget', Quantity: 1 },
      }),
      400,
      'REQUIRED_FIELD_MISSING',
      ['Product2Id'],
    );
    expect(await dump(t)).toEqual(before);
    // The product's own values are no change: accepted, and the checkout goes on.
    expect(
      (await t.call('PATCH', sob('CartItem', itemId), { token: a, body: { Name: product.Name, Sku: product.StockKeepingUnit } })).status,
    ).toBe(204);
    expect((await storage.get('WebCart', cartId))!.Status).toBe('Checkout');
    expect(await storage.get('CartItem', itemId)).toMatchObject({ Name: line.Name, Sku: line.Sku });

    // An administrator may rename a cart line (seeds, fixtures): the order line still reads the product.
    expect((await t.call('PATCH', sob('CartItem', itemId), { token: admin, body: { Name: 'Gadget', Sku: 'SKU-2' } })).status).toBe(204);
    const done = await run(cartId);
    expect(done.status, done.errors.join('; ')).toBe('complete');
    const [orderLine] = await storage.find('OrderItem', { where: [{ field: 'CartItemId', op: '=', value: itemId }] });
    expect(orderLine).toMatchObject({ Product2Id: product.Id, Description: product.Name, Sku: product.StockKeepingUnit });
  });

  it("a buyer's new line takes Name and Sku from its product", async () => {
    const { t, a } = s;
    const { cartId, groupId } = await s.freshCartA();
    const r = await t.call('POST', sob('CartItem'), {
      token: a,
      body: { CartId: cartId, CartDeliveryGroupId: groupId, Product2Id: screw, Quantity: 2 },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(await t.engine.admin.get('CartItem', r.body.id)).toMatchObject({
      Name: 'Screw',
      Sku: 'SCREW-1',
      SalesPrice: 0.49,
      TotalLineAmount: 0.98,
    });
  });

  it('rounding to free: fractional quantities only where the product allows them, and no priced line rounds to 0.00', async () => {
    const { t, a } = s;
    const storage = t.engine.admin;
    const { cartId, groupId, itemId } = await s.freshCartA();
    const before = await dump(t);
    const post = (product: string, Quantity: number) =>
      t.call('POST', sob('CartItem'), { token: a, body: { CartId: cartId, CartDeliveryGroupId: groupId, Product2Id: product, Quantity } });
    // Whole units by default: 0.01 and 1.5 of a screw are refused, naming Quantity.
    for (const q of [0.01, 1.5]) refused(await post(screw, q), 400, 'NUMBER_OUTSIDE_VALID_RANGE', ['Quantity']);
    refused(await t.call('PATCH', sob('CartItem', itemId), { token: a, body: { Quantity: 0.5 } }), 400, 'NUMBER_OUTSIDE_VALID_RANGE', [
      'Quantity',
    ]);
    // The exploit: 20 lines of 0.01 units of a 0.49 product sold in hundredths would each cost 0.00.
    for (let i = 0; i < 20; i++) refused(await post(nail, 0.01), 400, 'FIELD_INTEGRITY_EXCEPTION', ['Quantity']);
    expect(await dump(t)).toEqual(before);
    // 0.02 × 0.49 = 0.0098 rounds to 0.01: a priced line, taken.
    const ok = await post(nail, 0.02);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(await storage.get('CartItem', ok.body.id)).toMatchObject({ Quantity: 0.02, TotalLineAmount: 0.01 });
    refused(await t.call('PATCH', sob('CartItem', ok.body.id), { token: a, body: { Quantity: 0.01 } }), 400, 'FIELD_INTEGRITY_EXCEPTION', [
      'Quantity',
    ]);
    expect((await storage.get('CartItem', ok.body.id))!.Quantity).toBe(0.02);
  });

  it('seeded free or fractional lines fail the pricing step with an Error-level Pricing validation; no order is made', async () => {
    const { t } = s;
    const storage = t.engine.admin;
    const { cartId, groupId } = await s.freshCartA();
    const ids = await t.engine.seed({
      CartItem: [
        {
          ref: 'free',
          CartId: cartId,
          CartDeliveryGroupId: groupId,
          Product2Id: nail,
          Name: 'Nail (by the hundredth)',
          Sku: 'NAIL-H',
          Quantity: 0.01,
          SalesPrice: 0.49,
          ListPrice: 0.49,
        },
        {
          ref: 'half',
          CartId: cartId,
          CartDeliveryGroupId: groupId,
          Product2Id: screw,
          Name: 'Screw',
          Sku: 'SCREW-1',
          Quantity: 0.5,
          SalesPrice: 0.49,
          ListPrice: 0.49,
        },
      ],
    });
    const done = await run(cartId);
    expect(done.status, JSON.stringify(done)).toBe('error');
    expect(await storage.find('Order', { where: byCart(cartId) })).toHaveLength(0);
    const outputs = await storage.find('CartValidationOutput', { where: byCart(cartId) });
    const pricing = outputs.filter((o) => o.Type === 'Pricing' && o.Level === 'Error');
    expect(pricing.map((o) => o.RelatedEntityId).sort()).toEqual([ids.free, ids.half].sort());
    expect(pricing.map((o) => String(o.Message)).join(' ')).toMatch(
      /rounds to a line amount of 0\.00.*whole units|whole units.*rounds to a line amount of 0\.00/,
    );
  });

  it('activation refuses an order line that rounds to free (an edited draft order): the order stays Draft', async () => {
    const { t, admin } = s;
    const storage = t.engine.admin;
    const { cartId, itemId } = await s.freshCartA();
    expect((await run(cartId, 'authorizePayment')).status).toBe('stopped');
    const [order] = await storage.find('Order', { where: byCart(cartId) });
    const [orderLine] = await storage.find('OrderItem', { where: [{ field: 'CartItemId', op: '=', value: itemId }] });
    expect(
      (
        await t.call('PATCH', sob('OrderItem', String(orderLine!.Id)), {
          token: admin,
          body: { Product2Id: nail, Quantity: 0.01, UnitPrice: 0.49 },
        })
      ).status,
    ).toBe(204);
    // Refused up front by the completion invariant (docs/guarantees.md): the call fails, nothing changes.
    await expect(run(cartId)).rejects.toThrow(/\[line-not-free-by-rounding\].*rounds to a line amount of 0\.00/);
    expect((await storage.get('Order', String(order!.Id)))!.Status).toBe('Draft');
    expect(await storage.find('OrderSummary', { where: [{ field: 'OriginalOrderId', op: '=', value: order!.Id }] })).toHaveLength(0);
  });
});
