/**
 * Object metadata: every Salesforce-shaped object the engine stores, its key prefix and its fields.
 * Zod schemas, table DDL, sObject describe, SOQL validation and fixtures all derive from this one
 * table, so a field exists everywhere or nowhere.
 */

/** The kind of value a field holds. */
export type FieldType =
  'string' | 'picklist' | 'reference' | 'number' | 'currency' | 'integer' | 'boolean' | 'date' | 'datetime' | 'stringList' | 'password';

/** One field of an object. */
export interface FieldDef {
  readonly name: string;
  readonly type: FieldType;
  /** Reference targets (object names) for `reference` fields. */
  readonly to?: readonly string[];
  /** Allowed values for `picklist` fields. */
  readonly values?: readonly string[];
  readonly required?: boolean;
  readonly default?: unknown;
  readonly maxLength?: number;
  /** Computed or managed by the engine: callers cannot write it through createRecord/updateRecord. */
  readonly readOnly?: boolean;
  /** String fields: what a value must match, and the message naming what it must be (ProductMedia.ImageUrl). */
  readonly pattern?: { readonly regex: RegExp; readonly message: string };
  /** Never returned to callers (e.g. password hashes). */
  readonly writeOnly?: boolean;
  /** Numeric fields: total digits (Salesforce precision); with `scale`, bounds the value (docs/money.md). */
  readonly precision?: number;
  /** Numeric fields: decimals kept; a value with more is rounded half-up on save, as Salesforce does. */
  readonly scale?: number;
  /** Numeric fields: the smallest value allowed. */
  readonly min?: number;
  /** Numeric fields: the largest value allowed (integers: with `min`, a small range such as Product2.QuantityScale 0–2). */
  readonly max?: number;
  /** With `min`: the value must be greater than `min` (Quantity > 0). */
  readonly minExclusive?: boolean;
  /**
   * Who may set it through createRecord/updateRecord (see `Writer`); `readOnly` fields are the
   * engine's. Default: 'admin'.
   */
  readonly write?: Writer;
  /**
   * Set at creation, never changed by a record write afterwards (master-detail links); 'buyer':
   * fixed for buyers only (a cart's owner, which ModifyAllData may reassign).
   */
  readonly fixed?: boolean | 'buyer';
  /**
   * For references: the access the caller needs to the target a write names — 'edit' for a parent
   * link, 'read' (default) for a lookup, 'exists' where only existence matters (a share's user).
   */
  readonly refAccess?: 'edit' | 'read' | 'exists';
  /** For references: the target's `targetField` must equal this record's `field` (same cart, same order). */
  readonly sameAs?: { readonly field: string; readonly targetField: string };
  /**
   * For references: what the target must also be, or the write answers as if it didn't exist
   * (INVALID_CROSS_REFERENCE_KEY, the same answer as a missing id): `active` names a boolean field
   * that must be true; `sameAs` a target field that must equal the field `viaField` of the record
   * this record's `via` reference names (a share's user belongs to the shared cart's account).
   */
  readonly refWhere?: {
    readonly active?: string;
    readonly sameAs?: { readonly targetField: string; readonly via: string; readonly viaField: string };
  };
  /**
   * Who reads the field (default: whoever reads the record). 'admin': only ModifyAllData; for
   * everyone else the field doesn't exist (left out of a read, INVALID_FIELD in SOQL).
   */
  readonly read?: 'admin';
  /** For read-only copies of a parent's field: filled from the record `via` names (CartTax.CartId from its CartItem). */
  readonly derivedFrom?: { readonly via: string; readonly field: string };
  /**
   * A copy of a field of the record `via` names (CartItem.Name and Sku from its Product2): filled
   * from it when a write sets `via` (on create, when the write leaves it empty); below `writer`, a
   * caller may only supply the value it is filled with and never change it, and must name `via`.
   * What the copy is read for (an order line's product fields) reads the source record itself.
   */
  readonly copiedFrom?: { readonly via: string; readonly field: string; readonly writer: Writer };
  /**
   * Numeric fields: the decimals a value may have are the `field` of the record `via` names
   * (CartItem.Quantity: its Product2's QuantityScale, default 0 = whole units); a write by a caller
   * below `writer` with more is refused (domain/line-rules.ts).
   */
  readonly scaleFrom?: { readonly via: string; readonly field: string; readonly writer: Writer };
}

/**
 * Who may do a record write. Ranked: a 'buyer' write is open to a buyer with edit access to the
 * record's cart (its owner, or an Edit share) and to ModifyAllData; an 'admin' write needs
 * ModifyAllData; an 'engine' write is done only by the checkout actions, never by
 * createRecord/updateRecord/deleteRecord. B2BCommerceIntegrator opens nothing here: it is the
 * permission to invoke the actions.
 */
export type Writer = 'buyer' | 'admin' | 'engine';

/** Who may create, update and delete an object's records (default: 'admin' for all three). */
export interface ObjectWriteRule {
  readonly create: Writer;
  readonly update: Writer;
  readonly delete: Writer;
  /**
   * 'owner': a buyer's delete needs ownership of the record's cart — an Edit share edits but never
   * deletes (Salesforce: Edit access doesn't include Delete). ModifyAllData deletes regardless.
   */
  readonly deleteBy?: 'owner';
}

/** Child records that block deleting their parent (Salesforce's restricted delete). */
export interface RestrictDelete {
  readonly object: string;
  /** The child's reference to the parent. */
  readonly field: string;
}

/** Record writes that cancel the checkout of a cart in Checkout (so they can never reach its order). */
export interface CancelsCheckout {
  readonly create?: boolean;
  readonly delete?: boolean;
  /** Fields whose change cancels; 'all' for any field. */
  readonly fields?: readonly string[] | 'all';
  /**
   * Fields whose change cancels once the checkout has left its first state: what shipping and taxes
   * were computed from (the delivery address). At the first state (Start) the buyer is still
   * choosing it, so the change is simply taken.
   */
  readonly afterFirstState?: readonly string[];
}

/** One object: API name, id key prefix, fields and the indexes its queries need. */
export interface ObjectDef {
  readonly name: string;
  readonly keyPrefix: string;
  /** True when the prefix is Salesforce's real one; false when the engine assigned it. */
  readonly realPrefix: boolean;
  readonly label: string;
  readonly fields: readonly FieldDef[];
  readonly indexes?: readonly (readonly string[])[];
  readonly unique?: readonly (readonly string[])[];
  /** Engine-internal columns (snapshots, versions, leases): stored, never exposed. */
  readonly internal?: readonly { name: string; type: 'text' | 'integer' }[];
  /** Who may create, update and delete records of this object (default: ModifyAllData only). */
  readonly write?: ObjectWriteRule;
  /** Rows whose `field` has one of `values` are written only by `writer` (a cart's Charge lines). */
  readonly rowWriter?: { readonly field: string; readonly values: readonly string[]; readonly writer: Writer };
  /** Record writes that cancel the running checkout of the record's cart. */
  readonly cancelsCheckout?: CancelsCheckout;
  /** Children whose existence refuses a delete of the record (DELETE_RESTRICTED naming them). */
  readonly restrictDelete?: readonly RestrictDelete[];
  /**
   * Text fields in the object's full-text index (the storage port's `textSearch`; each backend
   * keeps the index in step with every write of the table: src/storage/<name>/).
   */
  readonly fullText?: readonly string[];
}

const str = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'string', maxLength: 255, ...extra });
const ref = (name: string, to: string | string[], extra: Partial<FieldDef> = {}): FieldDef => ({
  name,
  type: 'reference',
  to: Array.isArray(to) ? to : [to],
  ...extra,
});
const pick = (name: string, values: readonly string[], extra: Partial<FieldDef> = {}): FieldDef => ({
  name,
  type: 'picklist',
  values,
  ...extra,
});
/** Currency: Salesforce's 18 digits with 2 decimals. */
const money = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'currency', precision: 18, scale: 2, ...extra });
/** A line quantity: positive, 18 digits with 2 decimals (docs/money.md). */
const qty = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({
  name,
  type: 'number',
  precision: 18,
  scale: 2,
  min: 0,
  minExclusive: true,
  ...extra,
});
const num = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'number', ...extra });
const int = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'integer', ...extra });
const bool = (name: string, dflt = false, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'boolean', default: dflt, ...extra });
const dt = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'datetime', ...extra });
const date = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'date', ...extra });

/** Salesforce's GeocodeAccuracy picklist of compound addresses. */
const GEOCODE_ACCURACY = [
  'Address',
  'NearAddress',
  'Block',
  'Street',
  'ExtendedZip',
  'Zip',
  'Neighborhood',
  'City',
  'County',
  'State',
  'Unknown',
];
const address = (prefix: string, extra: Partial<FieldDef> = {}): FieldDef[] => [
  ...['Street', 'City', 'State', 'PostalCode', 'Country'].map((part) => str(`${prefix}${part}`, extra)),
  // The compound address's geolocation, as Salesforce's object reference lists it.
  num(`${prefix}Latitude`, extra),
  num(`${prefix}Longitude`, extra),
  pick(`${prefix}GeocodeAccuracy`, GEOCODE_ACCURACY, extra),
];
/** A buyer-writable field. */
const B = { write: 'buyer' } as const;
/** A parent link: set once at creation, needs edit access to the parent. */
const PARENT = { fixed: true, refAccess: 'edit' } as const;
/** A buyer's own record kind (cart and what a storefront buyer edits under it): an Edit share doesn't delete. */
const BUYER_OBJECT: ObjectWriteRule = { create: 'buyer', update: 'buyer', delete: 'buyer', deleteBy: 'owner' };
/** Written only by the checkout actions. */
const ENGINE_OBJECT: ObjectWriteRule = { create: 'engine', update: 'engine', delete: 'engine' };

/** Picklist values used across the engine. */
export const PICKLISTS = {
  cartStatus: ['Active', 'Checkout', 'Closed', 'PendingClosed', 'PendingDelete', 'Processing'],
  buyerStatus: ['Active', 'Inactive', 'On Hold', 'Pending'],
  operationStatus: ['New', 'Running', 'Complete', 'Error', 'Canceled'],
  cartItemType: ['Product', 'Charge'],
  orderItemType: ['Order Product', 'Delivery Charge'],
  orderStatus: ['Draft', 'Activated'],
  taxType: ['Actual', 'Estimated'],
  validationLevel: ['Info', 'Warning', 'Error'],
  validationType: ['Inventory', 'Pricing', 'Promotions', 'Shipping', 'Taxes', 'Entitlement', 'SystemError', 'Other'],
  shareAccess: ['Read', 'Edit'],
  lifeCycle: ['MANAGED', 'UNMANAGED'],
  discountType: ['Percentage', 'FixedAmount'],
} as const;

/** The longest WebStore.CheckoutTimeToLive: one year in minutes (null = never expires). */
export const CHECKOUT_TTL_MAX_MINUTES = 525_600;

const OBJECT_LIST: ObjectDef[] = [
  { name: 'Account', keyPrefix: '001', realPrefix: true, label: 'Account', fields: [str('Name', { required: true })] },
  {
    name: 'BuyerAccount',
    keyPrefix: '0ZF',
    realPrefix: false,
    label: 'Buyer Account',
    fields: [
      str('Name'),
      ref('BuyerId', 'Account', { required: true }),
      pick('BuyerStatus', PICKLISTS.buyerStatus, { default: 'Pending' }),
    ],
    indexes: [['BuyerId']],
  },
  {
    // A buyer account's saved address (Salesforce's ContactPointAddress): what the checkout's address
    // screens offer and the templates copy into the delivery group and the cart's billing address.
    // Read and written by the buyers of its account (access.ts), never by another account.
    name: 'ContactPointAddress',
    keyPrefix: '8lW',
    realPrefix: true,
    label: 'Contact Point Address',
    fields: [
      str('Name', { required: true, ...B }),
      ref('ParentId', 'Account', { required: true, ...B, fixed: true }),
      pick('AddressType', ['Billing', 'Shipping'], B),
      ...['Street', 'City', 'State', 'PostalCode', 'Country', 'StateCode', 'CountryCode'].map((part) => str(part, B)),
      num('Latitude', B),
      num('Longitude', B),
      pick('GeocodeAccuracy', GEOCODE_ACCURACY, B),
      bool('IsDefault', false, B),
      bool('IsPrimary', false, B),
      date('ActiveFromDate', B),
      date('ActiveToDate', B),
    ],
    indexes: [['ParentId']],
    // 'owner' here is the account: a buyer of another account neither sees nor deletes it.
    write: BUYER_OBJECT,
  },
  {
    name: 'User',
    keyPrefix: '005',
    realPrefix: true,
    label: 'User',
    fields: [
      str('Username', { required: true }),
      str('Name'),
      str('Email'),
      ref('AccountId', 'Account'),
      bool('IsActive', true),
      { name: 'Permissions', type: 'stringList', default: [] },
      { name: 'Password', type: 'password', writeOnly: true },
    ],
    unique: [['Username']],
  },
  {
    name: 'WebStore',
    keyPrefix: '0ZE',
    realPrefix: true,
    label: 'Store',
    fields: [
      str('Name', { required: true }),
      // Minutes; null = never expires, 0 = checkout disabled; at most a year (CHECKOUT_TTL_MAX_MINUTES).
      int('CheckoutTimeToLive', { default: 2880, min: 0, max: CHECKOUT_TTL_MAX_MINUTES }),
      dt('CheckoutValidAfterDate'),
      // Engine setting: a total of 0 still needs a payment authorization or a PO number (completion invariant payment-settled).
      bool('CheckoutPaymentRequiredAtZero', false),
      str('DefaultCurrencyIsoCode', { default: 'USD', maxLength: 3 }),
    ],
  },
  {
    name: 'BuyerGroup',
    keyPrefix: '0ZI',
    realPrefix: false,
    label: 'Buyer Group',
    fields: [str('Name', { required: true }), str('Description')],
  },
  {
    name: 'BuyerGroupMember',
    keyPrefix: '0ZJ',
    realPrefix: false,
    label: 'Buyer Group Member',
    fields: [ref('BuyerGroupId', 'BuyerGroup', { required: true }), ref('BuyerId', 'Account', { required: true })],
    indexes: [['BuyerId']],
  },
  {
    name: 'WebStoreBuyerGroup',
    keyPrefix: '0ZK',
    realPrefix: false,
    label: 'Store Buyer Group',
    fields: [ref('BuyerGroupId', 'BuyerGroup', { required: true }), ref('WebStoreId', 'WebStore', { required: true })],
    indexes: [['WebStoreId']],
  },
  {
    name: 'Product2',
    keyPrefix: '01t',
    realPrefix: true,
    label: 'Product',
    fields: [
      str('Name', { required: true }),
      str('StockKeepingUnit'),
      str('Description'),
      bool('IsActive', true),
      // The engine's own: decimals a cart line's Quantity may have (0 = whole units, the default; at most 2).
      int('QuantityScale', { default: 0, min: 0, max: 2 }),
    ],
    // Product search (Commerce Connect product-search) matches words of these fields.
    fullText: ['Name', 'StockKeepingUnit', 'Description'],
  },
  {
    // A store's product category (Salesforce's ProductCategory). The engine ties a category to its
    // store directly (WebStoreId) where Salesforce goes through ProductCatalog and WebStoreCatalog:
    // one catalog per store (docs/connect-api.md).
    name: 'ProductCategory',
    keyPrefix: '0ZG',
    realPrefix: false,
    label: 'Product Category',
    fields: [
      str('Name', { required: true }),
      str('Description'),
      ref('WebStoreId', 'WebStore', { required: true }),
      ref('ParentCategoryId', 'ProductCategory'),
      int('SortOrder'),
    ],
    indexes: [['WebStoreId'], ['ParentCategoryId']],
  },
  {
    // A product in a category (Salesforce's ProductCategoryProduct): what puts a product in a store's catalog.
    name: 'ProductCategoryProduct',
    keyPrefix: '0ZH',
    realPrefix: false,
    label: 'Product Category Product',
    fields: [
      ref('ProductCategoryId', 'ProductCategory', { required: true }),
      ref('ProductId', 'Product2', { required: true }),
      bool('IsPrimaryCategory', false),
    ],
    indexes: [['ProductId']],
    unique: [['ProductCategoryId', 'ProductId']],
  },
  {
    // A kind of media a product or category carries (Salesforce's ElectronicMediaGroup): Salesforce's
    // standard groups are productListImage (UsageType Listing: search and list images) and
    // productDetailImage (Standard: the product page's images). Salesforce keeps DeveloperName unique
    // in the org; the engine doesn't enforce it (a fixture seeded twice into one database, as tests
    // do, makes a second pair): Connect answers the groups a product's media name, whatever their names.
    name: 'ElectronicMediaGroup',
    keyPrefix: '2mG',
    realPrefix: false,
    label: 'Electronic Media Group',
    fields: [
      str('Name', { required: true }),
      str('DeveloperName', { required: true, maxLength: 80 }),
      pick('UsageType', ['Attachment', 'Banner', 'Listing', 'Standard', 'Tile'], { required: true }),
      str('Description'),
    ],
    // A group still holding product images can't be deleted (DELETE_RESTRICTED).
    restrictDelete: [{ object: 'ProductMedia', field: 'ElectronicMediaGroupId' }],
  },
  {
    // An image of a product in a media group (Salesforce's ProductMedia). In Salesforce
    // ElectronicMediaId names the CMS content (ManagedContent) holding the image; the engine has no
    // CMS, so ElectronicMediaId is an optional free id of that content, and the image itself is the
    // engine's own fields ImageUrl (a path on this server such as /img/products/SKU-0001.svg, or an
    // http(s) URL), ImageAlternateText and ImageTitle (docs/connect-api.md, "Product media").
    name: 'ProductMedia',
    keyPrefix: '2pM',
    realPrefix: false,
    label: 'Product Media',
    fields: [
      ref('ProductId', 'Product2', { required: true }),
      ref('ElectronicMediaGroupId', 'ElectronicMediaGroup', { required: true }),
      str('ElectronicMediaId', { maxLength: 18 }),
      // The engine's own (no CMS): the image's URL, alternate text and title.
      str('ImageUrl', {
        required: true,
        maxLength: 1000,
        pattern: { regex: /^(\/(?!\/)\S*|https?:\/\/\S+)$/, message: 'must be a path on this server (/…) or an http(s) URL' },
      }),
      str('ImageAlternateText'),
      str('ImageTitle'),
      int('SortOrder', { default: 0 }),
    ],
    indexes: [['ProductId'], ['ElectronicMediaGroupId']],
  },
  {
    name: 'WebCart',
    keyPrefix: '0a6',
    realPrefix: true,
    label: 'Cart',
    fields: [
      str('Name', { required: true, ...B }),
      ref('WebStoreId', 'WebStore', { required: true, ...B, fixed: true }),
      ref('AccountId', 'Account', { required: true, ...B, fixed: true }),
      // Fixed for buyers: an Edit share can't make itself the owner (and lock the owner out).
      ref('OwnerId', 'User', { ...B, fixed: 'buyer' }),
      // Buyer-writable only for the template flows' own Checkout → Closed at Order Confirmation (RecordService.update).
      pick('Status', PICKLISTS.cartStatus, { default: 'Active', ...B }),
      str('CurrencyIsoCode', { default: 'USD', maxLength: 3, ...B, fixed: true }),
      str('PoNumber', B),
      str('PaymentMethodId', { maxLength: 18, ...B }),
      ...address('Billing', B),
      money('TotalListPrice', { readOnly: true, default: 0 }),
      money('TotalProductAmount', { readOnly: true, default: 0 }),
      money('TotalChargeAmount', { readOnly: true, default: 0 }),
      money('TotalTaxAmount', { readOnly: true, default: 0 }),
      money('TotalAdjustmentAmount', { readOnly: true, default: 0 }),
      money('GrandTotalAmount', { readOnly: true, default: 0 }),
      int('UniqueProductCount', { readOnly: true, default: 0 }),
    ],
    indexes: [['OwnerId'], ['AccountId']],
    write: BUYER_OBJECT,
  },
  {
    name: 'WebCartShare',
    keyPrefix: '0aS',
    realPrefix: false,
    label: 'Cart Share',
    fields: [
      ref('ParentId', 'WebCart', { required: true, ...B, ...PARENT }),
      // Only an active user of the cart's account: any other id answers as a missing one.
      ref('UserOrGroupId', 'User', {
        required: true,
        ...B,
        fixed: true,
        refAccess: 'exists',
        refWhere: { active: 'IsActive', sameAs: { targetField: 'AccountId', via: 'ParentId', viaField: 'AccountId' } },
      }),
      pick('AccessLevel', PICKLISTS.shareAccess, { required: true, ...B }),
    ],
    indexes: [['ParentId'], ['UserOrGroupId']],
    // Only the cart's owner shares it (access.ts: a share's edit scope is the caller's own carts).
    write: BUYER_OBJECT,
  },
  {
    name: 'CartDeliveryGroup',
    keyPrefix: '0a7',
    realPrefix: true,
    label: 'Cart Delivery Group',
    fields: [
      ref('CartId', 'WebCart', { required: true, ...B, ...PARENT }),
      str('Name', { required: true, ...B }),
      str('DeliverToName', B),
      str('DeliverToFirstName', B),
      str('DeliverToLastName', B),
      str('CompanyName', B),
      ...address('DeliverTo', B),
      // Chosen with setCheckoutDeliveryMethodAction, which also writes the group's Charge line.
      ref('DeliveryMethodId', 'OrderDeliveryMethod'),
      date('DesiredDeliveryDate', B),
      str('ShippingInstructions', B),
    ],
    indexes: [['CartId']],
    write: BUYER_OBJECT,
    // A group still holding lines can't be deleted: its lines would point at nothing.
    restrictDelete: [{ object: 'CartItem', field: 'CartDeliveryGroupId' }],
    cancelsCheckout: {
      delete: true,
      fields: ['DeliveryMethodId'],
      afterFirstState: [
        'DeliverToStreet',
        'DeliverToCity',
        'DeliverToState',
        'DeliverToPostalCode',
        'DeliverToCountry',
        'DeliverToLatitude',
        'DeliverToLongitude',
      ],
    },
  },
  {
    name: 'CartItem',
    keyPrefix: '0a9',
    realPrefix: true,
    label: 'Cart Item',
    fields: [
      ref('CartId', 'WebCart', { required: true, ...B, ...PARENT }),
      ref('CartDeliveryGroupId', 'CartDeliveryGroup', { required: true, ...B, sameAs: { field: 'CartId', targetField: 'CartId' } }),
      ref('Product2Id', 'Product2', B),
      // Copies of the product's: a buyer's line takes them from its Product2 (an order line reads the Product2 itself).
      str('Name', { required: true, ...B, copiedFrom: { via: 'Product2Id', field: 'Name', writer: 'admin' } }),
      str('Sku', { ...B, copiedFrom: { via: 'Product2Id', field: 'StockKeepingUnit', writer: 'admin' } }),
      pick('Type', PICKLISTS.cartItemType, { default: 'Product' }),
      qty('Quantity', { required: true, ...B, scaleFrom: { via: 'Product2Id', field: 'QuantityScale', writer: 'admin' } }),
      // Prices come from the store's price book (at add time and in the pricing step), adjustments
      // from the promotions step: never from a buyer.
      money('ListPrice'),
      money('SalesPrice'),
      money('AdjustmentAmount', { default: 0 }),
      money('TotalListPrice', { readOnly: true }),
      money('TotalPrice', { readOnly: true }),
      money('TotalLineAmount', { readOnly: true }),
      money('TotalLineTaxAmount', { readOnly: true, default: 0 }),
    ],
    indexes: [['CartId'], ['CartDeliveryGroupId']],
    write: BUYER_OBJECT,
    rowWriter: { field: 'Type', values: ['Charge'], writer: 'admin' },
    cancelsCheckout: {
      create: true,
      delete: true,
      fields: ['Product2Id', 'Quantity', 'CartDeliveryGroupId', 'Type', 'ListPrice', 'SalesPrice', 'AdjustmentAmount'],
    },
  },
  {
    name: 'CartTax',
    keyPrefix: '0aT',
    realPrefix: false,
    label: 'Cart Tax',
    fields: [
      ref('CartItemId', 'CartItem', { required: true, ...PARENT }),
      ref('CartId', 'WebCart', { readOnly: true, derivedFrom: { via: 'CartItemId', field: 'CartId' } }),
      str('Name', { required: true }),
      money('Amount', { required: true }),
      num('TaxRate'),
      pick('TaxType', PICKLISTS.taxType, { default: 'Actual' }),
      dt('TaxCalculationDate'),
      str('Description'),
    ],
    indexes: [['CartItemId'], ['CartId']],
    cancelsCheckout: { create: true, delete: true, fields: 'all' },
  },
  {
    name: 'CartDeliveryGroupMethod',
    keyPrefix: '2dm',
    realPrefix: false,
    label: 'Cart Delivery Group Method',
    fields: [
      ref('CartDeliveryGroupId', 'CartDeliveryGroup', { required: true, ...PARENT, sameAs: { field: 'WebCartId', targetField: 'CartId' } }),
      ref('WebCartId', 'WebCart', { fixed: true, refAccess: 'edit' }),
      ref('DeliveryMethodId', 'OrderDeliveryMethod', { required: true }),
      str('Name', { required: true }),
      money('ShippingFee', { required: true }),
      str('Carrier'),
      str('ClassOfService'),
      str('ExternalProvider'),
    ],
    indexes: [['CartDeliveryGroupId'], ['WebCartId']],
    // Offering one more option changes nothing the order is built from (choosing one does, through
    // setCheckoutDeliveryMethod); the store's own code offers options mid-checkout in the Main template.
    cancelsCheckout: { delete: true, fields: 'all' },
  },
  {
    name: 'CartValidationOutput',
    keyPrefix: '0aV',
    realPrefix: false,
    label: 'Cart Validation Output',
    fields: [
      ref('CartId', 'WebCart', { required: true, ...PARENT }),
      ref('BackgroundOperationId', 'BackgroundOperation'),
      str('Name'),
      pick('Level', PICKLISTS.validationLevel, { required: true }),
      pick('Type', PICKLISTS.validationType, { required: true }),
      str('Message', { required: true }),
      str('RelatedEntityId', { maxLength: 18 }),
      str('RelatedEntityPrefix', { maxLength: 3 }),
      bool('IsDismissed', false, B),
    ],
    indexes: [['CartId']],
    write: { create: 'admin', update: 'buyer', delete: 'admin' },
  },
  {
    name: 'CartCheckoutSession',
    keyPrefix: '2z9',
    realPrefix: true,
    label: 'Cart Checkout Session',
    fields: [
      str('Name', { required: true }),
      ref('WebCartId', 'WebCart', { required: true, readOnly: true }),
      // Updatable as Salesforce documents them, by whoever may edit the session: every write of
      // these is offered to the flow's statechart (RecordService.writeSession), which refuses what
      // the flow doesn't allow. OrderId as written is never the engine's link to its order.
      str('State', { maxLength: 30, ...B }),
      str('NextState', { maxLength: 30, ...B }),
      bool('IsProcessing', false, B),
      bool('IsError', false, B),
      bool('IsArchived', false, B),
      ref('BackgroundOperationId', 'BackgroundOperation', B),
      ref('OrderId', 'Order', B),
      str('OrderReferenceNumber', { maxLength: 36, readOnly: true }),
      str('CurrencyIsoCode', { default: 'USD', maxLength: 3 }),
    ],
    indexes: [['WebCartId', 'IsArchived']],
    write: { create: 'engine', update: 'buyer', delete: 'engine' },
    internal: [
      { name: '_snapshot', type: 'text' },
      { name: '_flow', type: 'text' },
      { name: '_machineVersion', type: 'integer' },
      { name: '_version', type: 'integer' },
      { name: '_activeKey', type: 'text' },
      // Completion stamps (JSON, src/domain/completion-invariants.ts): per computation, when its step
      // committed and the digest of what it was computed from; the payment authorization.
      { name: '_stamps', type: 'text' },
      // The Commerce Connect Checkout API's data of the session (JSON, src/connect/checkouts.ts):
      // contact info, the payment entered, the last calculator-run failure.
      { name: '_connect', type: 'text' },
    ],
    // One non-archived session per cart: `_activeKey` is the cart id while active, null once archived.
    unique: [['_activeKey']],
  },
  {
    name: 'BackgroundOperation',
    keyPrefix: '0Yb',
    realPrefix: false,
    label: 'Background Operation',
    fields: [
      str('Name', { required: true }),
      pick('Status', PICKLISTS.operationStatus, { default: 'New' }),
      str('Error'),
      dt('SubmittedAt'),
      dt('StartedAt'),
      dt('FinishedAt'),
      int('RetryCount', { default: 0 }),
      int('Timeout'),
    ],
    indexes: [['Status']],
    write: ENGINE_OBJECT,
    internal: [
      { name: '_step', type: 'text' },
      { name: '_sessionId', type: 'text' },
      { name: '_cartId', type: 'text' },
      { name: '_input', type: 'text' },
      { name: '_leaseUntil', type: 'text' },
      { name: '_version', type: 'integer' },
    ],
  },
  {
    name: 'Order',
    keyPrefix: '801',
    realPrefix: true,
    label: 'Order',
    fields: [
      ref('AccountId', 'Account', { required: true, fixed: true }),
      ref('OwnerId', 'User'),
      ref('SalesStoreId', 'WebStore'),
      pick('Status', PICKLISTS.orderStatus, { default: 'Draft' }),
      date('EffectiveDate'),
      dt('OrderedDate'),
      str('PoNumber'),
      ...address('Billing'),
      str('CurrencyIsoCode', { default: 'USD', maxLength: 3 }),
      // The checkout session's id, for people; the engine finds a session's order by `_sessionId`.
      str('OrderReferenceNumber', { maxLength: 36, readOnly: true }),
      ref('CartId', 'WebCart', { readOnly: true }),
      money('TotalAmount', { readOnly: true, default: 0 }),
      money('TotalAdjustedProductAmount', { readOnly: true, default: 0 }),
      money('TotalAdjustedDeliveryAmount', { readOnly: true, default: 0 }),
      money('TotalTaxAmount', { readOnly: true, default: 0 }),
      money('GrandTotalAmount', { readOnly: true, default: 0 }),
      dt('ActivatedDate', { readOnly: true }),
      // Set by the authorizePayment step from WebCart.PaymentMethodId and the gateway's answer.
      str('PaymentMethodId', { maxLength: 18, readOnly: true }),
      str('PaymentAuthorizationCode', { readOnly: true }),
    ],
    indexes: [['AccountId'], ['OwnerId']],
    // `_sessionId`: the checkout session that created the order (exactly-once key), written only
    // by cartToOrderAction; no record write can set it, so no planted order is ever adopted.
    // `CartId` (read-only: only cartToOrderAction sets it) is unique: a cart becomes at most one
    // order, ever; a draft abandoned with its checkout is deleted (src/domain/abandon.ts).
    internal: [{ name: '_sessionId', type: 'text' }],
    unique: [['OrderReferenceNumber'], ['_sessionId'], ['CartId']],
  },
  {
    name: 'OrderDeliveryGroup',
    keyPrefix: '2Dg',
    realPrefix: false,
    label: 'Order Delivery Group',
    fields: [
      ref('OrderId', 'Order', { required: true, ...PARENT }),
      str('DeliverToName'),
      str('DeliverToFirstName'),
      str('DeliverToLastName'),
      str('DeliverToCompanyName'),
      ...address('DeliverTo'),
      ref('OrderDeliveryMethodId', 'OrderDeliveryMethod'),
      date('DesiredDeliveryDate'),
      str('DeliveryInstructions'),
      ref('CartDeliveryGroupId', 'CartDeliveryGroup', { readOnly: true }),
    ],
    indexes: [['OrderId']],
  },
  {
    name: 'OrderItem',
    keyPrefix: '802',
    realPrefix: true,
    label: 'Order Product',
    fields: [
      ref('OrderId', 'Order', { required: true, ...PARENT }),
      ref('OrderDeliveryGroupId', 'OrderDeliveryGroup', { sameAs: { field: 'OrderId', targetField: 'OrderId' } }),
      ref('Product2Id', 'Product2'),
      str('Description'),
      str('Sku'),
      pick('Type', PICKLISTS.orderItemType, { required: true }),
      qty('Quantity', { required: true }),
      money('ListPrice'),
      money('UnitPrice'),
      money('TotalLineAmount'),
      money('TotalPrice', { readOnly: true }),
      money('TotalAdjustmentAmount', { readOnly: true, default: 0 }),
      money('TotalTaxAmount', { readOnly: true, default: 0 }),
      ref('CartItemId', 'CartItem', { readOnly: true }),
    ],
    indexes: [['OrderId']],
  },
  {
    name: 'OrderItemTaxLineItem',
    keyPrefix: '0lT',
    realPrefix: false,
    label: 'Order Product Tax Line Item',
    fields: [
      ref('OrderItemId', 'OrderItem', { required: true, ...PARENT }),
      ref('OrderId', 'Order', { readOnly: true, derivedFrom: { via: 'OrderItemId', field: 'OrderId' } }),
      str('Name', { required: true }),
      money('Amount', { required: true }),
      num('Rate'),
      pick('Type', PICKLISTS.taxType, { default: 'Actual' }),
      date('TaxEffectiveDate'),
      str('Description'),
    ],
    indexes: [['OrderItemId'], ['OrderId']],
  },
  {
    name: 'OrderItemAdjustmentLineItem',
    keyPrefix: '0lA',
    realPrefix: false,
    label: 'Order Product Adjustment Line Item',
    fields: [
      ref('OrderItemId', 'OrderItem', { required: true, ...PARENT }),
      ref('OrderId', 'Order', { readOnly: true, derivedFrom: { via: 'OrderItemId', field: 'OrderId' } }),
      str('Name', { required: true }),
      money('Amount', { required: true }),
      str('Description'),
    ],
    indexes: [['OrderItemId'], ['OrderId']],
  },
  {
    name: 'OrderSummary',
    keyPrefix: '1Os',
    realPrefix: true,
    label: 'Order Summary',
    fields: [
      ref('OriginalOrderId', 'Order', { required: true, fixed: true }),
      ref('AccountId', 'Account'),
      ref('OwnerId', 'User'),
      ref('SalesStoreId', 'WebStore'),
      pick('OrderLifeCycleType', PICKLISTS.lifeCycle, { default: 'MANAGED' }),
      str('Status', { default: 'Created' }),
      str('OrderNumber'),
      money('GrandTotalAmount', { default: 0 }),
      money('TotalTaxAmount', { default: 0 }),
      dt('OrderedDate'),
    ],
    unique: [['OriginalOrderId']],
    // Created by activateOrderAction with its order; an admin may update its status.
    write: { create: 'engine', update: 'admin', delete: 'engine' },
  },
  {
    name: 'OrderDeliveryMethod',
    keyPrefix: '2Dm',
    realPrefix: false,
    label: 'Order Delivery Method',
    fields: [
      str('Name', { required: true }),
      bool('IsActive', true),
      str('Carrier'),
      str('ClassOfService'),
      // Store settings: a fee is never negative (no delivery method pays the buyer).
      money('ShippingFee', { default: 0, min: 0 }),
      money('ShippingFeePerUnit', { default: 0, min: 0 }),
      ref('ProductId', 'Product2'),
    ],
  },
  {
    name: 'Pricebook2',
    keyPrefix: '01s',
    realPrefix: true,
    label: 'Price Book',
    fields: [str('Name', { required: true }), bool('IsActive', true)],
  },
  {
    name: 'PricebookEntry',
    keyPrefix: '01u',
    realPrefix: true,
    label: 'Price Book Entry',
    fields: [
      ref('Pricebook2Id', 'Pricebook2', { required: true }),
      ref('Product2Id', 'Product2', { required: true }),
      money('UnitPrice', { required: true }),
      bool('IsActive', true),
    ],
    indexes: [['Pricebook2Id', 'Product2Id']],
  },
  {
    name: 'WebStorePricebook',
    keyPrefix: '0ZP',
    realPrefix: false,
    label: 'Store Price Book',
    fields: [
      ref('WebStoreId', 'WebStore', { required: true }),
      ref('Pricebook2Id', 'Pricebook2', { required: true }),
      bool('IsActive', true),
    ],
    indexes: [['WebStoreId']],
  },
  {
    name: 'ProductInventory',
    keyPrefix: '0PI',
    realPrefix: false,
    label: 'Product Inventory',
    fields: [
      ref('Product2Id', 'Product2', { required: true }),
      // On hand: what a buyer reads as the product's stock. It doesn't move when a cart holds stock.
      num('QuantityAvailable', { required: true, min: 0 }),
      // Held by carts in checkout and by orders: every account's demand, so only ModifyAllData reads it.
      num('QuantityReserved', { default: 0, min: 0, read: 'admin' }),
    ],
    unique: [['Product2Id']],
  },
  {
    name: 'Promotion',
    keyPrefix: '0c8',
    realPrefix: false,
    label: 'Promotion',
    fields: [
      str('Name', { required: true }),
      bool('IsActive', true),
      pick('DiscountType', PICKLISTS.discountType, { required: true }),
      // A discount never adds to the price.
      num('DiscountValue', { required: true, min: 0 }),
      ref('Product2Id', 'Product2'),
      ref('WebStoreId', 'WebStore'),
    ],
  },
  {
    name: 'TaxRate',
    keyPrefix: '0TR',
    realPrefix: false,
    label: 'Tax Rate',
    fields: [
      str('Name'),
      str('Country', { required: true }),
      str('State'),
      num('Rate', { required: true, min: 0 }),
      bool('IsActive', true),
    ],
  },
];

// --- Stock reservations (engine-internal ledger) ----------------------------------------------
// Which cart holds how much of which ProductInventory row. Written only by the engine: the
// inventory step sets a cart's holds, cancel / expiry / a cart change / a step error release them,
// and activateOrder (or the confirmation of a flow without it) keeps them as the order's.
OBJECT_LIST.push({
  name: 'ProductReservation',
  keyPrefix: '0Rz',
  realPrefix: false,
  label: 'Product Reservation',
  write: ENGINE_OBJECT,
  fields: [
    ref('WebCartId', 'WebCart', { required: true, readOnly: true }),
    ref('ProductInventoryId', 'ProductInventory', { required: true, readOnly: true }),
    ref('Product2Id', 'Product2', { readOnly: true }),
    num('Quantity', { required: true, readOnly: true }),
    pick('Status', ['Held', 'Released', 'Ordered'], { default: 'Held', readOnly: true }),
    ref('OrderId', 'Order', { readOnly: true }),
    ref('BackgroundOperationId', 'BackgroundOperation', { readOnly: true }),
    dt('ReleasedDate', { readOnly: true }),
    str('ReleaseReason', { maxLength: 40, readOnly: true }),
  ],
  indexes: [['WebCartId', 'Status'], ['ProductInventoryId']],
  // One Held row per cart and inventory row: `_holdKey` is `cartId:inventoryId` while Held, null after.
  internal: [{ name: '_holdKey', type: 'text' }],
  unique: [['_holdKey']],
});

/** Fields every object has, managed by the engine. */
export const SYSTEM_FIELDS: readonly FieldDef[] = [
  { name: 'Id', type: 'reference', readOnly: true },
  { name: 'CreatedDate', type: 'datetime', readOnly: true },
  { name: 'LastModifiedDate', type: 'datetime', readOnly: true },
];

/** Every object, by API name. */
export const OBJECTS: ReadonlyMap<string, ObjectDef> = new Map(OBJECT_LIST.map((o) => [o.name, o]));

const byLowerName = new Map(OBJECT_LIST.map((o) => [o.name.toLowerCase(), o]));
const byPrefix = new Map(OBJECT_LIST.map((o) => [o.keyPrefix, o]));
const fieldIndex = new Map<string, Map<string, FieldDef>>();
for (const o of OBJECT_LIST) {
  const m = new Map<string, FieldDef>();
  for (const f of [...SYSTEM_FIELDS, ...o.fields]) m.set(f.name.toLowerCase(), f);
  fieldIndex.set(o.name, m);
}

/** The object with this API name (case-insensitive), or undefined. */
export function findObject(name: string): ObjectDef | undefined {
  // Only a string names an object (a hostile caller's object could throw from its toString).
  return typeof name === 'string' ? byLowerName.get(name.toLowerCase()) : undefined;
}

/** The object whose ids start with this key prefix, or undefined. */
export function objectForPrefix(prefix: string): ObjectDef | undefined {
  return byPrefix.get(prefix);
}

/** A field of an object by API name (case-insensitive), system fields included. */
export function findField(object: string, field: string): FieldDef | undefined {
  return fieldIndex.get(object)?.get(String(field).toLowerCase());
}

/** All fields of an object, system fields first. */
export function allFields(object: ObjectDef): readonly FieldDef[] {
  return [...SYSTEM_FIELDS, ...object.fields];
}

/** Key prefixes allowed for a reference field (its targets' prefixes). */
export function prefixesFor(field: FieldDef): string[] {
  return (field.to ?? []).map((t) => OBJECTS.get(t)!.keyPrefix);
}

// --- Engine-internal objects (sign-in, session history) ---------------------------------------------------
// Stored in the same database as the records, so every engine process on one database shares
// them, but never exposed: not in OBJECTS, so no sObject URL, SOQL query, describe, fixture or
// generated table reaches them.

/** Engine-internal objects: tables the storage creates, which no record API, query or describe sees. */
export const INTERNAL_OBJECTS: ReadonlyMap<string, ObjectDef> = new Map(
  (
    [
      {
        // One row per live access token. Id is the token's SHA-256 (hex): the token itself is never stored.
        name: 'EngineAuthToken',
        keyPrefix: '0Ak',
        realPrefix: false,
        label: 'Access Token',
        fields: [ref('UserId', 'User', { required: true }), dt('ExpiresAt', { required: true })],
        indexes: [['UserId'], ['ExpiresAt']],
      },
      {
        // Login throttle counters and known sign-in addresses, shared by every process on the database
        // (src/engine/login-throttle.ts). Id is the SHA-256 (hex) of the counter's kind and key, so no
        // username or address is stored in the clear.
        name: 'EngineLoginThrottle',
        keyPrefix: '0Lt',
        realPrefix: false,
        label: 'Login Throttle',
        fields: [str('Kind', { required: true, maxLength: 16 }), int('Count', { required: true }), dt('ResetAt', { required: true })],
        indexes: [['ResetAt']],
      },
      {
        // Install-wide settings (Id = setting name), e.g. the key that signs token responses.
        name: 'EngineSetting',
        keyPrefix: '0Es',
        realPrefix: false,
        label: 'Engine Setting',
        fields: [str('Value', { maxLength: 1000 })],
      },
      {
        // One row per flow interview (src/engine/interviews.ts): a running instance of a store's Flow
        // metadata, owned by the buyer who started it. State is the runtime's JSON (machine snapshot
        // and view); Version is its compare-and-set counter; LeaseOwner/LeaseUntil say which request
        // is navigating it (a lease in the past is free).
        name: 'FlowInterview',
        keyPrefix: '0Fo',
        realPrefix: true,
        label: 'Flow Interview',
        fields: [
          str('FlowApiName', { required: true }),
          str('Status', { required: true, maxLength: 16 }),
          ref('OwnerUserId', 'User', { required: true }),
          str('CartId'),
          str('CurrentElement'),
          { name: 'State', type: 'string' },
          int('Version', { required: true }),
          str('LeaseOwner'),
          dt('LeaseUntil', { required: true }),
        ],
        indexes: [['OwnerUserId'], ['CartId']],
      },
      {
        // One row per event offered to a checkout session: applied (same transaction as the change) or rejected.
        name: 'CheckoutSessionEvent',
        keyPrefix: '0xE',
        realPrefix: false,
        label: 'Checkout Session Event',
        fields: [
          ref('SessionId', 'CartCheckoutSession', { required: true }),
          str('CartId'),
          int('Seq', { required: true }),
          int('Sub', { default: 0 }),
          str('EventType', { required: true }),
          { name: 'Event', type: 'string' },
          str('StateBefore'),
          str('StateAfter'),
          bool('Accepted', true),
          str('RejectionCode'),
          { name: 'RejectionDetail', type: 'string' },
          str('Operation'),
          str('OperationId'),
          str('CallerId'),
        ],
        indexes: [['SessionId', 'Seq']],
      },
    ] satisfies ObjectDef[]
  ).map((o): [string, ObjectDef] => [o.name, o]),
);

/**
 * Records frozen by their status: a Closed cart is final (no record write changes it or its
 * records; deleting it is still allowed), and so is an Activated order (its lines can't change and
 * it can't be deleted). The engine's own writes (closing the cart at order confirmation,
 * activation) don't go through record writes.
 */
export const FROZEN: Readonly<Record<string, { readonly field: string; readonly values: readonly string[]; readonly deletable: boolean }>> =
  {
    WebCart: { field: 'Status', values: ['Closed'], deletable: true },
    Order: { field: 'Status', values: ['Activated'], deletable: false },
  };

/** Cart statuses in which a buyer's record writes may change the cart or its records. */
export const BUYER_OPEN_CART_STATUSES: readonly string[] = ['Active', 'Checkout'];

/**
 * Whether a record write may move a cart's Status from `from` to `to`: null when it may, else the
 * error key. Checkout is entered and left only by the checkout actions; Closed is final. This is
 * the one place to open a status move (e.g. a template flow's own Checkout → Closed write).
 */
export function cartStatusChange(from: unknown, to: unknown): 'CART_STATUS_MANAGED' | 'RECORD_LOCKED' | null {
  if (from === to) return null;
  if (from === 'Closed') return 'RECORD_LOCKED';
  if (from === 'Checkout' || to === 'Checkout') return 'CART_STATUS_MANAGED';
  return null;
}

/** A relationship from a parent object to the child records whose reference `field` names it. */
export interface ChildRelationship {
  readonly name: string;
  readonly object: string;
  readonly field: string;
}

/** Child relationship names as Salesforce has them (what a SOQL subquery's FROM names), per parent object. */
export const CHILD_RELATIONSHIPS: Readonly<Record<string, readonly ChildRelationship[]>> = {
  Account: [
    { name: 'WebCarts', object: 'WebCart', field: 'AccountId' },
    { name: 'Orders', object: 'Order', field: 'AccountId' },
    { name: 'ContactPointAddresses', object: 'ContactPointAddress', field: 'ParentId' },
  ],
  WebCart: [
    { name: 'CartItems', object: 'CartItem', field: 'CartId' },
    { name: 'CartDeliveryGroups', object: 'CartDeliveryGroup', field: 'CartId' },
    { name: 'CartTaxes', object: 'CartTax', field: 'CartId' },
    { name: 'CartValidationOutputs', object: 'CartValidationOutput', field: 'CartId' },
    { name: 'CartDeliveryGroupMethods', object: 'CartDeliveryGroupMethod', field: 'WebCartId' },
    { name: 'CartCheckoutSessions', object: 'CartCheckoutSession', field: 'WebCartId' },
    { name: 'Shares', object: 'WebCartShare', field: 'ParentId' },
  ],
  CartDeliveryGroup: [
    { name: 'CartItems', object: 'CartItem', field: 'CartDeliveryGroupId' },
    { name: 'CartDeliveryGroupMethods', object: 'CartDeliveryGroupMethod', field: 'CartDeliveryGroupId' },
  ],
  CartItem: [{ name: 'CartTaxes', object: 'CartTax', field: 'CartItemId' }],
  Order: [
    { name: 'OrderItems', object: 'OrderItem', field: 'OrderId' },
    { name: 'OrderDeliveryGroups', object: 'OrderDeliveryGroup', field: 'OrderId' },
  ],
  OrderDeliveryGroup: [{ name: 'OrderItems', object: 'OrderItem', field: 'OrderDeliveryGroupId' }],
  OrderItem: [
    { name: 'OrderItemTaxLineItems', object: 'OrderItemTaxLineItem', field: 'OrderItemId' },
    { name: 'OrderItemAdjustmentLineItems', object: 'OrderItemAdjustmentLineItem', field: 'OrderItemId' },
  ],
  Product2: [{ name: 'PricebookEntries', object: 'PricebookEntry', field: 'Product2Id' }],
  Pricebook2: [{ name: 'PricebookEntries', object: 'PricebookEntry', field: 'Pricebook2Id' }],
};

/** A child relationship of an object by name (case-insensitive), or undefined. */
export function findChildRelationship(object: string, name: string): ChildRelationship | undefined {
  return CHILD_RELATIONSHIPS[object]?.find((r) => r.name.toLowerCase() === String(name).toLowerCase());
}

/** The reference field behind a parent relationship name (the field's name minus `Id`: AccountId → Account), or undefined. */
export function findParentRelationship(object: string, name: string): FieldDef | undefined {
  const f = findField(object, `${name}Id`);
  return f && f.type === 'reference' && f.name !== 'Id' && f.to?.length === 1 && !f.writeOnly ? f : undefined;
}

/** Every stored table (objects and engine-internal ones), by name: what the storage adapters create. */
export const STORED_OBJECTS: ReadonlyMap<string, ObjectDef> = new Map(
  [...OBJECT_LIST, ...INTERNAL_OBJECTS.values()].map((o) => [o.name, o]),
);
