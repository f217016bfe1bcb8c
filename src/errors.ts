/**
 * The one error table. Every error the engine returns — from an invocable action, a record write,
 * a query, the HTTP layer or the CLI — is declared here once: a stable key, the Salesforce
 * errorCode, the HTTP status and the message. Code branches on keys and codes, never on text.
 */

/** One declared error: the Salesforce `errorCode`, its HTTP status and the message shown to callers. */
export interface ErrorDef {
  readonly code: string;
  readonly status: number;
  readonly message: string;
}

/**
 * Declared errors. Action errors carry the Help-page condition names as messages (spec §3);
 * statuses are reproduced as published, oddities included (UNKNOWN_EXCEPTION 500 for a bad cart
 * id but 403 for a bad session id).
 */
export const ERRORS = {
  // --- usage requirements of the checkout actions (spec §3) -----------------------------------
  INVALID_CART_ID: { code: 'UNKNOWN_EXCEPTION', status: 500, message: "Invalid CartId Input: the cart ID value isn't accepted." },
  USER_CANT_INVOKE: {
    code: 'BAD_REQUEST',
    status: 400,
    message: "User Can't Invoke Action: the caller needs the ModifyAllData or B2BCommerceIntegrator permission.",
  },
  ACCOUNT_NOT_VALID: {
    code: 'INSUFFICIENT_ACCESS_OR_READONLY',
    status: 500,
    message: "Account Associated With the Cart Isn't Valid or Accessible: the effective account isn't valid.",
  },
  NOT_STORE_MEMBER: {
    code: 'INSUFFICIENT_ACCESS_OR_READONLY',
    status: 500,
    message: "User Isn't a Member of the Store: the buyer account isn't a member of the cart's store.",
  },
  NO_CART_ACCESS: {
    code: 'BAD_REQUEST',
    status: 400,
    message: "User Doesn't Have Access to the Cart: the buyer doesn't own the cart and it isn't shared with them with edit access.",
  },
  CART_NOT_IN_CHECKOUT: {
    code: 'INVALID_OPERATION',
    status: 403,
    message: "Cart Isn't in the Checkout State: the cart status isn't Checkout and can't continue.",
  },
  SESSION_NOT_READY: {
    code: 'INVALID_OPERATION',
    status: 403,
    message: "Cart Isn't in the Checkout State: the checkout session isn't waiting for this step.",
  },
  ALREADY_IN_PROCESS: {
    code: 'ALREADY_IN_PROCESS',
    status: 400,
    message: 'Integration Is Already in Progress: only one integration can be processed at a time.',
  },
  CART_CLOSED: { code: 'INVALID_OPERATION', status: 403, message: "The cart is Closed: a closed cart can't start a checkout." },
  // --- checkoutSessionAction's own error table (its Help page; the other actions share the table above) ---
  SESSION_ACCOUNT_NOT_VALID: {
    code: 'BAD_REQUEST',
    status: 400,
    message: "User Doesn't Have Access to the Effective Account: it isn't an active buyer account or the user can't buy for it.",
  },
  SESSION_NOT_STORE_MEMBER: {
    code: 'BAD_REQUEST',
    status: 400,
    message: "User Account Isn't Associated With the Store: the buyer account isn't a member of the cart's store.",
  },
  CART_IN_PROGRESS: {
    code: 'BAD_REQUEST',
    status: 400,
    message: 'Cart Is Already in Progress: the requested cart is already being processed.',
  },
  SESSION_NOT_CREATED: { code: 'UNKNOWN_EXCEPTION', status: 500, message: "The Session Wasn't Created: an internal error stopped it." },
  CANCEL_CLOSED_CART: { code: 'INVALID_OPERATION', status: 403, message: "Cancel a Closed Cart: a closed cart can't be canceled." },
  CART_NOT_CHECKOUTABLE: {
    code: 'INVALID_OPERATION',
    status: 403,
    message: "Cart Isn't in the Checkout State: only an Active cart can start a checkout.",
  },
  // --- a cart becomes at most one order (src/domain/abandon.ts; docs/sessions-and-stock.md §3) ------
  CANCEL_ORDER_PLACED: {
    code: 'INVALID_OPERATION',
    status: 403,
    message:
      "Cancel a Checkout With a Placed Order: the checkout's order is Activated, so canceling can't reopen the cart; nothing was changed.",
  },
  CART_LOCKED_BY_ORDER: {
    code: 'ENTITY_IS_LOCKED',
    status: 400,
    message: 'The cart is locked: its checkout has already made an order, and a cart becomes at most one order; nothing was changed.',
  },
  // --- updateCheckoutSessionStateAction ------------------------------------------------------
  STATE_MISMATCH: {
    code: 'INVALID_OPERATION',
    status: 409,
    message: "Expected Validation Error: the checkout session's current state isn't the expected one.",
  },
  INVALID_SESSION_ID: {
    code: 'UNKNOWN_EXCEPTION',
    status: 403,
    message: 'Invalid Checkout Session ID: no active checkout session has this ID.',
  },
  SESSION_NO_ACCESS: {
    code: 'INSUFFICIENT_ACCESS_OR_READONLY',
    status: 400,
    message: "Invalid Session or Inadequate User Access: the user can't update this checkout session.",
  },
  // --- invocation and input errors --------------------------------------------------------------
  UNKNOWN_ACTION: { code: 'NOT_FOUND', status: 404, message: 'The requested action does not exist.' },
  INVALID_INPUT: { code: 'INVALID_INPUT', status: 400, message: 'The input is missing or malformed.' },
  REQUIRED_FIELD_MISSING: { code: 'REQUIRED_FIELD_MISSING', status: 400, message: 'Required fields are missing:' },
  INVALID_TYPE: { code: 'INVALID_TYPE', status: 400, message: 'Invalid type:' },
  INVALID_FIELD: { code: 'INVALID_FIELD', status: 400, message: 'Invalid field:' },
  INVALID_ID_FIELD: { code: 'MALFORMED_ID', status: 400, message: 'Malformed id:' },
  INVALID_FIELD_VALUE: { code: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', status: 400, message: 'Invalid field value:' },
  FIELD_VALUE_TYPE: { code: 'INVALID_TYPE_ON_FIELD_IN_RECORD', status: 400, message: 'Invalid field value:' },
  STRING_TOO_LONG: { code: 'STRING_TOO_LONG', status: 400, message: 'Value too long:' },
  NUMBER_OUTSIDE_VALID_RANGE: {
    code: 'NUMBER_OUTSIDE_VALID_RANGE',
    status: 400,
    message: 'Value outside of valid range on numeric field:',
  },
  FIELD_INTEGRITY: { code: 'FIELD_INTEGRITY_EXCEPTION', status: 400, message: 'The field value does not satisfy an integrity rule.' },
  // --- line rules (issue 17, src/domain/line-rules.ts) ----------------------------------------
  QUANTITY_SCALE: {
    code: 'NUMBER_OUTSIDE_VALID_RANGE',
    status: 400,
    message:
      "Quantity outside of the product's quantity scale: the product is sold in whole units unless its QuantityScale allows decimals.",
  },
  LINE_ROUNDS_TO_FREE: {
    code: 'FIELD_INTEGRITY_EXCEPTION',
    status: 400,
    message: "A priced product line can't round to a free line: its quantity × unit price rounds to 0.00.",
  },
  DUPLICATE_VALUE: { code: 'DUPLICATE_VALUE', status: 400, message: 'A record with this value already exists.' },
  INVALID_CROSS_REFERENCE: { code: 'INVALID_CROSS_REFERENCE_KEY', status: 400, message: 'A referenced record does not exist.' },
  NOT_FOUND: { code: 'NOT_FOUND', status: 404, message: 'The requested resource does not exist.' },
  ENTITY_IS_DELETED: { code: 'ENTITY_IS_DELETED', status: 404, message: 'The record has been deleted.' },
  INSUFFICIENT_ACCESS: {
    code: 'INSUFFICIENT_ACCESS_OR_READONLY',
    status: 403,
    message: "The user doesn't have access to this record.",
  },
  INVALID_STATE_CHANGE: {
    code: 'INVALID_OPERATION',
    status: 409,
    message: "The checkout session's State can only move to the flow's next screen state while no step is processing.",
  },
  SESSION_FIELD_NOT_WRITABLE: {
    code: 'INVALID_OPERATION',
    status: 400,
    message: "This CartCheckoutSession field can't take this value: the flow's statechart doesn't allow the write.",
  },
  ENGINE_MANAGED: {
    code: 'INVALID_OPERATION',
    status: 400,
    message: 'Records of this type are created and changed by the checkout actions, not by record writes.',
  },
  CART_STATUS_MANAGED: {
    code: 'INVALID_OPERATION',
    status: 400,
    message:
      "A cart's Checkout status is managed by the checkout actions: use checkoutSessionAction to start and cancelCartAsyncOperation to stop a checkout.",
  },
  READ_ONLY_FIELD: { code: 'INVALID_FIELD_FOR_INSERT_UPDATE', status: 400, message: 'The field is read-only.' },
  // --- write rules of the object metadata (objects.ts `write`, `fixed`; docs/guarantees.md) -------
  FIELD_NOT_WRITABLE: {
    code: 'INVALID_FIELD_FOR_INSERT_UPDATE',
    status: 400,
    message:
      "Unable to create/update fields: the caller's permissions don't allow writing them (a buyer writes only what a storefront buyer writes; prices, taxes, charges and orders come from checkout).",
  },
  FIELD_NOT_UPDATABLE: {
    code: 'INVALID_FIELD_FOR_INSERT_UPDATE',
    status: 400,
    message: 'Unable to update fields: they are set when the record is created and never change.',
  },
  DELETE_RESTRICTED: {
    code: 'DELETE_FAILED',
    status: 400,
    message: 'Your attempt to delete the record could not be completed because other records still point at it:',
  },
  RECORD_LOCKED: {
    code: 'ENTITY_IS_LOCKED',
    status: 400,
    message: 'The record is locked: a Closed cart and an Activated order are final.',
  },
  INITIAL_STATE_NOT_ALLOWED: {
    code: 'INSUFFICIENT_ACCESS_OR_READONLY',
    status: 403,
    message: "Only a user with ModifyAllData can start a checkout at a state other than the flow's first state.",
  },
  MALFORMED_QUERY: { code: 'MALFORMED_QUERY', status: 400, message: 'The SOQL query is malformed or not supported.' },
  INVALID_FIXTURE: { code: 'INVALID_FIXTURE', status: 400, message: 'The fixture is not valid.' },
  INVALID_SCENARIO: { code: 'INVALID_SCENARIO', status: 400, message: 'The scenario file is not valid:' },
  INVALID_FLOW: { code: 'INVALID_FLOW', status: 400, message: 'The checkout flow definition is not valid.' },
  CONFLICT: { code: 'CHECKOUT_CONFLICT', status: 409, message: 'The record was changed by another request; try again.' },
  // --- Commerce Connect Checkout API (src/connect/checkouts.ts, payments.ts, orders.ts) -----------
  CHECKOUT_IN_PROGRESS: {
    code: 'CHECKOUT_CONFLICT',
    status: 409,
    message: 'Another checkout request is still in progress: poll GET checkouts/{checkoutId} until it answers 200, then try again.',
  },
  CHECKOUT_CART_CHANGED: {
    code: 'CHECKOUT_CONFLICT',
    status: 409,
    message: 'The cart changed after the payment was authorized: submit the payment again.',
  },
  CHECKOUT_NOT_CONNECT: {
    code: 'CHECKOUT_CONFLICT',
    status: 409,
    message: "The cart's checkout was started by a flow, not the Checkout API: finish or cancel it there.",
  },
  CHECKOUT_PRECONDITION: { code: 'PRECONDITION_FAILED', status: 412, message: "The checkout can't place an order yet:" },
  CHECKOUT_UNPROCESSABLE: { code: 'UNPROCESSABLE_ENTITY', status: 422, message: "We can't place the order:" },
  CHECKOUT_REFUSED: { code: 'INVALID_OPERATION', status: 400, message: "The checkout can't do that now:" },
  PAYMENT_NOT_REENTERABLE: {
    code: 'INVALID_OPERATION',
    status: 400,
    message: 'A payment was already entered for this checkout (payments are re-enterable from API version 63.0).',
  },
  TOKENIZE_NOT_SUPPORTED: {
    code: 'FUNCTIONALITY_NOT_ENABLED',
    status: 400,
    message: "The store's payment gateway doesn't tokenize cards.",
  },
  INVALID_SESSION: { code: 'INVALID_SESSION_ID', status: 401, message: 'Session expired or invalid.' },
  // --- HTTP edge (src/http): request-level errors in Salesforce REST shape ----------------------
  JSON_PARSER_ERROR: { code: 'JSON_PARSER_ERROR', status: 400, message: 'The request body is not valid JSON.' },
  BODY_TOO_LARGE: { code: 'REQUEST_ENTITY_TOO_LARGE', status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415, message: 'The request body must be application/json.' },
  METHOD_NOT_ALLOWED: { code: 'METHOD_NOT_ALLOWED', status: 405, message: 'HTTP method not allowed for this resource.' },
  HEADERS_TOO_LARGE: { code: 'REQUEST_HEADER_FIELDS_TOO_LARGE', status: 431, message: 'The request headers (URL included) are too large.' },
  BAD_HTTP_REQUEST: { code: 'BAD_REQUEST', status: 400, message: 'The HTTP request is malformed.' },
  REQUEST_TIMEOUT: { code: 'REQUEST_TIMEOUT', status: 408, message: 'The request was not received in time.' },
  TOO_MANY_INPUTS: { code: 'LIMIT_EXCEEDED', status: 400, message: 'Too many inputs in one invocation:' },
  STREAM_LIMIT_EXCEEDED: { code: 'REQUEST_LIMIT_EXCEEDED', status: 429, message: 'Too many open event streams:' },
  // --- OAuth2 token endpoint: codes are OAuth's `error` values, messages its `error_description` ---
  OAUTH_INVALID_GRANT: { code: 'invalid_grant', status: 400, message: 'authentication failure' },
  OAUTH_UNSUPPORTED_GRANT: { code: 'unsupported_grant_type', status: 400, message: 'grant type not supported' },
  OAUTH_INVALID_REQUEST: { code: 'invalid_request', status: 400, message: 'the request is missing a required parameter:' },
  OAUTH_RATE_LIMITED: { code: 'invalid_grant', status: 429, message: 'login rate exceeded:' },
  OAUTH_INVALID_TOKEN: { code: 'unsupported_token_type', status: 400, message: 'this token type is not supported' },
  // --- SOAP Partner API login (src/http/routes/soap.ts): SOAP 1.1 faults, HTTP 500 as Salesforce sends them ---
  // `code` is the fault's exception code (`sf:CODE`), or `Client` for soapenv:Client (a request that isn't a valid login call).
  SOAP_INVALID_LOGIN: { code: 'INVALID_LOGIN', status: 500, message: 'Invalid username, password, security token; or user locked out.' },
  SOAP_UNSUPPORTED_API_VERSION: { code: 'UNSUPPORTED_API_VERSION', status: 500, message: 'Invalid Api version specified on URL:' },
  SOAP_INVALID_SESSION: { code: 'INVALID_SESSION_ID', status: 500, message: 'Invalid Session ID found in SessionHeader: Illegal Session' },
  SOAP_CLIENT: { code: 'Client', status: 500, message: 'The SOAP request is not a valid login call:' },
  ENGINE_CLOSED: { code: 'SERVICE_UNAVAILABLE', status: 503, message: 'The checkout engine is shut down.' },
  INTERNAL: { code: 'UNKNOWN_EXCEPTION', status: 500, message: 'An unexpected error occurred.' },
  // --- database faults (src/storage/sqlite/index.ts, src/storage/postgres/index.ts; docs/reliability.md) ---
  UNABLE_TO_LOCK_ROW: {
    code: 'UNABLE_TO_LOCK_ROW',
    status: 409,
    message:
      'unable to obtain exclusive access to this record: another transaction held its lock longer than the lock wait allows; nothing was changed, try again.',
  },
  STORAGE_FULL: {
    code: 'STORAGE_LIMIT_EXCEEDED',
    status: 507,
    message: 'storage limit exceeded: the database has no space left for this write; nothing was changed.',
  },
  STORAGE_UNAVAILABLE: {
    code: 'SERVICE_UNAVAILABLE',
    status: 503,
    message: 'The database is unavailable (connection lost or refused); try again.',
  },
  STORAGE_TIMEOUT: {
    code: 'REQUEST_RUNNING_TOO_LONG',
    status: 503,
    message:
      'Your request was running for too long, and has been stopped: a database statement exceeded the statement timeout; nothing was changed, try again.',
  },
  // --- completion invariants (src/domain/completion-invariants.ts; docs/guarantees.md) ----------
  LINE_WITHOUT_DELIVERY_GROUP: {
    code: 'CHECKOUT_LINE_WITHOUT_DELIVERY_GROUP',
    status: 400,
    message: "The cart can't become an order: a cart line isn't in a delivery group of the cart.",
  },
  SHIP_TO_ADDRESS_MISSING: {
    code: 'CHECKOUT_SHIP_TO_ADDRESS_MISSING',
    status: 400,
    message: "The cart can't become an order: a delivery group has no ship-to address.",
  },
  DELIVERY_METHOD_NOT_CHOSEN: {
    code: 'CHECKOUT_DELIVERY_METHOD_NOT_CHOSEN',
    status: 400,
    message: "The cart can't become an order: a delivery group has no chosen delivery method or no delivery charge.",
  },
  CART_RECALCULATION_REQUIRED: {
    code: 'CHECKOUT_RECALCULATION_REQUIRED',
    status: 400,
    message: 'Recalculate the cart: it changed after a checkout computation (inventory, prices, promotions, shipping or taxes) ran.',
  },
  STOCK_NOT_HELD: { code: 'CHECKOUT_STOCK_NOT_HELD', status: 400, message: "The order can't be placed: stock isn't held for every line." },
  PAYMENT_NOT_AUTHORIZED: {
    code: 'CHECKOUT_PAYMENT_NOT_AUTHORIZED',
    status: 400,
    message: "The order can't be activated: no payment authorization for its total, no PO number and a total that isn't 0.",
  },
  // --- Cart Calculate (src/engine/cart-calculate.ts) ------------------------------------------------
  CART_NOT_CALCULABLE: {
    code: 'INVALID_OPERATION',
    status: 409,
    message: "The cart can't be calculated in its status (only Active and Checkout carts are):",
  },
  // --- flow runner (engine.runCheckout) ------------------------------------------------------------
  RUN_CHECKOUT_FAILED: { code: 'INVALID_OPERATION', status: 400, message: 'runCheckout could not continue the checkout:' },
  // --- Flow metadata runtime (src/flows; docs/flow-runtime.md) --------------------------------------
  FLOW_LOAD_ERROR: { code: 'FLOW_LOAD_ERROR', status: 400, message: 'The flow metadata could not be loaded:' },
  FLOW_NAVIGATION_REFUSED: { code: 'INVALID_FLOW_NAVIGATION', status: 400, message: "The navigation doesn't fit the interview's screen:" },
  FLOW_INPUT_INVALID: { code: 'INVALID_FLOW_INPUT', status: 400, message: "The flow input isn't valid:" },
  FLOW_NOT_FOUND: { code: 'FLOW_NOT_FOUND', status: 404, message: 'No flow has that API name:' },
  // --- flow interviews (src/engine/interviews.ts; docs/flow-runtime.md "Running interviews") ---------
  INTERVIEW_BUSY: {
    code: 'UNABLE_TO_LOCK_ROW',
    status: 409,
    message:
      'The flow interview is being navigated by another request (or changed while this one waited): nothing was run; read the interview again, then navigate.',
  },
  INTERVIEW_ENDED: {
    code: 'INVALID_OPERATION',
    status: 409,
    message: "The flow interview has ended (Finished or Error) and can't be navigated.",
  },
  // --- inspection (src/inspect, issue 10) ------------------------------------------------------------
  INSPECTOR_UNREACHABLE: { code: 'INSPECTOR_UNREACHABLE', status: 502, message: 'The Stately inspector could not be reached.' },
} as const satisfies Record<string, ErrorDef>;

/** A key of the error table. */
export type ErrorKey = keyof typeof ERRORS;

/** An error raised by the engine: carries its table key, code, HTTP status and the fields it names. */
export class EngineError extends Error {
  readonly key: ErrorKey;
  readonly code: string;
  readonly status: number;
  readonly fields: string[];

  constructor(key: ErrorKey, detail?: string, fields: string[] = []) {
    const def: ErrorDef = ERRORS[key];
    super(detail ? `${def.message} ${detail}` : def.message);
    this.name = 'EngineError';
    this.key = key;
    this.code = def.code;
    this.status = def.status;
    this.fields = fields;
  }

  /** The Salesforce REST error body item: `{ message, errorCode, fields }`. */
  toRest(): { message: string; errorCode: string; fields: string[] } {
    return { message: this.message, errorCode: this.code, fields: this.fields };
  }
}

/**
 * A database fault as callers see it: one of the storage keys above, with the driver's error as
 * `cause`. `committed` says what became of the transaction: `false` — it never committed (the
 * database rolled it back), so running it again is safe; `'unknown'` — the connection died while
 * COMMIT was in flight, so it may or may not have committed and must not be blindly re-run.
 */
export class StorageFault extends EngineError {
  readonly committed: false | 'unknown';

  constructor(
    key: 'UNABLE_TO_LOCK_ROW' | 'STORAGE_FULL' | 'STORAGE_UNAVAILABLE' | 'STORAGE_TIMEOUT',
    detail: string,
    committed: false | 'unknown',
    cause?: unknown,
  ) {
    super(key, detail);
    this.name = 'StorageFault';
    this.committed = committed;
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** A CartValidationOutput a failing step writes. */
export interface StepValidation {
  Level?: 'Info' | 'Warning' | 'Error';
  Type?: string;
  Message: string;
  RelatedEntityId?: string | null;
}

/**
 * Thrown by a step service or an integration to fail its operation with a message and
 * CartValidationOutput rows (src/engine/steps.ts writes them).
 */
export class StepFailed extends Error {
  constructor(
    message: string,
    readonly validations: StepValidation[] = [],
  ) {
    super(message);
    this.name = 'StepFailed';
  }
}

/** Turns anything thrown into an EngineError; unknown failures become INTERNAL without leaking internals. */
export function toEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  return new EngineError('INTERNAL');
}
