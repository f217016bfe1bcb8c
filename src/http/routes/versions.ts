/** The API versions (public, as Salesforce documents them) and the resources of a version. */
import { ORG_ID } from '../../engine/tokens.js';
import { API_VERSIONS, releaseName } from '../describe.js';
import { apiVersion, VersionParams, type RouteGroup } from '../routing.js';

export const versionRoutes: RouteGroup = async (app, { table, baseUrl }) => {
  const route = table.on(app);
  // Salesforce documents the versions list as "Authentication: none".
  route(
    {
      method: 'GET',
      url: '/services/data',
      summary: 'API versions (no token needed)',
      auth: false,
      responses: { 200: { description: 'Versions' } },
    },
    async () => API_VERSIONS.map((v) => ({ label: releaseName(v), url: `/services/data/v${v}`, version: v })),
  );
  route(
    {
      method: 'GET',
      url: '/services/data/:version',
      summary: 'Resources of a version',
      auth: true,
      schema: { params: VersionParams },
      responses: { 200: { description: 'Resources' } },
    },
    async (req) => {
      const v = apiVersion(req.params.version);
      const b = `/services/data/v${v}`;
      return {
        sobjects: `${b}/sobjects`,
        query: `${b}/query`,
        actions: `${b}/actions`,
        identity: `${baseUrl(req)}/id/${ORG_ID}/${req.userId}`,
      };
    },
  );
};
