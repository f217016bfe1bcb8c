/**
 * Every failure in Salesforce's shapes: `[{ message, errorCode, fields }]` from the one error table
 * (src/errors.ts) — for the engine's errors, zod validation, Fastify's own (404, 405, 413, 415,
 * malformed JSON or URL) and Node's HTTP parser (431, 408, a bad request line) — and OAuth's
 * `{ error, error_description }` on the OAuth2 token and revoke endpoints.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { EngineError, toEngineError } from '../errors.js';
import { redactUrl } from './request-log.js';
import type { RouteTable } from './routing.js';
import { unencapsulated } from './unencapsulated.js';

/** Turns anything a route threw (engine, Fastify parsing, zod validation) into a table error. */
export function toRestError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const v = err.validation[0]!;
    const where = (err as { validationContext?: string }).validationContext ?? 'body';
    const keys = (v.params as { keys?: string[] })?.keys;
    const path = v.instancePath.split('/').filter(Boolean).join('.');
    const fields = keys?.length ? keys : path ? [path] : [];
    const name = fields.length ? `'${fields.join("', '")}'` : 'the request ' + where;
    if (keys?.length) return new EngineError('INVALID_FIELD', `Unknown ${where} field ${name}.`, fields);
    if (where === 'body' && path === '')
      return new EngineError('INVALID_INPUT', `The request body must be a JSON object: ${v.message}.`, fields);
    return new EngineError('INVALID_INPUT', `${where} ${name}: ${v.message}.`, fields);
  }
  const fe = err as Partial<FastifyError>;
  if (fe.statusCode === 413 || fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new EngineError('BODY_TOO_LARGE', fe.message ? `${fe.message}.` : undefined);
  if (fe.statusCode === 415 || fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new EngineError('UNSUPPORTED_MEDIA_TYPE');
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new EngineError('JSON_PARSER_ERROR', 'The body is empty.');
  // Fastify marks its JSON parse failures 400; a SyntaxError without it would be our own bug (500).
  if ((err instanceof SyntaxError && fe.statusCode === 400) || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY')
    return new EngineError('JSON_PARSER_ERROR', err instanceof Error ? err.message : undefined);
  if (fe.code === 'FST_ERR_BAD_URL' || fe.code === 'FST_ERR_MAX_PARAM_LENGTH')
    return new EngineError('BAD_HTTP_REQUEST', fe.message ? `${fe.message}.` : undefined, ['url']);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new EngineError('INVALID_INPUT', fe.message);
  return toEngineError(err);
}

/** Sends a table error in Salesforce's REST shape. */
export function sendError(reply: FastifyReply, e: EngineError): FastifyReply {
  return reply.code(e.status).type('application/json').send([e.toRest()]);
}

/** OAuth2 errors use OAuth's body shape, which Salesforce clients parse on the token endpoint. */
export function sendOAuthError(reply: FastifyReply, e: EngineError): FastifyReply {
  return reply.code(e.status).send({ error: e.code, error_description: e.message });
}

/** The table error of what a route threw; a server failure that isn't the engine's own is logged. */
function mapError(err: unknown, req: FastifyRequest): EngineError {
  const e = toRestError(err);
  if (e.status >= 500 && !(err instanceof EngineError)) req.log.error({ err }, 'unexpected error');
  return e;
}

/** The error handler of every route: Salesforce's REST error body. */
export function restErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, mapError(err, req));
}

/** The error handler of the OAuth2 token and revoke endpoints (set per route): OAuth's error body. */
export function oauthErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  sendOAuthError(reply, mapError(err, req));
}

/**
 * Answers an error Node's HTTP parser raises before Fastify sees a request (headers too large,
 * a timeout, a malformed request line) in Salesforce's shape, then closes the connection.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new EngineError('HEADERS_TOO_LARGE')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new EngineError('REQUEST_TIMEOUT')
        : new EngineError('BAD_HTTP_REQUEST');
  const body = JSON.stringify([e.toRest()]);
  if (socket.writable) {
    const reason = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[e.status] ?? 'Error';
    socket.write(
      `HTTP/1.1 ${e.status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * The app's error and not-found handlers (on the root app, so every route group inherits them):
 * a path some route serves, asked with another method, is 405 with the methods it takes, as
 * Salesforce answers; any other path is NOT_FOUND.
 */
export const restErrors = unencapsulated<{ table: RouteTable }>('rest-errors', async (app, { table }) => {
  app.setErrorHandler(restErrorHandler);
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const allowed = table.methodsOf(path);
    if (allowed.length) {
      if (allowed.includes('GET')) allowed.push('HEAD');
      reply.header('allow', allowed.join(', '));
      return sendError(
        reply,
        new EngineError('METHOD_NOT_ALLOWED', `${req.method} isn't allowed on ${redactUrl(path)}; allowed: ${allowed.join(', ')}.`),
      );
    }
    return sendError(reply, new EngineError('NOT_FOUND', `No resource at ${req.method} ${redactUrl(path)}.`));
  });
});
