/**
 * The HTTP edge: a Fastify 5 server that speaks Salesforce REST so an unchanged Salesforce client
 * (jsforce, simple-salesforce, Workbench-style curl) can drive checkouts. It parses and validates
 * (zod), authenticates the bearer token, throttles logins, calls the engine, and maps every failure
 * — its own and the framework's (404, 405, 413, 415, 431, malformed JSON or URL) — through the one
 * error table into `[{ message, errorCode, fields }]`. It never touches storage: tokens live in the
 * engine's database, so any number of processes on one database accept each other's tokens.
 *
 * @example
 *   const engine = await createCheckoutEngine({ storage: './checkout.db' });
 *   const server = await startServer(engine, { port: 3000 });
 *   // … later: await server.close(); (finishes in-flight requests, then the engine's running operations)
 */
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { CheckoutEngine } from '../engine/engine.js';
import { authHook } from './auth-hook.js';
import { addSecurityHeaders } from './headers.js';
import { listenUrl, localUrl, parsePublicUrl } from './public-url.js';
import { logRequest, redactUrl } from './request-log.js';
import { answerClientError, restErrors, sendError, toRestError } from './rest-errors.js';
import { RouteTable, type RouteContext } from './routing.js';
import { openApiRoutes, ROUTE_GROUPS } from './routes/index.js';
import { resolveLoginLimits, type LoginLimits } from './routes/auth.js';
import type { StreamLimits } from './streams.js';

export { redactUrl } from './request-log.js';
export { toRestError } from './rest-errors.js';
export { DEFAULT_LOGIN_LIMITS, type LoginLimit, type LoginLimits } from './routes/auth.js';

/** Options of `buildServer` / `startServer`. */
export interface ServerOptions {
  /** Token lifetime in seconds (default 7200, Salesforce's default session timeout of 2 hours). */
  tokenTtlSeconds?: number;
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Login throttles per username and per client address. */
  loginLimits?: LoginLimits;
  /** Take the client address from X-Forwarded-For (behind a load balancer or proxy you trust). Default false. */
  trustProxy?: boolean;
  /** Key of the token response's `signature` (default: the install's key, created once and kept in the database). */
  signatureSecret?: string;
  /** Structured (JSON) logs: false for none, or a level and a destination stream (default: info to stdout). */
  log?: false | { level?: string; stream?: NodeJS.WritableStream };
  /**
   * The externally visible base URL written into `instance_url`, `id`, identity URLs and OpenAPI
   * `servers` (default: the address `startServer` listens on). Never taken from the Host header.
   */
  publicUrl?: string;
  /** Caps of the statechart page's event streams (per user, in total) and their re-check period (see docs/http-security.md). */
  streams?: StreamLimits;
}

/** Where `startServer` listens. */
export interface ListenOptions extends ServerOptions {
  port?: number;
  host?: string;
}

/** A listening server. */
export interface RunningServer {
  app: FastifyInstance;
  url: string;
  /** Stops accepting, finishes in-flight requests, then closes the engine (running operations finish; queued ones resume on the next start). */
  close(): Promise<void>;
}

/** The listen URL `startServer` found, per app: the public URL when none is configured. */
const listenUrls = new WeakMap<object, string>();

/** The apps `startServer` is closing (their responses end their keep-alive connections). */
const closingApps = new WeakSet<object>();

/** Builds the Fastify app for an engine (not listening). */
export function buildServer(engine: CheckoutEngine, opts: ServerOptions = {}): { app: FastifyInstance } {
  const ttlSeconds = opts.tokenTtlSeconds ?? 7200;
  if (!(ttlSeconds > 0)) throw new Error('The token lifetime must be a positive number of seconds.');
  const limits = resolveLoginLimits(opts.loginLimits);
  const log = opts.log;
  const publicUrl = opts.publicUrl === undefined ? undefined : parsePublicUrl(opts.publicUrl);
  const app = Fastify({
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    trustProxy: opts.trustProxy ?? false,
    routerOptions: { ignoreTrailingSlash: true },
    clientErrorHandler: answerClientError,
    // Fastify's own answers (bad URL escapes, over-long path parameters) go through the error table too.
    frameworkErrors: (err, _req, reply) => {
      sendError(reply, toRestError(err));
    },
    logger:
      log === false
        ? false
        : {
            level: log?.level ?? 'info',
            ...(log?.stream ? { stream: log.stream } : {}),
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[REDACTED]' },
            serializers: {
              req: (req: { method: string; url: string; ip?: string }) => ({
                method: req.method,
                url: redactUrl(req.url),
                remoteAddress: req.ip,
              }),
            },
          },
    // While closing, new requests get ENGINE_CLOSED from the auth hook (Salesforce's shape), not Fastify's body.
    return503OnClosing: false,
    // One line per request instead (src/http/request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Bodies are JSON (and form-encoded for OAuth clients); plain text is refused with 415, as Salesforce does.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });

  const table = new RouteTable();
  const ctx: RouteContext = {
    engine,
    table,
    // Configured, else where startServer listens, else the connection's local address: never the Host header.
    baseUrl: (req: FastifyRequest) => publicUrl ?? listenUrls.get(app) ?? localUrl(req),
    login: { ttlSeconds, limits, signatureSecret: opts.signatureSecret },
    streams: opts.streams,
  };
  // Shared by every route group (added on the root app before the groups, so all their routes get
  // them): one onSend and one onResponse hook, each doing all of its per-response work —
  // callback hooks, since an async one costs a promise and a microtask turn per request, and each
  // hook more costs its own turn through Fastify's hook runner.
  // onSend: the security headers; while startServer closes the app, `connection: close`.
  app.addHook('onSend', (req, reply, payload, done) => {
    addSecurityHeaders(req, reply);
    if (closingApps.has(app)) reply.header('connection', 'close');
    done(null, payload);
  });
  // onResponse: the request log line (none without a logger, `log: false`: its lines would all be
  // dropped); while closing, the connections left idle are closed so they don't hold the shutdown open.
  const logging = log !== false;
  app.addHook('onResponse', (req, reply, done) => {
    if (logging) logRequest(req, reply);
    if (closingApps.has(app)) app.server.closeIdleConnections();
    done();
  });
  // Then the auth hook and the error bodies (not encapsulated either).
  app.register(authHook, { engine, table });
  app.register(restErrors, { table });
  // The route groups (encapsulated), then the OpenAPI document of them all.
  for (const group of ROUTE_GROUPS) app.register(group, ctx);
  app.register(openApiRoutes, ctx);
  return { app };
}

/** Builds the server, listens, and returns it with a `close()` that shuts down gracefully. */
export async function startServer(engine: CheckoutEngine, opts: ListenOptions = {}): Promise<RunningServer> {
  const { app } = buildServer(engine, opts);
  let closing: Promise<void> | undefined;
  const address = await app.listen({ port: opts.port ?? 3000, host: opts.host ?? '127.0.0.1' });
  listenUrls.set(app, listenUrl(address));
  const url = opts.publicUrl === undefined ? listenUrl(address) : parsePublicUrl(opts.publicUrl);
  return {
    app,
    url,
    close: () =>
      (closing ??= (async () => {
        // From now on a response that finishes an in-flight request also ends its keep-alive
        // connection (buildServer's hooks); otherwise the client's idle socket would hold the shutdown open.
        closingApps.add(app);
        await app.close();
        await engine.close();
      })()),
  };
}
