/**
 * The server's public base URL: what it writes into the URLs it hands out (the token response's
 * `instance_url` and `id`, identity URLs, OpenAPI `servers`). It comes from configuration
 * (`startServer({ publicUrl })`, `serve --public-url`), else the address the server listens on —
 * never from a request's Host (or X-Forwarded-Host) header, which any client sets: a cached
 * OpenAPI document or a token response pointing at `http://evil.example` is a phishing link.
 */
import type { FastifyRequest } from 'fastify';

/**
 * A configured public URL, normalized (`https://checkout.example[:port][/base]`, no trailing slash),
 * or an Error naming what is wrong with it.
 */
export function parsePublicUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new Error(`'${value}' is not an absolute URL (e.g. https://checkout.example).`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`'${value}' must be an http:// or https:// URL.`);
  if (u.username || u.password || u.search || u.hash) throw new Error(`'${value}' must not carry credentials, a query or a fragment.`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** The URL of an address Fastify's `listen` returned (`http://127.0.0.1:3000`; `[::1]` shown as localhost). */
export function listenUrl(address: string): string {
  return address.replace('[::1]', 'localhost');
}

/**
 * The base URL of a request's server when neither a public URL nor a listen address is known
 * (`buildServer` used without `startServer`): the local address the connection arrived on, which
 * the client can't choose the way it chooses a Host header.
 */
export function localUrl(req: FastifyRequest): string {
  const socket = req.raw.socket as { localAddress?: string; localPort?: number; encrypted?: boolean } | undefined;
  let host = socket?.localAddress || '127.0.0.1';
  if (host.startsWith('::ffff:')) host = host.slice(7);
  if (host.includes(':')) host = host === '::1' ? 'localhost' : `[${host}]`;
  const port = socket?.localPort ? `:${socket.localPort}` : '';
  return `${socket?.encrypted ? 'https' : 'http'}://${host}${port}`;
}
