/**
 * validateFields' quick checks (src/domain/records.ts `quickParse`): wherever they vouch for a
 * record, their output is the zod schema's own (same keys, order and values); a value they can't
 * vouch for leaves the record to the schema, so errors stay the schema's.
 */
import { describe, expect, it } from 'vitest';
import { allFields, OBJECTS, type FieldDef } from '../../src/domain/objects.js';
import { objectSchema, quickParse, validateFields, type Mode } from '../../src/domain/records.js';

/** Values worth trying for a field: valid ones, edge cases and wrong types. */
function samples(f: FieldDef): unknown[] {
  const common: unknown[] = [
    null,
    undefined,
    '',
    'x',
    'a\u0000b',
    0,
    -0,
    1,
    -1,
    1.5,
    0.125,
    1e21,
    1e-7,
    NaN,
    Infinity,
    true,
    false,
    [],
    ['a'],
    {},
  ];
  switch (f.type) {
    case 'string':
      return [...common, 'y'.repeat(f.maxLength ?? 255), 'y'.repeat((f.maxLength ?? 255) + 1), 'été', '😀'.repeat(2)];
    case 'picklist':
      return [...common, ...(f.values ?? []), String(f.values?.[0] ?? '').toLowerCase(), `${f.values?.[0] ?? ''} `];
    case 'reference':
      return [
        ...common,
        '001000000000001',
        '001000000000001AAA',
        '0a6000000000001',
        '0a6000000000001AAA',
        '001000000000001aaa',
        'bad-id',
        123,
      ];
    case 'number':
    case 'currency':
      return [...common, 12.345, 12.344999, 99.995, 1e13, 9999999999999.99, -5, 0.1 + 0.2, 2 ** 53, -1e-300];
    case 'integer':
      return [...common, 2_147_483_647, 2_147_483_648, -2_147_483_648, -2_147_483_649, 3.0, 42, 31_536_000, 31_536_001];
    default:
      return [
        ...common,
        '2026-12-04',
        '2026-02-30',
        '2026-12-04T10:00:00Z',
        '2026-12-04T10:00:00.5+02:00',
        '2026-12-04T25:00:00Z',
        ['a', 'b'],
        ['a', 1],
        ['a\u0000'],
        new Array<string>(2),
      ];
  }
}

describe('validateFields quick checks', () => {
  it('give the schema’s output wherever they vouch for a record, field by field, on every object and mode', () => {
    let vouched = 0;
    for (const object of OBJECTS.values()) {
      for (const mode of ['create', 'update', 'seed'] as Mode[]) {
        const schema = objectSchema(object, mode);
        for (const f of allFields(object)) {
          if (mode !== 'seed' && f.readOnly) continue;
          for (const v of samples(f)) {
            const input = { [f.name]: v };
            const quick = quickParse(object, mode, input);
            if (!quick) continue;
            vouched++;
            const parsed = schema.safeParse(input);
            expect(parsed.success, `${object.name}.${f.name} = ${String(v)}`).toBe(true);
            expect(Object.keys(quick)).toEqual(Object.keys(parsed.data!));
            expect(quick).toStrictEqual(parsed.data);
          }
        }
      }
    }
    expect(vouched).toBeGreaterThan(1000);
  });

  it('keep the schema’s key order for a record of many fields, and leave a record with one doubtful value to it', () => {
    const object = OBJECTS.get('CartItem')!;
    const fields = allFields(object).filter((f) => !f.readOnly);
    const input: Record<string, unknown> = {};
    for (const f of [...fields].reverse()) input[f.name] = f.type === 'boolean' ? true : f.type === 'integer' ? 1 : null;
    const quick = quickParse(object, 'update', input);
    expect(quick).not.toBeNull();
    expect(Object.keys(quick!)).toEqual(Object.keys(objectSchema(object, 'update').parse(input)));
    expect(quickParse(object, 'update', { ...input, Name: 'a\u0000b' })).toBeNull();
    expect(() => validateFields('CartItem', { Name: 'a\u0000b' }, 'update')).toThrow(/NUL/);
  });
});
