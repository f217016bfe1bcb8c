/**
 * Concurrent checkouts of the same products: reservations serialize in the commit transaction, so
 * both succeed when stock covers both, and exactly one gets the last units when it covers one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dropTestSchemas } from '../helpers/backends.js';
import { cartOn, CA_ADDRESS, FLOW_BACKENDS, sharedEngine } from './helpers.js';

afterAll(dropTestSchemas);

for (const backend of FLOW_BACKENDS) {
  describe(`inventory under concurrency on ${backend.name}`, () => {
    const shared = sharedEngine(backend.location);

    const stockOf = async (adminId: string) =>
      (
        await shared.get().query('SELECT Id, Product2Id, QuantityAvailable, QuantityReserved FROM ProductInventory ORDER BY Product2Id', {
          userId: adminId,
        })
      ).records;

    it('two checkouts of the same products both reserve when stock covers both', async () => {
      const engine = shared.get();
      const a = await cartOn(engine, { lines: 4, groups: 1 });
      const b = await cartOn(engine, { lines: 4, groups: 1 });
      const before = await stockOf(a.adminId);
      const runs = await Promise.all(
        [a, b].map((c) =>
          engine.runCheckout(c.cartId, {
            userId: c.buyerId,
            answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-9' },
            stopAt: 'inventory',
          }),
        ),
      );
      expect(runs.map((r) => r.status)).toEqual(['stopped', 'stopped']);
      const after = await stockOf(a.adminId);
      const items = (
        await engine.query(`SELECT Product2Id, Quantity FROM CartItem WHERE CartId = '${a.cartId}' AND Type = 'Product'`, a.as)
      ).records;
      for (const row of after) {
        const per = items.filter((i) => i.Product2Id === row.Product2Id).reduce((s, i) => s + (i.Quantity as number), 0);
        const was = before.find((r) => r.Id === row.Id)!;
        expect(row.QuantityReserved).toBe((was.QuantityReserved as number) + 2 * per);
      }
    });

    it('when stock covers one cart only, exactly one checkout gets it and the other fails with an Inventory validation', async () => {
      const engine = shared.get();
      const a = await cartOn(engine, { lines: 1, groups: 1 });
      const b = await cartOn(engine, { lines: 1, groups: 1 });
      const [line] = (
        await engine.query(`SELECT Product2Id, Quantity, Sku FROM CartItem WHERE CartId = '${a.cartId}' AND Type = 'Product'`, a.as)
      ).records;
      const [stock] = (
        await engine.query(`SELECT Id, QuantityReserved FROM ProductInventory WHERE Product2Id = '${line!.Product2Id}'`, {
          userId: a.adminId,
        })
      ).records;
      await engine.updateRecord(
        'ProductInventory',
        stock!.Id as string,
        { QuantityAvailable: (stock!.QuantityReserved as number) + (line!.Quantity as number) },
        { userId: a.adminId },
      );
      const runs = await Promise.all(
        [a, b].map((c) =>
          engine.runCheckout(c.cartId, {
            userId: c.buyerId,
            answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-9' },
            stopAt: 'inventory',
          }),
        ),
      );
      expect(runs.map((r) => r.status).sort()).toEqual(['error', 'stopped']);
      const loser = runs.find((r) => r.status === 'error')!;
      expect(loser.errors.join(' ')).toMatch(new RegExp(`Insufficient quantity for SKU ${line!.Sku}`));
      const cvos = (
        await engine.query(`SELECT Type, Level FROM CartValidationOutput WHERE CartId = '${loser.cartId}'`, { userId: a.adminId })
      ).records;
      expect(cvos).toContainEqual(expect.objectContaining({ Type: 'Inventory', Level: 'Error' }));
      const [after] = (
        await engine.query(`SELECT QuantityAvailable, QuantityReserved FROM ProductInventory WHERE Id = '${stock!.Id}'`, {
          userId: a.adminId,
        })
      ).records;
      expect(after!.QuantityReserved).toBe(after!.QuantityAvailable);
    });
  });
}
