/**
 * The Cart Calculate contract (Salesforce's `CartExtension` namespace): an **orchestrator** decides,
 * from the buyer actions that triggered a calculation, which **calculators** run on the cart and in
 * what order; each calculator is a `CartProcessor` (src/integrations/contract.ts) editing the one
 * cart draft of the request. The kernel (src/engine/cart-calculate.ts) loads the draft once, hands
 * the orchestrator a `CartCalculateRequest`, and applies everything the calculators staged in one
 * transaction.
 *
 * Mapping onto Salesforce:
 * - `CartExtension.CartCalculate.calculate(CartCalculateOrchestratorRequest)` → `CartCalculateOrchestrator.calculate(request)`;
 *   registered per store under `cartCalculate` (alias `Commerce_Domain_Cart_Calculate`).
 * - the non-overridable step methods `prices(req)`, `promotions(req)`, `inventory(req)`, `shipping(req)`,
 *   `postShipping(req)`, `taxes(req)` → the same methods on the request; each runs the store's registered
 *   calculator for the domain (integration names `pricing`, `promotions`, `inventory`, `shipping`,
 *   `postShipping`, `taxes`) or the engine's default.
 * - `BuyerActions.isCartItemChanged()` … → `request.buyerActions.cartItemChanged` …;
 *   `getOptionalBuyerActionDetails()` → `request.details` (and `data.calculation.details` in a calculator).
 * - an Error-level CartValidationOutput of a step's type → that step's outcome has `errors`; the default
 *   orchestrator stops there (`CartCalculateSample`).
 */
import type { Row } from '../storage/port.js';
import type { CartProcessor, CartState, IntegrationValidation } from './contract.js';

/** The buyer actions a calculation may report (`CartExtension.BuyerActions`). */
export const BUYER_ACTIONS = [
  'cartItemChanged',
  'checkoutStarted',
  'couponChanged',
  'deliveryGroupChanged',
  'deliveryMethodSelected',
  'recalculationRequested',
  'evaluateShippingRequested',
  'evaluateTaxesRequested',
] as const;

/** One buyer action. */
export type BuyerAction = (typeof BUYER_ACTIONS)[number];

/** What happened since the last calculation: one flag per buyer action. */
export type BuyerActions = { readonly [K in BuyerAction]: boolean };

/** Optional details of the buyer actions (`BuyerActionDetails`): the cart items an item change touched. */
export interface BuyerActionDetails {
  /** Ids of the CartItems added, edited or deleted (`getCartItemChanges()`); empty when unknown. */
  readonly changedCartItemIds: readonly string[];
}

/**
 * Normalizes buyer actions given as a list of names or as flags; an unknown name is a TypeError
 * naming it (the kernel maps it to INVALID_INPUT).
 */
export function toBuyerActions(input: readonly string[] | Partial<Record<string, boolean>> | BuyerActions): BuyerActions {
  const flags = Object.fromEntries(BUYER_ACTIONS.map((a) => [a, false])) as Record<BuyerAction, boolean>;
  const names = Array.isArray(input)
    ? (input as readonly string[])
    : Object.entries(input as Record<string, unknown>)
        .filter(([, on]) => {
          if (typeof on !== 'boolean') throw new TypeError(`buyerActions: the flag of '${String(on)}' must be true or false`);
          return on;
        })
        .map(([k]) => k);
  if (!Array.isArray(input)) {
    for (const k of Object.keys(input)) {
      if (!(BUYER_ACTIONS as readonly string[]).includes(k)) throw new TypeError(`buyerActions: unknown buyer action '${k}'`);
    }
  }
  for (const n of names) {
    if (!(BUYER_ACTIONS as readonly string[]).includes(n)) throw new TypeError(`buyerActions: unknown buyer action '${String(n)}'`);
    flags[n as BuyerAction] = true;
  }
  return flags;
}

/** The calculator domains, in the order of the step methods. */
export const CALCULATOR_DOMAINS = ['prices', 'promotions', 'inventory', 'shipping', 'postShipping', 'taxes'] as const;

/** One calculator domain (a step method of the request). */
export type CalculatorDomain = (typeof CALCULATOR_DOMAINS)[number];

/**
 * Per domain: the integration name a store registers its calculator under (the same names the Flow
 * core actions' steps resolve, so one registration serves both) and the CartValidationOutput Type
 * of the domain's messages.
 */
export const DOMAIN_CALCULATORS: Readonly<Record<CalculatorDomain, { integration: string; validationType: string }>> = {
  prices: { integration: 'pricing', validationType: 'Pricing' },
  promotions: { integration: 'promotions', validationType: 'Promotions' },
  inventory: { integration: 'inventory', validationType: 'Inventory' },
  shipping: { integration: 'shipping', validationType: 'Shipping' },
  postShipping: { integration: 'postShipping', validationType: 'Shipping' },
  taxes: { integration: 'taxes', validationType: 'Taxes' },
};

/**
 * The default post-shipping calculator: the engine has no post-shipping adjustments (shipping
 * promotions), so its default changes nothing; a store registers `postShipping` to add its own.
 */
export const defaultPostShipping: CartProcessor = {
  startCartProcessAsync() {
    return Promise.resolve({ status: 'SUCCESS' });
  },
};

/** What one step method did. */
export interface CalculatorOutcome {
  readonly domain: CalculatorDomain;
  /** The calculator's status; FAILED also when it reported an Error-level validation. */
  readonly status: 'SUCCESS' | 'FAILED';
  /** Every validation it reported (Type filled in with the domain's). */
  readonly validations: readonly IntegrationValidation[];
  /** Whether an Error-level validation of the domain's Type exists after it ran: the chain should stop. */
  readonly stop: boolean;
}

/** What an orchestrator gets (`CartCalculateOrchestratorRequest`). */
export interface CartCalculateRequest {
  readonly cartId: string;
  /** The WebCart row as loaded at the start of the request (Status: Active, Checkout, …). */
  readonly cart: Row;
  readonly buyerActions: BuyerActions;
  readonly details: BuyerActionDetails;
  /** The cart as the calculators have left it so far (the request's draft). */
  state(): Promise<CartState>;
  /** Whether an Error-level validation of `domain`'s Type (any Type when omitted) was reported in this request. */
  hasErrors(domain?: CalculatorDomain): boolean;
  /** Step methods: each runs the store's calculator for its domain (or the default) on the draft. */
  prices(): Promise<CalculatorOutcome>;
  promotions(): Promise<CalculatorOutcome>;
  inventory(): Promise<CalculatorOutcome>;
  shipping(): Promise<CalculatorOutcome>;
  postShipping(): Promise<CalculatorOutcome>;
  taxes(): Promise<CalculatorOutcome>;
}

/** An orchestrator (`CartExtension.CartCalculate`): runs step methods of the request; may throw to roll the request back. */
export interface CartCalculateOrchestrator {
  calculate(request: CartCalculateRequest): Promise<void>;
}

/** Whether a value is an orchestrator. */
export function isOrchestrator(o: unknown): o is CartCalculateOrchestrator {
  return !!o && typeof (o as CartCalculateOrchestrator).calculate === 'function';
}

/** The registration names of an orchestrator (`cartCalculate`, or Salesforce's extension point name). */
export const ORCHESTRATOR_NAMES = ['cartCalculate', 'Commerce_Domain_Cart_Calculate'] as const;

/** Which steps the default orchestrator runs for these buyer actions, in order (before any stop). */
export function defaultPlan(actions: BuyerActions, cart: { status: unknown; hasAddress: boolean }): CalculatorDomain[] {
  const inCheckout = cart.status === 'Checkout';
  const plan: CalculatorDomain[] = [];
  const pricing = actions.cartItemChanged || actions.checkoutStarted || actions.recalculationRequested;
  if (pricing) plan.push('prices');
  if (pricing || actions.couponChanged) plan.push('promotions');
  if (actions.checkoutStarted || (inCheckout && (actions.cartItemChanged || actions.recalculationRequested))) plan.push('inventory');
  const shipping =
    (inCheckout && (actions.deliveryGroupChanged || actions.evaluateShippingRequested)) ||
    (actions.checkoutStarted && cart.hasAddress) ||
    (inCheckout && cart.hasAddress && (actions.cartItemChanged || actions.recalculationRequested));
  if (shipping) plan.push('shipping', 'postShipping');
  if (shipping || actions.deliveryMethodSelected || actions.evaluateTaxesRequested) plan.push('taxes');
  return plan;
}

/** Whether every delivery group of the cart has a delivery country (and there is at least one). */
export function hasDeliveryAddress(state: CartState): boolean {
  const groups = Object.values(state.deliveryGroups);
  return groups.length > 0 && groups.every((g) => typeof g.DeliverToCountry === 'string' && g.DeliverToCountry !== '');
}

/**
 * The engine's default orchestrator, after Salesforce's `CartCalculateSample`: prices on an item
 * change, checkout start or recalculation; promotions on those and on a coupon change; inventory
 * on checkout start, or an item change / recalculation while the cart is in Checkout; shipping,
 * post-shipping and taxes on a delivery group change (address) or a shipping evaluation while in
 * Checkout, on checkout start when the delivery group has an address, and on an item change /
 * recalculation in Checkout with an address (the shipping fees and taxes depend on the lines);
 * taxes also on a delivery method selection or a tax evaluation. After each step it stops when an
 * Error-level validation of that step's type exists.
 */
export const defaultOrchestrator: CartCalculateOrchestrator = {
  async calculate(request) {
    const plan = defaultPlan(request.buyerActions, {
      status: request.cart.Status,
      hasAddress: hasDeliveryAddress(await request.state()),
    });
    for (const domain of plan) {
      const outcome = await request[domain]();
      if (outcome.stop) return;
    }
  },
};
