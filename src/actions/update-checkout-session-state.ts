/**
 * updateCheckoutSessionStateAction(checkoutSessionId, expCurrentState, nextState): the
 * compare-and-set that claims the next step. It succeeds only when State equals expCurrentState,
 * no step is in flight and the flow allows nextState after State; it then sets NextState and
 * IsProcessing = true. Of two racing callers exactly one wins; the other gets INVALID_OPERATION 409.
 * Help spells it `updateCheckoutSessionAction`; both names are registered.
 */
import { EngineError } from '../errors.js';
import { parseId } from '../domain/ids.js';
import { cartVisible, INVOKE_PERMISSIONS } from '../domain/requirements.js';
import { OBJECTS } from '../domain/objects.js';
import { callerNow, loadSessionFacts } from '../engine/facts.js';
import { expireInCall } from '../engine/expiry.js';
import { applySessionEvent } from '../engine/sessions.js';
import { closeCartOnConfirmation } from '../engine/record-service.js';
import type { ActionDef } from './types.js';

const SESSION_PREFIX = OBJECTS.get('CartCheckoutSession')!.keyPrefix;

/** The updateCheckoutSessionStateAction definition. */
export const updateCheckoutSessionStateAction: ActionDef = {
  name: 'updateCheckoutSessionStateAction',
  label: 'Update Checkout Session',
  description: "Sets the checkout session's next state, only if its current state is the expected one.",
  inputs: [
    { name: 'checkoutSessionId', type: 'ID', required: true, description: 'The ID of the CartCheckoutSession.' },
    { name: 'expCurrentState', type: 'STRING', required: true, description: 'The state the caller expects the session to be in.' },
    { name: 'nextState', type: 'STRING', required: true, description: 'The state to claim next.' },
  ],
  outputs: [{ name: 'requestId', type: 'ID', required: false, description: 'The ID of the CartCheckoutSession.' }],

  readsCallerWithFacts: true,
  async run(env, input) {
    const { core, caller } = env;
    return core.atomically(
      async (tx) => {
        const parsed = parseId(input.checkoutSessionId, [SESSION_PREFIX]);
        // One read: the session, its cart, the caller's share, the operation and the store's expiry.
        const at = core.now();
        const loaded = parsed.ok
          ? await loadSessionFacts(tx, caller, parsed.id, { forUpdate: true, now: at, kept: env.keptCheckout })
          : undefined;
        if (loaded?.expired) return expireInCall(core, tx, loaded, at);
        const session = loaded?.session;
        // A session whose cart the caller can't see answers exactly like one that doesn't exist.
        if (!session || session.IsArchived === true || !cartVisible(loaded!.facts)) {
          throw new EngineError('INVALID_SESSION_ID', parsed.ok ? '' : parsed.message, ['checkoutSessionId']);
        }
        const who = await callerNow(caller, tx); // read with the facts
        if (!who.IsActive || !INVOKE_PERMISSIONS.some((p) => who.Permissions.includes(p))) {
          throw new EngineError('USER_CANT_INVOKE');
        }
        const cart = loaded!.cart;
        const mad = who.Permissions.includes('ModifyAllData');
        const canEdit =
          !!cart &&
          (mad ||
            ((cart.OwnerId === caller.Id || loaded!.facts.shareAccess === 'Edit') &&
              who.AccountId !== null &&
              who.AccountId === cart.AccountId));
        if (!canEdit) throw new EngineError('SESSION_NO_ACCESS', '', ['checkoutSessionId']);
        const { flow, machine } = core.flow(session._flow as string);
        const exp = flow.resolve(String(input.expCurrentState));
        if (!exp)
          throw new EngineError('INVALID_INPUT', `expCurrentState '${input.expCurrentState}' isn't a state of flow '${flow.def.id}'.`, [
            'expCurrentState',
          ]);
        const next = flow.resolve(String(input.nextState));
        if (!next)
          throw new EngineError('INVALID_INPUT', `nextState '${input.nextState}' isn't a state of flow '${flow.def.id}'.`, ['nextState']);
        // Stored as written (a label stays a label); the machine compares what the names resolve to.
        const t = await applySessionEvent(
          tx,
          machine,
          session,
          { type: 'CLAIM', expCurrentState: String(input.expCurrentState), nextState: String(input.nextState) },
          core.now(),
          {},
          { operation: 'updateCheckoutSessionStateAction', callerId: caller.Id, input },
          (loaded!.operation?.Status as string | undefined) ?? null,
        );
        if (!t.ok) throw new EngineError(t.rejection.error, t.rejection.detail, ['expCurrentState']);
        // A claim of a screen or final state moves State at once (Order Confirmation → Complete).
        await closeCartOnConfirmation(tx, flow, t.row, core.now());
        return { requestId: String(session.Id) };
      },
      { origin: env.origin },
    );
  },
};

/** The same action under the name Salesforce Help uses. */
export const updateCheckoutSessionAction: ActionDef = { ...updateCheckoutSessionStateAction, name: 'updateCheckoutSessionAction' };
