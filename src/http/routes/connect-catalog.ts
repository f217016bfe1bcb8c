/**
 * Commerce Connect store and catalog reads (docs/connect-api.md, "Store and catalog reads"):
 * product search, product detail, product prices, the buyer account's addresses and its order
 * summaries, under `/services/data/:version/commerce/webstores/:webstoreId/`. Every route resolves
 * the store and the effective account first (src/connect/context.ts).
 */
import { z } from 'zod';
import { createAddress, deleteAddress, getAddress, listAddresses, updateAddress } from '../../connect/addresses.js';
import { MAX_PAGE_SIZE, MAX_PRICED_PRODUCTS, productDetail, productPrice, productPrices, searchProducts } from '../../connect/catalog.js';
import { resolveStoreContext } from '../../connect/context.js';
import { getOrderSummary, listOrderSummaries } from '../../connect/order-summaries.js';
import type { Caller } from '../../engine/facts.js';
import type { CheckoutEngine } from '../../engine/engine.js';
import { apiVersion, VersionParams, type RouteGroup } from '../routing.js';
import { acceptEmptyJsonBody } from './connect-body.js';

const BASE = '/services/data/:version/commerce/webstores/:webstoreId';
const StoreParams = VersionParams.extend({ webstoreId: z.string().describe('WebStore id (0ZE…)') });
const ProductParams = StoreParams.extend({ productId: z.string().describe('Product2 id (01t…)') });
const AccountParams = StoreParams.extend({ accountId: z.string().describe('Account id (001…): the effective account') });
const AddressParams = AccountParams.extend({ addressId: z.string().describe('ContactPointAddress id (8lW…)') });
const SummaryParams = StoreParams.extend({ orderSummaryId: z.string().describe('OrderSummary id (1Os…)') });

const effectiveAccountId = z.string().optional().describe('The buyer account to act for (default: the caller’s own account)');
const AccountQuery = z.object({ effectiveAccountId });
const pageOf = z.coerce.number().int().min(0).max(10_000).optional().describe('Page number, from 0');
const pageSizeOf = (max: number) => z.coerce.number().int().min(1).max(max).optional().describe(`Results per page, 1–${max}`);
const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');

const SearchBody = z
  .object({
    searchTerm: z.string().max(1000).nullish(),
    categoryId: z.string().nullish(),
    page: z.number().int().min(0).max(10_000).optional(),
    pageSize: z.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
    fields: z.array(z.string()).max(50).optional(),
    includePrices: z.boolean().optional(),
    sortRuleId: z.string().nullish(),
    refinements: z.array(z.unknown()).optional(),
    grouping: z.unknown().optional(),
    includeQuantityRule: z.boolean().optional(),
  })
  .describe('Product Search Input');

const Type = z.enum(['Shipping', 'Billing']);
const text = z.string().max(255).nullish();
const AddressBody = z.object({
  name: text,
  firstName: text,
  lastName: text,
  companyName: text,
  street: text,
  city: text,
  region: text,
  country: text,
  postalCode: text,
  regionCode: text,
  countryCode: text,
  addressType: Type.optional(),
  isDefault: z.boolean().optional(),
});

/** Resolves the store context of a request. */
const contextOf = (engine: CheckoutEngine, caller: Caller, p: { version: string; webstoreId: string }, account: string | undefined) =>
  resolveStoreContext(engine, caller, p.webstoreId, account, apiVersion(p.version));

const errors = {
  400: { description: 'Malformed id or input (MALFORMED_ID, INVALID_INPUT, INVALID_FIELD …), naming the field' },
  401: { description: 'No valid session' },
  404: { description: 'No such store, account, product or record this user can use (NOT_FOUND)' },
};

export const connectCatalogRoutes: RouteGroup = async (app, { engine, table }) => {
  acceptEmptyJsonBody(app);
  const route = table.on(app);
  route(
    {
      method: 'POST',
      url: `${BASE}/search/product-search`,
      summary: 'Commerce Connect: search products',
      auth: true,
      schema: { params: StoreParams, querystring: AccountQuery, body: SearchBody },
      // Connect answers a POST with 201 even when it creates nothing, as storefront clients expect.
      responses: { 201: { description: 'Product Search Results' }, ...errors },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(await searchProducts(engine, await contextOf(engine, req.caller, req.params, req.query.effectiveAccountId), req.body)),
  );
  route(
    {
      method: 'GET',
      url: `${BASE}/products/:productId`,
      summary: 'Commerce Connect: product detail',
      auth: true,
      schema: {
        params: ProductParams,
        querystring: AccountQuery.extend({
          fields: z.string().optional().describe('Comma-separated Product2 fields'),
          mediaGroups: z
            .string()
            .max(2000)
            .optional()
            .describe('Comma-separated DeveloperNames of the media groups to answer (default all)'),
          excludeMedia: boolParam.optional().describe('true: no media groups and no default image (wins over mediaGroups)'),
        }),
      },
      responses: { 200: { description: 'Product Detail' }, ...errors },
    },
    async (req) =>
      productDetail(
        engine,
        await contextOf(engine, req.caller, req.params, req.query.effectiveAccountId),
        req.params.productId,
        req.query.fields,
        { mediaGroups: req.query.mediaGroups, excludeMedia: req.query.excludeMedia },
      ),
  );
  route(
    {
      method: 'GET',
      url: `${BASE}/pricing/products/:productId`,
      summary: 'Commerce Connect: price of a product',
      auth: true,
      schema: { params: ProductParams, querystring: AccountQuery },
      responses: { 200: { description: 'Product Price' }, ...errors },
    },
    async (req) =>
      productPrice(engine, await contextOf(engine, req.caller, req.params, req.query.effectiveAccountId), req.params.productId),
  );
  route(
    {
      method: 'GET',
      url: `${BASE}/pricing/products`,
      summary: 'Commerce Connect: prices of products',
      auth: true,
      schema: {
        params: StoreParams,
        querystring: AccountQuery.extend({ productIds: z.string().optional().describe('Comma-separated Product2 ids (at most 100)') }),
      },
      responses: { 200: { description: 'Pricing Result (an error line per unknown or unpriced product)' }, ...errors },
    },
    async (req) =>
      productPrices(engine, await contextOf(engine, req.caller, req.params, req.query.effectiveAccountId), req.query.productIds),
  );
  route(
    {
      method: 'POST',
      url: `${BASE}/pricing/products`,
      summary: 'Commerce Connect: prices of products (Pricing Input)',
      auth: true,
      schema: {
        params: StoreParams,
        querystring: AccountQuery,
        body: z.object({
          pricingLineItems: z
            .array(z.object({ productId: z.string() }))
            .min(1)
            .max(MAX_PRICED_PRODUCTS),
        }),
      },
      responses: { 201: { description: 'Pricing Result (an error line per unknown or unpriced product)' }, ...errors },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(
          await productPrices(
            engine,
            await contextOf(engine, req.caller, req.params, req.query.effectiveAccountId),
            req.body.pricingLineItems.map((l) => l.productId).join(','),
            'pricingLineItems',
          ),
        ),
  );
  route(
    {
      method: 'GET',
      url: `${BASE}/accounts/:accountId/addresses`,
      summary: 'Commerce Connect: addresses of the buyer account',
      auth: true,
      schema: {
        params: AccountParams,
        querystring: AccountQuery.extend({
          addressType: Type.optional(),
          defaultOnly: boolParam.optional(),
          page: pageOf,
          pageSize: pageSizeOf(100),
          sortOrder: z.enum(['CreatedDateAsc', 'CreatedDateDesc', 'NameAsc', 'NameDesc']).optional(),
        }),
      },
      responses: { 200: { description: 'Address Collection' }, ...errors },
    },
    async (req) => {
      const { effectiveAccountId: account, ...q } = req.query;
      return listAddresses(
        engine,
        await contextOf(engine, req.caller, req.params, account ?? req.params.accountId),
        req.params.accountId,
        q,
      );
    },
  );
  route(
    {
      method: 'POST',
      url: `${BASE}/accounts/:accountId/addresses`,
      summary: 'Commerce Connect: add an address',
      auth: true,
      schema: { params: AccountParams, querystring: AccountQuery, body: AddressBody },
      responses: { 201: { description: 'Address' }, ...errors },
    },
    async (req, reply) => {
      const ctx = await contextOf(engine, req.caller, req.params, req.query.effectiveAccountId ?? req.params.accountId);
      return reply.code(201).send(await createAddress(engine, ctx, req.params.accountId, req.body));
    },
  );
  route(
    {
      method: 'GET',
      url: `${BASE}/accounts/:accountId/addresses/:addressId`,
      summary: 'Commerce Connect: an address',
      auth: true,
      schema: { params: AddressParams, querystring: AccountQuery },
      responses: { 200: { description: 'Address' }, ...errors },
    },
    async (req) =>
      getAddress(
        engine,
        await contextOf(engine, req.caller, req.params, req.query.effectiveAccountId ?? req.params.accountId),
        req.params.accountId,
        req.params.addressId,
      ),
  );
  route(
    {
      method: 'PATCH',
      url: `${BASE}/accounts/:accountId/addresses/:addressId`,
      summary: 'Commerce Connect: update an address',
      auth: true,
      schema: { params: AddressParams, querystring: AccountQuery, body: AddressBody },
      responses: { 200: { description: 'Address' }, ...errors },
    },
    async (req) =>
      updateAddress(
        engine,
        await contextOf(engine, req.caller, req.params, req.query.effectiveAccountId ?? req.params.accountId),
        req.params.accountId,
        req.params.addressId,
        req.body,
      ),
  );
  route(
    {
      method: 'DELETE',
      url: `${BASE}/accounts/:accountId/addresses/:addressId`,
      summary: 'Commerce Connect: delete an address',
      auth: true,
      schema: { params: AddressParams, querystring: AccountQuery },
      responses: { 204: { description: 'Deleted' }, ...errors },
    },
    async (req, reply) => {
      const ctx = await contextOf(engine, req.caller, req.params, req.query.effectiveAccountId ?? req.params.accountId);
      await deleteAddress(engine, ctx, req.params.accountId, req.params.addressId);
      return reply.code(204).send();
    },
  );
  route(
    {
      method: 'GET',
      url: `${BASE}/order-summaries`,
      summary: 'Commerce Connect: order summaries of the buyer account',
      auth: true,
      schema: {
        params: StoreParams,
        querystring: AccountQuery.extend({
          page: pageOf,
          pageSize: pageSizeOf(100),
          sortOrder: z.enum(['OrderedDateAsc', 'OrderedDateDesc']).optional(),
        }),
      },
      responses: { 200: { description: 'Order Summary Collection' }, ...errors },
    },
    async (req) => {
      const { effectiveAccountId: account, ...q } = req.query;
      return listOrderSummaries(engine, await contextOf(engine, req.caller, req.params, account), q);
    },
  );
  route(
    {
      method: 'GET',
      url: `${BASE}/order-summaries/:orderSummaryId`,
      summary: 'Commerce Connect: an order summary',
      auth: true,
      schema: { params: SummaryParams, querystring: AccountQuery },
      responses: { 200: { description: 'Order Summary' }, ...errors },
    },
    async (req) =>
      getOrderSummary(engine, await contextOf(engine, req.caller, req.params, req.query.effectiveAccountId), req.params.orderSummaryId),
  );
};
