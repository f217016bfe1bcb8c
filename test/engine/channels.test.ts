/**
 * Explicit channels (issue 18): the call origin travels on the transaction object, so a deeper path
 * (a cart change that cancels a checkout) is recorded under the call that made it; an expired
 * checkout is a value the call handles in its own transaction (one committed transaction, not a
 * rolled-back one followed by another), recorded as the expiry's; and the HTTP layer calls the
 * engine as the user its request authenticated, reading that user once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckoutEngine } from '../../src/index.js';
import { engineWithClaimedCart, errorOf } from '../helpers/engine.js';
import { sqlWhile } from '../helpers/sql-log.js';

/** The SQL better-sqlite3 runs in this process while `fn` runs. */
const statements = sqlWhile;

const MINUTE = 60_000;
let engine: CheckoutEngine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

describe('explicit channels', () => {
  it("a buyer's cart change cancels the checkout under that call's origin (the transaction carries it); another account's same write is refused and records nothing", async () => {
    const made = await engineWithClaimedCart(':memory:', { lines: 2 });
    engine = made.engine;
    const { ids } = made;
    const before = await engine.getHistory(ids.session!);
    // The outsider (another buyer account) can't touch the line: refused, no session event.
    await expect(engine.updateRecord('CartItem', ids.item0!, { Quantity: 5 }, { userId: ids.outsider! })).rejects.toMatchObject({
      status: expect.any(Number),
    });
    expect(await engine.getHistory(ids.session!)).toHaveLength(before.length);
    expect((await engine.admin.get('CartCheckoutSession', ids.session!))!.IsArchived).toBe(false);

    await engine.updateRecord('CartItem', ids.item0!, { Quantity: 5 }, { userId: ids.buyer! });
    const history = await engine.getHistory(ids.session!);
    const cancel = history.at(-1)!;
    expect(cancel).toMatchObject({
      accepted: true,
      event: { type: 'CANCEL' },
      operation: 'updateRecord(CartItem)',
      callerId: ids.buyer,
      to: 'archived',
    });
    expect(cancel.event.input).toEqual({ Quantity: 5 });
  });

  it("an expired checkout met by a step action is expired in the call's own transaction (committed, recorded as the expiry's), and the call runs again on the canceled checkout", async () => {
    let offset = 0;
    const made = await engineWithClaimedCart(':memory:', { lines: 2 }, { clock: () => new Date(Date.now() + offset) });
    engine = made.engine;
    const { ids } = made;
    await engine.updateRecord('WebStore', ids.store!, { CheckoutTimeToLive: 60 }, { userId: ids.admin! });
    offset += 61 * MINUTE;
    const { result, sql } = await statements(() =>
      engine!.invoke('cartToOrderAction', [{ cartId: ids.cart!, runAsync: false }], { userId: ids.buyer! }),
    );
    // The run again finds the cart Active, no longer in checkout: a usage requirement fails.
    expect(errorOf(result[0])).toMatchObject({ code: 'INVALID_OPERATION', message: expect.stringMatching(/Requirement \d failed/) });
    // Two transactions: the first expires and commits; the second (the call again) fails and rolls back.
    // No transaction is rolled back to make room for the expiry.
    expect(sql.filter((s) => /^begin/i.test(s))).toHaveLength(2);
    expect(sql.filter((s) => /^rollback/i.test(s))).toHaveLength(1);
    expect((await engine.admin.get('CartCheckoutSession', ids.session!))!.IsArchived).toBe(true);
    expect((await engine.admin.get('WebCart', ids.cart!))!.Status).toBe('Active');
    const cancel = (await engine.getHistory(ids.session!)).at(-1)!;
    expect(cancel).toMatchObject({ accepted: true, event: { type: 'CANCEL' }, callerId: null, to: 'archived' });
    expect(cancel.operation).toMatch(/^expiry: the checkout expired \(CheckoutTimeToLive 60 minutes\)$/);
    // Another account meeting the same cart gets its own refusal, and expires nothing more.
    const [other] = await engine.invoke('cartToOrderAction', [{ cartId: ids.cart!, runAsync: false }], { userId: ids.outsider! });
    expect(other!.isSuccess).toBe(false);
    expect(await engine.admin.count('CartCheckoutSession')).toBe(1);
  });

  it('invokeAs runs an action as a caller already loaded, without reading the user again', async () => {
    const made = await engineWithClaimedCart(':memory:', { lines: 2 });
    engine = made.engine;
    const { ids } = made;
    const caller = (await engine.authenticateCaller((await engine.issueToken(ids.buyer!, 600)).token))!;
    const { result, sql } = await statements(() => engine!.invokeAs(caller, 'cartToOrderAction', [{ cartId: ids.cart!, runAsync: false }]));
    expect(result[0]!.isSuccess, JSON.stringify(result[0]!.errors)).toBe(true);
    expect(sql.filter((s) => /from "User"/i.test(s))).toHaveLength(0);
    // The public form reads the user of { userId } (one read).
    const again = await statements(() => engine!.invoke('checkoutSessionAction', [{ cartId: ids.cart! }], { userId: ids.buyer! }));
    expect(again.sql.filter((s) => /from "User"/i.test(s))).toHaveLength(1);
  });
});
