/**
 * Cart → draft Order mapping (spec §3: docs/contract.md; the field mapping of Salesforce’s Cart to Order), as a pure function:
 * WebCart → Order (Status Draft), CartDeliveryGroup → OrderDeliveryGroup, CartItem Product →
 * OrderItem "Order Product", CartItem Charge → OrderItem "Delivery Charge", CartTax →
 * OrderItemTaxLineItem, non-zero AdjustmentAmount → OrderItemAdjustmentLineItem. Order totals are
 * decimal sums of the order's lines (src/domain/money.ts), which equal the cart's roll-ups. A
 * product line's Product2Id, Description and Sku come from its Product2 record (`productFields`).
 */
import { addMoney, multiplyMoney, sumMoney, unitPriceOf } from './money.js';

type Rec = Record<string, unknown>;

/** What the mapping reads. */
export interface CartForOrder {
  cart: Rec & { Id: string };
  groups: readonly (Rec & { Id: string })[];
  items: readonly (Rec & { Id: string })[];
  taxes: readonly (Rec & { Id: string })[];
  /**
   * The Product2 records of the product lines, by Id: an order line's Product2Id, Description and
   * Sku are read from these, never from the cart line's writable Name and Sku (issue 17).
   */
  products: ReadonlyMap<string, Rec>;
}

/** The records of a draft order, ready to insert. */
export interface DraftOrder {
  order: Rec & { Id: string };
  deliveryGroups: (Rec & { Id: string })[];
  items: (Rec & { Id: string })[];
  taxLines: (Rec & { Id: string })[];
  adjustmentLines: (Rec & { Id: string })[];
}

/** Ids and clock for the mapping; injected so the function stays pure. */
export interface MappingContext {
  now: Date;
  orderReferenceNumber: string;
  mintId: (object: 'Order' | 'OrderDeliveryGroup' | 'OrderItem' | 'OrderItemTaxLineItem' | 'OrderItemAdjustmentLineItem') => string;
}

/** Address parts carried from cart to order, geolocation included. */
const ADDRESS = ['Street', 'City', 'State', 'PostalCode', 'Country', 'Latitude', 'Longitude', 'GeocodeAccuracy'];
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/**
 * An order line's product fields: a product line's from its Product2 record (none when the line
 * names no known product); a Charge line's (written by the engine or an administrator) as the line has them.
 */
export function productFields(
  ci: Rec,
  isCharge: boolean,
  products: ReadonlyMap<string, Rec>,
): { Product2Id: unknown; Description: unknown; Sku: unknown } {
  if (isCharge) return { Product2Id: ci.Product2Id ?? null, Description: ci.Name ?? null, Sku: ci.Sku ?? null };
  const product = typeof ci.Product2Id === 'string' ? products.get(ci.Product2Id) : undefined;
  return { Product2Id: product ? ci.Product2Id : null, Description: product?.Name ?? null, Sku: product?.StockKeepingUnit ?? null };
}

/** Maps a cart into the records of its draft Order. */
export function mapCartToOrder(input: CartForOrder, ctx: MappingContext): DraftOrder {
  const { cart } = input;
  const nowIso = ctx.now.toISOString();
  const orderId = ctx.mintId('Order');
  const base = { CreatedDate: nowIso, LastModifiedDate: nowIso };

  const groupIds = new Map<string, string>();
  const deliveryGroups = input.groups.map((g) => {
    const id = ctx.mintId('OrderDeliveryGroup');
    groupIds.set(g.Id, id);
    const out: Rec & { Id: string } = {
      Id: id,
      ...base,
      OrderId: orderId,
      DeliverToName: g.DeliverToName ?? g.Name ?? null,
      DeliverToFirstName: g.DeliverToFirstName ?? null,
      DeliverToLastName: g.DeliverToLastName ?? null,
      DeliverToCompanyName: g.CompanyName ?? null,
      OrderDeliveryMethodId: g.DeliveryMethodId ?? null,
      DesiredDeliveryDate: typeof g.DesiredDeliveryDate === 'string' ? g.DesiredDeliveryDate.slice(0, 10) : null,
      DeliveryInstructions: g.ShippingInstructions ?? null,
      CartDeliveryGroupId: g.Id,
    };
    for (const p of ADDRESS) out[`DeliverTo${p}`] = g[`DeliverTo${p}`] ?? null;
    return out;
  });

  const taxesByItem = new Map<string, (Rec & { Id: string })[]>();
  for (const t of input.taxes) {
    const k = String(t.CartItemId);
    let list = taxesByItem.get(k);
    if (!list) taxesByItem.set(k, (list = []));
    list.push(t);
  }

  const items: (Rec & { Id: string })[] = [];
  const taxLines: (Rec & { Id: string })[] = [];
  const adjustmentLines: (Rec & { Id: string })[] = [];
  const productAmounts: number[] = [];
  const chargeAmounts: number[] = [];
  const taxAmounts: number[] = [];
  for (const ci of input.items) {
    const id = ctx.mintId('OrderItem');
    const isCharge = ci.Type === 'Charge';
    const quantity = num(ci.Quantity);
    const unit = unitPriceOf(ci);
    const lineAmount = typeof ci.TotalLineAmount === 'number' ? ci.TotalLineAmount : multiplyMoney(unit, quantity);
    const adjustment = num(ci.AdjustmentAmount);
    const adjusted = typeof ci.TotalPrice === 'number' ? ci.TotalPrice : addMoney(lineAmount, adjustment);
    const itemTaxes = taxesByItem.get(ci.Id) ?? [];
    const itemTax = sumMoney(itemTaxes.map((t) => num(t.Amount)));
    (isCharge ? chargeAmounts : productAmounts).push(adjusted);
    taxAmounts.push(itemTax);
    items.push({
      Id: id,
      ...base,
      OrderId: orderId,
      OrderDeliveryGroupId: groupIds.get(String(ci.CartDeliveryGroupId)) ?? null,
      ...productFields(ci, isCharge, input.products),
      Type: isCharge ? 'Delivery Charge' : 'Order Product',
      Quantity: quantity,
      ListPrice: typeof ci.ListPrice === 'number' ? ci.ListPrice : null,
      UnitPrice: unit,
      TotalLineAmount: lineAmount,
      TotalPrice: multiplyMoney(unit, quantity),
      TotalAdjustmentAmount: adjustment,
      TotalTaxAmount: itemTax,
      CartItemId: ci.Id,
    });
    for (const t of itemTaxes) {
      taxLines.push({
        Id: ctx.mintId('OrderItemTaxLineItem'),
        ...base,
        OrderItemId: id,
        OrderId: orderId,
        Name: t.Name ?? 'Tax',
        Amount: num(t.Amount),
        Rate: typeof t.TaxRate === 'number' ? t.TaxRate : null,
        Type: t.TaxType ?? 'Actual',
        TaxEffectiveDate: String(t.TaxCalculationDate ?? nowIso).slice(0, 10),
        Description: t.Description ?? null,
      });
    }
    if (adjustment !== 0) {
      adjustmentLines.push({
        Id: ctx.mintId('OrderItemAdjustmentLineItem'),
        ...base,
        OrderItemId: id,
        OrderId: orderId,
        Name: 'Price Adjustment',
        Amount: adjustment,
        Description: null,
      });
    }
  }

  const product = sumMoney(productAmounts);
  const delivery = sumMoney(chargeAmounts);
  const tax = sumMoney(taxAmounts);
  const order: Rec & { Id: string } = {
    Id: orderId,
    ...base,
    AccountId: cart.AccountId,
    OwnerId: cart.OwnerId ?? null,
    SalesStoreId: cart.WebStoreId,
    Status: 'Draft',
    EffectiveDate: nowIso.slice(0, 10),
    OrderedDate: nowIso,
    PoNumber: cart.PoNumber ?? null,
    CurrencyIsoCode: cart.CurrencyIsoCode ?? 'USD',
    OrderReferenceNumber: ctx.orderReferenceNumber,
    CartId: cart.Id,
    TotalAdjustedProductAmount: product,
    TotalAdjustedDeliveryAmount: delivery,
    TotalAmount: sumMoney([product, delivery]),
    TotalTaxAmount: tax,
    GrandTotalAmount: sumMoney([product, delivery, tax]),
    ActivatedDate: null,
  };
  for (const p of ADDRESS) order[`Billing${p}`] = cart[`Billing${p}`] ?? null;
  return { order, deliveryGroups, items, taxLines, adjustmentLines };
}
