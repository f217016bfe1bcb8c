/**
 * The Commerce Cart Connect API (`/services/data/vXX.X/commerce/webstores/{webstoreId}/carts…`):
 * carts by state or id, their items, item writes (each followed by the store's Cart Calculate
 * orchestrator) and `actions/calculate` (v62+). The services are src/connect/carts.ts; statuses,
 * versions and the 202 rule are in docs/connect-api.md "Cart API".
 */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { EngineError } from '../../errors.js';
import { resolveStoreContext, type StoreContext } from '../../connect/context.js';
import {
  addCartItem,
  addCartItems,
  CALCULATE_FROM,
  calculateCartAction,
  createCart,
  deleteCart,
  deleteCartItem,
  getCart,
  ITEM_SORTS,
  listCartItems,
  updateCartItem,
} from '../../connect/carts.js';
import type { Caller } from '../../engine/facts.js';
import { apiVersion, VersionParams, type RouteGroup } from '../routing.js';
import { acceptEmptyJsonBody } from './connect-body.js';

const BASE = '/services/data/:version/commerce/webstores/:webstoreId/carts';

const StoreParams = VersionParams.extend({ webstoreId: z.string().describe('WebStore id (0ZE…)') });
const CartParams = StoreParams.extend({ cartStateOrId: z.string().describe("A cart id, 'active' or 'current'") });
const ItemParams = CartParams.extend({ cartItemId: z.string().describe('CartItem id (0a9…)') });
const AccountQuery = z.object({
  effectiveAccountId: z.string().optional().describe("The buyer account (default: the caller's account)"),
});
const ItemsQuery = AccountQuery.extend({
  page: z.string().optional().describe('A page token from a previous answer'),
  pageSize: z.string().optional().describe('Items per page, 1–100 (default 25)'),
  sort: z
    .string()
    .optional()
    .describe(`One of ${ITEM_SORTS.join(', ')} (default CreatedDateDesc)`),
  productFields: z.string().optional().describe('Up to 5 Product2 fields, comma-separated'),
});
const Body = z.record(z.string(), z.unknown());
const OptionalBody = Body.nullish();

/** How long a client should wait before polling a cart whose calculation runs. */
const RETRY_AFTER_SECONDS = '1';

/** The body's fields, refusing any this resource doesn't take (naming it). */
function fieldsOf(body: Record<string, unknown> | null | undefined, allowed: readonly string[]): Record<string, unknown> {
  const b = body ?? {};
  for (const k of Object.keys(b)) {
    if (!allowed.includes(k)) throw new EngineError('INVALID_FIELD', `'${k}' isn't a field of this input (${allowed.join(', ')}).`, [k]);
  }
  return b;
}

export const connectCartRoutes: RouteGroup = async (app, { engine, table }) => {
  acceptEmptyJsonBody(app);
  const route = table.on(app);

  /** The store context of a request (effectiveAccountId from the query, else the body). */
  const contextOf = (
    caller: Caller,
    params: { version: string; webstoreId: string },
    query: { effectiveAccountId?: string },
    body?: Record<string, unknown>,
  ): Promise<StoreContext> =>
    resolveStoreContext(
      engine,
      caller,
      params.webstoreId,
      query.effectiveAccountId ?? body?.effectiveAccountId,
      apiVersion(params.version),
    );

  const cartUrl = (ctx: StoreContext, cartId: unknown) =>
    `/services/data/v${ctx.version}.0/commerce/webstores/${ctx.webstoreId}/carts/${String(cartId)}`;

  /** 202 Accepted with Location (the cart, to poll) and Retry-After. */
  const accepted = (reply: FastifyReply, ctx: StoreContext, summary: Record<string, unknown>) =>
    reply.code(202).header('location', cartUrl(ctx, summary.cartId)).header('retry-after', RETRY_AFTER_SECONDS).send(summary);

  const created = (reply: FastifyReply, ctx: StoreContext, summary: Record<string, unknown>, isNew: boolean) =>
    isNew ? reply.code(201).header('location', cartUrl(ctx, summary.cartId)).send(summary) : reply.code(200).send(summary);

  route(
    {
      method: 'POST',
      url: BASE,
      summary: 'Create a cart (Connect): the active cart of the buyer in the store, or the one they already have',
      auth: true,
      schema: { params: StoreParams, querystring: AccountQuery, body: OptionalBody },
      responses: {
        201: { description: 'Cart Summary of the new cart' },
        200: { description: 'Cart Summary of the active cart the buyer already has' },
        400: {
          description: 'INVALID_INPUT or INVALID_FIELD naming the field (a type other than Cart, a currency the store does not sell)',
        },
        404: { description: 'NOT_FOUND: the store or account' },
      },
    },
    async (req, reply) => {
      const body = fieldsOf(req.body, ['name', 'type', 'currencyIsoCode', 'isSecondary', 'effectiveAccountId']);
      const ctx = await contextOf(req.caller, req.params, req.query, body);
      const r = await createCart(engine, ctx, body);
      return created(reply, ctx, r.summary, r.created);
    },
  );

  route(
    {
      method: 'GET',
      url: `${BASE}/:cartStateOrId`,
      summary: 'Get a cart (Connect) by id, active or current: Cart Summary',
      auth: true,
      schema: { params: CartParams, querystring: AccountQuery },
      responses: {
        200: { description: 'Cart Summary' },
        202: { description: 'A checkout step calculates the cart: Cart Summary so far, Location and Retry-After to poll' },
        400: { description: 'MALFORMED_ID: cartStateOrId' },
        404: { description: 'NOT_FOUND: no such cart for this buyer and store' },
      },
    },
    async (req, reply) => {
      const ctx = await contextOf(req.caller, req.params, req.query);
      const r = await getCart(engine, ctx, req.params.cartStateOrId);
      return r.processing ? accepted(reply, ctx, r.summary) : reply.code(200).send(r.summary);
    },
  );

  route(
    {
      method: 'PUT',
      url: `${BASE}/:cartStateOrId`,
      summary: 'Create the active cart (Connect): PUT …/carts/active (or answer the active one)',
      auth: true,
      schema: { params: CartParams, querystring: AccountQuery.extend({ currencyIsoCode: z.string().optional() }), body: OptionalBody },
      responses: {
        201: { description: 'Cart Summary of the new active cart' },
        200: { description: 'Cart Summary of the existing active cart' },
        400: { description: "INVALID_INPUT: only 'active' can be PUT" },
        404: { description: 'NOT_FOUND: the store or account' },
      },
    },
    async (req, reply) => {
      if (req.params.cartStateOrId !== 'active') {
        throw new EngineError('INVALID_INPUT', "cartStateOrId: only 'active' can be created with PUT.", ['cartStateOrId']);
      }
      const body = fieldsOf(req.body, ['name', 'type', 'currencyIsoCode', 'isSecondary', 'effectiveAccountId']);
      const ctx = await contextOf(req.caller, req.params, req.query, body);
      const r = await createCart(engine, ctx, { ...body, currencyIsoCode: req.query.currencyIsoCode ?? body.currencyIsoCode });
      return created(reply, ctx, r.summary, r.created);
    },
  );

  route(
    {
      method: 'DELETE',
      url: `${BASE}/:cartStateOrId`,
      summary: 'Delete a cart (Connect): its checkout canceled, its items with it',
      auth: true,
      schema: { params: CartParams, querystring: AccountQuery },
      responses: {
        204: { description: 'Deleted' },
        400: { description: "MALFORMED_ID, or the record API's rules (a cart whose checkout made an order)" },
        404: { description: 'NOT_FOUND' },
      },
    },
    async (req, reply) => {
      const ctx = await contextOf(req.caller, req.params, req.query);
      await deleteCart(engine, ctx, req.params.cartStateOrId);
      return reply.code(204).send();
    },
  );

  route(
    {
      method: 'GET',
      url: `${BASE}/:cartStateOrId/cart-items`,
      summary: 'List cart items (Connect): Cart Item Collection, paged by page tokens',
      auth: true,
      schema: { params: CartParams, querystring: ItemsQuery },
      responses: {
        200: { description: 'Cart Item Collection' },
        400: { description: 'a bad page, pageSize, sort or productFields' },
        404: { description: 'NOT_FOUND: the cart' },
      },
    },
    async (req) => {
      const ctx = await contextOf(req.caller, req.params, req.query);
      const base = `/services/data/v${ctx.version}.0/commerce/webstores/${ctx.webstoreId}/carts/${req.params.cartStateOrId}/cart-items`;
      return listCartItems(engine, ctx, req.params.cartStateOrId, req.query, base);
    },
  );

  route(
    {
      method: 'POST',
      url: `${BASE}/:cartStateOrId/cart-items`,
      summary: 'Add an item to a cart (Connect), then recalculate the cart (buyer action cartItemChanged)',
      auth: true,
      schema: { params: CartParams, querystring: AccountQuery, body: Body },
      responses: {
        201: { description: 'Cart Item (recalculated)' },
        400: { description: 'a bad productId, quantity or type' },
        404: { description: 'NOT_FOUND: the cart, or a product the store does not sell' },
        409: { description: 'v63+: CHECKOUT_CONFLICT while a step of the cart’s checkout runs' },
      },
    },
    async (req, reply) => {
      const body = fieldsOf(req.body, ['productId', 'quantity', 'type', 'effectiveAccountId']);
      const ctx = await contextOf(req.caller, req.params, req.query, body);
      const r = await addCartItem(engine, ctx, req.params.cartStateOrId, body);
      return reply.code(201).send(r.item);
    },
  );

  route(
    {
      method: 'POST',
      url: `${BASE}/:cartStateOrId/cart-items/batch`,
      summary: 'Add up to 100 items to a cart (Connect): per-item results, one recalculation',
      auth: true,
      schema: { params: CartParams, querystring: AccountQuery, body: Body },
      responses: {
        200: {
          description:
            '{ hasErrors, results: [{ result, statusCode }] }; body { batchRequests | inputs: [{ richInput }] } or { cartItems }',
        },
        400: { description: 'an empty or too long list (LIMIT_EXCEEDED), or more than one list' },
        404: { description: 'NOT_FOUND: the cart' },
      },
    },
    async (req) => {
      const body = fieldsOf(req.body, ['batchRequests', 'inputs', 'cartItems', 'effectiveAccountId']);
      const ctx = await contextOf(req.caller, req.params, req.query, body);
      return addCartItems(engine, ctx, req.params.cartStateOrId, body);
    },
  );

  route(
    {
      method: 'PATCH',
      url: `${BASE}/:cartStateOrId/cart-items/:cartItemId`,
      summary: 'Update a cart item (Connect): quantity, delivery group (v59+); then recalculate',
      auth: true,
      schema: { params: ItemParams, querystring: AccountQuery, body: Body },
      responses: {
        200: { description: 'Cart Item (recalculated)' },
        400: { description: 'a bad quantity or cartDeliveryGroupId, or a cart that can not be changed' },
        404: { description: 'NOT_FOUND: the cart or the item' },
        409: { description: 'v63+: CHECKOUT_CONFLICT while a step of the cart’s checkout runs' },
      },
    },
    async (req) => {
      const body = fieldsOf(req.body, ['quantity', 'cartDeliveryGroupId', 'effectiveAccountId']);
      const ctx = await contextOf(req.caller, req.params, req.query, body);
      return (await updateCartItem(engine, ctx, req.params.cartStateOrId, req.params.cartItemId, body)).item;
    },
  );

  route(
    {
      method: 'DELETE',
      url: `${BASE}/:cartStateOrId/cart-items/:cartItemId`,
      summary: 'Delete a cart item (Connect), then recalculate',
      auth: true,
      schema: { params: ItemParams, querystring: AccountQuery },
      responses: {
        204: { description: 'Deleted' },
        400: { description: 'MALFORMED_ID, or a cart that can not be changed' },
        404: { description: 'NOT_FOUND: the cart or the item' },
        409: { description: 'v63+: CHECKOUT_CONFLICT while a step of the cart’s checkout runs' },
      },
    },
    async (req, reply) => {
      const ctx = await contextOf(req.caller, req.params, req.query);
      await deleteCartItem(engine, ctx, req.params.cartStateOrId, req.params.cartItemId);
      return reply.code(204).send();
    },
  );

  route(
    {
      method: 'POST',
      url: `${BASE}/:cartStateOrId/actions/calculate`,
      summary: 'Recalculate a cart (Connect, v62+): the Cart Calculate orchestrator with recalculationRequested',
      auth: true,
      schema: { params: CartParams, querystring: AccountQuery, body: OptionalBody },
      responses: {
        200: { description: 'Cart Summary after the calculation (asyncOperationStatus Completed or Errored)' },
        202: { description: 'A checkout step calculates the cart already: Location and Retry-After to poll' },
        400: { description: 'MALFORMED_ID: cartStateOrId' },
        404: { description: 'NOT_FOUND: the cart, or a version before v62' },
        409: { description: 'CART_NOT_CALCULABLE: a cart neither Active nor in Checkout' },
      },
    },
    async (req, reply) => {
      const body = fieldsOf(req.body, ['effectiveAccountId']);
      const ctx = await contextOf(req.caller, req.params, req.query, body);
      if (ctx.version < CALCULATE_FROM) {
        throw new EngineError('NOT_FOUND', `actions/calculate is available from v${CALCULATE_FROM}.0.`, ['version']);
      }
      const r = await calculateCartAction(engine, ctx, req.params.cartStateOrId);
      return r.processing ? accepted(reply, ctx, r.summary) : reply.code(200).send(r.summary);
    },
  );
};
