/**
 * Money arithmetic (src/domain/money.ts) as pure functions: decimal sums and products, half-up
 * rounding to cents, the classic binary-float traps, proportional splits, cart line and cart
 * roll-ups; plus fast-check properties against an independent integer-cents model.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal as DecimalJs } from 'decimal.js';
import {
  addMoney,
  deriveCartLine,
  formatMoney,
  multiplyMoney,
  percentOf,
  rollUpCart,
  roundMoney,
  spreadMoney,
  subtractMoney,
  sumDecimal,
  sumMoney,
  unitPriceOf,
} from '../../src/domain/money.js';

/** An amount as integer cents (the test's own model: BigInt, no floats). */
const cents = (x: number): bigint => {
  const [int, frac = ''] = x.toFixed(2).replace('-', '').split('.');
  const v = BigInt(int!) * 100n + BigInt(frac.padEnd(2, '0'));
  return x < 0 ? -v : v;
};
const fromCents = (c: bigint): number => Number(c) / 100;

/** Money amounts with at most 2 decimals within ±10^11 (what a stored amount looks like). */
const amount = fc.integer({ min: -(10 ** 13), max: 10 ** 13 }).map((c) => c / 100);

describe('money: the float traps', () => {
  it('0.1 + 0.2 is 0.30, and a thousand dimes are 100.00', () => {
    expect(0.1 + 0.2).not.toBe(0.3); // the trap itself
    expect(addMoney(0.1, 0.2)).toBe(0.3);
    expect(sumMoney([0.1, 0.2])).toBe(0.3);
    expect(sumMoney(Array.from({ length: 1000 }, () => 0.1))).toBe(100);
    expect(sumMoney([0.1, 0.2, null, undefined])).toBe(0.3);
  });

  it('rounds half away from zero in decimal: 1.005 → 1.01, 2.675 → 2.68, 1.255 → 1.26', () => {
    expect(Math.round(1.005 * 100) / 100).toBe(1); // what float rounding gives
    expect((2.675).toFixed(2)).toBe('2.67'); // and toFixed
    expect([roundMoney(1.005), roundMoney(2.675), roundMoney(1.255), roundMoney(0.125), roundMoney(10)]).toEqual([
      1.01, 2.68, 1.26, 0.13, 10,
    ]);
    expect([roundMoney(-1.005), roundMoney(-0.125), roundMoney(-0.001), roundMoney(-0.004)]).toEqual([-1.01, -0.13, 0, 0]);
    expect(Object.is(roundMoney(-0.001), 0)).toBe(true); // never -0
    expect(roundMoney('1.005')).toBe(1.01);
  });

  it('3 × 33.33 is 99.99 and 33.33 × 3 − 99.99 is exactly 0', () => {
    expect(1.1 * 3).not.toBe(3.3); // the trap: 3.3000000000000003
    expect(multiplyMoney(1.1, 3)).toBe(3.3);
    expect(multiplyMoney(33.33, 3)).toBe(99.99);
    expect(subtractMoney(multiplyMoney(3, 33.33), 99.99)).toBe(0);
    expect(multiplyMoney(19.99, 7)).toBe(139.93);
    expect(multiplyMoney(0.07, 100)).toBe(7);
    expect(multiplyMoney(1.15, 100)).toBe(115); // 1.15 * 100 is 114.99999999999999 in floats
  });

  it('rates and percentages round once, at the end', () => {
    expect(multiplyMoney(10.05, 0.0825)).toBe(0.83); // 0.829125
    expect(multiplyMoney(2.5, 0.1)).toBe(0.25);
    expect(multiplyMoney(0.5, 0.01)).toBe(0.01); // 0.005 → half-up
    expect(percentOf(80, 12.5)).toBe(10);
    expect(percentOf(0.1, 5)).toBe(0.01); // 0.005
    expect(percentOf(19.99, 15)).toBe(3); // 2.9985
  });

  it('formats with two decimals, half-up', () => {
    expect([formatMoney(12.5), formatMoney(1.005), formatMoney(0), formatMoney(-2.675)]).toEqual(['12.50', '1.01', '0.00', '-2.68']);
  });

  it('a many-line sum equals the decimal sum, where float addition drifts', () => {
    const values = Array.from({ length: 2000 }, (_, i) => [0.1, 0.2, 0.7, 19.99, 33.33][i % 5]!);
    const floatSum = values.reduce((s, v) => s + v, 0);
    const exact = fromCents(values.reduce((s, v) => s + cents(v), 0n));
    expect(exact).toBe(21728);
    expect(floatSum).not.toBe(exact); // 21728.00000000051
    expect(sumMoney(values)).toBe(exact);
    expect(sumDecimal(values).toFixed(2)).toBe(exact.toFixed(2));
  });
});

describe('money: splits', () => {
  it('spreads an amount in proportion, the remainder on the chosen line', () => {
    expect(spreadMoney(10, [1, 1, 1], 0)).toEqual([3.34, 3.33, 3.33]);
    expect(spreadMoney(10, [1, 1, 1], 2)).toEqual([3.33, 3.33, 3.34]);
    expect(spreadMoney(0.01, [50, 50], 1)).toEqual([0.01, 0]); // 0.005 each rounds up; the remainder takes it back
    expect(spreadMoney(100, [30, 70], 1)).toEqual([30, 70]);
    expect(spreadMoney(5, [0, 0], 1)).toEqual([0, 5]);
    expect(spreadMoney(5, [], 0)).toEqual([]);
  });

  it('shares always add up to the rounded amount', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 9 }).map((c) => c / 100),
        fc.array(
          fc.integer({ min: 0, max: 10 ** 9 }).map((c) => c / 100),
          { minLength: 1, maxLength: 40 },
        ),
        fc.nat(),
        (total, bases, pick) => {
          const shares = spreadMoney(total, bases, pick % bases.length);
          const sum = shares.reduce((s, x) => s + cents(x), 0n);
          expect(sum).toBe(cents(total));
          for (const s of shares) expect(Number.isInteger(Math.round(s * 100))).toBe(true);
        },
      ),
    );
  });
});

describe('money: cart lines and roll-ups', () => {
  it('derives line totals in decimal: 3 × 33.33 with −0.01 adjustment', () => {
    expect(deriveCartLine({ Quantity: 3, SalesPrice: 33.33, ListPrice: 40.1, AdjustmentAmount: -0.01 })).toEqual({
      TotalLineAmount: 99.99,
      TotalListPrice: 120.3,
      TotalPrice: 99.98,
    });
    // ListPrice stands in for a missing SalesPrice; no ListPrice means no TotalListPrice.
    expect(deriveCartLine({ Quantity: 2, ListPrice: 1.005 })).toMatchObject({ TotalLineAmount: 2.01, TotalListPrice: 2.01 });
    expect(deriveCartLine({ Quantity: 2, SalesPrice: 0.1 })).toEqual({ TotalLineAmount: 0.2, TotalListPrice: null, TotalPrice: 0.2 });
    expect(unitPriceOf({ SalesPrice: null, ListPrice: 4 })).toBe(4);
    expect(unitPriceOf({})).toBe(0);
  });

  it('rolls a cart up: grand total = products + charges + tax, each a sum of line values', () => {
    const items = [
      { Type: 'Product', TotalPrice: 0.1, TotalListPrice: 0.1, AdjustmentAmount: 0, TotalLineTaxAmount: 0.01, Product2Id: 'a' },
      { Type: 'Product', TotalPrice: 0.2, TotalListPrice: 0.3, AdjustmentAmount: -0.1, TotalLineTaxAmount: 0.02, Product2Id: 'a' },
      { Type: 'Charge', TotalPrice: 9.99, TotalListPrice: 9.99, AdjustmentAmount: 0, TotalLineTaxAmount: 0.8 },
    ];
    expect(rollUpCart(items)).toEqual({
      TotalListPrice: 0.4,
      TotalProductAmount: 0.3,
      TotalChargeAmount: 9.99,
      TotalTaxAmount: 0.83,
      TotalAdjustmentAmount: -0.1,
      GrandTotalAmount: 11.12,
      UniqueProductCount: 1,
    });
  });

  it('line totals equal an integer-cents model for any price, quantity and adjustment', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 8 }),
        fc.integer({ min: 1, max: 10 ** 4 }),
        fc.integer({ min: -(10 ** 6), max: 0 }),
        (priceCents, qty, adjCents) => {
          const line = deriveCartLine({ Quantity: qty, SalesPrice: priceCents / 100, AdjustmentAmount: adjCents / 100 });
          expect(cents(line.TotalLineAmount)).toBe(BigInt(priceCents) * BigInt(qty));
          expect(cents(line.TotalPrice)).toBe(BigInt(priceCents) * BigInt(qty) + BigInt(adjCents));
        },
      ),
    );
  });

  it('sums are exact, order-independent and never drift', () => {
    fc.assert(
      fc.property(fc.array(amount, { maxLength: 200 }), (values) => {
        const expected = values.reduce((s, v) => s + cents(v), 0n);
        expect(cents(sumMoney(values))).toBe(expected);
        expect(sumMoney([...values].reverse())).toBe(sumMoney(values));
        expect(Number.isFinite(sumMoney(values))).toBe(true);
      }),
    );
  });

  it('rounding agrees with a half-away-from-zero model on three-decimal values', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(10 ** 12), max: 10 ** 12 }), (milli) => {
        const x = milli / 1000;
        const abs = BigInt(Math.abs(milli));
        const rounded = (abs + 5n) / 10n; // half away from zero, on the magnitude
        expect(cents(roundMoney(x))).toBe(milli < 0 ? -rounded : rounded);
      }),
    );
  });
});

describe('money: the whole-cents fast path agrees with decimal.js', () => {
  /** The reference: decimal.js alone, at 100 digits. */
  const Decimal = DecimalJs.clone({ precision: 100 });
  const ref = {
    round: (x: number) => Number(new Decimal(x).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toString()) || 0,
    mul: (a: number, b: number) => Number(new Decimal(a).times(new Decimal(b)).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toString()) || 0,
    sum: (xs: number[]) =>
      Number(xs.reduce((s, x) => s.plus(new Decimal(x).toDecimalPlaces(2, Decimal.ROUND_HALF_UP)), new Decimal(0)).toString()) || 0,
  };
  // Whole cents, and values with up to 6 decimals (computed prices, rates) up to 15 digits.
  const anyAmount = fc.oneof(
    amount,
    fc.integer({ min: -(10 ** 15), max: 10 ** 15 }).map((c) => c / 1e6),
    fc.integer({ min: -(10 ** 9), max: 10 ** 9 }).map((c) => c / 1000),
  );
  const quantity = fc.oneof(
    fc.integer({ min: 1, max: 10 ** 6 }),
    fc.integer({ min: 1, max: 10 ** 6 }).map((q) => q / 100),
  );

  it('for rounding, products and sums of any amounts', () => {
    fc.assert(
      fc.property(anyAmount, quantity, fc.array(anyAmount, { maxLength: 30 }), (a, q, xs) => {
        expect(roundMoney(a)).toBe(ref.round(a));
        expect(multiplyMoney(a, q)).toBe(ref.mul(a, q));
        expect(sumMoney(xs)).toBe(ref.sum(xs));
        expect(addMoney(...xs)).toBe(
          Number(
            xs
              .reduce((s, x) => s.plus(new Decimal(x)), new Decimal(0))
              .toDecimalPlaces(2, Decimal.ROUND_HALF_UP)
              .toString(),
          ) || 0,
        );
      }),
      { numRuns: 500 },
    );
  });
});
