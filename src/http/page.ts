/**
 * The engine's own statechart page, served by `serve` at `/`, offline (every asset comes from the
 * engine, no CDN): the active flows drawn as statecharts laid out by elkjs on the server, the
 * sessions the signed-in user may read (filter by state, cart, error), and for a chosen session its
 * current state and the path it took highlighted, with its history beside it, updated live by
 * server-sent events. The page itself is public; it signs in through the OAuth2 token endpoint
 * and calls the JSON routes below with the bearer token, like any API client.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CheckoutEngine } from '../engine/engine.js';
import type { HistoryEntry } from '../engine/sessions.js';
import { EngineError } from '../errors.js';
import { PAGE_HTML, PAGE_JS, PAGE_CSS } from './page-assets.js';

/** The subset of the server's route helper the page uses. */
type RouteFn = (
  doc: { method: 'GET'; url: string; summary: string; auth: boolean; hidden?: boolean; params?: z.ZodType; querystring?: z.ZodType; responses: Record<number, { description: string }> },
  handler: (req: FastifyRequest<any>, reply: FastifyReply) => Promise<unknown>,
) => void;

const SessionsQuery = z.object({
  state: z.string().max(80).optional().describe('Only sessions in this State'),
  cart: z.string().max(18).optional().describe('Only sessions of this cart id (15 or 18 characters, or a prefix)'),
  error: z.enum(['true', 'false']).optional().describe('Only sessions in error (true) or not (false)'),
  archived: z.enum(['true', 'false']).optional().describe('Include archived sessions (default false)'),
});
const HistoryParams = z.object({ version: z.string(), id: z.string().describe('CartCheckoutSession id') });

/**
 * Registers the page, its assets, and its JSON routes (flows, sessions, history, live events).
 * `route` is the server's route helper, so authentication and errors work as for the API.
 */
export function registerPage(app: FastifyInstance, engine: CheckoutEngine, route: RouteFn, checkVersion: (segment: string) => string): void {
  const streams = new Set<FastifyReply>();
  app.addHook('preClose', async () => {
    for (const r of streams) r.raw.end();
    streams.clear();
  });

  route({ method: 'GET', url: '/', summary: 'The statechart page', auth: false, hidden: true, responses: {} }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(PAGE_HTML),
  );
  route({ method: 'GET', url: '/page/app.js', summary: 'Statechart page script', auth: false, hidden: true, responses: {} }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').send(PAGE_JS),
  );
  route({ method: 'GET', url: '/page/app.css', summary: 'Statechart page styles', auth: false, hidden: true, responses: {} }, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').send(PAGE_CSS),
  );

  route(
    { method: 'GET', url: '/page/api/flows', summary: 'Every registered flow as a statechart laid out by elkjs', auth: true, responses: { 200: { description: '[{ id, width, height, nodes, edges }]' } } },
    async () => engine.flowCharts(),
  );

  route(
    {
      method: 'GET',
      url: '/page/api/sessions',
      summary: 'Checkout sessions the user may read, newest first (at most 200), filtered',
      auth: true,
      querystring: SessionsQuery,
      responses: { 200: { description: '{ records }' } },
    },
    async (req) => {
      const q = req.query as z.infer<typeof SessionsQuery>;
      const where = q.archived === 'true' ? '' : ' WHERE IsArchived = false';
      const res = await engine.query(`SELECT Id, WebCartId, State, NextState, IsProcessing, IsError, IsArchived, OrderId, CreatedDate, LastModifiedDate FROM CartCheckoutSession${where} ORDER BY CreatedDate DESC LIMIT 200`, {
        userId: req.userId,
      });
      const records = (res.records as Record<string, unknown>[])
        .map(({ attributes: _a, ...r }) => r)
        .filter((r) => (q.state ? String(r.State).toLowerCase() === q.state.toLowerCase() : true))
        .filter((r) => (q.cart ? String(r.WebCartId).startsWith(q.cart) : true))
        .filter((r) => (q.error ? String(r.IsError === true) === q.error : true));
      return { records };
    },
  );

  route(
    {
      method: 'GET',
      url: '/services/data/:version/checkout-sessions/:id/history',
      summary: "A checkout session's history: every event offered to it, applied or rejected, with states, operation, caller and time",
      auth: true,
      params: HistoryParams,
      responses: { 200: { description: '{ sessionId, flowId, history }' }, 404: { description: 'NOT_FOUND (no such session, or not readable by the user)' } },
    },
    async (req) => {
      const p = req.params as z.infer<typeof HistoryParams>;
      checkVersion(p.version);
      const history = await engine.getHistory(p.id, { userId: req.userId });
      const session = await engine.getRecord('CartCheckoutSession', p.id, { userId: req.userId });
      return { sessionId: session.Id, flowId: history[0]?.flowId ?? (await engine.flowOfSession(String(session.Id))), state: session.State, history };
    },
  );

  route(
    { method: 'GET', url: '/page/api/events', summary: 'Server-sent events: every recorded event of the sessions the user may read, live', auth: true, responses: { 200: { description: 'text/event-stream' } } },
    async (req, reply) => {
      const userId = req.userId;
      const readable = new Map<string, Promise<boolean>>();
      const canRead = (id: string) => {
        let p = readable.get(id);
        if (!p) {
          p = engine.getRecord('CartCheckoutSession', id, { userId }).then(
            () => true,
            (e: unknown) => {
              if (e instanceof EngineError && e.status < 500) return false;
              throw e;
            },
          );
          if (readable.size > 10_000) readable.clear();
          readable.set(id, p);
        }
        return p;
      };
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      reply.raw.write(': connected\n\n');
      streams.add(reply);
      // Entries are sent in the order they were recorded, even though access checks are async.
      let chain = Promise.resolve();
      const off = engine.onSessionEvent((entry: HistoryEntry) => {
        chain = chain
          .then(async () => {
            if (await canRead(entry.sessionId)) reply.raw.write(`event: session\ndata: ${JSON.stringify(entry)}\n\n`);
          })
          .catch(() => {});
      });
      const ping = setInterval(() => reply.raw.write(': ping\n\n'), 15_000);
      ping.unref();
      reply.raw.on('close', () => {
        off();
        clearInterval(ping);
        streams.delete(reply);
      });
    },
  );
}
