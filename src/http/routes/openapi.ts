/** The OpenAPI 3.1 document of every route the table documents, one per public base URL. */
import { openApiDocument } from '../describe.js';
import type { RouteGroup } from '../routing.js';

export const openApiRoutes: RouteGroup = async (app, { engine, table, baseUrl }) => {
  const route = table.on(app);
  // One document per base URL (one, unless buildServer is used without a public URL on several interfaces).
  const openapi = new Map<string, Record<string, unknown>>();
  route(
    {
      method: 'GET',
      url: '/openapi.json',
      summary: 'This OpenAPI document',
      auth: true,
      responses: { 200: { description: 'OpenAPI 3.1' } },
    },
    async (req) => {
      const base = baseUrl(req);
      if (!openapi.has(base)) openapi.set(base, openApiDocument(table.documented, engine.describeActions(), base));
      return openapi.get(base);
    },
  );
};
