/**
 * Abandoning a checkout, pure: what each way out of a checkout does given the order the checkout
 * has already made. A cart becomes at most one order, ever (docs/sessions-and-stock.md §3):
 *
 * - before cartToOrder there is no order, and every way out reopens the cart and gives back its stock;
 * - a **draft** order (cartToOrder ran, or activateOrderAction `{orderStatus: 'Draft'}`) is
 *   abandoned with its checkout: cancel and expiry delete it (with its lines, groups, tax and
 *   adjustment rows) and give back every unit it or the checkout held, then the cart is Active;
 *   a buyer's cart change is refused (the cart is locked by its order: cancel first);
 * - a **placed** order (Activated, or any status other than Draft) stands: cancel and a cart
 *   change are refused, expiry leaves the checkout alone (the buyer finishes at Order
 *   Confirmation, which closes the cart), and the order keeps its stock.
 *
 * A failed step (the session lands in `error`) releases only the checkout's Held stock; a draft
 * order's stock stays with the draft until cancel or expiry deletes it.
 * The engine applies the plan in src/engine/cart.ts (`cancelCheckout`) and src/engine/steps.ts (a failed step).
 */
import type { ErrorKey } from '../errors.js';
import type { ReleaseReason } from './stock.js';

/** The ways a checkout is left without finishing. */
export const ABANDON_PATHS = ['cancel', 'expiry', 'cartChange', 'stepError'] as const;
/** A way a checkout is left without finishing. */
export type AbandonPath = (typeof ABANDON_PATHS)[number];

/** The cart's order as the decision sees it: none yet, a draft, or placed (Activated or beyond). */
export type OrderStanding = 'none' | 'draft' | 'placed';

/** The standing of a cart's order from its Status (`null`/`undefined`: no order). */
export function orderStanding(status: unknown): OrderStanding {
  if (status === null || status === undefined) return 'none';
  return status === 'Draft' ? 'draft' : 'placed';
}

/** What abandoning a checkout does. */
export type AbandonPlan =
  | {
      /** The checkout ends: the operation is Canceled, the session archived, the cart Active again. */
      readonly kind: 'abandon';
      /** The draft order is deleted with its lines, groups, tax and adjustment rows. */
      readonly deleteDraft: boolean;
      /** Which stock goes back: the checkout's Held holds, plus (`withDraft`) the draft order's Ordered ones. */
      readonly release: 'held' | 'heldAndDraft';
      readonly reason: ReleaseReason;
    }
  | {
      /** Nothing is changed and the caller gets this error. */
      readonly kind: 'refuse';
      readonly error: ErrorKey;
      readonly detail: string;
    }
  | {
      /** Nothing is changed, silently: the checkout goes on (expiry of a placed order's checkout). */
      readonly kind: 'keep';
    }
  | {
      /** The session stays in `error`, the cart in Checkout; only the Held stock goes back. */
      readonly kind: 'releaseHeld';
      readonly reason: ReleaseReason;
    };

const REASON: Record<Exclude<AbandonPath, 'stepError'>, ReleaseReason> = { cancel: 'Canceled', expiry: 'Expired', cartChange: 'Canceled' };

/**
 * The plan for leaving a checkout by `path` when the cart's order stands at `standing`
 * (`orderId` only names the order in refusal messages).
 */
export function abandonPlan(path: AbandonPath, standing: OrderStanding, orderId = ''): AbandonPlan {
  const order = orderId ? `order ${orderId}` : 'order';
  if (path === 'stepError') return { kind: 'releaseHeld', reason: 'StepError' };
  if (standing === 'none') return { kind: 'abandon', deleteDraft: false, release: 'held', reason: REASON[path] };
  if (path === 'cartChange') {
    return standing === 'draft'
      ? {
          kind: 'refuse',
          error: 'CART_LOCKED_BY_ORDER',
          detail: `Its checkout made the draft ${order}; cancel the checkout (which deletes the draft) before changing the cart.`,
        }
      : { kind: 'refuse', error: 'CART_LOCKED_BY_ORDER', detail: `Its checkout placed ${order}; the cart can't change any more.` };
  }
  if (standing === 'placed') {
    return path === 'cancel'
      ? {
          kind: 'refuse',
          error: 'CANCEL_ORDER_PLACED',
          detail: `The checkout placed ${order}; finish the checkout (Order Confirmation closes the cart).`,
        }
      : { kind: 'keep' };
  }
  return { kind: 'abandon', deleteDraft: true, release: 'heldAndDraft', reason: REASON[path] };
}
