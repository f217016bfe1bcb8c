/**
 * The whole default flow, end to end through engine.runCheckout: a cart of 1, 50 and 2,000 lines
 * across several delivery groups goes from Active to Closed with an Activated Order and its
 * OrderSummary, on SQLite and PostgreSQL, and every integration's effect is visible in the records.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_FLOW } from '../../src/index.js';
import { sumMoney } from '../../src/domain/money.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { CA_ADDRESS, cartOn, sharedEngine, FLOW_BACKENDS, rows } from './helpers.js';

afterAll(dropTestSchemas);

const SHAPES = [
  { lines: 1, groups: 1 },
  { lines: 50, groups: 3 },
  { lines: 2000, groups: 4 },
];

describe.each(FLOW_BACKENDS)('happy path on $name', (backend) => {
  const shared = sharedEngine(backend.location);
  for (const shape of SHAPES) {
    it(`a cart of ${shape.lines} line(s) in ${shape.groups} group(s) becomes a Closed cart with an Activated Order and an OrderSummary`, async () => {
      const { engine, cartId, as } = await cartOn(shared.get(), shape);
      const reservedBefore = sumMoney((await rows(engine, 'ProductInventory')).map((p) => Number(p.QuantityReserved)));
      try {
        const run = await engine.runCheckout(cartId, { userId: as.userId, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-42' } });
        expect(run.status, run.errors.join('; ')).toBe('complete');
        expect(run.state).toBe('complete');
        // The trajectory is the default flow, in order, each async step with its own Complete operation.
        expect(run.trajectory.map((t) => t.state)).toEqual(DEFAULT_FLOW.steps.map((s) => s.key));
        for (const t of run.trajectory) {
          expect(t.durationMs).toBeGreaterThanOrEqual(0);
          if (t.kind === 'async' || t.kind === 'sync') {
            expect(t.operationId).toMatch(/^0Yb/);
            expect(t.status).toBe('Complete');
          }
        }
        expect(new Set(run.trajectory.map((t) => t.operationId).filter(Boolean)).size).toBe(8);

        const cart = (await engine.admin.get('WebCart', cartId))!;
        expect(cart.Status).toBe('Closed');
        const order = (await engine.admin.get('Order', run.orderId!))!;
        expect(order.Status).toBe('Activated');
        expect(order.PoNumber).toBe('PO-42');
        const [summary] = await rows(engine, 'OrderSummary', { OriginalOrderId: run.orderId });
        expect(summary!.Id).toBe(run.orderSummaryId);
        expect(summary!.OrderLifeCycleType).toBe('UNMANAGED');

        const items = await rows(engine, 'CartItem', { CartId: cartId });
        const products = items.filter((i) => i.Type === 'Product');
        const charges = items.filter((i) => i.Type === 'Charge');
        expect(products).toHaveLength(shape.lines);
        // Delivery method: the cheapest (Ground, flat 9.99) charge in every group.
        expect(charges).toHaveLength(shape.groups);
        for (const c of charges) expect(c.SalesPrice).toBe(9.99);
        expect(await rows(engine, 'CartDeliveryGroupMethod', { WebCartId: cartId })).toHaveLength(shape.groups * 2);
        // Taxes: California 7.25% on every taxable line, rolled up into the cart and copied to the order.
        const taxes = await rows(engine, 'CartTax', { CartId: cartId });
        expect(taxes.length).toBe(items.filter((i) => Number(i.TotalPrice) !== 0).length);
        for (const t of taxes) expect(t.TaxRate).toBe(0.0725);
        expect(cart.TotalTaxAmount).toBe(sumMoney(taxes.map((t) => Number(t.Amount))));
        expect(cart.GrandTotalAmount).toBe(
          sumMoney([Number(cart.TotalProductAmount), Number(cart.TotalChargeAmount), Number(cart.TotalTaxAmount)]),
        );
        expect(order.GrandTotalAmount).toBe(cart.GrandTotalAmount);
        expect(order.TotalTaxAmount).toBe(cart.TotalTaxAmount);
        // Promotions: 5% off the cart, plus 2.00 off Widget 1's line.
        expect(cart.TotalAdjustmentAmount).toBeLessThan(0);
        // Inventory: every ordered unit is reserved.
        const reserved = sumMoney((await rows(engine, 'ProductInventory')).map((p) => Number(p.QuantityReserved)));
        expect(reserved - reservedBefore).toBe(sumMoney(products.map((p) => Number(p.Quantity))));
        expect(await engine.admin.count('OrderItem', [{ field: 'OrderId', op: '=', value: run.orderId }])).toBe(items.length);
        // Lines beyond the 50 catalog products carry demo prices that differ from the price book: reported as warnings.
        const warnings = await rows(engine, 'CartValidationOutput', { CartId: cartId, Level: 'Warning' });
        if (shape.lines <= 50) expect(warnings).toHaveLength(0);
        else expect(warnings.length).toBeGreaterThan(0);
        for (const w of warnings) expect(w.Type).toBe('Pricing');
      } finally {
        await engine.whenIdle();
      }
    }, 120_000);
  }
});
