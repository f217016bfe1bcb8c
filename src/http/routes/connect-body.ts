/**
 * Request bodies of the Commerce Connect routes. Storefront tools send `Content-Type:
 * application/json` with an empty body on calls that take none (place order, a GET or DELETE with
 * the header set); Salesforce answers them as calls without a body. Within a Connect route group
 * an empty (or blank) JSON body is therefore no body; any other body is parsed by Fastify's own
 * JSON parser (prototype-poisoning checks included), so malformed JSON still answers
 * `400 JSON_PARSER_ERROR`. The rest of the API keeps refusing an empty JSON body.
 */
import type { FastifyInstance } from 'fastify';

/** Makes an empty JSON body mean "no body" in `app` (an encapsulated route group). */
export function acceptEmptyJsonBody(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (String(body).trim() === '') {
      done(null, undefined);
      return;
    }
    // The default parser answers through `done` (its return value is nothing to wait for).
    void parseJson(req, body as string, done);
  });
}
