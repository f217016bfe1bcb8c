/**
 * The invocable actions the engine serves, by API name, and the invocation loop that turns each
 * input into a Salesforce action result (with the HTTP status the REST layer answers with).
 */
import { EngineError, toEngineError } from '../errors.js';
import { withFreshCheckout } from '../engine/expiry.js';
import { CallerFailed, CallerRead } from '../engine/facts.js';
import { cartToOrderAction } from './cart-to-order.js';
import { checkoutSessionAction } from './checkout-session.js';
import { parseActionInput, type ActionDef, type ActionEnv } from './types.js';
import { updateCheckoutSessionAction, updateCheckoutSessionStateAction } from './update-checkout-session-state.js';
import { checkCartInventoryAction } from './check-cart-inventory.js';
import { priceCart } from './price-cart.js';
import { calcCartPromotionsAction } from './calc-cart-promotions.js';
import { calcCartShipmentAction } from './calc-cart-shipment.js';
import { setCheckoutDeliveryMethod } from './set-checkout-delivery-method.js';
import { calcCartTaxesAction } from './calc-cart-taxes.js';
import { authorizePaymentAction } from './authorize-payment.js';
import { activateOrderAction } from './activate-order.js';
import { cancelCartAsyncOperation } from './cancel-cart-async-operation.js';
import type { InvocationResult } from './typed.js';

/** The async and sync step actions, whose step services the engine registers by action name. */
export const STEP_ACTIONS = [
  checkCartInventoryAction,
  priceCart,
  calcCartPromotionsAction,
  calcCartShipmentAction,
  calcCartTaxesAction,
  cartToOrderAction,
  authorizePaymentAction,
  activateOrderAction,
] as const;

/** Every action, by name. */
export const ACTIONS: ReadonlyMap<string, ActionDef> = new Map(
  [
    checkoutSessionAction,
    updateCheckoutSessionStateAction,
    updateCheckoutSessionAction,
    ...STEP_ACTIONS,
    setCheckoutDeliveryMethod,
    cancelCartAsyncOperation,
  ].map((a): [string, ActionDef] => [a.name, a]),
);

export type { ActionError, ActionFailure, ActionSuccess, InvocationResult } from './typed.js';

/** The action with this name, or NOT_FOUND. */
export function requireAction(name: unknown): ActionDef {
  const def = typeof name === 'string' ? ACTIONS.get(name) : undefined;
  if (!def) {
    throw new EngineError('UNKNOWN_ACTION', `No standard action named '${String(name)}'. Available: ${[...ACTIONS.keys()].join(', ')}.`, [
      'actionName',
    ]);
  }
  return def;
}

/** Runs an action once per input, in order; each input's failure is its own result. */
export async function invokeAction(
  def: ActionDef,
  env: ActionEnv,
  inputs: readonly unknown[],
  onError?: (e: unknown) => void,
): Promise<InvocationResult[]> {
  const results: InvocationResult[] = [];
  // A caller read with the action's first facts read (CallerRead): whatever the action met, an
  // unknown caller or a failed read of it fails the whole call, as when it was read before the call.
  const pending = env.caller instanceof CallerRead ? env.caller : null;
  const callerFirst = async () => {
    if (!pending || pending.known) return;
    try {
      await pending.load();
    } catch (e) {
      throw e instanceof CallerFailed ? e.cause : e;
    }
  };
  for (const raw of inputs) {
    try {
      const input = parseActionInput(def, raw);
      // An action that found its checkout expired expired it in its own transaction and says so: it
      // runs again on what expiry left, as if the expiry had been seen before the call.
      const outputValues = await withFreshCheckout((kept) => def.run(kept ? { ...env, keptCheckout: kept } : env, input));
      await callerFirst();
      results.push({ actionName: def.name, errors: null, isSuccess: true, outputValues, version: 1, httpStatus: 200 });
    } catch (e) {
      if (e instanceof CallerFailed) throw e.cause;
      await callerFirst();
      if (!(e instanceof EngineError)) onError?.(e);
      const err = toEngineError(e);
      results.push({
        actionName: def.name,
        errors: [{ statusCode: err.code, message: err.message, fields: err.fields }],
        isSuccess: false,
        outputValues: null,
        version: 1,
        httpStatus: err.status,
      });
    }
  }
  await callerFirst(); // no inputs: the caller is still checked
  return results;
}
