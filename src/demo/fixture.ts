/**
 * A demo store as a fixture: one store with a buyer group, a buyer account and its buyer, an admin,
 * a buyer of another account, a catalog with its price book, stock, promotions and tax rates (what
 * the default integrations read, so a whole checkout completes), delivery methods, and a cart of any
 * size spread across delivery groups, with product and charge lines, taxes and adjustments. Used by
 * `npm start`, the examples, tests and benchmarks.
 */
import { addMoney, multiplyMoney, roundMoney } from '../domain/money.js';

/** Shape of the demo cart. */
export interface DemoOptions {
  /** Product lines in the cart (default 3). */
  lines?: number;
  /** Delivery groups the lines are spread over (default 1). */
  groups?: number;
  /** One delivery charge line per group (default true). */
  charges?: boolean;
  /** A CartTax per line at 8% (default true). */
  taxes?: boolean;
  /** A -10% AdjustmentAmount on every third product line (default true). */
  adjustments?: boolean;
  /** Put the cart in Checkout with a session at this state (default: cart Active, no session). */
  sessionState?: string;
  /** Demo password for every user (default 'demo-password-1'). */
  password?: string;
  /**
   * The records the default integrations read (price book, stock, promotions, tax rates; see
   * demoCatalogFixture). Default true: with them `runCheckout` on the demo cart completes.
   */
  catalog?: boolean;
}

/** Ids the catalog fixture hangs its records on (ids, or `@handles` inside one fixture). */
export interface CatalogTargets {
  storeId: string;
  /** Product ids in demoFixture order (product0, product1, …). */
  productIds: string[];
  /** Their SKUs, for their demo images (default: demoFixture's, SKU-0001, SKU-0002, …). */
  skus?: string[];
}

/** Every demo product's Description (storefront product pages show one). */
export const DEMO_DESCRIPTION = 'A sturdy demo widget for the storefront.';

/** The demo SKU of product i (demoFixture's and the demo catalog's). */
export const demoSku = (i: number): string => `SKU-${String(i + 1).padStart(4, '0')}`;

/** Salesforce's two standard product media groups, as the demo store has them (handles productListImage, productDetailImage). */
export const STANDARD_MEDIA_GROUPS: readonly Record<string, unknown>[] = [
  { ref: 'productListImage', Name: 'Product List Image', DeveloperName: 'productListImage', UsageType: 'Listing' },
  { ref: 'productDetailImage', Name: 'Product Detail Images', DeveloperName: 'productDetailImage', UsageType: 'Standard' },
];

/**
 * A demo product's images: the engine's own SVG of its SKU (src/http/routes/product-images.ts) as
 * its list image and its detail image, in the groups `listGroup` and `detailGroup` (ids or handles).
 */
export function demoProductMedia(productId: string, sku: string, name: string, listGroup: string, detailGroup: string) {
  const image = { ProductId: productId, ImageUrl: `/img/products/${sku}.svg`, ImageAlternateText: name, ImageTitle: name, SortOrder: 0 };
  return [
    { ...image, ElectronicMediaGroupId: listGroup },
    { ...image, ElectronicMediaGroupId: detailGroup },
  ];
}

/** The demo price of product i (demoFixture prices line i, which uses product i, the same way). */
export const demoPrice = (i: number): number => roundMoney(5 + ((i * 7.3) % 95));

/**
 * Records the default integrations read, for the demo store: one active price book with an entry
 * per product, ample stock, a 5% cart-wide promotion and a 2.00 line promotion on the first
 * product, and US / California tax rates. And the store's catalog the storefront API searches
 * (docs/connect-api.md): a top category "Widgets" with "Small widgets" (even products) and "Large
 * widgets" (odd products) under it, each product's own category primary. And Salesforce's
 * standard media groups with an image per product in each (served by the engine, no external URL).
 */
export function demoCatalogFixture(t: CatalogTargets): Record<string, Record<string, unknown>[]> {
  return {
    Pricebook2: [{ ref: 'demoPricebook', Name: 'Demo Price Book', IsActive: true }],
    WebStorePricebook: [{ WebStoreId: t.storeId, Pricebook2Id: '@demoPricebook', IsActive: true }],
    PricebookEntry: t.productIds.map((p, i) => ({
      Pricebook2Id: '@demoPricebook',
      Product2Id: p,
      UnitPrice: demoPrice(i),
      IsActive: true,
    })),
    ProductInventory: t.productIds.map((p) => ({ Product2Id: p, QuantityAvailable: 100_000, QuantityReserved: 0 })),
    Promotion: [
      { Name: 'Spring 5% off', IsActive: true, DiscountType: 'Percentage', DiscountValue: 5, WebStoreId: t.storeId },
      ...(t.productIds[0]
        ? [{ Name: 'Widget 1: 2.00 off', IsActive: true, DiscountType: 'FixedAmount', DiscountValue: 2, Product2Id: t.productIds[0] }]
        : []),
    ],
    TaxRate: [
      { Name: 'California Sales Tax', Country: 'US', State: 'CA', Rate: 0.0725, IsActive: true },
      { Name: 'US Sales Tax', Country: 'US', Rate: 0.05, IsActive: true },
    ],
    ProductCategory: [
      { ref: 'widgets', Name: 'Widgets', Description: 'Every widget', WebStoreId: t.storeId, SortOrder: 1 },
      { ref: 'smallWidgets', Name: 'Small widgets', ParentCategoryId: '@widgets', WebStoreId: t.storeId, SortOrder: 1 },
      { ref: 'largeWidgets', Name: 'Large widgets', ParentCategoryId: '@widgets', WebStoreId: t.storeId, SortOrder: 2 },
    ],
    ProductCategoryProduct: t.productIds.map((p, i) => ({
      ProductCategoryId: i % 2 === 0 ? '@smallWidgets' : '@largeWidgets',
      ProductId: p,
      IsPrimaryCategory: true,
    })),
    ElectronicMediaGroup: STANDARD_MEDIA_GROUPS.map((g) => ({ ...g })),
    ProductMedia: t.productIds.flatMap((p, i) =>
      demoProductMedia(p, t.skus?.[i] ?? demoSku(i), `Widget ${i + 1}`, '@productListImage', '@productDetailImage'),
    ),
  };
}

/**
 * Builds the demo fixture. Handles: acme, globex, buyerAccount, globexBuyer, acmeShipping, acmeBilling,
 * globexShipping (saved addresses), buyer, admin, outsider,
 * store, buyerGroup, ground, express, cart, group0…, item0…, charge0…, product0…, demoPricebook
 * (and session with `sessionState`).
 */
export function demoFixture(opts: DemoOptions = {}): Record<string, Record<string, unknown>[]> {
  const lines = opts.lines ?? 3;
  const groups = Math.max(1, opts.groups ?? 1);
  const password = opts.password ?? 'demo-password-1';
  const products = Array.from({ length: Math.min(lines, 50) || 1 }, (_, i) => ({
    ref: `product${i}`,
    Name: `Widget ${i + 1}`,
    StockKeepingUnit: demoSku(i),
    Description: DEMO_DESCRIPTION,
  }));
  const cartItems: Record<string, unknown>[] = [];
  const taxes: Record<string, unknown>[] = [];
  for (let i = 0; i < lines; i++) {
    const price = demoPrice(i);
    const qty = 1 + (i % 5);
    const adjust = opts.adjustments !== false && i % 3 === 2 ? -multiplyMoney(multiplyMoney(price, qty), 0.1) : 0;
    const p = i % products.length;
    cartItems.push({
      ref: `item${i}`,
      CartId: '@cart',
      CartDeliveryGroupId: `@group${i % groups}`,
      Product2Id: `@product${p}`,
      Name: `Widget ${p + 1}`,
      Sku: `SKU-${String(p + 1).padStart(4, '0')}`,
      Type: 'Product',
      Quantity: qty,
      ListPrice: multiplyMoney(price, 1.2),
      SalesPrice: price,
      AdjustmentAmount: adjust,
    });
    if (opts.taxes !== false) {
      taxes.push({
        CartItemId: `@item${i}`,
        Name: 'Sales Tax',
        Amount: multiplyMoney(addMoney(multiplyMoney(price, qty), adjust), 0.08),
        TaxRate: 0.08,
        TaxType: 'Estimated',
      });
    }
  }
  if (opts.charges !== false) {
    for (let g = 0; g < groups; g++) {
      cartItems.push({
        ref: `charge${g}`,
        CartId: '@cart',
        CartDeliveryGroupId: `@group${g}`,
        Name: 'Shipping',
        Type: 'Charge',
        Quantity: 1,
        SalesPrice: 9.99,
        ListPrice: 9.99,
      });
      if (opts.taxes !== false)
        taxes.push({ CartItemId: `@charge${g}`, Name: 'Sales Tax', Amount: 0.8, TaxRate: 0.08, TaxType: 'Estimated' });
    }
  }
  const fixture: Record<string, Record<string, unknown>[]> = {
    Account: [
      { ref: 'acme', Name: 'Acme Corporation' },
      { ref: 'globex', Name: 'Globex' },
    ],
    BuyerAccount: [
      { ref: 'buyerAccount', Name: 'Acme Corporation', BuyerId: '@acme', BuyerStatus: 'Active' },
      { ref: 'globexBuyer', Name: 'Globex', BuyerId: '@globex', BuyerStatus: 'Active' },
    ],
    // The buyer accounts' saved addresses: what a template's address screens offer (the default ones first).
    ContactPointAddress: [
      {
        ref: 'acmeShipping',
        Name: 'Oakland dock',
        ParentId: '@acme',
        AddressType: 'Shipping',
        Street: '100 Harbor Way',
        City: 'Oakland',
        State: 'California',
        StateCode: 'CA',
        PostalCode: '94607',
        Country: 'United States',
        CountryCode: 'US',
        IsDefault: true,
        IsPrimary: true,
      },
      {
        ref: 'acmeBilling',
        Name: 'Head office',
        ParentId: '@acme',
        AddressType: 'Billing',
        Street: '1 Market St',
        City: 'San Francisco',
        State: 'California',
        StateCode: 'CA',
        PostalCode: '94105',
        Country: 'United States',
        CountryCode: 'US',
        IsDefault: true,
        IsPrimary: true,
      },
      {
        ref: 'globexShipping',
        Name: 'Globex warehouse',
        ParentId: '@globex',
        AddressType: 'Shipping',
        Street: '9 Cypress Creek Rd',
        City: 'Springfield',
        State: 'Oregon',
        StateCode: 'OR',
        PostalCode: '97477',
        Country: 'United States',
        CountryCode: 'US',
        IsDefault: true,
      },
    ],
    User: [
      {
        ref: 'buyer',
        Username: 'buyer@acme.example',
        Name: 'Bea Buyer',
        AccountId: '@acme',
        Permissions: ['B2BCommerceIntegrator'],
        Password: password,
      },
      { ref: 'admin', Username: 'admin@store.example', Name: 'Ada Admin', Permissions: ['ModifyAllData'], Password: password },
      {
        ref: 'outsider',
        Username: 'buyer@globex.example',
        Name: 'Otto Outsider',
        AccountId: '@globex',
        Permissions: ['B2BCommerceIntegrator'],
        Password: password,
      },
    ],
    WebStore: [{ ref: 'store', Name: 'Demo B2B Store', DefaultCurrencyIsoCode: 'USD' }],
    BuyerGroup: [{ ref: 'buyerGroup', Name: 'Demo Buyers' }],
    BuyerGroupMember: [
      { BuyerGroupId: '@buyerGroup', BuyerId: '@acme' },
      { BuyerGroupId: '@buyerGroup', BuyerId: '@globex' },
    ],
    WebStoreBuyerGroup: [{ BuyerGroupId: '@buyerGroup', WebStoreId: '@store' }],
    Product2: products,
    OrderDeliveryMethod: [
      { ref: 'ground', Name: 'Ground', Carrier: 'UPS', ClassOfService: 'Ground', ShippingFee: 9.99, ShippingFeePerUnit: 0 },
      { ref: 'express', Name: 'Express', Carrier: 'UPS', ClassOfService: 'Next Day', ShippingFee: 24.99, ShippingFeePerUnit: 1 },
    ],
    WebCart: [
      {
        ref: 'cart',
        Name: 'Cart',
        WebStoreId: '@store',
        AccountId: '@acme',
        OwnerId: '@buyer',
        Status: opts.sessionState ? 'Checkout' : 'Active',
        CurrencyIsoCode: 'USD',
        PoNumber: 'PO-1001',
        BillingStreet: '1 Market St',
        BillingCity: 'San Francisco',
        BillingState: 'CA',
        BillingPostalCode: '94105',
        BillingCountry: 'US',
      },
    ],
    CartDeliveryGroup: Array.from({ length: groups }, (_, g) => ({
      ref: `group${g}`,
      CartId: '@cart',
      Name: `Delivery ${g + 1}`,
      DeliverToName: `Dock ${g + 1}`,
      DeliverToStreet: `${100 + g} Harbor Way`,
      DeliverToCity: 'Oakland',
      DeliverToState: 'CA',
      DeliverToPostalCode: '94607',
      DeliverToCountry: 'US',
      DeliveryMethodId: '@ground',
      ShippingInstructions: g === 0 ? 'Leave at the loading dock' : null,
    })),
    CartItem: cartItems,
    CartTax: taxes,
  };
  if (opts.catalog !== false)
    Object.assign(fixture, demoCatalogFixture({ storeId: '@store', productIds: products.map((p) => `@${p.ref}`) }));
  if (opts.sessionState) {
    fixture.CartCheckoutSession = [{ ref: 'session', Name: 'Checkout Cart', WebCartId: '@cart', State: opts.sessionState }];
  }
  return fixture;
}
