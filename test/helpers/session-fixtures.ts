/** Pure fixtures for statechart tests: a session context and facts under which every usage requirement holds. */
import type { SessionContext } from '../../src/machines/checkout-session.js';
import type { RequirementFacts } from '../../src/domain/requirements.js';

/** A session context resting at `State` (default the default flow's 'start'), nothing in flight. */
export const sessionContext = (over: Partial<SessionContext> = {}): SessionContext => ({
  sessionId: '2z9S',
  cartId: '0a6C',
  State: 'start',
  NextState: null,
  IsProcessing: false,
  IsError: false,
  IsArchived: false,
  BackgroundOperationId: null,
  OrderId: null,
  rejection: null,
  ...over,
});

/** Facts under which every usage requirement holds: the buyer owns the cart, which is in Checkout. */
export const PASSING_FACTS: RequirementFacts = {
  caller: { Id: '005U', AccountId: '001A', Permissions: ['B2BCommerceIntegrator'], IsActive: true },
  cart: { Id: '0a6C', AccountId: '001A', OwnerId: '005U', WebStoreId: '0ZES', Status: 'Checkout' },
  accountExists: true,
  buyerStatus: 'Active',
  storeMember: true,
  shareAccess: null,
  session: null,
  operationStatus: null,
};
