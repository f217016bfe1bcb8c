/**
 * The route groups, in registration order. Each is an encapsulated Fastify plugin registered with
 * the route context (src/http/routing.ts); what every group shares — the auth hook, the error and
 * not-found handlers, security headers, the request log — is registered on the root app before
 * them (src/http/server.ts). The order is the order of the OpenAPI document's paths and of a 405's
 * Allow header, so a new group goes after the existing ones.
 *
 * The `flows` group (Flow interviews, routes/flows.ts) comes after `pageRoutes`: its routes get the
 * token check, Salesforce's error bodies and an OpenAPI entry from `table.on(app)` like every other route.
 *
 * The `soap` group (routes/soap.ts) is the SOAP Partner API login: its own text/xml body parser
 * and SOAP fault answers, encapsulated in the group.
 */
import type { RouteGroup } from '../routing.js';
import { actionRoutes } from './actions.js';
import { authRoutes } from './auth.js';
import { connectCartRoutes } from './connect-carts.js';
import { connectCatalogRoutes } from './connect-catalog.js';
import { connectCheckoutRoutes } from './connect-checkouts.js';
import { flowRoutes } from './flows.js';
import { pageRoutes } from './page.js';
import { productImageRoutes } from './product-images.js';
import { queryRoutes } from './query.js';
import { sObjectRoutes } from './sobjects.js';
import { soapRoutes } from './soap.js';
import { versionRoutes } from './versions.js';

export const ROUTE_GROUPS: readonly RouteGroup[] = [
  authRoutes,
  versionRoutes,
  actionRoutes,
  sObjectRoutes,
  queryRoutes,
  pageRoutes,
  flowRoutes,
  soapRoutes,
  connectCatalogRoutes,
  connectCartRoutes,
  connectCheckoutRoutes,
  productImageRoutes,
];

export { openApiRoutes } from './openapi.js';
