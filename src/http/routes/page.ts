/**
 * The engine's own statechart page, served by `serve` at `/`, offline (every asset comes from the
 * engine, no CDN): the active flows drawn as statecharts laid out by elkjs on the server, the
 * sessions the signed-in user may read (filter by state, cart, error), and for a chosen session its
 * current state and the path it took highlighted, with its history beside it, updated live by
 * server-sent events. Loaded Flow metadata flows are drawn from their element graphs (`flow:<apiName>`),
 * and the user's flow interviews are listed: a chosen one highlights the element it stands on. The page itself is public; it signs in through the OAuth2 token endpoint
 * and calls the JSON routes below with the bearer token, like any API client.
 */
import { z } from 'zod';
import { PAGE_HTML, PAGE_JS, PAGE_CSS, PAGE_ICON } from '../page-assets.js';
import { StreamHub } from '../streams.js';
import { flowMetadataCharts } from '../../inspect/interviews.js';
import { securityHeaders } from '../headers.js';
import { logRequest } from '../request-log.js';
import { apiVersion, type RouteGroup } from '../routing.js';
import { flowCharts } from '../../inspect/attach.js';

const SessionsQuery = z.object({
  state: z.string().max(80).optional().describe('Only sessions in this State'),
  cart: z.string().max(18).optional().describe('Only sessions of this cart id (15 or 18 characters, or a prefix)'),
  error: z.enum(['true', 'false']).optional().describe('Only sessions in error (true) or not (false)'),
  archived: z.enum(['true', 'false']).optional().describe('Include archived sessions (default false)'),
});
const HistoryParams = z.object({ version: z.string(), id: z.string().describe('CartCheckoutSession id') });

/**
 * The page, its assets, and its JSON routes (flows, sessions, history, live events), entered in the
 * route table like the API's, so authentication and errors work as for the API.
 */
export const pageRoutes: RouteGroup = async (app, { engine, table, streams }) => {
  const route = table.on(app);
  const hub = new StreamHub(engine, streams, securityHeaders('/page/api/events'));
  // Streams end once the events already recorded were checked and sent.
  app.addHook('preClose', () => hub.closeAll());

  route({ method: 'GET', url: '/', summary: 'The statechart page', auth: false, hidden: true, responses: {} }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(PAGE_HTML),
  );
  route(
    { method: 'GET', url: '/page/app.js', summary: 'Statechart page script', auth: false, hidden: true, responses: {} },
    async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(PAGE_JS),
  );
  route(
    { method: 'GET', url: '/page/app.css', summary: 'Statechart page styles', auth: false, hidden: true, responses: {} },
    async (_req, reply) => reply.type('text/css; charset=utf-8').send(PAGE_CSS),
  );
  for (const url of ['/page/favicon.svg', '/favicon.ico']) {
    route({ method: 'GET', url, summary: 'Statechart page icon', auth: false, hidden: true, responses: {} }, async (_req, reply) =>
      reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(PAGE_ICON),
    );
  }

  route(
    {
      method: 'GET',
      url: '/page/api/flows',
      summary: 'Every registered flow as a statechart laid out by elkjs',
      auth: true,
      responses: { 200: { description: '[{ id, width, height, nodes, edges }]' } },
    },
    // The session flows, then every loaded Flow metadata flow (`flow:<apiName>`, drawn from its element graph).
    async () => [...(await flowCharts(engine)), ...(await flowMetadataCharts(engine))],
  );

  route(
    {
      method: 'GET',
      url: '/page/api/sessions',
      summary: 'Checkout sessions the user may read, newest first (at most 200), filtered',
      auth: true,
      schema: { querystring: SessionsQuery },
      responses: { 200: { description: '{ records }' } },
    },
    async (req) => {
      const q = req.query;
      const where = q.archived === 'true' ? '' : ' WHERE IsArchived = false';
      const res = await engine.query(
        `SELECT Id, WebCartId, State, NextState, IsProcessing, IsError, IsArchived, OrderId, CreatedDate, LastModifiedDate FROM CartCheckoutSession${where} ORDER BY CreatedDate DESC LIMIT 200`,
        {
          userId: req.userId,
        },
      );
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
      schema: { params: HistoryParams },
      responses: {
        200: { description: '{ sessionId, flowId, history }' },
        404: { description: 'NOT_FOUND (no such session, or not readable by the user)' },
      },
    },
    async (req) => {
      const p = req.params;
      apiVersion(p.version);
      const history = await engine.getHistory(p.id, { userId: req.userId });
      const session = await engine.getRecord('CartCheckoutSession', p.id, { userId: req.userId });
      return {
        sessionId: session.Id,
        flowId: history[0]?.flowId ?? (await engine.flowOfSession(String(session.Id))),
        state: session.State,
        history,
      };
    },
  );

  route(
    {
      method: 'GET',
      url: '/page/api/interviews',
      summary: "The user's flow interviews, newest first (at most 200), with the element each stands on",
      auth: true,
      responses: {
        200: { description: '{ records: [{ id, flowApiName, status, currentElement, stack, cartId, createdDate, lastModifiedDate }] }' },
      },
    },
    async (req) => ({ records: await engine.listInterviews({ userId: req.userId }) }),
  );

  route(
    {
      method: 'GET',
      url: '/page/api/interviews/:id',
      summary:
        "One of the user's flow interviews with the element it stands on; its flow's chart is `flow:<flowApiName>` in /page/api/flows",
      auth: true,
      schema: { params: z.object({ id: z.string().describe('FlowInterview id') }) },
      responses: {
        200: { description: '{ id, flowApiName, status, currentElement, stack, cartId, createdDate, lastModifiedDate }' },
        404: { description: "NOT_FOUND (no such interview, or another user's)" },
      },
    },
    async (req) => engine.interviewSummary(req.params.id, { userId: req.userId }),
  );

  const EventsQuery = z.object({
    session: z.string().max(18).optional().describe('Only this CartCheckoutSession (the stream ends when it stops being readable)'),
  });
  route(
    {
      method: 'GET',
      url: '/page/api/events',
      summary:
        'Server-sent events: every recorded event of the sessions the user may read (or of one, ?session=), live; the caller is re-checked on every event',
      auth: true,
      schema: { querystring: EventsQuery },
      responses: {
        200: {
          description: 'text/event-stream: `event: session` per history entry; a last `event: closed` with { reason } when access ends',
        },
        404: { description: 'NOT_FOUND (?session= names no session the user may read)' },
        429: { description: 'REQUEST_LIMIT_EXCEEDED (too many open streams for the user or the server)' },
      },
    },
    async (req, reply) => {
      const q = req.query;
      let sessionId: string | null = null;
      if (q.session) sessionId = String((await engine.getRecordAs(req.caller, 'CartCheckoutSession', q.session)).Id);
      hub.start(req, reply, sessionId);
      logRequest(req, reply);
    },
  );
};
