/**
 * Completion invariants (docs/guarantees.md "Completion invariants"): what makes a cart fit to become
 * an order and an order fit to be activated, owned by the engine whatever flow runs — the default
 * flow, Salesforce's templates, a store's own flow. One table of data and pure checks over a facts
 * object the engine loads in the action's transaction (src/engine/completion.ts), like the usage
 * requirements (requirements.ts). Adding an invariant is adding one object to COMPLETION_INVARIANTS
 * (and its error row in src/errors.ts).
 */
import { createHash } from 'node:crypto';
import type { ErrorKey } from '../errors.js';
import { freeLineProblem, quantityScaleProblem } from './line-rules.js';

/** Where an invariant is checked: when cartToOrderAction or activateOrderAction runs. */
export type CompletionPoint = 'cartToOrder' | 'activate';

/** A computation a checkout step makes from the cart, stamped when its step commits. */
export type Computation = 'inventory' | 'pricing' | 'promotions' | 'shipping' | 'taxes';

/** The step action that makes each computation (a flow runs it as one of its steps, or not at all). */
export const COMPUTATION_ACTIONS: Readonly<Record<Computation, string>> = {
  inventory: 'checkCartInventoryAction',
  pricing: 'priceCart',
  promotions: 'calcCartPromotionsAction',
  shipping: 'calcCartShipmentAction',
  taxes: 'calcCartTaxesAction',
};

/** The computation a step action makes, if any. */
export function computationOf(action: string | undefined): Computation | null {
  for (const [c, a] of Object.entries(COMPUTATION_ACTIONS)) if (a === action) return c as Computation;
  return null;
}

/** A row as the checks read it (stored field names to values). */
export type FactRow = Readonly<Record<string, unknown>>;

/** One computation's stamp: when its step committed and the digest of what it was computed from. */
export interface ComputationStamp {
  readonly at: string;
  readonly digest: string;
}

/** A successful payment authorization, recorded by authorizePaymentAction for the order it paid. */
export interface PaymentStamp {
  readonly orderId: string;
  readonly amount: number;
  readonly authorizationCode: string;
}

/**
 * An authorization made before the order exists (the Connect Checkout API's Auth payment): the
 * order's authorizePayment step uses it instead of asking the gateway again while the order's
 * payment method, total and currency are the ones it authorized.
 */
export interface PreauthorizationStamp {
  readonly paymentMethodId: string;
  readonly amount: number;
  readonly currencyIsoCode: string;
  readonly authorizationCode: string;
}

/** What the session records about its checkout: a stamp per computation and the payment authorization. */
export interface CompletionStamps {
  readonly computed?: Partial<Record<Computation, ComputationStamp>>;
  readonly payment?: PaymentStamp;
  readonly preauthorization?: PreauthorizationStamp;
}

/** Everything the invariants look at, loaded by the engine in the action's transaction. */
export interface CompletionFacts {
  readonly point: CompletionPoint;
  readonly cartId: string;
  /** The cart's lines (product and charge), delivery groups and taxes. */
  readonly items: readonly FactRow[];
  readonly groups: readonly FactRow[];
  readonly taxes: readonly FactRow[];
  /** The computations the session's checkout made: its flow's steps, and those a stand-in of the store's own code stamped (src/engine/flow-standins.ts); a flow without either leaves it to the store's own code. */
  readonly flowComputes: readonly Computation[];
  readonly stamps: CompletionStamps;
  /** The session's order (activate), or null. */
  readonly order: FactRow | null;
  /** The store requires a payment (authorization or PO number) even for a total of 0. */
  readonly paymentRequiredAtZero: boolean;
  /** At activate: the order's lines (OrderItem), which the line rules check there; null at cartToOrder. */
  readonly orderItems?: readonly FactRow[] | null;
  /** The Product2 records the product lines (and order lines) name, by Id. */
  readonly products: ReadonlyMap<string, FactRow>;
  /** ProductInventory rows of the lines' products (a product without one isn't tracked). */
  readonly inventories: readonly FactRow[];
  /** Stock the checkout holds: the cart's Held reservations and (at activate) those kept for its order. */
  readonly holds: readonly FactRow[];
}

/** A failed invariant: its message detail and the record it is about. */
export interface CompletionProblem {
  readonly detail: string;
  readonly relatedEntityId?: string;
}

/** One completion invariant. */
export interface CompletionInvariant {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly error: ErrorKey;
  readonly when: readonly CompletionPoint[];
  readonly check: (facts: CompletionFacts) => CompletionProblem | null;
}

const isCharge = (i: FactRow) => i.Type === 'Charge';
const blank = (v: unknown) => typeof v !== 'string' || v.trim() === '';
const byId = (a: FactRow, b: FactRow) => String(a.Id).localeCompare(String(b.Id));
const num = (v: unknown) => (v === null || v === undefined || v === '' ? null : Number(v));

/** The groups that carry product lines. */
function groupsWithProducts(f: CompletionFacts): FactRow[] {
  const used = new Set(f.items.filter((i) => !isCharge(i)).map((i) => String(i.CartDeliveryGroupId)));
  return f.groups.filter((g) => used.has(String(g.Id)));
}

const ADDRESS = [
  'DeliverToStreet',
  'DeliverToCity',
  'DeliverToState',
  'DeliverToPostalCode',
  'DeliverToCountry',
  'DeliverToLatitude',
  'DeliverToLongitude',
];
const pick = (rows: readonly FactRow[], fields: readonly string[]) =>
  [...rows].sort(byId).map((r) => fields.map((k) => (typeof r[k] === 'number' || typeof r[k] === 'string' ? r[k] : (r[k] ?? null))));
const money = (rows: readonly FactRow[], fields: readonly string[]) => [...rows].sort(byId).map((r) => fields.map((k) => num(r[k])));

/**
 * What each computation depends on, as the rows' fields it reads and the fields it writes: a change
 * of any of them after its step committed makes it stale. (Each step's own later writes — taxes
 * setting TotalLineTaxAmount, promotions setting AdjustmentAmount after pricing — are outside the
 * earlier steps' lists.)
 */
export function computationInput(
  c: Computation,
  items: readonly FactRow[],
  groups: readonly FactRow[],
  taxes: readonly FactRow[],
): unknown {
  const products = items.filter((i) => !isCharge(i));
  switch (c) {
    case 'inventory':
      return [pick(products, ['Id', 'Product2Id']), money(products, ['Quantity'])];
    case 'pricing':
      return [pick(products, ['Id', 'Product2Id']), money(products, ['Quantity', 'ListPrice', 'SalesPrice'])];
    case 'promotions':
      return [pick(products, ['Id', 'Product2Id']), money(products, ['Quantity', 'SalesPrice', 'AdjustmentAmount'])];
    case 'shipping':
      return [pick(products, ['Id', 'Product2Id', 'CartDeliveryGroupId']), money(products, ['Quantity']), pick(groups, ['Id', ...ADDRESS])];
    case 'taxes':
      return [
        pick(items, ['Id', 'Type', 'Product2Id', 'CartDeliveryGroupId']),
        money(items, ['Quantity', 'SalesPrice', 'AdjustmentAmount', 'TotalPrice']),
        pick(groups, ['Id', 'DeliveryMethodId', ...ADDRESS]),
        pick(taxes, ['Id', 'CartItemId']),
        money(taxes, ['Amount']),
      ];
  }
}

/** The digest of what a computation depends on, as the cart stands (the "change stamp" its stamp is compared with). */
export function computationDigest(
  c: Computation,
  items: readonly FactRow[],
  groups: readonly FactRow[],
  taxes: readonly FactRow[],
): string {
  return createHash('sha256')
    .update(JSON.stringify(computationInput(c, items, groups, taxes)))
    .digest('base64url');
}

/** The stamps after `c` was computed on the cart as it stands. */
export function stampComputation(
  stamps: CompletionStamps,
  c: Computation,
  at: string,
  items: readonly FactRow[],
  groups: readonly FactRow[],
  taxes: readonly FactRow[],
): CompletionStamps {
  // Object.assign: a spread copy given a new key takes V8's slow path on every call on Node 20.
  return Object.assign({}, stamps, {
    computed: Object.assign({}, stamps.computed, { [c]: { at, digest: computationDigest(c, items, groups, taxes) } }),
  });
}

/** Parses the stored stamps (anything unreadable is no stamps at all). */
export function parseStamps(raw: unknown): CompletionStamps {
  if (typeof raw !== 'string' || !raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as CompletionStamps) : {};
  } catch {
    return {};
  }
}

/** What the cart needs of each tracked inventory row: the cart's quantity of the row's product. */
function stockNeeds(f: CompletionFacts): { inventory: FactRow; quantity: number; itemId: string }[] {
  const byProduct = new Map<string, { quantity: number; itemId: string }>();
  for (const i of f.items) {
    if (isCharge(i) || typeof i.Product2Id !== 'string') continue;
    const n = byProduct.get(i.Product2Id) ?? { quantity: 0, itemId: String(i.Id) };
    n.quantity += Number(i.Quantity ?? 0);
    byProduct.set(i.Product2Id, n);
  }
  return f.inventories
    .filter((inv) => byProduct.has(String(inv.Product2Id)))
    .map((inv) => ({ inventory: inv, ...byProduct.get(String(inv.Product2Id))! }));
}

/**
 * The first line a line rule (line-rules.ts) refuses, as a problem: the cart's lines at cartToOrder,
 * the order's own lines at activate (what is activated is the order, whoever edited it since).
 */
function lineCheck(
  f: CompletionFacts,
  rule: (line: FactRow, product: FactRow | undefined) => { message: string; lineId: string | null } | null,
): CompletionProblem | null {
  const lines =
    f.point === 'activate' && f.orderItems
      ? f.orderItems.map((l) => (l.Type === 'Delivery Charge' ? { ...l, Type: 'Charge' } : l))
      : f.items;
  for (const line of lines) {
    const p = rule(line, typeof line.Product2Id === 'string' ? f.products.get(line.Product2Id) : undefined);
    if (p) return { detail: p.message, relatedEntityId: p.lineId ?? f.cartId };
  }
  return null;
}

/** The completion invariants, in the order they are checked. */
export const COMPLETION_INVARIANTS: readonly CompletionInvariant[] = [
  {
    id: 'lines-in-groups',
    name: 'Every line belongs to a delivery group of the cart',
    description: 'every cart line names an existing delivery group of the same cart',
    error: 'LINE_WITHOUT_DELIVERY_GROUP',
    when: ['cartToOrder', 'activate'],
    check: (f) => {
      const ids = new Set(f.groups.map((g) => String(g.Id)));
      const orphan = f.items.find((i) => typeof i.CartDeliveryGroupId !== 'string' || !ids.has(i.CartDeliveryGroupId));
      return orphan
        ? {
            detail: `CartItem ${String(orphan.Id)} names delivery group ${String(orphan.CartDeliveryGroupId ?? 'none')}, which isn't a delivery group of cart ${f.cartId}.`,
            relatedEntityId: String(orphan.Id),
          }
        : null;
    },
  },
  {
    id: 'line-quantity-scale',
    name: "Every quantity is within its product's scale",
    description: "every product line's Quantity has at most its product's QuantityScale decimals (default 0: whole units)",
    error: 'QUANTITY_SCALE',
    when: ['cartToOrder', 'activate'],
    check: (f) => lineCheck(f, (line, product) => quantityScaleProblem(line, product)),
  },
  {
    id: 'line-not-free-by-rounding',
    name: 'No priced line rounds to 0.00',
    description: 'a product line with a positive unit price has a line amount above 0.00 at its quantity',
    error: 'LINE_ROUNDS_TO_FREE',
    when: ['cartToOrder', 'activate'],
    check: (f) => lineCheck(f, (line, product) => freeLineProblem(line, product)),
  },
  {
    id: 'ship-to-address',
    name: 'Every delivery group with lines has a ship-to address',
    description: 'every delivery group with product lines has a ship-to country and a street or city',
    error: 'SHIP_TO_ADDRESS_MISSING',
    when: ['cartToOrder', 'activate'],
    check: (f) => {
      const g = groupsWithProducts(f).find((x) => (blank(x.DeliverToStreet) && blank(x.DeliverToCity)) || blank(x.DeliverToCountry));
      return g
        ? {
            detail: `Delivery group '${String(g.Name ?? g.Id)}' has no ship-to address (a country and a street or city).`,
            relatedEntityId: String(g.Id),
          }
        : null;
    },
  },
  {
    id: 'delivery-method-chosen',
    name: 'Every delivery group with lines has a chosen delivery method and its charge line',
    description: 'every delivery group with product lines has a DeliveryMethodId and a delivery charge line (setCheckoutDeliveryMethod)',
    error: 'DELIVERY_METHOD_NOT_CHOSEN',
    when: ['cartToOrder', 'activate'],
    check: (f) => {
      for (const g of groupsWithProducts(f)) {
        if (blank(g.DeliveryMethodId))
          return {
            detail: `Delivery group '${String(g.Name ?? g.Id)}' has no delivery method: choose one (setCheckoutDeliveryMethod).`,
            relatedEntityId: String(g.Id),
          };
        if (!f.items.some((i) => isCharge(i) && i.CartDeliveryGroupId === g.Id)) {
          return {
            detail: `Delivery group '${String(g.Name ?? g.Id)}' has no delivery charge line: choose its delivery method again (setCheckoutDeliveryMethod).`,
            relatedEntityId: String(g.Id),
          };
        }
      }
      return null;
    },
  },
  {
    id: 'computations-current',
    name: 'Inventory, prices, promotions, shipping and taxes were computed after the last change',
    description:
      'each computation the flow makes as a step was stamped after the last change of the lines, addresses or delivery methods it depends on',
    error: 'CART_RECALCULATION_REQUIRED',
    when: ['cartToOrder', 'activate'],
    check: (f) => {
      const stale = f.flowComputes.filter((c) => f.stamps.computed?.[c]?.digest !== computationDigest(c, f.items, f.groups, f.taxes));
      if (!stale.length) return null;
      return {
        detail: `${stale.join(', ')} ${stale.length > 1 ? 'were' : 'was'} not computed after the cart's last change (lines, addresses or delivery methods): run ${stale.map((c) => COMPUTATION_ACTIONS[c]).join(', ')} again.`,
        relatedEntityId: f.cartId,
      };
    },
  },
  {
    id: 'stock-held',
    name: 'Stock is held for every line',
    description:
      'every tracked product line (one with a ProductInventory row) has its quantity held for the checkout: reserved by the inventory step, or — in a flow without one — available to reserve at Cart to Order',
    error: 'STOCK_NOT_HELD',
    when: ['cartToOrder', 'activate'],
    check: (f) => {
      const reservesAtOrder = f.point === 'cartToOrder' && !f.flowComputes.includes('inventory');
      for (const n of stockNeeds(f)) {
        const held = f.holds.filter((h) => h.ProductInventoryId === n.inventory.Id).reduce((s, h) => s + Number(h.Quantity ?? 0), 0);
        const available = reservesAtOrder
          ? held + Math.max(0, Number(n.inventory.QuantityAvailable ?? 0) - Number(n.inventory.QuantityReserved ?? 0))
          : held;
        if (available < n.quantity) {
          return {
            detail: `${n.quantity} of product ${String(n.inventory.Product2Id)} needed, ${available} ${reservesAtOrder ? 'available' : 'held'}${reservesAtOrder ? '' : ': check the cart inventory again'}.`,
            relatedEntityId: n.itemId,
          };
        }
      }
      return null;
    },
  },
  {
    id: 'payment-settled',
    name: 'The order is paid: an authorization for its current total, a PO number, or a total of 0',
    description:
      "the order has a payment authorization that succeeded for its current GrandTotalAmount, or a PO number, or a total of exactly 0 (unless the store's CheckoutPaymentRequiredAtZero says otherwise)",
    error: 'PAYMENT_NOT_AUTHORIZED',
    when: ['activate'],
    check: (f) => {
      const o = f.order;
      if (!o) return null;
      const total = Number(o.GrandTotalAmount ?? 0);
      const p = f.stamps.payment;
      if (p && p.orderId === o.Id && p.authorizationCode && p.authorizationCode === o.PaymentAuthorizationCode && p.amount === total)
        return null;
      if (!blank(o.PoNumber)) return null;
      if (total === 0 && !f.paymentRequiredAtZero) return null;
      const why =
        p && p.orderId === o.Id
          ? `the authorization was for ${p.amount}, the order's total is ${total}`
          : 'no payment was authorized and the order has no PO number';
      return { detail: `Cannot complete order. Missing Payment Information: ${why}.`, relatedEntityId: String(o.Id) };
    },
  },
];

/** The first invariant checked at `facts.point` that fails, with its problem, or null when all hold. */
export function firstBrokenInvariant(
  facts: CompletionFacts,
  list: readonly CompletionInvariant[] = COMPLETION_INVARIANTS,
): { invariant: CompletionInvariant; problem: CompletionProblem } | null {
  for (const invariant of list) {
    if (!invariant.when.includes(facts.point)) continue;
    const problem = invariant.check(facts);
    if (problem) return { invariant, problem };
  }
  return null;
}
