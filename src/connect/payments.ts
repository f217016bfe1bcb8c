/**
 * The Connect Checkout API's payments: card tokenization (`payments/token`, through the store's
 * payment gateway) and a checkout's payment (`checkouts/{id}/payments`).
 *
 * A payment is kept on the cart as the engine's checkout reads it (WebCart.PaymentMethodId for a
 * card token, WebCart.PoNumber for a purchase order, the Billing* address) and on the session's
 * Connect data (request type, result, the cart total it was made for). An `Auth` asks the gateway
 * for an authorization of the cart's total now (idempotency key `checkout:<checkoutId>:<token>`),
 * so a decline is answered at once, and records it as the session's `preauthorization` stamp: the
 * order's authorizePayment step uses that authorization when the order's payment method, total and
 * currency are the ones authorized (one gateway authorization per payment), and authorizes the
 * order's total itself only when they aren't (key `orderId:paymentMethodId`), so no order is
 * activated unpaid whatever happened in between.
 */
import { EngineError } from '../errors.js';
import type { CheckoutEngine } from '../engine/engine.js';
import type { CardToTokenize } from '../integrations/payment.js';
import type { Row } from '../storage/port.js';
import type { StoreContext } from './context.js';
import { parseStamps } from '../domain/completion-invariants.js';
import {
  connectData,
  CONNECT_FLOW_ID,
  lockCheckout,
  resolveCheckout,
  type Arrival,
  type CheckoutRef,
  type ConnectData,
} from './checkouts.js';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const CARD_TYPES = ['Visa', 'MasterCard', 'AmericanExpress', 'DinersClub', 'Discover', 'JCB', 'Maestro', 'UnionPay'];

/** Luhn checksum of a digit string. */
function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** The card of a token request, checked field by field (each error names its field). */
export function parseCard(input: unknown, now: Date): CardToTokenize {
  if (!isObject(input)) throw new EngineError('REQUIRED_FIELD_MISSING', 'cardPaymentMethod.', ['cardPaymentMethod']);
  const f = (k: string) => `cardPaymentMethod.${k}`;
  const str = (k: string, re: RegExp, what: string): string => {
    const v = input[k];
    if (v === undefined || v === null || v === '') throw new EngineError('REQUIRED_FIELD_MISSING', `${f(k)}.`, [f(k)]);
    const s = typeof v === 'number' ? String(v) : v;
    if (typeof s !== 'string' || !re.test(s)) throw new EngineError('INVALID_INPUT', `${f(k)} must be ${what}.`, [f(k)]);
    return s;
  };
  const cardNumber = str('cardNumber', /^\d{12,19}$/, '12 to 19 digits');
  if (!luhn(cardNumber))
    throw new EngineError('INVALID_INPUT', `${f('cardNumber')} is not a valid card number (checksum).`, [f('cardNumber')]);
  const expiryMonth = Number(str('expiryMonth', /^(0?[1-9]|1[0-2])$/, 'a month, 1 to 12'));
  const expiryYear = Number(str('expiryYear', /^\d{4}$/, 'a four-digit year'));
  const cvv = str('cvv', /^\d{3,4}$/, '3 or 4 digits');
  const cardHolderName = str('cardHolderName', /^.{1,255}$/, 'a name of 255 characters at most');
  const cardType = str('cardType', /^\w+$/, `one of ${CARD_TYPES.join(', ')}`);
  if (!CARD_TYPES.includes(cardType))
    throw new EngineError('INVALID_INPUT', `${f('cardType')} must be one of ${CARD_TYPES.join(', ')}.`, [f('cardType')]);
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth() + 1;
  if (expiryYear < y || (expiryYear === y && expiryMonth < m) || expiryYear > y + 20)
    throw new EngineError('INVALID_INPUT', `${f('expiryYear')}/${f('expiryMonth')}: the card is expired or the date is out of range.`, [
      f('expiryYear'),
    ]);
  return { cardHolderName, cardNumber, expiryMonth, expiryYear, cvv, cardType };
}

/** POST payments/token: the card → a payment method token through the store's gateway. */
export async function tokenizeCard(engine: CheckoutEngine, _ctx: StoreContext, body: unknown): Promise<{ token: string }> {
  if (!isObject(body)) throw new EngineError('INVALID_INPUT', 'The body must be a JSON object.', []);
  for (const k of Object.keys(body))
    if (!['cardPaymentMethod', 'billingAddress', 'paymentsData', 'effectiveAccountId'].includes(k))
      throw new EngineError('INVALID_INPUT', `Unknown field '${k}' (cardPaymentMethod, billingAddress).`, [k]);
  if (body.billingAddress !== undefined) billingFields(body.billingAddress);
  const card = parseCard(body.cardPaymentMethod, engine.core.now());
  const gateway = engine.integrations.paymentGateway;
  if (!gateway.tokenize) throw new EngineError('TOKENIZE_NOT_SUPPORTED', '', ['cardPaymentMethod']);
  const { token } = await gateway.tokenize(card, { signal: AbortSignal.timeout(engine.core.stepTimeoutMs) });
  if (typeof token !== 'string' || token.length === 0 || token.length > 18)
    throw new EngineError('CHECKOUT_REFUSED', 'The payment gateway answered an unusable token (1 to 18 characters expected).', [
      'cardPaymentMethod',
    ]);
  return { token };
}

const BILLING: Record<string, string> = {
  street: 'BillingStreet',
  city: 'BillingCity',
  region: 'BillingState',
  postalCode: 'BillingPostalCode',
  country: 'BillingCountry',
};

/** A billingAddress as WebCart Billing* fields (street, city and country required). */
export function billingFields(input: unknown): Row {
  if (!isObject(input)) throw new EngineError('INVALID_INPUT', 'billingAddress must be an object of address fields.', ['billingAddress']);
  const ignored = ['name', 'firstName', 'lastName', 'companyName', 'id'];
  const out: Row = {};
  for (const [k, v] of Object.entries(input)) {
    if (!(k in BILLING) && !ignored.includes(k))
      throw new EngineError('INVALID_INPUT', `billingAddress.${k} is not an address field.`, [`billingAddress.${k}`]);
    if (v !== null && (typeof v !== 'string' || v.length > 255))
      throw new EngineError('INVALID_INPUT', `billingAddress.${k} must be a string (255 characters at most).`, [`billingAddress.${k}`]);
    if (k in BILLING) out[BILLING[k]!] = v;
  }
  for (const req of ['street', 'city', 'country'])
    if (typeof input[req] !== 'string' || (input[req] as string).trim() === '')
      throw new EngineError('REQUIRED_FIELD_MISSING', `billingAddress.${req}.`, [`billingAddress.${req}`]);
  return out;
}

const REQUEST_TYPES = ['Auth', 'PostAuth', 'SimplePurchaseOrder', 'ClientRequest'];

/** The Checkout Payment output. */
export interface CheckoutPayment {
  errors: { type: string; title: string; detail: string }[];
  paymentData: Record<string, unknown> | null;
  salesforceResultCode: 'Success' | 'Decline' | 'SystemError' | 'ValidationError';
}

/** POST checkouts/{id}/payments (see the module comment and docs/connect-api.md for the re-entry rules). */
export async function checkoutPayment(
  engine: CheckoutEngine,
  ctx: StoreContext,
  checkoutId: unknown,
  body: unknown,
  arrival?: Arrival,
  resolved?: CheckoutRef,
): Promise<CheckoutPayment> {
  if (!isObject(body)) throw new EngineError('INVALID_INPUT', 'The body must be a JSON object.', []);
  for (const k of Object.keys(body))
    if (!['requestType', 'paymentToken', 'paymentsData', 'billingAddress', 'effectiveAccountId'].includes(k))
      throw new EngineError('INVALID_INPUT', `Unknown field '${k}' (requestType, paymentToken, paymentsData, billingAddress).`, [k]);
  const requestType = body.requestType;
  if (typeof requestType !== 'string' || !REQUEST_TYPES.includes(requestType))
    throw new EngineError('INVALID_INPUT', `requestType must be one of ${REQUEST_TYPES.join(', ')}.`, ['requestType']);
  const token = body.paymentToken;
  if (requestType !== 'ClientRequest' && (typeof token !== 'string' || token.trim() === ''))
    throw new EngineError(
      'REQUIRED_FIELD_MISSING',
      `paymentToken (${requestType === 'SimplePurchaseOrder' ? 'the PO number' : 'the payment method token'}).`,
      ['paymentToken'],
    );
  if (typeof token === 'string' && token.length > (requestType === 'SimplePurchaseOrder' ? 255 : 18))
    throw new EngineError('INVALID_INPUT', 'paymentToken is too long.', ['paymentToken']);
  if (body.paymentsData !== undefined && body.paymentsData !== null && typeof body.paymentsData !== 'string')
    throw new EngineError('INVALID_INPUT', 'paymentsData must be a string.', ['paymentsData']);
  const billing = body.billingAddress === undefined || body.billingAddress === null ? null : billingFields(body.billingAddress);
  // `resolved`: the checkout read with the store context (resolveCheckoutContext), else resolved here as always.
  const ref = resolved ?? (await resolveCheckout(engine, ctx, checkoutId));
  if (ref.session._flow !== CONNECT_FLOW_ID) throw new EngineError('CHECKOUT_NOT_CONNECT', '', ['checkoutId']);
  const cartId = String(ref.cart.Id);
  const held = await lockCheckout(engine, ref, arrival);
  if (ref.session.IsProcessing === true) {
    await held.release();
    throw new EngineError('CHECKOUT_IN_PROGRESS', '', ['checkoutId']);
  }
  try {
    const session = (await engine.admin.get('CartCheckoutSession', String(ref.session.Id)))!;
    const cart = (await engine.admin.get('WebCart', cartId))!;
    if (cart.Status !== 'Checkout')
      throw new EngineError('CHECKOUT_REFUSED', `The cart is ${String(cart.Status)}: the order is placed or being placed.`, ['checkoutId']);
    if (session.IsError === true)
      throw new EngineError('CHECKOUT_REFUSED', 'A calculator failed: cancel the checkout and start again.', ['checkoutId']);
    if (session.State !== 'paymentAndBillingAddress')
      throw new EngineError(
        'CHECKOUT_REFUSED',
        'The checkout has no delivery method and taxes yet: set a delivery address and method first.',
        ['checkoutId'],
      );
    const previous = connectData(session).payment;
    if (previous) {
      if (ctx.version < 63) throw new EngineError('PAYMENT_NOT_REENTERABLE', '', ['checkoutId']);
      const kind = (t: string) => (t === 'SimplePurchaseOrder' ? 'po' : 'card');
      if (kind(previous.requestType) !== kind(requestType))
        throw new EngineError('CHECKOUT_REFUSED', `The payment type can't change (the checkout's payment is ${previous.requestType}).`, [
          'requestType',
        ]);
      if (requestType === 'SimplePurchaseOrder' && ctx.version < 64)
        throw new EngineError('CHECKOUT_REFUSED', 'A purchase order number can be entered again from API version 64.0.', ['paymentToken']);
    }
    const grandTotal = Number(cart.GrandTotalAmount ?? 0);
    const reversed = [...(previous?.reversed ?? [])];
    if (previous?.authorizationCode) reversed.push(previous.authorizationCode);
    let result: CheckoutPayment;
    let payment: NonNullable<ConnectData['payment']>;
    const cartFields: Row = { ...(billing ?? {}) };
    if (requestType === 'SimplePurchaseOrder') {
      cartFields.PoNumber = String(token).trim();
      cartFields.PaymentMethodId = null;
      payment = {
        requestType,
        token: null,
        poNumber: String(token).trim(),
        resultCode: 'Success',
        authorizationCode: null,
        grandTotal,
        reversed,
      };
      result = { errors: [], paymentData: { poNumber: cartFields.PoNumber }, salesforceResultCode: 'Success' };
    } else {
      const pm = typeof token === 'string' ? token.trim() : `client_${String(session.Id).slice(-11)}`;
      let code: CheckoutPayment['salesforceResultCode'];
      let authorizationCode: string | null = null;
      let detail = '';
      try {
        const answer = await engine.integrations.paymentGateway.authorize(
          {
            orderId: '',
            cartId,
            paymentMethodId: pm,
            amount: grandTotal,
            currencyIsoCode: String(cart.CurrencyIsoCode ?? 'USD'),
            idempotencyKey: `checkout:${String(session.Id)}:${pm}`,
          },
          { signal: AbortSignal.timeout(engine.core.stepTimeoutMs) },
        );
        if (answer.status === 'AUTHORIZED') {
          code = 'Success';
          authorizationCode = answer.authorizationCode;
        } else {
          code = 'Decline';
          detail = answer.message;
        }
      } catch (e) {
        code = 'SystemError';
        detail = e instanceof Error ? e.message : String(e);
      }
      if (code !== 'Success') {
        return {
          errors: [{ type: '/commerce/errors/payment-failure', title: 'We could not process the payment.', detail }],
          paymentData: null,
          salesforceResultCode: code,
        };
      }
      cartFields.PaymentMethodId = pm;
      cartFields.PoNumber = null;
      payment = { requestType, token: pm, poNumber: null, resultCode: code, authorizationCode, grandTotal, reversed };
      result = {
        errors: [],
        paymentData: { paymentMethodId: pm, authorizationCode, amount: grandTotal.toFixed(2), requestType },
        salesforceResultCode: 'Success',
      };
    }
    await engine.core.atomically(async (tx) => {
      await tx.update('WebCart', cartId, { ...cartFields, LastModifiedDate: engine.core.now().toISOString() });
      const s = await tx.get('CartCheckoutSession', String(session.Id), { forUpdate: true });
      if (!s) return;
      // The order's authorizePayment uses this authorization (a PO number has none to use).
      const { preauthorization: _replaced, ...stamps } = parseStamps(s._stamps);
      const pre =
        payment.token && payment.authorizationCode
          ? {
              paymentMethodId: payment.token,
              amount: grandTotal,
              currencyIsoCode: String(cart.CurrencyIsoCode ?? 'USD'),
              authorizationCode: payment.authorizationCode,
            }
          : undefined;
      await tx.update('CartCheckoutSession', String(s.Id), {
        _connect: JSON.stringify({ ...connectData(s), payment }),
        _stamps: JSON.stringify(pre ? { ...stamps, preauthorization: pre } : stamps),
      });
    });
    return result;
  } finally {
    await held.release();
  }
}
