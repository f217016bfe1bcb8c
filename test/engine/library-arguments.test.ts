/**
 * Regressions the hostile-input properties found in the library's own arguments: each is refused
 * with an error from the table naming the argument, never a TypeError or RangeError.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, EngineError, type CheckoutEngine } from '../../src/index.js';

let engine: CheckoutEngine;
let admin: string;
beforeAll(async () => {
  engine = await createCheckoutEngine({ storage: ':memory:' });
  admin = (await engine.seed({ User: [{ ref: 'admin', Username: 'admin@example.com', Permissions: ['ModifyAllData'] }] })).admin!;
});
afterAll(() => engine.close());

const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(EngineError);
  return e as EngineError;
};

describe('library arguments', () => {
  it('a Symbol as a record type is INVALID_TYPE', async () => {
    for (const call of [
      () => engine.createRecord(Symbol('x') as never, {}, { userId: admin }),
      () => engine.updateRecord(Symbol('x') as never, '001000000000001AAA', {}, { userId: admin }),
      () => engine.deleteRecord(Symbol('x') as never, '001000000000001AAA', { userId: admin }),
    ]) {
      expect(await refusal(call())).toMatchObject({ code: 'INVALID_TYPE', status: 400 });
    }
  });

  it('an apiVersion that is not a version is INVALID_INPUT naming apiVersion', async () => {
    expect(await refusal(engine.query('SELECT Id FROM User', { userId: admin, apiVersion: {} as never }))).toMatchObject({
      code: 'INVALID_INPUT',
      fields: ['apiVersion'],
    });
    expect((await engine.query('SELECT Id FROM User', { userId: admin, apiVersion: '62.0' })).records[0]!.attributes).toMatchObject({
      url: expect.stringContaining('/v62.0/'),
    });
  });

  it('runCheckout without options is INVALID_INPUT naming userId', async () => {
    expect(await refusal(engine.runCheckout('0a6000000000001AAA', null as never))).toMatchObject({
      code: 'INVALID_INPUT',
      fields: ['userId'],
    });
  });

  it('issueToken refuses a non-string user and a lifetime that is not 1 s to 10 years', async () => {
    expect(await refusal(engine.issueToken({} as never, 60))).toMatchObject({ code: 'INVALID_INPUT', fields: ['userId'] });
    for (const ttl of [Number.NaN, 0, -5, 9_007_199_254_740_991, '60' as never]) {
      expect(await refusal(engine.issueToken(admin, ttl))).toMatchObject({ code: 'INVALID_INPUT', fields: ['ttlSeconds'] });
    }
    expect((await engine.issueToken(admin, 60)).token).toEqual(expect.any(String));
  });
});
