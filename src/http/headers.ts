/**
 * Security headers. Every response says `X-Content-Type-Options: nosniff` and may not be framed
 * (`X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`); the statechart page and its assets
 * get a Content-Security-Policy that allows only the engine's own script, styles, images and API
 * (no inline script, no eval, no CDN, no plugins); API answers get `default-src 'none'`, since a
 * JSON body is never a document. See docs/http-security.md.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The page's policy: only what the engine itself serves. */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Everything else (JSON, event streams): nothing may load or frame it. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Whether a path is the statechart page or one of its static assets. */
export function isPageAsset(path: string): boolean {
  return path === '/' || path === '/favicon.ico' || path === '/page/app.js' || path === '/page/app.css' || path === '/page/favicon.svg';
}

/** The headers of each kind of response, built once: [name, value] pairs. */
const headersWith = (csp: string): readonly (readonly [string, string])[] => [
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['content-security-policy', csp],
  ['referrer-policy', 'no-referrer'],
];
const PAGE_HEADERS = headersWith(PAGE_CSP);
const API_HEADERS = headersWith(API_CSP);

/** The security headers of a response to `path`. */
export function securityHeaders(path: string): Record<string, string> {
  return Object.fromEntries(isPageAsset(path) ? PAGE_HEADERS : API_HEADERS);
}

/** The path of a request URL (without its query string). */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * Adds the security headers to a response (buildServer's one onSend hook calls it for every
 * response the app sends; hijacked event streams skip onSend and set theirs). A route that sets
 * its own sets its Content-Security-Policy (as the streams and the inspector bridge do): only
 * then is each header looked up before it is set; otherwise the four are known to be missing and
 * are set at once, without the four `hasHeader` look-ups (each lower-cases its name twice).
 */
export function addSecurityHeaders(req: FastifyRequest, reply: FastifyReply): void {
  const headers = isPageAsset(pathOf(req.url)) ? PAGE_HEADERS : API_HEADERS;
  if (reply.hasHeader('content-security-policy')) {
    for (const [k, v] of headers) if (!reply.hasHeader(k)) reply.header(k, v);
  } else for (const [k, v] of headers) reply.header(k, v);
}
