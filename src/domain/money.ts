/**
 * Money: the one place money arithmetic lives. Every sum, product and rounding is done in decimal
 * (decimal.js), never in binary floating point; amounts are rounded half away from zero (Java's
 * HALF_UP, what Salesforce uses) to 2 decimals per line, and cart and order totals are sums of line
 * values (spec §4). Stored values stay JS numbers with at most 2 decimals; every amount within the
 * engine's bounds (15 significant digits, see docs/money.md) round-trips through a number exactly.
 */
import { Decimal as DecimalJs } from 'decimal.js';

/**
 * The engine's decimal type: 60 significant digits (a product of two 15-digit values is exact
 * before it is rounded to cents) and HALF_UP rounding.
 */
export const Decimal = DecimalJs.clone({ precision: 60, rounding: DecimalJs.ROUND_HALF_UP, toExpNeg: -30, toExpPos: 40 });
/** A decimal value of the engine's decimal type. */
export type Decimal = InstanceType<typeof Decimal>;

/** Decimals kept on money amounts. */
export const MONEY_SCALE = 2;

/** Anything the money functions accept: numbers, decimal strings, decimals; null/undefined count as 0. */
export type MoneyInput = number | string | Decimal | null | undefined;

/** The decimal value of `x` (a number is read as its shortest decimal spelling: 1.005 is 1.005). */
export function toDecimal(x: MoneyInput): Decimal {
  if (x === null || x === undefined) return new Decimal(0);
  return x instanceof Decimal ? x : new Decimal(x);
}

/** A decimal as a JS number, without negative zero. */
export function toNumber(d: Decimal): number {
  const n = d.toNumber();
  return Object.is(n, -0) ? 0 : n;
}

/** Rounds a decimal half away from zero to `scale` decimals. */
export function roundDecimal(d: Decimal, scale = MONEY_SCALE): Decimal {
  return d.toDecimalPlaces(scale, Decimal.ROUND_HALF_UP);
}

/** |cents| below this keeps integer-cent arithmetic exact (2^53). */
const SAFE_CENTS = Number.MAX_SAFE_INTEGER;

/**
 * The exact integer cents of a number that already has at most 2 decimals (12.3 → 1230), or null.
 * The fast path of the functions below: when every input has whole cents, integer arithmetic on
 * cents gives exactly the decimal result (and dividing by 100 yields the same nearest number), so
 * decimal.js only runs when some input has more decimals or the cents leave the safe range.
 */
function centsOf(x: MoneyInput): number | null {
  if (x === null || x === undefined) return 0;
  // Below 10^13 doubles are spaced under a fifth of a cent, so a number equal to c/100 means exactly c cents.
  if (typeof x !== 'number' || !(Math.abs(x) < 1e13)) return null;
  const c = Math.round(x * 100);
  return c / 100 === x ? c : null;
}

/** Cents back to an amount, without negative zero. */
const fromCents = (c: number): number => (c === 0 ? 0 : c / 100);

/**
 * Rounds to 2 decimals, half away from zero, in decimal (1.005 → 1.01, 2.675 → 2.68, -1.005 →
 * -1.01). A non-finite number is returned as is (the bounds in records.ts refuse it).
 */
export function roundMoney(x: MoneyInput): number {
  if (typeof x === 'number' && !Number.isFinite(x)) return x;
  const c = centsOf(x);
  if (c !== null) return fromCents(c);
  return toNumber(roundDecimal(toDecimal(x)));
}

/** The sum of whole-cent amounts in integer cents, or null when an input isn't whole cents or the sum isn't safe. */
function sumCents(values: Iterable<MoneyInput>): number | null {
  let total = 0;
  for (const v of values) {
    const c = centsOf(v);
    if (c === null) return null;
    total += c;
    if (!(Math.abs(total) <= SAFE_CENTS)) return null;
  }
  return total;
}

/** An amount with exactly 2 decimals, rounded half-up ("12.50"), for messages. */
export function formatMoney(x: MoneyInput): string {
  return roundDecimal(toDecimal(x)).toFixed(MONEY_SCALE);
}

/** The exact decimal sum of the values (null/undefined skipped), unrounded. */
export function sumDecimal(values: Iterable<MoneyInput>): Decimal {
  let total = new Decimal(0);
  for (const v of values) if (v !== null && v !== undefined) total = total.plus(toDecimal(v));
  return total;
}

/** Sums amounts: each value rounded to cents, then added exactly (a total is the sum of its line values). */
export function sumMoney(values: Iterable<MoneyInput>): number {
  const list = Array.isArray(values) ? (values as MoneyInput[]) : [...values];
  const cents = sumCents(list);
  if (cents !== null) return fromCents(cents);
  let total = new Decimal(0);
  for (const v of list) if (v !== null && v !== undefined) total = total.plus(roundDecimal(toDecimal(v)));
  return toNumber(total);
}

/** a + b + …, exactly, rounded to cents. */
export function addMoney(...values: MoneyInput[]): number {
  const cents = sumCents(values);
  if (cents !== null) return fromCents(cents);
  return toNumber(roundDecimal(sumDecimal(values)));
}

/** a − b, exactly, rounded to cents. */
export function subtractMoney(a: MoneyInput, b: MoneyInput): number {
  return toNumber(roundDecimal(toDecimal(a).minus(toDecimal(b))));
}

/** a × b (a unit price × a quantity, an amount × a rate), exactly, rounded to cents. */
export function multiplyMoney(a: MoneyInput, b: MoneyInput): number {
  // Whole cents × a whole number (a price × an integer quantity) is exact in integer cents.
  if (typeof b === 'number' && Number.isSafeInteger(b)) {
    const c = centsOf(a);
    if (c !== null && Math.abs(c * b) <= SAFE_CENTS) return fromCents(c * b);
  }
  return toNumber(roundDecimal(toDecimal(a).times(toDecimal(b))));
}

/** `percent` % of an amount (a 12.5 % discount of 80 is 10), rounded to cents. */
export function percentOf(amount: MoneyInput, percent: MoneyInput): number {
  return toNumber(roundDecimal(toDecimal(amount).times(toDecimal(percent)).dividedBy(100)));
}

/**
 * Splits `amount` over lines in proportion to their `bases`: each share is rounded to cents and
 * the rounding remainder goes to the line at `remainderTo`, so the shares add up to the rounded
 * amount exactly. All-zero bases give every share 0 but `remainderTo` the whole amount.
 */
export function spreadMoney(amount: MoneyInput, bases: readonly MoneyInput[], remainderTo: number): number[] {
  const total = roundDecimal(toDecimal(amount));
  const sum = sumDecimal(bases);
  const shares = bases.map((b) => (sum.isZero() ? new Decimal(0) : roundDecimal(total.times(toDecimal(b)).dividedBy(sum))));
  if (shares.length) {
    const i = Math.min(Math.max(0, remainderTo), shares.length - 1);
    shares[i] = shares[i]!.plus(total.minus(sumDecimal(shares)));
  }
  return shares.map(toNumber);
}

/** The price fields of a cart line that the engine derives from its inputs. */
export interface DerivedLine {
  TotalLineAmount: number;
  TotalListPrice: number | null;
  TotalPrice: number;
}

const numberOr = <T>(v: unknown, dflt: T): number | T => (typeof v === 'number' ? v : dflt);

/** The unit price a line is charged at: SalesPrice, else ListPrice, else 0. */
export function unitPriceOf(item: { readonly [field: string]: unknown; SalesPrice?: unknown; ListPrice?: unknown }): number {
  return numberOr(item.SalesPrice, numberOr(item.ListPrice, 0));
}

/**
 * Derives a cart line's totals: TotalLineAmount = SalesPrice × Quantity (before adjustments; ListPrice
 * when no SalesPrice), TotalListPrice = ListPrice × Quantity, TotalPrice = TotalLineAmount +
 * AdjustmentAmount (after adjustments, before tax). Each is computed in decimal and rounded to cents.
 */
export function deriveCartLine(item: {
  Quantity?: unknown;
  SalesPrice?: unknown;
  ListPrice?: unknown;
  AdjustmentAmount?: unknown;
}): DerivedLine {
  const qty = numberOr(item.Quantity, 0);
  const list = numberOr(item.ListPrice, null);
  const line = multiplyMoney(unitPriceOf(item), qty);
  return {
    TotalLineAmount: line,
    TotalListPrice: list === null ? null : multiplyMoney(list, qty),
    TotalPrice: addMoney(line, numberOr(item.AdjustmentAmount, 0)),
  };
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
  items: readonly {
    Type?: unknown;
    TotalPrice?: unknown;
    TotalListPrice?: unknown;
    AdjustmentAmount?: unknown;
    TotalLineTaxAmount?: unknown;
    Product2Id?: unknown;
  }[],
): CartTotals {
  const products = items.filter((i) => i.Type !== 'Charge');
  const charges = items.filter((i) => i.Type === 'Charge');
  const num = (v: unknown) => numberOr(v, 0);
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
