/**
 * The default Cart Calculate orchestrator's choice of steps (src/integrations/cart-calculate.ts),
 * as pure functions: which calculators run for each buyer action, by cart status and address.
 * No database, no engine.
 */
import { describe, expect, it } from 'vitest';
import {
  BUYER_ACTIONS,
  defaultOrchestrator,
  defaultPlan,
  hasDeliveryAddress,
  toBuyerActions,
  type BuyerAction,
  type CalculatorDomain,
  type CalculatorOutcome,
  type CartCalculateRequest,
  type CartState,
} from '../../src/integrations/index.js';

const plan = (action: BuyerAction, status: 'Active' | 'Checkout', hasAddress = true) =>
  defaultPlan(toBuyerActions([action]), { status, hasAddress });

describe('default orchestrator plan (CartCalculateSample)', () => {
  it('an item change prices and promotes an Active cart; in Checkout also inventory, shipping and taxes when an address exists', () => {
    expect(plan('cartItemChanged', 'Active')).toEqual(['prices', 'promotions']);
    expect(plan('cartItemChanged', 'Checkout')).toEqual(['prices', 'promotions', 'inventory', 'shipping', 'postShipping', 'taxes']);
    expect(plan('cartItemChanged', 'Checkout', false)).toEqual(['prices', 'promotions', 'inventory']);
  });

  it('checkout start runs pricing, promotions, inventory, and shipping + taxes only when the delivery group has an address', () => {
    expect(plan('checkoutStarted', 'Checkout')).toEqual(['prices', 'promotions', 'inventory', 'shipping', 'postShipping', 'taxes']);
    expect(plan('checkoutStarted', 'Checkout', false)).toEqual(['prices', 'promotions', 'inventory']);
  });

  it('a coupon change runs promotions only', () => {
    expect(plan('couponChanged', 'Active')).toEqual(['promotions']);
    expect(plan('couponChanged', 'Checkout')).toEqual(['promotions']);
  });

  it('a delivery group change runs shipping, post-shipping and taxes in Checkout, nothing on an Active cart', () => {
    expect(plan('deliveryGroupChanged', 'Checkout')).toEqual(['shipping', 'postShipping', 'taxes']);
    expect(plan('deliveryGroupChanged', 'Active')).toEqual([]);
  });

  it('a delivery method selection runs taxes', () => {
    expect(plan('deliveryMethodSelected', 'Checkout')).toEqual(['taxes']);
  });

  it('a recalculation runs pricing and promotions, and everything per status in Checkout', () => {
    expect(plan('recalculationRequested', 'Active')).toEqual(['prices', 'promotions']);
    expect(plan('recalculationRequested', 'Checkout')).toEqual(['prices', 'promotions', 'inventory', 'shipping', 'postShipping', 'taxes']);
  });

  it('shipping and tax evaluations', () => {
    expect(plan('evaluateShippingRequested', 'Checkout')).toEqual(['shipping', 'postShipping', 'taxes']);
    expect(plan('evaluateShippingRequested', 'Active')).toEqual([]);
    expect(plan('evaluateTaxesRequested', 'Active')).toEqual(['taxes']);
  });

  it('buyer actions: names or flags; an unknown name or a non-boolean flag is refused naming it', () => {
    expect(toBuyerActions({ couponChanged: true, cartItemChanged: false })).toEqual({
      ...Object.fromEntries(BUYER_ACTIONS.map((a) => [a, false])),
      couponChanged: true,
    });
    expect(() => toBuyerActions(['cartItemChange'])).toThrow(/cartItemChange/);
    expect(() => toBuyerActions({ cartItemChanged: 'yes' } as never)).toThrow(/true or false/);
  });

  it('an address needs a country on every delivery group', () => {
    const state = (groups: Record<string, unknown>[]) =>
      ({ deliveryGroups: Object.fromEntries(groups.map((g, i) => [`g${i}`, g])) }) as unknown as CartState;
    expect(hasDeliveryAddress(state([{ DeliverToCountry: 'US' }]))).toBe(true);
    expect(hasDeliveryAddress(state([{ DeliverToCountry: 'US' }, { DeliverToCountry: null }]))).toBe(false);
    expect(hasDeliveryAddress(state([]))).toBe(false);
  });
});

describe('default orchestrator run', () => {
  /** A request whose step methods record their calls and report an error for `failing`. */
  function request(actions: BuyerAction[], status: string, failing?: CalculatorDomain) {
    const calls: CalculatorDomain[] = [];
    const step = (domain: CalculatorDomain) => () => {
      calls.push(domain);
      const stop = domain === failing;
      return Promise.resolve<CalculatorOutcome>({ domain, status: stop ? 'FAILED' : 'SUCCESS', validations: [], stop });
    };
    const req: CartCalculateRequest = {
      cartId: 'c',
      cart: { Status: status },
      buyerActions: toBuyerActions(actions),
      details: { changedCartItemIds: [] },
      state: () => Promise.resolve({ deliveryGroups: { g: { DeliverToCountry: 'US' } } } as unknown as CartState),
      hasErrors: () => false,
      prices: step('prices'),
      promotions: step('promotions'),
      inventory: step('inventory'),
      shipping: step('shipping'),
      postShipping: step('postShipping'),
      taxes: step('taxes'),
    };
    return { req, calls };
  }

  it('runs the plan in order and stops after the step that reported an error of its type', async () => {
    const full = request(['checkoutStarted'], 'Checkout');
    await defaultOrchestrator.calculate(full.req);
    expect(full.calls).toEqual(['prices', 'promotions', 'inventory', 'shipping', 'postShipping', 'taxes']);
    const stopped = request(['checkoutStarted'], 'Checkout', 'inventory');
    await defaultOrchestrator.calculate(stopped.req);
    expect(stopped.calls).toEqual(['prices', 'promotions', 'inventory']);
  });
});
