/** sObjects: describeGlobal, an object's basics and describe, and a record's read, create, update and delete. */
import { z } from 'zod';
import { findObject } from '../../domain/objects.js';
import { EngineError } from '../../errors.js';
import { describeGlobal, describeObject, describeObjectBasic } from '../describe.js';
import { JSON_TYPE, recordJson } from '../json-writers.js';
import { apiVersion, VersionParams, type RouteGroup } from '../routing.js';

const TypeParams = VersionParams.extend({ type: z.string().min(1).describe('sObject API name') });
const RecordParams = TypeParams.extend({ id: z.string().describe('Record id (15 or 18 characters)') });
const RecordBody = z.record(z.string(), z.unknown());
const FieldsQuery = z.object({ fields: z.string().optional().describe('Comma-separated field names to return') });

/** The object behind a `/sobjects/{Type}` URL; an unknown one is a missing resource (404), as in Salesforce. */
function sobjectType(name: string) {
  const object = findObject(name);
  if (!object) throw new EngineError('NOT_FOUND', `No sObject type '${name}' (see GET /sobjects for the supported ones).`, ['type']);
  return object;
}

export const sObjectRoutes: RouteGroup = async (app, { engine, table }) => {
  const route = table.on(app);
  route(
    {
      method: 'GET',
      url: '/services/data/:version/sobjects',
      summary: 'describeGlobal',
      auth: true,
      schema: { params: VersionParams },
      responses: { 200: { description: 'Objects' } },
    },
    async (req) => describeGlobal(apiVersion(req.params.version)),
  );
  route(
    {
      method: 'GET',
      url: '/services/data/:version/sobjects/:type',
      summary: 'Object basics',
      auth: true,
      hidden: true,
      schema: { params: TypeParams },
      responses: {},
    },
    async (req) => {
      const v = apiVersion(req.params.version);
      return { objectDescribe: describeObjectBasic(sobjectType(req.params.type), v), recentItems: [] };
    },
  );
  route(
    {
      method: 'GET',
      url: '/services/data/:version/sobjects/:type/describe',
      summary: 'Describe an object',
      auth: true,
      hidden: true,
      schema: { params: TypeParams },
      responses: {},
    },
    async (req) => describeObject(sobjectType(req.params.type), apiVersion(req.params.version)),
  );
  route(
    {
      method: 'GET',
      url: '/services/data/:version/sobjects/:type/:id',
      summary: 'Get a record',
      auth: true,
      hidden: true,
      schema: { params: RecordParams, querystring: FieldsQuery },
      responses: {},
    },
    async (req, reply) => {
      const v = apiVersion(req.params.version);
      const object = sobjectType(req.params.type);
      const rec = await engine.getRecordAs(req.caller, object.name, req.params.id);
      // `{ attributes: { type, url }, ...record }`, written directly (src/http/json-writers.ts).
      if (req.query.fields === undefined) return reply.type(JSON_TYPE).send(recordJson(v, object.name, rec));
      const byLower = new Map(Object.keys(rec).map((k) => [k.toLowerCase(), k]));
      const out: Record<string, unknown> = { Id: rec.Id };
      for (const raw of req.query.fields
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean)) {
        const k = byLower.get(raw.toLowerCase());
        if (!k) throw new EngineError('INVALID_FIELD', `No such column '${raw}' on sObject of type ${object.name}.`, [raw]);
        out[k] = rec[k];
      }
      return reply.type(JSON_TYPE).send(recordJson(v, object.name, out));
    },
  );
  route(
    {
      method: 'POST',
      url: '/services/data/:version/sobjects/:type',
      summary: 'Create a record',
      auth: true,
      hidden: true,
      schema: { params: TypeParams, body: RecordBody },
      responses: {},
    },
    async (req, reply) => {
      apiVersion(req.params.version);
      const res = await engine.createRecordAs(req.caller, sobjectType(req.params.type).name, req.body);
      return reply.code(201).send(res);
    },
  );
  route(
    {
      method: 'PATCH',
      url: '/services/data/:version/sobjects/:type/:id',
      summary: 'Update a record',
      auth: true,
      hidden: true,
      schema: { params: RecordParams, body: RecordBody },
      responses: {},
    },
    async (req, reply) => {
      apiVersion(req.params.version);
      await engine.updateRecordAs(req.caller, sobjectType(req.params.type).name, req.params.id, req.body);
      return reply.code(204).send();
    },
  );
  route(
    {
      method: 'DELETE',
      url: '/services/data/:version/sobjects/:type/:id',
      summary: 'Delete a record',
      auth: true,
      hidden: true,
      schema: { params: RecordParams },
      responses: {},
    },
    async (req, reply) => {
      apiVersion(req.params.version);
      await engine.deleteRecordAs(req.caller, sobjectType(req.params.type).name, req.params.id);
      return reply.code(204).send();
    },
  );
};
