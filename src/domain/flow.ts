/**
 * Checkout flow definitions as data. A flow lists its steps in order; each step names its kind and,
 * for async and sync steps, the action that runs it. The statechart is generated from a flow, so a
 * store can reorder steps, drop optional ones or add its own, and `validateFlow` rejects a flow that
 * could wedge a session.
 */

/** How a step advances: a buyer screen, a background operation, an in-call action, or the end. */
export type StepKind = 'screen' | 'async' | 'sync' | 'final';

/** One step (state) of a flow. */
export interface FlowStep {
  /** State key stored in CartCheckoutSession.State (camelCase, e.g. `cartToOrder`). */
  readonly key: string;
  /** Salesforce template label, accepted as an alias on input (e.g. `Cart To Order`). */
  readonly label: string;
  /** Further names accepted on input for this state (e.g. `Shipping Address` for `Start`). */
  readonly aliases?: readonly string[];
  readonly kind: StepKind;
  /** Invocable action that runs an async or sync step. */
  readonly action?: string;
  /** CartValidationOutput Type written when the step fails. */
  readonly validationType?: string;
  /** States allowed after this one; defaults to the following step in the list. */
  readonly next?: readonly string[];
  /** State entered when the step's operation fails; `error` unless a flow says otherwise. */
  readonly onError?: string;
  /** Shown by the Stately visualizer and the engine's statechart page. */
  readonly description?: string;
}

/**
 * How a flow's session fields tell where the checkout is. `source` (the default flow, the source
 * document's reading): State names the last finished step; an async step is claimed with NextState =
 * that step (IsProcessing = true at once), and on completion State := the step's key. `template`
 * (Salesforce's quickstart templates): State names the step about to run; an async step is claimed
 * with NextState = its successor (IsProcessing stays false until the action starts), the action
 * runs the step State names, and on completion State := NextState exactly as written.
 */
export type FlowConventionName = 'source' | 'template';

/** What a convention decides, read by the generated machine and the pure session rules. */
export interface FlowConvention {
  readonly name: FlowConventionName;
  /** Which step a claim names and an action runs: the claimed one (NextState) or the current one (State). */
  readonly runs: 'nextState' | 'state';
  /** Whether the claim itself sets IsProcessing = true (otherwise the action does, when it starts). */
  readonly claimSetsProcessing: boolean;
  /** What State becomes when a step completes: the step's key, or NextState as written. */
  readonly completeTo: 'stepKey' | 'nextState';
  /** Whether a record write of State may move out of a sync step (the template authorizes in its own code). */
  readonly writeLeavesSync: boolean;
  /** Where the engine closes the cart itself: on the confirmation screen or final state, or only on a final state. */
  readonly closesCartOn: 'confirmation' | 'final';
  /** Whether a buyer's WebCart write `Status: 'Closed'` is accepted once the order is activated. */
  readonly buyerClosesCart: boolean;
  /** Whether cancelCartAsyncOperation on a cart with no session succeeds (and changes nothing). */
  readonly cancelWithoutSession: boolean;
  /** Whether State/NextState are stored as the caller wrote them (a label stays a label) or as the flow's keys. */
  readonly storesAsWritten: boolean;
}

/** The two conventions. */
export const CONVENTIONS: Readonly<Record<FlowConventionName, FlowConvention>> = {
  source: {
    name: 'source',
    runs: 'nextState',
    claimSetsProcessing: true,
    completeTo: 'stepKey',
    writeLeavesSync: false,
    closesCartOn: 'confirmation',
    buyerClosesCart: false,
    cancelWithoutSession: false,
    storesAsWritten: true,
  },
  template: {
    name: 'template',
    runs: 'state',
    claimSetsProcessing: false,
    completeTo: 'nextState',
    writeLeavesSync: true,
    closesCartOn: 'final',
    buyerClosesCart: true,
    cancelWithoutSession: true,
    storesAsWritten: true,
  },
};

/** A whole flow. */
export interface FlowDefinition {
  readonly id: string;
  readonly steps: readonly FlowStep[];
  /** How State and NextState are read (default `source`). */
  readonly convention?: FlowConventionName;
}

/** The convention a flow follows. */
export function conventionOf(flow: { def: FlowDefinition }): FlowConvention {
  return CONVENTIONS[flow.def.convention ?? 'source'];
}

/** The terminal error state every flow has. */
export const ERROR_STATE = 'error';

/** The default B2B flow of spec §2 (the re-entrant template's order). */
export const DEFAULT_FLOW: FlowDefinition = {
  id: 'default',
  steps: [
    { key: 'start', label: 'Start', kind: 'screen', description: 'Session created; the buyer chooses a shipping address.' },
    {
      key: 'inventory',
      label: 'Inventory',
      kind: 'async',
      action: 'checkCartInventoryAction',
      validationType: 'Inventory',
      description: 'Checks stock for every product line.',
    },
    {
      key: 'confirmPrice',
      label: 'Confirm Price',
      kind: 'async',
      action: 'priceCart',
      validationType: 'Pricing',
      description: 'Reprices every line.',
    },
    {
      key: 'calculatePromotions',
      label: 'Calculate Promotions',
      kind: 'async',
      action: 'calcCartPromotionsAction',
      validationType: 'Promotions',
      description: 'Applies promotions.',
    },
    {
      key: 'shippingCost',
      label: 'Shipping Cost',
      kind: 'async',
      action: 'calcCartShipmentAction',
      validationType: 'Shipping',
      description: 'Offers delivery methods with their fees.',
    },
    { key: 'deliveryMethod', label: 'Delivery Method', kind: 'screen', description: 'The buyer picks a delivery method.' },
    {
      key: 'taxes',
      label: 'Taxes',
      kind: 'async',
      action: 'calcCartTaxesAction',
      validationType: 'Taxes',
      description: 'Calculates taxes.',
    },
    {
      key: 'paymentAndBillingAddress',
      label: 'Payment And Billing Address',
      kind: 'screen',
      description: 'PO number or payment method, and billing address.',
    },
    { key: 'checkoutSummary', label: 'Checkout Summary', kind: 'screen', description: 'Read-only summary before the order.' },
    {
      key: 'cartToOrder',
      label: 'Cart To Order',
      kind: 'async',
      action: 'cartToOrderAction',
      validationType: 'SystemError',
      description: 'Creates the draft Order from the cart (cartToOrderAction).',
    },
    {
      key: 'authorizePayment',
      label: 'Authorize Payment',
      kind: 'sync',
      action: 'authorizePaymentAction',
      validationType: 'Other',
      description: 'Authorizes the payment method, when one is set.',
    },
    {
      key: 'activateOrder',
      label: 'Activate Order',
      kind: 'async',
      action: 'activateOrderAction',
      validationType: 'SystemError',
      description: 'Activates the order and creates its OrderSummary.',
    },
    { key: 'orderConfirmation', label: 'Order Confirmation', kind: 'screen', description: 'The cart becomes Closed.' },
    { key: 'complete', label: 'Complete', kind: 'final', description: 'Checkout finished.' },
  ],
};

/** A flow with its derived lookups, as the machine and the engine use it. */
export interface CompiledFlow {
  readonly def: FlowDefinition;
  readonly steps: ReadonlyMap<string, FlowStep>;
  /** Allowed next states per state. */
  readonly next: ReadonlyMap<string, readonly string[]>;
  /** Step keyed by its action name. */
  readonly byAction: ReadonlyMap<string, FlowStep>;
  /** The flow's convention. */
  readonly convention: FlowConvention;
  /** Resolves a key, label or alias (case-insensitive, trimmed) to a key. */
  resolve(name: unknown): string | undefined;
}

/** A problem found in a flow definition. */
export class FlowError extends Error {
  constructor(
    readonly flowId: string,
    readonly problems: string[],
  ) {
    super(`flow '${flowId}' is not valid: ${problems.join('; ')}`);
    this.name = 'FlowError';
  }
}

const KEY_RE = /^[a-z][A-Za-z0-9]*$/;

/**
 * Validates a flow and derives its lookups. Rules: unique keys matching /^[a-z][A-Za-z0-9]*$/,
 * `error` reserved, known kinds, async/sync steps name an action, next and onError targets exist,
 * every state reachable from the first, a final state reachable, no step after a final state,
 * every async or sync step has an error exit, `cartToOrder` lies on every path to `activateOrder`,
 * and no action runs two steps.
 */
export function validateFlow(def: FlowDefinition): CompiledFlow {
  const problems: string[] = [];
  if (!def || typeof def !== 'object' || typeof def.id !== 'string' || !def.id)
    throw new FlowError(String(def?.id ?? '?'), ['id must be a non-empty string']);
  if (!Array.isArray(def.steps) || def.steps.length === 0) throw new FlowError(def.id, ['steps must be a non-empty list']);
  if (def.convention !== undefined && !(def.convention in CONVENTIONS))
    throw new FlowError(def.id, ["convention must be 'source' or 'template'"]);
  const steps = new Map<string, FlowStep>();
  for (const [i, s] of def.steps.entries()) {
    if (!s || typeof s.key !== 'string' || !KEY_RE.test(s.key)) {
      problems.push(`steps[${i}].key must be a camelCase state key`);
      continue;
    }
    if (s.key === ERROR_STATE) problems.push(`steps[${i}].key '${ERROR_STATE}' is reserved for the error state`);
    if (steps.has(s.key)) problems.push(`steps[${i}].key '${s.key}' is used twice`);
    if (!['screen', 'async', 'sync', 'final'].includes(s.kind)) problems.push(`step '${s.key}': kind must be screen, async, sync or final`);
    if ((s.kind === 'async' || s.kind === 'sync') && !s.action) problems.push(`step '${s.key}': an ${s.kind} step must name its action`);
    if (typeof s.label !== 'string' || !s.label) problems.push(`step '${s.key}': label must be a non-empty string`);
    steps.set(s.key, s);
  }
  const next = new Map<string, string[]>();
  def.steps.forEach((s, i) => {
    if (!s || !steps.has(s.key)) return;
    const targets = s.next ? [...s.next] : s.kind === 'final' ? [] : def.steps[i + 1] ? [def.steps[i + 1]!.key] : [];
    if (s.kind === 'final' && targets.length) problems.push(`step '${s.key}': a final step can't have next states`);
    if (s.kind !== 'final' && targets.length === 0) problems.push(`step '${s.key}': has no next state (only final steps may end the flow)`);
    for (const t of targets) if (!steps.has(t)) problems.push(`step '${s.key}': next state '${t}' does not exist`);
    if (s.kind === 'async' || s.kind === 'sync') {
      const exit = s.onError ?? ERROR_STATE;
      if (exit !== ERROR_STATE && !steps.has(exit)) problems.push(`step '${s.key}': error exit '${exit}' does not exist`);
    }
    next.set(
      s.key,
      targets.filter((t) => steps.has(t)),
    );
  });
  const first = def.steps[0]?.key;
  if (first && steps.has(first) && problems.length === 0) {
    const seen = reach(first, next, undefined);
    for (const k of steps.keys()) if (!seen.has(k)) problems.push(`step '${k}' is not reachable from '${first}'`);
    if (![...steps.values()].some((s) => s.kind === 'final')) problems.push('the flow has no final step');
    const activate = [...steps.values()].filter((s) => s.action === 'activateOrderAction');
    const c2o = [...steps.values()].filter((s) => s.action === 'cartToOrderAction');
    for (const a of activate) {
      if (c2o.length === 0) problems.push(`step '${a.key}' activates an order but the flow has no cartToOrderAction step`);
      else if (reach(first, next, new Set(c2o.map((c) => c.key))).has(a.key)) {
        problems.push(
          `step '${a.key}' can be reached without passing a cartToOrderAction step (cartToOrder must come before activateOrder)`,
        );
      }
    }
  }
  if (problems.length) throw new FlowError(def.id, problems);
  const byAction = new Map<string, FlowStep>();
  for (const s of steps.values()) {
    // An action finds its step by name, so one action can run only one step of a flow.
    if (s.action && byAction.has(s.action))
      problems.push(`steps '${byAction.get(s.action)!.key}' and '${s.key}' both run action '${s.action}'`);
    if (s.action) byAction.set(s.action, s);
  }
  if (problems.length) throw new FlowError(def.id, problems);
  const aliases = new Map<string, string>();
  for (const s of steps.values()) {
    for (const name of [s.key, s.label, ...(Array.isArray(s.aliases) ? s.aliases : [])]) {
      const lower = String(name).trim().toLowerCase();
      const taken = aliases.get(lower);
      if (taken !== undefined && taken !== s.key) problems.push(`name '${String(name)}' of step '${s.key}' already names step '${taken}'`);
      aliases.set(lower, s.key);
    }
  }
  if (aliases.has(ERROR_STATE) && aliases.get(ERROR_STATE) !== ERROR_STATE)
    problems.push(`the name '${ERROR_STATE}' is reserved for the error state`);
  if (problems.length) throw new FlowError(def.id, problems);
  aliases.set(ERROR_STATE, ERROR_STATE);
  return {
    def,
    steps,
    next,
    byAction,
    convention: CONVENTIONS[def.convention ?? 'source'],
    resolve: (name: unknown) => (typeof name === 'string' ? aliases.get(name.trim().toLowerCase()) : undefined),
  };
}

function reach(from: string, next: Map<string, string[]>, blocked: Set<string> | undefined): Set<string> {
  const seen = new Set<string>([from]);
  const stack = [from];
  while (stack.length) {
    const cur = stack.pop()!;
    if (blocked?.has(cur)) continue;
    for (const t of next.get(cur) ?? []) {
      if (!seen.has(t)) {
        seen.add(t);
        stack.push(t);
      }
    }
  }
  return seen;
}

/**
 * Salesforce's Re-entrant Checkout template as a built-in flow (`salesforce-reentrant`): the same
 * steps as the default flow under the template's convention, so the template's own calls run
 * unchanged — `updateCheckoutSessionStateAction(State, <successor>)` then the step's action, and a
 * screen's record write `State := <next>`.
 */
export const SALESFORCE_REENTRANT_FLOW: FlowDefinition = {
  id: 'salesforce-reentrant',
  convention: 'template',
  steps: DEFAULT_FLOW.steps.map((s) => {
    if (s.key === 'start')
      return { ...s, aliases: ['Shipping Address'], description: 'The buyer chooses a shipping address; then State := Inventory.' };
    if (s.key === 'authorizePayment') {
      return {
        ...s,
        description:
          'Authorizes the payment method when one is set (authorizePaymentAction after a claim, or the store’s own code then State := Activate Order).',
      };
    }
    if (s.key === 'orderConfirmation')
      return { ...s, description: "Claim (Order Confirmation → Complete), then the buyer's WebCart write Status := Closed." };
    if (s.kind === 'async')
      return { ...s, description: `${s.description ?? s.label} Runs while State = ${s.label}; claimed with NextState = its successor.` };
    return s;
  }),
};

/**
 * Salesforce's Main Checkout template as a built-in flow (`salesforce-main`): a synchronous flow
 * that wraps each async action between two record-written states (Pre-Pricing → Post-Pricing,
 * Pre-Promotions → Post-Promotions), creates the order with `NextState := 'Authorize Payment'` then
 * `cartToOrderAction(runAsync false)`, and activates it with `NextState := 'Activate Order'` then
 * `activateOrderAction`. Inventory, delivery options and taxes are the store's own synchronous code
 * in that template, so they are no steps here.
 */
export const SALESFORCE_MAIN_FLOW: FlowDefinition = {
  id: 'salesforce-main',
  convention: 'template',
  steps: [
    {
      key: 'start',
      label: 'Start',
      aliases: ['Shipping Address'],
      kind: 'screen',
      description: 'The buyer chooses a shipping address; then State := Pre-Pricing, NextState := Post-Pricing.',
    },
    {
      key: 'prePricing',
      label: 'Pre-Pricing',
      kind: 'async',
      action: 'priceCart',
      validationType: 'Pricing',
      description: 'priceCart runs; on completion State := Post-Pricing.',
    },
    {
      key: 'postPricing',
      label: 'Post-Pricing',
      kind: 'screen',
      description: 'Prices confirmed; then State := Pre-Promotions, NextState := Post-Promotions.',
    },
    {
      key: 'prePromotions',
      label: 'Pre-Promotions',
      kind: 'async',
      action: 'calcCartPromotionsAction',
      validationType: 'Promotions',
      description: 'calcCartPromotionsAction runs; on completion State := Post-Promotions.',
    },
    {
      key: 'postPromotions',
      label: 'Post-Promotions',
      kind: 'async',
      action: 'cartToOrderAction',
      validationType: 'SystemError',
      description:
        "Delivery method, payment and summary screens; then NextState := 'Authorize Payment' and cartToOrderAction creates the draft order.",
    },
    {
      key: 'authorizePayment',
      label: 'Authorize Payment',
      kind: 'async',
      action: 'activateOrderAction',
      validationType: 'SystemError',
      description:
        "The store's code authorizes the payment; then NextState := 'Activate Order' and activateOrderAction activates the order.",
    },
    { key: 'activateOrder', label: 'Activate Order', kind: 'final', description: 'The order is activated; the cart is Closed.' },
  ],
};

/**
 * Salesforce's plain Main Checkout template (`Checkout_Main_Checkout`) as a built-in flow
 * (`salesforce-main-checkout`): the session stays at `Start` while the store's own synchronous code
 * runs (address screen, the B2BSync* Apex classes, delivery method, payment and summary screens —
 * no State write at all); then the record write `NextState := 'Authorize Payment'` claims the order
 * and `cartToOrderAction(runAsync false)` creates it (State := Authorize Payment); the store's code
 * authorizes the payment, `NextState := 'Activate Order'` and `activateOrderAction(runAsync false)`
 * activate it (State := Activate Order, the cart is Closed). So Start is the step cartToOrderAction
 * runs, under the template convention, and Authorize Payment the one activateOrderAction runs.
 */
export const SALESFORCE_MAIN_CHECKOUT_FLOW: FlowDefinition = {
  id: 'salesforce-main-checkout',
  convention: 'template',
  steps: [
    {
      key: 'start',
      label: 'Start',
      aliases: ['Shipping Address'],
      kind: 'async',
      action: 'cartToOrderAction',
      validationType: 'SystemError',
      description:
        "The store's synchronous code and screens run while State stays Start; then NextState := 'Authorize Payment' and cartToOrderAction creates the draft order.",
    },
    {
      key: 'authorizePayment',
      label: 'Authorize Payment',
      kind: 'async',
      action: 'activateOrderAction',
      validationType: 'SystemError',
      description:
        "The store's code authorizes the payment; then NextState := 'Activate Order' and activateOrderAction activates the order.",
    },
    { key: 'activateOrder', label: 'Activate Order', kind: 'final', description: 'The order is activated; the cart is Closed.' },
  ],
};

/**
 * The Commerce Connect Checkout API's flow (`connect`), driven by the engine itself
 * (src/connect/checkouts.ts): the caller never names states. Its calculators are no steps of the
 * flow: the Cart Calculate orchestrator (src/engine/cart-calculate.ts) runs them by buyer action
 * and stamps the session's computations, which the completion invariants check before the order
 * (cartToOrder) and its activation, as they check the default flow's steps. The session rests at
 * `start` until a calculation with a delivery address, a delivery method and taxes succeeded, then
 * at `paymentAndBillingAddress`; place order moves it through the default flow's last steps.
 */
export const CONNECT_FLOW: FlowDefinition = {
  id: 'connect',
  steps: [
    {
      key: 'start',
      label: 'Start',
      kind: 'screen',
      description: 'Checkout started: the calculators run by buyer action (Cart Calculate).',
    },
    ...DEFAULT_FLOW.steps
      .filter((s) =>
        [
          'paymentAndBillingAddress',
          'checkoutSummary',
          'cartToOrder',
          'authorizePayment',
          'activateOrder',
          'orderConfirmation',
          'complete',
        ].includes(s.key),
      )
      .map((s) => {
        if (s.key === 'paymentAndBillingAddress')
          return { ...s, description: 'Calculated (address, delivery method, taxes): payment, then place order.' };
        if (s.key === 'checkoutSummary') return { ...s, description: 'Place order answered: the order is created in the background.' };
        return s;
      }),
  ],
};

/** The flows every engine registers: the default flow and Salesforce's templates. */
export const BUILTIN_FLOWS: readonly FlowDefinition[] = [
  DEFAULT_FLOW,
  SALESFORCE_REENTRANT_FLOW,
  SALESFORCE_MAIN_FLOW,
  SALESFORCE_MAIN_CHECKOUT_FLOW,
  CONNECT_FLOW,
];
