/**
 * Commerce Connect store and catalog reads over HTTP (docs/connect-api.md, "Store and catalog
 * reads"), on SQLite and PostgreSQL: product search on the full-text index (words of name, SKU and
 * description; category filter; paging; prices), the index following product writes from the
 * record API and the seed, product detail and prices, the buyer's addresses (one default per type)
 * and order summaries — and a buyer of another account, who gets exactly what a missing record gets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createCheckoutEngine } from '../../src/index.js';
import { BACKENDS, freshSqliteFile } from '../helpers/backends.js';
import { startTestServer, V, type TestServer } from '../http/helpers.js';

/** Salesforce's default product image, the answer for a product without images (docs/connect-api.md). */
const PLACEHOLDER = {
  id: '000000000000000',
  url: '/img/b2b/default-product-image.svg',
  mediaType: 'Image',
  alternateText: '',
  title: 'image',
  sortOrder: 0,
  contentVersionId: null,
  thumbnailUrl: null,
};

const MISSING = {
  product: '01t000000000999',
  account: '001000000000999',
  address: '8lW000000000999',
  summary: '1Os000000000999',
  store: '0ZE000000000999',
  category: '0ZG000000000999',
};

for (const backend of BACKENDS.filter((b) => b.name !== 'sqlite-file')) {
  describe(`Connect store and catalog reads (${backend.name})`, () => {
    let t: TestServer;
    let buyer: string;
    let outsider: string;
    let admin: string;
    let base: string;
    const made: Record<string, string> = {};

    beforeAll(async () => {
      t = await startTestServer(backend.location(), { seed: true });
      [buyer, outsider, admin] = await Promise.all([t.token(), t.token('buyer@globex.example'), t.token('admin@store.example')]);
      base = `${V}/commerce/webstores/${t.ids.store}`;
      // Products written through the record API (admin): the full-text index must follow them.
      const create = async (fields: Record<string, unknown>) => {
        const r = await t.call('POST', `${V}/sobjects/Product2`, { token: admin, body: fields });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        return r.body.id as string;
      };
      made.drill = await create({
        Name: 'Cordless Drill',
        StockKeepingUnit: 'DRL-7788',
        Description: 'Brushless motor with two batteries',
      });
      made.saw = await create({ Name: 'Circular Saw', StockKeepingUnit: 'SAW-1200', Description: 'Carbide blade, laser guide' });
      made.hidden = await create({ Name: 'Drill press', StockKeepingUnit: 'DRL-9000', Description: 'Not in any category' });
      // Through the seed: a category, links, and a product seeded straight in.
      const seeded = await t.engine.seed({
        ProductCategory: [{ ref: 'tools', Name: 'Power tools', WebStoreId: t.ids.store }],
        Product2: [{ ref: 'sander', Name: 'Orbital Sander', StockKeepingUnit: 'SND-3300', Description: 'Dust bag and brushless motor' }],
        ProductCategoryProduct: [
          { ProductCategoryId: '@tools', ProductId: made.drill, IsPrimaryCategory: true },
          { ProductCategoryId: '@tools', ProductId: made.saw, IsPrimaryCategory: true },
          { ProductCategoryId: '@tools', ProductId: '@sander', IsPrimaryCategory: true },
        ],
        PricebookEntry: [
          { Pricebook2Id: t.ids.demoPricebook, Product2Id: made.drill, UnitPrice: 129.5, IsActive: true },
          { Pricebook2Id: t.ids.demoPricebook, Product2Id: '@sander', UnitPrice: 59, IsActive: true },
        ],
        Order: [
          { ref: 'o1', AccountId: t.ids.acme, Status: 'Activated' },
          { ref: 'o2', AccountId: t.ids.acme, Status: 'Activated' },
          { ref: 'o3', AccountId: t.ids.globex, Status: 'Activated' },
        ],
        OrderSummary: [
          {
            ref: 's1',
            OriginalOrderId: '@o1',
            AccountId: t.ids.acme,
            SalesStoreId: t.ids.store,
            OrderNumber: '00000101',
            GrandTotalAmount: 10,
            OrderedDate: '2026-11-01T10:00:00.000Z',
          },
          {
            ref: 's2',
            OriginalOrderId: '@o2',
            AccountId: t.ids.acme,
            SalesStoreId: t.ids.store,
            OrderNumber: '00000102',
            GrandTotalAmount: 20,
            OrderedDate: '2026-11-02T10:00:00.000Z',
          },
          {
            ref: 's3',
            OriginalOrderId: '@o3',
            AccountId: t.ids.globex,
            SalesStoreId: t.ids.store,
            OrderNumber: '00000103',
            GrandTotalAmount: 30,
            OrderedDate: '2026-11-03T10:00:00.000Z',
          },
        ],
      });
      Object.assign(made, { tools: seeded.tools!, sander: seeded.sander!, s1: seeded.s1!, s2: seeded.s2!, s3: seeded.s3! });
    });
    afterAll(async () => {
      await t.close();
      await t.engine.close();
    });

    const search = (body: unknown, token = buyer, query = '') => t.call('POST', `${base}/search/product-search${query}`, { token, body });
    const names = (r: { body: any }) => (r.body.productsPage.products as { name: string }[]).map((p) => p.name).sort();

    describe('product search', () => {
      it('matches words of the description, the SKU and the name, as word prefixes', async () => {
        expect(names(await search({ searchTerm: 'brushless' }))).toEqual(['Cordless Drill', 'Orbital Sander']);
        expect(names(await search({ searchTerm: 'DRL-7788' }))).toEqual(['Cordless Drill']);
        expect(names(await search({ searchTerm: 'carb' }))).toEqual(['Circular Saw']);
        expect(names(await search({ searchTerm: 'widget' }))).toEqual(['Widget 1', 'Widget 2', 'Widget 3']);
        // Every word must match; a product outside the store's categories is never found.
        expect(names(await search({ searchTerm: 'brushless batteries' }))).toEqual(['Cordless Drill']);
        expect(names(await search({ searchTerm: 'press' }))).toEqual([]);
        const r = await search({ searchTerm: 'brushless' });
        expect(r.status).toBe(201);
        expect(r.body.productsPage).toMatchObject({ currencyIsoCode: 'USD', total: 2, pageSize: 20 });
        expect(r.body.facets).toEqual([]);
        expect(r.body.productsPage.products[0]).toMatchObject({ fields: { Name: { value: expect.any(String) } } });
        expect(r.body.productsPage.products[0].prices).toBeUndefined();
      });

      it('filters by category (with its subcategories) and pages', async () => {
        const all = await search({ categoryId: t.ids.widgets, pageSize: 2 });
        expect(all.status).toBe(201);
        expect(all.body.productsPage.total).toBe(3);
        expect(names(all)).toEqual(['Widget 1', 'Widget 2']);
        expect(names(await search({ categoryId: t.ids.widgets, pageSize: 2, page: 1 }))).toEqual(['Widget 3']);
        expect(all.body.categories.category).toMatchObject({ id: t.ids.widgets, name: 'Widgets' });
        expect(all.body.categories.children).toEqual([
          { category: expect.objectContaining({ id: t.ids.smallWidgets }), productCount: 2 },
          { category: expect.objectContaining({ id: t.ids.largeWidgets }), productCount: 1 },
        ]);
        expect(names(await search({ categoryId: t.ids.largeWidgets }))).toEqual(['Widget 2']);
        const { empty } = await t.engine.seed({ ProductCategory: [{ ref: 'empty', Name: 'Empty shelf', WebStoreId: t.ids.store }] });
        for (const body of [{ categoryId: empty }, { categoryId: empty, searchTerm: 'widget' }]) {
          const r = await search(body);
          expect(r.status).toBe(201);
          expect(r.body.productsPage).toMatchObject({ total: 0, products: [] });
        }
        expect(names(await search({ searchTerm: 'brushless', categoryId: made.tools }))).toEqual(['Cordless Drill', 'Orbital Sander']);
        expect(names(await search({ searchTerm: 'brushless', categoryId: t.ids.widgets }))).toEqual([]);
        const paged = await search({ searchTerm: 'brushless', pageSize: 1, page: 1 });
        expect(paged.body.productsPage.total).toBe(2);
        expect(paged.body.productsPage.products).toHaveLength(1);
      });

      it('prices the results when asked: the store price book, an error line when unpriced', async () => {
        const r = await search({
          searchTerm: 'DRL-7788 cordless',
          includePrices: true,
          fields: ['Name', 'StockKeepingUnit', 'description'],
        });
        const [drill] = r.body.productsPage.products;
        expect(drill.prices).toMatchObject({ productId: made.drill, unitPrice: '129.50', listPrice: '129.50', success: true });
        expect(drill.prices.pricebookEntryId).toMatch(/^01u/);
        expect(drill.fields).toEqual({
          Name: { value: 'Cordless Drill' },
          StockKeepingUnit: { value: 'DRL-7788' },
          Description: { value: 'Brushless motor with two batteries' },
        });
        const saw = (await search({ searchTerm: 'saw', includePrices: true })).body.productsPage.products[0];
        expect(saw.prices).toMatchObject({ success: false, unitPrice: null, error: { code: 'NOT_FOUND' } });
      });

      it('refuses bad input naming the field', async () => {
        const bad = async (body: unknown, field: string, status = 400) => {
          const r = await search(body);
          expect(r.status, JSON.stringify(r.body)).toBe(status);
          expect(r.body[0].fields).toContain(field);
          expect(r.body[0].errorCode).toEqual(expect.any(String));
          expect(r.body[0].message).toContain(field);
        };
        await bad({ categoryId: 'nope' }, 'categoryId');
        await bad({ categoryId: MISSING.category }, 'categoryId', 404);
        await bad({ searchTerm: 'x', pageSize: 0 }, 'pageSize');
        await bad({ searchTerm: 'x', pageSize: 201 }, 'pageSize');
        await bad({ searchTerm: 'x', page: -1 }, 'page');
        await bad({ searchTerm: 'x', fields: ['Password'] }, 'fields');
        await bad({ searchTerm: '!!!' }, 'searchTerm');
        await bad({}, 'searchTerm');
      });

      it('follows product updates and deletes from the record API', async () => {
        const r = await t.call('PATCH', `${V}/sobjects/Product2/${made.saw}`, {
          token: admin,
          body: { Description: 'Diamond blade', StockKeepingUnit: 'SAW-2400' },
        });
        expect(r.status).toBe(204);
        expect(names(await search({ searchTerm: 'carbide' }))).toEqual([]);
        expect(names(await search({ searchTerm: 'diamond' }))).toEqual(['Circular Saw']);
        expect(names(await search({ searchTerm: 'SAW-1200' }))).toEqual([]);
        expect(names(await search({ searchTerm: 'saw 2400' }))).toEqual(['Circular Saw']);
        // An inactive product leaves the results; a deleted one is gone from the index.
        await t.call('PATCH', `${V}/sobjects/Product2/${made.saw}`, { token: admin, body: { IsActive: false } });
        expect(names(await search({ searchTerm: 'diamond' }))).toEqual([]);
        const tmp = (
          await t.call('POST', `${V}/sobjects/Product2`, { token: admin, body: { Name: 'Zebra clamp', Description: 'quickgrip' } })
        ).body.id;
        await t.engine.seed({ ProductCategoryProduct: [{ ProductCategoryId: made.tools, ProductId: tmp }] });
        expect(names(await search({ searchTerm: 'quickgrip' }))).toEqual(['Zebra clamp']);
        expect((await t.call('DELETE', `${V}/sobjects/Product2/${tmp}`, { token: admin })).status).toBe(204);
        expect(names(await search({ searchTerm: 'quickgrip' }))).toEqual([]);
        expect((await t.engine.admin.textSearch('Product2', { words: ['quickgrip'] })).total).toBe(0);
      });

      it('honours effectiveAccountId and the store', async () => {
        expect((await search({ searchTerm: 'drill' }, buyer, `?effectiveAccountId=${t.ids.acme}`)).status).toBe(201);
        const other = await search({ searchTerm: 'drill' }, buyer, `?effectiveAccountId=${t.ids.globex}`);
        const missing = await search({ searchTerm: 'drill' }, buyer, `?effectiveAccountId=${MISSING.account}`);
        expect(other.status).toBe(404);
        expect(other.body[0].errorCode).toBe('NOT_FOUND');
        expect(missing.status).toBe(404);
        expect(other.body[0].message.replace(t.ids.globex!, 'X')).toBe(missing.body[0].message.replace(MISSING.account, 'X'));
        expect((await search({ searchTerm: 'drill' }, admin, `?effectiveAccountId=${t.ids.globex}`)).status).toBe(201);
        const store = await t.call('POST', `${V}/commerce/webstores/${MISSING.store}/search/product-search`, {
          token: buyer,
          body: { searchTerm: 'drill' },
        });
        expect(store.status).toBe(404);
        expect((await t.call('POST', `${base}/search/product-search`, { body: { searchTerm: 'drill' } })).status).toBe(401);
      });
    });

    it('keeps the index in step with every storage write (batched insert, updateRows, updateWhere, updateColumn, delete)', async () => {
      const storage = t.engine.core.storage;
      const find = async (word: string) => (await storage.textSearch('Product2', { words: [word] })).ids.sort();
      const now = new Date().toISOString();
      const row = (id: string, name: string) => ({
        Id: id,
        Name: name,
        IsActive: true,
        QuantityScale: 0,
        CreatedDate: now,
        LastModifiedDate: now,
      });
      const [a, b] = ['01t00000000AaAa', '01t00000000BbBb'];
      await storage.insert('Product2', [row(a, 'Alphawidget'), row(b, 'Betawidget')]);
      expect(await find('alphawidget')).toEqual([a]);
      await storage.updateRows('Product2', [
        { id: a, values: { Description: 'gammaray' } },
        { id: b, values: { Description: 'gammaray' } },
      ]);
      expect(await find('gammaray')).toEqual([a, b].sort());
      await storage.updateWhere('Product2', [{ field: 'Id', op: '=', value: b }], { Description: 'deltawave' });
      expect(await find('gammaray')).toEqual([a]);
      await storage.updateColumn('Product2', 'StockKeepingUnit', new Map([[a, 'EPS-1']]));
      expect(await find('eps')).toEqual([a]);
      await storage.transaction(async (tx) => {
        await tx.delete('Product2', [a, b]);
        expect((await tx.textSearch('Product2', { words: ['deltawave'] })).total).toBe(0);
      });
      expect(await find('alphawidget')).toEqual([]);
    });

    describe('product detail and prices', () => {
      it('answers a product of the store with its fields and category path', async () => {
        const r = await t.call('GET', `${base}/products/${made.drill}`, { token: buyer });
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({
          id: made.drill,
          fields: { Name: 'Cordless Drill', StockKeepingUnit: 'DRL-7788', IsActive: 'true' },
          primaryProductCategoryPath: { path: [{ id: made.tools, name: 'Power tools' }] },
        });
        // The record dates, to the second, as Connect writes them.
        expect(r.body.fields.LastModifiedDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        expect(r.body.fields.CreatedDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        const dated = await t.call('GET', `${base}/products/${made.drill}?fields=name,lastmodifieddate`, { token: buyer });
        expect(Object.keys(dated.body.fields)).toEqual(['Name', 'LastModifiedDate']);
        const w = await t.call('GET', `${base}/products/${t.ids.product1}?fields=Name`, { token: buyer });
        expect(w.body.fields).toEqual({ Name: 'Widget 2' });
        expect(w.body.primaryProductCategoryPath.path.map((c: { name: string }) => c.name)).toEqual(['Widgets', 'Large widgets']);
      });

      it('answers product media: the groups holding images, the default image, and the placeholder without any', async () => {
        // A demo product: its SVG in both standard groups, the detail group first.
        const w = await t.call('GET', `${base}/products/${t.ids.product1}`, { token: buyer });
        expect(w.status).toBe(200);
        expect(w.body.mediaGroups.map((g: { developerName: string }) => g.developerName)).toEqual([
          'productDetailImage',
          'productListImage',
        ]);
        expect(w.body.mediaGroups[0]).toMatchObject({
          id: t.ids.productDetailImage,
          name: 'Product Detail Images',
          usageType: 'Standard',
          mediaItems: [
            { url: '/img/products/SKU-0002.svg', mediaType: 'Image', alternateText: 'Widget 2', title: 'Widget 2', sortOrder: 0 },
          ],
        });
        expect(w.body.defaultImage).toEqual(w.body.mediaGroups[0].mediaItems[0]);
        expect(w.body.defaultImage.id).toMatch(/^2pM/);
        // Only the groups asked for (DeveloperNames); excludeMedia drops groups and default image, and wins.
        const only = await t.call('GET', `${base}/products/${t.ids.product1}?mediaGroups=productListImage,nope`, { token: buyer });
        expect(only.body.mediaGroups.map((g: { usageType: string }) => g.usageType)).toEqual(['Listing']);
        expect(only.body.defaultImage).toEqual(w.body.defaultImage);
        const none = await t.call('GET', `${base}/products/${t.ids.product1}?excludeMedia=true&mediaGroups=productListImage`, {
          token: buyer,
        });
        expect(none.body.mediaGroups).toEqual([]);
        expect(none.body).not.toHaveProperty('defaultImage');
        const badFlag = await t.call('GET', `${base}/products/${t.ids.product1}?excludeMedia=maybe`, { token: buyer });
        expect(badFlag.status).toBe(400);
        expect(badFlag.body[0].fields).toEqual(['excludeMedia']);
        // The image resolves on this server, without a token.
        const img = await fetch(`${t.url}${w.body.defaultImage.url}`);
        expect(img.status).toBe(200);
        expect(img.headers.get('content-type')).toBe('image/svg+xml');
        expect(await img.text()).toContain('<title>SKU-0002</title>');

        // A product without images: Salesforce's default product image, served here too.
        const bare = await t.call('GET', `${base}/products/${made.drill}`, { token: buyer });
        expect(bare.body.mediaGroups).toEqual([]);
        expect(bare.body.defaultImage).toEqual(PLACEHOLDER);
        const ph = await fetch(`${t.url}${PLACEHOLDER.url}`);
        expect([ph.status, ph.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
        const bad = await fetch(`${t.url}/img/products/x%3Cscript%3E.svg`);
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as { fields: string[] }[])[0]!.fields).toEqual(['file']);

        // Media written by ModifyAllData only; a listing image is the default until a detail image exists.
        const media = (body: Record<string, unknown>, token = admin) => t.call('POST', `${V}/sobjects/ProductMedia`, { token, body });
        const listing = await media({
          ProductId: made.drill,
          ElectronicMediaGroupId: t.ids.productListImage,
          ImageUrl: '/img/products/DRL-7788.svg',
          ImageAlternateText: 'Cordless drill',
        });
        expect(listing.status, JSON.stringify(listing.body)).toBe(201);
        const refused = await media({ ProductId: made.drill, ElectronicMediaGroupId: t.ids.productListImage, ImageUrl: '/x.svg' }, buyer);
        expect(refused.status).toBe(403);
        for (const ImageUrl of ['javascript:alert(1)', '//elsewhere.example/x.svg', 'img/x.svg']) {
          const r = await media({ ProductId: made.drill, ElectronicMediaGroupId: t.ids.productListImage, ImageUrl });
          expect(r.status, ImageUrl).toBe(400);
          expect(r.body[0]).toMatchObject({ fields: ['ImageUrl'] });
          expect(r.body[0].message).toContain('ImageUrl');
        }
        expect((await t.call('GET', `${V}/sobjects/ProductMedia/${listing.body.id}`, { token: outsider })).status).toBe(200);
        let d = await t.call('GET', `${base}/products/${made.drill}`, { token: buyer });
        expect(d.body.defaultImage).toMatchObject({
          id: listing.body.id,
          url: '/img/products/DRL-7788.svg',
          alternateText: 'Cordless drill',
          title: '',
        });
        const second = await media({
          ProductId: made.drill,
          ElectronicMediaGroupId: t.ids.productDetailImage,
          ImageUrl: '/img/products/DRL-7788-side.svg',
          SortOrder: 2,
        });
        const first = await media({
          ProductId: made.drill,
          ElectronicMediaGroupId: t.ids.productDetailImage,
          ImageUrl: '/img/products/DRL-7788-front.svg',
          ImageTitle: 'Front',
          SortOrder: 1,
        });
        d = await t.call('GET', `${base}/products/${made.drill}`, { token: buyer });
        expect(d.body.defaultImage).toMatchObject({ id: first.body.id, title: 'Front', sortOrder: 1 });
        expect(d.body.mediaGroups[0].mediaItems.map((m: { id: string }) => m.id)).toEqual([first.body.id, second.body.id]);
        expect(d.body.mediaGroups[1]).toMatchObject({ usageType: 'Listing', mediaItems: [{ id: listing.body.id }] });

        // Search results carry the listing image, else the placeholder.
        const found = await t.call('POST', `${base}/search/product-search`, { token: buyer, body: { searchTerm: 'drill' } });
        const drill = found.body.productsPage.products.find((p: { id: string }) => p.id === made.drill);
        expect(drill.defaultImage).toMatchObject({ id: listing.body.id, url: '/img/products/DRL-7788.svg', mediaType: 'Image' });
        const sander = (await t.call('POST', `${base}/search/product-search`, { token: buyer, body: { searchTerm: 'orbital' } })).body
          .productsPage.products[0];
        expect(sander.name).toBe('Orbital Sander');
        expect(sander.defaultImage).toEqual(PLACEHOLDER);

        // A group holding images can't be deleted.
        const del = await t.call('DELETE', `${V}/sobjects/ElectronicMediaGroup/${t.ids.productListImage}`, { token: admin });
        expect(del.status).toBe(400);
        expect(del.body[0].errorCode).toBe('DELETE_FAILED');
      });

      it('404s a product outside the store, 400s a malformed id', async () => {
        for (const id of [made.hidden, MISSING.product]) {
          const r = await t.call('GET', `${base}/products/${id}`, { token: buyer });
          expect(r.status).toBe(404);
          expect(r.body[0].fields).toEqual(['productId']);
        }
        const bad = await t.call('GET', `${base}/products/abc`, { token: buyer });
        expect(bad.status).toBe(400);
        expect(bad.body[0]).toMatchObject({ errorCode: 'MALFORMED_ID', fields: ['productId'] });
        expect((await t.call('GET', `${base}/products/${made.drill}?fields=Nope`, { token: buyer })).status).toBe(400);
      });

      it('prices one product and several, with an error line per unknown or unpriced product', async () => {
        const one = await t.call('GET', `${base}/pricing/products/${made.drill}`, { token: buyer });
        expect(one.status).toBe(200);
        expect(one.body).toMatchObject({ currencyIsoCode: 'USD', unitPrice: '129.50', listPrice: '129.50', success: true });
        expect(one.body.pricebookEntryId).toMatch(/^01u/);
        expect((await t.call('GET', `${base}/pricing/products/${MISSING.product}`, { token: buyer })).status).toBe(404);
        expect((await t.call('GET', `${base}/pricing/products/xyz`, { token: buyer })).status).toBe(400);
        const many = await t.call('GET', `${base}/pricing/products?productIds=${made.drill},${MISSING.product},${made.hidden}`, {
          token: buyer,
        });
        expect(many.status).toBe(200);
        expect(many.body.success).toBe(false);
        expect(many.body.pricingLineItemResults.map((l: { success: boolean }) => l.success)).toEqual([true, false, false]);
        expect(many.body.pricingLineItemResults[1]).toMatchObject({
          productId: expect.stringMatching(new RegExp(`^${MISSING.product}`)),
          error: { code: 'NOT_FOUND' },
        });
        const posted = await t.call('POST', `${base}/pricing/products`, {
          token: buyer,
          body: { pricingLineItems: [{ productId: made.sander }, { productId: made.saw }] },
        });
        expect(posted.status).toBe(201);
        expect(posted.body.pricingLineItemResults).toMatchObject([
          { productId: made.sander, unitPrice: '59.00', success: true },
          { productId: made.saw, success: false, error: { code: 'NOT_FOUND' } },
        ]);
        const badPost = await t.call('POST', `${base}/pricing/products`, {
          token: buyer,
          body: { pricingLineItems: [{ productId: 'x' }] },
        });
        expect(badPost.status).toBe(400);
        expect(badPost.body[0].fields).toEqual(['pricingLineItems']);
        expect((await t.call('POST', `${base}/pricing/products`, { token: buyer, body: { pricingLineItems: [] } })).status).toBe(400);
        const none = await t.call('GET', `${base}/pricing/products`, { token: buyer });
        expect(none.status).toBe(400);
        expect(none.body[0].fields).toEqual(['productIds']);
        const bad = await t.call('GET', `${base}/pricing/products?productIds=${made.drill},junk`, { token: buyer });
        expect(bad.status).toBe(400);
        expect(bad.body[0].fields).toEqual(['productIds']);
      });
    });

    describe('addresses', () => {
      const path = (account: string, id?: string) => `${base}/accounts/${account}/addresses${id ? `/${id}` : ''}`;

      it('lists the account’s addresses, filtered by type', async () => {
        const r = await t.call('GET', path(t.ids.acme!), { token: buyer });
        expect(r.status).toBe(200);
        expect(r.body.count).toBe(2);
        const ship = await t.call('GET', `${path(t.ids.acme!)}?addressType=Shipping`, { token: buyer });
        expect(ship.body.items).toEqual([
          expect.objectContaining({
            addressId: t.ids.acmeShipping,
            addressType: 'Shipping',
            isDefault: true,
            city: 'Oakland',
            region: 'CA',
          }),
        ]);
        expect((await t.call('GET', `${path(t.ids.acme!)}?addressType=Home`, { token: buyer })).status).toBe(400);
      });

      it('creates, updates and deletes, with one default per type', async () => {
        const created = await t.call('POST', path(t.ids.acme!), {
          token: buyer,
          body: {
            name: 'New dock',
            street: '5 Pier Rd',
            city: 'Alameda',
            region: 'CA',
            country: 'US',
            postalCode: '94501',
            addressType: 'Shipping',
            isDefault: true,
          },
        });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        expect(created.body).toMatchObject({ name: 'New dock', isDefault: true, addressType: 'Shipping', country: 'US', region: 'CA' });
        const stored = await t.engine.admin.get('ContactPointAddress', created.body.addressId);
        expect(stored).toMatchObject({ StateCode: 'CA', CountryCode: 'US', ParentId: t.ids.acme });
        const id = created.body.addressId as string;
        const old = await t.call('GET', path(t.ids.acme!, t.ids.acmeShipping), { token: buyer });
        expect(old.body.isDefault).toBe(false);
        // The billing default is untouched.
        expect((await t.call('GET', path(t.ids.acme!, t.ids.acmeBilling), { token: buyer })).body.isDefault).toBe(true);
        const back = await t.call('PATCH', path(t.ids.acme!, t.ids.acmeShipping), {
          token: buyer,
          body: { isDefault: true, city: 'Berkeley' },
        });
        expect(back.status).toBe(200);
        expect(back.body).toMatchObject({ isDefault: true, city: 'Berkeley' });
        expect((await t.call('GET', path(t.ids.acme!, id), { token: buyer })).body.isDefault).toBe(false);
        const defaults = await t.call('GET', `${path(t.ids.acme!)}?addressType=Shipping&defaultOnly=true`, { token: buyer });
        expect(defaults.body.items.map((a: { addressId: string }) => a.addressId)).toEqual([t.ids.acmeShipping]);
        expect((await t.call('DELETE', path(t.ids.acme!, id), { token: buyer })).status).toBe(204);
        expect((await t.call('GET', path(t.ids.acme!, id), { token: buyer })).status).toBe(404);
      });

      it('refuses bad input naming the field', async () => {
        const post = (body: unknown) => t.call('POST', path(t.ids.acme!), { token: buyer, body });
        const r1 = await post({ name: 'x' });
        expect(r1.status).toBe(400);
        expect(r1.body[0].fields).toEqual(['addressType']);
        const r2 = await post({ addressType: 'Shipping', street: '1 Way' });
        expect(r2.status).toBe(400);
        expect(r2.body[0].fields).toEqual(['name']);
        const r3 = await post({ name: 'x', addressType: 'Home' });
        expect(r3.status).toBe(400);
        expect(r3.body[0].fields).toEqual(['addressType']);
        const r6 = await post({ name: 'x'.repeat(256), addressType: 'Shipping' });
        expect(r6.status).toBe(400);
        expect(r6.body[0].fields).toEqual(['name']);
        const r4 = await t.call('GET', path(t.ids.acme!, 'bad'), { token: buyer });
        expect(r4.status).toBe(400);
        expect(r4.body[0].fields).toEqual(['addressId']);
        const r5 = await t.call('GET', path('bad'), { token: buyer });
        expect(r5.status).toBe(400);
      });

      it('answers another account’s address exactly like a missing one', async () => {
        const before = await t.engine.admin.dump(['ContactPointAddress']);
        for (const [method, body] of [
          ['GET', undefined],
          ['PATCH', { city: 'Hacked' }],
          ['DELETE', undefined],
        ] as const) {
          const theirs = await t.call(method, path(t.ids.acme!, t.ids.globexShipping), { token: buyer, body });
          const missing = await t.call(method, path(t.ids.acme!, MISSING.address), { token: buyer, body });
          expect(theirs.status).toBe(404);
          expect(theirs.body[0].message.replace(t.ids.globexShipping!, 'X')).toBe(missing.body[0].message.replace(MISSING.address, 'X'));
          expect(theirs.body[0].fields).toEqual(missing.body[0].fields);
        }
        // Naming the other account in the path (or as effectiveAccountId) is a missing account.
        const list = await t.call('GET', path(t.ids.globex!), { token: buyer });
        const none = await t.call('GET', path(MISSING.account), { token: buyer });
        expect(list.status).toBe(404);
        expect(list.body[0].message.replace(t.ids.globex!, 'X')).toBe(none.body[0].message.replace(MISSING.account, 'X'));
        const create = await t.call('POST', path(t.ids.globex!), { token: buyer, body: { name: 'Mine', addressType: 'Shipping' } });
        expect(create.status).toBe(404);
        const eff = await t.call('GET', `${path(t.ids.acme!)}?effectiveAccountId=${t.ids.globex}`, { token: buyer });
        expect(eff.status).toBe(404);
        // Another account's buyer, naming their own account in the path, doesn't reach this account's address either.
        const cross = await t.call('GET', path(t.ids.globex!, t.ids.acmeShipping), { token: outsider });
        expect(cross.status).toBe(404);
        expect(cross.body[0].fields).toEqual(['addressId']);
        const crossPatch = await t.call('PATCH', path(t.ids.globex!, t.ids.acmeShipping), { token: outsider, body: { isDefault: true } });
        expect(crossPatch.status).toBe(404);
        expect(await t.engine.admin.dump(['ContactPointAddress'])).toEqual(before);
        // The other buyer sees only their own; the admin acts for either account.
        expect((await t.call('GET', path(t.ids.globex!), { token: outsider })).body.count).toBe(1);
        expect((await t.call('GET', path(t.ids.globex!, t.ids.globexShipping), { token: admin })).status).toBe(200);
      });
    });

    describe('order summaries', () => {
      it('lists the account’s summaries in the store, newest first, paged', async () => {
        const r = await t.call('GET', `${base}/order-summaries`, { token: buyer });
        expect(r.status).toBe(200);
        expect(r.body.count).toBe(2);
        expect(r.body.orderSummaries.map((s: { orderSummaryId: string }) => s.orderSummaryId)).toEqual([made.s2, made.s1]);
        const asc = await t.call('GET', `${base}/order-summaries?sortOrder=OrderedDateAsc&pageSize=1`, { token: buyer });
        expect(asc.body.orderSummaries.map((s: { orderNumber: string }) => s.orderNumber)).toEqual(['00000101']);
        expect(asc.body.nextPageToken).toBe('1');
        const p2 = await t.call('GET', `${base}/order-summaries?sortOrder=OrderedDateAsc&pageSize=1&page=1`, { token: buyer });
        expect(p2.body.orderSummaries[0]).toMatchObject({ orderNumber: '00000102', totalAmount: '20.00', accountId: t.ids.acme });
        expect(p2.body.nextPageToken).toBeNull();
        expect((await t.call('GET', `${base}/order-summaries?pageSize=0`, { token: buyer })).status).toBe(400);
        expect((await t.call('GET', `${base}/order-summaries?sortOrder=Sideways`, { token: buyer })).status).toBe(400);
      });

      it('reads one; another account’s answers exactly like a missing one', async () => {
        const r = await t.call('GET', `${base}/order-summaries/${made.s1}`, { token: buyer });
        expect(r.status).toBe(200);
        expect(r.body).toMatchObject({ orderSummaryId: made.s1, orderNumber: '00000101' });
        const theirs = await t.call('GET', `${base}/order-summaries/${made.s3}`, { token: buyer });
        const missing = await t.call('GET', `${base}/order-summaries/${MISSING.summary}`, { token: buyer });
        expect(theirs.status).toBe(404);
        expect(theirs.body[0].message.replace(made.s3!, 'X')).toBe(missing.body[0].message.replace(MISSING.summary, 'X'));
        const bad = await t.call('GET', `${base}/order-summaries/zzz`, { token: buyer });
        expect(bad.status).toBe(400);
        expect(bad.body[0].fields).toEqual(['orderSummaryId']);
        expect((await t.call('GET', `${base}/order-summaries?effectiveAccountId=${t.ids.globex}`, { token: buyer })).status).toBe(404);
        const asAdmin = await t.call('GET', `${base}/order-summaries?effectiveAccountId=${t.ids.globex}`, { token: admin });
        expect(asAdmin.body.orderSummaries.map((s: { orderSummaryId: string }) => s.orderSummaryId)).toEqual([made.s3]);
        expect((await t.call('GET', `${base}/order-summaries`, { token: outsider })).body.count).toBe(1);
      });
    });
  });
}

describe('full-text index of a SQLite database made before it', () => {
  it('is created and filled from the stored products when the engine opens the database', async () => {
    const file = freshSqliteFile();
    const first = await createCheckoutEngine({ storage: file, onError: () => {} });
    await first.seed({ Product2: [{ Name: 'Legacy lathe', Description: 'Cast iron bed' }] });
    await first.close();
    // As an older engine left it: no index, no triggers.
    const raw = new Database(file);
    raw.exec(
      'drop trigger "Product2_fts_insert"; drop trigger "Product2_fts_update"; drop trigger "Product2_fts_delete"; drop table "Product2_fts";',
    );
    raw.close();
    const again = await createCheckoutEngine({ storage: file, onError: () => {} });
    try {
      expect((await again.admin.textSearch('Product2', { words: ['cast', 'iron'] })).total).toBe(1);
      await again.seed({ Product2: [{ Name: 'New lathe', Description: 'Cast aluminium' }] });
      expect((await again.admin.textSearch('Product2', { words: ['cast'] })).total).toBe(2);
    } finally {
      await again.close();
    }
  });
});
