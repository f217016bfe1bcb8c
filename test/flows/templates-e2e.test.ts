/**
 * The project's own checkout flows shaped like Salesforce's three quickstart templates
 * (test/flows/fixtures/templates: Main, Main with platform pricing and promotions, Re-entrant — the
 * same element kinds, core actions, Apex classes, managed subflows and session conventions), run
 * as flow interviews by the buyer on SQLite and PostgreSQL: each reaches an Activated order with its
 * OrderSummary and a Closed cart with the completion invariants holding, and each has a failure path
 * (a declined card, short stock) that ends on its error subflow's screen with the message.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckoutEngine, Interview } from '../../src/index.js';
import { firstBrokenInvariant } from '../../src/domain/completion-invariants.js';
import { loadCompletionFacts } from '../../src/engine/completion.js';
import { checkInvariants, orderTotalsProblem } from '../../src/scenarios/invariants.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { FLOW_BACKENDS, cartOn, rows, sharedEngine } from '../flow/helpers.js';

afterAll(dropTestSchemas);

const TEMPLATES = fileURLToPath(new URL('./fixtures/templates', import.meta.url));
const SESSION_FLOWS = {
  Shop_Checkout_Main: 'salesforce-main-checkout',
  Shop_Checkout_Priced: 'salesforce-main',
  Shop_Checkout_Reentrant: 'salesforce-reentrant',
};

type Payment = { paymentType: 'CardPayment'; token: string } | { paymentType: 'PurchaseOrder'; purchaseOrderNumber: string };

/** The buyer's saved addresses and the store's first delivery method, as the screens offer them. */
async function choices(engine: CheckoutEngine) {
  const [ship] = await rows(engine, 'ContactPointAddress', { Name: 'Oakland dock' });
  const [bill] = await rows(engine, 'ContactPointAddress', { Name: 'Head office' });
  const [method] = await rows(engine, 'OrderDeliveryMethod', {});
  return { shipId: String(ship!.Id), billId: String(bill!.Id), methodId: String(method!.Id) };
}

/**
 * Answers each screen as the buyer would, by what its components ask (address, delivery method,
 * payment; summaries and buttons need no answer), until the interview finishes, fails, or rests on
 * a screen this buyer can't answer (an error screen: returned as it is).
 */
async function checkout(
  engine: CheckoutEngine,
  flow: string,
  cartId: string,
  userId: string,
  payment: Payment,
): Promise<{ last: Interview; screens: string[] }> {
  const as = { userId };
  const c = await choices(engine);
  const screens: string[] = [];
  let iv = await engine.startInterview(flow, { cartId }, as);
  for (let i = 0; i < 20 && (iv.status === 'Paused' || iv.status === 'Waiting'); i++) {
    if (iv.status === 'Waiting') {
      iv = await engine.navigate(iv.id, { action: 'NEXT', waitMs: 10_000 }, as);
      continue;
    }
    const screen = iv.screen!;
    screens.push(screen.name);
    const answers: Record<string, Record<string, string>> = {};
    for (const f of screen.fields) {
      if (f.extensionName === 'forceCommunity:commerceDelivery' && f.outputNames.includes('contactPointAddressId'))
        answers[f.name] = { contactPointAddressId: c.shipId, shippingInstructions: 'Dock 4, ring twice' };
      if (f.extensionName === 'commerce_checkout:deliveryMethod' && f.outputNames.includes('orderDeliveryMethodId'))
        answers[f.name] = { orderDeliveryMethodId: c.methodId };
      if (f.extensionName === 'c:paymentMethod') answers[f.name] = { ...payment, billingAddressId: c.billId };
    }
    if (!screen.availableActions.includes('NEXT')) return { last: iv, screens };
    iv = await engine.navigate(iv.id, { action: 'NEXT', answers }, as);
  }
  return { last: iv, screens };
}

describe.each(FLOW_BACKENDS)('template-shaped checkout flows on $name', (backend) => {
  const shared = sharedEngine(backend.location, { flowSources: [TEMPLATES], interviewSessionFlows: SESSION_FLOWS });

  async function expectPlaced(engine: CheckoutEngine, cartId: string, last: Interview) {
    expect(last.status, JSON.stringify(last.screen ?? last.error)).toBe('Finished');
    const [session] = await rows(engine, 'CartCheckoutSession', { WebCartId: cartId });
    const order = (await engine.admin.get('Order', String(session!.OrderId)))!;
    const [summary] = await rows(engine, 'OrderSummary', { OriginalOrderId: order.Id });
    expect(last.redirect).toEqual({ pageName: 'orderconfirmation', recordId: summary!.Id });
    expect(order.Status).toBe('Activated');
    expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Closed');
    expect(await orderTotalsProblem(engine, order, cartId)).toBeNull();
    expect(firstBrokenInvariant(await loadCompletionFacts(engine.core, engine.core.storage, 'activate', session!))).toBeNull();
    expect(await checkInvariants(engine)).toEqual([]);
    // The delivery group carries the chosen address and the buyer's instructions.
    const [group] = await rows(engine, 'CartDeliveryGroup', { CartId: cartId });
    expect([group!.DeliverToCity, group!.ShippingInstructions]).toEqual(['Oakland', 'Dock 4, ring twice']);
    return { session: session!, order };
  }

  it('Main shape: a card checkout ends Activated, summarized and Closed; the other account sees no interview', async () => {
    const engine = shared.get();
    const { cartId, buyerId, outsiderId } = await cartOn(engine, { lines: 2, groups: 1 });
    const { last, screens } = await checkout(engine, 'Shop_Checkout_Main', cartId, buyerId, {
      paymentType: 'CardPayment',
      token: 'pm_test_visa',
    });
    expect(screens).toEqual(['Ship_To', 'Choose_Delivery', 'Pay', 'Review']);
    const { session, order } = await expectPlaced(engine, cartId, last);
    expect(session._flow).toBe('salesforce-main-checkout');
    expect(order.PaymentAuthorizationCode ?? null).not.toBeNull();
    await expect(engine.getInterview(last.id, { userId: outsiderId })).rejects.toMatchObject({ key: 'NOT_FOUND' });
    // Starting again on the Closed cart goes straight to the confirmation.
    const again = await engine.startInterview('Shop_Checkout_Main', { cartId }, { userId: buyerId });
    expect(again).toMatchObject({ status: 'Finished', redirect: last.redirect });
  });

  it("the other account's buyer can neither start the flow on this cart nor navigate the buyer's interview", async () => {
    const engine = shared.get();
    const { cartId, buyerId, outsiderId } = await cartOn(engine, { lines: 1, groups: 1 });
    await expect(engine.startInterview('Shop_Checkout_Main', { cartId }, { userId: outsiderId })).rejects.toMatchObject({
      key: 'NOT_FOUND',
      fields: ['cartId'],
    });
    const [before] = await rows(engine, 'CartDeliveryGroup', { CartId: cartId });
    const iv = await engine.startInterview('Shop_Checkout_Main', { cartId }, { userId: buyerId });
    const c = await choices(engine);
    await expect(
      engine.navigate(iv.id, { action: 'NEXT', answers: { Address: { contactPointAddressId: c.shipId } } }, { userId: outsiderId }),
    ).rejects.toMatchObject({ key: 'NOT_FOUND' });
    expect(await engine.getInterview(iv.id, { userId: buyerId })).toEqual(iv);
    expect((await rows(engine, 'CartDeliveryGroup', { CartId: cartId }))[0]).toEqual(before);
  });

  it('Main shape: a declined card ends on the problem screen with the decline; no order is activated', async () => {
    const engine = shared.get();
    const { cartId, buyerId } = await cartOn(engine, { lines: 1, groups: 1 });
    const { last } = await checkout(engine, 'Shop_Checkout_Main', cartId, buyerId, {
      paymentType: 'CardPayment',
      token: 'pm_test_declined',
    });
    expect(last.status).toBe('Paused');
    expect(last.screen?.name).toBe('Problem_Screen');
    expect(String(last.screen?.fields[0]?.inputs.text)).toMatch(/declined/i);
    expect(last.screen?.availableActions).toEqual(['FINISH']);
    const [session] = await rows(engine, 'CartCheckoutSession', { WebCartId: cartId });
    expect((await engine.admin.get('Order', String(session!.OrderId)))!.Status).toBe('Draft');
    expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Checkout');
    const done = await engine.navigate(last.id, { action: 'FINISH' }, { userId: buyerId });
    expect(done.status).toBe('Finished');
    expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Checkout');
  });

  it('Main with platform pricing and promotions: a PO checkout through the background steps ends Activated and Closed', async () => {
    const engine = shared.get();
    const { cartId, buyerId } = await cartOn(engine, { lines: 3, groups: 1 });
    const { last, screens } = await checkout(engine, 'Shop_Checkout_Priced', cartId, buyerId, {
      paymentType: 'PurchaseOrder',
      purchaseOrderNumber: 'PO-4411',
    });
    expect(screens).toEqual(['Ship_To', 'Choose_Delivery', 'Pay', 'Review']);
    const { session, order } = await expectPlaced(engine, cartId, last);
    expect(session._flow).toBe('salesforce-main');
    expect(order.PoNumber).toBe('PO-4411');
    // The background steps ran as the session flow's steps.
    const ops = (await rows(engine, 'BackgroundOperation', { _cartId: cartId })).map((o) => String(o._step));
    expect(ops).toEqual(expect.arrayContaining(['prePricing', 'prePromotions']));
  });

  it('Main with platform pricing and promotions: short stock ends on the problem screen with the inventory message', async () => {
    const engine = shared.get();
    const { cartId, buyerId, adminId } = await cartOn(engine, { lines: 1, groups: 1 });
    const [item] = await rows(engine, 'CartItem', { CartId: cartId, Type: 'Product' });
    const [stock] = await rows(engine, 'ProductInventory', { Product2Id: item!.Product2Id });
    await engine.updateRecord('ProductInventory', String(stock!.Id), { QuantityAvailable: 0 }, { userId: adminId });
    try {
      const { last, screens } = await checkout(engine, 'Shop_Checkout_Priced', cartId, buyerId, {
        paymentType: 'PurchaseOrder',
        purchaseOrderNumber: 'PO-1',
      });
      expect(screens).toEqual(['Ship_To', 'Problem_Screen']);
      expect(String(last.screen?.fields[0]?.inputs.text)).toContain(`Insufficient quantity for SKU ${String(item!.Sku)}`);
      const [session] = await rows(engine, 'CartCheckoutSession', { WebCartId: cartId });
      expect(session!.OrderId ?? null).toBeNull();
      expect((await engine.admin.get('WebCart', cartId))!.Status).toBe('Checkout');
    } finally {
      await engine.updateRecord(
        'ProductInventory',
        String(stock!.Id),
        { QuantityAvailable: stock!.QuantityAvailable },
        { userId: adminId },
      );
    }
  });

  it('Re-entrant shape: the hub walks the session through every state to an Activated order and a Closed cart', async () => {
    const engine = shared.get();
    const { cartId, buyerId } = await cartOn(engine, { lines: 2, groups: 1 });
    const { last, screens } = await checkout(engine, 'Shop_Checkout_Reentrant', cartId, buyerId, {
      paymentType: 'CardPayment',
      token: 'pm_test_visa',
    });
    expect(screens).toEqual(['Ship_To', 'Choose_Delivery', 'Pay', 'Review']);
    const { session } = await expectPlaced(engine, cartId, last);
    expect(session._flow).toBe('salesforce-reentrant');
    expect(session.State).toBe('Order Confirmation');
  });

  it("Re-entrant shape: short stock fails the background step; the managed error subflow shows the cart's message", async () => {
    const engine = shared.get();
    const { cartId, buyerId, adminId } = await cartOn(engine, { lines: 1, groups: 1 });
    const [item] = await rows(engine, 'CartItem', { CartId: cartId, Type: 'Product' });
    const [stock] = await rows(engine, 'ProductInventory', { Product2Id: item!.Product2Id });
    await engine.updateRecord('ProductInventory', String(stock!.Id), { QuantityAvailable: 0 }, { userId: adminId });
    try {
      const { last, screens } = await checkout(engine, 'Shop_Checkout_Reentrant', cartId, buyerId, {
        paymentType: 'PurchaseOrder',
        purchaseOrderNumber: 'PO-2',
      });
      expect(screens).toEqual(['Ship_To', 'Messages_Screen']);
      expect(String(last.screen?.fields[0]?.inputs.text)).toContain(`Insufficient quantity for SKU ${String(item!.Sku)}`);
      const [session] = await rows(engine, 'CartCheckoutSession', { WebCartId: cartId });
      expect([session!.IsError, session!.OrderId ?? null]).toEqual([true, null]);
    } finally {
      await engine.updateRecord(
        'ProductInventory',
        String(stock!.Id),
        { QuantityAvailable: stock!.QuantityAvailable },
        { userId: adminId },
      );
    }
  });
});

describe('interviewSessionFlows', () => {
  it('refuses a session flow that is not registered, naming the option', async () => {
    const { createCheckoutEngine } = await import('../../src/index.js');
    await expect(createCheckoutEngine({ interviewSessionFlows: { Shop_Checkout_Main: 'no-such-flow' } })).rejects.toMatchObject({
      key: 'INVALID_FLOW',
      fields: ['interviewSessionFlows'],
    });
    await expect(
      createCheckoutEngine({ interviewSessionFlows: ['salesforce-main'] as unknown as Record<string, string> }),
    ).rejects.toMatchObject({ key: 'INVALID_INPUT', fields: ['interviewSessionFlows'] });
  });
});
