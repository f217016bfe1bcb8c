/**
 * The SOAP Partner API `login` call (`POST /services/Soap/u/{version}`), which clients such as
 * jsforce use when given a username and password without OAuth settings. It signs in exactly as the
 * OAuth2 password grant does (routes/auth.ts): the same database-kept throttles per address and per
 * username (`engine.attemptLogin`), and the same opaque access token as `sessionId`, so the session
 * works as a bearer token on every REST route. Answers are SOAP 1.1 envelopes (`text/xml`): a
 * `loginResponse`, or a `soapenv:Fault` with HTTP 500 as Salesforce sends it — `sf:INVALID_LOGIN`
 * (with its LoginFault detail) for a wrong password, an unknown or inactive user and a throttled
 * attempt alike, `sf:UNSUPPORTED_API_VERSION` for a version not served, and `soapenv:Client`
 * naming the element for an envelope that isn't a login call. `logout` (the session in the
 * SessionHeader, as jsforce's `logout()` sends it) revokes the token, as the OAuth revoke endpoint does.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { z } from 'zod';
import { ORG_ID } from '../../engine/tokens.js';
import { EngineError } from '../../errors.js';
import { toRestError } from '../rest-errors.js';
import { API_VERSIONS } from '../describe.js';
import type { RouteGroup } from '../routing.js';

/** The largest login envelope read (a login call is a few hundred bytes). */
export const SOAP_BODY_LIMIT = 16 * 1024;
/** The longest username or password taken (longer ones are refused naming the element, before any hash work). */
const MAX_FIELD_CHARS = 1024;

const SOAPENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const PARTNER = 'urn:partner.soap.sforce.com';
const FAULT_NS = 'urn:fault.partner.soap.sforce.com';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

const SoapParams = z.object({ version: z.string().describe('API version, e.g. 64.0 (50.0 and later)') });

/** XML text and attribute escaping. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const envelope = (body: string, ns = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="${SOAPENV}"${ns}><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;

/** A SOAP 1.1 fault for a table error: `sf:CODE` with its LoginFault / UnexpectedErrorFault detail, or `soapenv:Client`. */
export function soapFault(e: EngineError): string {
  if (e.key === 'SOAP_CLIENT' || !e.key.startsWith('SOAP_')) {
    const code = e.status < 500 || e.key === 'SOAP_CLIENT' ? 'soapenv:Client' : 'soapenv:Server';
    return envelope(`<soapenv:Fault><faultcode>${code}</faultcode><faultstring>${esc(e.message)}</faultstring></soapenv:Fault>`);
  }
  const type = e.key === 'SOAP_INVALID_LOGIN' ? 'LoginFault' : 'UnexpectedErrorFault';
  return envelope(
    `<soapenv:Fault><faultcode>sf:${e.code}</faultcode><faultstring>${esc(`${e.code}: ${e.message}`)}</faultstring>` +
      `<detail><sf:${type} xsi:type="sf:${type}"><sf:exceptionCode>${e.code}</sf:exceptionCode>` +
      `<sf:exceptionMessage>${esc(e.message)}</sf:exceptionMessage></sf:${type}></detail></soapenv:Fault>`,
    ` xmlns:sf="${FAULT_NS}" xmlns:xsi="${XSI}"`,
  );
}

const sendFault = (reply: FastifyReply, e: EngineError) => reply.code(e.status).type('text/xml; charset=utf-8').send(soapFault(e));

/** The route's error handler: whatever went wrong (a body too large, a closed engine) answers as a SOAP fault. */
function soapErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const e =
    err instanceof EngineError
      ? err
      : err.statusCode === 413
        ? new EngineError('BODY_TOO_LARGE', `The limit is ${SOAP_BODY_LIMIT} bytes.`)
        : err.statusCode === 415 || err.statusCode === 400
          ? new EngineError('SOAP_CLIENT', 'the body must be a SOAP envelope sent as text/xml.')
          : toRestError(err);
  if (e.status >= 500 && !(err instanceof EngineError)) req.log.error({ err }, 'unexpected error');
  void sendFault(reply, e);
}

/** The version segment (`64.0`), or SOAP_UNSUPPORTED_API_VERSION naming it. */
function soapVersion(segment: string): string {
  const m = /^(\d{2,3})\.0$/.exec(segment);
  if (!m || Number(m[1]) < Number.parseInt(API_VERSIONS[0]!, 10))
    throw new EngineError('SOAP_UNSUPPORTED_API_VERSION', `${segment} (served: ${API_VERSIONS[0]} and later).`);
  return `${Number(m[1])}.0`;
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
});

/** A call this endpoint serves: `login`, or `logout` of the session in the SessionHeader. */
export type SoapCall = { op: 'login'; username: string; password: string } | { op: 'logout'; sessionId: string };

/** The call of an envelope, or SOAP_CLIENT naming what is wrong. */
export function parseEnvelope(xml: unknown): SoapCall {
  if (typeof xml !== 'string') throw new EngineError('SOAP_CLIENT', 'the body must be a SOAP envelope sent as text/xml.');
  // No document type declarations: nothing to expand, nothing fetched.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new EngineError('SOAP_CLIENT', 'a DOCTYPE is not allowed in a SOAP message.');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new EngineError('SOAP_CLIENT', `the body is not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml) as Record<string, unknown>;
  } catch (e) {
    // The parser's own limits (elements nested too deeply …).
    throw new EngineError('SOAP_CLIENT', `the body can't be read: ${(e as Error).message}.`);
  }
  if (!('Envelope' in doc)) throw new EngineError('SOAP_CLIENT', `the root element must be {${SOAPENV}}Envelope.`);
  const env = doc.Envelope && typeof doc.Envelope === 'object' ? (doc.Envelope as Record<string, unknown>) : {};
  const body = env.Body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') throw new EngineError('SOAP_CLIENT', 'the Envelope has no Body element.');
  const ops = Object.keys(body).filter((k) => k !== '#text');
  const op = ops.length === 1 && !Array.isArray(body[ops[0]!]) ? ops[0] : undefined;
  /** A text element of `parent`, once, not empty, not over-long. */
  const text = (parent: unknown, where: string, name: string): string => {
    const v = parent && typeof parent === 'object' ? (parent as Record<string, unknown>)[name] : undefined;
    if (Array.isArray(v)) throw new EngineError('SOAP_CLIENT', `element {${PARTNER}}${name} appears more than once in ${where}.`);
    if (typeof v !== 'string' || !v) throw new EngineError('SOAP_CLIENT', `element {${PARTNER}}${name} is missing or empty in ${where}.`);
    if (v.length > MAX_FIELD_CHARS)
      throw new EngineError('SOAP_CLIENT', `element {${PARTNER}}${name} is longer than ${MAX_FIELD_CHARS} characters.`);
    return v;
  };
  if (op === 'login' && typeof body.login === 'object') {
    return { op, username: text(body.login, 'login', 'username').trim(), password: text(body.login, 'login', 'password') };
  }
  if (op === 'logout') {
    const header = env.Header && typeof env.Header === 'object' ? (env.Header as Record<string, unknown>).SessionHeader : undefined;
    if (Array.isArray(header)) throw new EngineError('SOAP_CLIENT', `element {${PARTNER}}SessionHeader appears more than once in Header.`);
    return { op, sessionId: text(header, 'SessionHeader', 'sessionId').trim() };
  }
  throw new EngineError(
    'SOAP_CLIENT',
    `No operation available for request {${PARTNER}}${ops.join(', ') || '(none)'}; this endpoint serves login and logout.`,
  );
}

export const soapRoutes: RouteGroup = async (app, { engine, table, baseUrl, login }) => {
  const route = table.on(app);
  // Only this group reads XML, and only small bodies of it.
  app.addContentTypeParser(['text/xml', 'application/soap+xml'], { parseAs: 'string', bodyLimit: SOAP_BODY_LIMIT }, (_req, body, done) => {
    done(null, body);
  });
  route(
    {
      method: 'POST',
      url: '/services/Soap/u/:version',
      summary:
        'SOAP Partner API login (username and password): a loginResponse whose sessionId is an access token, as the OAuth2 password grant issues; logout of the SessionHeader session; faults as SOAP 1.1',
      auth: false,
      schema: { params: SoapParams },
      bodyType: 'text/xml',
      responses: {
        200: { description: 'loginResponse envelope' },
        500: { description: 'soapenv:Fault (sf:INVALID_LOGIN, soapenv:Client …)' },
      },
      errorHandler: soapErrorHandler,
    },
    async (req, reply) => {
      const version = soapVersion(req.params.version);
      const call = parseEnvelope(req.body);
      if (call.op === 'logout') {
        // Ends the session (the access token) in every process, as the OAuth revoke endpoint does.
        if (!(await engine.revokeToken(call.sessionId))) return sendFault(reply, new EngineError('SOAP_INVALID_SESSION'));
        req.log.info({ event: 'token_revoked', via: 'soap' }, 'token revoked');
        return reply.type('text/xml; charset=utf-8').send(envelope('<logoutResponse/>', ` xmlns="${PARTNER}"`));
      }
      const { username, password } = call;
      // The token endpoint's throttles, in the database, before any hash work.
      const attempt = await engine.attemptLogin(username, password, req.ip, login.limits);
      if (attempt.outcome === 'refused') {
        // Salesforce answers a locked-out user with the INVALID_LOGIN fault itself.
        req.log.warn({ event: 'login_throttled', reason: attempt.reason, via: 'soap' }, 'login throttled');
        reply.header('retry-after', String(attempt.retryAfterSeconds));
        return sendFault(reply, new EngineError('SOAP_INVALID_LOGIN'));
      }
      if (attempt.outcome === 'failure') {
        req.log.info({ event: 'login_failed', via: 'soap' }, 'login failed');
        return sendFault(reply, new EngineError('SOAP_INVALID_LOGIN'));
      }
      const userId = attempt.userId;
      const t = await engine.issueToken(userId, login.ttlSeconds);
      const caller = await engine.authenticateCaller(t.token);
      if (!caller) throw new EngineError('SOAP_INVALID_LOGIN');
      const user = await engine.getRecordAs(caller, 'User', userId);
      const base = baseUrl(req);
      const str = (v: unknown) => (v === null || v === undefined || v === '' ? undefined : String(v));
      const el = (name: string, v: string | undefined) => (v === undefined ? `<${name} xsi:nil="true"/>` : `<${name}>${esc(v)}</${name}>`);
      const userName = String(user.Username);
      const userInfo = [
        el('accessibilityMode', 'false'),
        el('organizationId', ORG_ID),
        el('organizationMultiCurrency', 'false'),
        el('sessionSecondsValid', String(login.ttlSeconds)),
        el('userEmail', str(user.Email)),
        el('userFullName', str(user.Name) ?? userName),
        el('userId', userId),
        el('userLanguage', 'en_US'),
        el('userLocale', 'en_US'),
        el('userName', userName),
        el('userTimeZone', 'GMT'),
        el('userType', 'Standard'),
      ].join('');
      const result = [
        el('metadataServerUrl', `${base}/services/Soap/m/${version}/${ORG_ID}`),
        el('passwordExpired', 'false'),
        el('sandbox', 'false'),
        el('serverUrl', `${base}/services/Soap/u/${version}/${ORG_ID}`),
        el('sessionId', t.token),
        el('userId', userId),
        `<userInfo>${userInfo}</userInfo>`,
      ].join('');
      req.log.info({ event: 'login', userId, via: 'soap' }, 'token issued');
      return reply
        .type('text/xml; charset=utf-8')
        .send(envelope(`<loginResponse><result>${result}</result></loginResponse>`, ` xmlns="${PARTNER}" xmlns:xsi="${XSI}"`));
    },
  );
};
