import { describe, expect, it } from 'vitest';
import { checksumSuffix, isId, keyPrefix, mintId, parseId, to18 } from '../../src/domain/ids.js';

/**
 * Hand-derived pairs. Bit i of each 5-char chunk is set when char i is A–Z; the 5-bit number
 * indexes 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'.
 */
const PAIRS: [string, string][] = [
  // all digits/lowercase: 0,0,0 -> AAA
  ['001000000000001', 'AAA'],
  // '00150' -> 0, '00000' -> 0, 'VALDt' -> V,A,L,D at bits 0..3 = 15 -> P
  ['0015000000VALDt', 'AAP'],
  // '00Q5g' -> Q at bit 2 = 4 -> E; '00000' -> A; 'AbCdE' -> bits 0,2,4 = 21 -> V
  ['00Q5g00000AbCdE', 'EAV'],
  // 'a0B3X' -> bits 2,4 = 20 -> U; A; 'zZzZz' -> bits 1,3 = 10 -> K
  ['a0B3X00000zZzZz', 'UAK'],
  // every bit set: 31 -> '5'
  ['ZZZZZZZZZZZZZZZ', '555'],
  // 'zzzzZ' -> bit 4 = 16 -> Q; 'Zzzzz' -> bit 0 = 1 -> B; 'zZZzz' -> bits 1,2 = 6 -> G
  ['zzzzZZzzzzzZZzz', 'QBG'],
];

describe('checksumSuffix', () => {
  it.each(PAIRS)('%s -> %s', (id15, suffix) => {
    expect(checksumSuffix(id15)).toBe(suffix);
  });

  it('treats lowercase letters and digits as 0 bits', () => {
    expect(checksumSuffix('abcdefghijklmno')).toBe('AAA');
    expect(checksumSuffix('012345678901234')).toBe('AAA');
  });

  it('depends on the case of each letter', () => {
    expect(checksumSuffix('0015000000valdt')).toBe('AAA');
    expect(checksumSuffix('0015000000VALDT')).toBe('AA5');
  });

  it('rejects input that is not 15 chars', () => {
    expect(() => checksumSuffix('0015000000VALD')).toThrow(/15-character/);
    expect(() => checksumSuffix('0015000000VALDtAAP')).toThrow(/15-character/);
  });
});

describe('to18', () => {
  it.each(PAIRS)('appends the suffix to %s', (id15, suffix) => {
    expect(to18(id15)).toBe(id15 + suffix);
  });

  it('returns a valid 18-char id unchanged', () => {
    expect(to18('0015000000VALDtAAP')).toBe('0015000000VALDtAAP');
    expect(to18('001000000000001AAA')).toBe('001000000000001AAA');
  });

  it('throws on an 18-char id with a wrong suffix', () => {
    expect(() => to18('0015000000VALDtAAE')).toThrow("the case-safe suffix 'AAE' does not match (expected 'AAP')");
  });

  it('throws on the wrong length or bad characters', () => {
    expect(() => to18('abc')).toThrow('must be 15 or 18 characters long');
    expect(() => to18('0015000000VALD!')).toThrow("contains the character '!'");
  });
});

describe('mintId', () => {
  it('mints 18-char ids with the prefix and a valid checksum', () => {
    for (let i = 0; i < 1000; i++) {
      const id = mintId('0a6');
      expect(id).toHaveLength(18);
      expect(id.startsWith('0a6')).toBe(true);
      expect(id).toMatch(/^[A-Za-z0-9]{18}$/);
      expect(id.slice(15)).toBe(checksumSuffix(id.slice(0, 15)));
      expect(isId(id)).toBe(true);
    }
  });

  it('produces distinct ids', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 50_000; i++) ids.add(mintId('001'));
    expect(ids.size).toBe(50_000);
  });

  it('uses the whole base62 alphabet roughly uniformly', () => {
    const counts = new Map<string, number>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      for (const c of mintId('001').slice(3, 15)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    const expected = (n * 12) / 62; // ~3871 per char
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(expected * 0.85);
      expect(count).toBeLessThan(expected * 1.15);
    }
  });

  // How fast minting is belongs to the benchmarks; here: 100k ids in a row are all distinct and valid.
  it('mints 100k distinct, valid ids in a row', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(mintId('001'));
    expect(seen.size).toBe(100_000);
    for (const id of [...seen].slice(0, 1000)) expect(parseId(id, ['001']).ok).toBe(true);
  });

  it.each(['', '00', '0011', '00-', 'a b', '00é'])('rejects the prefix %j', (prefix) => {
    expect(() => mintId(prefix)).toThrow(/must be exactly 3 characters from \[A-Za-z0-9\]/);
  });

  it('rejects a non-string prefix', () => {
    expect(() => mintId(123 as unknown as string)).toThrow(/invalid key prefix/);
  });
});

describe('parseId', () => {
  it('normalizes a 15-char id to 18 chars', () => {
    expect(parseId('0015000000VALDt')).toEqual({ ok: true, id: '0015000000VALDtAAP' });
  });

  it('accepts a valid 18-char id', () => {
    expect(parseId('00Q5g00000AbCdEEAV')).toEqual({ ok: true, id: '00Q5g00000AbCdEEAV' });
  });

  it.each([123, null, undefined, {}, ['001000000000001AAA'], true])('rejects the non-string %j with reason type', (value) => {
    const r = parseId(value);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe('type');
    expect(r.message).toMatch(/is not a valid Salesforce id: it must be a string/);
  });

  it('names the type of a non-string value', () => {
    const r = parseId(42);
    expect(!r.ok && r.message).toBe('a value of type number is not a valid Salesforce id: it must be a string');
  });

  it.each(['', 'abc', '0015000000VALD', '0015000000VALDtA', '0015000000VALDtAA', '0015000000VALDtAAPX', '0015000000VALDtAAPXYZ'])(
    'rejects %j with reason length',
    (value) => {
      const r = parseId(value);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.reason).toBe('length');
      expect(r.message).toContain(`'${value}' is not a valid Salesforce id: it must be 15 or 18 characters long`);
      expect(r.message).toContain(`(got ${value.length})`);
    },
  );

  it('gives the exact length message', () => {
    const r = parseId('abc');
    expect(!r.ok && r.message).toBe("'abc' is not a valid Salesforce id: it must be 15 or 18 characters long (got 3)");
  });

  it('shortens very long values in messages', () => {
    const r = parseId('x'.repeat(100));
    expect(!r.ok && r.message).toContain(`'${'x'.repeat(40)}…' is not a valid Salesforce id`);
  });

  it.each([
    ['0015000000VALD!', '!', 14],
    ['001-000000VALDt', '-', 3],
    ['001 000000VALDt', ' ', 3],
    ['0015000000VALDtAA_', '_', 17],
    ['0015000000VALDé', 'é', 14],
  ])('rejects %j with reason characters', (value, char, index) => {
    const r = parseId(value);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toBe('characters');
    expect(r.message).toBe(
      `'${value}' is not a valid Salesforce id: it contains the character '${char}' at position ${index}; only A-Z, a-z and 0-9 are allowed`,
    );
  });

  it('rejects a wrong suffix with reason checksum', () => {
    const r = parseId('0015000000VALDtAAE');
    expect(r).toEqual({
      ok: false,
      reason: 'checksum',
      message: "'0015000000VALDtAAE' is not a valid Salesforce id: the case-safe suffix 'AAE' does not match (expected 'AAP')",
    });
  });

  it('compares the suffix exactly (case-sensitive)', () => {
    const r = parseId('00Q5g00000AbCdEeav');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe('checksum');
  });

  it('detects a case change in the body of an 18-char id', () => {
    // Lowercasing 'V' flips bit 0 of the third chunk: expected suffix becomes AAO.
    const r = parseId('0015000000vALDtAAP');
    expect(!r.ok && r.reason).toBe('checksum');
    expect(!r.ok && r.message).toContain("(expected 'AAO')");
  });

  it('accepts ids whose prefix is expected', () => {
    expect(parseId('0015000000VALDt', ['001', '003'])).toEqual({ ok: true, id: '0015000000VALDtAAP' });
    expect(parseId('0015000000VALDtAAP', ['001'])).toEqual({ ok: true, id: '0015000000VALDtAAP' });
  });

  it('rejects an unexpected prefix with reason prefix', () => {
    const r = parseId('0015000000VALDtAAP', ['0a6']);
    expect(r).toEqual({
      ok: false,
      reason: 'prefix',
      message: "'0015000000VALDtAAP' is not a valid Salesforce id: expected an id starting with 0a6 but got 001",
    });
  });

  it('lists every expected prefix in the message', () => {
    const r = parseId('0015000000VALDt', ['0a6', '8dk']);
    expect(!r.ok && r.message).toContain('expected an id starting with 0a6 or 8dk but got 001');
  });

  it('compares prefixes case-sensitively', () => {
    const id = mintId('a0B');
    expect(parseId(id, ['a0B']).ok).toBe(true);
    expect(!parseId(id, ['A0b']).ok && (parseId(id, ['A0b']) as { reason: string }).reason).toBe('prefix');
  });

  it('rejects everything when the prefix list is empty', () => {
    const r = parseId('0015000000VALDt', []);
    expect(!r.ok && r.reason).toBe('prefix');
  });

  it('checks in order: length before characters, characters before checksum, checksum before prefix', () => {
    expect((parseId('!!') as { reason: string }).reason).toBe('length');
    expect((parseId('001!00000VALDtAAE') as { reason: string }).reason).toBe('length');
    expect((parseId('001!000000VALDtAAE') as { reason: string }).reason).toBe('characters');
    expect((parseId('0015000000VALDtAAE', ['0a6']) as { reason: string }).reason).toBe('checksum');
  });
});

describe('keyPrefix', () => {
  it('returns the first 3 chars', () => {
    expect(keyPrefix('0015000000VALDtAAP')).toBe('001');
    expect(keyPrefix('a0B3X00000zZzZz')).toBe('a0B');
  });
});

describe('isId', () => {
  it('accepts valid 15- and 18-char ids', () => {
    for (const [id15, suffix] of PAIRS) {
      expect(isId(id15)).toBe(true);
      expect(isId(id15 + suffix)).toBe(true);
    }
  });

  it.each([42, null, undefined, '', 'abc', '0015000000VALD!', '0015000000VALDtAAE', '0015000000VALDtaap'])('rejects %j', (value) => {
    expect(isId(value)).toBe(false);
  });

  it('narrows unknown to string', () => {
    const value: unknown = '0015000000VALDtAAP';
    if (isId(value)) expect(value.length).toBe(18);
    else expect.unreachable();
  });
});
