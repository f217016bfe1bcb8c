/**
 * Security headers. Every response says `X-Content-Type-Options: nosniff` and may not be framed
 * (`X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`); the statechart page and its assets
 * get a Content-Security-Policy that allows only the engine's own script, styles, images and API
 * (no inline script, no eval, no CDN, no plugins); API answers get `default-src 'none'`, since a
 * JSON body is never a document. See docs/http-security.md.
 */
import { unencapsulated } from './unencapsulated.js';

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

/** The security headers of a response to `path`. */
export function securityHeaders(path: string): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'content-security-policy': isPageAsset(path) ? PAGE_CSP : API_CSP,
    'referrer-policy': 'no-referrer',
  };
}

/** Adds the security headers to every response the app sends (hijacked streams set their own). */
export const securityHeadersPlugin = unencapsulated('security-headers', async (app) => {
  app.addHook('onSend', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    for (const [k, v] of Object.entries(securityHeaders(path))) if (!reply.hasHeader(k)) reply.header(k, v);
  });
});
