/**
 * A library call of an action that reads its caller with its facts (`readsCallerWithFacts`: the
 * step actions, the claim, checkoutSessionAction, setCheckoutDeliveryMethod, cancel) fails exactly
 * as when the caller was read before the call: an unknown user fails the whole call with
 * INVALID_SESSION_ID whatever the action met (a bad input, a bad id, no inputs, a cart locked by
 * another transaction), and changes nothing; an inactive or unrelated user gets the same results as
 * through the already-read caller (`invokeAs`). On every backend.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, type CheckoutEngine } from '../../src/index.js';
import { demoFixture } from '../../src/demo/fixture.js';
import { mintId } from '../../src/domain/ids.js';
import { callerOf } from '../../src/engine/facts.js';
import type { PostgresStore } from '../../src/storage/postgres/index.js';
import { BACKENDS, dropTestSchemas, freshPgUrl, PG_URL } from '../helpers/backends.js';

afterAll(dropTestSchemas);

async function engineOn(location: string, sessionState = 'checkoutSummary') {
  const engine = await createCheckoutEngine({ storage: location, onError: () => {}, worker: false });
  const ids = await engine.seed(demoFixture({ sessionState }));
  const more = await engine.seed({
    User: [
      {
        ref: 'inactive',
        Username: 'off@acme.example',
        Name: 'Off',
        AccountId: ids.acme,
        Permissions: ['B2BCommerceIntegrator'],
        IsActive: false,
      },
    ],
  });
  return { engine, ids: { ...ids, ...more } };
}

/** The calls under test: action, inputs. */
const calls = (ids: Record<string, string>): [string, unknown[]][] => [
  ['updateCheckoutSessionStateAction', [{ checkoutSessionId: ids.session, expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' }]],
  ['updateCheckoutSessionStateAction', [{ checkoutSessionId: 'bad', expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' }]],
  ['checkoutSessionAction', [{ cartId: ids.cart }]],
  ['checkoutSessionAction', [{ cartId: ids.cart, initialState: 'checkoutSummary' }]],
  ['calcCartTaxesAction', [{ cartId: ids.cart, runAsync: true }]],
  ['cartToOrderAction', [{ cartId: ids.cart, runAsync: false }]],
  ['cartToOrderAction', [{ cartId: 'bad' }]],
  ['cartToOrderAction', [{}]],
  ['activateOrderAction', [{ cartId: ids.cart, orderStatus: 'Nope' }]],
  ['setCheckoutDeliveryMethod', [{ cartId: ids.cart, deliveryMethodId: ids.ground }]],
  ['cancelCartAsyncOperation', [{ cartId: ids.cart }]],
  ['cartToOrderAction', []],
];

/** What a call left: the session and the operations. */
async function state(engine: CheckoutEngine, ids: Record<string, string>) {
  const as = { userId: ids.admin! };
  return {
    session: await engine.getRecord('CartCheckoutSession', ids.session!, as),
    ops: (await engine.query('SELECT Id FROM BackgroundOperation', as)).totalSize,
  };
}

for (const backend of BACKENDS) {
  describe(`the caller read with the facts, on ${backend.name}`, () => {
    it('an unknown user fails the whole call with INVALID_SESSION_ID whatever the action met, and changes nothing', async () => {
      const { engine, ids } = await engineOn(backend.location());
      const before = await state(engine, ids);
      const nobody = mintId('005');
      for (const [action, inputs] of calls(ids)) {
        await expect(engine.invokeAny(action, inputs, { userId: nobody }), action).rejects.toMatchObject({
          code: 'INVALID_SESSION_ID',
          status: 401,
        });
      }
      expect(await state(engine, ids)).toEqual(before);
      await engine.close();
    });

    it('an inactive, an unrelated, an admin and the buyer get the results the already-read caller gets', async () => {
      for (const who of ['inactive', 'outsider', 'admin', 'buyer']) {
        const results: unknown[][] = [];
        for (const read of ['with the facts', 'before the call']) {
          const { engine, ids } = await engineOn(backend.location());
          const row = await engine.core.storage.get('User', ids[who]!);
          const got: unknown[] = [];
          for (const [action, inputs] of calls(ids)) {
            const r = await (
              read === 'with the facts'
                ? engine.invokeAny(action, inputs, { userId: ids[who]! })
                : engine.invokeAs(callerOf(row!), action, inputs)
            ).catch((e: { code?: string }) => ({ thrown: e.code }));
            // Minted ids differ between the two engines: compare what the results say, not the ids.
            got.push(JSON.parse(JSON.stringify(r).replace(/"[0-9a-zA-Z]{3}[0-9A-Za-z]{15}"/g, '"<id>"')));
          }
          got.push(await state(engine, ids).then((s) => ({ State: s.session.State, NextState: s.session.NextState, ops: s.ops })));
          results.push(got);
          await engine.close();
        }
        expect(results[0], who).toEqual(results[1]);
      }
    });
  });
}

describe('the caller read with the facts, on PostgreSQL', () => {
  it("an unknown user on a cart another transaction holds locked still gets INVALID_SESSION_ID (the user's answer comes first)", async () => {
    const url = freshPgUrl();
    const { engine, ids } = await engineOn(url);
    const schema = new URL(url).searchParams.get('schema')!;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query('begin');
      await admin.query(`select 1 from "${schema}"."WebCart" where "Id" = $1 for update`, [ids.cart]);
      const call = engine.invokeAny('calcCartTaxesAction', [{ cartId: ids.cart, runAsync: true }], { userId: mintId('005') });
      await new Promise((r) => setTimeout(r, 300));
      await admin.query('rollback');
      await expect(call).rejects.toMatchObject({ code: 'INVALID_SESSION_ID' });
      const storage = engine.core.storage as PostgresStore;
      const trace = storage.roundTrips.trace();
      await expect(
        engine.invokeAny('calcCartTaxesAction', [{ cartId: ids.cart, runAsync: true }], { userId: mintId('005') }),
      ).rejects.toMatchObject({ code: 'INVALID_SESSION_ID' });
      // The caller's read went with BEGIN and the facts read; the transaction then rolled back.
      const sql = trace.stop();
      expect(sql).toHaveLength(2);
      expect(sql[0]).toMatch(/^begin; select \* from "User" where "Id" = \$1; select "c"\."Id"/);
      expect(sql[1]).toBe('rollback');
    } finally {
      await admin.end();
      await engine.close();
    }
  });
});
