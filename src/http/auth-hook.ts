/**
 * Authentication of every request, before its body is parsed (so an unauthenticated caller learns
 * nothing about the body): a route the table marks public passes; any other needs
 * `Authorization: Bearer <token>` (or `OAuth <token>`) of a live token, whose user becomes
 * `req.userId` and `req.caller`. While the app closes, new requests get ENGINE_CLOSED.
 */
import type { Caller, CheckoutEngine } from '../engine/engine.js';
import { EngineError } from '../errors.js';
import { sendError } from './rest-errors.js';
import type { RouteTable } from './routing.js';
import { unencapsulated } from './unencapsulated.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated Salesforce user id. */
    userId: string;
    /** The authenticated user as loaded at authentication: routes call the engine's `…As` methods with it, so it isn't read twice. */
    caller: Caller;
  }
}

/** The auth hook and the request's `userId` / `as`, on the root app (every route group sees them). */
export const authHook = unencapsulated<{ engine: CheckoutEngine; table: RouteTable }>('auth-hook', async (app, { engine, table }) => {
  app.decorateRequest('userId', '');
  // Set by the hook below before any handler runs; Fastify 5 decorates with null, not an object shared by every request.
  app.decorateRequest('caller', null as unknown as Caller);
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  // A callback hook: it runs on every request, and an async one costs a promise and a microtask turn.
  app.addHook('onRequest', (req, reply, done) => {
    if (closing) return void sendError(reply.header('connection', 'close'), new EngineError('ENGINE_CLOSED'));
    // HEAD is GET without a body: public where GET is.
    if (table.isPublic(req.method === 'HEAD' ? 'GET' : req.method, req.routeOptions.url ?? '')) return done();
    const header = req.headers.authorization ?? '';
    const m = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(header);
    if (!m) return void sendError(reply, new EngineError('INVALID_SESSION', 'Send the access_token as "Authorization: Bearer <token>".'));
    engine.authenticateCaller(m[1]!).then((caller) => {
      if (!caller) return void sendError(reply, new EngineError('INVALID_SESSION'));
      req.userId = caller.Id;
      // The user this request authenticated as, handed to the engine (`invokeAs`…) so it isn't read twice.
      req.caller = caller;
      done();
    }, done);
  });
});
