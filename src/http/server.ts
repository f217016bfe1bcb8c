/**
 * The HTTP edge: a Fastify 5 server that speaks Salesforce REST so an unchanged Salesforce client
 * (jsforce, simple-salesforce, Workbench-style curl) can drive checkouts. It parses and validates
 * (zod), authenticates the bearer token, calls the engine, and maps every failure through the one
 * error table into `[{ message, errorCode, fields }]`. It never touches storage.
 *
 * @example
 *   const engine = await createCheckoutEngine({ storage: './checkout.db' });
 *   const server = await startServer(engine, { port: 3000, secret: process.env.CHECKOUT_ENGINE_SECRET });
 *   // … later: await server.close(); (finishes in-flight requests, then the engine's running operations)
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CheckoutEngine } from '../engine/engine.js';
import { EngineError, toEngineError } from '../errors.js';
import { findObject } from '../domain/objects.js';
import { requireAction } from '../actions/index.js';
import { API_VERSIONS, describeAction, describeGlobal, describeObject, describeObjectBasic, LATEST_VERSION, listActions, openApiDocument, type RouteDoc } from './describe.js';
import { ORG_ID, TokenSigner } from './tokens.js';
import { registerPage } from './page.js';

/** Options of `buildServer` / `startServer`. */
export interface ServerOptions {
  /** HMAC secret for bearer tokens (≥ 16 chars). Share it between processes on one database. Default: CHECKOUT_ENGINE_SECRET, else a random per-process secret. */
  secret?: string;
  /** Token lifetime in seconds (default 7200, Salesforce's default session timeout of 2 hours). */
  tokenTtlSeconds?: number;
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Structured (JSON) logs: false for none, or a level and a destination stream (default: info to stdout). */
  log?: false | { level?: string; stream?: NodeJS.WritableStream };
  /** The externally visible base URL put in `instance_url` (default: from the request's Host). */
  publicUrl?: string;
  /** Clock for token issue and expiry, in ms (tests move it). */
  clock?: () => number;
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
  /** Whether the secret was generated for this process (tokens won't survive a restart). */
  ephemeralSecret: boolean;
  /** Stops accepting, finishes in-flight requests, then closes the engine (running operations finish; queued ones resume on the next start). */
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated Salesforce user id. */
    userId: string;
  }
}

// Keys whose values never reach a log line, wherever they appear in a URL.
const SECRET_PARAM = /([?&](?:password|client_secret|access_token|refresh_token|code)=)[^&]*/gi;

/** The request URL with secret-bearing query values replaced, for logs. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAM, '$1[REDACTED]');
}

const VersionParams = z.object({ version: z.string().describe('API version, e.g. v62.0 (50.0 and later)') });
const TypeParams = VersionParams.extend({ type: z.string().min(1).describe('sObject API name') });
const RecordParams = TypeParams.extend({ id: z.string().describe('Record id (15 or 18 characters)') });
const ActionParams = VersionParams.extend({ action: z.string().min(1) });
const InvokeBody = z.strictObject({ inputs: z.array(z.unknown()) });
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
 * later", so a client newer than the listed versions still works), or NOT_FOUND naming it.
 */
function apiVersion(segment: string): string {
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
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new EngineError('INVALID_INPUT', fe.message);
  return toEngineError(err);
}

function sendError(reply: FastifyReply, e: EngineError): FastifyReply {
  return reply.code(e.status).type('application/json').send([e.toRest()]);
}

/** OAuth2 errors use OAuth's body shape, which Salesforce clients parse on the token endpoint. */
function sendOAuthError(reply: FastifyReply, e: EngineError): FastifyReply {
  return reply.code(e.status).send({ error: e.code, error_description: e.message });
}

function baseUrl(req: FastifyRequest, publicUrl?: string): string {
  return publicUrl ?? `${req.protocol}://${req.host}`;
}

/** Builds the Fastify app for an engine (not listening). */
export function buildServer(engine: CheckoutEngine, opts: ServerOptions = {}): { app: FastifyInstance; ephemeralSecret: boolean } {
  const secretGiven = opts.secret ?? process.env.CHECKOUT_ENGINE_SECRET;
  const signer = new TokenSigner(secretGiven || TokenSigner.randomSecret(), opts.tokenTtlSeconds ?? 7200, opts.clock);
  const log = opts.log;
  const app = Fastify({
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
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
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('userId', '');

  // Bodies are JSON (and form-encoded for OAuth clients); plain text is refused with 415, as Salesforce does.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });

  const routes: RouteDoc[] = [];
  const PUBLIC = new Set<string>();
  const route = <P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
    doc: Omit<RouteDoc, 'params' | 'querystring' | 'body'> & { params?: P; querystring?: Q; body?: B; hidden?: boolean },
    handler: (req: FastifyRequest<{ Params: z.infer<P>; Querystring: z.infer<Q>; Body: z.infer<B> }>, reply: FastifyReply) => Promise<unknown>,
  ) => {
    if (!doc.hidden) routes.push(doc);
    if (!doc.auth) PUBLIC.add(`${doc.method} ${doc.url}`);
    app.route({
      method: doc.method,
      url: doc.url,
      schema: { ...(doc.params ? { params: doc.params } : {}), ...(doc.querystring ? { querystring: doc.querystring } : {}), ...(doc.body ? { body: doc.body } : {}) },
      handler: handler as never,
    });
  };

  // Authentication runs before parsing, so an unauthenticated caller learns nothing about the body.
  app.addHook('onRequest', async (req, reply) => {
    const key = `${req.method} ${req.routeOptions.url ?? ''}`;
    if (PUBLIC.has(key)) return;
    const header = req.headers.authorization ?? '';
    const m = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(header);
    const userId = m ? signer.verify(m[1]!) : null;
    if (!userId || !(await engine.isActiveUser(userId))) {
      return sendError(reply, new EngineError('INVALID_SESSION', m ? undefined : 'Send the access_token as "Authorization: Bearer <token>".'));
    }
    req.userId = userId;
  });

  app.setErrorHandler((err, req, reply) => {
    const e = toRestError(err);
    if (e.status >= 500 && !(err instanceof EngineError)) req.log.error({ err }, 'unexpected error');
    if (req.routeOptions.url === '/services/oauth2/token') return sendOAuthError(reply, e);
    return sendError(reply, e);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, new EngineError('NOT_FOUND', `No resource at ${req.method} ${redactUrl(req.url).split('?')[0]}.`)));

  // --- OAuth2 ---------------------------------------------------------------------------------
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
      const userId = await engine.login(p.username, p.password);
      if (!userId) {
        req.log.info({ event: 'login_failed' }, 'login failed');
        return sendOAuthError(reply, new EngineError('OAUTH_INVALID_GRANT'));
      }
      const t = signer.issue(userId);
      const base = baseUrl(req, opts.publicUrl);
      req.log.info({ event: 'login', userId }, 'token issued');
      return reply.send({ access_token: t.token, instance_url: base, id: `${base}/id/${ORG_ID}/${userId}`, token_type: 'Bearer', issued_at: String(t.issuedAt) });
    },
  );
  route(
    { method: 'GET', url: '/id/:org/:user', summary: 'Identity URL of the token user', auth: true, params: IdentityParams, responses: { 200: { description: 'Identity' } } },
    async (req) => {
      if (req.params.user !== req.userId && req.params.user.slice(0, 15) !== req.userId.slice(0, 15)) throw new EngineError('NOT_FOUND', 'Only the token user\'s identity is visible.');
      const user = await engine.getRecord('User', req.userId, { userId: req.userId });
      const base = baseUrl(req, opts.publicUrl);
      return { id: `${base}/id/${ORG_ID}/${req.userId}`, user_id: req.userId, organization_id: ORG_ID, username: user.Username, display_name: user.Name, active: user.IsActive };
    },
  );

  // --- versions and resources -------------------------------------------------------------------
  route({ method: 'GET', url: '/services/data', summary: 'API versions', auth: true, responses: { 200: { description: 'Versions' } } }, async () =>
    API_VERSIONS.map((v) => ({ label: `v${v}`, url: `/services/data/v${v}`, version: v })),
  );
  route({ method: 'GET', url: '/services/data/:version', summary: 'Resources of a version', auth: true, params: VersionParams, responses: { 200: { description: 'Resources' } } }, async (req) => {
    const v = apiVersion(req.params.version);
    const b = `/services/data/v${v}`;
    return { sobjects: `${b}/sobjects`, query: `${b}/query`, actions: `${b}/actions` };
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
      const results = await engine.invoke(req.params.action, req.body.inputs, { userId: req.userId });
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
      const rec = await engine.getRecord(object.name, req.params.id, { userId: req.userId });
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
      const res = await engine.createRecord(sobjectType(req.params.type).name, req.body, { userId: req.userId });
      return reply.code(201).send(res);
    },
  );
  route(
    { method: 'PATCH', url: '/services/data/:version/sobjects/:type/:id', summary: 'Update a record', auth: true, hidden: true, params: RecordParams, body: RecordBody, responses: {} },
    async (req, reply) => {
      apiVersion(req.params.version);
      await engine.updateRecord(sobjectType(req.params.type).name, req.params.id, req.body, { userId: req.userId });
      return reply.code(204).send();
    },
  );
  route(
    { method: 'DELETE', url: '/services/data/:version/sobjects/:type/:id', summary: 'Delete a record', auth: true, hidden: true, params: RecordParams, responses: {} },
    async (req, reply) => {
      apiVersion(req.params.version);
      await engine.deleteRecord(sobjectType(req.params.type).name, req.params.id, { userId: req.userId });
      return reply.code(204).send();
    },
  );

  // --- SOQL -------------------------------------------------------------------------------------
  route(
    {
      method: 'GET',
      url: '/services/data/:version/query',
      summary: 'Run a SOQL query (subset: SELECT fields FROM one object WHERE comparisons joined by AND, ORDER BY, LIMIT)',
      auth: true,
      params: VersionParams,
      querystring: QueryQuery,
      responses: { 200: { description: '{ totalSize, done, records }' }, 400: { description: 'MALFORMED_QUERY or INVALID_FIELD' } },
    },
    async (req) => {
      const version = apiVersion(req.params.version);
      if (!req.query.q?.trim()) throw new EngineError('MALFORMED_QUERY', "Pass the SOQL text as the 'q' query parameter.", ['q']);
      return engine.query(req.query.q, { userId: req.userId, apiVersion: version });
    },
  );

  // --- statechart page, its data and session history (src/http/page.ts) --------------------------
  registerPage(app as unknown as FastifyInstance, engine, route as never, apiVersion);

  // --- OpenAPI ----------------------------------------------------------------------------------
  let openapi: Record<string, unknown> | undefined;
  route({ method: 'GET', url: '/openapi.json', summary: 'This OpenAPI document', auth: true, responses: { 200: { description: 'OpenAPI 3.1' } } }, async (req) => {
    openapi ??= openApiDocument(routes, engine.describeActions(), baseUrl(req, opts.publicUrl));
    return openapi;
  });

  return { app: app as unknown as FastifyInstance, ephemeralSecret: !secretGiven };
}

/** Builds the server, listens, and returns it with a `close()` that shuts down gracefully. */
export async function startServer(engine: CheckoutEngine, opts: ListenOptions = {}): Promise<RunningServer> {
  const { app, ephemeralSecret } = buildServer(engine, opts);
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
  const url = opts.publicUrl ?? address.replace('[::1]', 'localhost');
  return {
    app,
    url,
    ephemeralSecret,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await engine.close();
      })()),
  };
}
