// A resolve hook that fails the import of any Fastify module, to prove the library entry never loads one.
import { register } from 'node:module';
register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (/^(fastify|@fastify\\/)/.test(specifier)) throw new Error('the library entry loaded ' + specifier);
  return next(specifier, context);
}`),
);
