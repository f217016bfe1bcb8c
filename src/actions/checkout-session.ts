/**
 * checkoutSessionAction(cartId, initialState): gets the cart's one active checkout session or
 * creates it (the cart moves Active → Checkout). Requirements 1–5 of spec §3 apply, answered with
 * this action's own error table (its Help page: the effective account and store membership are
 * BAD_REQUEST 400, a cart being processed is "Cart Is Already in Progress" 400, a failure while
 * creating is "The Session Wasn't Created" 500). A Closed cart answers the session that completed
 * it (the Re-entrant template's hub loops through this action once more after closing the cart and
 * then routes on that session's State); a Closed cart with no session is refused, and so is a store
 * with checkout disabled (CheckoutTimeToLive = 0). A new session starts at the flow's first state;
 * only ModifyAllData may name another screen state.
 */
import { EngineError } from '../errors.js';
import { CART_ACCESS_REQUIREMENTS, firstFailedRequirement, requirementError, type Requirement } from '../domain/requirements.js';
import { callerNow, loadCartFacts } from '../engine/facts.js';
import { ExpiredCheckout, expireInCall } from '../engine/expiry.js';
import { isAdmin } from '../engine/access.js';
import { initialSessionRow } from '../engine/sessions.js';
import type { ActionDef } from './types.js';

/** Cart statuses of a cart the platform is processing (an order being placed from it). */
const IN_PROGRESS_STATUSES = ['Processing', 'PendingClosed'];

/** A failed requirement as this action's error table answers it (requirements 3 and 4 differ from the step actions'). */
function sessionRequirementError(r: Requirement): EngineError {
  if (r.id === 3) return new EngineError('SESSION_ACCOUNT_NOT_VALID', `Requirement 3 failed: ${r.description}.`, ['cartId']);
  if (r.id === 4) return new EngineError('SESSION_NOT_STORE_MEMBER', `Requirement 4 failed: ${r.description}.`, ['cartId']);
  return requirementError(r);
}

/** The checkoutSessionAction definition. */
export const checkoutSessionAction: ActionDef = {
  name: 'checkoutSessionAction',
  label: 'Checkout Session',
  description: "Gets or creates the cart's checkout session and gives a new one its initial state; the cart's status becomes Checkout.",
  inputs: [
    { name: 'cartId', type: 'ID', required: true, description: 'The ID of the cart that transitions into a checkout.' },
    {
      name: 'initialState',
      type: 'STRING',
      required: false,
      description: "State of a new session: the flow's first state ('Start', the default); another screen state needs ModifyAllData.",
    },
  ],
  outputs: [{ name: 'requestId', type: 'ID', required: false, description: 'The ID of the CartCheckoutSession.' }],

  readsCallerWithFacts: true,
  async run(env, input) {
    const { core, caller } = env;
    // The usual call finds the session there already: one read, no transaction.
    // (An expired one is left to the transaction, which expires it.)
    const seen = await loadCartFacts(core.storage, caller, input.cartId, { now: core.now(), kept: env.keptCheckout });
    if (!seen.expired) {
      const refused = firstFailedRequirement(seen.facts, 'start', CART_ACCESS_REQUIREMENTS);
      if (refused) throw sessionRequirementError(refused);
      // A Closed cart's completed session (it is never archived): the template routes on its State.
      if (seen.session) return { requestId: String(seen.session.Id) };
      if (seen.cart!.Status === 'Closed') throw new EngineError('CART_CLOSED', '', ['cartId']);
    }
    const create = core.atomically(
      async (tx) => {
        const read = core.now();
        const loaded = await loadCartFacts(tx, caller, input.cartId, { forUpdate: true, now: read, kept: env.keptCheckout });
        if (loaded.expired) return expireInCall(core, tx, loaded, read);
        const failed = firstFailedRequirement(loaded.facts, 'start', CART_ACCESS_REQUIREMENTS);
        if (failed) throw sessionRequirementError(failed);
        const cart = loaded.cart!;
        if (loaded.session) return String(loaded.session.Id);
        if (cart.Status === 'Closed') throw new EngineError('CART_CLOSED', '', ['cartId']);
        if (IN_PROGRESS_STATUSES.includes(String(cart.Status)))
          throw new EngineError('CART_IN_PROGRESS', `The cart's status is ${String(cart.Status)}.`, ['cartId']);
        if (cart.Status !== 'Active' && cart.Status !== 'Checkout') {
          throw new EngineError('CART_NOT_CHECKOUTABLE', `The cart's status is ${cart.Status}.`, ['cartId']);
        }
        const store = loaded.store;
        if (store && store.CheckoutTimeToLive === 0) {
          throw new EngineError('CART_NOT_CHECKOUTABLE', 'Checkout is disabled for this store (CheckoutTimeToLive = 0).', ['cartId']);
        }
        const flowId = env.sessionFlow ?? env.storeFlows[String(cart.WebStoreId)] ?? env.defaultFlow ?? 'default';
        const { flow } = core.flow(flowId);
        const requested = input.initialState === undefined ? flow.def.steps[0]!.key : flow.resolve(String(input.initialState));
        const step = requested ? flow.steps.get(requested) : undefined;
        // A screen state, or the flow's first state whatever its kind (the Main template's session
        // stays at Start while the store's own synchronous code runs, until cartToOrderAction).
        if (!step || (step.kind !== 'screen' && step.key !== flow.def.steps[0]!.key)) {
          throw new EngineError(
            'INVALID_INPUT',
            `initialState '${String(input.initialState)}' isn't a screen state of flow '${flowId}' (e.g. '${flow.def.steps[0]!.label}').`,
            ['initialState'],
          );
        }
        // Starting past the first state would skip the steps that compute the order (inventory,
        // pricing, shipping, taxes): only an administrator may, e.g. to resume a migrated checkout.
        if (step.key !== flow.def.steps[0]!.key && !isAdmin(await callerNow(caller, tx))) {
          throw new EngineError(
            'INITIAL_STATE_NOT_ALLOWED',
            `initialState '${String(input.initialState)}' isn't the first state '${flow.def.steps[0]!.label}' of flow '${flowId}'.`,
            ['initialState'],
          );
        }
        const at = core.now();
        const now = at.toISOString();
        const id = core.mint('CartCheckoutSession');
        const { machine } = core.flow(flowId);
        await tx.insert('CartCheckoutSession', [
          initialSessionRow(
            machine,
            {
              Id: id,
              WebCartId: String(cart.Id),
              startKey: step.key,
              // A new session's State is stored as the caller wrote it ('Start' stays 'Start').
              State: input.initialState === undefined || !flow.convention.storesAsWritten ? step.key : String(input.initialState),
            },
            at,
            {
              Name: `Checkout ${String(cart.Name ?? cart.Id)}`.slice(0, 255),
              OrderReferenceNumber: null,
              CurrencyIsoCode: cart.CurrencyIsoCode ?? 'USD',
              _flow: flowId,
            },
          ),
        ]);
        if (cart.Status !== 'Checkout') {
          await tx.update('WebCart', String(cart.Id), { Status: 'Checkout', LastModifiedDate: now });
        }
        return id;
      },
      // Two racing first calls both try to create; the unique active-session key lets one win and
      // the retry of the other returns the winner's session.
      { origin: env.origin, retryOnUnique: true },
    );
    let sessionId: string | ExpiredCheckout;
    try {
      sessionId = await create;
    } catch (e) {
      if (e instanceof EngineError) throw e;
      // Anything else stopped the creation (storage, a broken flow): this action's own 500, reported.
      core.onInternalError(e);
      throw new EngineError('SESSION_NOT_CREATED', e instanceof Error ? e.message.slice(0, 200) : undefined, ['cartId']);
    }
    return sessionId instanceof ExpiredCheckout ? sessionId : { requestId: sessionId };
  },
};
