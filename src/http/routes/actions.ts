/** Invocable actions: the action kinds, the standard actions (list, describe) and their invocation. */
import { z } from 'zod';
import { requireAction } from '../../actions/index.js';
import { describeAction, listActions } from '../describe.js';
import { JSON_TYPE, resultsJson } from '../json-writers.js';
import { apiVersion, VersionParams, type RouteGroup } from '../routing.js';

const ActionParams = VersionParams.extend({ action: z.string().min(1) });
const InvokeBody = z.strictObject({ inputs: z.array(z.unknown()) });

export const actionRoutes: RouteGroup = async (app, { engine, table }) => {
  const route = table.on(app);
  route(
    {
      method: 'GET',
      url: '/services/data/:version/actions',
      summary: 'Action kinds',
      auth: true,
      schema: { params: VersionParams },
      responses: { 200: { description: 'Action kinds' } },
    },
    async (req) => {
      const v = apiVersion(req.params.version);
      return { standard: `/services/data/v${v}/actions/standard`, custom: `/services/data/v${v}/actions/custom` };
    },
  );
  route(
    {
      method: 'GET',
      url: '/services/data/:version/actions/standard',
      summary: 'List standard actions',
      auth: true,
      schema: { params: VersionParams },
      responses: { 200: { description: 'Actions' } },
    },
    async (req) => listActions(engine.describeActions(), apiVersion(req.params.version)),
  );
  route(
    {
      method: 'GET',
      url: '/services/data/:version/actions/standard/:action',
      summary: 'Describe an action',
      auth: true,
      hidden: true,
      schema: { params: ActionParams },
      responses: {},
    },
    async (req) => {
      apiVersion(req.params.version);
      // The engine's list includes actions of custom flow steps; requireAction words the NOT_FOUND.
      return describeAction(engine.describeActions().find((a) => a.name === req.params.action) ?? requireAction(req.params.action));
    },
  );
  route(
    {
      method: 'POST',
      url: '/services/data/:version/actions/standard/:action',
      summary: 'Invoke an action',
      auth: true,
      hidden: true,
      schema: { params: ActionParams, body: InvokeBody },
      responses: {},
    },
    async (req, reply) => {
      apiVersion(req.params.version);
      // More inputs than one invocation takes: TOO_MANY_INPUTS (400) from the engine, before any work.
      const results = await engine.invokeAs(req.caller, req.params.action, req.body.inputs);
      const failed = results.find((r) => !r.isSuccess);
      // The results without their httpStatus, written directly (src/http/json-writers.ts).
      return reply
        .code(failed ? failed.httpStatus : 200)
        .type(JSON_TYPE)
        .send(resultsJson(results));
    },
  );
};
