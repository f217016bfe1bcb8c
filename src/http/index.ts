/**
 * 'checkout-engine/http': the Salesforce-shaped HTTP API (Fastify). `startServer` listens on its
 * own; `checkoutEngine` mounts the same API as a plugin on your Fastify app; `buildServer` builds
 * it without listening (e.g. for `app.inject` in tests).
 * @example
 *   import { createCheckoutEngine } from 'checkout-engine';
 *   import { startServer } from 'checkout-engine/http';
 *   const server = await startServer(await createCheckoutEngine({ storage: './checkout.db' }), { port: 3000 });
 */
export {
  buildServer,
  startServer,
  redactUrl,
  DEFAULT_LOGIN_LIMITS,
  type ListenOptions,
  type LoginLimit,
  type LoginLimits,
  type RunningServer,
  type ServerOptions,
} from './server.js';
export { checkoutEngine, type CheckoutEnginePluginOptions } from './plugin.js';
