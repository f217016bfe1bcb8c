/**
 * `engine.admin`, the operator's read-only view: it sees every stored row whoever owns it (no
 * sharing), internal `_` columns included, reads nothing that holds a secret, names a bad type,
 * and writes nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dropTestSchemas } from '../helpers/backends.js';
import { EngineError } from '../../src/errors.js';
import { cartOn, FLOW_BACKENDS, sharedEngine } from '../flow/helpers.js';

afterAll(dropTestSchemas);

describe.each(FLOW_BACKENDS)('engine.admin on $name', (backend) => {
  const shared = sharedEngine(backend.location);

  it('reads any cart (no sharing) with its internal columns; find, get, count and dump agree', async () => {
    const engine = shared.get();
    const c = await cartOn(engine, { lines: 2, groups: 1 });
    // The outsider may not read the cart; the operator view does.
    await expect(engine.getRecord('WebCart', c.cartId, { userId: c.outsiderId })).rejects.toBeInstanceOf(EngineError);
    const cart = await engine.admin.get('WebCart', c.cartId);
    expect(cart?.Id).toBe(c.cartId);
    const byCart = [{ field: 'CartId', op: '=' as const, value: c.cartId }];
    const items = await engine.admin.find('CartItem', { where: byCart, orderBy: [{ field: 'Id', direction: 'asc' }] });
    expect(items.length).toBe(await engine.admin.count('CartItem', byCart));
    expect(items.filter((i) => i.Type === 'Product')).toHaveLength(2);
    expect((await engine.admin.find('CartItem', { where: byCart, limit: 1 })).length).toBe(1);
    const dump = await engine.admin.dump(['CartItem', 'WebCart']);
    expect(Object.keys(dump)).toEqual(['CartItem', 'WebCart']);
    expect(dump.WebCart!.map((r) => r.Id)).toContain(c.cartId);
    const ids = dump.CartItem!.map((r) => String(r.Id));
    expect(ids).toEqual([...ids].sort((a, b) => a.localeCompare(b)));
    // Internal columns are part of the operator's view.
    const run = await engine.runCheckout(c.cartId, { userId: c.buyerId, stopAt: 'deliveryMethod' });
    const session = await engine.admin.get('CartCheckoutSession', run.sessionId);
    expect(Object.keys(session!).some((k) => k.startsWith('_'))).toBe(true);
  });

  it('refuses unknown types and the table holding the signing key, naming the type', async () => {
    const engine = shared.get();
    for (const type of ['Widget', 'EngineSetting', 'webcart']) {
      const e = await engine.admin.find(type).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(EngineError);
      expect((e as EngineError).code).toBe('INVALID_TYPE');
      expect((e as EngineError).fields).toEqual(['type']);
      await expect(engine.admin.get(type, 'x')).rejects.toBeInstanceOf(EngineError);
      await expect(engine.admin.count(type)).rejects.toBeInstanceOf(EngineError);
      await expect(engine.admin.dump([type])).rejects.toBeInstanceOf(EngineError);
    }
  });

  it('writes nothing: a full dump before and after reads is the same, and it has no write method', async () => {
    const engine = shared.get();
    await cartOn(engine, { lines: 1, groups: 1 });
    await engine.whenIdle();
    const before = JSON.stringify(await engine.admin.dump());
    for (const type of ['WebCart', 'CartItem', 'CheckoutSessionEvent', 'EngineLoginThrottle']) await engine.admin.find(type, { limit: 5 });
    await engine.admin.textSearch('Product2', { words: ['widget'], limit: 5 });
    expect(JSON.stringify(await engine.admin.dump())).toBe(before);
    expect(Object.keys(engine.admin).sort()).toEqual(['count', 'dump', 'find', 'get', 'textSearch']);
  });
});
