/**
 * The access matrix of issue 8 (item 9), written down as data: for each role and each invocable
 * action on cart A, and each record verb on each object's sample record, the answer the rules
 * promise. These are the rules as stated (docs/guarantees.md), NOT derived
 * from the engine's rule tables: test/security/access-matrix.test.ts performs every cell over HTTP
 * and compares, and scripts/readme-tables.ts renders the tables into docs/access-matrix.md.
 *
 * The world: store S with buyer accounts A (Acme) and B (Globex), both members of its buyer group;
 * cart A (account A, owned by `owner`) in Checkout with its session resting at the Checkout Summary
 * screen (State checkoutSummary, nothing processing); a Draft order of account A with a delivery
 * group, a line, a tax and an adjustment line, and its OrderSummary; catalog and store records.
 *
 * An answer is `ok`, `empty` (a query that answers 200 without the record: the caller can't see
 * it) or the expected `errorCode status`.
 */

/** The columns: who calls. */
export const ROLES = [
  'owner',
  'sameAccount',
  'otherAccount',
  'readShare',
  'editShare',
  'integrator',
  'admin',
  'inactive',
  'expired',
  'revoked',
] as const;
/** One column. */
export type RoleName = (typeof ROLES)[number];

/** What each role is, for the docs and the fixture. */
export const ROLE_LABELS: Readonly<Record<RoleName, string>> = {
  owner: 'Owner (buyer of account A, owns cart A)',
  sameAccount: 'Same-account buyer (account A, no share)',
  otherAccount: 'Other-account buyer (account B)',
  readShare: 'Read share (account A buyer, Read WebCartShare on cart A)',
  editShare: 'Edit share (account A buyer, Edit WebCartShare on cart A)',
  integrator: 'Integrator (B2BCommerceIntegrator, no buyer account)',
  admin: 'ModifyAllData',
  inactive: 'Inactive user (IsActive false, otherwise an Edit share)',
  expired: 'Expired token',
  revoked: 'Revoked token',
};

/** Short column headings for the tables. */
export const ROLE_HEADS: Readonly<Record<RoleName, string>> = {
  owner: 'Owner',
  sameAccount: 'Same acct',
  otherAccount: 'Other acct',
  readShare: 'Read share',
  editShare: 'Edit share',
  integrator: 'Integrator',
  admin: 'MAD',
  inactive: 'Inactive',
  expired: 'Expired',
  revoked: 'Revoked',
};

/** Every buyer role (a live token of a user without ModifyAllData). */
const BUYERS = ['owner', 'sameAccount', 'otherAccount', 'readShare', 'editShare', 'integrator'] as const;

// --- answers -----------------------------------------------------------------------------------
const OK = 'ok';
const EMPTY = 'empty';
/** No live, active user behind the token (expired, revoked, deactivated): refused before anything. */
const NO_SESSION = 'INVALID_SESSION_ID 401';
/** A record the caller can't read answers as if it didn't exist. */
const NOT_FOUND = 'NOT_FOUND 404';
/** Readable but not editable; or an object/verb only ModifyAllData may write. */
const NO_ACCESS = 'INSUFFICIENT_ACCESS_OR_READONLY 403';
/** Written only by the checkout actions (ENGINE_MANAGED), ModifyAllData included. */
const ENGINE_ONLY = 'INVALID_OPERATION 400';
/** A create naming a parent the caller can't read. */
const NO_PARENT = 'INVALID_CROSS_REFERENCE_KEY 400';
/**
 * Requirement 1 (Invalid CartId Input): also a cart the caller can't see at all (no ownership, no
 * share of any level, no ModifyAllData) — a foreign cart answers exactly like a missing id.
 */
const REQ1 = 'UNKNOWN_EXCEPTION 500';
/** Requirement 3 (account not valid for the caller), as Salesforce answers it: a cart the caller sees whose account isn't valid (scenarios cover it; no matrix role reaches it). */
const REQ3 = 'INSUFFICIENT_ACCESS_OR_READONLY 500';
/** updateCheckoutSessionStateAction on a session whose cart the caller can't see: the unknown-session answer. */
const UNKNOWN_SESSION = 'UNKNOWN_EXCEPTION 403';
/** A delete refused because other records still point at the record (a delivery group's lines). */
const DELETE_FAILED = 'DELETE_FAILED 400';
/** Requirement 5 (no edit access to the cart). */
const REQ5 = 'BAD_REQUEST 400';
/** Requirement 7 (the session doesn't wait for this step) or a step-specific state refusal. */
const REQ7 = 'INVALID_OPERATION 403';

/** Access granted, refused by the statechart (INVALID_STATE_CHANGE). */
const STATE_RULE = 'INVALID_OPERATION 409';

/** A full row of answers. */
export type Row = Readonly<Record<RoleName, string>>;

/** A row: `given` answers, every other live role `rest`, the three dead-token roles NO_SESSION. */
function row(given: Partial<Record<RoleName, string>>, rest: string): Row {
  const out = {} as Record<RoleName, string>;
  for (const r of ROLES) out[r] = given[r] ?? (r === 'inactive' || r === 'expired' || r === 'revoked' ? NO_SESSION : rest);
  return out;
}

// --- actions -----------------------------------------------------------------------------------
/**
 * A cart action's row: requirements 1–5 decide who gets through (owner, Edit share, ModifyAllData);
 * who can't see cart A at all (same account without a share, other account, integrator) fails
 * requirement 1 as for a missing id; the Read share sees it and fails requirement 5. Those who pass
 * get `passed`.
 */
function cartAction(passed: string): Row {
  return row(
    { owner: passed, editShare: passed, admin: passed, readShare: REQ5, sameAccount: REQ1, otherAccount: REQ1, integrator: REQ1 },
    'unreachable',
  );
}

/** One invocable action cell row: the action, the input it gets, and the expected answers. */
export interface ActionRow {
  readonly action: string;
  /** What the input asks, for the docs. */
  readonly input: string;
  readonly expected: Row;
}

/** Step actions invoked with `{cartId}` on cart A, whose session waits for none of them (requirement 7). */
const STEPS = [
  'checkCartInventoryAction',
  'priceCart',
  'calcCartPromotionsAction',
  'calcCartShipmentAction',
  'calcCartTaxesAction',
  'cartToOrderAction',
  'authorizePaymentAction',
  'activateOrderAction',
];

/** Actions × roles. */
export const ACTION_MATRIX: readonly ActionRow[] = [
  // An active session exists: the action answers it (no change).
  { action: 'checkoutSessionAction', input: '{cartId}', expected: cartAction(OK) },
  // Its own access check (session's cart: owner or Edit share of the cart's account, or MAD; a cart the
  // caller can't see answers as an unknown session), then the compare-and-set refuses a wrong expCurrentState (409).
  {
    action: 'updateCheckoutSessionStateAction',
    input: '{checkoutSessionId, expCurrentState: cartToOrder (≠ State), nextState: authorizePayment}',
    expected: row(
      {
        owner: 'INVALID_OPERATION 409',
        editShare: 'INVALID_OPERATION 409',
        admin: 'INVALID_OPERATION 409',
        readShare: 'INSUFFICIENT_ACCESS_OR_READONLY 400',
      },
      UNKNOWN_SESSION,
    ),
  },
  ...STEPS.map((action) => ({ action, input: '{cartId}', expected: cartAction(REQ7) })),
  // The delivery method can't change at Checkout Summary (past the delivery step).
  { action: 'setCheckoutDeliveryMethod', input: '{cartId, deliveryMethodId}', expected: cartAction(REQ7) },
  // Cancels the checkout: the cart goes back to Active.
  { action: 'cancelCartAsyncOperation', input: '{cartId}', expected: cartAction(OK) },
];

// --- records -----------------------------------------------------------------------------------
/** The record verbs: read = GET by id, query = SOQL `WHERE Id =` sees it, create/update/delete via sObject REST. */
export const VERBS = ['read', 'query', 'create', 'update', 'delete'] as const;
/** One verb. */
export type VerbName = (typeof VERBS)[number];

/** Who reads an object's sample record (sharing). */
type ReadTie = 'catalog' | 'self' | 'account' | 'cart' | 'none';
const READERS: Record<ReadTie, readonly RoleName[]> = {
  // Catalog and store set-up: every signed-in user reads it.
  catalog: BUYERS,
  // A User record: only that user (the owner's own User).
  self: ['owner'],
  // Account A's records and orders: every buyer of account A.
  account: ['owner', 'sameAccount', 'readShare', 'editShare'],
  // Cart A and what lives under it: its owner and the users it is shared with (Read or Edit).
  cart: ['owner', 'readShare', 'editShare'],
  // Engine ledgers: ModifyAllData only.
  none: [],
};

function readRows(tie: ReadTie): { read: Row; query: Row } {
  const readers = READERS[tie];
  const read = row(Object.fromEntries(BUYERS.map((b) => [b, readers.includes(b) ? OK : NOT_FOUND])), OK);
  const query = row(Object.fromEntries(BUYERS.map((b) => [b, readers.includes(b) ? OK : EMPTY])), OK);
  return { read, query };
}

/** Writes open to ModifyAllData only: every buyer is refused before anything is looked at. */
const adminWrite = (): Row => row({ admin: OK }, NO_ACCESS);
/** Writes no record API does (the checkout actions' own). */
const engineWrite = (): Row => row({}, ENGINE_ONLY);
/**
 * A buyer write of a record under cart A (update/delete): owner and Edit share may; the Read share
 * sees it but may not edit it; everyone else doesn't see it.
 */
const cartEdit = (passed = OK): Row =>
  row(
    {
      owner: passed,
      editShare: passed,
      admin: passed,
      readShare: NO_ACCESS,
      sameAccount: NOT_FOUND,
      otherAccount: NOT_FOUND,
      integrator: NOT_FOUND,
    },
    'unreachable',
  );
/**
 * A buyer delete of cart A or a record under it: only the cart's owner (and ModifyAllData) — an
 * Edit share edits but never deletes (403); the Read share sees it (403); the others don't (404).
 */
const cartDelete = (passed = OK): Row =>
  row(
    {
      owner: passed,
      admin: passed,
      editShare: NO_ACCESS,
      readShare: NO_ACCESS,
      sameAccount: NOT_FOUND,
      otherAccount: NOT_FOUND,
      integrator: NOT_FOUND,
    },
    'unreachable',
  );
/**
 * A buyer create under cart A: the parent reference needs edit access to cart A — a Read share
 * reads it but may not edit it (403), the others can't read it (as if it didn't exist).
 */
const cartCreate = (): Row =>
  row(
    { owner: OK, editShare: OK, admin: OK, readShare: NO_ACCESS, sameAccount: NO_PARENT, otherAccount: NO_PARENT, integrator: NO_PARENT },
    'unreachable',
  );

/** One object's row group: its sample record, the tie that decides reads, and every verb's answers. */
export interface ObjectRows {
  readonly object: string;
  /** Which record is the sample, for the docs. */
  readonly sample: string;
  readonly expected: Readonly<Record<VerbName, Row>>;
  /** Footnotes for partial rights, keyed by verb. */
  readonly notes?: Partial<Record<VerbName, string>>;
  /** An answer that means access was granted and a state rule decided (shown as the verb's letter). */
  readonly granted?: Partial<Record<VerbName, string>>;
}

function obj(
  object: string,
  sample: string,
  tie: ReadTie,
  writes: { create: Row; update: Row; delete: Row },
  notes?: ObjectRows['notes'],
  granted?: ObjectRows['granted'],
): ObjectRows {
  return { object, sample, expected: { ...readRows(tie), ...writes }, ...(notes ? { notes } : {}), ...(granted ? { granted } : {}) };
}

const ADMIN_WRITES = () => ({ create: adminWrite(), update: adminWrite(), delete: adminWrite() });

/** Objects × verbs × roles, in OBJECTS order. */
export const OBJECT_MATRIX: readonly ObjectRows[] = [
  obj('Account', 'account A', 'account', ADMIN_WRITES()),
  obj('BuyerAccount', "account A's", 'account', ADMIN_WRITES()),
  obj(
    'ContactPointAddress',
    "account A's default shipping address (update City)",
    'account',
    {
      // Account A's buyers keep its addresses; a create naming account A by anyone else answers as a missing parent.
      create: row(
        { owner: OK, sameAccount: OK, readShare: OK, editShare: OK, admin: OK, otherAccount: NO_PARENT, integrator: NO_PARENT },
        'unreachable',
      ),
      update: row(
        { owner: OK, sameAccount: OK, readShare: OK, editShare: OK, admin: OK, otherAccount: NOT_FOUND, integrator: NOT_FOUND },
        'unreachable',
      ),
      delete: row(
        { owner: OK, sameAccount: OK, readShare: OK, editShare: OK, admin: OK, otherAccount: NOT_FOUND, integrator: NOT_FOUND },
        'unreachable',
      ),
    },
    { create: "its account's buyers, for their own account only (ParentId fixed); they update and delete it too" },
  ),
  obj('User', "the owner's User", 'self', ADMIN_WRITES()),
  obj('WebStore', 'store S', 'catalog', ADMIN_WRITES()),
  obj('BuyerGroup', "store S's buyer group", 'catalog', ADMIN_WRITES()),
  obj('BuyerGroupMember', "account A's membership", 'account', ADMIN_WRITES()),
  obj('WebStoreBuyerGroup', "store S's", 'catalog', ADMIN_WRITES()),
  obj('Product2', 'a product', 'catalog', ADMIN_WRITES()),
  obj('ProductCategory', 'a category of store S', 'catalog', ADMIN_WRITES()),
  obj('ProductCategoryProduct', "a product's category link", 'catalog', ADMIN_WRITES()),
  obj(
    'ElectronicMediaGroup',
    'the productDetailImage media group, which holds images',
    'catalog',
    { create: adminWrite(), update: adminWrite(), delete: row({ admin: DELETE_FAILED }, NO_ACCESS) },
    { delete: 'ModifyAllData, and only a group without product images (the sample has some: DELETE_FAILED 400)' },
    { delete: DELETE_FAILED },
  ),
  obj('ProductMedia', "a product's image", 'catalog', ADMIN_WRITES()),
  obj(
    'WebCart',
    'cart A (update PoNumber)',
    'cart',
    {
      // A buyer creates a cart only for itself and its own account.
      create: row(
        { owner: OK, sameAccount: OK, readShare: OK, editShare: OK, admin: OK, otherAccount: NO_ACCESS, integrator: NO_ACCESS },
        'unreachable',
      ),
      update: cartEdit(),
      delete: cartDelete(),
    },
    {
      create: 'own cart of own account only',
      update: 'buyer fields only (name, PO number, billing address, payment method); never Status, totals or the owner',
      delete: "the cart's owner only (an Edit share doesn't delete)",
    },
  ),
  obj(
    'WebCartShare',
    "the Read share's row (update AccessLevel)",
    'cart',
    {
      // Only the cart's owner shares it: an Edit share may edit the cart but not its shares.
      create: row(
        {
          owner: OK,
          admin: OK,
          editShare: NO_ACCESS,
          readShare: NO_ACCESS,
          sameAccount: NO_PARENT,
          otherAccount: NO_PARENT,
          integrator: NO_PARENT,
        },
        'unreachable',
      ),
      update: row(
        {
          owner: OK,
          admin: OK,
          editShare: NO_ACCESS,
          readShare: NO_ACCESS,
          sameAccount: NOT_FOUND,
          otherAccount: NOT_FOUND,
          integrator: NOT_FOUND,
        },
        'unreachable',
      ),
      delete: row(
        {
          owner: OK,
          admin: OK,
          editShare: NO_ACCESS,
          readShare: NO_ACCESS,
          sameAccount: NOT_FOUND,
          otherAccount: NOT_FOUND,
          integrator: NOT_FOUND,
        },
        'unreachable',
      ),
    },
    {
      create: "cart's owner only, to an active user of the cart's account (any other user answers as a missing one)",
      update: "cart's owner only; ParentId, UserOrGroupId fixed",
    },
  ),
  obj(
    'CartDeliveryGroup',
    "cart A's group, which holds lines (update ShippingInstructions)",
    'cart',
    // The owner and MAD get past sharing; the group still has lines, so the delete is refused (DELETE_FAILED).
    { create: cartCreate(), update: cartEdit(), delete: cartDelete(DELETE_FAILED) },
    {
      update: 'address and instructions; not the delivery method (an action sets it), CartId fixed',
      delete: "the cart's owner only, and only a group without lines (the sample has lines: DELETE_FAILED 400)",
    },
    { delete: DELETE_FAILED },
  ),
  obj(
    'CartItem',
    "cart A's product line (update Quantity)",
    'cart',
    { create: cartCreate(), update: cartEdit(), delete: cartDelete() },
    {
      create: 'product lines: product, quantity; price from the price book',
      update: 'product and quantity only; never prices, adjustments, totals or Charge lines',
      delete: "the cart's owner only; never Charge lines",
    },
  ),
  obj('CartTax', "a tax of cart A's line", 'cart', ADMIN_WRITES()),
  obj('CartDeliveryGroupMethod', "a delivery option of cart A's group", 'cart', ADMIN_WRITES()),
  obj(
    'CartValidationOutput',
    'a message of cart A (update IsDismissed)',
    'cart',
    { create: adminWrite(), update: cartEdit(), delete: adminWrite() },
    { update: 'IsDismissed only' },
  ),
  obj(
    'CartCheckoutSession',
    "cart A's session (update State to Complete, a move the flow doesn't allow from Checkout Summary)",
    'cart',
    // Owner, Edit share and MAD get past sharing to the statechart, which refuses a move the flow
    // doesn't allow (INVALID_STATE_CHANGE): access passes, the flow decides.
    { create: engineWrite(), update: cartEdit(STATE_RULE), delete: engineWrite() },
    {
      update: "Salesforce's updatable session fields, as the flow's statechart allows (the sample move is refused by the statechart: 409)",
    },
    { update: STATE_RULE },
  ),
  obj('BackgroundOperation', "an operation of cart A's checkout", 'cart', {
    create: engineWrite(),
    update: engineWrite(),
    delete: engineWrite(),
  }),
  obj('Order', "account A's Draft order", 'account', ADMIN_WRITES()),
  obj('OrderDeliveryGroup', "the order's group", 'account', ADMIN_WRITES()),
  obj('OrderItem', "the order's line", 'account', ADMIN_WRITES()),
  obj('OrderItemTaxLineItem', "the line's tax", 'account', ADMIN_WRITES()),
  obj('OrderItemAdjustmentLineItem', "the line's adjustment", 'account', ADMIN_WRITES()),
  obj('OrderSummary', "the order's summary (update Status)", 'account', {
    create: engineWrite(),
    update: adminWrite(),
    delete: engineWrite(),
  }),
  obj('OrderDeliveryMethod', 'a delivery method', 'catalog', ADMIN_WRITES()),
  obj('Pricebook2', "the store's price book", 'catalog', ADMIN_WRITES()),
  obj('PricebookEntry', 'a price', 'catalog', ADMIN_WRITES()),
  obj('WebStorePricebook', "the store's price book link", 'catalog', ADMIN_WRITES()),
  obj('ProductInventory', "a product's stock", 'catalog', ADMIN_WRITES(), {
    read: "QuantityAvailable (on hand); QuantityReserved (every account's holds) is ModifyAllData only",
    query: 'QuantityReserved is no column for a buyer (INVALID_FIELD)',
  }),
  obj('Promotion', 'a promotion', 'catalog', ADMIN_WRITES()),
  obj('TaxRate', 'a tax rate', 'catalog', ADMIN_WRITES()),
  obj('ProductReservation', "cart A's stock hold", 'none', { create: engineWrite(), update: engineWrite(), delete: engineWrite() }),
];

/** A cell's compact letter in the objects table, when its answer is `ok`. */
const LETTER: Record<VerbName, string> = { read: 'R', query: 'Q', create: 'C', update: 'U', delete: 'D' };

/** The markdown of both tables and their footnotes (docs/access-matrix.md). */
export function renderAccessMatrix(): string {
  const out: string[] = [];
  const cell = (v: string) => (v === OK ? '✓' : v === NO_SESSION ? '401' : v);
  out.push('**Actions on cart A** (✓ = runs; otherwise the errorCode and HTTP status answered)', '');
  out.push(`| Action | ${ROLES.map((r) => ROLE_HEADS[r]).join(' | ')} |`, `|---|${ROLES.map(() => '---').join('|')}|`);
  for (const a of ACTION_MATRIX) out.push(`| ${a.action} | ${ROLES.map((r) => cell(a.expected[r])).join(' | ')} |`);
  out.push(
    '',
    `Read: \`${REQ1}\` = requirement 1 (Invalid CartId Input): the caller can't see the cart at all (no ownership, no share, no ModifyAllData), answered exactly as a missing id; ` +
      `\`${REQ3}\` = requirement 3 (a cart the caller sees whose account isn't valid for it; no role here reaches it); \`${REQ5}\` = requirement 5 (sees the cart, no edit access: a Read share); ` +
      `\`${REQ7}\` = access granted, requirement 7 refuses (the session waits for no such step — the world's session rests at Checkout Summary); ` +
      `updateCheckoutSessionStateAction: \`${UNKNOWN_SESSION}\` = the caller can't see the session's cart (the unknown-session answer), \`INSUFFICIENT_ACCESS_OR_READONLY 400\` = sees it without edit access, \`INVALID_OPERATION 409\` = access granted, the compare-and-set refuses a wrong expCurrentState; 401 = \`${NO_SESSION}\`.`,
  );
  out.push(
    '',
    '**Records** (R read by id, Q found by SOQL, C create, U update, D delete; — none; 401 = refused as a dead session; ¹ ² … partial rights below)',
    '',
  );
  out.push(`| Object | ${ROLES.map((r) => ROLE_HEADS[r]).join(' | ')} |`, `|---|${ROLES.map(() => '---').join('|')}|`);
  const notes: string[] = [];
  const SUP = ['¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹', '¹⁰', '¹¹', '¹²', '¹³', '¹⁴', '¹⁵', '¹⁶', '¹⁷', '¹⁸', '¹⁹', '²⁰'];
  for (const o of OBJECT_MATRIX) {
    const marks: Partial<Record<VerbName, string>> = {};
    for (const v of VERBS) {
      const n = o.notes?.[v];
      if (n) {
        marks[v] = SUP[notes.length]!;
        notes.push(`${SUP[notes.length]} ${o.object} ${v}: ${n}.`);
      }
    }
    const cells = ROLES.map((r) => {
      if (VERBS.every((v) => o.expected[v][r] === NO_SESSION)) return '401';
      const letters = VERBS.filter((v) => o.expected[v][r] === OK || o.expected[v][r] === o.granted?.[v]).map((v) =>
        r === 'admin' ? LETTER[v] : LETTER[v] + (marks[v] ?? ''),
      );
      return letters.length ? letters.join(' ') : '—';
    });
    out.push(`| ${o.object} | ${cells.join(' | ')} |`);
  }
  out.push('', ...notes.map((n) => `${n}  `));
  out.push('', 'Roles: ' + ROLES.map((r) => `**${ROLE_HEADS[r]}** = ${ROLE_LABELS[r]}`).join('; ') + '.');
  return out.join('\n');
}

// --- event streams (appended; performed by test/security/streams.test.ts, not rendered in docs/access-matrix.md) ---
/**
 * One event-stream row: how the stream is opened and each role's answer — `ok` = it opens (200)
 * and delivers the event recorded on cart A's session; `empty` = it opens but never delivers that
 * event; otherwise the errorCode and status that refuse the open.
 */
export interface StreamRow {
  readonly stream: string;
  readonly expected: Row;
}

/** Roles × "open a session's event stream" (the statechart page's live feed; docs/inspection.md). */
export const STREAM_MATRIX: readonly StreamRow[] = [
  // Scoped to cart A's session: only its readers may open it; the others get NOT_FOUND, as for a read.
  {
    stream: "GET /page/api/events?session=<cart A's session>",
    expected: row(Object.fromEntries(BUYERS.map((b) => [b, READERS.cart.includes(b) ? OK : NOT_FOUND])), OK),
  },
  // Every readable session: anyone signed in opens it; cart A's event reaches cart A's readers only.
  {
    stream: 'GET /page/api/events',
    expected: row(Object.fromEntries(BUYERS.map((b) => [b, READERS.cart.includes(b) ? OK : EMPTY])), OK),
  },
];
