/**
 * authorizePaymentAction(cartId): the sync `authorizePayment` step. It runs in the call (no
 * runAsync) through the async-step template, so it has the same requirements, operation and error
 * exit. The rule from the reference: a payment method on the cart is authorized with the payment
 * gateway; no payment method, no PO number on the order and a non-zero total cannot complete
 * ("Cannot complete order. Missing Payment Information."); otherwise there is nothing to authorize.
 * An authorization the checkout already made for this payment method, total and currency (the
 * session's `preauthorization` stamp, see src/domain/completion-invariants.ts) is the order's:
 * the gateway is not asked twice for one payment.
 */
import { StepFailed, type StepService } from '../engine/core.js';
import { asyncStepAction } from './async-step.js';
import { parseStamps } from '../domain/completion-invariants.js';

/** The reference's message for an order that can't be paid. */
export const MISSING_PAYMENT_MESSAGE = 'Cannot complete order. Missing Payment Information.';

interface Authorization {
  paymentMethodId: string | null;
  authorizationCode: string | null;
  /** The order and total the authorization is for. */
  orderId?: string;
  amount?: number;
}

/** Authorizes the cart's payment method against the session's order. */
export const authorizePaymentService: StepService = {
  async compute(ctx): Promise<Authorization> {
    const storage = ctx.core.storage;
    const orderId = ctx.session.OrderId ? String(ctx.session.OrderId) : null;
    // The order and the cart read together where the backend pipelines statements (one round trip);
    // the cart's answer is used only when the order needs an authorization, as if read only then.
    const [orderRead, cartRead] =
      orderId && storage.adapter.batchesWrites
        ? await storage.readTogether(
            (o) => o.get('Order', orderId),
            (o) => o.get('WebCart', ctx.cartId),
          )
        : [null, null];
    if (orderRead?.status === 'rejected') throw orderRead.reason;
    const order = orderRead ? orderRead.value : orderId ? await storage.get('Order', orderId) : undefined;
    if (!order) throw new StepFailed('There is no order to pay for: run cartToOrderAction first.');
    if (order.PaymentAuthorizationCode)
      return { paymentMethodId: String(order.PaymentMethodId), authorizationCode: String(order.PaymentAuthorizationCode) };
    if (cartRead?.status === 'rejected') throw cartRead.reason;
    const cart = cartRead ? cartRead.value : await storage.get('WebCart', ctx.cartId);
    const pm = typeof cart?.PaymentMethodId === 'string' && cart.PaymentMethodId ? cart.PaymentMethodId : null;
    const total = Number(order.GrandTotalAmount ?? 0);
    if (!pm && !order.PoNumber && total !== 0) {
      throw new StepFailed(MISSING_PAYMENT_MESSAGE, [{ Message: MISSING_PAYMENT_MESSAGE, RelatedEntityId: ctx.cartId }]);
    }
    if (!pm) return { paymentMethodId: null, authorizationCode: null };
    // The checkout's own authorization (made before the order), when it authorized exactly this: no second one.
    const currency = String(order.CurrencyIsoCode ?? 'USD');
    const pre = parseStamps(ctx.session._stamps).preauthorization;
    if (pre && pre.paymentMethodId === pm && pre.currencyIsoCode === currency && Math.abs(pre.amount - total) < 0.005)
      return { paymentMethodId: pm, authorizationCode: pre.authorizationCode, orderId: String(order.Id), amount: total };
    const result = await ctx.integrations.paymentGateway.authorize(
      {
        orderId: String(order.Id),
        cartId: ctx.cartId,
        paymentMethodId: pm,
        amount: total,
        currencyIsoCode: currency,
        idempotencyKey: `${String(order.Id)}:${pm}`,
      },
      { signal: ctx.signal },
    );
    if (result?.status === 'DECLINED') {
      const message = `Payment declined: ${result.message}`;
      throw new StepFailed(message, [{ Message: message, RelatedEntityId: ctx.cartId }]);
    }
    if (result?.status !== 'AUTHORIZED' || typeof result.authorizationCode !== 'string') {
      throw new StepFailed("The payment gateway returned an invalid answer; expected { status: 'AUTHORIZED' | 'DECLINED' }.");
    }
    return { paymentMethodId: pm, authorizationCode: result.authorizationCode, orderId: String(order.Id), amount: total };
  },
  async commit(ctx, tx, computed) {
    const auth = computed as Authorization;
    if (auth.authorizationCode && ctx.session.OrderId) {
      await tx.update('Order', String(ctx.session.OrderId), {
        PaymentMethodId: auth.paymentMethodId,
        PaymentAuthorizationCode: auth.authorizationCode,
        LastModifiedDate: ctx.now.toISOString(),
      });
    }
    // The authorization, for the completion invariant payment-settled: it pays this order's total as authorized.
    if (auth.authorizationCode && auth.orderId !== undefined && auth.amount !== undefined) {
      const stamps = {
        ...parseStamps(ctx.session._stamps),
        payment: { orderId: auth.orderId, amount: auth.amount, authorizationCode: auth.authorizationCode },
      };
      return { sessionFields: { _stamps: JSON.stringify(stamps) } };
    }
    return {};
  },
};

const base = asyncStepAction({
  name: 'authorizePaymentAction',
  label: 'Authorize Payment',
  description: "Authorizes the cart's payment method for the draft order (or accepts a PO number or a zero total).",
  operationName: 'Authorize Payment',
  service: authorizePaymentService,
});

/** The authorizePaymentAction definition (sync: it always returns after the authorization finished). */
export const authorizePaymentAction = { ...base, inputs: base.inputs.filter((p) => p.name !== 'runAsync') };
