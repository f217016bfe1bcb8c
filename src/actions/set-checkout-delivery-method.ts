/**
 * setCheckoutDeliveryMethod(cartId, deliveryMethodId): the work of the Delivery Method screen
 * (spec §2 call 7). Sets every delivery group's DeliveryMethodId and adds or replaces the group's
 * Charge CartItem with the fee the shipping step offered for that method. Allowed while the session
 * is idle, not in error, and not past the flow's delivery-method screen (so taxes computed later
 * always see the final charges); requirements 1–6 of spec §3 come first.
 */
import { EngineError } from '../errors.js';
import { parseId } from '../domain/ids.js';
import { OBJECTS } from '../domain/objects.js';
import { withDefaults } from '../domain/records.js';
import { firstFailedRequirement, requirementError, STEP_REQUIREMENTS } from '../domain/requirements.js';
import { sessionRowProblem } from '../domain/session-rules.js';
import { loadCartFacts } from '../engine/facts.js';
import { expireInCall } from '../engine/expiry.js';
import { recomputeCart, withDerivedLine } from '../engine/cart.js';
import type { ActionDef } from './types.js';

const METHOD_PREFIX = OBJECTS.get('OrderDeliveryMethod')!.keyPrefix;

/** The setCheckoutDeliveryMethod definition. */
export const setCheckoutDeliveryMethod: ActionDef = {
  name: 'setCheckoutDeliveryMethod',
  label: 'Set Checkout Delivery Method',
  description: "Sets the delivery method of the cart's delivery groups and replaces their delivery charge with the method's fee.",
  inputs: [
    { name: 'cartId', type: 'ID', required: true, description: 'The ID of the cart in checkout.' },
    {
      name: 'deliveryMethodId',
      type: 'ID',
      required: true,
      description: 'The ID of the OrderDeliveryMethod the buyer chose (one offered by calcCartShipmentAction).',
    },
  ],
  outputs: [],

  readsCallerWithFacts: true,
  async run(env, input) {
    const { core, caller } = env;
    return core.atomically(
      async (tx) => {
        const at = core.now();
        const loaded = await loadCartFacts(tx, caller, input.cartId, { forUpdate: true, now: at, kept: env.keptCheckout });
        if (loaded.expired) return expireInCall(core, tx, loaded, at);
        const failed = firstFailedRequirement(loaded.facts, 'deliveryMethod', STEP_REQUIREMENTS.slice(0, 6));
        if (failed) throw requirementError(failed);
        const session = loaded.session;
        if (!session) throw new EngineError('SESSION_NOT_READY', 'The cart has no active checkout session.', ['cartId']);
        if (session.IsError === true)
          throw new EngineError('SESSION_NOT_READY', 'The checkout session is in error; cancel the checkout and start again.', ['cartId']);
        const { flow } = core.flow(session._flow as string);
        const broken = sessionRowProblem(
          {
            State: (session.State as string) ?? null,
            NextState: (session.NextState as string) ?? null,
            IsProcessing: session.IsProcessing === true,
            IsError: false,
            IsArchived: false,
          },
          flow,
        );
        if (broken)
          throw new EngineError('SESSION_NOT_READY', `The session can't be restored: ${broken}; cancel the checkout and start again.`, [
            'cartId',
          ]);
        if (session.IsProcessing === true) {
          const inFlight = loaded.operation && (loaded.operation.Status === 'New' || loaded.operation.Status === 'Running');
          throw new EngineError(
            inFlight ? 'ALREADY_IN_PROCESS' : 'SESSION_NOT_READY',
            inFlight ? '' : `The session is waiting for '${String(session.NextState)}'.`,
            ['cartId'],
          );
        }
        const keys = flow.def.steps.map((s) => s.key);
        const here = keys.indexOf(flow.resolve(session.State) ?? '');
        // Up to the delivery screen, or else up to the order: before cartToOrder's step (source) or at it
        // (template, where State names the step about to run).
        const c2o = keys.findIndex((k) => flow.steps.get(k)!.action === 'cartToOrderAction');
        const limit = keys.includes('deliveryMethod') ? keys.indexOf('deliveryMethod') : flow.convention.runs === 'state' ? c2o : c2o - 1;
        if (here < 0 || here > limit) {
          throw new EngineError('SESSION_NOT_READY', `The delivery method can't change in state '${String(session.State)}'.`, ['cartId']);
        }
        const parsed = parseId(input.deliveryMethodId, [METHOD_PREFIX]);
        if (!parsed.ok) throw new EngineError('INVALID_INPUT', `deliveryMethodId: ${parsed.message}`, ['deliveryMethodId']);
        const cartId = String(loaded.cart!.Id);
        // The groups, the method's options for them, the method and the cart's charges don't depend on
        // one another: one findAll (one round trip where the backend batches reads).
        const [groups, options, methods, charges] = await tx.findAll([
          { object: 'CartDeliveryGroup', where: [{ field: 'CartId', op: '=', value: cartId }] },
          {
            object: 'CartDeliveryGroupMethod',
            where: [
              { field: 'WebCartId', op: '=', value: cartId },
              { field: 'DeliveryMethodId', op: '=', value: parsed.id },
            ],
          },
          { object: 'OrderDeliveryMethod', where: [{ field: 'Id', op: '=', value: parsed.id }] },
          {
            object: 'CartItem',
            where: [
              { field: 'CartId', op: '=', value: cartId },
              { field: 'Type', op: '=', value: 'Charge' },
            ],
          },
        ]);
        const method = methods![0];
        const now = core.now();
        const stamp = now.toISOString();
        for (const g of groups) {
          const option = options.find((o) => o.CartDeliveryGroupId === g.Id);
          if (!option || !method) {
            throw new EngineError(
              'INVALID_INPUT',
              `Delivery method ${parsed.id} isn't offered for delivery group '${String(g.Name)}'; run calcCartShipmentAction first.`,
              ['deliveryMethodId'],
            );
          }
          await tx.update('CartDeliveryGroup', String(g.Id), { DeliveryMethodId: parsed.id, LastModifiedDate: stamp });
          const old = charges.filter((c) => c.CartDeliveryGroupId === g.Id).map((c) => String(c.Id));
          if (old.length) {
            const taxes = await tx.find('CartTax', { where: [{ field: 'CartItemId', op: 'in', value: old }] });
            await tx.delete(
              'CartTax',
              taxes.map((t) => String(t.Id)),
            );
            await tx.delete('CartItem', old);
          }
          const fee = Number(option.ShippingFee ?? 0);
          await tx.insert('CartItem', [
            withDerivedLine({
              ...withDefaults(OBJECTS.get('CartItem')!, {
                CartId: cartId,
                CartDeliveryGroupId: g.Id,
                Product2Id: method.ProductId ?? null,
                Name: String(option.Name ?? method.Name),
                Type: 'Charge',
                Quantity: 1,
                ListPrice: fee,
                SalesPrice: fee,
                AdjustmentAmount: 0,
              }),
              Id: core.mint('CartItem'),
              CreatedDate: stamp,
              LastModifiedDate: stamp,
            }),
          ]);
        }
        await recomputeCart(tx, cartId, now);
        return {};
      },
      { origin: env.origin },
    );
  },
};
