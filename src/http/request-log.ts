/**
 * One log line per request, replacing Fastify's two ("incoming request" and "request completed"):
 * the message says it all — `GET /services/data/v62.0/query 200 3 ms` — and JSON logs keep the
 * facts as fields in Fastify's shape: `req` (method, URL with secrets redacted, client address),
 * `res` (statusCode), `responseTime` (ms, rounded to 0.1) and `userId` when authenticated. The
 * statechart page's own traffic — the page, its assets and its `/page/api/*` polling and event
 * streams — is logged at debug, so a page left open doesn't drown the log; server failures (5xx)
 * are logged at warn whatever the path.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isPageAsset } from './headers.js';

// Keys whose values never reach a log line, wherever they appear in a URL.
const SECRET_PARAM = /([?&](?:password|client_secret|access_token|refresh_token|code|token|oauth_token)=)[^&]*/gi;

/** The request URL with secret-bearing query values replaced, for logs. */
export function redactUrl(url: string): string {
  // Every secret parameter has an '=': most URLs have none, and skip the scan.
  return url.includes('=') ? url.replace(SECRET_PARAM, '$1[REDACTED]') : url;
}

/** The path of a URL (without its query string). */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Whether a request is the statechart page's own traffic (logged at debug). */
export function isPageTraffic(path: string): boolean {
  return isPageAsset(path) || path.startsWith('/page/');
}

/** The fields a terminal (pretty) log leaves out, since a request line's message already says them. */
export const PRETTY_HIDDEN_FIELDS = ['pid', 'hostname', 'reqId', 'req', 'res', 'responseTime', 'userId'];

/**
 * Logs one finished request (see the module comment): called by buildServer's one onResponse hook
 * when the app logs (its `log` isn't false: a disabled logger would drop every line), and by an
 * event stream when it opens (its response is hijacked).
 */
export function logRequest(req: FastifyRequest, reply: FastifyReply): void {
  const url = redactUrl(req.url);
  const status = reply.statusCode;
  const ms = reply.elapsedTime;
  const fields = { req, res: reply, responseTime: Math.round(ms * 10) / 10, ...(req.userId ? { userId: req.userId } : {}) };
  const msg = `${req.method} ${url} ${status} ${Math.round(ms)} ms`;
  if (status >= 500) req.log.warn(fields, msg);
  else if (isPageTraffic(pathOf(url))) req.log.debug(fields, msg);
  else req.log.info(fields, msg);
}
