// Records every package module the process resolves (ESM resolve hook, reported on the main thread
// through a port) so a test can list what importing the library entry loads. CommonJS modules
// required from CommonJS show up in require.cache instead; the test reads both.
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
globalThis.__resolvedUrls = [];
port1.on('message', (url) => globalThis.__resolvedUrls.push(url));
port1.unref();
register(
  'data:text/javascript,' +
    encodeURIComponent(`
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  port.postMessage(r.url);
  return r;
}`),
  { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] },
);
