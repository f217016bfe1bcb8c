/**
 * The access matrix of the Commerce Connect routes (issue 21), written down as data: for each role
 * and each Connect route group, the answer the rules promise (docs/connect-api.md "Who may call",
 * src/connect/context.ts). As for the record API's matrix (access-matrix.ts), these are the rules
 * as stated, not derived from the code: test/security/connect-access-matrix.test.ts performs every
 * cell over HTTP and compares, and scripts/readme-tables.ts renders the table into
 * docs/access-matrix.md.
 *
 * The world: the demo store with buyer accounts A (Acme: buyer `owner`, who owns cart A, and an
 * inactive user) and B (Globex: buyer `otherAccount`), both members of the store's buyer group;
 * an administrator with ModifyAllData and no account, who names account A as `effectiveAccountId`.
 * Every request names account A's records (cart A, its checkout, its addresses, its order
 * summary); the other account's buyer calls in its own context, as a hostile buyer would.
 *
 * An answer is `ok` (the route's success status) or the expected `errorCode status`.
 */

/** The columns: who calls. */
export const CONNECT_ROLES = ['owner', 'otherAccount', 'admin', 'inactive', 'none'] as const;
export type ConnectRole = (typeof CONNECT_ROLES)[number];

export const CONNECT_ROLE_LABELS: Readonly<Record<ConnectRole, string>> = {
  owner: 'Buyer of account A (owns cart A)',
  otherAccount: 'Buyer of account B (calls with account A’s ids)',
  admin: 'Store administrator with ModifyAllData (`effectiveAccountId` = account A)',
  inactive: 'Inactive user of account A (IsActive false after login)',
  none: 'No token',
};

export const CONNECT_ROLE_HEADS: Readonly<Record<ConnectRole, string>> = {
  owner: 'Buyer A',
  otherAccount: 'Buyer B',
  admin: 'MAD',
  inactive: 'Inactive',
  none: 'No token',
};

const OK = 'ok';
/** No live, active user behind the token: refused before anything. */
const NO_SESSION = 'INVALID_SESSION_ID 401';
/** Account A's record from account B's context answers as a missing one. */
const NOT_FOUND = 'NOT_FOUND 404';

export type ConnectRow = Readonly<Record<ConnectRole, string>>;

/** Buyer A and the administrator pass; buyer B gets `other`; no live session is 401. */
function row(other: string): ConnectRow {
  return { owner: OK, admin: OK, otherAccount: other, inactive: NO_SESSION, none: NO_SESSION };
}

/** The route groups of the Connect API and the calls that stand for them. */
export type ConnectGroup = 'catalog reads' | 'addresses' | 'carts' | 'cart items' | 'checkouts' | 'payments' | 'orders';

/** One call of the matrix, in the order the test performs them (later calls use what earlier ones made). */
export interface ConnectCall {
  readonly group: ConnectGroup;
  /** Method and path (under `/services/data/v63.0/commerce/webstores/{store}`), for the docs. */
  readonly call: string;
  /** The success status of the `ok` cells. */
  readonly success: number;
  readonly expected: ConnectRow;
}

export const CONNECT_MATRIX: readonly ConnectCall[] = [
  // The catalog is the store's: every member account's buyer reads it.
  { group: 'catalog reads', call: 'POST search/product-search', success: 201, expected: row(OK) },
  { group: 'catalog reads', call: 'GET products/{product}', success: 200, expected: row(OK) },
  { group: 'catalog reads', call: 'GET pricing/products/{product}', success: 200, expected: row(OK) },
  { group: 'addresses', call: 'GET accounts/{account A}/addresses', success: 200, expected: row(NOT_FOUND) },
  { group: 'addresses', call: 'POST accounts/{account A}/addresses', success: 201, expected: row(NOT_FOUND) },
  { group: 'addresses', call: 'PATCH accounts/{account A}/addresses/{address of A}', success: 200, expected: row(NOT_FOUND) },
  { group: 'carts', call: 'GET carts/{cart A}', success: 200, expected: row(NOT_FOUND) },
  { group: 'cart items', call: 'GET carts/{cart A}/cart-items', success: 200, expected: row(NOT_FOUND) },
  { group: 'cart items', call: 'POST carts/{cart A}/cart-items', success: 201, expected: row(NOT_FOUND) },
  { group: 'cart items', call: 'PATCH carts/{cart A}/cart-items/{item of A}', success: 200, expected: row(NOT_FOUND) },
  { group: 'checkouts', call: 'POST checkouts {cartId: cart A}', success: 202, expected: row(NOT_FOUND) },
  { group: 'checkouts', call: 'GET checkouts/{checkout A}', success: 200, expected: row(NOT_FOUND) },
  { group: 'checkouts', call: 'PATCH checkouts/{checkout A}', success: 202, expected: row(NOT_FOUND) },
  // Tokenizing a card touches no account's record: buyer B tokenizes its own card.
  { group: 'payments', call: 'POST payments/token', success: 201, expected: row(OK) },
  { group: 'payments', call: 'POST checkouts/{checkout A}/payments', success: 201, expected: row(NOT_FOUND) },
  { group: 'orders', call: 'POST checkouts/{checkout A}/orders', success: 201, expected: row(NOT_FOUND) },
  { group: 'orders', call: 'GET order-summaries/{summary of A}', success: 200, expected: row(NOT_FOUND) },
  { group: 'orders', call: 'GET order-summaries', success: 200, expected: row(OK) },
];

/** The markdown of the table (docs/access-matrix.md, block `connect-access-matrix`). */
export function renderConnectAccessMatrix(): string {
  const cell = (v: string) => (v === OK ? '✓' : v === NO_SESSION ? '401' : v);
  const out = [
    '**Commerce Connect routes** (under `/services/data/vXX.X/commerce/webstores/{webstoreId}/`; ✓ = the route’s success status; otherwise the errorCode and HTTP status answered)',
    '',
    `| Group | Call | ${CONNECT_ROLES.map((r) => CONNECT_ROLE_HEADS[r]).join(' | ')} |`,
    `|---|---|${CONNECT_ROLES.map(() => '---').join('|')}|`,
  ];
  for (const c of CONNECT_MATRIX) out.push(`| ${c.group} | \`${c.call}\` | ${CONNECT_ROLES.map((r) => cell(c.expected[r])).join(' | ')} |`);
  out.push(
    '',
    `\`${NOT_FOUND}\`: account A's record asked for in account B's context answers exactly as a missing id (no existence oracle); ` +
      `buyer B's \`GET order-summaries\` lists only B's own summaries (none of A's), and its \`payments/token\` tokenizes its own card. 401 = \`${NO_SESSION}\`.`,
    '',
    'Roles: ' + CONNECT_ROLES.map((r) => `**${CONNECT_ROLE_HEADS[r]}** = ${CONNECT_ROLE_LABELS[r]}`).join('; ') + '.',
  );
  return out.join('\n');
}
