/**
 * Usage requirements of the checkout actions (spec §3) as pure, separately named checks over a
 * facts object the engine loads. The same function decides the statechart's guard and the error
 * returned to the caller: the first failing requirement, in the documented order.
 */
import { EngineError, type ErrorKey } from '../errors.js';
import type { FlowConventionName } from './flow.js';

/** Permissions that let a user invoke checkout actions. */
export const INVOKE_PERMISSIONS = ['ModifyAllData', 'B2BCommerceIntegrator'] as const;

/** The caller as the requirements see it. */
export interface CallerFacts {
  readonly Id: string;
  readonly AccountId: string | null;
  readonly Permissions: readonly string[];
  readonly IsActive: boolean;
}

/** The checkout session fields the requirements read. */
export interface SessionFacts {
  readonly State: string | null;
  readonly NextState: string | null;
  readonly IsProcessing: boolean;
  readonly IsArchived: boolean;
  readonly IsError: boolean;
  /** Why the row can't be restored as a state of its flow (see sessionRowProblem), if it can't. */
  readonly problem?: string | null;
}

/** Everything the usage requirements look at, loaded by the engine in the action's transaction. */
export interface RequirementFacts {
  readonly caller: CallerFacts;
  /** The cart, or null when the id was malformed or no such cart exists. */
  readonly cart: { Id: string; AccountId: string | null; OwnerId: string | null; WebStoreId: string; Status: string } | null;
  /** The effective account exists. */
  readonly accountExists: boolean;
  /** BuyerStatus of the account's BuyerAccount, or null when it has none. */
  readonly buyerStatus: string | null;
  /** The buyer account belongs to a buyer group assigned to the cart's store. */
  readonly storeMember: boolean;
  /** The caller's share on the cart, if any. */
  readonly shareAccess: 'Read' | 'Edit' | null;
  /** The active (non-archived) session, or null. */
  readonly session: SessionFacts | null;
  /** Status of the session's current BackgroundOperation, or null. */
  readonly operationStatus: string | null;
}

/** One usage requirement: a number, what it asks, the error when it fails, and its check. */
export interface Requirement {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly error: ErrorKey;
  /** `convention`: how the flow reads State/NextState (requirement 7 differs; default `source`). */
  readonly check: (facts: RequirementFacts, step: string, convention?: FlowConventionName) => boolean;
}

/** The step keys that place a PendingClosed cart's order. */
export const PLACING_STEPS: readonly string[] = ['cartToOrder', 'authorizePayment', 'activateOrder'];

const isMad = (f: RequirementFacts) => f.caller.Permissions.includes('ModifyAllData');

/**
 * Whether the caller can see the cart at all: it exists and the caller holds ModifyAllData, owns
 * it, or has a share of any level on it — exactly the record API's read rule for a cart
 * (engine/access.ts `cartAccess`). Every action answers a cart the caller can't see as it answers
 * a missing id (requirement 1; updateCheckoutSessionStateAction: an unknown session), so no answer
 * tells another account's cart from an id that names nothing (docs/design-choices.md).
 */
export function cartVisible(f: RequirementFacts): boolean {
  return f.cart !== null && (isMad(f) || f.cart.OwnerId === f.caller.Id || f.shareAccess !== null);
}

/** The eight requirements of an async checkout step (spec §3), in the order they are checked. */
export const STEP_REQUIREMENTS: readonly Requirement[] = [
  {
    id: 1,
    name: 'validCart',
    description:
      'cartId is a well-formed WebCart id of an existing cart the caller can see (owner, a share of any level, or ModifyAllData)',
    error: 'INVALID_CART_ID',
    check: cartVisible,
  },
  {
    id: 2,
    name: 'canInvoke',
    description: 'the caller holds ModifyAllData or B2BCommerceIntegrator',
    error: 'USER_CANT_INVOKE',
    check: (f) => f.caller.IsActive && INVOKE_PERMISSIONS.some((p) => f.caller.Permissions.includes(p)),
  },
  {
    id: 3,
    name: 'validAccount',
    description: 'the effective account exists, has an Active BuyerAccount, and the caller may act for it',
    error: 'ACCOUNT_NOT_VALID',
    check: (f) =>
      f.accountExists &&
      f.buyerStatus === 'Active' &&
      (isMad(f) || (f.caller.AccountId !== null && f.caller.AccountId === f.cart!.AccountId)),
  },
  {
    id: 4,
    name: 'storeMember',
    description: "the buyer account is a member of the cart's store",
    error: 'NOT_STORE_MEMBER',
    check: (f) => f.storeMember,
  },
  {
    id: 5,
    name: 'cartEditAccess',
    description: 'the caller owns the cart, has an Edit share on it, or holds ModifyAllData',
    error: 'NO_CART_ACCESS',
    check: (f) => isMad(f) || f.cart!.OwnerId === f.caller.Id || f.shareAccess === 'Edit',
  },
  {
    id: 6,
    name: 'cartInCheckout',
    description: 'the cart status is Checkout (PendingClosed for the steps that place its order)',
    error: 'CART_NOT_IN_CHECKOUT',
    // PendingClosed: the Connect API's place order answered and the order is being placed in the
    // background (src/connect/orders.ts); only the steps that place it may run on such a cart.
    check: (f, step) => f.cart!.Status === 'Checkout' || (f.cart!.Status === 'PendingClosed' && PLACING_STEPS.includes(step)),
  },
  {
    id: 7,
    name: 'sessionAwaitsStep',
    description:
      'an active session exists with State set, NextState = this step and IsProcessing = true (template flows: State and NextState set)',
    error: 'SESSION_NOT_READY',
    check: (f, step, convention = 'source') =>
      f.session !== null &&
      !f.session.IsArchived &&
      !f.session.problem &&
      !!f.session.State &&
      (convention === 'template' ? !!f.session.NextState : f.session.NextState === step && f.session.IsProcessing === true),
  },
  {
    id: 8,
    name: 'noOperationInFlight',
    description: "the session's current BackgroundOperation is not New or Running",
    error: 'ALREADY_IN_PROCESS',
    check: (f) => f.operationStatus !== 'New' && f.operationStatus !== 'Running',
  },
];

/** Requirements 1–5: who may act on this cart at all (shared by every cart action). */
export const CART_ACCESS_REQUIREMENTS = STEP_REQUIREMENTS.slice(0, 5);

/**
 * How a failed requirement is reported: its error, its number and a detail naming it (for
 * requirement 7, also why a session row that can't be restored was refused).
 */
export function rejectionFor(r: Requirement, facts?: RequirementFacts): { error: ErrorKey; requirement: number; detail: string } {
  const problem = r.id === 7 ? facts?.session?.problem : null;
  const why = problem ? ` The session can't be restored: ${problem}; cancel the checkout and start again.` : '';
  return { error: r.error, requirement: r.id, detail: `Requirement ${r.id} failed: ${r.description}.${why}` };
}

/** The caller-facing error of a failed usage requirement; requirement 1 names the `cartId` input. */
export function requirementError(r: Requirement): EngineError {
  const { error, detail } = rejectionFor(r);
  return new EngineError(error, detail, r.id === 1 ? ['cartId'] : []);
}

/** The first requirement in `list` that fails, or null when all hold. */
export function firstFailedRequirement(
  facts: RequirementFacts,
  step: string,
  list: readonly Requirement[] = STEP_REQUIREMENTS,
  convention: FlowConventionName = 'source',
): Requirement | null {
  for (const r of list) if (!r.check(facts, step, convention)) return r;
  return null;
}
