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

/** A whole flow. */
export interface FlowDefinition {
  readonly id: string;
  readonly steps: readonly FlowStep[];
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
    { key: 'confirmPrice', label: 'Confirm Price', kind: 'async', action: 'priceCart', validationType: 'Pricing', description: 'Reprices every line.' },
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
    { key: 'taxes', label: 'Taxes', kind: 'async', action: 'calcCartTaxesAction', validationType: 'Taxes', description: 'Calculates taxes.' },
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
  /** Resolves a key or label (case-insensitive) to a key. */
  resolve(name: string): string | undefined;
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
  if (!def || typeof def !== 'object' || typeof def.id !== 'string' || !def.id) throw new FlowError(String(def?.id ?? '?'), ['id must be a non-empty string']);
  if (!Array.isArray(def.steps) || def.steps.length === 0) throw new FlowError(def.id, ['steps must be a non-empty list']);
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
    next.set(s.key, targets.filter((t) => steps.has(t)));
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
        problems.push(`step '${a.key}' can be reached without passing a cartToOrderAction step (cartToOrder must come before activateOrder)`);
      }
    }
  }
  if (problems.length) throw new FlowError(def.id, problems);
  const byAction = new Map<string, FlowStep>();
  for (const s of steps.values()) {
    // An action finds its step by name, so one action can run only one step of a flow.
    if (s.action && byAction.has(s.action)) problems.push(`steps '${byAction.get(s.action)!.key}' and '${s.key}' both run action '${s.action}'`);
    if (s.action) byAction.set(s.action, s);
  }
  if (problems.length) throw new FlowError(def.id, problems);
  const aliases = new Map<string, string>();
  for (const s of steps.values()) {
    aliases.set(s.key.toLowerCase(), s.key);
    aliases.set(s.label.toLowerCase(), s.key);
  }
  aliases.set(ERROR_STATE, ERROR_STATE);
  return {
    def,
    steps,
    next,
    byAction,
    resolve: (name: string) => (typeof name === 'string' ? aliases.get(name.trim().toLowerCase()) : undefined),
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
