/**
 * Flow interviews (docs/flow-runtime.md "Running interviews"): start an interview of a loaded flow,
 * read one, navigate one. Each runs as the token's user; another user's interview answers as a
 * missing one (404).
 */
import { z } from 'zod';
import { apiVersion, VersionParams, type RouteGroup } from '../routing.js';

const FlowParams = VersionParams.extend({ apiName: z.string().min(1).max(255).describe('The flow API name') });
const InterviewParams = VersionParams.extend({ id: z.string().describe('FlowInterview id (0Fo…, 15 or 18 characters)') });
const StartBody = z.strictObject({ inputs: z.record(z.string(), z.unknown()).optional().describe("The flow's input variables by name") });
const NavigateBody = z.strictObject({
  action: z.enum(['NEXT', 'BACK', 'FINISH', 'PAUSE']).describe('What the buyer chose on the screen'),
  answers: z.record(z.string(), z.record(z.string(), z.unknown())).optional().describe('Screen field name → output parameter → value'),
  waitMs: z.number().int().min(0).max(120_000).optional().describe('A Waiting interview: how long to keep re-checking (ms)'),
});

export const flowRoutes: RouteGroup = async (app, { engine, table }) => {
  const route = table.on(app);
  route(
    {
      method: 'POST',
      url: '/services/data/:version/flows/:apiName/interviews',
      summary: 'Start a flow interview',
      auth: true,
      schema: { params: FlowParams, body: StartBody },
      responses: {
        201: { description: 'The interview at its first screen, wait, finish or error' },
        404: { description: 'No loaded flow with this API name, or a cart input the user cannot read' },
      },
    },
    async (req, reply) => {
      apiVersion(req.params.version);
      const interview = await engine.startInterview(req.params.apiName, (req.body.inputs ?? {}) as Record<string, unknown>, {
        userId: req.caller.Id,
      });
      return reply.code(201).send(interview);
    },
  );
  route(
    {
      method: 'GET',
      url: '/services/data/:version/flows/interviews/:id',
      summary: 'Read a flow interview',
      auth: true,
      schema: { params: InterviewParams },
      responses: {
        200: { description: 'The interview as stored' },
        404: { description: "No such interview (another user's answers the same)" },
      },
    },
    async (req) => {
      apiVersion(req.params.version);
      return engine.getInterview(req.params.id, { userId: req.caller.Id });
    },
  );
  route(
    {
      method: 'POST',
      url: '/services/data/:version/flows/interviews/:id/navigate',
      summary: 'Navigate a flow interview',
      auth: true,
      schema: { params: InterviewParams, body: NavigateBody },
      responses: {
        200: { description: 'The interview after the navigation' },
        404: { description: "No such interview (another user's answers the same)" },
        409: { description: 'Another navigate of this interview is running, or the interview has ended' },
      },
    },
    async (req) => {
      apiVersion(req.params.version);
      return engine.navigate(req.params.id, req.body as Parameters<typeof engine.navigate>[1], { userId: req.caller.Id });
    },
  );
};
