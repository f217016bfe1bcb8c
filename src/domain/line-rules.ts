/**
 * Line rules (issue 17): what a product line may hold, as pure functions with a `problem | null`
 * shape. Checked where a line is written (a buyer's CartItem create/update), in the pricing step
 * (seeded or integrator-written lines), at cartToOrder (cart lines) and at activation (order lines).
 *
 * - **Quantity scale.** A product's quantities have at most `Product2.QuantityScale` decimals
 *   (default 0: whole units; at most 2, what Quantity stores). A quantity with more is refused.
 * - **No line rounds to free.** A product line with a positive unit price whose line amount
 *   (unit price × quantity, rounded half-up to cents) is 0.00 is refused: 0.01 units of a 0.49
 *   product would otherwise cost nothing.
 *
 * Charge lines (delivery charges) are the engine's and an administrator's, and carry no product
 * quantity scale: the rules apply to product lines only.
 */
import { formatMoney, multiplyMoney, toDecimal } from './money.js';

/** The most decimals a quantity can have (Quantity is stored with 2, docs/money.md). */
export const MAX_QUANTITY_SCALE = 2;

/** Why a line is refused: the error key, the field at fault, the line, and a message naming both. */
export interface LineProblem {
  readonly code: 'QUANTITY_SCALE' | 'LINE_ROUNDS_TO_FREE';
  readonly field: 'Quantity';
  readonly lineId: string | null;
  readonly message: string;
}

type Rec = Readonly<Record<string, unknown>>;

/** The decimals a product's quantities may have: its QuantityScale (0–2), default 0 (whole units). */
export function quantityScaleOf(product: Rec | null | undefined): number {
  const s = product?.QuantityScale;
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) return 0;
  return Math.min(s, MAX_QUANTITY_SCALE);
}

/** The decimals of a quantity as written (2.50 has 1, 3 has 0). */
export function decimalsOf(quantity: number): number {
  return Math.max(0, toDecimal(quantity).decimalPlaces());
}

const idOf = (line: Rec): string | null => (typeof line.Id === 'string' ? line.Id : null);
const skuOf = (product: Rec | null | undefined, line: Rec): string =>
  String(product?.StockKeepingUnit ?? product?.Name ?? line.Product2Id ?? 'this product');

/** A quantity with more decimals than the product allows, or null. */
export function quantityScaleProblem(line: Rec, product: Rec | null | undefined): LineProblem | null {
  if (line.Type === 'Charge' || typeof line.Quantity !== 'number') return null;
  const scale = quantityScaleOf(product);
  if (decimalsOf(line.Quantity) <= scale) return null;
  const allowed = scale === 0 ? 'whole units only' : `at most ${scale} decimal${scale === 1 ? '' : 's'}`;
  return {
    code: 'QUANTITY_SCALE',
    field: 'Quantity',
    lineId: idOf(line),
    message: `Quantity ${line.Quantity} of ${skuOf(product, line)}: the product is sold in ${allowed} (Product2.QuantityScale ${scale}).`,
  };
}

/** A product line whose positive unit price rounds to a 0.00 line amount at this quantity, or null. */
export function freeLineProblem(line: Rec, product?: Rec | null): LineProblem | null {
  if (line.Type === 'Charge' || line.Type === 'Delivery Charge' || typeof line.Quantity !== 'number') return null;
  const unit =
    typeof line.SalesPrice === 'number'
      ? line.SalesPrice
      : typeof line.UnitPrice === 'number'
        ? line.UnitPrice
        : typeof line.ListPrice === 'number'
          ? line.ListPrice
          : null;
  if (unit === null || !(unit > 0)) return null;
  if (multiplyMoney(unit, line.Quantity) !== 0) return null;
  return {
    code: 'LINE_ROUNDS_TO_FREE',
    field: 'Quantity',
    lineId: idOf(line),
    message: `Quantity ${line.Quantity} of ${skuOf(product, line)} at ${formatMoney(unit)} rounds to a line amount of 0.00: a priced product line can't be free.`,
  };
}

/** The first problem of a line (quantity scale, then rounding to free), or null. */
export function lineProblem(line: Rec, product: Rec | null | undefined): LineProblem | null {
  return quantityScaleProblem(line, product) ?? freeLineProblem(line, product);
}

/**
 * The problems of a cart's or an order's lines: each product line against its product (by
 * Product2Id in `products`). Order lines are read with UnitPrice for SalesPrice and their Type
 * 'Delivery Charge' for Charge.
 */
export function lineProblems(lines: readonly Rec[], products: ReadonlyMap<string, Rec>): LineProblem[] {
  const out: LineProblem[] = [];
  for (const line of lines) {
    const asCart = line.Type === 'Delivery Charge' ? { ...line, Type: 'Charge' } : line;
    const p = lineProblem(asCart, typeof line.Product2Id === 'string' ? products.get(line.Product2Id) : undefined);
    if (p) out.push(p);
  }
  return out;
}
