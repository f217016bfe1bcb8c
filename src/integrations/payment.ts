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

/** A card to tokenize (the Connect API's `cardPaymentMethod`), already checked for shape. */
export interface CardToTokenize {
  readonly cardHolderName: string;
  readonly cardNumber: string;
  readonly expiryMonth: number;
  readonly expiryYear: number;
  readonly cvv: string;
  readonly cardType: string;
}

/** A payment gateway. */
export interface PaymentGateway {
  authorize(request: PaymentAuthorizationRequest, opts: { signal: AbortSignal }): Promise<PaymentAuthorizationResult>;
  /**
   * Optional: turns a card into a payment method token (at most 18 characters: it is stored in
   * WebCart.PaymentMethodId), for the Connect API's `payments/token`. A gateway without it can't tokenize.
   */
  tokenize?(card: CardToTokenize, opts: { signal: AbortSignal }): Promise<{ token: string }>;
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

  /**
   * Test tokens: `pm_` and 15 characters derived from the card. The test card numbers
   * 4000000000000002 (declined) and 4000000000000119 (processing error) get tokens containing
   * `decline` and `error`, which `authorize` answers as it does for such ids.
   */
  async tokenize(card: CardToTokenize): Promise<{ token: string }> {
    let h = 7;
    for (const ch of `${card.cardNumber}|${card.expiryMonth}|${card.expiryYear}`) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    const tail = h.toString(36).padStart(7, '0').slice(-7);
    if (card.cardNumber === '4000000000000002') return { token: `pm_decline_${tail}` };
    if (card.cardNumber === '4000000000000119') return { token: `pm_error___${tail}` };
    return { token: `pm_card_${card.cardNumber.slice(-4)}${tail.slice(0, 3)}` };
  }
}
