/**
 * The local Stately inspector bridge of `serve --inspect` and `inspect <id>`: a small HTTP and
 * WebSocket server that relays the engine's inspection messages to the Stately inspector opened in
 * a browser. It replaces `@statelyai/inspect/server`'s `createInspectorServer`, which listens on
 * every interface, lets anyone connect and relays what anyone sends.
 *
 * - It listens on one host (the `serve` host, 127.0.0.1 by default).
 * - Every WebSocket connection must present the bridge secret (32 random bytes, generated at start
 *   unless given) as the `token` URL parameter: the engine connects to `ws://host:port/?token=…`;
 *   the browser page reads the secret from its URL fragment (`http://host:port/#token=…`, printed
 *   in the banner; a fragment is never sent to a server or put in a Referer) and does the same.
 *   A browser's WebSocket can't send headers, so the secret travels in the URL.
 * - A browser connection must come from an allowed Origin: the bridge page's own origins, the
 *   Stately inspector's (`https://stately.ai`) and the configured ones. A connection without an
 *   Origin header is a non-browser client (the engine) and needs only the secret.
 * - Only non-browser connections (producers) are relayed; browser connections (viewers) only
 *   receive, so a page can't inject messages into other viewers' inspectors.
 *
 * @example
 *   const bridge = await startInspectorBridge({ host: '127.0.0.1', port: 8080 });
 *   createCheckoutEngine({ inspect: bridge.wsUrl }); console.log(`open ${bridge.pageUrl}`);
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';

/** The Stately inspector the bridge page embeds, and its origin (allowed by default). */
export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';
export const STATELY_INSPECTOR_ORIGIN = 'https://stately.ai';

/** Messages a late viewer still gets on connecting. */
const BUFFER_SIZE = 200;

/** Options of `startInspectorBridge`. */
export interface InspectorBridgeOptions {
  /** Interface to bind (default 127.0.0.1). Binding another is a deliberate exposure: see docs/inspection.md. */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /** The secret clients present (default: 32 random bytes, base64url). */
  secret?: string;
  /** Further browser origins allowed to connect (e.g. `https://inspect.example`), besides the bridge's own and Stately's. */
  allowedOrigins?: readonly string[];
}

/** A running bridge. */
export interface InspectorBridge {
  /** The secret every WebSocket client presents. */
  readonly secret: string;
  /** Where the engine sends: `ws://host:port/?token=…`. */
  readonly wsUrl: string;
  /** The page to open in a browser: `http://host:port/#token=…`. */
  readonly pageUrl: string;
  /** The page without the secret (for logs). */
  readonly baseUrl: string;
  readonly port: number;
  /** The address it is bound to (e.g. 127.0.0.1). */
  readonly address: string;
  /** Every allowed browser origin. */
  readonly allowedOrigins: readonly string[];
  stop(): Promise<void>;
}

/** An origin as browsers send it (`scheme://host[:port]`), or an Error naming the bad value. */
export function normalizeOrigin(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new Error(`'${value}' is not an origin (scheme://host[:port]).`);
  }
  if (
    (u.protocol !== 'http:' && u.protocol !== 'https:') ||
    (u.pathname !== '/' && u.pathname !== '') ||
    u.search ||
    u.hash ||
    u.username
  ) {
    throw new Error(`'${value}' is not an origin (http(s)://host[:port], nothing after it).`);
  }
  return u.origin;
}

/** A host for a URL (IPv6 in brackets; a wildcard bind address shown as 127.0.0.1). */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

function pageHtml(): string {
  // The WebSocket address is the page's own; the secret comes from the fragment.
  return `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>Stately Inspector</title>
  <style>* { margin: 0; padding: 0; } html, body { height: 100%; } iframe { width: 100%; height: 100%; border: none; }</style>
</head>
<body>
  <iframe id="inspector" src="${STATELY_INSPECTOR_URL}"></iframe>
  <script>
    const INSPECTOR = ${JSON.stringify(STATELY_INSPECTOR_ORIGIN)};
    const iframe = document.getElementById('inspector');
    const buffer = [];
    let connected = false;
    window.addEventListener('message', (e) => {
      if (e.origin !== INSPECTOR || !e.data || e.data.type !== '@statelyai.connected') return;
      connected = true;
      for (const event of buffer.splice(0)) iframe.contentWindow.postMessage(event, INSPECTOR);
    });
    const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
    if (!token) document.title = 'Stately Inspector (open the address the engine printed: it carries #token=…)';
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/?token=' + encodeURIComponent(token));
    ws.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (connected) iframe.contentWindow.postMessage(data, INSPECTOR);
      else buffer.push(data);
    };
  </script>
</body>
</html>`;
}

/** Starts the bridge; resolves once it listens. */
export async function startInspectorBridge(opts: InspectorBridgeOptions = {}): Promise<InspectorBridge> {
  const host = opts.host ?? '127.0.0.1';
  const secret = opts.secret ?? randomBytes(32).toString('base64url');
  if (secret.length < 16) throw new Error('The inspector bridge secret must be at least 16 characters.');
  const expected = digest(secret);
  const extra = (opts.allowedOrigins ?? []).map(normalizeOrigin);
  const origins = new Set<string>();

  const app = Fastify({ logger: false });
  await app.register(websocket, { options: { maxPayload: 4 * 1024 * 1024 } });
  const buffer: string[] = [];
  const producers = new Set<import('ws').WebSocket>();
  const viewers = new Set<import('ws').WebSocket>();

  const refuse = (reply: FastifyReply, status: number, message: string) =>
    reply.code(status).header('connection', 'close').type('text/plain').send(message);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') return;
    const token = new URL(req.url, 'http://bridge').searchParams.get('token') ?? '';
    if (!timingSafeEqual(digest(token), expected))
      return refuse(reply, 401, 'The inspector bridge needs its secret: connect to ws://host:port/?token=<secret printed at start>.');
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin))
      return refuse(reply, 403, `Origin '${origin}' may not connect to the inspector bridge (allowed: ${[...origins].join(', ')}).`);
  });
  app.route({
    method: 'GET',
    url: '/',
    handler: async (_req, reply) =>
      reply
        .header(
          'content-security-policy',
          `default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-src ${STATELY_INSPECTOR_ORIGIN}; connect-src 'self'; frame-ancestors 'none'`,
        )
        .header('referrer-policy', 'no-referrer')
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(pageHtml()),
    wsHandler: (socket, req) => {
      // A browser (it sent an Origin) watches; anything else (the engine) produces.
      const viewer = req.headers.origin !== undefined;
      (viewer ? viewers : producers).add(socket);
      for (const msg of buffer) socket.send(msg);
      socket.on('close', () => (viewer ? viewers : producers).delete(socket));
      if (viewer) return;
      socket.on('message', (data: Buffer) => {
        const msg = data.toString();
        buffer.push(msg);
        if (buffer.length > BUFFER_SIZE) buffer.shift();
        for (const client of [...viewers, ...producers]) if (client !== socket && client.readyState === client.OPEN) client.send(msg);
      });
    },
  });

  await app.listen({ host, port: opts.port ?? 8080 });
  const { port, address } = app.server.address() as { port: number; address: string };
  const shown = urlHost(host);
  for (const h of new Set(['127.0.0.1', 'localhost', '[::1]', shown])) origins.add(`http://${h}:${port}`);
  origins.add(STATELY_INSPECTOR_ORIGIN);
  for (const o of extra) origins.add(o);
  const baseUrl = `http://${shown}:${port}`;
  return {
    secret,
    port,
    address,
    baseUrl,
    wsUrl: `ws://${shown}:${port}/?token=${encodeURIComponent(secret)}`,
    pageUrl: `${baseUrl}/#token=${encodeURIComponent(secret)}`,
    allowedOrigins: [...origins],
    stop: async () => {
      for (const s of [...viewers, ...producers]) s.terminate();
      await app.close();
    },
  };
}
