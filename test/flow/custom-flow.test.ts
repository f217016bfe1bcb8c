/**
 * Custom flows: a store can drop optional steps, reorder them, or add its own async step run by its
 * own integration, and register its own calculators; flow definitions are validated at load with
 * errors that name every problem.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, DEFAULT_FLOW, mintId, validateFlow, type FlowDefinition, type FlowStep } from '../../src/index.js';
import type { CartProcessor } from '../../src/integrations/contract.js';
import type { CheckoutEngine } from '../../src/index.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { activeSession, CA_ADDRESS, call, cartOn, failure, FLOW_BACKENDS, ok, rows, sharedEngine } from './helpers.js';

afterAll(dropTestSchemas);

const step = (key: string) => DEFAULT_FLOW.steps.find((s) => s.key === key)!;
const without = (...keys: string[]) => DEFAULT_FLOW.steps.filter((s) => !keys.includes(s.key));

/** No promotions, no payment authorization (PO-only store). */
const LEAN: FlowDefinition = { id: 'lean', steps: without('calculatePromotions', 'authorizePayment') };
/** Prices confirmed before stock is checked. */
const REORDERED: FlowDefinition = {
  id: 'price-first',
  steps: [
    step('start'),
    step('confirmPrice'),
    step('inventory'),
    ...DEFAULT_FLOW.steps.filter((s) => !['start', 'confirmPrice', 'inventory'].includes(s.key)),
  ],
};
/** A store's own async step before the order is created. */
const FRAUD_STEP: FlowStep = {
  key: 'fraudCheck',
  label: 'Fraud Check',
  kind: 'async',
  action: 'fraudCheckAction',
  validationType: 'Other',
  description: 'Screens the order.',
};
const WITH_FRAUD: FlowDefinition = {
  id: 'with-fraud-check',
  steps: DEFAULT_FLOW.steps.flatMap((s) => (s.key === 'cartToOrder' ? [FRAUD_STEP, s] : [s])),
};

const STORES = { lean: mintId('0ZE'), reordered: mintId('0ZE'), fraud: mintId('0ZE') };

/** A store with its own flow, sharing the demo buyers and catalog, and a buyer's cart in it. */
async function cartInStore(engine: CheckoutEngine, storeId: string) {
  const demo = await cartOn(engine, { lines: 2 });
  if (!(await engine.admin.get('WebStore', storeId))) {
    const [group] = await rows(engine, 'BuyerGroup', { Name: 'Demo Buyers' });
    const [link] = await rows(engine, 'WebStorePricebook', { WebStoreId: demo.storeId });
    await engine.seed({
      WebStore: [{ Id: storeId, Name: `Store ${storeId}` }],
      WebStoreBuyerGroup: [{ BuyerGroupId: group!.Id, WebStoreId: storeId }],
      WebStorePricebook: [{ WebStoreId: storeId, Pricebook2Id: link!.Pricebook2Id }],
    });
  }
  // Move the fresh demo cart into this store before its checkout starts.
  // (A cart's store is fixed after creation for record writes: test set-up writes storage directly.)
  await engine.core.storage.update('WebCart', demo.cartId, { WebStoreId: storeId });
  return demo;
}

describe.each(FLOW_BACKENDS)('custom flows on $name', (backend) => {
  const screened: string[] = [];
  const fraudCheck: CartProcessor = {
    async startCartProcessAsync(info, cartId, data) {
      screened.push(info.jobId);
      const cart = data.cart;
      if (Number(cart.GrandTotalAmount) > 10_000) {
        data.addValidation({ Message: 'Order held for review: the total is over 10,000.', RelatedEntityId: cartId });
        return { status: 'FAILED' };
      }
      data.addValidation({ Level: 'Info', Message: 'Fraud check passed.', RelatedEntityId: cartId });
      return { status: 'SUCCESS' };
    },
  };
  const flatTax: CartProcessor = {
    async startCartProcessAsync(_i, _c, data) {
      for (const item of await data.items())
        data.insert('CartTax', {
          CartItemId: item.Id,
          Name: 'Flat 10%',
          Amount: Math.round(Number(item.TotalPrice) * 10) / 100,
          TaxRate: 0.1,
        });
      return { status: 'SUCCESS' };
    },
  };
  const shared = sharedEngine(backend.location, {
    flows: [LEAN, REORDERED, WITH_FRAUD],
    storeFlows: { [STORES.lean]: 'lean', [STORES.reordered]: 'price-first', [STORES.fraud]: 'with-fraud-check' },
    integrations: { stores: { [STORES.fraud]: { fraudCheckAction: fraudCheck, taxes: flatTax } } },
  });

  it('a store can drop optional steps (promotions, payment authorization)', async () => {
    const { engine, cartId, as } = await cartInStore(shared.get(), STORES.lean);
    const run = await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-L' } });
    expect(run.status, run.errors.join()).toBe('complete');
    expect(run.trajectory.map((t) => t.state)).toEqual(LEAN.steps.map((s) => s.key));
    // Without the promotions step nobody touches the lines' adjustments.
    expect((await engine.admin.get('WebCart', cartId))!.TotalAdjustmentAmount).toBe(0);
    // The default flow's order of claims is refused here.
    const other = await cartInStore(engine, STORES.lean);
    const sessionId = String(ok(await call(engine, 'checkoutSessionAction', { cartId: other.cartId }, as.userId)).requestId);
    ok(
      await call(
        engine,
        'updateCheckoutSessionStateAction',
        { checkoutSessionId: sessionId, expCurrentState: 'start', nextState: 'inventory' },
        as.userId,
      ),
    );
    ok(await call(engine, 'checkCartInventoryAction', { cartId: other.cartId }, as.userId));
    ok(
      await call(
        engine,
        'updateCheckoutSessionStateAction',
        { checkoutSessionId: sessionId, expCurrentState: 'inventory', nextState: 'confirmPrice' },
        as.userId,
      ),
    );
    ok(await call(engine, 'priceCart', { cartId: other.cartId }, as.userId));
    const dropped = failure(
      await call(
        engine,
        'updateCheckoutSessionStateAction',
        { checkoutSessionId: sessionId, expCurrentState: 'confirmPrice', nextState: 'calculatePromotions' },
        as.userId,
      ),
    );
    expect(dropped).toMatchObject({ code: 'INVALID_INPUT', status: 400, fields: ['nextState'] });
    expect(dropped.message).toMatch(/isn't a state of flow 'lean'/);
    const e = failure(
      await call(
        engine,
        'updateCheckoutSessionStateAction',
        { checkoutSessionId: sessionId, expCurrentState: 'confirmPrice', nextState: 'taxes' },
        as.userId,
      ),
    );
    expect(e).toMatchObject({ code: 'INVALID_OPERATION', status: 409 });
    expect(e.message).toMatch(/allowed: shippingCost/);
  });

  it('a store can reorder steps', async () => {
    const { engine, cartId, as } = await cartInStore(shared.get(), STORES.reordered);
    const run = await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-R' } });
    expect(run.status, run.errors.join()).toBe('complete');
    expect(run.trajectory.map((t) => t.state).slice(0, 4)).toEqual(['start', 'confirmPrice', 'inventory', 'calculatePromotions']);
  });

  it("a store's own async step runs its own integration, and fails like any step; its own taxes replace the default for that store only", async () => {
    const engine = shared.get();
    expect(engine.describeActions().map((a) => a.name)).toContain('fraudCheckAction');
    const { cartId, as } = await cartInStore(engine, STORES.fraud);
    const run = await engine.runCheckout(cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-F' } });
    expect(run.status, run.errors.join()).toBe('complete');
    const fraud = run.trajectory.find((t) => t.state === 'fraudCheck')!;
    expect(fraud).toMatchObject({ kind: 'async', status: 'Complete', calls: ['updateCheckoutSessionStateAction', 'fraudCheckAction'] });
    expect(screened).toContain(fraud.operationId);
    expect((await rows(engine, 'CartValidationOutput', { BackgroundOperationId: fraud.operationId }))[0]).toMatchObject({
      Level: 'Info',
      Type: 'Other',
      Message: 'Fraud check passed.',
    });
    const taxes = await rows(engine, 'CartTax', { CartId: cartId });
    expect(taxes.length).toBeGreaterThan(0);
    for (const t of taxes) expect([t.Name, t.TaxRate]).toEqual(['Flat 10%', 0.1]);
    // The demo store still uses the default rate table.
    const demo = await cartOn(engine, { lines: 1 });
    const demoRun = await engine.runCheckout(demo.cartId, { ...demo.as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-D' } });
    expect(demoRun.trajectory.some((t) => t.state === 'fraudCheck')).toBe(false);
    for (const t of await rows(engine, 'CartTax', { CartId: demo.cartId })) expect(t.TaxRate).toBe(0.0725);

    // Over 10,000: the store's step fails with its own validation output; cancel and retry works.
    const big = await cartInStore(engine, STORES.fraud);
    const [item] = await rows(engine, 'CartItem', { CartId: big.cartId, Type: 'Product' });
    await engine.updateRecord('CartItem', String(item!.Id), { Quantity: 2000 }, as);
    const held = await engine.runCheckout(big.cartId, { ...as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-B' } });
    expect(held.status).toBe('error');
    expect(held.trajectory.at(-1)).toMatchObject({ state: 'fraudCheck', status: 'Error' });
    expect(held.errors).toContain('Order held for review: the total is over 10,000.');
    const s = (await activeSession(engine, big.cartId))!;
    expect([s.State, s.IsError, s.OrderId]).toEqual(['error', true, null]);
    const cvo = await rows(engine, 'CartValidationOutput', { BackgroundOperationId: s.BackgroundOperationId });
    expect(cvo.map((v) => [v.Type, v.Level])).toEqual([['Other', 'Error']]);
    ok(await call(engine, 'cancelCartAsyncOperation', { cartId: big.cartId }, as.userId));
    await engine.updateRecord('CartItem', String(item!.Id), { Quantity: 1 }, as);
    expect((await engine.runCheckout(big.cartId, as)).status).toBe('complete');
  });
});

describe('flow validation at load', () => {
  const problemsOf = (def: FlowDefinition) => {
    try {
      validateFlow(def);
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };

  it('accepts the default and the custom flows', () => {
    for (const f of [DEFAULT_FLOW, LEAN, REORDERED, WITH_FRAUD]) expect(problemsOf(f), f.id).toBe('');
  });

  it('rejects unreachable states, missing error exits, activateOrder before cartToOrder and actions used twice, naming each', () => {
    const unreachable: FlowDefinition = {
      id: 'island',
      steps: DEFAULT_FLOW.steps.map((s) => (s.key === 'start' ? { ...s, next: ['confirmPrice'] } : s)),
    };
    expect(problemsOf(unreachable)).toMatch(/step 'inventory' is not reachable from 'start'/);
    const noExit: FlowDefinition = {
      id: 'no-exit',
      steps: DEFAULT_FLOW.steps.map((s) => (s.key === 'taxes' ? { ...s, onError: 'oops' } : s)),
    };
    expect(problemsOf(noExit)).toMatch(/step 'taxes': error exit 'oops' does not exist/);
    const activateFirst: FlowDefinition = {
      id: 'activate-first',
      steps: [
        step('start'),
        step('checkoutSummary'),
        step('activateOrder'),
        step('cartToOrder'),
        step('orderConfirmation'),
        step('complete'),
      ],
    };
    expect(problemsOf(activateFirst)).toMatch(/step 'activateOrder' can be reached without passing a cartToOrderAction step/);
    const twice: FlowDefinition = {
      id: 'twice',
      steps: DEFAULT_FLOW.steps.flatMap((s) => (s.key === 'taxes' ? [s, { ...s, key: 'taxesAgain', label: 'Taxes Again' }] : [s])),
    };
    expect(problemsOf(twice)).toMatch(/steps 'taxes' and 'taxesAgain' both run action 'calcCartTaxesAction'/);
    const noFinal: FlowDefinition = { id: 'endless', steps: [{ key: 'start', label: 'Start', kind: 'screen', next: ['start'] }] };
    expect(problemsOf(noFinal)).toMatch(/no final step/);
  });

  it('an engine refuses an invalid flow with INVALID_FLOW (400) listing its problems', async () => {
    const bad: FlowDefinition = { id: 'bad', steps: [step('start'), { key: 'pay', label: 'Pay', kind: 'async' }, step('complete')] };
    await expect(createCheckoutEngine({ storage: ':memory:', flows: [bad] })).rejects.toMatchObject({
      key: 'INVALID_FLOW',
      status: 400,
      message: expect.stringMatching(/step 'pay': an async step must name its action/),
    });
  });
});
