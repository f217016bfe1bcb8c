/**
 * The storefront's catalog reads (Commerce Connect): product search, product detail and product
 * prices, for the store and buyer account of a `StoreContext`.
 *
 * A store's catalog is its categories (ProductCategory.WebStoreId) and the active products linked to
 * them (ProductCategoryProduct); a product outside it answers as a missing one. Search matches the
 * words of the search term, each as a word prefix, against Name, StockKeepingUnit and Description
 * through the storage's full-text index (SQLite FTS5, PostgreSQL tsvector/GIN). Prices come from the
 * store's active price books the way the default pricing integration reprices a cart: the unit
 * price is the lowest active PricebookEntry; the list price is the highest one (the same with one
 * price book).
 *
 * Product media (docs/connect-api.md, "Product media"): a product's ProductMedia rows grouped by
 * their ElectronicMediaGroup. Product detail answers every group holding an image of the product and
 * a `defaultImage` (the first Standard-group image, else the first Listing-group image, else
 * Salesforce's default product image placeholder); search results carry the first Listing-group
 * image (else the placeholder) as `defaultImage`.
 */
import { OBJECTS } from '../domain/objects.js';
import { roundMoney } from '../domain/money.js';
import type { CheckoutEngine } from '../engine/engine.js';
import { EngineError } from '../errors.js';
import { searchWords, type Filter, type Row } from '../storage/port.js';
import { idOf, type StoreContext } from './context.js';

/** Product Search Input (the fields the engine reads; others are ignored). */
export interface ProductSearchInput {
  searchTerm?: string | null;
  categoryId?: string | null;
  page?: number;
  pageSize?: number;
  fields?: readonly string[];
  includePrices?: boolean;
  sortRuleId?: string | null;
}

/** Pricing Result Line Item. */
export interface ProductPrice {
  productId: string;
  listPrice: string | null;
  unitPrice: string | null;
  pricebookEntryId: string | null;
  currencyIsoCode: string;
  success: boolean;
  error?: { code: string; message: string };
}

/** The pricing result of a product with no price for the buyer (unpriced, or not in the store): a NOT_FOUND line. */
function noPrice(productId: string, currencyIsoCode: string, message: string): ProductPrice {
  return {
    productId,
    listPrice: null,
    unitPrice: null,
    pricebookEntryId: null,
    currencyIsoCode,
    success: false,
    error: { code: 'NOT_FOUND', message },
  };
}

/** Most results a page of search holds. */
export const MAX_PAGE_SIZE = 200;
/** Readable Product2 fields a response may carry (`fields`), besides Id. */
const PRODUCT_FIELDS = OBJECTS.get('Product2')!
  .fields.filter((f) => !f.writeOnly && f.read !== 'admin')
  .map((f) => f.name);

const money = (n: number) => roundMoney(n).toFixed(2);

/** The store's categories, by Id. */
async function storeCategories(engine: CheckoutEngine, webstoreId: string): Promise<Map<string, Row>> {
  const rows = await engine.admin.find('ProductCategory', {
    where: [{ field: 'WebStoreId', op: '=', value: webstoreId }],
    orderBy: [
      { field: 'SortOrder', direction: 'asc', nulls: 'last' },
      { field: 'Name', direction: 'asc' },
      { field: 'Id', direction: 'asc' },
    ],
  });
  return new Map(rows.map((r) => [String(r.Id), r]));
}

/** `categoryId` and every category under it. */
function withDescendants(categories: Map<string, Row>, categoryId: string): string[] {
  const out = [categoryId];
  for (let i = 0; i < out.length; i++) {
    for (const c of categories.values()) if (c.ParentCategoryId === out[i] && !out.includes(String(c.Id))) out.push(String(c.Id));
  }
  return out;
}

/** Links of products to the given categories. */
async function links(engine: CheckoutEngine, categoryIds: readonly string[], productIds?: readonly string[]): Promise<Row[]> {
  if (categoryIds.length === 0) return [];
  const where: Filter[] = [{ field: 'ProductCategoryId', op: 'in', value: categoryIds }];
  if (productIds) where.push({ field: 'ProductId', op: 'in', value: productIds });
  return engine.admin.find('ProductCategoryProduct', { where });
}

/** The product rows of `ids` that are in the store's catalog and active, by Id. */
async function catalogProducts(engine: CheckoutEngine, ctx: StoreContext, ids: readonly string[]): Promise<Map<string, Row>> {
  const categories = await storeCategories(engine, ctx.webstoreId);
  const linked = new Set((await links(engine, [...categories.keys()], ids)).map((l) => String(l.ProductId)));
  const wanted = ids.filter((id) => linked.has(id));
  if (wanted.length === 0) return new Map();
  const rows = await engine.admin.find('Product2', {
    where: [
      { field: 'Id', op: 'in', value: wanted },
      { field: 'IsActive', op: '=', value: true },
    ],
  });
  return new Map(rows.map((r) => [String(r.Id), r]));
}

/** Prices of products in the store (see the module comment); a product without an active entry gets an error line. */
export async function storePrices(
  engine: CheckoutEngine,
  ctx: StoreContext,
  productIds: readonly string[],
): Promise<Map<string, ProductPrice>> {
  return (await storePriceEntries(engine, ctx, productIds)).prices;
}

/** `storePrices`, with each product's active price book entries (cheapest first) beside its price. */
async function storePriceEntries(
  engine: CheckoutEngine,
  ctx: StoreContext,
  productIds: readonly string[],
): Promise<{ prices: Map<string, ProductPrice>; entries: Map<string, Record<string, unknown>[]> }> {
  const currencyIsoCode = String(ctx.webstore.DefaultCurrencyIsoCode ?? 'USD');
  const bookLinks = await engine.admin.find('WebStorePricebook', {
    where: [
      { field: 'WebStoreId', op: '=', value: ctx.webstoreId },
      { field: 'IsActive', op: '=', value: true },
    ],
  });
  const books = bookLinks.length
    ? await engine.admin.find('Pricebook2', {
        where: [
          { field: 'Id', op: 'in', value: bookLinks.map((l) => l.Pricebook2Id) },
          { field: 'IsActive', op: '=', value: true },
        ],
      })
    : [];
  const entries =
    books.length && productIds.length
      ? await engine.admin.find('PricebookEntry', {
          where: [
            { field: 'Pricebook2Id', op: 'in', value: books.map((b) => b.Id) },
            { field: 'Product2Id', op: 'in', value: productIds },
            { field: 'IsActive', op: '=', value: true },
          ],
          orderBy: [{ field: 'Id', direction: 'asc' }],
        })
      : [];
  const out = new Map<string, ProductPrice>();
  const byProduct = new Map<string, Record<string, unknown>[]>();
  for (const id of productIds) {
    const mine = entries.filter((e) => e.Product2Id === id);
    byProduct.set(
      id,
      [...mine].sort((a, b) => Number(a.UnitPrice) - Number(b.UnitPrice)),
    );
    if (mine.length === 0) {
      out.set(id, noPrice(id, currencyIsoCode, `No price is available for product '${id}' in this store.`));
      continue;
    }
    const best = mine.reduce((a, b) => (Number(b.UnitPrice) < Number(a.UnitPrice) ? b : a));
    const list = Math.max(...mine.map((e) => Number(e.UnitPrice)));
    out.set(id, {
      productId: id,
      listPrice: money(list),
      unitPrice: money(Number(best.UnitPrice)),
      pricebookEntryId: String(best.Id),
      currencyIsoCode,
      success: true,
    });
  }
  return { prices: out, entries: byProduct };
}

/** The `fields` a caller asked for, checked against Product2's readable fields (API names, any case). */
function fieldList(
  fields: readonly string[] | undefined,
  fallback: readonly string[],
  allowed: readonly string[] = PRODUCT_FIELDS,
): string[] {
  if (fields === undefined || fields.length === 0) return [...fallback];
  const byLower = new Map(allowed.map((f) => [f.toLowerCase(), f]));
  return fields.map((raw) => {
    const name = byLower.get(String(raw).trim().toLowerCase());
    if (!name) throw new EngineError('INVALID_FIELD', `fields: no Product2 field '${String(raw)}' a buyer can read.`, ['fields']);
    return name;
  });
}

/** Product Media (Connect's output): one image of a product. */
export interface ProductMediaItem {
  id: string;
  url: string;
  mediaType: 'Image';
  alternateText: string;
  title: string;
  sortOrder: number;
  contentVersionId: string | null;
  thumbnailUrl: string | null;
}

/**
 * Salesforce's answer for a product without images: its default product image, served by this
 * engine at the same path (src/http/routes/product-images.ts).
 */
export const PLACEHOLDER_IMAGE: Readonly<ProductMediaItem> = Object.freeze({
  id: '000000000000000',
  url: '/img/b2b/default-product-image.svg',
  mediaType: 'Image',
  alternateText: '',
  title: 'image',
  sortOrder: 0,
  contentVersionId: null,
  thumbnailUrl: null,
});

/** Order of media groups in a Product Detail: the page's images first, then list images, then the rest. */
const USAGE_RANK: Readonly<Record<string, number>> = { Standard: 0, Listing: 1, Tile: 2, Banner: 3, Attachment: 4 };

const mediaItem = (m: Row): ProductMediaItem => ({
  id: String(m.Id),
  url: String(m.ImageUrl),
  mediaType: 'Image',
  alternateText: m.ImageAlternateText == null ? '' : String(m.ImageAlternateText),
  title: m.ImageTitle == null ? '' : String(m.ImageTitle),
  sortOrder: Number(m.SortOrder ?? 0),
  contentVersionId: null,
  thumbnailUrl: null,
});

/** The media of `productIds` with their groups, each product's images in SortOrder (then Id) order. */
async function productMedia(engine: CheckoutEngine, productIds: readonly string[]): Promise<{ media: Row[]; groups: Map<string, Row> }> {
  if (productIds.length === 0) return { media: [], groups: new Map() };
  const media = await engine.admin.find('ProductMedia', {
    where: [{ field: 'ProductId', op: 'in', value: productIds }],
    orderBy: [
      { field: 'SortOrder', direction: 'asc', nulls: 'last' },
      { field: 'Id', direction: 'asc' },
    ],
  });
  const groupIds = [...new Set(media.map((m) => String(m.ElectronicMediaGroupId)))];
  const groups = groupIds.length
    ? await engine.admin.find('ElectronicMediaGroup', { where: [{ field: 'Id', op: 'in', value: groupIds }] })
    : [];
  return { media, groups: new Map(groups.map((g) => [String(g.Id), g])) };
}

/** The first image of `media` in a group of `usageType`, if any. */
function firstOfUsage(media: readonly Row[], groups: Map<string, Row>, usageType: string): ProductMediaItem | undefined {
  const m = media.find((x) => groups.get(String(x.ElectronicMediaGroupId))?.UsageType === usageType);
  return m ? mediaItem(m) : undefined;
}

/** Each product's listing image (the placeholder when it has none), for search results. */
async function listingImages(engine: CheckoutEngine, productIds: readonly string[]): Promise<Map<string, ProductMediaItem>> {
  const { media, groups } = await productMedia(engine, productIds);
  return new Map(
    productIds.map((id) => [
      id,
      firstOfUsage(
        media.filter((m) => m.ProductId === id),
        groups,
        'Listing',
      ) ?? { ...PLACEHOLDER_IMAGE },
    ]),
  );
}

/** A product's media groups (Product Media Group) and its default image, for Product Detail. */
async function detailMedia(engine: CheckoutEngine, productId: string) {
  const { media, groups } = await productMedia(engine, [productId]);
  const ordered = [...groups.values()].sort(
    (a, b) =>
      (USAGE_RANK[String(a.UsageType)] ?? 9) - (USAGE_RANK[String(b.UsageType)] ?? 9) ||
      String(a.Name).localeCompare(String(b.Name)) ||
      String(a.Id).localeCompare(String(b.Id)),
  );
  const mediaGroups = ordered.map((g) => ({
    id: String(g.Id),
    name: String(g.Name),
    developerName: String(g.DeveloperName),
    usageType: String(g.UsageType),
    mediaItems: media.filter((m) => m.ElectronicMediaGroupId === g.Id).map(mediaItem),
  }));
  const defaultImage = firstOfUsage(media, groups, 'Standard') ?? firstOfUsage(media, groups, 'Listing') ?? { ...PLACEHOLDER_IMAGE };
  return { defaultImage, mediaGroups };
}

const valueOf = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Product Detail's fields: Product2's readable fields and its record dates (Connect's `yyyy-MM-ddTHH:mm:ssZ`). */
const DATE_FIELDS = ['CreatedDate', 'LastModifiedDate'] as const;
const DETAIL_FIELDS = [...PRODUCT_FIELDS, ...DATE_FIELDS];
const detailValueOf = (field: string, v: unknown): string | null => {
  if (!(DATE_FIELDS as readonly string[]).includes(field) || v === null || v === undefined) return valueOf(v);
  const at = new Date(String(v));
  return Number.isNaN(at.getTime()) ? String(v) : at.toISOString().replace(/\.\d{3}Z$/, 'Z');
};

/** Product search (POST …/search/product-search): Product Search Results. */
export async function searchProducts(engine: CheckoutEngine, ctx: StoreContext, input: ProductSearchInput) {
  const page = input.page ?? 0;
  const pageSize = input.pageSize ?? 20;
  const fields = fieldList(input.fields, ['Name']);
  const term = (input.searchTerm ?? '').trim();
  const words = searchWords(term);
  if (term !== '' && words.length === 0)
    throw new EngineError('INVALID_INPUT', `searchTerm: '${term}' has no letters or digits to search for.`, ['searchTerm']);
  const categories = await storeCategories(engine, ctx.webstoreId);
  let category: Row | undefined;
  let scope = [...categories.keys()];
  if (input.categoryId) {
    const id = idOf('ProductCategory', input.categoryId, 'categoryId');
    category = categories.get(id);
    if (!category) throw new EngineError('NOT_FOUND', `categoryId: no category '${input.categoryId}' in this store.`, ['categoryId']);
    scope = withDescendants(categories, id);
  }
  if (words.length === 0 && !category)
    throw new EngineError('REQUIRED_FIELD_MISSING', 'searchTerm or categoryId: a search needs a term or a category.', [
      'searchTerm',
      'categoryId',
    ]);
  const linked = [...new Set((await links(engine, scope)).map((l) => String(l.ProductId)))];
  const where: Filter[] = [
    { field: 'Id', op: 'in', value: linked },
    { field: 'IsActive', op: '=', value: true },
  ];
  let ids: string[];
  let total: number;
  if (words.length) {
    ({ ids, total } = await engine.admin.textSearch('Product2', { words, where, limit: pageSize, offset: page * pageSize }));
  } else {
    total = await engine.admin.count('Product2', where);
    ids = (
      await engine.admin.find('Product2', {
        where,
        orderBy: [
          { field: 'Name', direction: 'asc' },
          { field: 'Id', direction: 'asc' },
        ],
        limit: pageSize,
        offset: page * pageSize,
      })
    ).map((r) => String(r.Id));
  }
  const rows = ids.length ? await engine.admin.find('Product2', { where: [{ field: 'Id', op: 'in', value: ids }] }) : [];
  const byId = new Map(rows.map((r) => [String(r.Id), r]));
  const prices = input.includePrices ? await storePrices(engine, ctx, ids) : undefined;
  const images = await listingImages(engine, ids);
  const products = ids
    .filter((id) => byId.has(id))
    .map((id) => {
      const p = byId.get(id)!;
      return {
        id,
        name: String(p.Name),
        fields: Object.fromEntries(fields.map((f) => [f, { value: valueOf(p[f]) }])),
        productClass: 'Simple',
        defaultImage: images.get(id)!,
        ...(prices ? { prices: prices.get(id)! } : {}),
      };
    });
  // The category level the results are in: the asked category (or the store's top level) and its children with their product counts.
  const parentId = category ? String(category.Id) : null;
  const children = [...categories.values()].filter((c) => (c.ParentCategoryId ?? null) === parentId);
  const childCounts = await Promise.all(
    children.map(async (c) => {
      const inChild = new Set((await links(engine, withDescendants(categories, String(c.Id)))).map((l) => String(l.ProductId)));
      const matching = words.length
        ? (
            await engine.admin.textSearch('Product2', {
              words,
              where: [...where, { field: 'Id', op: 'in', value: [...inChild] }],
              limit: 0,
            })
          ).total
        : await engine.admin.count('Product2', [...where, { field: 'Id', op: 'in', value: [...inChild] }]);
      return { category: categorySummary(c), productCount: matching };
    }),
  );
  return {
    categories: {
      category: category ? categorySummary(category) : null,
      children: childCounts.filter((c) => c.productCount > 0),
    },
    facets: [],
    locale: 'en_US',
    productsPage: {
      currencyIsoCode: String(ctx.webstore.DefaultCurrencyIsoCode ?? 'USD'),
      pageSize,
      total,
      products,
    },
  };
}

const categorySummary = (c: Row) => ({ id: String(c.Id), name: String(c.Name), description: valueOf(c.Description) });

/** The product `productIdInput` names if it is in the store's catalog, else NOT_FOUND naming productId. */
async function catalogProduct(engine: CheckoutEngine, ctx: StoreContext, productIdInput: unknown): Promise<Row> {
  const id = idOf('Product2', productIdInput, 'productId');
  const product = (await catalogProducts(engine, ctx, [id])).get(id);
  if (!product) throw new EngineError('NOT_FOUND', `productId: no product '${String(productIdInput)}' in this store.`, ['productId']);
  return product;
}

/** Product detail's media options: `mediaGroups`, DeveloperNames of the groups to answer (comma-separated; default all); `excludeMedia` drops the groups and the default image (and wins). */
export interface ProductMediaOptions {
  mediaGroups?: string;
  excludeMedia?: boolean;
}

/** Product detail (GET …/products/{productId}): Product Detail. */
export async function productDetail(
  engine: CheckoutEngine,
  ctx: StoreContext,
  productIdInput: unknown,
  fieldsInput?: string,
  media: ProductMediaOptions = {},
) {
  const product = await catalogProduct(engine, ctx, productIdInput);
  const asked = fieldsInput === undefined ? undefined : fieldsInput.split(',').filter((f) => f.trim() !== '');
  const fields = fieldList(asked, DETAIL_FIELDS, DETAIL_FIELDS);
  const categories = await storeCategories(engine, ctx.webstoreId);
  const productLinks = (await links(engine, [...categories.keys()], [String(product.Id)])).sort(
    (a, b) => Number(b.IsPrimaryCategory) - Number(a.IsPrimaryCategory) || String(a.Id).localeCompare(String(b.Id)),
  );
  // The primary category's path from the store's top level down (the first link when none is primary).
  const path: Row[] = [];
  const primary = productLinks[0] ? categories.get(String(productLinks[0].ProductCategoryId)) : undefined;
  for (let c = primary; c && !path.includes(c); c = c.ParentCategoryId ? categories.get(String(c.ParentCategoryId)) : undefined)
    path.unshift(c);
  const wanted = (media.mediaGroups ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  const found = media.excludeMedia ? undefined : await detailMedia(engine, String(product.Id));
  const mediaGroups = (found?.mediaGroups ?? []).filter((g) => wanted.length === 0 || wanted.includes(g.developerName));
  return {
    id: String(product.Id),
    ...(found ? { defaultImage: found.defaultImage } : {}),
    fields: Object.fromEntries(fields.map((f) => [f, detailValueOf(f, product[f])])),
    primaryProductCategoryPath: { path: path.map(categorySummary) },
    productClass: 'Simple',
    mediaGroups,
    entitlement: { canViewPrice: true },
  };
}

/** Price of one product (GET …/pricing/products/{productId}): Product Price; a product without a price is NOT_FOUND. */
export async function productPrice(engine: CheckoutEngine, ctx: StoreContext, productIdInput: unknown) {
  const product = await catalogProduct(engine, ctx, productIdInput);
  const found = await storePriceEntries(engine, ctx, [String(product.Id)]);
  const price = found.prices.get(String(product.Id))!;
  if (!price.success) throw new EngineError('NOT_FOUND', `productId: ${price.error!.message}`, ['productId']);
  const { listPrice, unitPrice, pricebookEntryId, currencyIsoCode } = price;
  // One Product Price Entry per active price book entry of the store's price books, cheapest first.
  const productPriceEntries = (found.entries.get(String(product.Id)) ?? []).map((e) => ({
    pricebookEntryId: String(e.Id),
    pricebookId: String(e.Pricebook2Id),
    listPrice: money(Number(e.UnitPrice)),
    unitPrice: money(Number(e.UnitPrice)),
    success: true,
  }));
  return { currencyIsoCode, listPrice, pricebookEntryId, unitPrice, productPriceEntries, success: true };
}

/** Most products one pricing call prices. */
export const MAX_PRICED_PRODUCTS = 100;

/** Prices of several products (GET …/pricing/products?productIds=, or POST with Pricing Input; `field` names the input): Pricing Result, an error line per unknown or unpriced product. */
export async function productPrices(engine: CheckoutEngine, ctx: StoreContext, productIdsInput: string | undefined, field = 'productIds') {
  const raw = (productIdsInput ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (raw.length === 0) throw new EngineError('REQUIRED_FIELD_MISSING', `${field}: name at least one product id.`, [field]);
  if (raw.length > MAX_PRICED_PRODUCTS)
    throw new EngineError('INVALID_INPUT', `${field}: at most ${MAX_PRICED_PRODUCTS} products per call (got ${raw.length}).`, [field]);
  const ids = raw.map((r) => idOf('Product2', r, field));
  const inStore = await catalogProducts(engine, ctx, ids);
  const prices = await storePrices(engine, ctx, [...new Set(ids.filter((id) => inStore.has(id)))]);
  const currencyIsoCode = String(ctx.webstore.DefaultCurrencyIsoCode ?? 'USD');
  const lines = ids.map((id, i): ProductPrice => prices.get(id) ?? noPrice(id, currencyIsoCode, `No product '${raw[i]}' in this store.`));
  return { currencyIsoCode, pricingLineItemResults: lines, success: lines.every((l) => l.success) };
}
