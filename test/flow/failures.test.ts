/**
 * Every way a step can go wrong ends in a clear, recoverable state: State `error`, IsError, the
 * operation's Error message and CartValidationOutput rows of the step's Type; nothing the failing
 * integration staged is written; the way out is cancel and a new checkout, which then works.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { CartProcessor } from '../../src/integrations/contract.js';
import { DEFAULT_INTEGRATIONS } from '../../src/integrations/defaults.js';
import { TestPaymentGateway } from '../../src/integrations/payment.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { activeSession, CA_ADDRESS, call, cartOn, sharedEngine, FLOW_BACKENDS, ok, rows } from './helpers.js';
import type { CheckoutEngine } from '../../src/index.js';

afterAll(dropTestSchemas);

const CALCULATORS = [
  { name: 'inventory', state: 'inventory', type: 'Inventory' },
  { name: 'pricing', state: 'confirmPrice', type: 'Pricing' },
  { name: 'promotions', state: 'calculatePromotions', type: 'Promotions' },
  { name: 'shipping', state: 'shippingCost', type: 'Shipping' },
  { name: 'taxes', state: 'taxes', type: 'Taxes' },
] as const;

/** Ways an integration misbehaves, and the operation Error each must produce. */
const MISBEHAVIOURS: { what: string; make: (name: string) => CartProcessor; error: RegExp }[] = [
  {
    what: 'returns FAILED without a message',
    make: () => ({ startCartProcessAsync: async () => ({ status: 'FAILED' }) }),
    error: /integration failed/,
  },
  {
    what: 'returns FAILED with its own CartValidationOutput',
    make: () => ({
      startCartProcessAsync: async (_i, cartId, data) => {
        data.insert('CartTax', { CartItemId: (await data.items())[0]!.Id, Name: 'Staged', Amount: 1 });
        data.addValidation({ Message: 'The external service said no.', RelatedEntityId: cartId });
        return { status: 'FAILED' };
      },
    }),
    error: /^The external service said no\.$/,
  },
  {
    what: 'throws',
    make: () => ({
      startCartProcessAsync: async () => {
        throw new Error('connection reset');
      },
    }),
    error: /connection reset/,
  },
  { what: 'hangs past the timeout', make: () => ({ startCartProcessAsync: () => new Promise(() => {}) }), error: /timed out after 600 ms/ },
  {
    what: 'answers nonsense',
    make: () => ({ startCartProcessAsync: async () => ({ status: 'MAYBE' }) as never }),
    error: /invalid status/,
  },
  {
    what: 'writes outside its cart',
    make: () => ({
      startCartProcessAsync: async (_i, _c, data) => (
        data.update('WebCart', String(data.cart.Id), { Name: 'hacked' }),
        { status: 'SUCCESS' }
      ),
    }),
    error: /integration write refused: integrations can't update WebCart/,
  },
];

async function expectErrorState(engine: CheckoutEngine, cartId: string, type: string, message: RegExp) {
  const s = (await activeSession(engine, cartId))!;
  expect([s.State, s.NextState, s.IsProcessing, s.IsError]).toEqual(['error', null, false, true]);
  const op = (await engine.admin.get('BackgroundOperation', String(s.BackgroundOperationId)))!;
  expect(op.Status).toBe('Error');
  expect(String(op.Error)).toMatch(message);
  const cvos = await rows(engine, 'CartValidationOutput', { BackgroundOperationId: op.Id });
  expect(cvos.length).toBeGreaterThan(0);
  for (const v of cvos) expect([v.Type, v.Level, v.CartId]).toEqual([type, 'Error', cartId]);
  expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Checkout');
  return { session: s, op, cvos };
}

describe.each(FLOW_BACKENDS)('step failures on $name', (backend) => {
  const gateway = new TestPaymentGateway();
  const shared = sharedEngine(backend.location, { stepTimeoutMs: 600, paymentGateway: gateway });
  it('a failing, throwing, slow or misbehaving integration ends each calculator step in error; cancel and a new checkout recover', async () => {
    const { engine, cartId, as } = await cartOn(shared.get(), { lines: 3, groups: 2 });
    try {
      for (const calc of CALCULATORS) {
        for (const m of MISBEHAVIOURS) {
          engine.registerIntegration(calc.name, m.make(calc.name));
          const run = await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-1' } });
          expect(run.status, `${calc.name} ${m.what}`).toBe('error');
          expect(run.trajectory.at(-1)).toMatchObject({ state: calc.state, status: 'Error' });
          expect(run.errors[0]).toMatch(m.error);
          const { session } = await expectErrorState(engine, cartId, calc.type, m.error);
          // Nothing the failing integration staged was written.
          expect(await rows(engine, 'CartTax', { Name: 'Staged' })).toHaveLength(0);
          expect((await engine.admin.get('WebCart', cartId))!.Name).not.toBe('hacked');
          // Screen moves and claims are refused in error; cancel is the way out.
          await expect(
            engine.updateRecord('CartCheckoutSession', String(session.Id), { State: 'deliveryMethod' }, as),
          ).rejects.toMatchObject({ code: 'INVALID_OPERATION' });
          ok(await call(engine, 'cancelCartAsyncOperation', { cartId }, as.userId));
          expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Active');
        }
        engine.registerIntegration(calc.name, DEFAULT_INTEGRATIONS[calc.name]!);
      }
      const run = await engine.runCheckout(cartId, { ...as, answers: { poNumber: 'PO-1' } });
      expect(run.status).toBe('complete');
      expect(run.trajectory[0]!.state).toBe('start');
    } finally {
      await engine.whenIdle();
    }
  }, 120_000);

  it('the default integrations fail on their data: short stock, no price, a bad promotion, no delivery method', async () => {
    const { engine, cartId, as, adminId } = await cartOn(shared.get(), { lines: 3 });
    const admin = { userId: adminId };
    try {
      const [item] = (await rows(engine, 'CartItem', { CartId: cartId, Type: 'Product' })).sort((a, b) =>
        String(a.Sku).localeCompare(String(b.Sku)),
      );
      const [stock] = await rows(engine, 'ProductInventory', { Product2Id: item!.Product2Id });
      const [entry] = await rows(engine, 'PricebookEntry', { Product2Id: item!.Product2Id });
      const cases: { state: string; type: string; message: RegExp; breakIt: () => Promise<unknown>; fixIt: () => Promise<unknown> }[] = [
        {
          state: 'inventory',
          type: 'Inventory',
          message: new RegExp(`Insufficient quantity for SKU ${String(item!.Sku)}: ${String(item!.Quantity)} requested, 0 available`),
          breakIt: () => engine.updateRecord('ProductInventory', String(stock!.Id), { QuantityAvailable: 0 }, admin),
          fixIt: () => engine.updateRecord('ProductInventory', String(stock!.Id), { QuantityAvailable: 1000, QuantityReserved: 0 }, admin),
        },
        {
          state: 'confirmPrice',
          type: 'Pricing',
          message: new RegExp(`No price is available for SKU ${String(item!.Sku)}`),
          breakIt: () => engine.updateRecord('PricebookEntry', String(entry!.Id), { IsActive: false }, admin),
          fixIt: () => engine.updateRecord('PricebookEntry', String(entry!.Id), { IsActive: true }, admin),
        },
        {
          state: 'calculatePromotions',
          type: 'Promotions',
          message: /Promotion 'Too good' has an invalid DiscountValue \(150\)/,
          breakIt: () => engine.createRecord('Promotion', { Name: 'Too good', DiscountType: 'Percentage', DiscountValue: 150 }, admin),
          fixIt: async () => {
            const [p] = await rows(engine, 'Promotion', { Name: 'Too good' });
            await engine.deleteRecord('Promotion', String(p!.Id), admin);
          },
        },
        {
          state: 'shippingCost',
          type: 'Shipping',
          message: /No delivery method is available/,
          breakIt: async () => {
            for (const m of await rows(engine, 'OrderDeliveryMethod'))
              await engine.updateRecord('OrderDeliveryMethod', String(m.Id), { IsActive: false }, admin);
          },
          fixIt: async () => {
            for (const m of await rows(engine, 'OrderDeliveryMethod'))
              await engine.updateRecord('OrderDeliveryMethod', String(m.Id), { IsActive: true }, admin);
          },
        },
      ];
      for (const c of cases) {
        await c.breakIt();
        const run = await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-1' } });
        expect(run.status, c.state).toBe('error');
        expect(run.trajectory.at(-1)!.state).toBe(c.state);
        const { cvos } = await expectErrorState(engine, cartId, c.type, c.message);
        expect(cvos.map((v) => v.Message).join('\n')).toMatch(c.message);
        ok(await call(engine, 'cancelCartAsyncOperation', { cartId }, as.userId));
        await c.fixIt();
      }
      const run = await engine.runCheckout(cartId, { ...as, answers: { poNumber: 'PO-1' } });
      expect(run.status, run.errors.join()).toBe('complete');
    } finally {
      await engine.whenIdle();
    }
  });

  it('payment: a declined card, a failing gateway and missing payment information fail authorizePayment; a card that authorizes completes', async () => {
    const { engine, cartId, as } = await cartOn(shared.get(), { lines: 2 });
    try {
      await engine.updateRecord('WebCart', cartId, { PoNumber: null }, as);
      const cases = [
        { answers: {}, message: /^Cannot complete order\. Missing Payment Information\.$/ },
        { answers: { paymentMethodId: 'pm_test_decline' }, message: /^Payment declined: Your card was declined\.$/ },
        { answers: { paymentMethodId: 'pm_test_error' }, message: /test payment gateway is unavailable/ },
      ];
      for (const c of cases) {
        const run = await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS, ...c.answers } });
        expect(run.status).toBe('error');
        expect(run.trajectory.at(-1)).toMatchObject({ state: 'authorizePayment', kind: 'sync', status: 'Error' });
        expect(run.errors[0]).toMatch(c.message);
        const { session } = await expectErrorState(engine, cartId, 'Other', c.message);
        // The draft order exists but was never activated.
        expect((await engine.admin.get('Order', String(session.OrderId)))!.Status).toBe('Draft');
        expect(await rows(engine, 'OrderSummary', { OriginalOrderId: session.OrderId })).toHaveLength(0);
        ok(await call(engine, 'cancelCartAsyncOperation', { cartId }, as.userId));
      }
      const run = await engine.runCheckout(cartId, { ...as, answers: { paymentMethodId: 'pm_test_visa' } });
      expect(run.status).toBe('complete');
      const order = (await engine.admin.get('Order', run.orderId!))!;
      expect(order.PaymentMethodId).toBe('pm_test_visa');
      expect(order.PaymentAuthorizationCode).toMatch(/^TEST-/);
      const last = gateway.requests.at(-1)!;
      expect(last).toMatchObject({
        orderId: run.orderId,
        paymentMethodId: 'pm_test_visa',
        amount: order.GrandTotalAmount,
        currencyIsoCode: 'USD',
      });
    } finally {
      await engine.whenIdle();
    }
  });

  it('a zero-total order needs no payment information', async () => {
    const { engine, cartId, as, adminId } = await cartOn(shared.get(), { lines: 1 });
    try {
      const admin = { userId: adminId };
      await engine.updateRecord('WebCart', cartId, { PoNumber: null }, as);
      const entries = await rows(engine, 'PricebookEntry');
      const methods = await rows(engine, 'OrderDeliveryMethod');
      try {
        for (const e of entries) await engine.updateRecord('PricebookEntry', String(e.Id), { UnitPrice: 0 }, admin);
        for (const m of methods)
          await engine.updateRecord('OrderDeliveryMethod', String(m.Id), { ShippingFee: 0, ShippingFeePerUnit: 0 }, admin);
        const run = await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS } });
        expect(run.status, run.errors.join()).toBe('complete');
        expect((await engine.admin.get('Order', run.orderId!))!.GrandTotalAmount).toBe(0);
      } finally {
        for (const e of entries) await engine.updateRecord('PricebookEntry', String(e.Id), { UnitPrice: e.UnitPrice }, admin);
        for (const m of methods)
          await engine.updateRecord(
            'OrderDeliveryMethod',
            String(m.Id),
            { ShippingFee: m.ShippingFee, ShippingFeePerUnit: m.ShippingFeePerUnit },
            admin,
          );
      }
    } finally {
      await engine.whenIdle();
    }
  });
});
