/**
 * Marks a Fastify plugin as not encapsulated, so the hooks, handlers and decorations it adds land on
 * the instance that registers it (the root app) rather than on a child only its own routes see —
 * what `fastify-plugin` does. `fastify-plugin` is in node_modules only as a dependency of
 * @fastify/* packages, not one of ours, so instead of importing it we set the two symbols it sets:
 * Fastify skips the child context for a function carrying `Symbol.for('skip-override')`, and names
 * the plugin in its errors and `printPlugins()` after `Symbol.for('fastify.display-name')`.
 */
import type { FastifyPluginAsync, FastifyPluginOptions } from 'fastify';

/** `plugin`, registered without encapsulation (fastify-plugin semantics). */
export function unencapsulated<O extends FastifyPluginOptions>(name: string, plugin: FastifyPluginAsync<O>): FastifyPluginAsync<O> {
  return Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: name });
}
