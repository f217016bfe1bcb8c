/**
 * What the route groups (src/http/routes/*) share: the route table every route is entered in —
 * the OpenAPI document's routes, the public (token-free) ones the auth hook lets through, and the
 * path patterns that tell a wrong method (405) from an unknown path (404) — the typed `route`
 * helper that enters a route there and registers it with Fastify (zod schemas, inferred request
 * types), the API version segment, and the context a route group is registered with.
 */
import type {
  FastifyBaseLogger,
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
  ContextConfigDefault,
} from 'fastify';
import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CheckoutEngine } from '../engine/engine.js';
import type { ThrottleLimits } from '../engine/login-throttle.js';
import { EngineError } from '../errors.js';
import { API_VERSIONS, LATEST_VERSION, type RouteDoc } from './describe.js';
import type { StreamLimits } from './streams.js';

/** A Fastify instance with the zod type provider (what a route group plugin receives). */
export type ZodApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** The zod schemas of a route's path parameters, query string and body. */
export interface RouteSchema {
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
}

/** A route: its OpenAPI entry, whether it needs a token, and its schemas. */
export interface RouteSpec<S extends RouteSchema> extends Omit<RouteDoc, 'params' | 'querystring' | 'body'> {
  schema?: S;
  /** Left out of the OpenAPI document (documented per object or per action there instead, or not an API route). */
  hidden?: boolean;
  /** The route's own error handler (the OAuth2 endpoints answer in OAuth's shape). */
  errorHandler?: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => void;
}

/** A handler whose request is typed by the route's zod schemas. */
export type RouteHandler<S extends RouteSchema> = RouteHandlerMethod<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  RouteGenericInterface,
  ContextConfigDefault,
  S,
  ZodTypeProvider,
  FastifyBaseLogger
>;

/** A route pattern (`/a/:b/c`) as a regular expression over paths, to tell a wrong method (405) from an unknown path (404). */
function patternOf(url: string): RegExp {
  const parts = url.split('/').map((p) => (p.startsWith(':') ? '[^/]+' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('/')}/?$`);
}

/** Every route of the app, in registration order (the OpenAPI document lists them in this order). */
export class RouteTable {
  /** The routes the OpenAPI document lists. */
  readonly documented: RouteDoc[] = [];
  /** Public URL patterns by method. */
  private readonly publicRoutes = new Map<string, Set<string>>();
  private readonly patterns: { method: string; re: RegExp }[] = [];

  /** Enters a route in the table and registers it on `app` (a route group's instance). */
  route<S extends RouteSchema>(app: ZodApp, spec: RouteSpec<S>, handler: RouteHandler<S>): void {
    const { schema, hidden, errorHandler, ...doc } = spec;
    if (!hidden) this.documented.push({ ...doc, params: schema?.params, querystring: schema?.querystring, body: schema?.body });
    if (!spec.auth) {
      let urls = this.publicRoutes.get(spec.method);
      if (!urls) this.publicRoutes.set(spec.method, (urls = new Set()));
      urls.add(spec.url);
    }
    this.patterns.push({ method: spec.method, re: patternOf(spec.url) });
    app.route<RouteGenericInterface, ContextConfigDefault, S>({ method: spec.method, url: spec.url, schema, errorHandler, handler });
  }

  /** `route` on a route group's instance: `const route = table.on(app)`. */
  on(app: ZodApp): <S extends RouteSchema>(spec: RouteSpec<S>, handler: RouteHandler<S>) => void {
    return (spec, handler) => this.route(app, spec, handler);
  }

  /** Whether `METHOD url-pattern` is served without a token. */
  isPublic(method: string, url: string): boolean {
    return this.publicRoutes.get(method)?.has(url) ?? false;
  }

  /** The methods some route takes on a concrete path, in registration order (with repeats removed). */
  methodsOf(path: string): string[] {
    return [...new Set(this.patterns.filter((p) => p.re.test(path)).map((p) => p.method))];
  }
}

/** What every route group is registered with. */
export interface RouteContext {
  engine: CheckoutEngine;
  table: RouteTable;
  /** The public base URL of a request: configured, else where startServer listens, else the connection's local address — never the Host header. */
  baseUrl: (req: FastifyRequest) => string;
  /** The token endpoint's lifetime, throttles and signature key (routes/auth.ts). */
  login: { ttlSeconds: number; limits: ThrottleLimits; signatureSecret?: string };
  /** Caps of the statechart page's event streams (routes/page.ts). */
  streams?: StreamLimits;
}

/** A route group: a Fastify plugin (encapsulated) registered with the route context. */
export type RouteGroup = FastifyPluginAsyncZod<RouteContext>;

/** The `:version` path parameter. */
export const VersionParams = z.object({ version: z.string().describe('API version, e.g. v62.0 (50.0 and later)') });

/** The version of each segment `apiVersion` has accepted (only vNN.0 / vNNN.0 segments: a few hundred at most). */
const servedVersions = new Map<string, string>();

/**
 * The version segment `vNN.0` for any version from 50.0 on (spec §5: "accepted for 50.0 and
 * later", so a client newer than the listed versions still works), `latest` for the newest listed
 * one, or NOT_FOUND naming it.
 */
export function apiVersion(segment: string): string {
  // Every request names its version: the accepted ones are remembered (vNN.0 / vNNN.0 only, so few).
  const known = servedVersions.get(segment);
  if (known !== undefined) return known;
  if (segment === 'latest') return LATEST_VERSION;
  const m = /^v(\d{2,3})\.0$/.exec(segment);
  if (!m || Number(m[1]) < Number.parseInt(API_VERSIONS[0]!, 10)) {
    throw new EngineError(
      'NOT_FOUND',
      `API version '${segment}' isn't served; use v${API_VERSIONS[0]} or later (newest listed: v${LATEST_VERSION}).`,
      ['version'],
    );
  }
  const version = `${Number(m[1])}.0`;
  servedVersions.set(segment, version);
  return version;
}
