/**
 * Salesforce-shaped metadata documents, all derived from the one object table and the action
 * definitions, so describe, validation and the OpenAPI document can't drift apart: sObject describe
 * and describeGlobal, invocable action describe, and the OpenAPI 3.1 document of the HTTP API.
 */
import { z } from 'zod';
import type { ActionDef, ActionParam } from '../actions/types.js';
import { Decimal } from '../domain/money.js';
import { allFields, OBJECTS, type FieldDef, type ObjectDef } from '../domain/objects.js';
import { numberRange } from '../domain/records.js';
import { allows, fieldWriter, objectWriter } from '../domain/write-rules.js';

/** API versions served (`vNN.0`); the spec accepts 50.0 and later. */
export const API_VERSIONS = Array.from({ length: 15 }, (_, i) => `${50 + i}.0`);

/** The newest served API version. */
export const LATEST_VERSION = API_VERSIONS[API_VERSIONS.length - 1]!;

/**
 * The Salesforce release that introduced an API version, as `GET /services/data` labels it:
 * three releases a year (Spring, Summer, Winter), Winter named after the next year; 50.0 is
 * Winter '21, 62.0 Winter '25, 64.0 Summer '25.
 */
export function releaseName(version: string): string {
  const i = Number.parseInt(version, 10) - 50;
  const season = ['Winter', 'Spring', 'Summer'][((i % 3) + 3) % 3]!;
  const year = 21 + Math.floor(i / 3);
  return `${season} '${String(year).padStart(2, '0')}`;
}

const SF_TYPES: Record<FieldDef['type'], string> = {
  string: 'string',
  picklist: 'picklist',
  reference: 'reference',
  number: 'double',
  currency: 'currency',
  integer: 'int',
  boolean: 'boolean',
  date: 'date',
  datetime: 'datetime',
  // A JSON list of strings (User.Permissions); Salesforce's closest type is anyType.
  stringList: 'anyType',
  password: 'encryptedstring',
};

// Describe shows what ModifyAllData may write (the write rules of objects.ts); a buyer writes less
// (docs/guarantees.md).
const adminMay = (object: ObjectDef, verb: 'create' | 'update' | 'delete') => allows(objectWriter(object, verb), 'admin');
const adminWrites = (f: FieldDef) => allows(fieldWriter(f), 'admin');

/** One field as Salesforce's describe returns it (the properties clients read). */
function describeField(object: ObjectDef, f: FieldDef) {
  const isId = f.name === 'Id';
  return {
    name: f.name,
    label: f.name.replace(/([a-z])([A-Z])/g, '$1 $2'),
    type: isId ? 'id' : SF_TYPES[f.type],
    length: f.type === 'string' ? (f.maxLength ?? 255) : isId || f.type === 'reference' ? 18 : 0,
    precision: f.precision ?? 0,
    scale: f.scale ?? 0,
    nillable: !f.required && !isId,
    createable: adminWrites(f) && adminMay(object, 'create'),
    // A session's fields (State above all) are written through updates; operations never are.
    updateable: adminWrites(f) && f.fixed !== true && adminMay(object, 'update'),
    filterable: f.type !== 'stringList' && f.type !== 'password',
    sortable: f.type !== 'stringList' && f.type !== 'password',
    defaultedOnCreate: f.default !== undefined,
    defaultValue: f.default ?? null,
    picklistValues: (f.values ?? []).map((v) => ({ active: true, defaultValue: f.default === v, label: v, value: v })),
    referenceTo: isId ? [] : [...(f.to ?? [])],
    relationshipName: null,
    custom: false,
  };
}

/** Object-level urls Salesforce puts in describe results. */
function objectUrls(version: string, name: string) {
  const base = `/services/data/v${version}/sobjects/${name}`;
  return { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` };
}

/** The short description of an object (describeGlobal entries and `GET /sobjects/{Type}`). */
export function describeObjectBasic(object: ObjectDef, version: string) {
  return {
    name: object.name,
    label: object.label,
    labelPlural: `${object.label}s`,
    keyPrefix: object.keyPrefix,
    custom: false,
    createable: adminMay(object, 'create'),
    updateable: adminMay(object, 'update'),
    deletable: adminMay(object, 'delete'),
    queryable: true,
    retrieveable: true,
    searchable: false,
    urls: objectUrls(version, object.name),
  };
}

/** Full sObject describe: the basic description plus every field. */
export function describeObject(object: ObjectDef, version: string) {
  return { ...describeObjectBasic(object, version), fields: allFields(object).map((f) => describeField(object, f)) };
}

/** describeGlobal (`GET /sobjects`). */
export function describeGlobal(version: string) {
  return { encoding: 'UTF-8', maxBatchSize: 200, sobjects: [...OBJECTS.values()].map((o) => describeObjectBasic(o, version)) };
}

function describeParam(p: ActionParam) {
  return {
    name: p.name,
    label: p.name,
    description: p.description,
    type: p.type,
    required: p.required,
    maxOccurs: 1,
    sobjectType: null,
    picklistValues: null,
  };
}

/** Invocable action describe (`GET /actions/standard/{name}`): each input's and output's name, type and required flag. */
export function describeAction(def: ActionDef) {
  return {
    name: def.name,
    label: def.label,
    description: def.description,
    type: 'STANDARD',
    category: 'Commerce',
    inputs: def.inputs.map(describeParam),
    outputs: def.outputs.map(describeParam),
  };
}

/** The action list (`GET /actions/standard`). */
export function listActions(defs: readonly ActionDef[], version: string) {
  return {
    actions: defs.map((d) => ({
      name: d.name,
      label: d.label,
      type: 'STANDARD',
      url: `/services/data/v${version}/actions/standard/${d.name}`,
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// OpenAPI

type Json = Record<string, unknown>;

/** A JSON schema of one field's value, from the same metadata the zod record schemas come from. */
function fieldJsonSchema(f: FieldDef): Json {
  const nullable = (s: Json): Json => ({ anyOf: [s, { type: 'null' }] });
  switch (f.type) {
    case 'string':
      return nullable({ type: 'string', maxLength: f.maxLength ?? 255 });
    case 'password':
      return { type: 'string', minLength: 1, writeOnly: true };
    case 'picklist':
      return nullable({ type: 'string', enum: [...(f.values ?? [])] });
    case 'reference':
      return nullable({
        type: 'string',
        pattern: '^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$',
        description: `Id of ${(f.to ?? ['any record']).join(' or ')}`,
      });
    case 'number':
    case 'currency': {
      const r = numberRange(f);
      const max = r.limit ? r.limit.minus(new Decimal(10).pow(-(r.scale ?? 0))).toNumber() : undefined;
      const min = r.min ?? (max === undefined ? undefined : -max);
      const bounds: Json = {};
      if (min !== undefined) bounds[r.minExclusive ? 'exclusiveMinimum' : 'minimum'] = min;
      if (max !== undefined) bounds.maximum = max;
      return nullable({ type: 'number', ...bounds });
    }
    case 'integer':
      return nullable({
        type: 'integer',
        ...(f.min !== undefined ? { minimum: f.min } : {}),
        ...(f.max !== undefined ? { maximum: f.max } : {}),
      });
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return nullable({ type: 'string', format: 'date' });
    case 'datetime':
      return nullable({ type: 'string', format: 'date-time' });
    case 'stringList':
      return { type: 'array', items: { type: 'string' } };
  }
}

/** JSON schema of an object's record; `write` drops read-only fields and forbids unknown ones. */
function objectJsonSchema(object: ObjectDef, write: boolean): Json {
  const properties: Json = {};
  for (const f of allFields(object)) {
    if (write && f.readOnly) continue;
    if (!write && f.writeOnly) continue;
    properties[f.name] = { ...fieldJsonSchema(f), ...(f.readOnly ? { readOnly: true } : {}) };
  }
  return { type: 'object', properties, additionalProperties: false, ...(write ? {} : { required: ['Id'] }) };
}

const ERROR_BODY: Json = {
  type: 'array',
  items: {
    type: 'object',
    properties: { message: { type: 'string' }, errorCode: { type: 'string' }, fields: { type: 'array', items: { type: 'string' } } },
    required: ['message', 'errorCode'],
  },
};

const ACTION_RESULT: Json = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      actionName: { type: 'string' },
      isSuccess: { type: 'boolean' },
      outputValues: { anyOf: [{ type: 'object' }, { type: 'null' }] },
      errors: {
        anyOf: [
          {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                statusCode: { type: 'string' },
                message: { type: 'string' },
                fields: { type: 'array', items: { type: 'string' } },
              },
            },
          },
          { type: 'null' },
        ],
      },
      version: { type: 'integer' },
    },
  },
};

/** A static route as the OpenAPI document lists it, with the zod schemas the server validates with. */
export interface RouteDoc {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  summary: string;
  auth: boolean;
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  /** Content type of the body (default application/json). */
  bodyType?: string;
  responses: Record<string, { description: string; schema?: Json }>;
}

const toOpenApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');
const zodJson = (s: z.ZodType): Json => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Json;

function parametersOf(r: { params?: z.ZodType; querystring?: z.ZodType }): Json[] {
  const out: Json[] = [];
  for (const [where, s] of [
    ['path', r.params],
    ['query', r.querystring],
  ] as const) {
    if (!s) continue;
    const js = zodJson(s) as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, schema] of Object.entries(js.properties ?? {})) {
      out.push({ name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema });
    }
  }
  return out;
}

function responsesOf(res: RouteDoc['responses']): Json {
  const out: Json = {};
  for (const [code, r] of Object.entries(res)) {
    out[code] = r.schema
      ? { description: r.description, content: { 'application/json': { schema: r.schema } } }
      : { description: r.description };
  }
  return out;
}

/** Builds the OpenAPI 3.1 document: the static routes, one path per object and one per action. */
export function openApiDocument(routes: readonly RouteDoc[], actions: readonly ActionDef[], serverUrl: string): Json {
  const paths: Record<string, Json> = {};
  const add = (path: string, method: string, op: Json) => ((paths[path] ??= {})[method.toLowerCase()] = op);
  const errors = (...codes: number[]) =>
    Object.fromEntries(codes.map((c) => [String(c), { description: 'Error', content: { 'application/json': { schema: ERROR_BODY } } }]));
  const security = [{ bearer: [] }];

  for (const r of routes) {
    add(toOpenApiPath(r.url), r.method, {
      summary: r.summary,
      ...(r.auth ? { security } : { security: [] }),
      parameters: parametersOf(r),
      ...(r.body ? { requestBody: { required: true, content: { [r.bodyType ?? 'application/json']: { schema: zodJson(r.body) } } } } : {}),
      responses: { ...responsesOf(r.responses), ...(r.auth ? errors(401) : {}) },
    });
  }

  const version = {
    name: 'version',
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: '^v\\d+\\.0$', example: `v${LATEST_VERSION}` },
  };
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$' } };
  const schemas: Record<string, Json> = { Error: ERROR_BODY, ActionResults: ACTION_RESULT };
  for (const o of OBJECTS.values()) {
    schemas[o.name] = objectJsonSchema(o, false);
    schemas[`${o.name}Write`] = objectJsonSchema(o, true);
    const ref = { $ref: `#/components/schemas/${o.name}` };
    const writeRef = { $ref: `#/components/schemas/${o.name}Write` };
    const base = `/services/data/{version}/sobjects/${o.name}`;
    add(`${base}/describe`, 'GET', {
      summary: `Describe ${o.name}`,
      security,
      parameters: [version],
      responses: { 200: { description: 'sObject describe' }, ...errors(401, 404) },
    });
    if (adminMay(o, 'create')) {
      add(base, 'POST', {
        summary: `Create a ${o.name}`,
        security,
        parameters: [version],
        requestBody: { required: true, content: { 'application/json': { schema: writeRef } } },
        responses: { 201: { description: 'Created: { id, success, errors }' }, ...errors(400, 401, 403) },
      });
    }
    add(`${base}/{id}`, 'GET', {
      summary: `Get a ${o.name}`,
      security,
      parameters: [version, idParam],
      responses: { 200: { description: o.name, content: { 'application/json': { schema: ref } } }, ...errors(400, 401, 404) },
    });
    if (!adminMay(o, 'update')) continue; // read-only over REST (BackgroundOperation)
    add(`${base}/{id}`, 'PATCH', {
      summary: `Update a ${o.name}`,
      security,
      parameters: [version, idParam],
      requestBody: { required: true, content: { 'application/json': { schema: writeRef } } },
      responses: { 204: { description: 'Updated' }, ...errors(400, 401, 403, 404, 409) },
    });
    if (!adminMay(o, 'delete')) continue; // sessions end through cancelCartAsyncOperation
    add(`${base}/{id}`, 'DELETE', {
      summary: `Delete a ${o.name}`,
      security,
      parameters: [version, idParam],
      responses: { 204: { description: 'Deleted' }, ...errors(400, 401, 403, 404) },
    });
  }
  for (const a of actions) {
    const input: Json = {
      type: 'object',
      additionalProperties: false,
      properties: {},
      required: a.inputs.filter((p) => p.required).map((p) => p.name),
    };
    for (const p of a.inputs)
      (input.properties as Json)[p.name] = { type: p.type === 'BOOLEAN' ? 'boolean' : 'string', description: p.description };
    schemas[`${a.name}Input`] = input;
    const path = `/services/data/{version}/actions/standard/${a.name}`;
    add(path, 'GET', {
      summary: `Describe ${a.name}`,
      security,
      parameters: [version],
      responses: { 200: { description: 'Action describe' }, ...errors(401, 404) },
    });
    add(path, 'POST', {
      summary: `Invoke ${a.name}: ${a.label}`,
      description: a.description,
      security,
      parameters: [version],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: false,
              required: ['inputs'],
              properties: { inputs: { type: 'array', items: { $ref: `#/components/schemas/${a.name}Input` } } },
            },
          },
        },
      },
      responses: {
        200: {
          description: 'Every input succeeded',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ActionResults' } } },
        },
        '4XX': {
          description: 'An input failed: the status of the first failed input; body is still the result array',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ActionResults' } } },
        },
        '5XX': { description: 'An input failed with a documented 5xx status (e.g. Invalid CartId Input)' },
      },
    });
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'checkout-engine',
      version: LATEST_VERSION,
      description: 'Salesforce-compatible REST API of the checkout engine (OAuth2, invocable actions, sObjects, SOQL).',
    },
    servers: [{ url: serverUrl }],
    components: {
      schemas,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'access_token from POST /services/oauth2/token' } },
    },
    paths,
  };
}
