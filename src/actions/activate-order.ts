/**
 * activateOrderAction(cartId, orderStatus, orderLifeCycleType, runAsync): makes the session's draft
 * Order Activated and creates its OrderSummary (spec §3). `orderStatus` 'Draft' leaves the order a
 * draft and creates no summary (as a CheckoutCreateOrder extension returning Draft does). The
 * summary is keyed by OriginalOrderId (unique), so retries never create a second one.
 */
import { EngineError } from '../errors.js';
import { StepFailed, type StepService } from '../engine/core.js';
import { asyncStepAction } from './async-step.js';
import { keepHoldsForOrder } from '../engine/reservations.js';
import { checkCompletionAtCommit } from '../engine/completion.js';

/** OrderLifeCycleType used when the input doesn't say (the reference template passes UNMANAGED). */
export const DEFAULT_LIFE_CYCLE = 'UNMANAGED';
const STATUSES = ['Activated', 'Draft'];
const LIFE_CYCLES = ['MANAGED', 'UNMANAGED'];

/** Activates the order and creates its summary. */
export const activateOrderService: StepService = {
  async commit(ctx, tx) {
    const input = JSON.parse(String(ctx.operation._input ?? '{}')) as { orderStatus?: string; orderLifeCycleType?: string };
    const orderId = ctx.session.OrderId ? String(ctx.session.OrderId) : null;
    const activates = (input.orderStatus ?? 'Activated') !== 'Draft';
    // The order (locked) and its summary read together where the backend pipelines statements (one
    // round trip; the summary's read runs once the lock is held, and nothing below writes summaries):
    // the summary's answer is used only where it was read before, after the order's update.
    const [orderRead, summaryRead] =
      orderId && activates && ctx.core.storage.adapter.batchesWrites
        ? await tx.readTogether(
            (o) => o.get('Order', orderId, { forUpdate: true }),
            (o) => o.find('OrderSummary', { where: [{ field: 'OriginalOrderId', op: '=', value: orderId }], limit: 1 }),
          )
        : [null, null];
    if (orderRead?.status === 'rejected') throw orderRead.reason;
    // A failed read ended the transaction: nothing after it can run.
    if (summaryRead?.status === 'rejected') throw summaryRead.reason;
    const order = orderRead ? orderRead.value : orderId ? await tx.get('Order', orderId, { forUpdate: true }) : undefined;
    if (!order) throw new StepFailed('The checkout session has no draft order to activate: run cartToOrderAction first.');
    // The completion invariants hold now (checked at the claim; again here when this isn't its transaction).
    await checkCompletionAtCommit(ctx.core, tx, 'activate', ctx.session, ctx.completionFacts);
    // The order is placed: the cart's stock holds become the order's (kept reserved, never released).
    await keepHoldsForOrder(tx, ctx.cartId, String(order.Id), ctx.now);
    if (!activates) return {};
    const now = ctx.now.toISOString();
    if (order.Status !== 'Activated') {
      await tx.update('Order', String(order.Id), { Status: 'Activated', ActivatedDate: now, LastModifiedDate: now });
    }
    const [existing] = summaryRead
      ? summaryRead.value
      : await tx.find('OrderSummary', { where: [{ field: 'OriginalOrderId', op: '=', value: order.Id }], limit: 1 });
    if (!existing) {
      await tx.insert('OrderSummary', [
        {
          Id: ctx.core.mint('OrderSummary'),
          CreatedDate: now,
          LastModifiedDate: now,
          OriginalOrderId: order.Id,
          AccountId: order.AccountId ?? null,
          OwnerId: order.OwnerId ?? null,
          SalesStoreId: order.SalesStoreId ?? null,
          OrderLifeCycleType: input.orderLifeCycleType ?? DEFAULT_LIFE_CYCLE,
          Status: 'Created',
          OrderNumber: order.OrderReferenceNumber ?? null,
          GrandTotalAmount: order.GrandTotalAmount ?? 0,
          TotalTaxAmount: order.TotalTaxAmount ?? 0,
          OrderedDate: order.OrderedDate ?? now,
        },
      ]);
    }
    return {};
  },
};

const base = asyncStepAction({
  name: 'activateOrderAction',
  label: 'Activate Order',
  description: 'Activates a standard draft order; activation creates its order summary.',
  operationName: 'Activate Order',
  completion: 'activate',
  extraInputs: [
    {
      name: 'orderStatus',
      type: 'STRING',
      required: false,
      description: 'Activated (default) or Draft (the order stays a draft; no summary).',
    },
    {
      name: 'orderLifeCycleType',
      type: 'STRING',
      required: false,
      description: `MANAGED or UNMANAGED (default ${DEFAULT_LIFE_CYCLE}) for the OrderSummary.`,
    },
  ],
  service: activateOrderService,
});

/** The activateOrderAction definition. */
export const activateOrderAction = {
  ...base,
  async run(env: Parameters<typeof base.run>[0], input: Record<string, unknown>) {
    // Bad option values are refused before any operation exists, so they never cost a session its state.
    if (input.orderStatus !== undefined && !STATUSES.includes(String(input.orderStatus))) {
      throw new EngineError('INVALID_INPUT', `orderStatus must be one of ${STATUSES.join(', ')}; got '${String(input.orderStatus)}'.`, [
        'orderStatus',
      ]);
    }
    if (input.orderLifeCycleType !== undefined && !LIFE_CYCLES.includes(String(input.orderLifeCycleType))) {
      throw new EngineError(
        'INVALID_INPUT',
        `orderLifeCycleType must be one of ${LIFE_CYCLES.join(', ')}; got '${String(input.orderLifeCycleType)}'.`,
        ['orderLifeCycleType'],
      );
    }
    return base.run(env, input);
  },
};
