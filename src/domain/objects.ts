/**
 * Object metadata: every Salesforce-shaped object the engine stores, its key prefix and its fields.
 * Zod schemas, table DDL, sObject describe, SOQL validation and fixtures all derive from this one
 * table, so a field exists everywhere or nowhere.
 */

/** The kind of value a field holds. */
export type FieldType =
  | 'string'
  | 'picklist'
  | 'reference'
  | 'number'
  | 'currency'
  | 'integer'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'stringList'
  | 'password';

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
  /** Never returned to callers (e.g. password hashes). */
  readonly writeOnly?: boolean;
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
}

const str = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'string', maxLength: 255, ...extra });
const ref = (name: string, to: string | string[], extra: Partial<FieldDef> = {}): FieldDef => ({
  name,
  type: 'reference',
  to: Array.isArray(to) ? to : [to],
  ...extra,
});
const pick = (name: string, values: readonly string[], extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'picklist', values, ...extra });
const money = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'currency', ...extra });
const num = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'number', ...extra });
const int = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'integer', ...extra });
const bool = (name: string, dflt = false, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'boolean', default: dflt, ...extra });
const dt = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'datetime', ...extra });
const date = (name: string, extra: Partial<FieldDef> = {}): FieldDef => ({ name, type: 'date', ...extra });

const address = (prefix: string): FieldDef[] =>
  ['Street', 'City', 'State', 'PostalCode', 'Country'].map((part) => str(`${prefix}${part}`));

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
      int('CheckoutTimeToLive', { default: 2880 }),
      dt('CheckoutValidAfterDate'),
      str('DefaultCurrencyIsoCode', { default: 'USD', maxLength: 3 }),
    ],
  },
  { name: 'BuyerGroup', keyPrefix: '0ZI', realPrefix: false, label: 'Buyer Group', fields: [str('Name', { required: true }), str('Description')] },
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
    fields: [str('Name', { required: true }), str('StockKeepingUnit'), str('Description'), bool('IsActive', true)],
  },
  {
    name: 'WebCart',
    keyPrefix: '0a6',
    realPrefix: true,
    label: 'Cart',
    fields: [
      str('Name', { required: true }),
      ref('WebStoreId', 'WebStore', { required: true }),
      ref('AccountId', 'Account', { required: true }),
      ref('OwnerId', 'User'),
      pick('Status', PICKLISTS.cartStatus, { default: 'Active' }),
      str('CurrencyIsoCode', { default: 'USD', maxLength: 3 }),
      str('PoNumber'),
      str('PaymentMethodId', { maxLength: 18 }),
      ...address('Billing'),
      money('TotalListPrice', { readOnly: true, default: 0 }),
      money('TotalProductAmount', { readOnly: true, default: 0 }),
      money('TotalChargeAmount', { readOnly: true, default: 0 }),
      money('TotalTaxAmount', { readOnly: true, default: 0 }),
      money('TotalAdjustmentAmount', { readOnly: true, default: 0 }),
      money('GrandTotalAmount', { readOnly: true, default: 0 }),
      int('UniqueProductCount', { readOnly: true, default: 0 }),
    ],
    indexes: [['OwnerId'], ['AccountId']],
  },
  {
    name: 'WebCartShare',
    keyPrefix: '0aS',
    realPrefix: false,
    label: 'Cart Share',
    fields: [
      ref('ParentId', 'WebCart', { required: true }),
      ref('UserOrGroupId', 'User', { required: true }),
      pick('AccessLevel', PICKLISTS.shareAccess, { required: true }),
    ],
    indexes: [['ParentId'], ['UserOrGroupId']],
  },
  {
    name: 'CartDeliveryGroup',
    keyPrefix: '0a7',
    realPrefix: true,
    label: 'Cart Delivery Group',
    fields: [
      ref('CartId', 'WebCart', { required: true }),
      str('Name', { required: true }),
      str('DeliverToName'),
      str('DeliverToFirstName'),
      str('DeliverToLastName'),
      str('CompanyName'),
      ...address('DeliverTo'),
      ref('DeliveryMethodId', 'OrderDeliveryMethod'),
      date('DesiredDeliveryDate'),
      str('ShippingInstructions'),
    ],
    indexes: [['CartId']],
  },
  {
    name: 'CartItem',
    keyPrefix: '0a9',
    realPrefix: true,
    label: 'Cart Item',
    fields: [
      ref('CartId', 'WebCart', { required: true }),
      ref('CartDeliveryGroupId', 'CartDeliveryGroup', { required: true }),
      ref('Product2Id', 'Product2'),
      str('Name', { required: true }),
      str('Sku'),
      pick('Type', PICKLISTS.cartItemType, { default: 'Product' }),
      num('Quantity', { required: true }),
      money('ListPrice'),
      money('SalesPrice'),
      money('AdjustmentAmount', { default: 0 }),
      money('TotalListPrice', { readOnly: true }),
      money('TotalPrice', { readOnly: true }),
      money('TotalLineAmount', { readOnly: true }),
      money('TotalLineTaxAmount', { readOnly: true, default: 0 }),
    ],
    indexes: [['CartId'], ['CartDeliveryGroupId']],
  },
  {
    name: 'CartTax',
    keyPrefix: '0aT',
    realPrefix: false,
    label: 'Cart Tax',
    fields: [
      ref('CartItemId', 'CartItem', { required: true }),
      ref('CartId', 'WebCart', { readOnly: true }),
      str('Name', { required: true }),
      money('Amount', { required: true }),
      num('TaxRate'),
      pick('TaxType', PICKLISTS.taxType, { default: 'Actual' }),
      dt('TaxCalculationDate'),
      str('Description'),
    ],
    indexes: [['CartItemId'], ['CartId']],
  },
  {
    name: 'CartDeliveryGroupMethod',
    keyPrefix: '2dm',
    realPrefix: false,
    label: 'Cart Delivery Group Method',
    fields: [
      ref('CartDeliveryGroupId', 'CartDeliveryGroup', { required: true }),
      ref('WebCartId', 'WebCart'),
      ref('DeliveryMethodId', 'OrderDeliveryMethod', { required: true }),
      str('Name', { required: true }),
      money('ShippingFee', { required: true }),
      str('Carrier'),
      str('ClassOfService'),
      str('ExternalProvider'),
    ],
    indexes: [['CartDeliveryGroupId'], ['WebCartId']],
  },
  {
    name: 'CartValidationOutput',
    keyPrefix: '0aV',
    realPrefix: false,
    label: 'Cart Validation Output',
    fields: [
      ref('CartId', 'WebCart', { required: true }),
      ref('BackgroundOperationId', 'BackgroundOperation'),
      str('Name'),
      pick('Level', PICKLISTS.validationLevel, { required: true }),
      pick('Type', PICKLISTS.validationType, { required: true }),
      str('Message', { required: true }),
      str('RelatedEntityId', { maxLength: 18 }),
      bool('IsDismissed', false),
    ],
    indexes: [['CartId']],
  },
  {
    name: 'CartCheckoutSession',
    keyPrefix: '2z9',
    realPrefix: true,
    label: 'Cart Checkout Session',
    fields: [
      str('Name', { required: true }),
      ref('WebCartId', 'WebCart', { required: true }),
      str('State', { maxLength: 30 }),
      str('NextState', { maxLength: 30, readOnly: true }),
      bool('IsProcessing', false, { readOnly: true }),
      bool('IsError', false, { readOnly: true }),
      bool('IsArchived', false, { readOnly: true }),
      ref('BackgroundOperationId', 'BackgroundOperation', { readOnly: true }),
      ref('OrderId', 'Order', { readOnly: true }),
      str('OrderReferenceNumber', { maxLength: 36, readOnly: true }),
      str('CurrencyIsoCode', { default: 'USD', maxLength: 3 }),
    ],
    indexes: [['WebCartId', 'IsArchived']],
    internal: [
      { name: '_snapshot', type: 'text' },
      { name: '_flow', type: 'text' },
      { name: '_machineVersion', type: 'integer' },
      { name: '_version', type: 'integer' },
      { name: '_activeKey', type: 'text' },
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
      ref('AccountId', 'Account', { required: true }),
      ref('OwnerId', 'User'),
      ref('SalesStoreId', 'WebStore'),
      pick('Status', PICKLISTS.orderStatus, { default: 'Draft' }),
      date('EffectiveDate'),
      dt('OrderedDate'),
      str('PoNumber'),
      ...address('Billing'),
      str('CurrencyIsoCode', { default: 'USD', maxLength: 3 }),
      str('OrderReferenceNumber', { maxLength: 36 }),
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
    unique: [['OrderReferenceNumber']],
  },
  {
    name: 'OrderDeliveryGroup',
    keyPrefix: '2Dg',
    realPrefix: false,
    label: 'Order Delivery Group',
    fields: [
      ref('OrderId', 'Order', { required: true }),
      str('DeliverToName'),
      str('DeliverToFirstName'),
      str('DeliverToLastName'),
      str('CompanyName'),
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
      ref('OrderId', 'Order', { required: true }),
      ref('OrderDeliveryGroupId', 'OrderDeliveryGroup'),
      ref('Product2Id', 'Product2'),
      str('Description'),
      str('Sku'),
      pick('Type', PICKLISTS.orderItemType, { required: true }),
      num('Quantity', { required: true }),
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
      ref('OrderItemId', 'OrderItem', { required: true }),
      ref('OrderId', 'Order', { readOnly: true }),
      str('Name', { required: true }),
      money('Amount', { required: true }),
      num('Rate'),
      pick('Type', PICKLISTS.taxType, { default: 'Actual' }),
      dt('TaxeDate'),
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
      ref('OrderItemId', 'OrderItem', { required: true }),
      ref('OrderId', 'Order', { readOnly: true }),
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
      ref('OriginalOrderId', 'Order', { required: true }),
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
      money('ShippingFee', { default: 0 }),
      money('ShippingFeePerUnit', { default: 0 }),
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
    fields: [ref('WebStoreId', 'WebStore', { required: true }), ref('Pricebook2Id', 'Pricebook2', { required: true }), bool('IsActive', true)],
    indexes: [['WebStoreId']],
  },
  {
    name: 'ProductInventory',
    keyPrefix: '0PI',
    realPrefix: false,
    label: 'Product Inventory',
    fields: [ref('Product2Id', 'Product2', { required: true }), num('QuantityAvailable', { required: true }), num('QuantityReserved', { default: 0 })],
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
      num('DiscountValue', { required: true }),
      ref('Product2Id', 'Product2'),
      ref('WebStoreId', 'WebStore'),
    ],
  },
  {
    name: 'TaxRate',
    keyPrefix: '0TR',
    realPrefix: false,
    label: 'Tax Rate',
    fields: [str('Name'), str('Country', { required: true }), str('State'), num('Rate', { required: true }), bool('IsActive', true)],
  },
];

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
  return byLowerName.get(String(name).toLowerCase());
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

// --- Engine-internal tables (issue 10) ---------------------------------------------------------
// Stored with the same DDL and codecs as the objects above, but not in OBJECTS: no describe, no
// SOQL, no record API. Read them through the engine (e.g. `engine.getHistory`).

/** Engine-internal tables, declared like objects; never exposed as sObjects. */
export const INTERNAL_OBJECTS: readonly ObjectDef[] = [
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
];

/** Every stored table (objects and engine-internal ones), by name: what the storage adapters create. */
export const STORED_OBJECTS: ReadonlyMap<string, ObjectDef> = new Map([...OBJECT_LIST, ...INTERNAL_OBJECTS].map((o) => [o.name, o]));
