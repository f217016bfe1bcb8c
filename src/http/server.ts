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
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { PRELOADED_CALLER, type CallOptions, type CheckoutEngine } from '../engine/engine.js';
import { EngineError, toEngineError } from '../errors.js';
import { findObject } from '../domain/objects.js';
import { requireAction } from '../actions/index.js';
import { API_VERSIONS, describeAction, describeGlobal, describeObject, describeObjectBasic, LATEST_VERSION, listActions, openApiDocument, releaseName, type RouteDoc } from './describe.js';
import { ORG_ID } from '../engine/tokens.js';
import { DEFAULT_THROTTLE_LIMITS } from '../engine/login-throttle.js';
import { listenUrl, localUrl, parsePublicUrl } from './public-url.js';

/** One login throttle: at most `max` attempts per `windowSeconds`. */
export interface LoginLimit {
  max: number;
  windowSeconds: number;
}

/** Login throttles of the token endpoint, counted in the database by every process on it (see docs/http-security.md). */
export interface LoginLimits {
  /**
   * Failed logins per username (normalized) before the username is refused for the rest of the
   * window (default 10 per 900 s: Salesforce's default lockout) — except from an address that
   * signed in as it before, which may go on until it failed as often itself.
   */
  perUsername?: Partial<LoginLimit>;
  /** Login attempts per client address, failed or not (default 100 per 60 s). */
  perAddress?: Partial<LoginLimit>;
  /** How long a successful sign-in keeps its address known for the username (default 30 days). */
  knownAddressSeconds?: number;
}

/** The default login throttles. */
export const DEFAULT_LOGIN_LIMITS: Readonly<Record<'perUsername' | 'perAddress', LoginLimit>> = {
  perUsername: DEFAULT_THROTTLE_LIMITS.perUsername,
  perAddress: DEFAULT_THROTTLE_LIMITS.perAddress,
};
import { registerPage } from './page.js';
import { registerSecurityHeaders } from './headers.js';
import { registerRequestLog } from './request-log.js';
import type { StreamLimits } from './streams.js';

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

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated Salesforce user id. */
    userId: string;
    /** The call options of the authenticated user (with the user as loaded at authentication). */
    as: CallOptions;
  }
}

// Keys whose values never reach a log line, wherever they appear in a URL.
const SECRET_PARAM = /([?&](?:password|client_secret|access_token|refresh_token|code|token|oauth_token)=)[^&]*/gi;

/** The request URL with secret-bearing query values replaced, for logs. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAM, '$1[REDACTED]');
}

const VersionParams = z.object({ version: z.string().describe('API version, e.g. v62.0 (50.0 and later)') });
const TypeParams = VersionParams.extend({ type: z.string().min(1).describe('sObject API name') });
const RecordParams = TypeParams.extend({ id: z.string().describe('Record id (15 or 18 characters)') });
const ActionParams = VersionParams.extend({ action: z.string().min(1) });
const InvokeBody = z.strictObject({ inputs: z.array(z.unknown()) });
const RevokeBody = z.object({ token: z.string().optional() }).catchall(z.unknown()).nullish();
const RecordBody = z.record(z.string(), z.unknown());
const FieldsQuery = z.object({ fields: z.string().optional().describe('Comma-separated field names to return') });
const QueryQuery = z.object({ q: z.string().optional().describe('SOQL: SELECT fields FROM object [WHERE … AND …] [ORDER BY …] [LIMIT n]') });
const TokenBody = z
  .object({
    grant_type: z.string().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
  })
  .catchall(z.unknown())
  // Salesforce also takes the parameters in the URL, with no body at all.
  .nullish();
const IdentityParams = z.object({ org: z.string(), user: z.string() });

/**
 * The version segment `vNN.0` for any version from 50.0 on (spec §5: "accepted for 50.0 and
 * later", so a client newer than the listed versions still works), `latest` for the newest listed
 * one, or NOT_FOUND naming it.
 */
function apiVersion(segment: string): string {
  if (segment === 'latest') return LATEST_VERSION;
  const m = /^v(\d{2,3})\.0$/.exec(segment);
  if (!m || Number(m[1]) < Number.parseInt(API_VERSIONS[0]!, 10)) {
    throw new EngineError('NOT_FOUND', `API version '${segment}' isn't served; use v${API_VERSIONS[0]} or later (newest listed: v${LATEST_VERSION}).`, ['version']);
  }
  return `${Number(m[1])}.0`;
}

/** The object behind a `/sobjects/{Type}` URL; an unknown one is a missing resource (404), as in Salesforce. */
function sobjectType(name: string) {
  const object = findObject(name);
  if (!object) throw new EngineError('NOT_FOUND', `No sObject type '${name}' (see GET /sobjects for the supported ones).`, ['type']);
  return object;
}

/** Turns anything a route threw (engine, Fastify parsing, zod validation) into a table error. */
export function toRestError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const v = err.validation[0]!;
    const where = (err as { validationContext?: string }).validationContext ?? 'body';
    const keys = (v.params as { keys?: string[] })?.keys;
    const path = v.instancePath.split('/').filter(Boolean).join('.');
    const fields = keys?.length ? keys : path ? [path] : [];
    const name = fields.length ? `'${fields.join("', '")}'` : 'the request ' + where;
    if (keys?.length) return new EngineError('INVALID_FIELD', `Unknown ${where} field ${name}.`, fields);
    if (where === 'body' && path === '') return new EngineError('INVALID_INPUT', `The request body must be a JSON object: ${v.message}.`, fields);
    return new EngineError('INVALID_INPUT', `${where} ${name}: ${v.message}.`, fields);
  }
  const fe = err as Partial<FastifyError>;
  if (fe.statusCode === 413 || fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new EngineError('BODY_TOO_LARGE', fe.message ? `${fe.message}.` : undefined);
  if (fe.statusCode === 415 || fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new EngineError('UNSUPPORTED_MEDIA_TYPE');
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new EngineError('JSON_PARSER_ERROR', 'The body is empty.');
  // Fastify marks its JSON parse failures 400; a SyntaxError without it would be our own bug (500).
  if ((err instanceof SyntaxError && fe.statusCode === 400) || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return new EngineError('JSON_PARSER_ERROR', err instanceof Error ? err.message : undefined);
  if (fe.code === 'FST_ERR_BAD_URL' || fe.code === 'FST_ERR_MAX_PARAM_LENGTH') return new EngineError('BAD_HTTP_REQUEST', fe.message ? `${fe.message}.` : undefined, ['url']);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new EngineError('INVALID_INPUT', fe.message);
  return toEngineError(err);
}

/**
 * Answers an error Node's HTTP parser raises before Fastify sees a request (headers too large,
 * a timeout, a malformed request line) in Salesforce's shape, then closes the connection.
 */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new EngineError('HEADERS_TOO_LARGE')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new EngineError('REQUEST_TIMEOUT')
        : new EngineError('BAD_HTTP_REQUEST');
  const body = JSON.stringify([e.toRest()]);
  if (socket.writable) {
    const reason = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[e.status] ?? 'Error';
    socket.write(`HTTP/1.1 ${e.status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/** A route pattern (`/a/:b/c`) as a regular expression over paths, to tell a wrong method (405) from an unknown path (404). */
function patternOf(url: string): RegExp {
  const parts = url.split('/').map((p) => (p.startsWith(':') ? '[^/]+' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('/')}/?$`);
}

function sendError(reply: FastifyReply, e: EngineError): FastifyReply {
  return reply.code(e.status).type('application/json').send([e.toRest()]);
}

/** OAuth2 errors use OAuth's body shape, which Salesforce clients parse on the token endpoint. */
function sendOAuthError(reply: FastifyReply, e: EngineError): FastifyReply {
  return reply.code(e.status).send({ error: e.code, error_description: e.message });
}

/** The listen URL `startServer` found, per app: the public URL when none is configured. */
const listenUrls = new WeakMap<object, string>();

/** Builds the Fastify app for an engine (not listening). */
export function buildServer(engine: CheckoutEngine, opts: ServerOptions = {}): { app: FastifyInstance } {
  const ttlSeconds = opts.tokenTtlSeconds ?? 7200;
  if (!(ttlSeconds > 0)) throw new Error('The token lifetime must be a positive number of seconds.');
  const limits = {
    perUsername: { ...DEFAULT_LOGIN_LIMITS.perUsername, ...opts.loginLimits?.perUsername },
    perAddress: { ...DEFAULT_LOGIN_LIMITS.perAddress, ...opts.loginLimits?.perAddress },
    knownAddressSeconds: opts.loginLimits?.knownAddressSeconds ?? DEFAULT_THROTTLE_LIMITS.knownAddressSeconds,
  };
  for (const [name, l] of [['perUsername', limits.perUsername], ['perAddress', limits.perAddress]] as const) {
    if (!(Number.isInteger(l.max) && l.max > 0 && l.windowSeconds > 0)) throw new Error(`loginLimits.${name} needs a positive whole max and a positive windowSeconds.`);
  }
  if (!(limits.knownAddressSeconds > 0)) throw new Error('loginLimits.knownAddressSeconds must be a positive number of seconds.');
  const log = opts.log;
  const publicUrl = opts.publicUrl === undefined ? undefined : parsePublicUrl(opts.publicUrl);
  // Configured, else where startServer listens, else the connection's local address: never the Host header.
  const baseUrl = (req: FastifyRequest): string => publicUrl ?? listenUrls.get(app) ?? localUrl(req);
  const app = Fastify({
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    trustProxy: opts.trustProxy ?? false,
    routerOptions: { ignoreTrailingSlash: true },
    clientErrorHandler: answerClientError,
    // Fastify's own answers (bad URL escapes, over-long path parameters) go through the error table too.
    frameworkErrors: (err, _req, reply) => sendError(reply, toRestError(err)),
    logger:
      log === false
        ? false
        : {
            level: log?.level ?? 'info',
            ...(log?.stream ? { stream: log.stream } : {}),
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[REDACTED]' },
            serializers: {
              req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
            },
          },
    // While closing, new requests get ENGINE_CLOSED from the hook below (Salesforce's shape), not Fastify's body.
    return503OnClosing: false,
    // One line per request instead (src/http/request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('userId', '');
  app.decorateRequest('as', null as unknown as CallOptions);
  registerSecurityHeaders(app as unknown as FastifyInstance);
  registerRequestLog(app as unknown as FastifyInstance, redactUrl);
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  // Bodies are JSON (and form-encoded for OAuth clients); plain text is refused with 415, as Salesforce does.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });

  const routes: RouteDoc[] = [];
  const PUBLIC = new Set<string>();
  const patterns: { method: string; re: RegExp }[] = [];
  const route = <P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
    doc: Omit<RouteDoc, 'params' | 'querystring' | 'body'> & { params?: P; querystring?: Q; body?: B; hidden?: boolean },
    handler: (req: FastifyRequest<{ Params: z.infer<P>; Querystring: z.infer<Q>; Body: z.infer<B> }>, reply: FastifyReply) => Promise<unknown>,
  ) => {
    if (!doc.hidden) routes.push(doc);
    if (!doc.auth) PUBLIC.add(`${doc.method} ${doc.url}`);
    patterns.push({ method: doc.method, re: patternOf(doc.url) });
    app.route({
      method: doc.method,
      url: doc.url,
      schema: { ...(doc.params ? { params: doc.params } : {}), ...(doc.querystring ? { querystring: doc.querystring } : {}), ...(doc.body ? { body: doc.body } : {}) },
      handler: handler as never,
    });
  };

  // Authentication runs before parsing, so an unauthenticated caller learns nothing about the body.
  app.addHook('onRequest', async (req, reply) => {
    if (closing) return sendError(reply.header('connection', 'close'), new EngineError('ENGINE_CLOSED'));
    // HEAD is GET without a body: public where GET is.
    const key = `${req.method === 'HEAD' ? 'GET' : req.method} ${req.routeOptions.url ?? ''}`;
    if (PUBLIC.has(key)) return;
    const header = req.headers.authorization ?? '';
    const m = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(header);
    const caller = m ? await engine.authenticateCaller(m[1]!) : null;
    if (!caller) {
      return sendError(reply, new EngineError('INVALID_SESSION', m ? undefined : 'Send the access_token as "Authorization: Bearer <token>".'));
    }
    req.userId = caller.Id;
    // The user this request authenticated as, handed to the engine so it isn't read twice.
    req.as = { userId: caller.Id, [PRELOADED_CALLER]: caller } as CallOptions;
  });

  app.setErrorHandler((err, req, reply) => {
    const e = toRestError(err);
    if (e.status >= 500 && !(err instanceof EngineError)) req.log.error({ err }, 'unexpected error');
    if (req.routeOptions.url === '/services/oauth2/token' || req.routeOptions.url === '/services/oauth2/revoke') return sendOAuthError(reply, e);
    return sendError(reply, e);
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    // A known resource asked with another method is 405 with the methods it takes, as Salesforce answers.
    const allowed = [...new Set(patterns.filter((p) => p.re.test(path)).map((p) => p.method))];
    if (allowed.length) {
      if (allowed.includes('GET')) allowed.push('HEAD');
      reply.header('allow', allowed.join(', '));
      return sendError(reply, new EngineError('METHOD_NOT_ALLOWED', `${req.method} isn't allowed on ${redactUrl(path)}; allowed: ${allowed.join(', ')}.`));
    }
    return sendError(reply, new EngineError('NOT_FOUND', `No resource at ${req.method} ${redactUrl(path)}.`));
  });

  // --- OAuth2 ---------------------------------------------------------------------------------
  /** The identity document of the token's user (Salesforce's identity URL response). */
  const identityOf = async (req: FastifyRequest) => {
    const user = await engine.getRecord('User', req.userId, req.as);
    const base = baseUrl(req);
    const v = LATEST_VERSION;
    const rest = (path: string) => `${base}/services/data/v{version}/${path}`;
    return {
      id: `${base}/id/${ORG_ID}/${req.userId}`,
      asserted_user: true,
      user_id: req.userId,
      organization_id: ORG_ID,
      username: String(user.Username),
      nick_name: String(user.Username).split('@')[0]!,
      display_name: String(user.Name ?? user.Username),
      email: (user.Email as string | null) ?? null,
      email_verified: false,
      active: user.IsActive !== false,
      user_type: 'STANDARD',
      language: 'en_US',
      locale: 'en_US',
      utcOffset: 0,
      last_modified_date: String(user.LastModifiedDate),
      is_app_installed: true,
      urls: {
        rest: rest(''),
        sobjects: rest('sobjects/'),
        query: rest('query/'),
        profile: `${base}/${req.userId}`,
        custom_domain: base,
        latest: `${base}/services/data/v${v}/`,
      },
    };
  };
  route(
    {
      method: 'POST',
      url: '/services/oauth2/token',
      summary: 'OAuth2 username-password grant: returns access_token, instance_url, id, token_type, issued_at',
      auth: false,
      body: TokenBody,
      bodyType: 'application/x-www-form-urlencoded',
      responses: { 200: { description: 'Token' }, 400: { description: '{ error, error_description }' } },
    },
    async (req, reply) => {
      const p = { ...(req.query as Record<string, unknown>), ...(req.body ?? {}) };
      if (p.grant_type !== 'password') return sendOAuthError(reply, new EngineError('OAUTH_UNSUPPORTED_GRANT'));
      for (const k of ['username', 'password'] as const) {
        if (typeof p[k] !== 'string' || !p[k]) return sendOAuthError(reply, new EngineError('OAUTH_INVALID_REQUEST', k));
      }
      // Throttles (kept in the database, shared by every process) before any hash work.
      const attempt = await engine.attemptLogin(p.username, p.password, req.ip, limits);
      if (attempt.outcome === 'refused') {
        const which = attempt.reason === 'address' ? 'too many attempts from this address' : 'too many failed attempts for this username';
        req.log.warn({ event: 'login_throttled', reason: attempt.reason }, 'login throttled');
        reply.header('retry-after', String(attempt.retryAfterSeconds));
        return sendOAuthError(reply, new EngineError('OAUTH_RATE_LIMITED', `${which}; retry after ${attempt.retryAfterSeconds} s.`));
      }
      if (attempt.outcome === 'failure') {
        req.log.info({ event: 'login_failed' }, 'login failed');
        return sendOAuthError(reply, new EngineError('OAUTH_INVALID_GRANT'));
      }
      const userId = attempt.userId;
      const t = await engine.issueToken(userId, ttlSeconds);
      const base = baseUrl(req);
      const id = `${base}/id/${ORG_ID}/${userId}`;
      const issuedAt = String(t.issuedAt.getTime());
      req.log.info({ event: 'login', userId }, 'token issued');
      return reply.send({
        access_token: t.token,
        instance_url: base,
        id,
        token_type: 'Bearer',
        issued_at: issuedAt,
        signature: await engine.signTokenResponse(id, issuedAt, opts.signatureSecret),
      });
    },
  );
  route(
    { method: 'GET', url: '/id/:org/:user', summary: 'Identity URL of the token user', auth: true, params: IdentityParams, responses: { 200: { description: 'Identity' } } },
    async (req) => {
      if (req.params.user !== req.userId && req.params.user.slice(0, 15) !== req.userId.slice(0, 15)) throw new EngineError('NOT_FOUND', 'Only the token user\'s identity is visible.');
      return identityOf(req);
    },
  );
  route(
    {
      method: 'GET',
      url: '/services/oauth2/userinfo',
      summary: "OpenID Connect userinfo of the token's user",
      auth: true,
      responses: { 200: { description: 'sub, user_id, organization_id, preferred_username, name, email, active, urls' } },
    },
    async (req) => {
      const me = await identityOf(req);
      return {
        sub: me.id,
        user_id: me.user_id,
        organization_id: me.organization_id,
        preferred_username: me.username,
        nickname: me.nick_name,
        name: me.display_name,
        email: me.email,
        email_verified: false,
        zoneinfo: 'GMT',
        locale: me.locale,
        language: me.language,
        active: me.active,
        user_type: me.user_type,
        utcOffset: me.utcOffset,
        updated_at: me.last_modified_date,
        is_app_installed: true,
        urls: me.urls,
      };
    },
  );
  const revoke = async (req: FastifyRequest, reply: FastifyReply) => {
    const p = { ...(req.query as Record<string, unknown>), ...((req.body as z.infer<typeof RevokeBody>) ?? {}) };
    if (typeof p.token !== 'string' || !p.token) return sendOAuthError(reply, new EngineError('OAUTH_INVALID_REQUEST', 'token'));
    if (!(await engine.revokeToken(p.token))) return sendOAuthError(reply, new EngineError('OAUTH_INVALID_TOKEN'));
    req.log.info({ event: 'token_revoked' }, 'token revoked');
    return reply.code(200).send();
  };
  // Salesforce also documents GET /services/oauth2/revoke?token=….
  route({ method: 'GET', url: '/services/oauth2/revoke', summary: 'Revokes an access token (query parameter token=…)', auth: false, hidden: true, responses: {} }, revoke);
  route(
    {
      method: 'POST',
      url: '/services/oauth2/revoke',
      summary: 'Revokes an access token (form parameter token=…): it stops working in every engine process',
      auth: false,
      body: RevokeBody,
      bodyType: 'application/x-www-form-urlencoded',
      responses: { 200: { description: 'Revoked' }, 400: { description: '{ error: "unsupported_token_type" }' } },
    },
    revoke,
  );

  // --- versions and resources -------------------------------------------------------------------
  // Salesforce documents the versions list as "Authentication: none".
  route({ method: 'GET', url: '/services/data', summary: 'API versions (no token needed)', auth: false, responses: { 200: { description: 'Versions' } } }, async () =>
    API_VERSIONS.map((v) => ({ label: releaseName(v), url: `/services/data/v${v}`, version: v })),
  );
  route({ method: 'GET', url: '/services/data/:version', summary: 'Resources of a version', auth: true, params: VersionParams, responses: { 200: { description: 'Resources' } } }, async (req) => {
    const v = apiVersion(req.params.version);
    const b = `/services/data/v${v}`;
    return { sobjects: `${b}/sobjects`, query: `${b}/query`, actions: `${b}/actions`, identity: `${baseUrl(req)}/id/${ORG_ID}/${req.userId}` };
  });
  route({ method: 'GET', url: '/services/data/:version/actions', summary: 'Action kinds', auth: true, params: VersionParams, responses: { 200: { description: 'Action kinds' } } }, async (req) => {
    const v = apiVersion(req.params.version);
    return { standard: `/services/data/v${v}/actions/standard`, custom: `/services/data/v${v}/actions/custom` };
  });

  // --- invocable actions ------------------------------------------------------------------------
  route({ method: 'GET', url: '/services/data/:version/actions/standard', summary: 'List standard actions', auth: true, params: VersionParams, responses: { 200: { description: 'Actions' } } }, async (req) =>
    listActions(engine.describeActions(), apiVersion(req.params.version)),
  );
  route(
    { method: 'GET', url: '/services/data/:version/actions/standard/:action', summary: 'Describe an action', auth: true, hidden: true, params: ActionParams, responses: {} },
    async (req) => {
      apiVersion(req.params.version);
      // The engine's list includes actions of custom flow steps; requireAction words the NOT_FOUND.
      return describeAction(engine.describeActions().find((a) => a.name === req.params.action) ?? requireAction(req.params.action));
    },
  );
  route(
    { method: 'POST', url: '/services/data/:version/actions/standard/:action', summary: 'Invoke an action', auth: true, hidden: true, params: ActionParams, body: InvokeBody, responses: {} },
    async (req, reply) => {
      apiVersion(req.params.version);
      // More inputs than one invocation takes: TOO_MANY_INPUTS (400) from the engine, before any work.
      const results = await engine.invoke(req.params.action, req.body.inputs, req.as);
      const failed = results.find((r) => !r.isSuccess);
      return reply.code(failed ? failed.httpStatus : 200).send(results.map(({ httpStatus: _s, ...r }) => r));
    },
  );

  // --- sObjects ---------------------------------------------------------------------------------
  route({ method: 'GET', url: '/services/data/:version/sobjects', summary: 'describeGlobal', auth: true, params: VersionParams, responses: { 200: { description: 'Objects' } } }, async (req) =>
    describeGlobal(apiVersion(req.params.version)),
  );
  route({ method: 'GET', url: '/services/data/:version/sobjects/:type', summary: 'Object basics', auth: true, hidden: true, params: TypeParams, responses: {} }, async (req) => {
    const v = apiVersion(req.params.version);
    return { objectDescribe: describeObjectBasic(sobjectType(req.params.type), v), recentItems: [] };
  });
  route({ method: 'GET', url: '/services/data/:version/sobjects/:type/describe', summary: 'Describe an object', auth: true, hidden: true, params: TypeParams, responses: {} }, async (req) =>
    describeObject(sobjectType(req.params.type), apiVersion(req.params.version)),
  );
  const withAttributes = (v: string, type: string, rec: Record<string, unknown>) => ({ attributes: { type, url: `/services/data/v${v}/sobjects/${type}/${String(rec.Id)}` }, ...rec });
  route(
    { method: 'GET', url: '/services/data/:version/sobjects/:type/:id', summary: 'Get a record', auth: true, hidden: true, params: RecordParams, querystring: FieldsQuery, responses: {} },
    async (req) => {
      const v = apiVersion(req.params.version);
      const object = sobjectType(req.params.type);
      const rec = await engine.getRecord(object.name, req.params.id, req.as);
      if (req.query.fields === undefined) return withAttributes(v, object.name, rec);
      const byLower = new Map(Object.keys(rec).map((k) => [k.toLowerCase(), k]));
      const out: Record<string, unknown> = { Id: rec.Id };
      for (const raw of req.query.fields.split(',').map((f) => f.trim()).filter(Boolean)) {
        const k = byLower.get(raw.toLowerCase());
        if (!k) throw new EngineError('INVALID_FIELD', `No such column '${raw}' on sObject of type ${object.name}.`, [raw]);
        out[k] = rec[k];
      }
      return withAttributes(v, object.name, out);
    },
  );
  route(
    { method: 'POST', url: '/services/data/:version/sobjects/:type', summary: 'Create a record', auth: true, hidden: true, params: TypeParams, body: RecordBody, responses: {} },
    async (req, reply) => {
      apiVersion(req.params.version);
      const res = await engine.createRecord(sobjectType(req.params.type).name, req.body, req.as);
      return reply.code(201).send(res);
    },
  );
  route(
    { method: 'PATCH', url: '/services/data/:version/sobjects/:type/:id', summary: 'Update a record', auth: true, hidden: true, params: RecordParams, body: RecordBody, responses: {} },
    async (req, reply) => {
      apiVersion(req.params.version);
      await engine.updateRecord(sobjectType(req.params.type).name, req.params.id, req.body, req.as);
      return reply.code(204).send();
    },
  );
  route(
    { method: 'DELETE', url: '/services/data/:version/sobjects/:type/:id', summary: 'Delete a record', auth: true, hidden: true, params: RecordParams, responses: {} },
    async (req, reply) => {
      apiVersion(req.params.version);
      await engine.deleteRecord(sobjectType(req.params.type).name, req.params.id, req.as);
      return reply.code(204).send();
    },
  );

  // --- SOQL -------------------------------------------------------------------------------------
  route(
    {
      method: 'GET',
      url: '/services/data/:version/query',
      summary: 'Run a SOQL query (relationships, child subqueries, aggregates, AND/OR/NOT; see docs/soql.md)',
      auth: true,
      params: VersionParams,
      querystring: QueryQuery,
      responses: { 200: { description: '{ totalSize, done, records }' }, 400: { description: 'MALFORMED_QUERY or INVALID_FIELD' } },
    },
    async (req) => {
      const version = apiVersion(req.params.version);
      if (!req.query.q?.trim()) throw new EngineError('MALFORMED_QUERY', "Pass the SOQL text as the 'q' query parameter.", ['q']);
      return engine.query(req.query.q, { ...req.as, apiVersion: version });
    },
  );

  // --- statechart page, its data and session history (src/http/page.ts) --------------------------
  registerPage(app as unknown as FastifyInstance, engine, route as never, apiVersion, { streams: opts.streams, redactUrl });

  // --- OpenAPI ----------------------------------------------------------------------------------
  // One document per base URL (one, unless buildServer is used without a public URL on several interfaces).
  const openapi = new Map<string, Record<string, unknown>>();
  route({ method: 'GET', url: '/openapi.json', summary: 'This OpenAPI document', auth: true, responses: { 200: { description: 'OpenAPI 3.1' } } }, async (req) => {
    const base = baseUrl(req);
    if (!openapi.has(base)) openapi.set(base, openApiDocument(routes, engine.describeActions(), base));
    return openapi.get(base);
  });

  return { app: app as unknown as FastifyInstance };
}

/** Builds the server, listens, and returns it with a `close()` that shuts down gracefully. */
export async function startServer(engine: CheckoutEngine, opts: ListenOptions = {}): Promise<RunningServer> {
  const { app } = buildServer(engine, opts);
  let closing: Promise<void> | undefined;
  // While closing, a response that finishes an in-flight request also ends its keep-alive
  // connection; otherwise the client's idle socket would hold the shutdown open.
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async () => {
    if (closing) app.server.closeIdleConnections();
  });
  const address = await app.listen({ port: opts.port ?? 3000, host: opts.host ?? '127.0.0.1' });
  listenUrls.set(app, listenUrl(address));
  const url = opts.publicUrl === undefined ? listenUrl(address) : parsePublicUrl(opts.publicUrl);
  return {
    app,
    url,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await engine.close();
      })()),
  };
}
