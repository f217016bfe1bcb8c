/**
 * Which integration runs a step for a store: a store's own registration wins, then an engine-wide
 * one, then the built-in default. Step services are handed the engine's registry in their step
 * context (`ctx.integrations`), so the action definitions stay static and shared.
 */
import { CALCULATOR_ACTIONS, type CartProcessor } from './contract.js';
import { DEFAULT_INTEGRATIONS } from './defaults.js';
import { TestPaymentGateway, type PaymentGateway } from './payment.js';
import {
  defaultOrchestrator,
  defaultPostShipping,
  DOMAIN_CALCULATORS,
  isOrchestrator,
  ORCHESTRATOR_NAMES,
  type CalculatorDomain,
  type CartCalculateOrchestrator,
} from './cart-calculate.js';

/** A registration: a calculator, or (under `cartCalculate`) a Cart Calculate orchestrator. */
export type Registration = CartProcessor | CartCalculateOrchestrator;

/**
 * Engine option `integrations`: processors keyed by calculator name (`inventory`, `pricing`,
 * `promotions`, `shipping`, `taxes`) or by a custom step's action name, for every store, plus
 * `stores: { [webStoreId]: { ... } }` for one store's own. Under `cartCalculate` (or
 * `Commerce_Domain_Cart_Calculate`) goes a Cart Calculate orchestrator (src/integrations/cart-calculate.ts).
 */
export interface IntegrationsOption {
  [name: string]: Registration | Record<string, Record<string, Registration>> | undefined;
  stores?: Record<string, Record<string, Registration>>;
}

/** Normalizes a registration name: a built-in calculator's action name maps to its short name. */
export function integrationKey(name: string): string {
  for (const [k, action] of Object.entries(CALCULATOR_ACTIONS)) if (name === action) return k;
  return name;
}

function isProcessor(p: unknown): p is CartProcessor {
  return !!p && typeof (p as CartProcessor).startCartProcessAsync === 'function';
}

/** The integrations and the payment gateway of one engine. */
export class IntegrationRegistry {
  private readonly global = new Map<string, CartProcessor>();
  private readonly perStore = new Map<string, Map<string, CartProcessor>>();
  private globalOrchestrator?: CartCalculateOrchestrator;
  private readonly storeOrchestrators = new Map<string, CartCalculateOrchestrator>();
  paymentGateway: PaymentGateway;

  constructor(opts: IntegrationsOption = {}, gateway?: PaymentGateway) {
    this.paymentGateway = gateway ?? new TestPaymentGateway();
    for (const [name, p] of Object.entries(opts)) {
      if (name === 'stores') continue;
      this.register(name, p as Registration);
    }
    for (const [storeId, byName] of Object.entries(opts.stores ?? {})) {
      for (const [name, p] of Object.entries(byName)) this.register(name, p, storeId);
    }
  }

  /** Registers a processor for a step, or an orchestrator under `cartCalculate` (engine-wide, or for one store). */
  register(name: string, processor: Registration, storeId?: string): void {
    if (typeof name !== 'string' || !name) throw new TypeError('an integration needs a name');
    if ((ORCHESTRATOR_NAMES as readonly string[]).includes(name)) {
      if (!isOrchestrator(processor)) throw new TypeError(`the '${name}' orchestrator must have a calculate(request) method`);
      if (storeId) this.storeOrchestrators.set(storeId, processor);
      else this.globalOrchestrator = processor;
      return;
    }
    if (!isProcessor(processor)) throw new TypeError(`integration '${name}' must have a startCartProcessAsync(info, cartId, data) method`);
    const key = integrationKey(name);
    if (storeId) (this.perStore.get(storeId) ?? this.perStore.set(storeId, new Map()).get(storeId)!).set(key, processor);
    else this.global.set(key, processor);
  }

  /** The processor that runs `name` for a store, or undefined when none is registered. */
  resolve(name: string, storeId: string | null | undefined): CartProcessor | undefined {
    const key = integrationKey(name);
    return (storeId ? this.perStore.get(storeId)?.get(key) : undefined) ?? this.global.get(key) ?? DEFAULT_INTEGRATIONS[key];
  }

  /** The Cart Calculate orchestrator of a store: its own, else the engine-wide one, else the default. */
  orchestrator(storeId: string | null | undefined): CartCalculateOrchestrator {
    return (storeId ? this.storeOrchestrators.get(storeId) : undefined) ?? this.globalOrchestrator ?? defaultOrchestrator;
  }

  /** The calculator of a Cart Calculate domain for a store: the registered integration of its name, else the default. */
  calculator(domain: CalculatorDomain, storeId: string | null | undefined): CartProcessor {
    const name = DOMAIN_CALCULATORS[domain].integration;
    return this.resolve(name, storeId) ?? (domain === 'postShipping' ? defaultPostShipping : DEFAULT_INTEGRATIONS[name]!);
  }
}
