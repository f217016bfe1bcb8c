/**
 * Every entry of the completion-invariant table, broken on its own in every built-in flow (default,
 * salesforce-reentrant, salesforce-main): cartToOrderAction (where the entry applies) and
 * activateOrderAction are refused with the entry's code and status, and no stored record changes.
 * The breaks are writes an integrator or seeded data could make (through storage, past the record
 * API's rules), so the engine's own checks are what stands in the way.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckoutEngine } from '../../src/index.js';
import { COMPLETION_INVARIANTS, type CompletionPoint } from '../../src/domain/completion-invariants.js';
import { ERRORS } from '../../src/errors.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { CA_ADDRESS, FLOW_BACKENDS, cartOn, rows, sharedEngine } from '../flow/helpers.js';
import { dump } from '../security/helpers.js';

afterAll(dropTestSchemas);

type Flow = 'default' | 'salesforce-reentrant' | 'salesforce-main';
const FLOWS: Flow[] = ['default', 'salesforce-reentrant', 'salesforce-main'];

/** Runs the buyer's checkout in `flow` until `point`'s action is claimed and about to be invoked; returns its input. */
async function ready(
  engine: CheckoutEngine,
  flow: Flow,
  point: CompletionPoint,
  adminId: string,
  cartId: string,
  userId: string,
): Promise<Record<string, unknown>> {
  const inv = async (action: string, input: Record<string, unknown>) => {
    const [r] = await engine.invoke(action, [input], { userId });
    expect(r!.isSuccess, `${action}: ${JSON.stringify(r!.errors)}`).toBe(true);
    return r!.outputValues ?? {};
  };
  const write = (type: string, id: string, fields: Record<string, unknown>) => engine.updateRecord(type, id, fields, { userId });
  if (flow === 'default') {
    const stopAt = point === 'cartToOrder' ? 'checkoutSummary' : 'authorizePayment';
    const run = await engine.runCheckout(cartId, { userId, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-1' }, stopAt });
    expect(run.status, run.errors.join('; ')).toBe('stopped');
    const [s] = await rows(engine, 'CartCheckoutSession', { WebCartId: cartId, IsArchived: false });
    const next = point === 'cartToOrder' ? 'cartToOrder' : 'activateOrder';
    await inv('updateCheckoutSessionStateAction', { checkoutSessionId: s!.Id, expCurrentState: stopAt, nextState: next });
    return { cartId };
  }
  const session = String((await inv('checkoutSessionAction', { cartId, initialState: 'Start' })).requestId);
  if (flow === 'salesforce-reentrant') {
    for (const g of await rows(engine, 'CartDeliveryGroup', { CartId: cartId })) await write('CartDeliveryGroup', String(g.Id), CA_ADDRESS);
    await write('CartCheckoutSession', session, { State: 'Inventory' });
    const step = async (state: string, next: string, action: string) => {
      await inv('updateCheckoutSessionStateAction', { checkoutSessionId: session, expCurrentState: state, nextState: next });
      await inv(action, { cartId });
    };
    await step('Inventory', 'Confirm Price', 'checkCartInventoryAction');
    await step('Confirm Price', 'Calculate Promotions', 'priceCart');
    await step('Calculate Promotions', 'Shipping Cost', 'calcCartPromotionsAction');
    await step('Shipping Cost', 'Delivery Method', 'calcCartShipmentAction');
    const [option] = await rows(engine, 'CartDeliveryGroupMethod', { WebCartId: cartId });
    await inv('setCheckoutDeliveryMethod', { cartId, deliveryMethodId: option!.DeliveryMethodId });
    await write('CartCheckoutSession', session, { State: 'Taxes' });
    await step('Taxes', 'Payment And Billing Address', 'calcCartTaxesAction');
    await write('WebCart', cartId, { PoNumber: 'PO-REENTRANT' });
    await write('CartCheckoutSession', session, { State: 'Checkout Summary' });
    await write('CartCheckoutSession', session, { State: 'Cart To Order' });
    await inv('updateCheckoutSessionStateAction', {
      checkoutSessionId: session,
      expCurrentState: 'Cart To Order',
      nextState: 'Authorize Payment',
    });
    if (point === 'cartToOrder') return { cartId };
    await inv('cartToOrderAction', { cartId });
    await write('CartCheckoutSession', session, { State: 'Activate Order' });
    await inv('updateCheckoutSessionStateAction', {
      checkoutSessionId: session,
      expCurrentState: 'Activate Order',
      nextState: 'Order Confirmation',
    });
    return { cartId };
  }
  await write('CartCheckoutSession', session, { State: 'Pre-Pricing', NextState: 'Post-Pricing' });
  await inv('priceCart', { cartId });
  await write('CartCheckoutSession', session, { State: 'Pre-Promotions', NextState: 'Post-Promotions' });
  await inv('calcCartPromotionsAction', { cartId });
  const [method] = await rows(engine, 'OrderDeliveryMethod', { IsActive: true });
  for (const group of await rows(engine, 'CartDeliveryGroup', { CartId: cartId })) {
    await engine.createRecord(
      'CartDeliveryGroupMethod',
      { CartDeliveryGroupId: group.Id, WebCartId: cartId, DeliveryMethodId: method!.Id, Name: String(method!.Name), ShippingFee: 10 },
      { userId: adminId },
    );
  }
  await inv('setCheckoutDeliveryMethod', { cartId, deliveryMethodId: method!.Id });
  await write('WebCart', cartId, { PoNumber: 'PO-MAIN' });
  await write('CartCheckoutSession', session, { NextState: 'Authorize Payment' });
  if (point === 'cartToOrder') return { cartId, runAsync: false };
  await inv('cartToOrderAction', { cartId, runAsync: false });
  await write('CartCheckoutSession', session, { NextState: 'Activate Order' });
  return { cartId, orderStatus: 'Activated', runAsync: false };
}

/** The cart's first product line, or its order's once the checkout made one. */
async function productLine(
  engine: CheckoutEngine,
  cartId: string,
): Promise<{ object: 'CartItem' | 'OrderItem'; line: Record<string, unknown> }> {
  const [session] = await rows(engine, 'CartCheckoutSession', { WebCartId: cartId, IsArchived: false });
  if (session?.OrderId) {
    const [line] = await rows(engine, 'OrderItem', { OrderId: session.OrderId, Type: 'Order Product' });
    return { object: 'OrderItem', line: line! };
  }
  const [line] = await rows(engine, 'CartItem', { CartId: cartId, Type: 'Product' });
  return { object: 'CartItem', line: line! };
}

/** Breaks one invariant the way an integrator's or a seed's write could (storage, past the record API). */
const BREAKS: Record<string, (engine: CheckoutEngine, cartId: string) => Promise<void>> = {
  'lines-in-groups': async (engine, cartId) => {
    const [item] = await rows(engine, 'CartItem', { CartId: cartId, Type: 'Product' });
    await engine.core.storage.transaction((tx) => tx.update('CartItem', String(item!.Id), { CartDeliveryGroupId: '0a7000000000000AAA' }));
  },
  // The line rules read the cart's lines at Cart to Order and the order's own lines at activation.
  'line-quantity-scale': async (engine, cartId) => {
    const { object, line } = await productLine(engine, cartId);
    await engine.core.storage.transaction((tx) => tx.update(object, String(line.Id), { Quantity: 1.5 }));
  },
  'line-not-free-by-rounding': async (engine, cartId) => {
    const { object, line } = await productLine(engine, cartId);
    await engine.core.storage.transaction(async (tx) => {
      await tx.update('Product2', String(line.Product2Id), { QuantityScale: 2 });
      await tx.update(
        object,
        String(line.Id),
        object === 'OrderItem' ? { Quantity: 0.01, UnitPrice: 0.49 } : { Quantity: 0.01, SalesPrice: 0.49 },
      );
    });
  },
  'ship-to-address': async (engine, cartId) => {
    const [g] = await rows(engine, 'CartDeliveryGroup', { CartId: cartId });
    await engine.core.storage.transaction((tx) =>
      tx.update('CartDeliveryGroup', String(g!.Id), { DeliverToStreet: null, DeliverToCountry: null }),
    );
  },
  'delivery-method-chosen': async (engine, cartId) => {
    const [g] = await rows(engine, 'CartDeliveryGroup', { CartId: cartId });
    await engine.core.storage.transaction((tx) => tx.update('CartDeliveryGroup', String(g!.Id), { DeliveryMethodId: null }));
  },
  'computations-current': async (engine, cartId) => {
    const [item] = await rows(engine, 'CartItem', { CartId: cartId, Type: 'Product' });
    await engine.core.storage.transaction((tx) => tx.update('CartItem', String(item!.Id), { SalesPrice: 0.01 }));
  },
  'stock-held': async (engine, cartId) => {
    const storage = engine.core.storage;
    const products = (await rows(engine, 'CartItem', { CartId: cartId, Type: 'Product' })).map((i) => String(i.Product2Id));
    await storage.transaction(async (tx) => {
      await tx.updateWhere('ProductReservation', [{ field: 'WebCartId', op: '=', value: cartId }], { Status: 'Released' });
      for (const inv of await tx.find('ProductInventory', { where: [{ field: 'Product2Id', op: 'in', value: products }] })) {
        await tx.update('ProductInventory', String(inv.Id), { QuantityReserved: inv.QuantityAvailable });
      }
    });
  },
  'payment-settled': async (engine, cartId) => {
    const [s] = await rows(engine, 'CartCheckoutSession', { WebCartId: cartId, IsArchived: false });
    await engine.core.storage.transaction((tx) => tx.update('Order', String(s!.OrderId), { PoNumber: null }));
  },
};

async function stockDump(engine: CheckoutEngine) {
  const byId = (a: Record<string, unknown>, b: Record<string, unknown>) => String(a.Id).localeCompare(String(b.Id));
  return {
    reservations: (await engine.admin.find('ProductReservation', {})).sort(byId),
    inventory: (await engine.admin.find('ProductInventory', {})).sort(byId),
  };
}

/**
 * The catalog rows a break may change (a line's product's QuantityScale, the stock of the cart's
 * products), as they are now; `restore` writes back every row that differs, so the next test's
 * cart on the same store starts from an intact catalog.
 */
async function catalogSnapshot(engine: CheckoutEngine) {
  const objects = ['Product2', 'ProductInventory'] as const;
  const before = new Map<string, Record<string, unknown>[]>();
  for (const o of objects) before.set(o, await engine.admin.find(o, {}));
  return {
    async restore() {
      for (const o of objects) {
        const now = new Map((await engine.admin.find(o, {})).map((r) => [String(r.Id), r]));
        for (const row of before.get(o)!) {
          const { Id, ...fields } = row;
          const changed = Object.keys(fields).filter((k) => JSON.stringify(now.get(String(Id))?.[k]) !== JSON.stringify(fields[k]));
          if (changed.length === 0) continue;
          await engine.core.storage.transaction((tx) => tx.update(o, String(Id), Object.fromEntries(changed.map((k) => [k, fields[k]]))));
        }
      }
    },
  };
}

describe.each(FLOW_BACKENDS)('completion invariants on $name', (backend) => {
  it('the table has a break for every entry (adding an entry needs its break here)', () => {
    expect(Object.keys(BREAKS).sort()).toEqual(COMPLETION_INVARIANTS.map((i) => i.id).sort());
  });

  for (const flow of FLOWS) {
    describe(`${flow} flow`, () => {
      // One store per flow (a fresh PostgreSQL schema costs seconds), a fresh cart per point; the
      // catalog rows a break changes are put back after each point (see catalogSnapshot).
      const store = sharedEngine(backend.location, { defaultFlow: flow });

      for (const invariant of COMPLETION_INVARIANTS) {
        it(`${invariant.id} broken in ${flow}: ${invariant.when.join(' and ')} refused with ${ERRORS[invariant.error].code}, nothing changed`, async () => {
          const engine = store.get();
          for (const point of invariant.when) {
            const { cartId, as, adminId } = await cartOn(engine, { lines: 2 });
            const input = await ready(engine, flow, point, adminId, cartId, as.userId);
            const catalog = await catalogSnapshot(engine);
            try {
              await BREAKS[invariant.id]!(engine, cartId);
              const before = { records: await dump({ engine } as never), stock: await stockDump(engine) };
              const action = point === 'cartToOrder' ? 'cartToOrderAction' : 'activateOrderAction';
              const [r] = await engine.invokeAny(action, [input], { userId: as.userId });
              expect(r!.isSuccess, `${flow} ${point}`).toBe(false);
              expect({ code: r!.errors![0]!.statusCode, status: r!.httpStatus }).toEqual({
                code: ERRORS[invariant.error].code,
                status: ERRORS[invariant.error].status,
              });
              expect(r!.errors![0]!.message).toContain(`[${invariant.id}]`);
              expect({ records: await dump({ engine } as never), stock: await stockDump(engine) }).toEqual(before);
            } finally {
              await engine.whenIdle();
              await catalog.restore();
            }
          }
        });
      }
    });
  }
});

describe.each(FLOW_BACKENDS)('completion invariants at a runAsync step commit on $name', (backend) => {
  it('facts changed between the runAsync call and the worker commit: the step fails there (operation Error, CartValidationOutput), no order', async () => {
    const { engineWithClaimedCart } = await import('../helpers/engine.js');
    const { engine, ids } = await engineWithClaimedCart(backend.location(), {}, { workerConcurrency: 0 });
    try {
      const [r] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart, runAsync: true }], { userId: ids.buyer! });
      expect(r!.isSuccess, JSON.stringify(r!.errors)).toBe(true);
      const opId = String(r!.outputValues!.backgroundOperationId);
      await engine.core.storage.transaction((tx) => tx.update('CartDeliveryGroup', ids.group0!, { DeliveryMethodId: null }));
      await engine.worker.run(opId);
      const op = (await engine.admin.get('BackgroundOperation', opId))!;
      expect(op.Status).toBe('Error');
      expect(String(op.Error)).toContain('[delivery-method-chosen]');
      const outputs = await rows(engine, 'CartValidationOutput', { BackgroundOperationId: opId });
      expect(outputs.map((o) => o.Level)).toEqual(['Error']);
      expect(await rows(engine, 'Order', { CartId: ids.cart })).toEqual([]);
      expect((await engine.admin.get('CartCheckoutSession', ids.session!))!.IsError).toBe(true);
    } finally {
      await engine.close();
    }
  });
});
