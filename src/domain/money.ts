/**
 * Money and cart roll-ups. Amounts are rounded half away from zero (Java's HALF_UP) to 2 decimals
 * per line; cart and order totals are sums of line values (spec §4).
 */

/** Rounds to 2 decimals, half away from zero, without binary-fraction surprises (1.005 → 1.01). */
export function roundMoney(x: number): number {
  if (!Number.isFinite(x)) return x;
  const cents = Math.round(Math.abs(x) * 100 + 1e-7);
  const v = (Math.sign(x) * cents) / 100;
  return Object.is(v, -0) ? 0 : v;
}

/** Sums amounts in integer cents so totals never drift. */
export function sumMoney(values: Iterable<number | null | undefined>): number {
  let cents = 0;
  for (const v of values) if (typeof v === 'number') cents += Math.round(roundMoney(v) * 100);
  return cents / 100;
}

/** The price fields of a cart line that the engine derives from its inputs. */
export interface DerivedLine {
  TotalLineAmount: number;
  TotalListPrice: number | null;
  TotalPrice: number;
}

/**
 * Derives a cart line's totals: TotalLineAmount = SalesPrice × Quantity (before adjustments; ListPrice
 * when no SalesPrice), TotalListPrice = ListPrice × Quantity, TotalPrice = TotalLineAmount +
 * AdjustmentAmount (after adjustments, before tax).
 */
export function deriveCartLine(item: { Quantity?: unknown; SalesPrice?: unknown; ListPrice?: unknown; AdjustmentAmount?: unknown }): DerivedLine {
  const qty = typeof item.Quantity === 'number' ? item.Quantity : 0;
  const list = typeof item.ListPrice === 'number' ? item.ListPrice : null;
  const unit = typeof item.SalesPrice === 'number' ? item.SalesPrice : (list ?? 0);
  const adj = typeof item.AdjustmentAmount === 'number' ? item.AdjustmentAmount : 0;
  const line = roundMoney(unit * qty);
  return { TotalLineAmount: line, TotalListPrice: list === null ? null : roundMoney(list * qty), TotalPrice: roundMoney(line + adj) };
}

/** Cart header totals rolled up from its lines. */
export interface CartTotals {
  TotalListPrice: number;
  TotalProductAmount: number;
  TotalChargeAmount: number;
  TotalTaxAmount: number;
  TotalAdjustmentAmount: number;
  GrandTotalAmount: number;
  UniqueProductCount: number;
}

/** Rolls a cart's lines up into its header totals (GrandTotal = products + charges + tax). */
export function rollUpCart(
  items: readonly { Type?: unknown; TotalPrice?: unknown; TotalListPrice?: unknown; AdjustmentAmount?: unknown; TotalLineTaxAmount?: unknown; Product2Id?: unknown }[],
): CartTotals {
  const products = items.filter((i) => i.Type !== 'Charge');
  const charges = items.filter((i) => i.Type === 'Charge');
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  const TotalProductAmount = sumMoney(products.map((i) => num(i.TotalPrice)));
  const TotalChargeAmount = sumMoney(charges.map((i) => num(i.TotalPrice)));
  const TotalTaxAmount = sumMoney(items.map((i) => num(i.TotalLineTaxAmount)));
  return {
    TotalListPrice: sumMoney(products.map((i) => num(i.TotalListPrice))),
    TotalProductAmount,
    TotalChargeAmount,
    TotalTaxAmount,
    TotalAdjustmentAmount: sumMoney(items.map((i) => num(i.AdjustmentAmount))),
    GrandTotalAmount: sumMoney([TotalProductAmount, TotalChargeAmount, TotalTaxAmount]),
    UniqueProductCount: new Set(products.map((i) => i.Product2Id ?? i)).size,
  };
}
