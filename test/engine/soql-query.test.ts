/**
 * SOQL as a Salesforce developer writes it, on SQLite and PostgreSQL: OR / NOT / parentheses, IN and
 * NOT IN, LIKE with escapes, parent fields through relationships, child subqueries, aggregates with
 * GROUP BY, date literals, Salesforce's result shapes and errors, the length and nesting limits, and
 * sharing on every record a relationship reaches (tested as a second buyer would probe it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, type CheckoutEngine } from '../../src/index.js';
import { demoFixture } from '../../src/demo/fixture.js';
import { SOQL_MAX_DEPTH, SOQL_MAX_LENGTH, SOQL_MAX_SUBQUERIES, SOQL_MAX_TERMS } from '../../src/domain/soql.js';
import { findObject } from '../../src/domain/objects.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { startTestServer, V, type TestServer } from '../http/helpers.js';

afterAll(dropTestSchemas);

for (const backend of [BACKENDS[0]!, BACKENDS[2]!]) {
  describe(`SOQL on ${backend.name}`, () => {
    let engine: CheckoutEngine;
    let ids: Record<string, string>;
    let clock = new Date('2026-05-14T15:30:00Z'); // a Thursday
    const q = (soql: string, userId = ids.buyer!) => engine.query(soql, { userId });
    const refused = (soql: string, userId = ids.buyer!) =>
      engine.query(soql, { userId }).then(
        () => {
          throw new Error(`expected a refusal of ${soql}`);
        },
        (e) => e,
      );

    beforeAll(async () => {
      engine = await createCheckoutEngine({ storage: backend.location(), clock: () => clock });
      ids = await engine.seed(demoFixture({ lines: 4 }));
      Object.assign(
        ids,
        await engine.seed({
          WebCart: [
            { ref: 'globexCart', Name: 'Globex cart', WebStoreId: '@store', AccountId: '@globex', OwnerId: '@outsider' },
            { ref: 'otherAcmeCart', Name: 'Other Acme cart', WebStoreId: '@store', AccountId: '@acme', OwnerId: '@admin' },
          ],
          CartDeliveryGroup: [{ ref: 'globexGroup', CartId: '@globexCart', Name: 'Globex delivery' }],
          CartItem: [
            {
              ref: 'globexItem',
              CartId: '@globexCart',
              CartDeliveryGroupId: '@globexGroup',
              Name: 'Gadget',
              Sku: 'G-1',
              Type: 'Product',
              Quantity: 7,
              SalesPrice: 2,
            },
          ],
          // Acme's buyer shares the Acme cart with Globex's buyer, read only.
          WebCartShare: [{ ParentId: '@cart', UserOrGroupId: '@outsider', AccessLevel: 'Read' }],
          Product2: [
            { Name: '100% Cotton', StockKeepingUnit: 'C-1' },
            { Name: '1000 Cotton', StockKeepingUnit: 'C-2' },
            { Name: 'A_B', StockKeepingUnit: 'C-3' },
            { Name: 'AxB', StockKeepingUnit: 'C-4' },
          ],
        }),
      );
    });
    afterAll(() => engine.close());

    it('returns parent fields through relationships, nested with attributes as Salesforce does', async () => {
      const r = await q(`SELECT Id, Name, Account.Name, WebStore.Name, Owner.Username FROM WebCart WHERE Id = '${ids.cart}'`);
      expect(r).toEqual({
        totalSize: 1,
        done: true,
        records: [
          {
            attributes: { type: 'WebCart', url: `/services/data/v64.0/sobjects/WebCart/${ids.cart}` },
            Id: ids.cart,
            Name: 'Cart',
            Account: {
              attributes: { type: 'Account', url: `/services/data/v64.0/sobjects/Account/${ids.acme}` },
              Name: 'Acme Corporation',
            },
            WebStore: {
              attributes: { type: 'WebStore', url: `/services/data/v64.0/sobjects/WebStore/${ids.store}` },
              Name: 'Demo B2B Store',
            },
            Owner: { attributes: { type: 'User', url: `/services/data/v64.0/sobjects/User/${ids.buyer}` }, Username: 'buyer@acme.example' },
          },
        ],
      });
      const two = await q("SELECT Name, Cart.Account.Name, Product2.StockKeepingUnit FROM CartItem WHERE Type = 'Charge'");
      expect(two.records[0]).toMatchObject({ Name: 'Shipping', Cart: { Account: { Name: 'Acme Corporation' } }, Product2: null });
      const filtered = await q(
        "SELECT Name FROM CartItem WHERE Cart.Account.Name LIKE 'acme%' AND Product2.StockKeepingUnit IN ('SKU-0002', 'SKU-0003') ORDER BY Product2.StockKeepingUnit DESC",
      );
      expect(filtered.records.map((x) => x.Name)).toEqual(['Widget 3', 'Widget 2']);
    });

    it("sharing applies through relationships: buyer B reads A's shared cart but not A's account through it", async () => {
      const r = await q('SELECT Name, Account.Name, Owner.Username FROM WebCart ORDER BY Name', ids.outsider!);
      expect(r.records.map((x) => [x.Name, x.Account, x.Owner])).toEqual([
        ['Cart', null, null],
        ['Globex cart', expect.objectContaining({ Name: 'Globex' }), expect.objectContaining({ Username: 'buyer@globex.example' })],
      ]);
      expect((await q("SELECT Id FROM WebCart WHERE Account.Name = 'Acme Corporation'", ids.outsider!)).totalSize).toBe(0);
      expect((await q("SELECT COUNT() FROM CartItem WHERE Cart.Account.Name LIKE 'Acme%'", ids.outsider!)).totalSize).toBe(0);
      expect((await q("SELECT COUNT() FROM CartItem WHERE Cart.Account.Name LIKE 'Acme%'", ids.admin!)).totalSize).toBe(5);
      const items = await q(
        `SELECT Name, Cart.Name, Cart.Account.Name FROM CartItem WHERE CartId = '${ids.cart}' AND Type = 'Charge'`,
        ids.outsider!,
      );
      expect(items.records[0]).toMatchObject({ Name: 'Shipping', Cart: { Name: 'Cart', Account: null } });
      // A cart nobody shared stays out of reach whichever way it is approached.
      expect((await q(`SELECT Id FROM WebCart WHERE Id = '${ids.globexCart}'`)).totalSize).toBe(0);
      expect((await q(`SELECT Id, (SELECT Id FROM CartItems) FROM WebCart WHERE Id = '${ids.globexCart}'`)).totalSize).toBe(0);
      expect((await q("SELECT COUNT() FROM CartItem WHERE Cart.Name = 'Globex cart' OR Name = 'Gadget'")).totalSize).toBe(0);
    });

    it('returns one level of child subquery as { totalSize, done, records }, null when empty, filtered by the child’s sharing', async () => {
      const r = await q(
        "SELECT Id, (SELECT Id, Quantity, Product2.Name FROM CartItems WHERE Type = 'Product' ORDER BY Quantity DESC LIMIT 2) FROM WebCart ORDER BY Name",
        ids.admin!,
      );
      expect(r.records.map((x) => x.Id)).toEqual([ids.cart, ids.globexCart, ids.otherAcmeCart]);
      const items = r.records[0]!.CartItems as { totalSize: number; done: boolean; records: Record<string, unknown>[] };
      expect(items).toMatchObject({ totalSize: 2, done: true });
      expect(items.records.map((x) => [x.Quantity, (x.Product2 as { Name: string }).Name])).toEqual([
        [4, 'Widget 4'],
        [3, 'Widget 3'],
      ]);
      expect(items.records[0]!.attributes).toEqual({
        type: 'CartItem',
        url: `/services/data/v64.0/sobjects/CartItem/${items.records[0]!.Id}`,
      });
      expect(r.records[1]!.CartItems).toMatchObject({ totalSize: 1, records: [expect.objectContaining({ Quantity: 7 })] });
      expect(r.records[2]!.CartItems).toBeNull();
      // Acme's account is readable by Acme's buyer, but only the carts the buyer may read come back under it.
      const acct = await q('SELECT Name, (SELECT Name FROM WebCarts ORDER BY Name) FROM Account');
      expect(acct.records).toHaveLength(1);
      expect((acct.records[0]!.WebCarts as { records: { Name: string }[] }).records.map((c) => c.Name)).toEqual(['Cart']);
      const asAdmin = await q(
        "SELECT Name, (SELECT Name FROM WebCarts ORDER BY Name) FROM Account WHERE Name = 'Acme Corporation'",
        ids.admin!,
      );
      expect((asAdmin.records[0]!.WebCarts as { records: { Name: string }[] }).records.map((c) => c.Name)).toEqual([
        'Cart',
        'Other Acme cart',
      ]);
      // Children of the shared cart are readable (Read share) to the second buyer.
      const shared = await q('SELECT Name, (SELECT Id FROM CartItems) FROM WebCart ORDER BY Name', ids.outsider!);
      expect(shared.records.map((x) => (x.CartItems as { totalSize: number }).totalSize)).toEqual([5, 1]);
    });

    it('filters with OR, NOT and parentheses, with Salesforce’s null semantics', async () => {
      const names = async (where: string, user = ids.buyer!) =>
        (await q(`SELECT Name FROM CartItem WHERE ${where} ORDER BY Name`, user)).records.map((x) => x.Name);
      expect(await names("(Quantity >= 4 OR Type = 'Charge') AND NOT Name LIKE 'Ship%'")).toEqual(['Widget 4']);
      expect(await names("Quantity = 1 OR (Quantity = 2 AND Name = 'Widget 2') OR Name = 'Widget 4'")).toEqual([
        'Shipping',
        'Widget 1',
        'Widget 2',
        'Widget 4',
      ]);
      expect(await names("NOT (Quantity > 1 OR Type = 'Charge')")).toEqual(['Widget 1']);
      // The charge line has no Sku: SOQL's != and NOT match it, as Salesforce does.
      expect(await names("NOT Sku = 'SKU-0001'")).toEqual(['Shipping', 'Widget 2', 'Widget 3', 'Widget 4']);
      expect(await names("Sku != 'SKU-0001'")).toEqual(['Shipping', 'Widget 2', 'Widget 3', 'Widget 4']);
      expect(await names('Sku = null')).toEqual(['Shipping']);
      expect(await names('NOT Sku != null')).toEqual(['Shipping']);
      expect(await names("Sku IN ('SKU-0001', 'SKU-0004')")).toEqual(['Widget 1', 'Widget 4']);
      expect(await names("Sku NOT IN ('SKU-0001', 'SKU-0004')")).toEqual(['Shipping', 'Widget 2', 'Widget 3']);
      expect(await names('Quantity IN (2, 3)')).toEqual(['Widget 2', 'Widget 3']);
      // OR never widens what the caller can read.
      expect(await names("Name = 'Gadget' OR Name = 'Widget 1'")).toEqual(['Widget 1']);
    });

    it('matches LIKE case-insensitively, with % and _ wildcards and their escapes', async () => {
      const names = async (pattern: string) =>
        (await q(`SELECT Name FROM Product2 WHERE Name LIKE '${pattern}' ORDER BY Name`)).records.map((x) => x.Name);
      expect(await names('widget%')).toEqual(['Widget 1', 'Widget 2', 'Widget 3', 'Widget 4']);
      expect(await names('100\\%%')).toEqual(['100% Cotton']);
      expect(await names('100%')).toEqual(['100% Cotton', '1000 Cotton']);
      expect(await names('A\\_B')).toEqual(['A_B']);
      expect(await names('A_B')).toEqual(['A_B', 'AxB']);
    });

    it('aggregates: COUNT(), COUNT(field), COUNT_DISTINCT, SUM, AVG, MIN, MAX, GROUP BY, as AggregateResult rows', async () => {
      expect(await q('SELECT COUNT() FROM CartItem')).toEqual({ totalSize: 5, done: true, records: [] });
      expect((await q('SELECT COUNT() FROM CartItem LIMIT 2')).totalSize).toBe(2);
      const grouped = await q('SELECT Type, COUNT(Id), SUM(Quantity) total FROM CartItem GROUP BY Type ORDER BY Type');
      expect(grouped).toEqual({
        totalSize: 2,
        done: true,
        records: [
          { attributes: { type: 'AggregateResult' }, Type: 'Charge', expr0: 1, total: 1 },
          { attributes: { type: 'AggregateResult' }, Type: 'Product', expr0: 4, total: 10 },
        ],
      });
      const all = await q(
        'SELECT COUNT(Id), COUNT(Sku), COUNT_DISTINCT(Type), SUM(Quantity), AVG(Quantity), MIN(Name), MAX(Quantity) FROM CartItem',
      );
      expect(all.records).toEqual([
        { attributes: { type: 'AggregateResult' }, expr0: 5, expr1: 4, expr2: 2, expr3: 11, expr4: 2.2, expr5: 'Shipping', expr6: 4 },
      ]);
      const byCart = await q('SELECT Cart.Name, COUNT(Id) n FROM CartItem GROUP BY Cart.Name ORDER BY Cart.Name', ids.admin!);
      expect(byCart.records.map((x) => [x.Name, x.n])).toEqual([
        ['Cart', 5],
        ['Globex cart', 1],
      ]);
      // Aggregates count only what the caller may read.
      expect((await q('SELECT COUNT(Id) FROM CartItem', ids.outsider!)).records[0]!.expr0).toBe(6);
      expect((await q("SELECT SUM(Quantity) FROM CartItem WHERE Name = 'Gadget'")).records[0]!.expr0).toBeNull();
    });

    it('refuses malformed aggregates naming the field', async () => {
      expect(await refused('SELECT Name, COUNT(Id) FROM CartItem')).toMatchObject({
        code: 'MALFORMED_QUERY',
        status: 400,
        message: expect.stringContaining('Field must be grouped or aggregated: Name'),
      });
      expect(await refused('SELECT Type FROM CartItem GROUP BY Type ORDER BY Name')).toMatchObject({
        code: 'MALFORMED_QUERY',
        message: expect.stringContaining('Ordered field must be grouped or aggregated: Name'),
      });
      expect(await refused('SELECT SUM(Name) FROM CartItem')).toMatchObject({ code: 'INVALID_FIELD', status: 400, fields: ['Name'] });
      expect(await refused('SELECT SUM(Colour) FROM CartItem')).toMatchObject({ code: 'INVALID_FIELD', fields: ['Colour'] });
      expect(await refused('SELECT Type, COUNT(Id) Type FROM CartItem GROUP BY Type')).toMatchObject({
        code: 'MALFORMED_QUERY',
        message: expect.stringContaining('duplicate alias'),
      });
      expect(await refused('SELECT COUNT(Id), (SELECT Id FROM CartTaxes) FROM CartItem')).toMatchObject({ code: 'MALFORMED_QUERY' });
    });

    it('resolves date literals against the clock (UTC), on date-time fields as whole days', async () => {
      const count = async (where: string) => (await q(`SELECT COUNT() FROM CartItem WHERE ${where}`)).totalSize;
      expect(await count('CreatedDate = TODAY')).toBe(5);
      expect(await count('CreatedDate = THIS_WEEK AND CreatedDate = THIS_MONTH AND CreatedDate = THIS_YEAR')).toBe(5);
      expect(await count('CreatedDate = YESTERDAY OR CreatedDate = TOMORROW')).toBe(0);
      expect(await count('CreatedDate IN (YESTERDAY, TODAY)')).toBe(5);
      expect(await count('CreatedDate NOT IN (TODAY)')).toBe(0);
      expect(await count('CreatedDate = 2026-05-14')).toBe(5);
      expect(await count('CreatedDate > 2026-05-13T23:59:59Z AND CreatedDate < 2026-05-15T00:00:00Z')).toBe(5);
      const at = clock;
      try {
        clock = new Date('2026-05-16T09:00:00Z'); // Saturday
        expect(await count('CreatedDate = TODAY')).toBe(0);
        expect(await count('CreatedDate < TODAY')).toBe(5);
        expect(await count('CreatedDate = LAST_N_DAYS:2')).toBe(5);
        expect(await count('CreatedDate = LAST_N_DAYS:1')).toBe(0);
        expect(await count('CreatedDate = N_DAYS_AGO:2')).toBe(5);
        expect(await count('CreatedDate = THIS_WEEK')).toBe(5);
        clock = new Date('2026-05-18T09:00:00Z'); // the Monday after
        expect(await count('CreatedDate = THIS_WEEK')).toBe(0);
        expect(await count('CreatedDate = LAST_WEEK')).toBe(5);
        expect(await count('CreatedDate = LAST_N_WEEKS:1 AND CreatedDate >= LAST_N_DAYS:7')).toBe(5);
        clock = new Date('2026-07-01T00:00:00Z');
        expect(await count('CreatedDate = LAST_QUARTER AND CreatedDate = LAST_N_MONTHS:2')).toBe(5);
        expect(await count('CreatedDate = LAST_N_MONTHS:1')).toBe(0);
      } finally {
        clock = at;
      }
      expect(await refused('SELECT Id FROM CartItem WHERE Quantity = TODAY')).toMatchObject({
        code: 'INVALID_FIELD',
        fields: ['Quantity'],
      });
      expect(await refused("SELECT Id FROM CartItem WHERE CreatedDate = '2026-05-14'")).toMatchObject({
        code: 'INVALID_FIELD',
        fields: ['CreatedDate'],
      });
    });

    it.each([
      ['SELECT Id FROM Nothing', 'INVALID_TYPE', /Nothing/, undefined],
      ['SELECT Colour FROM WebCart', 'INVALID_FIELD', /Colour/, ['Colour']],
      ['SELECT Account.Colour FROM WebCart', 'INVALID_FIELD', /Colour/, ['Account.Colour']],
      ['SELECT Nope.Name FROM WebCart', 'INVALID_FIELD', /relationship 'Nope'/, ['Nope.Name']],
      ['SELECT Owner.Password FROM WebCart', 'INVALID_FIELD', /Password/, ['Owner.Password']],
      ['SELECT Id FROM WebCart WHERE Account.Name = 5', 'INVALID_FIELD', /Account\.Name is a string field/, ['Account.Name']],
      ['SELECT Id, (SELECT Id FROM Nope) FROM WebCart', 'INVALID_TYPE', /relationship 'Nope'/, undefined],
      ['SELECT Id, (SELECT Colour FROM CartItems) FROM WebCart', 'INVALID_FIELD', /Colour/, ['Colour']],
      [
        "SELECT Id FROM WebCart WHERE Name = 'a' OR Name = 'b' AND Id = 'c'",
        'MALFORMED_QUERY',
        /Row:1:Column:\d+\nunexpected token: 'AND'/,
        undefined,
      ],
      ['SELECT Id FROM WebCart\nWHERE Name = = 1', 'MALFORMED_QUERY', /ERROR at Row:2:Column:14/, undefined],
    ])('refuses %j with %s', async (soql, code, message, fields) => {
      const err = await refused(soql);
      expect(err).toMatchObject({ code, status: 400 });
      expect(err.message).toMatch(message);
      if (fields) expect(err.fields).toEqual(fields);
    });

    it('refuses a query over the length limit and one nested too deep with MALFORMED_QUERY, before parsing', async () => {
      const long = `SELECT Id FROM WebCart WHERE Name = '${'x'.repeat(SOQL_MAX_LENGTH)}'`;
      expect(await refused(long)).toMatchObject({
        code: 'MALFORMED_QUERY',
        status: 400,
        message: expect.stringContaining('Query is too long'),
      });
      const deep = `SELECT Id FROM WebCart WHERE ${'('.repeat(5000)}Name = 'x'${')'.repeat(5000)}`;
      expect(await refused(deep)).toMatchObject({
        code: 'MALFORMED_QUERY',
        status: 400,
        message: expect.stringContaining(`more than ${SOQL_MAX_DEPTH} levels`),
      });
      // At the depth limit the query still runs (every level is true through Quantity > 0).
      const ok = `SELECT COUNT() FROM CartItem WHERE ${'(Quantity > 0 OR NOT ('.repeat(SOQL_MAX_DEPTH / 2)}Name = 'x'${'))'.repeat(SOQL_MAX_DEPTH / 2)}`;
      expect((await q(ok)).totalSize).toBe(5);
    });

    it('answers hostile but well-formed queries with results or MALFORMED_QUERY, never a database error', async () => {
      // 49,000 repeated values bind once; a 5,000-term OR compiles to a balanced tree (SQLite caps expression depth at 1000).
      expect((await q(`SELECT COUNT() FROM CartItem WHERE Quantity IN (${'1,'.repeat(49_000)}2)`)).totalSize).toBe(3);
      const ors = Array.from({ length: 5000 }, (_, i) => `Quantity = ${i}`).join(' OR ');
      expect((await q(`SELECT COUNT() FROM CartItem WHERE ${ors}`)).totalSize).toBe(5);
      expect((await q(`SELECT COUNT() FROM CartItem WHERE ${'NOT '.repeat(20_000)}Quantity = 1`)).totalSize).toBe(2);
      const subs = Array.from(
        { length: SOQL_MAX_SUBQUERIES + 1 },
        (_, i) => `(SELECT Id FROM ${i % 2 ? 'CartItems' : 'CartTaxes'} LIMIT ${i})`,
      );
      expect(await refused(`SELECT Id, ${subs.join(', ')} FROM WebCart`)).toMatchObject({
        code: 'MALFORMED_QUERY',
        message: expect.stringContaining('child subqueries'),
      });
      const terms = Array.from({ length: SOQL_MAX_TERMS + 1 }, () => 'Name').join(', ');
      expect(await refused(`SELECT Id FROM CartItem ORDER BY ${terms}`)).toMatchObject({
        code: 'MALFORMED_QUERY',
        message: expect.stringContaining('ORDER BY fields'),
      });
      // Every distinct parent path reachable from CartItem, up to five relationships deep.
      const paths: string[] = [];
      const walk = (object: string, prefix: string, depth: number) => {
        if (depth === 5) return;
        for (const f of findObject(object)!.fields) {
          if (f.type !== 'reference' || !f.name.endsWith('Id') || f.to?.length !== 1) continue;
          const path = `${prefix}${f.name.slice(0, -2)}`;
          paths.push(path);
          walk(f.to[0]!, `${path}.`, depth + 1);
        }
      };
      walk('CartItem', '', 0);
      // Today's metadata reaches fewer parents than Salesforce's cap of 55; all of them join in one statement.
      expect(paths.length).toBeGreaterThan(10);
      const some = await q(`SELECT ${paths.map((p) => `${p}.Id`).join(', ')} FROM CartItem WHERE Type = 'Charge'`);
      expect(some.records[0]).toMatchObject({ Cart: { Id: ids.cart, Account: { Id: ids.acme } } });
    });
  });
}

describe('SOQL over HTTP', () => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer(':memory:');
    token = await t.token();
  });
  afterAll(() => t.close());

  it('GET /services/data/vXX.X/query?q= runs relationships, subqueries and OR, and answers errors as Salesforce does', async () => {
    const soql = "SELECT Id, Account.Name, (SELECT Name FROM CartItems WHERE Type = 'Charge' OR Quantity > 2 ORDER BY Name) FROM WebCart";
    const r = await t.call('GET', `${V}/query?q=${encodeURIComponent(soql)}`, { token });
    expect(r.status).toBe(200);
    expect(r.body.records[0]).toMatchObject({
      attributes: { type: 'WebCart', url: `${V}/sobjects/WebCart/${t.ids.cart}` },
      Account: { attributes: { type: 'Account', url: `${V}/sobjects/Account/${t.ids.acme}` }, Name: 'Acme Corporation' },
      CartItems: {
        totalSize: 2,
        done: true,
        records: [expect.objectContaining({ Name: 'Shipping' }), expect.objectContaining({ Name: 'Widget 3' })],
      },
    });
    const bad = await t.call('GET', `${V}/query?q=${encodeURIComponent('SELECT Name FORM WebCart')}`, { token });
    expect(bad.status).toBe(400);
    expect(bad.body[0]).toMatchObject({
      errorCode: 'MALFORMED_QUERY',
      message: expect.stringContaining("ERROR at Row:1:Column:18\nunexpected token: 'WebCart'"),
    });
    const deep = await t.call(
      'GET',
      `${V}/query?q=${encodeURIComponent(`SELECT Id FROM WebCart WHERE ${'('.repeat(5000)}Name = 'x'${')'.repeat(5000)}`)}`,
      { token },
    );
    expect(deep.status).toBe(400);
    expect(deep.body[0]).toMatchObject({ errorCode: 'MALFORMED_QUERY' });
    const field = await t.call('GET', `${V}/query?q=${encodeURIComponent('SELECT Account.Colour FROM WebCart')}`, { token });
    expect(field.status).toBe(400);
    expect(field.body[0]).toMatchObject({ errorCode: 'INVALID_FIELD', fields: ['Account.Colour'] });
  });
});
