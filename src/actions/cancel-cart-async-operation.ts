/**
 * cancelCartAsyncOperation(cartId): cancels the cart's checkout so the cart is unlocked (spec §3):
 * the running operation becomes Canceled, the session is archived and the cart goes back to Active.
 * Requirements: 1–5 of spec §3, then a Closed cart is refused (INVALID_OPERATION 403), then an
 * active session must exist. A cart becomes at most one order (src/domain/abandon.ts): a draft
 * order the checkout made is deleted and its stock released; once the order is Activated, cancel
 * is refused (CANCEL_ORDER_PLACED, INVALID_OPERATION 403) and nothing changes. It works in every state, screen steps and `error` included, because
 * canceling is the documented way out of an error.
 */
import { EngineError } from '../errors.js';
import { CART_ACCESS_REQUIREMENTS, firstFailedRequirement, requirementError } from '../domain/requirements.js';
import { loadCartFacts } from '../engine/facts.js';
import { cancelCheckout } from '../engine/cart.js';
import type { ActionDef } from './types.js';

/** The cancelCartAsyncOperation definition. */
export const cancelCartAsyncOperation: ActionDef = {
  name: 'cancelCartAsyncOperation',
  label: 'Cancel Cart Async Operation',
  description: 'Cancels the current checkout of the cart (its background operation and session) so the cart is unlocked.',
  inputs: [{ name: 'cartId', type: 'ID', required: true, description: 'The ID of the cart whose checkout is canceled.' }],
  outputs: [
    {
      name: 'backgroundOperationId',
      type: 'ID',
      required: false,
      description: 'The ID of the background operation that was current, if any.',
    },
  ],

  readsCallerWithFacts: true,
  async run(env, input) {
    const { core, caller } = env;
    const opId = await core.atomically(
      async (tx) => {
        const loaded = await loadCartFacts(tx, caller, input.cartId, { forUpdate: true });
        const failed = firstFailedRequirement(loaded.facts, 'cancel', CART_ACCESS_REQUIREMENTS);
        if (failed) throw requirementError(failed);
        if (loaded.cart!.Status === 'Closed') throw new EngineError('CANCEL_CLOSED_CART', '', ['cartId']);
        if (!loaded.session) {
          // Salesforce's Main template cancels first thing, on a cart that may have no session yet.
          const flowId = env.sessionFlow ?? env.storeFlows[String(loaded.cart!.WebStoreId)] ?? env.defaultFlow ?? 'default';
          if (core.flow(flowId).flow.convention.cancelWithoutSession) return null;
          throw new EngineError('SESSION_NOT_READY', 'The cart has no active checkout session to cancel.', ['cartId']);
        }
        await cancelCheckout(core, tx, String(loaded.cart!.Id), core.now(), 'cancel', {
          operation: 'cancelCartAsyncOperation',
          callerId: caller.Id,
          input,
        });
        return (loaded.session.BackgroundOperationId as string | null) ?? null;
      },
      { origin: env.origin },
    );
    return { backgroundOperationId: opId };
  },
};
