/**
 * The engine's Salesforce-shaped HTTP API as a Fastify plugin, for an application that has its own
 * Fastify server: `app.register(checkoutEngine, { engine })`. It mounts the very app `buildServer`
 * builds (same routes, error table, body limits, login throttles and statechart page; nothing is
 * defined twice): each request whose path that app routes — and every `/services/…` path, so an
 * unknown one still gets Salesforce's NOT_FOUND body — is handed to it before the host parses the
 * body; any other path falls through to the host's not-found handler. The host's own routes win
 * over the plugin's. Under a `prefix` the prefix is removed before routing (the Salesforce paths
 * then live at `<prefix>/services/…`; pass `publicUrl` with the prefix so `instance_url` points there).
 * The plugin never closes the engine: the host's `close()` closes the mounted app, the caller the engine.
 * @example
 *   import Fastify from 'fastify';
 *   import { checkoutEngine } from 'checkout-engine/http';
 *   const app = Fastify();
 *   app.get('/health', async () => ({ ok: true }));
 *   await app.register(checkoutEngine, { engine, log: false });
 *   await app.listen({ port: 3000 });
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { CheckoutEngine } from '../engine/engine.js';
import { buildServer, type ServerOptions } from './server.js';

/** Options of the `checkoutEngine` plugin: the engine, and buildServer's options (default `log: false`: the host logs). */
export interface CheckoutEnginePluginOptions extends ServerOptions {
  engine: CheckoutEngine;
}

/** Registers the engine's HTTP API (Salesforce REST, OAuth, statechart page) on a Fastify instance. */
export const checkoutEngine: FastifyPluginAsync<CheckoutEnginePluginOptions> = async (fastify, opts) => {
  const { engine, ...serverOptions } = opts ?? ({} as CheckoutEnginePluginOptions);
  if (!engine || typeof engine.invokeAny !== 'function')
    throw new TypeError('checkoutEngine plugin: pass the engine, e.g. app.register(checkoutEngine, { engine }).');
  const { app } = buildServer(engine, { log: false, ...serverOptions });
  await app.ready();
  fastify.addHook('onClose', async () => {
    await app.close();
  });
  const prefix = fastify.prefix;
  const mounted = (method: string, url: string) => {
    const path = url.split('?', 1)[0]!;
    return path.startsWith('/services/') || app.findRoute({ method: method as 'GET', url: path }) !== null;
  };
  fastify.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    const raw = req.raw;
    const url = raw.url ?? '/';
    const inner = prefix && url.startsWith(prefix) ? url.slice(prefix.length) || '/' : url;
    if (!mounted(req.method, inner.startsWith('/') ? inner : `/${inner}`)) return done();
    raw.url = inner.startsWith('/') ? inner : `/${inner}`;
    reply.hijack();
    app.routing(raw, reply.raw);
  });
  // Catch-alls so the hook above sees every request under the prefix; what the engine doesn't route falls through.
  const notMounted = (_req: FastifyRequest, reply: FastifyReply) => reply.callNotFound();
  fastify.all('/', notMounted);
  fastify.all('/*', notMounted);
};
