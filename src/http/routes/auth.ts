/**
 * OAuth2 and identity: the username-password token grant (throttled in the database), token
 * revocation, the identity URL and OpenID Connect userinfo of the token's user. The token and
 * revoke endpoints answer errors in OAuth's `{ error, error_description }` shape, which Salesforce
 * clients parse there; identity and userinfo in Salesforce's REST shape.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DEFAULT_THROTTLE_LIMITS, type ThrottleLimits } from '../../engine/login-throttle.js';
import { ORG_ID } from '../../engine/tokens.js';
import { EngineError } from '../../errors.js';
import { LATEST_VERSION } from '../describe.js';
import { oauthErrorHandler, sendOAuthError } from '../rest-errors.js';
import type { RouteGroup } from '../routing.js';

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

/** The throttles `loginLimits` configures over the defaults, or an Error naming the bad one. */
export function resolveLoginLimits(loginLimits: LoginLimits | undefined): ThrottleLimits {
  const limits = {
    perUsername: { ...DEFAULT_LOGIN_LIMITS.perUsername, ...loginLimits?.perUsername },
    perAddress: { ...DEFAULT_LOGIN_LIMITS.perAddress, ...loginLimits?.perAddress },
    knownAddressSeconds: loginLimits?.knownAddressSeconds ?? DEFAULT_THROTTLE_LIMITS.knownAddressSeconds,
  };
  for (const [name, l] of [
    ['perUsername', limits.perUsername],
    ['perAddress', limits.perAddress],
  ] as const) {
    if (!(Number.isInteger(l.max) && l.max > 0 && l.windowSeconds > 0))
      throw new Error(`loginLimits.${name} needs a positive whole max and a positive windowSeconds.`);
  }
  if (!(limits.knownAddressSeconds > 0)) throw new Error('loginLimits.knownAddressSeconds must be a positive number of seconds.');
  return limits;
}

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
const RevokeBody = z.object({ token: z.string().optional() }).catchall(z.unknown()).nullish();
const IdentityParams = z.object({ org: z.string(), user: z.string() });

/** The parameters of a form endpoint: the query string's, then the body's over them. */
const formParams = (query: unknown, body: Record<string, unknown> | null | undefined): Record<string, unknown> => ({
  ...(query as Record<string, unknown>),
  ...(body ?? {}),
});

export const authRoutes: RouteGroup = async (app, { engine, table, baseUrl, login }) => {
  const route = table.on(app);
  /** The identity document of the token's user (Salesforce's identity URL response). */
  const identityOf = async (req: FastifyRequest) => {
    const user = await engine.getRecordAs(req.caller, 'User', req.userId);
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
      schema: { body: TokenBody },
      bodyType: 'application/x-www-form-urlencoded',
      responses: { 200: { description: 'Token' }, 400: { description: '{ error, error_description }' } },
      errorHandler: oauthErrorHandler,
    },
    async (req, reply) => {
      const p = formParams(req.query, req.body);
      if (p.grant_type !== 'password') return sendOAuthError(reply, new EngineError('OAUTH_UNSUPPORTED_GRANT'));
      for (const k of ['username', 'password'] as const) {
        if (typeof p[k] !== 'string' || !p[k]) return sendOAuthError(reply, new EngineError('OAUTH_INVALID_REQUEST', k));
      }
      // Throttles (kept in the database, shared by every process) before any hash work.
      const attempt = await engine.attemptLogin(p.username, p.password, req.ip, login.limits);
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
      const t = await engine.issueToken(userId, login.ttlSeconds);
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
        signature: await engine.signTokenResponse(id, issuedAt, login.signatureSecret),
      });
    },
  );
  route(
    {
      method: 'GET',
      url: '/id/:org/:user',
      summary: 'Identity URL of the token user',
      auth: true,
      schema: { params: IdentityParams },
      responses: { 200: { description: 'Identity' } },
    },
    async (req) => {
      if (req.params.user !== req.userId && req.params.user.slice(0, 15) !== req.userId.slice(0, 15))
        throw new EngineError('NOT_FOUND', "Only the token user's identity is visible.");
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
  const revoke = async (req: FastifyRequest, reply: FastifyReply, body: z.infer<typeof RevokeBody>) => {
    const p = formParams(req.query, body);
    if (typeof p.token !== 'string' || !p.token) return sendOAuthError(reply, new EngineError('OAUTH_INVALID_REQUEST', 'token'));
    if (!(await engine.revokeToken(p.token))) return sendOAuthError(reply, new EngineError('OAUTH_INVALID_TOKEN'));
    req.log.info({ event: 'token_revoked' }, 'token revoked');
    return reply.code(200).send();
  };
  // Salesforce also documents GET /services/oauth2/revoke?token=….
  route(
    {
      method: 'GET',
      url: '/services/oauth2/revoke',
      summary: 'Revokes an access token (query parameter token=…)',
      auth: false,
      hidden: true,
      responses: {},
      errorHandler: oauthErrorHandler,
    },
    async (req, reply) => revoke(req, reply, undefined),
  );
  route(
    {
      method: 'POST',
      url: '/services/oauth2/revoke',
      summary: 'Revokes an access token (form parameter token=…): it stops working in every engine process',
      auth: false,
      schema: { body: RevokeBody },
      bodyType: 'application/x-www-form-urlencoded',
      responses: { 200: { description: 'Revoked' }, 400: { description: '{ error: "unsupported_token_type" }' } },
      errorHandler: oauthErrorHandler,
    },
    async (req, reply) => revoke(req, reply, req.body),
  );
};
