/**
 * The Commerce Cart Connect API's services (`…/commerce/webstores/{webstoreId}/carts…`): carts by
 * state or id, their items (paged), item writes, and the Cart Calculate action. Routes are in
 * src/http/routes/connect-carts.ts; docs/connect-api.md "Cart API" describes the HTTP side.
 *
 * - **Which carts a request reaches.** The store and the buyer account come from
 *   `resolveStoreContext` (src/connect/context.ts). A cart is reached when the caller may read it
 *   (record sharing) and it is of that store and that account; `active` is the newest cart of the
 *   caller (a buyer: one they own) in the store for the account with Status Active or Checkout,
 *   `current` the newest one not Closed or PendingDelete. Anything else — another account's cart,
 *   an item of another cart — answers NOT_FOUND exactly like a missing id (no existence oracle).
 * - **Writes reuse the record API's rules** (`engine.createRecordAs` / `updateRecordAs` /
 *   `deleteRecordAs`): quantity bounds and scale, the store's price at add time, buyer-only carts
 *   statuses, a locked cart once its checkout made an order.
 * - **Recalculation.** Each item change then runs the store's Cart Calculate orchestrator
 *   (`engine.calculateCart`, buyer action `cartItemChanged` with the changed item ids) in the same
 *   request, so the answer already holds the recalculated prices.
 * - **A cart in Checkout** (the version rule): before v63 a line change cancels the checkout (the
 *   record API's buyer-line-change rule) and the cart is Active again; from v63 ("simplified cart
 *   cleanup") the checkout is kept (`keepCheckout`) and the orchestrator re-runs prices, promotions,
 *   inventory, and shipping and taxes when the cart has an address.
 * - **202.** While a step of the cart's checkout runs in the background (session `IsProcessing`),
 *   `GET carts/{id}` and `POST …/actions/calculate` answer 202 with `Location` (the cart) and
 *   `Retry-After`; a v63+ item write is refused with CONFLICT (409) then, as Connect's checkout does.
 */
import { EngineError } from '../errors.js';
import { formatMoney, sumMoney } from '../domain/money.js';
import type { CheckoutEngine } from '../engine/engine.js';
import type { CalculateCartResult } from '../engine/cart-calculate.js';
import type { Row } from '../storage/port.js';
import { idOf, type StoreContext } from './context.js';

/** Cart statuses `active` reaches. */
const ACTIVE_STATUSES = ['Active', 'Checkout'];
/** Cart statuses `current` leaves out. */
const NOT_CURRENT = ['Closed', 'PendingDelete'];
/** The version from which a line change keeps the cart's checkout. */
export const KEEP_CHECKOUT_FROM = 63;
/** The version from which the Cart Summary carries `asyncOperationStatus`. */
const ASYNC_STATUS_FROM = 59;
/** The version from which `actions/calculate` exists. */
export const CALCULATE_FROM = 62;
/** The version from which an item's delivery group can be changed. */
const ITEM_GROUP_FROM = 59;
/** Items one batch may add. */
export const MAX_BATCH = 100;
/** The Product2 fields `productFields` may name. */
const PRODUCT_FIELDS = ['Name', 'StockKeepingUnit', 'Description', 'IsActive', 'QuantityScale'];

/** The sort orders of the items list. */
export const ITEM_SORTS = ['CreatedDateAsc', 'CreatedDateDesc', 'NameAsc', 'NameDesc', 'SalesPriceAsc', 'SalesPriceDesc'] as const;

const money = (v: unknown): string => formatMoney(typeof v === 'number' ? v : Number(v ?? 0));
const optMoney = (v: unknown): string | null => (v === null || v === undefined ? null : money(v));

/** A quantity as Connect writes it: a decimal string with at least one decimal ("5.0", "2.5"). */
export function quantityText(q: unknown): string {
  const n = Number(q ?? 0);
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

/** `quantity` of an input: a positive decimal given as a string (as Connect sends it) or a number; INVALID… naming it otherwise. */
export function parseQuantity(value: unknown, field = 'quantity'): number {
  if (value === undefined || value === null || value === '') {
    throw new EngineError('REQUIRED_FIELD_MISSING', `${field}.`, [field]);
  }
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : null;
  if (text === null || !/^\d+(\.\d+)?$/.test(text) || !Number.isFinite(Number(text))) {
    throw new EngineError('FIELD_VALUE_TYPE', `${field}: '${String(value)}' is not a decimal quantity (e.g. "5" or "2.5").`, [field]);
  }
  const n = Number(text);
  if (n <= 0) throw new EngineError('NUMBER_OUTSIDE_VALID_RANGE', `${field}: the quantity must be greater than 0.`, [field]);
  return n;
}

/** A Connect cart-item `type`: only `Product` is added by a buyer (charges are the engine's). */
function productType(value: unknown, field = 'type'): void {
  if (value === undefined || value === null || value === 'Product') return;
  throw new EngineError('INVALID_FIELD_VALUE', `${field}: '${String(value)}' — a buyer adds items of type Product only.`, [field]);
}

const cartMissing = (value: unknown) =>
  new EngineError('NOT_FOUND', `cartStateOrId: no cart '${String(value)}' this user can reach in this store.`, ['cartStateOrId']);
const itemMissing = (value: unknown) =>
  new EngineError('NOT_FOUND', `cartItemId: no cart item '${String(value)}' in this cart.`, ['cartItemId']);

/** Carts of the store and account the caller's `active` / `current` names (a buyer: carts they own), newest first. */
async function ownCarts(engine: CheckoutEngine, ctx: StoreContext): Promise<Row[]> {
  const admin = ctx.caller.Permissions.includes('ModifyAllData');
  return engine.admin.find('WebCart', {
    where: [
      { field: 'WebStoreId', op: '=', value: ctx.webstoreId },
      { field: 'AccountId', op: '=', value: ctx.accountId },
      ...(admin ? [] : [{ field: 'OwnerId', op: '=' as const, value: ctx.caller.Id }]),
    ],
    orderBy: [
      { field: 'CreatedDate', direction: 'desc' },
      { field: 'Id', direction: 'desc' },
    ],
  });
}

/**
 * The cart a `cartStateOrId` names for this request (see the module comment), or NOT_FOUND naming
 * `cartStateOrId` — the same answer for a missing cart, another account's, another store's, or one
 * the caller can't read.
 */
export async function reachCart(engine: CheckoutEngine, ctx: StoreContext, cartStateOrId: string): Promise<Row> {
  if (cartStateOrId === 'active' || cartStateOrId === 'current') {
    const carts = await ownCarts(engine, ctx);
    const cart =
      cartStateOrId === 'active'
        ? carts.find((c) => ACTIVE_STATUSES.includes(String(c.Status)))
        : carts.find((c) => !NOT_CURRENT.includes(String(c.Status)));
    if (!cart) throw cartMissing(cartStateOrId);
    return cart;
  }
  const id = idOf('WebCart', cartStateOrId, 'cartStateOrId');
  try {
    await engine.getRecordAs(ctx.caller, 'WebCart', id);
  } catch (e) {
    if (e instanceof EngineError && e.status === 404) throw cartMissing(cartStateOrId);
    throw e;
  }
  const cart = await engine.admin.get('WebCart', id);
  if (!cart || cart.WebStoreId !== ctx.webstoreId || cart.AccountId !== ctx.accountId) throw cartMissing(cartStateOrId);
  return cart;
}

async function cartLines(engine: CheckoutEngine, cartId: string): Promise<Row[]> {
  return engine.admin.find('CartItem', {
    where: [{ field: 'CartId', op: '=', value: cartId }],
    orderBy: [
      { field: 'CreatedDate', direction: 'asc' },
      { field: 'Id', direction: 'asc' },
    ],
  });
}

/** The cart's active checkout session, if any. */
async function activeSession(engine: CheckoutEngine, cartId: string): Promise<Row | undefined> {
  const sessions = await engine.admin.find('CartCheckoutSession', {
    where: [
      { field: 'WebCartId', op: '=', value: cartId },
      { field: 'IsArchived', op: '=', value: false },
    ],
  });
  return sessions[0];
}

/** Whether a step of the cart's checkout runs in the background now (the cart is being calculated). */
export async function isProcessing(engine: CheckoutEngine, cartId: string): Promise<boolean> {
  return (await activeSession(engine, cartId))?.IsProcessing === true;
}

/** `asyncOperationStatus`: Processing while a checkout step runs, else the last Cart Calculate's outcome (Completed when none ran). */
async function asyncStatus(engine: CheckoutEngine, cartId: string): Promise<'Completed' | 'Errored' | 'Processing'> {
  if (await isProcessing(engine, cartId)) return 'Processing';
  const [last] = await engine.admin.find('BackgroundOperation', {
    where: [
      { field: '_cartId', op: '=', value: cartId },
      { field: 'Name', op: '=', value: 'Cart Calculate' },
    ],
    orderBy: [
      { field: 'CreatedDate', direction: 'desc' },
      { field: 'Id', direction: 'desc' },
    ],
    limit: 1,
  });
  return last?.Status === 'Error' ? 'Errored' : 'Completed';
}

/** The Cart Summary output of a cart (money as decimal strings, as Connect writes them). */
export async function cartSummary(engine: CheckoutEngine, ctx: StoreContext, cart: Row): Promise<Record<string, unknown>> {
  const cartId = String(cart.Id);
  const products = (await cartLines(engine, cartId)).filter((i) => i.Type !== 'Charge');
  const summary: Record<string, unknown> = {
    accountId: cart.AccountId,
    cartId,
    currencyIsoCode: cart.CurrencyIsoCode,
    grandTotalAmount: money(cart.GrandTotalAmount),
    isSecondary: false,
    name: cart.Name,
    ownerId: cart.OwnerId,
    purchaseOrderNumber: cart.PoNumber ?? null,
    status: cart.Status,
    taxType: 'Net',
    totalChargeAmount: money(cart.TotalChargeAmount),
    totalListPrice: money(cart.TotalListPrice),
    totalProductAmount: money(sumMoney(products.map((i) => Number(i.TotalLineAmount ?? 0)))),
    totalProductAmountAfterAdjustments: money(cart.TotalProductAmount),
    totalPromotionalAdjustmentAmount: money(cart.TotalAdjustmentAmount),
    totalProductCount: quantityText(sumMoney(products.map((i) => Number(i.Quantity ?? 0)))),
    totalTaxAmount: money(cart.TotalTaxAmount),
    type: 'Cart',
    uniqueProductCount: Number(cart.UniqueProductCount ?? 0),
    webstoreId: cart.WebStoreId,
  };
  if (ctx.version >= ASYNC_STATUS_FROM) summary.asyncOperationStatus = await asyncStatus(engine, cartId);
  return summary;
}

/** The Cart Item output of a line (`productFields`: Product2 fields for `productDetails.fields`). */
export function cartItemOutput(
  item: Row,
  cart: Row,
  product: Row | undefined,
  productFields: readonly string[] = [],
): Record<string, unknown> {
  const qty = Number(item.Quantity ?? 0);
  const adjustment = Number(item.AdjustmentAmount ?? 0);
  const per = (v: number) => (qty > 0 ? money(v / qty) : money(0));
  return {
    cartId: item.CartId,
    cartItemId: item.Id,
    cartDeliveryGroupId: item.CartDeliveryGroupId,
    currencyIsoCode: cart.CurrencyIsoCode,
    listPrice: optMoney(item.ListPrice),
    name: item.Name,
    productId: item.Product2Id ?? null,
    quantity: quantityText(item.Quantity),
    salesPrice: optMoney(item.SalesPrice),
    totalAdjustmentAmount: money(adjustment),
    totalAmount: money(item.TotalPrice),
    totalListPrice: optMoney(item.TotalListPrice),
    totalPrice: money(item.TotalLineAmount),
    totalTax: money(item.TotalLineTaxAmount),
    type: item.Type ?? 'Product',
    unitAdjustedPrice: per(Number(item.TotalPrice ?? 0)),
    unitAdjustmentAmount: per(adjustment),
    productDetails: {
      productId: item.Product2Id ?? null,
      name: product?.Name ?? item.Name,
      sku: product?.StockKeepingUnit ?? item.Sku ?? null,
      fields: Object.fromEntries(
        productFields.map((f) => [f, product?.[f] === undefined || product[f] === null ? null : String(product[f])]),
      ),
    },
  };
}

async function productsById(engine: CheckoutEngine, ids: readonly unknown[]): Promise<Map<string, Row>> {
  const wanted = [...new Set(ids.filter((x): x is string => typeof x === 'string'))];
  if (!wanted.length) return new Map();
  const rows = await engine.admin.find('Product2', { where: [{ field: 'Id', op: 'in', value: wanted }] });
  return new Map(rows.map((p) => [String(p.Id), p]));
}

/** `GET carts/{cartStateOrId}`: the summary, and whether a checkout step runs (the route answers 202 then). */
export async function getCart(
  engine: CheckoutEngine,
  ctx: StoreContext,
  cartStateOrId: string,
): Promise<{ summary: Record<string, unknown>; processing: boolean }> {
  const cart = await reachCart(engine, ctx, cartStateOrId);
  return { summary: await cartSummary(engine, ctx, cart), processing: await isProcessing(engine, String(cart.Id)) };
}

/** The input of a cart creation (`POST carts`, `PUT carts/active`). */
export interface CartInput {
  name?: unknown;
  /** Secondary carts aren't supported: only false (or absent) is taken. */
  isSecondary?: unknown;
  type?: unknown;
  currencyIsoCode?: unknown;
}

/**
 * Creates the caller's active cart in the store for the account, or returns the active one it
 * already has (`created: false`): one active cart per buyer per store, as Salesforce keeps it.
 */
export async function createCart(
  engine: CheckoutEngine,
  ctx: StoreContext,
  input: CartInput,
): Promise<{ summary: Record<string, unknown>; created: boolean }> {
  if (input.type !== undefined && input.type !== 'Cart') {
    throw new EngineError('INVALID_FIELD_VALUE', `type: '${String(input.type)}' — only Cart is supported.`, ['type']);
  }
  if (input.isSecondary !== undefined && input.isSecondary !== false) {
    throw new EngineError('INVALID_FIELD_VALUE', 'isSecondary: secondary carts are not supported; only false is taken.', ['isSecondary']);
  }
  if (input.name !== undefined && (typeof input.name !== 'string' || !input.name.trim())) {
    throw new EngineError('FIELD_VALUE_TYPE', 'name: a non-empty string is expected.', ['name']);
  }
  const storeCurrency = String(ctx.webstore.DefaultCurrencyIsoCode ?? 'USD');
  if (input.currencyIsoCode !== undefined && input.currencyIsoCode !== storeCurrency) {
    throw new EngineError(
      'INVALID_FIELD_VALUE',
      `currencyIsoCode: '${String(input.currencyIsoCode)}' — the store sells in ${storeCurrency}.`,
      ['currencyIsoCode'],
    );
  }
  const existing = (await ownCarts(engine, ctx)).find((c) => ACTIVE_STATUSES.includes(String(c.Status)));
  if (existing) return { summary: await cartSummary(engine, ctx, existing), created: false };
  const { id } = await engine.createRecordAs(ctx.caller, 'WebCart', {
    Name: typeof input.name === 'string' ? input.name.trim() : 'Cart',
    WebStoreId: ctx.webstoreId,
    AccountId: ctx.accountId,
    OwnerId: ctx.caller.Id,
    CurrencyIsoCode: storeCurrency,
  });
  return { summary: await cartSummary(engine, ctx, (await engine.admin.get('WebCart', id))!), created: true };
}

/** `DELETE carts/{cartStateOrId}`: the record API's cart delete (its checkout canceled, its children with it). */
export async function deleteCart(engine: CheckoutEngine, ctx: StoreContext, cartStateOrId: string): Promise<void> {
  const cart = await reachCart(engine, ctx, cartStateOrId);
  await engine.deleteRecordAs(ctx.caller, 'WebCart', String(cart.Id));
}

/** The items list's query (as received). */
export interface ItemsQuery {
  page?: string;
  pageSize?: string;
  sort?: string;
  productFields?: string;
}

/** A page token: the offset it starts at, opaque to the client. */
const pageToken = (offset: number) => Buffer.from(`cart-items:${offset}`, 'utf8').toString('base64url');

function pageOffset(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  const m = /^cart-items:(\d{1,9})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m) throw new EngineError('INVALID_INPUT', `page: '${token}' is not a page token of this list.`, ['page']);
  return Number(m[1]);
}

function pageSizeOf(value: string | undefined): number {
  if (value === undefined || value === '') return 25;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100) {
    throw new EngineError('INVALID_INPUT', `pageSize: '${value}' — a whole number from 1 to 100 is expected.`, ['pageSize']);
  }
  return Number(value);
}

function productFieldsOf(value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  const fields = value.split(',').map((f) => f.trim());
  if (fields.length > 5) throw new EngineError('INVALID_INPUT', 'productFields: at most 5 fields.', ['productFields']);
  for (const f of fields) {
    if (!PRODUCT_FIELDS.includes(f)) {
      throw new EngineError('INVALID_FIELD', `productFields: '${f}' — one of ${PRODUCT_FIELDS.join(', ')}.`, ['productFields']);
    }
  }
  return fields;
}

function sorted(items: Row[], sort: (typeof ITEM_SORTS)[number]): Row[] {
  const key = sort.replace(/(Asc|Desc)$/, '');
  const dir = sort.endsWith('Desc') ? -1 : 1;
  const value = (r: Row): string | number =>
    key === 'SalesPrice' ? Number(r.SalesPrice ?? 0) : key === 'Name' ? String(r.Name ?? '').toLowerCase() : String(r.CreatedDate ?? '');
  return [...items].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (x < y) return -dir;
    if (x > y) return dir;
    return String(a.Id) < String(b.Id) ? -dir : String(a.Id) > String(b.Id) ? dir : 0;
  });
}

/** `GET carts/{cartStateOrId}/cart-items`: the cart's product items, paged by page tokens. `base`: the list's path. */
export async function listCartItems(
  engine: CheckoutEngine,
  ctx: StoreContext,
  cartStateOrId: string,
  query: ItemsQuery,
  base: string,
): Promise<Record<string, unknown>> {
  const pageSize = pageSizeOf(query.pageSize);
  const offset = pageOffset(query.page);
  const sort = (query.sort ?? 'CreatedDateDesc') as (typeof ITEM_SORTS)[number];
  if (!(ITEM_SORTS as readonly string[]).includes(sort)) {
    throw new EngineError('INVALID_FIELD_VALUE', `sort: '${String(query.sort)}' — one of ${ITEM_SORTS.join(', ')}.`, ['sort']);
  }
  const productFields = productFieldsOf(query.productFields);
  const cart = await reachCart(engine, ctx, cartStateOrId);
  const all = sorted(
    (await cartLines(engine, String(cart.Id))).filter((i) => i.Type !== 'Charge'),
    sort,
  );
  const page = all.slice(offset, offset + pageSize);
  const products = await productsById(
    engine,
    page.map((i) => i.Product2Id),
  );
  const url = (o: number) => {
    const q = new URLSearchParams({ page: pageToken(o), pageSize: String(pageSize), sort });
    if (productFields.length) q.set('productFields', productFields.join(','));
    if (ctx.accountId) q.set('effectiveAccountId', ctx.accountId);
    return `${base}?${q.toString()}`;
  };
  const next = offset + pageSize < all.length ? offset + pageSize : null;
  const previous = offset > 0 ? Math.max(0, offset - pageSize) : null;
  return {
    cartSummary: await cartSummary(engine, ctx, cart),
    cartItems: page.map((i) => ({
      cartItem: cartItemOutput(i, cart, products.get(String(i.Product2Id)), productFields),
      status: 'Success',
      message: null,
    })),
    count: all.length,
    hasErrors: false,
    currentPageToken: pageToken(offset),
    currentPageUrl: url(offset),
    nextPageToken: next === null ? null : pageToken(next),
    nextPageUrl: next === null ? null : url(next),
    previousPageToken: previous === null ? null : pageToken(previous),
    previousPageUrl: previous === null ? null : url(previous),
  };
}

/** Whether the store sells the product: active, with an active price in one of the store's active price books. */
async function storeSellsProduct(engine: CheckoutEngine, ctx: StoreContext, productId: string): Promise<Row | null> {
  const product = await engine.admin.get('Product2', productId);
  if (!product || product.IsActive === false) return null;
  const links = await engine.admin.find('WebStorePricebook', {
    where: [
      { field: 'WebStoreId', op: '=', value: ctx.webstoreId },
      { field: 'IsActive', op: '=', value: true },
    ],
  });
  if (!links.length) return null;
  const books = await engine.admin.find('Pricebook2', {
    where: [
      { field: 'Id', op: 'in', value: links.map((l) => String(l.Pricebook2Id)) },
      { field: 'IsActive', op: '=', value: true },
    ],
  });
  if (!books.length) return null;
  const entries = await engine.admin.count('PricebookEntry', [
    { field: 'Pricebook2Id', op: 'in', value: books.map((b) => String(b.Id)) },
    { field: 'Product2Id', op: '=', value: productId },
    { field: 'IsActive', op: '=', value: true },
  ]);
  return entries > 0 ? product : null;
}

/** The cart's delivery group for new items: its first, or a new `Default Delivery` group (`created`). */
async function deliveryGroupFor(engine: CheckoutEngine, ctx: StoreContext, cartId: string): Promise<{ id: string; created: boolean }> {
  const [group] = await engine.admin.find('CartDeliveryGroup', {
    where: [{ field: 'CartId', op: '=', value: cartId }],
    orderBy: [
      { field: 'CreatedDate', direction: 'asc' },
      { field: 'Id', direction: 'asc' },
    ],
    limit: 1,
  });
  if (group) return { id: String(group.Id), created: false };
  const { id } = await engine.createRecordAs(ctx.caller, 'CartDeliveryGroup', { CartId: cartId, Name: 'Default Delivery' });
  return { id, created: true };
}

/** An item to add (`POST cart-items`, one entry of a batch). */
export interface CartItemInput {
  productId?: unknown;
  quantity?: unknown;
  type?: unknown;
}

/** The result of an item change: the line after it, and the recalculation that followed. */
export interface ItemChange {
  readonly item: Record<string, unknown>;
  readonly calculation: CalculateCartResult | null;
}

/** Adds one item (merging into the cart's line of the same product) without recalculating; returns the line id. */
async function addOne(engine: CheckoutEngine, ctx: StoreContext, cart: Row, input: CartItemInput, prefix = ''): Promise<string> {
  if (!input || typeof input !== 'object' || Array.isArray(input)) {
    throw new EngineError('INVALID_INPUT', `${prefix || 'body'}: a cart item input { productId, quantity, type } is expected.`, [
      prefix || 'body',
    ]);
  }
  productType(input.type, `${prefix}type`);
  if (input.productId === undefined || input.productId === null || input.productId === '') {
    throw new EngineError('REQUIRED_FIELD_MISSING', `${prefix}productId.`, [`${prefix}productId`]);
  }
  const productId = idOf('Product2', input.productId, `${prefix}productId`);
  const quantity = parseQuantity(input.quantity, `${prefix}quantity`);
  if (!(await storeSellsProduct(engine, ctx, productId))) {
    throw new EngineError('NOT_FOUND', `${prefix}productId: no product '${String(input.productId)}' in this store.`, [
      `${prefix}productId`,
    ]);
  }
  const cartId = String(cart.Id);
  const keepCheckout = ctx.version >= KEEP_CHECKOUT_FROM;
  const same = (await cartLines(engine, cartId)).find((i) => i.Type !== 'Charge' && i.Product2Id === productId);
  if (same) {
    await engine.updateRecordAs(
      ctx.caller,
      'CartItem',
      String(same.Id),
      { Quantity: Number(same.Quantity ?? 0) + quantity },
      { keepCheckout },
    );
    return String(same.Id);
  }
  const group = await deliveryGroupFor(engine, ctx, cartId);
  try {
    const { id } = await engine.createRecordAs(
      ctx.caller,
      'CartItem',
      { CartId: cartId, CartDeliveryGroupId: group.id, Product2Id: productId, Quantity: quantity },
      { keepCheckout },
    );
    return id;
  } catch (e) {
    // A refused item leaves the cart as it was: the group made for it goes again.
    if (group.created) await engine.deleteRecordAs(ctx.caller, 'CartDeliveryGroup', group.id);
    throw e;
  }
}

/** Recalculates the cart after item changes (buyer action cartItemChanged), when it is still calculable. */
async function recalculate(
  engine: CheckoutEngine,
  ctx: StoreContext,
  cartId: string,
  changed: string[],
): Promise<CalculateCartResult | null> {
  const cart = await engine.admin.get('WebCart', cartId);
  if (!cart || !ACTIVE_STATUSES.includes(String(cart.Status))) return null;
  return engine.calculateCart({ cartId, buyerActions: ['cartItemChanged'], details: { changedCartItemIds: changed }, caller: ctx.caller });
}

async function itemOutput(engine: CheckoutEngine, itemId: string): Promise<Record<string, unknown>> {
  const item = (await engine.admin.get('CartItem', itemId))!;
  const cart = (await engine.admin.get('WebCart', String(item.CartId)))!;
  const products = await productsById(engine, [item.Product2Id]);
  return cartItemOutput(item, cart, products.get(String(item.Product2Id)));
}

/** `POST carts/{cartStateOrId}/cart-items`: adds the item (or more of a product the cart holds), then recalculates. */
export async function addCartItem(
  engine: CheckoutEngine,
  ctx: StoreContext,
  cartStateOrId: string,
  input: CartItemInput,
): Promise<ItemChange> {
  const cart = await reachCart(engine, ctx, cartStateOrId);
  const id = await addOne(engine, ctx, cart, input);
  const calculation = await recalculate(engine, ctx, String(cart.Id), [id]);
  return { item: await itemOutput(engine, id), calculation };
}

/**
 * `POST carts/{cartStateOrId}/cart-items/batch`: each input added on its own (a refused one leaves
 * the others), then one recalculation. The body is Connect's batch input (`{ batchRequests: [ {
 * richInput: {productId, quantity, type} } ] }`, the list also named `inputs`) or the plain list `{ cartItems: [ … ] }`. Results
 * in input order: `{ result, statusCode }` with the Cart Item (201) or the error list
 * `[{ errorCode, message }]`.
 */
export async function addCartItems(
  engine: CheckoutEngine,
  ctx: StoreContext,
  cartStateOrId: string,
  body: Record<string, unknown>,
): Promise<{ hasErrors: boolean; results: { result: unknown; statusCode: number }[] }> {
  // Connect's batch input names its list `batchRequests` in the reference and `inputs` in the
  // requests storefront tools send (both hold `{ richInput }` entries); `cartItems` is the plain list.
  const given = (['batchRequests', 'inputs', 'cartItems'] as const).filter((f) => body[f] !== undefined);
  if (given.length > 1) {
    throw new EngineError('INVALID_INPUT', `Give one of batchRequests, inputs or cartItems, not ${given.join(' and ')}.`, [...given]);
  }
  const field = given[0] ?? 'cartItems';
  const inputs = body[field];
  if (!Array.isArray(inputs)) throw new EngineError('INVALID_INPUT', `${field}: a list of cart item inputs is required.`, [field]);
  if (inputs.length === 0) throw new EngineError('REQUIRED_FIELD_MISSING', `${field}: at least one item.`, [field]);
  if (inputs.length > MAX_BATCH) {
    throw new EngineError('TOO_MANY_INPUTS', `${field}: ${inputs.length} given, at most ${MAX_BATCH}.`, [field]);
  }
  const cart = await reachCart(engine, ctx, cartStateOrId);
  const outcomes: ({ id: string } | { error: EngineError })[] = [];
  for (const [i, entry] of inputs.entries()) {
    try {
      if (field !== 'cartItems') {
        const rich = entry && typeof entry === 'object' ? (entry as { richInput?: unknown }).richInput : undefined;
        if (!rich || typeof rich !== 'object') {
          throw new EngineError('INVALID_INPUT', `${field}[${i}].richInput: a cart item input is required.`, [`${field}[${i}].richInput`]);
        }
        outcomes.push({ id: await addOne(engine, ctx, cart, rich as CartItemInput, `${field}[${i}].richInput.`) });
      } else {
        outcomes.push({ id: await addOne(engine, ctx, cart, entry as CartItemInput, `cartItems[${i}].`) });
      }
    } catch (e) {
      if (!(e instanceof EngineError) || e.status >= 500) throw e;
      outcomes.push({ error: e });
    }
  }
  const ids = outcomes.flatMap((o) => ('id' in o ? [o.id] : []));
  if (ids.length) await recalculate(engine, ctx, String(cart.Id), [...new Set(ids)]);
  const results: { result: unknown; statusCode: number }[] = [];
  for (const o of outcomes) {
    if ('id' in o) results.push({ result: await itemOutput(engine, o.id), statusCode: 201 });
    else results.push({ result: [{ errorCode: o.error.code, message: o.error.message }], statusCode: o.error.status });
  }
  return { hasErrors: outcomes.some((o) => 'error' in o), results };
}

/** The item `cartItemId` of the cart, or NOT_FOUND naming cartItemId (an item of another cart alike). */
async function reachItem(engine: CheckoutEngine, cart: Row, cartItemId: string): Promise<Row> {
  const id = idOf('CartItem', cartItemId, 'cartItemId');
  const item = await engine.admin.get('CartItem', id);
  if (!item || item.CartId !== cart.Id || item.Type === 'Charge') throw itemMissing(cartItemId);
  return item;
}

/** An item update (`PATCH cart-items/{cartItemId}`). */
export interface CartItemUpdate {
  quantity?: unknown;
  cartDeliveryGroupId?: unknown;
}

/** `PATCH carts/{cartStateOrId}/cart-items/{cartItemId}`: quantity and (v59+) delivery group, then recalculates. */
export async function updateCartItem(
  engine: CheckoutEngine,
  ctx: StoreContext,
  cartStateOrId: string,
  cartItemId: string,
  input: CartItemUpdate,
): Promise<ItemChange> {
  const cart = await reachCart(engine, ctx, cartStateOrId);
  const item = await reachItem(engine, cart, cartItemId);
  const fields: Record<string, unknown> = {};
  if (input.quantity !== undefined) fields.Quantity = parseQuantity(input.quantity);
  if (input.cartDeliveryGroupId !== undefined) {
    if (ctx.version < ITEM_GROUP_FROM) {
      throw new EngineError('INVALID_FIELD', `cartDeliveryGroupId: available from v${ITEM_GROUP_FROM}.0.`, ['cartDeliveryGroupId']);
    }
    const groupId = idOf('CartDeliveryGroup', input.cartDeliveryGroupId, 'cartDeliveryGroupId');
    const group = await engine.admin.get('CartDeliveryGroup', groupId);
    if (!group || group.CartId !== cart.Id) {
      throw new EngineError('NOT_FOUND', `cartDeliveryGroupId: no delivery group '${groupId}' in this cart.`, ['cartDeliveryGroupId']);
    }
    fields.CartDeliveryGroupId = groupId;
  }
  if (!Object.keys(fields).length) {
    throw new EngineError('REQUIRED_FIELD_MISSING', 'quantity (or cartDeliveryGroupId) to change.', ['quantity']);
  }
  await engine.updateRecordAs(ctx.caller, 'CartItem', String(item.Id), fields, { keepCheckout: ctx.version >= KEEP_CHECKOUT_FROM });
  const calculation = await recalculate(engine, ctx, String(cart.Id), [String(item.Id)]);
  return { item: await itemOutput(engine, String(item.Id)), calculation };
}

/** `DELETE carts/{cartStateOrId}/cart-items/{cartItemId}`: deletes the item, then recalculates. */
export async function deleteCartItem(engine: CheckoutEngine, ctx: StoreContext, cartStateOrId: string, cartItemId: string): Promise<void> {
  const cart = await reachCart(engine, ctx, cartStateOrId);
  const item = await reachItem(engine, cart, cartItemId);
  await engine.deleteRecordAs(ctx.caller, 'CartItem', String(item.Id), { keepCheckout: ctx.version >= KEEP_CHECKOUT_FROM });
  await recalculate(engine, ctx, String(cart.Id), [String(item.Id)]);
}

/**
 * `POST carts/{activeCartOrId}/actions/calculate` (v62+): the orchestrator with buyer action
 * recalculationRequested (everything the cart's status calls for). `processing`: a checkout step
 * runs, nothing was started (the route answers 202).
 */
export async function calculateCartAction(
  engine: CheckoutEngine,
  ctx: StoreContext,
  cartStateOrId: string,
): Promise<{ summary: Record<string, unknown>; calculation: CalculateCartResult | null; processing: boolean }> {
  const cart = await reachCart(engine, ctx, cartStateOrId);
  const cartId = String(cart.Id);
  if (await isProcessing(engine, cartId)) return { summary: await cartSummary(engine, ctx, cart), calculation: null, processing: true };
  if (!ACTIVE_STATUSES.includes(String(cart.Status))) {
    throw new EngineError('CART_NOT_CALCULABLE', `Cart ${cartId} is ${String(cart.Status)}.`, ['cartStateOrId']);
  }
  const calculation = await engine.calculateCart({ cartId, buyerActions: ['recalculationRequested'], caller: ctx.caller });
  return { summary: await cartSummary(engine, ctx, (await engine.admin.get('WebCart', cartId))!), calculation, processing: false };
}
