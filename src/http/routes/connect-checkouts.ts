/**
 * The Commerce Connect Checkout API routes (src/connect/checkouts.ts, payments.ts, orders.ts): under
 * `/services/data/vXX.X/commerce/webstores/{webstoreId}/`, from API version 55.0 (PUT checkouts from
 * 57.0, orders/actions from 64.0; an older version answers 404 NOT_FOUND like a resource the version
 * doesn't have). Every route resolves the store and the buyer account first (resolveStoreContext).
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import { EngineError } from '../../errors.js';
import { resolveStoreContext, type StoreContext } from '../../connect/context.js';
import {
  cancelCheckout,
  checkoutOutput,
  resolveCheckout,
  resolveCheckoutContext,
  startCheckout,
  updateCheckout,
  type Arrival,
  type CheckoutContext,
} from '../../connect/checkouts.js';
import { checkoutPayment, tokenizeCard } from '../../connect/payments.js';
import { orderActions, placeOrder, resumePlacements } from '../../connect/orders.js';
import type { Caller } from '../../engine/facts.js';
import type { CheckoutEngine } from '../../engine/engine.js';
import { apiVersion, VersionParams, type RouteGroup } from '../routing.js';
import { acceptEmptyJsonBody } from './connect-body.js';

const BASE = '/services/data/:version/commerce/webstores/:webstoreId';
const StoreParams = VersionParams.extend({ webstoreId: z.string().describe('WebStore id (0ZE…)') });
const CheckoutParams = StoreParams.extend({ checkoutId: z.string().describe("CartCheckoutSession id (2z9…) or 'active'") });
const Query = z.object({ effectiveAccountId: z.string().optional().describe('Buyer account the call acts for') }).passthrough();
const Body = z.unknown();
/** Documented error answers shared by the routes (OpenAPI). */
const BAD_INPUT = {
  400: { description: 'INVALID_INPUT, INVALID_FIELD, REQUIRED_FIELD_MISSING, INVALID_OPERATION or MALFORMED_ID, naming the field' },
} as const;
const NO_CHECKOUT = {
  404: { description: "NOT_FOUND: a store, account or checkout the caller can't use, or that doesn't exist" },
} as const;

/**
 * The request's API version, refused below `since` as a resource that version doesn't have, and the
 * account it names (`effectiveAccountId` of the query, else of the body).
 */
function versionAndAccount(
  params: { version: string },
  query: { effectiveAccountId?: string },
  body: unknown,
  since: number,
  what: string,
): { version: string; account: unknown } {
  const version = apiVersion(params.version);
  if (Number.parseInt(version, 10) < since) {
    throw new EngineError('NOT_FOUND', `${what} is available from API version ${since}.0 (this request uses v${version}).`, ['version']);
  }
  const fromBody =
    body && typeof body === 'object' && !Array.isArray(body) ? (body as { effectiveAccountId?: unknown }).effectiveAccountId : undefined;
  return { version, account: query.effectiveAccountId ?? fromBody };
}

/** The request's store context, refusing a version below `since` as a resource that version doesn't have. */
async function contextOf(
  engine: CheckoutEngine,
  caller: Caller,
  params: { version: string; webstoreId: string },
  query: { effectiveAccountId?: string },
  body: unknown,
  since: number,
  what: string,
): Promise<StoreContext> {
  const { version, account } = versionAndAccount(params, query, body, since, what);
  return resolveStoreContext(engine, caller, params.webstoreId, account, version);
}

/**
 * `contextOf` for a route on a checkout named in the path: the store context and, in the usual
 * case, the checkout with it in one read (resolveCheckoutContext); the same refusals in the same order.
 */
async function checkoutContextOf(
  engine: CheckoutEngine,
  caller: Caller,
  params: { version: string; webstoreId: string; checkoutId: string },
  query: { effectiveAccountId?: string },
  body: unknown,
  since: number,
  what: string,
): Promise<CheckoutContext> {
  const { version, account } = versionAndAccount(params, query, body, since, what);
  return resolveCheckoutContext(engine, caller, params.webstoreId, account, version, params.checkoutId);
}

/** When the request arrived: Fastify's clock of the request (see `Arrival`). */
const arrivalOf = (reply: FastifyReply): Arrival => ({ at: performance.now() - reply.elapsedTime, wall: Date.now() - reply.elapsedTime });

/** Runs `work` with the request's arrival. */
async function arriving<T>(reply: FastifyReply, work: (arrival: Arrival) => Promise<T>): Promise<T> {
  return work(arrivalOf(reply));
}

const checkoutUrl = (version: string, webstoreId: string, id: string) =>
  `/services/data/v${version}/commerce/webstores/${webstoreId}/checkouts/${id}`;

export const connectCheckoutRoutes: RouteGroup = async (app, { engine, table }) => {
  acceptEmptyJsonBody(app);
  const route = table.on(app);
  // Orders placed before a crash or restart go on (src/connect/orders.ts).
  app.addHook('onReady', async () => {
    await resumePlacements(engine).catch((e: unknown) => engine.core.onInternalError(e));
  });

  const start = async (
    req: { caller: Caller; params: z.infer<typeof StoreParams>; query: z.infer<typeof Query>; body: unknown },
    reply: FastifyReply,
    since: number,
  ) => {
    const ctx = await contextOf(engine, req.caller, req.params, req.query, req.body, since, `${since === 57 ? 'PUT' : 'POST'} checkouts`);
    const out = await startCheckout(engine, ctx, req.body);
    return reply
      .code(202)
      .header('location', checkoutUrl(`${ctx.version}.0`, ctx.webstoreId, out.checkoutId))
      .header('retry-after', '1')
      .send(out);
  };
  route(
    {
      method: 'POST',
      url: `${BASE}/checkouts`,
      summary: 'Start a checkout (Commerce Connect, v55.0+): get or create the session, run the calculators',
      auth: true,
      schema: { params: StoreParams, querystring: Query, body: Body },
      responses: {
        202: { description: '{ checkoutId }; poll GET checkouts/{checkoutId}' },
        ...BAD_INPUT,
        404: { description: 'No such cart or store for this account' },
        409: { description: 'CHECKOUT_CONFLICT: the cart is in a checkout a flow started, or a call is in progress' },
      },
    },
    (req, reply) => start(req, reply, 55),
  );
  route(
    {
      method: 'PUT',
      url: `${BASE}/checkouts`,
      summary: 'Start a checkout (Commerce Connect, v57.0+), as POST',
      auth: true,
      schema: { params: StoreParams, querystring: Query, body: Body },
      responses: {
        202: { description: '{ checkoutId }' },
        ...BAD_INPUT,
        404: { description: 'Before v57.0, or no such cart' },
        409: { description: 'CHECKOUT_CONFLICT' },
      },
    },
    (req, reply) => start(req, reply, 57),
  );
  route(
    {
      method: 'GET',
      url: `${BASE}/checkouts/:checkoutId`,
      summary: 'A checkout (Commerce Connect): 202 while calculators run, 200 when done, 422 when one failed',
      auth: true,
      schema: { params: CheckoutParams, querystring: Query },
      responses: {
        200: { description: 'Checkout' },
        202: { description: 'Checkout, calculators running' },
        ...BAD_INPUT,
        ...NO_CHECKOUT,
        422: { description: 'Checkout with errors' },
      },
    },
    async (req, reply) => {
      const arrival = arrivalOf(reply);
      const { ctx, ref: known } = await checkoutContextOf(engine, req.caller, req.params, req.query, undefined, 55, 'GET checkouts');
      const ref = known ?? (await resolveCheckout(engine, ctx, req.params.checkoutId));
      const out = await checkoutOutput(engine, ctx, ref, arrival);
      return reply.code(out.status).send(out.body);
    },
  );
  route(
    {
      method: 'PATCH',
      url: `${BASE}/checkouts/:checkoutId`,
      summary: 'Update a checkout (Commerce Connect): contact info, delivery address, delivery method, date, instructions',
      auth: true,
      schema: { params: CheckoutParams, querystring: Query, body: Body },
      responses: {
        202: { description: 'Checkout; poll until 200' },
        ...BAD_INPUT,
        ...NO_CHECKOUT,
        409: { description: 'CHECKOUT_CONFLICT: a call is in progress' },
      },
    },
    async (req, reply) => {
      const ref = await arriving(reply, async (arrival) => {
        const { ctx, ref } = await checkoutContextOf(engine, req.caller, req.params, req.query, req.body, 55, 'PATCH checkouts');
        return { ctx, ref: await updateCheckout(engine, ctx, req.params.checkoutId, req.body, arrival, ref) };
      });
      const ctx = ref.ctx;
      const out = await checkoutOutput(engine, ctx, ref.ref);
      return reply
        .code(out.status === 422 ? 422 : 202)
        .send({ ...out.body, ...(ctx.version >= 57 ? { statusCode: out.status === 422 ? '422' : '202' } : {}) });
    },
  );
  route(
    {
      method: 'DELETE',
      url: `${BASE}/checkouts/:checkoutId`,
      summary: 'Cancel a checkout (Commerce Connect)',
      auth: true,
      schema: { params: CheckoutParams, querystring: Query },
      responses: { 204: { description: 'Canceled' }, ...BAD_INPUT, ...NO_CHECKOUT, 409: { description: 'CHECKOUT_CONFLICT' } },
    },
    async (req, reply) => {
      await arriving(reply, async (arrival) => {
        const { ctx, ref } = await checkoutContextOf(engine, req.caller, req.params, req.query, undefined, 55, 'DELETE checkouts');
        await cancelCheckout(engine, ctx, req.params.checkoutId, arrival, ref);
      });
      return reply.code(204).send();
    },
  );
  route(
    {
      method: 'POST',
      url: `${BASE}/payments/token`,
      summary: "Tokenize a card through the store's payment gateway (Commerce Connect)",
      auth: true,
      schema: { params: StoreParams, querystring: Query, body: Body },
      responses: {
        201: { description: '{ token }' },
        400: { description: 'A card field is invalid (named in fields)' },
        404: { description: "NOT_FOUND: a store or account the caller can't use" },
      },
    },
    async (req, reply) => {
      const ctx = await contextOf(engine, req.caller, req.params, req.query, req.body, 55, 'payments/token');
      return reply.code(201).send(await tokenizeCard(engine, ctx, req.body));
    },
  );
  route(
    {
      method: 'POST',
      url: `${BASE}/checkouts/:checkoutId/payments`,
      summary: 'Pay a checkout (Commerce Connect): Auth, PostAuth, SimplePurchaseOrder, ClientRequest',
      auth: true,
      schema: { params: CheckoutParams, querystring: Query, body: Body },
      responses: {
        201: { description: 'Checkout Payment { errors, paymentData, salesforceResultCode }' },
        ...BAD_INPUT,
        ...NO_CHECKOUT,
        409: { description: 'CHECKOUT_CONFLICT: a call is in progress' },
      },
    },
    async (req, reply) => {
      const out = await arriving(reply, async (arrival) => {
        const { ctx, ref } = await checkoutContextOf(engine, req.caller, req.params, req.query, req.body, 55, 'checkouts/{id}/payments');
        return checkoutPayment(engine, ctx, req.params.checkoutId, req.body, arrival, ref);
      });
      return reply.code(201).send(out);
    },
  );
  route(
    {
      method: 'POST',
      url: `${BASE}/checkouts/:checkoutId/orders`,
      summary: 'Place the order (Commerce Connect): 201 with the order reference number; the order is created in the background',
      auth: true,
      schema: { params: CheckoutParams, querystring: Query, body: Body },
      responses: {
        201: { description: 'Checkout Order { orderReferenceNumber }' },
        ...BAD_INPUT,
        ...NO_CHECKOUT,
        409: { description: 'The cart changed after the payment' },
        412: { description: 'v63+: contact info incomplete, or the reserved stock no longer held (inventory reservation)' },
        422: { description: 'No delivery method, no authorized payment' },
      },
    },
    async (req, reply) => {
      const out = await arriving(reply, async (arrival) => {
        const { ctx, ref } = await checkoutContextOf(engine, req.caller, req.params, req.query, req.body, 55, 'checkouts/{id}/orders');
        return placeOrder(engine, ctx, req.params.checkoutId, arrival, ref);
      });
      return reply.code(201).send({ ...out, errors: [] });
    },
  );
  route(
    {
      method: 'POST',
      url: `${BASE}/checkouts/:checkoutId/orders/actions`,
      summary: 'Streamlined place order (Commerce Connect, v64.0+): prepare, submit',
      auth: true,
      schema: { params: CheckoutParams, querystring: Query, body: Body },
      responses: {
        200: { description: 'The action result' },
        ...BAD_INPUT,
        404: { description: 'Before v64.0, or no such checkout' },
        422: { description: 'The action failed' },
      },
    },
    async (req, reply) => {
      const out = await arriving(reply, async (arrival) => {
        const { ctx, ref } = await checkoutContextOf(
          engine,
          req.caller,
          req.params,
          req.query,
          req.body,
          64,
          'checkouts/{id}/orders/actions',
        );
        return orderActions(engine, ctx, req.params.checkoutId, req.body, arrival, ref);
      });
      return reply.code(200).send(out);
    },
  );
};
