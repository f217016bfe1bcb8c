/** SOQL: `GET /query?q=…` (relationships, child subqueries, aggregates; see docs/soql.md). */
import { z } from 'zod';
import { EngineError } from '../../errors.js';
import { apiVersion, VersionParams, type RouteGroup } from '../routing.js';

const QueryQuery = z.object({
  q: z.string().optional().describe('SOQL: SELECT fields FROM object [WHERE … AND …] [ORDER BY …] [LIMIT n]'),
});

export const queryRoutes: RouteGroup = async (app, { engine, table }) => {
  const route = table.on(app);
  route(
    {
      method: 'GET',
      url: '/services/data/:version/query',
      summary: 'Run a SOQL query (relationships, child subqueries, aggregates, AND/OR/NOT; see docs/soql.md)',
      auth: true,
      schema: { params: VersionParams, querystring: QueryQuery },
      responses: { 200: { description: '{ totalSize, done, records }' }, 400: { description: 'MALFORMED_QUERY or INVALID_FIELD' } },
    },
    async (req) => {
      const version = apiVersion(req.params.version);
      if (!req.query.q?.trim()) throw new EngineError('MALFORMED_QUERY', "Pass the SOQL text as the 'q' query parameter.", ['q']);
      return engine.queryAs(req.caller, req.query.q, version);
    },
  );
};
