/**
 * Numeric field bounds (src/domain/records.ts validateFields, driven by precision/scale/min in the
 * object metadata), as pure functions: Quantity positive and finite, currency within 15 significant
 * digits with 2 decimals (rounded half-up on save), plain numbers finite; every refusal is
 * NUMBER_OUTSIDE_VALID_RANGE 400 naming the field.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EngineError } from '../../src/errors.js';
import { assertInRange, checkNumber, describeRange, numberRange, validateFields } from '../../src/domain/records.js';
import { findField, OBJECTS } from '../../src/domain/objects.js';
import { Decimal, roundDecimal, toNumber } from '../../src/domain/money.js';

const MAX_MONEY = 9_999_999_999_999.99;

function refusal(type: string, fields: Record<string, unknown>, mode: 'create' | 'update' | 'seed' = 'update') {
  try {
    validateFields(type, fields, mode);
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    const err = e as EngineError;
    return { code: err.code, status: err.status, fields: err.fields, message: err.message };
  }
  throw new Error(`${type} ${JSON.stringify(fields)} was accepted`);
}

describe('Quantity', () => {
  it.each([
    ['-5', -5],
    ['0', 0],
    ['-0', -0],
    ['1e21', 1e21],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['10^13', 1e13],
    ['0.004 (rounds to 0)', 0.004],
  ])('CartItem.Quantity %s is NUMBER_OUTSIDE_VALID_RANGE 400 naming Quantity', (_, q) => {
    for (const mode of ['create', 'update', 'seed'] as const) {
      const r = refusal('CartItem', { Quantity: q }, mode);
      expect(r).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', status: 400, fields: ['Quantity'] });
      expect(r.message).toMatch(
        /^Value outside of valid range on numeric field: CartItem\.Quantity: .* \(must be a finite number greater than 0 and at most 9999999999999\.99\)\.$/,
      );
    }
  });

  it('OrderItem.Quantity has the same bounds', () => {
    expect(refusal('OrderItem', { Quantity: -1 })).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', fields: ['Quantity'] });
    expect(refusal('OrderItem', { Quantity: 1e21 })).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', fields: ['Quantity'] });
  });

  it('accepts positive quantities up to the maximum, rounded to 2 decimals', () => {
    expect(validateFields('CartItem', { Quantity: 1 }, 'update')).toEqual({ Quantity: 1 });
    expect(validateFields('CartItem', { Quantity: 0.005 }, 'update')).toEqual({ Quantity: 0.01 });
    expect(validateFields('CartItem', { Quantity: 2.345 }, 'update')).toEqual({ Quantity: 2.35 });
    expect(validateFields('CartItem', { Quantity: MAX_MONEY }, 'update')).toEqual({ Quantity: MAX_MONEY });
  });

  it('a quantity that is not a number stays a type error', () => {
    expect(refusal('CartItem', { Quantity: '3' })).toMatchObject({ code: 'INVALID_TYPE_ON_FIELD_IN_RECORD', fields: ['Quantity'] });
    expect(refusal('CartItem', { Quantity: null })).toMatchObject({ code: 'REQUIRED_FIELD_MISSING', fields: ['Quantity'] });
  });
});

describe('currency', () => {
  it.each([
    ['1e308', 1e308],
    ['-1e308', -1e308],
    ['1e17', 1e17],
    ['1e16', 1e16],
    ['10^13', 1e13],
    // eslint-disable-next-line no-loss-of-precision -- the case is a literal that rounds
    ['9999999999999.999 (rounds to 10^13)', 9_999_999_999_999.999],
    ['NaN', NaN],
    ['Infinity', Infinity],
  ])('CartItem.SalesPrice %s is NUMBER_OUTSIDE_VALID_RANGE 400 naming SalesPrice', (_, v) => {
    const r = refusal('CartItem', { SalesPrice: v });
    expect(r).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', status: 400, fields: ['SalesPrice'] });
    expect(r.message).toContain('between -9999999999999.99 and 9999999999999.99');
  });

  it('every currency field of every object is bounded the same way', () => {
    for (const object of OBJECTS.values()) {
      for (const f of object.fields.filter((x) => x.type === 'currency')) {
        expect(numberRange(f).limit?.toString(), `${object.name}.${f.name}`).toBe('10000000000000');
        expect(numberRange(f).scale).toBe(2);
        const r = refusal(object.name, { [f.name]: 1e308 }, 'seed');
        expect(r).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', fields: [f.name] });
      }
    }
  });

  it('rounds more than 2 decimals half-up on save, as Salesforce does', () => {
    expect(validateFields('CartItem', { SalesPrice: 1.005, ListPrice: 2.675, AdjustmentAmount: -0.125 }, 'update')).toEqual({
      SalesPrice: 1.01,
      ListPrice: 2.68,
      AdjustmentAmount: -0.13,
    });
    expect(validateFields('PricebookEntry', { UnitPrice: 12.3456 }, 'update')).toEqual({ UnitPrice: 12.35 });
    expect(validateFields('CartItem', { SalesPrice: -MAX_MONEY, AdjustmentAmount: -0.001 }, 'update')).toEqual({
      SalesPrice: -MAX_MONEY,
      AdjustmentAmount: 0,
    });
  });

  it('a half-cent in its decimal form rounds up even where the double lies just below it', () => {
    expect(validateFields('CartTax', { Amount: 775232165671.695 }, 'update')).toEqual({ Amount: 775232165671.7 });
    expect(validateFields('CartTax', { Amount: -775232165671.695 }, 'update')).toEqual({ Amount: -775232165671.7 });
  });

  it('any finite number is either refused or stored with at most 2 decimals inside the range', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: false }), (v) => {
        let out: Record<string, unknown>;
        try {
          out = validateFields('CartTax', { Amount: v }, 'update');
        } catch (e) {
          expect((e as EngineError).code).toBe('NUMBER_OUTSIDE_VALID_RANGE');
          expect(!Number.isFinite(v) || Math.abs(v) >= 9_999_999_999_999.99).toBe(true);
          return;
        }
        const a = out.Amount as number;
        expect(Number.isFinite(a)).toBe(true);
        expect(Math.abs(a)).toBeLessThanOrEqual(MAX_MONEY);
        expect(Number(a.toFixed(2))).toBe(a);
        // Rounded from the number's decimal form (what JSON carries), so the distance to the double
        // itself may pass 0.005 by up to an ulp of each: 775232165671.695 is 775232165671.69499… in binary.
        expect(Math.abs(a - v)).toBeLessThanOrEqual(0.005 + 2 * Math.abs(v) * Number.EPSILON + 1e-9);
      }),
    );
  });
});

describe('plain numbers and percentages', () => {
  it('must be finite (store settings: not negative); any value in range is kept as given', () => {
    for (const [type, field] of [
      ['TaxRate', 'Rate'],
      ['CartTax', 'TaxRate'],
      ['Promotion', 'DiscountValue'],
      ['ProductInventory', 'QuantityAvailable'],
    ] as const) {
      for (const v of [NaN, Infinity, -Infinity]) {
        expect(refusal(type, { [field]: v })).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', status: 400, fields: [field] });
      }
      expect(validateFields(type, { [field]: 0.0825 }, 'update')).toEqual({ [field]: 0.0825 });
      // Store settings (issue 17): a rate, a discount, stock on hand are never negative.
      if (type !== 'CartTax')
        expect(refusal(type, { [field]: -0.0825 })).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', status: 400, fields: [field] });
    }
    expect(describeRange(numberRange(findField('CartTax', 'TaxRate')!))).toBe('a finite number');
    expect(describeRange(numberRange(findField('TaxRate', 'Rate')!))).toBe('a finite number at least 0');
  });
});

describe('derived values', () => {
  it('assertInRange refuses a derived total outside its field, naming it and what it came from', () => {
    expect(() => assertInRange('WebCart', 'GrandTotalAmount', 5)).not.toThrow();
    const err = (() => {
      try {
        assertInRange('CartItem', 'TotalLineAmount', 1e15, 'derived from 1e12 × 1000');
      } catch (e) {
        return e as EngineError;
      }
      return null;
    })();
    expect(err).toMatchObject({ code: 'NUMBER_OUTSIDE_VALID_RANGE', status: 400, fields: ['TotalLineAmount'] });
    expect(err!.message).toContain('CartItem.TotalLineAmount: 1000000000000000');
    expect(err!.message).toContain('derived from 1e12 × 1000');
    expect(() => assertInRange('WebCart', 'TotalTaxAmount', Infinity)).toThrow(/WebCart\.TotalTaxAmount/);
    expect(() => assertInRange('WebCart', 'TotalTaxAmount', 0.001)).toThrow(/at most 2 decimals/);
  });

  it('checkNumber never returns -0', () => {
    const r = checkNumber(findField('CartItem', 'AdjustmentAmount')!, -0.001);
    expect(r.ok && Object.is(r.value, 0)).toBe(true);
  });
});

describe('checkNumber without Decimal for values already at their scale', () => {
  // The reference: every value through Decimal (round half-up to the scale, then the bounds).
  const reference = (field: NonNullable<ReturnType<typeof findField>>, v: number) => {
    const r = numberRange(field);
    if (!Number.isFinite(v)) return { ok: false };
    let d = new Decimal(v);
    if (r.scale !== undefined) d = roundDecimal(d, r.scale);
    if (r.limit && d.abs().gte(r.limit)) return { ok: false };
    if (r.min !== undefined && (r.minExclusive ? d.lte(r.min) : d.lt(r.min))) return { ok: false };
    if (r.max !== undefined && d.gt(r.max)) return { ok: false };
    return { ok: true, value: toNumber(d) };
  };
  const numeric = [...OBJECTS.values()].flatMap((o) =>
    o.fields.filter((f) => ['number', 'currency', 'percent'].includes(f.type) || f.scale !== undefined || f.precision !== undefined),
  );
  const edges = [0, -0, 1, 0.1, 0.005, 0.015, 1.005, 2.675, 1 / 3, 1e-7, 1e15, 1e16, 1e21, MAX_MONEY, MAX_MONEY + 0.005, 5e-324];
  const same = (f: (typeof numeric)[number], v: number) => {
    const a = checkNumber(f, v);
    const b = reference(f, v);
    expect({ ok: a.ok, value: a.ok ? a.value : undefined }, `${f.name} ${v}`).toEqual({ ok: b.ok, value: b.value });
    if (a.ok) expect(Object.is(a.value, b.value)).toBe(true);
  };

  it('answers as the Decimal path does at the edges, for every numeric field', () => {
    for (const f of numeric) for (const v of [...edges, ...edges.map((x) => -x)]) same(f, v);
  });

  it('answers as the Decimal path does for any double, and any amount of cents or thousandths', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...numeric),
        fc.oneof(
          fc.double({ noNaN: true }),
          fc.integer({ min: -(10 ** 15), max: 10 ** 15 }).map((c) => c / 100),
          fc.integer({ min: -(10 ** 15), max: 10 ** 15 }).map((c) => c / 1000),
        ),
        (f, v) => same(f, v),
      ),
      { numRuns: 5000 },
    );
  });
});
