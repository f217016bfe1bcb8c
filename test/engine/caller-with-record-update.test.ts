/**
 * A library `updateRecord` reads its caller with the transaction's first read (the row it locks
 * for the write: one round trip on PostgreSQL) and fails exactly as when the caller was read before
 * the call: an unknown user fails with INVALID_SESSION_ID whatever the update met (a bad type, a bad
 * id, a missing row, a refused field, a bad value, a row another transaction holds locked) and
 * changes nothing; an inactive, an unrelated, an admin and the buyer get the results the
 * already-read caller gets (`updateRecordAs`). On every backend.
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

async function engineOn(location: string) {
  const engine = await createCheckoutEngine({ storage: location, onError: () => {}, worker: false });
  const ids = await engine.seed(demoFixture({ sessionState: 'paymentAndBillingAddress' }));
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

/** The updates under test: type, id, fields. */
const updates = (ids: Record<string, string>): [string, string, unknown][] => [
  ['WebCart', ids.cart!, { PoNumber: 'PO-7' }],
  ['WebCart', ids.cart!, { Nope: 1 }],
  ['WebCart', ids.cart!, { Status: 'Closed' }],
  ['WebCart', ids.cart!, 'not fields'],
  ['WebCart', mintId('0a6'), { PoNumber: 'PO-8' }],
  ['WebCart', 'bad', { PoNumber: 'PO-9' }],
  ['NoSuchObject', ids.cart!, { PoNumber: 'PO-9' }],
  ['CartCheckoutSession', ids.session!, { State: 'checkoutSummary' }],
  ['CartCheckoutSession', ids.session!, { State: 'nowhere' }],
  ['User', ids.buyer!, { Name: 'Renamed' }],
];

/** What the updates left: the cart, the session, the buyer. */
async function state(engine: CheckoutEngine, ids: Record<string, string>) {
  const as = { userId: ids.admin! };
  const strip = ({ LastModifiedDate: _, CreatedDate: __, ...rest }: Record<string, unknown>) => rest;
  return {
    cart: strip(await engine.getRecord('WebCart', ids.cart!, as)),
    session: strip(await engine.getRecord('CartCheckoutSession', ids.session!, as)),
    buyer: strip(await engine.getRecord('User', ids.buyer!, as)),
  };
}

for (const backend of BACKENDS) {
  describe(`updateRecord's caller read with its first read, on ${backend.name}`, () => {
    it('an unknown or malformed user fails with INVALID_SESSION_ID whatever the update met, and changes nothing', async () => {
      const { engine, ids } = await engineOn(backend.location());
      const before = await state(engine, ids);
      for (const userId of [mintId('005'), 'bad', undefined]) {
        for (const [type, id, fields] of updates(ids)) {
          await expect(
            engine.updateRecord(type, id, fields, { userId } as never),
            `${type} ${JSON.stringify(fields)}`,
          ).rejects.toMatchObject({
            code: 'INVALID_SESSION_ID',
            status: 401,
          });
        }
      }
      expect(await state(engine, ids)).toEqual(before);
      await engine.close();
    });

    it('an inactive, an unrelated, an admin and the buyer get the results the already-read caller gets', async () => {
      for (const who of ['inactive', 'outsider', 'admin', 'buyer']) {
        const results: unknown[][] = [];
        for (const read of ['with the first read', 'before the call']) {
          const { engine, ids } = await engineOn(backend.location());
          const row = await engine.core.storage.get('User', ids[who]!);
          const got: unknown[] = [];
          for (const [type, id, fields] of updates(ids)) {
            const r = await (
              read === 'with the first read'
                ? engine.updateRecord(type, id, fields, { userId: ids[who]! })
                : engine.updateRecordAs(callerOf(row!), type, id, fields)
            ).then(
              () => 'ok',
              (e: { code?: string; message?: string; fields?: unknown }) => ({ code: e.code, message: e.message, fields: e.fields }),
            );
            got.push(JSON.parse(JSON.stringify(r).replace(/[0-9a-zA-Z]{3}[0-9A-Za-z]{15}/g, '<id>')));
          }
          got.push(JSON.parse(JSON.stringify(await state(engine, ids)).replace(/[0-9a-zA-Z]{3}[0-9A-Za-z]{15}/g, '<id>')));
          results.push(got);
          await engine.close();
        }
        expect(results[0], who).toEqual(results[1]);
      }
    });
  });
}

describe("updateRecord's caller read with its first read, on PostgreSQL", () => {
  it('the caller goes with BEGIN and the locking read of the row: one round trip', async () => {
    const { engine, ids } = await engineOn(freshPgUrl());
    const storage = engine.core.storage as PostgresStore;
    const trace = storage.roundTrips.trace();
    await engine.updateRecord('WebCart', ids.cart!, { PoNumber: 'PO-1' }, { userId: ids.buyer! });
    const sql = trace.stop();
    expect(sql[0], sql.join('\n')).toBe('begin; select * from "User" where "Id" = $1; select * from "WebCart" where "Id" = $1 for update');
    expect(
      sql.filter((s) => s.includes('from "User"')),
      sql.join('\n'),
    ).toHaveLength(1);
    expect(sql.at(-1)).toBe('commit');
    expect((await engine.getRecord('WebCart', ids.cart!, { userId: ids.admin! })).PoNumber).toBe('PO-1');
    await engine.close();
  });

  it("an unknown user on a row another transaction holds locked still gets INVALID_SESSION_ID (the user's answer comes first)", async () => {
    const url = freshPgUrl();
    const { engine, ids } = await engineOn(url);
    const schema = new URL(url).searchParams.get('schema')!;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const before = (await engine.getRecord('WebCart', ids.cart!, { userId: ids.admin! })).PoNumber;
    try {
      await admin.query('begin');
      await admin.query(`select 1 from "${schema}"."WebCart" where "Id" = $1 for update`, [ids.cart]);
      const call = engine.updateRecord('WebCart', ids.cart!, { PoNumber: 'PO-2' }, { userId: mintId('005') });
      await new Promise((r) => setTimeout(r, 300));
      await admin.query('rollback');
      await expect(call).rejects.toMatchObject({ code: 'INVALID_SESSION_ID' });
      expect((await engine.getRecord('WebCart', ids.cart!, { userId: ids.admin! })).PoNumber).toBe(before);
    } finally {
      await admin.end();
      await engine.close();
    }
  });
});
