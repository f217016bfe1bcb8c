/**
 * The payment-gateway contract behind the `authorizePayment` step, and the default test gateway.
 * A gateway authorizes an amount against a tokenized payment method (WebCart.PaymentMethodId); the
 * engine passes an idempotency key (the order id) so a retried step never authorizes twice.
 */

/** What the engine asks a gateway to authorize. */
export interface PaymentAuthorizationRequest {
  readonly orderId: string;
  readonly cartId: string;
  readonly paymentMethodId: string;
  readonly amount: number;
  readonly currencyIsoCode: string;
  /** Same value on every retry of the same authorization. */
  readonly idempotencyKey: string;
}

/** A gateway's answer: authorized with a code, or declined with a reason. Errors are thrown. */
export type PaymentAuthorizationResult =
  { readonly status: 'AUTHORIZED'; readonly authorizationCode: string } | { readonly status: 'DECLINED'; readonly message: string };

/** A payment gateway. */
export interface PaymentGateway {
  authorize(request: PaymentAuthorizationRequest, opts: { signal: AbortSignal }): Promise<PaymentAuthorizationResult>;
}

/**
 * The default gateway, for tests and demos: a payment method id containing `decline` is declined,
 * one containing `error` makes the gateway fail (throw), anything else is authorized with a code
 * derived from the idempotency key (so a retry yields the same code).
 */
export class TestPaymentGateway implements PaymentGateway {
  /** Every authorization request it received, in order (handy in tests). */
  readonly requests: PaymentAuthorizationRequest[] = [];

  async authorize(request: PaymentAuthorizationRequest): Promise<PaymentAuthorizationResult> {
    this.requests.push(request);
    const pm = request.paymentMethodId.toLowerCase();
    if (pm.includes('error')) throw new Error('The test payment gateway is unavailable.');
    if (pm.includes('decline')) return { status: 'DECLINED', message: 'Your card was declined.' };
    let h = 0;
    for (const ch of request.idempotencyKey) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return { status: 'AUTHORIZED', authorizationCode: `TEST-${h.toString(36).toUpperCase().padStart(7, '0')}` };
  }
}
