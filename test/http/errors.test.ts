/**
 * Bad input over HTTP: every kind gets a 4xx with a Salesforce `[{ message, errorCode, fields }]`
 * body (or the invocable result array for per-input action errors) that names the problem, and
 * none of it changes stored data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { startTestServer, V, type TestServer } from './helpers.js';

afterAll(dropTestSchemas);

/** Asserts the REST error shape: one item naming the code and (when given) the field. */
function expectRestError(r: { status: number; body: any }, status: number, errorCode: string, field?: string, text?: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(Array.isArray(r.body)).toBe(true);
  expect(Object.keys(r.body[0]).sort()).toEqual(['errorCode', 'fields', 'message']);
  expect(r.body[0].errorCode).toBe(errorCode);
  expect(typeof r.body[0].message).toBe('string');
  if (field !== undefined) expect(r.body[0].fields).toContain(field);
  if (text !== undefined) expect(r.body[0].message).toContain(text);
}

describe.each(BACKENDS)('bad input on $name', (backend) => {
  let t: TestServer;
  let token: string;
  let admin: string;
  let before: unknown;
  const snapshot = async () => {
    const out: Record<string, unknown> = {};
    for (const type of ['WebCart', 'CartItem', 'CartCheckoutSession', 'BackgroundOperation', 'Order', 'User']) {
      out[type] = (
        await t.call('GET', `${V}/query?q=${encodeURIComponent(`SELECT Id, LastModifiedDate FROM ${type} ORDER BY Id`)}`, { token: admin })
      ).body;
    }
    return out;
  };
  beforeAll(async () => {
    t = await startTestServer(backend.location(), { server: { bodyLimit: 64 * 1024 } });
    token = await t.token();
    admin = await t.token('admin@store.example');
    before = await snapshot();
  });
  afterAll(() => t.close());

  const cartUrl = () => `${V}/sobjects/WebCart/${t.ids.cart}`;
  const invokeUrl = `${V}/actions/standard/cartToOrderAction`;

  it('malformed JSON', async () => {
    expectRestError(await t.call('POST', invokeUrl, { token, raw: '{"inputs": [' }), 400, 'JSON_PARSER_ERROR');
    expectRestError(await t.call('PATCH', cartUrl(), { token, raw: '{PoNumber: 1}' }), 400, 'JSON_PARSER_ERROR');
    expectRestError(await t.call('POST', `${V}/sobjects/WebCart`, { token, raw: '' }), 400, 'JSON_PARSER_ERROR');
  });

  it('wrong types', async () => {
    expectRestError(
      await t.call('PATCH', cartUrl(), { token, body: { PoNumber: 42 } }),
      400,
      'INVALID_TYPE_ON_FIELD_IN_RECORD',
      'PoNumber',
      'PoNumber',
    );
    expectRestError(
      await t.call('PATCH', cartUrl(), { token, body: { Status: 'Lost' } }),
      400,
      'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
      'Status',
    );
    expectRestError(await t.call('PATCH', cartUrl(), { token, body: ['PoNumber'] }), 400, 'INVALID_INPUT');
    expectRestError(await t.call('POST', invokeUrl, { token, body: { inputs: 'cart' } }), 400, 'INVALID_INPUT', 'inputs');
    const r = await t.call('POST', invokeUrl, { token, body: { inputs: [{ cartId: t.ids.cart, runAsync: 'soon' }] } });
    expect(r.status).toBe(400);
    expect(r.body[0]).toMatchObject({ isSuccess: false, errors: [{ statusCode: 'INVALID_INPUT', fields: ['runAsync'] }] });
    expect(r.body[0].errors[0].message).toContain('runAsync');
  });

  it('unknown fields', async () => {
    expectRestError(await t.call('PATCH', cartUrl(), { token, body: { Colour: 'red' } }), 400, 'INVALID_FIELD', 'Colour', 'Colour');
    expectRestError(await t.call('POST', invokeUrl, { token, body: { inputs: [], runAsync: true } }), 400, 'INVALID_FIELD', 'runAsync');
    const r = await t.call('POST', invokeUrl, { token, body: { inputs: [{ cartId: t.ids.cart, cartID2: 'x' }] } });
    expect(r.status).toBe(400);
    expect(r.body[0].errors[0]).toMatchObject({ statusCode: 'INVALID_INPUT', fields: ['cartID2'] });
    expectRestError(await t.call('GET', `${cartUrl()}?fields=Name,Colour`, { token }), 400, 'INVALID_FIELD', 'Colour');
    expectRestError(
      await t.call('GET', `${V}/query?q=${encodeURIComponent('SELECT Colour FROM WebCart')}`, { token }),
      400,
      'INVALID_FIELD',
      undefined,
      'Colour',
    );
    expectRestError(
      await t.call('PATCH', cartUrl(), { token, body: { GrandTotalAmount: 1 } }),
      400,
      'INVALID_FIELD_FOR_INSERT_UPDATE',
      'GrandTotalAmount',
    );
  });

  it('missing inputs', async () => {
    expectRestError(await t.call('POST', invokeUrl, { token, body: {} }), 400, 'INVALID_INPUT', 'inputs', 'inputs');
    const r = await t.call('POST', invokeUrl, { token, body: { inputs: [{}] } });
    expect(r.status).toBe(400);
    expect(r.body[0].errors[0]).toMatchObject({ statusCode: 'REQUIRED_FIELD_MISSING', fields: ['cartId'] });
    expectRestError(
      await t.call('POST', `${V}/sobjects/WebCart`, { token, body: { Name: 'x' } }),
      400,
      'REQUIRED_FIELD_MISSING',
      'WebStoreId',
    );
  });

  it('oversized bodies', async () => {
    const big = JSON.stringify({ inputs: [{ cartId: t.ids.cart, pad: 'x'.repeat(70 * 1024) }] });
    expectRestError(await t.call('POST', invokeUrl, { token, raw: big }), 413, 'REQUEST_ENTITY_TOO_LARGE');
    expectRestError(
      await t.call('POST', `${V}/sobjects/WebCart`, { token, raw: JSON.stringify({ Name: 'y'.repeat(70 * 1024) }) }),
      413,
      'REQUEST_ENTITY_TOO_LARGE',
    );
  });

  it('unknown action, object, field, version and resource', async () => {
    expectRestError(
      await t.call('POST', `${V}/actions/standard/placeOrderNow`, { token, body: { inputs: [] } }),
      404,
      'NOT_FOUND',
      'actionName',
      'placeOrderNow',
    );
    expectRestError(await t.call('GET', `${V}/actions/standard/placeOrderNow`, { token }), 404, 'NOT_FOUND', undefined, 'placeOrderNow');
    expectRestError(await t.call('GET', `${V}/sobjects/Opportunity/describe`, { token }), 404, 'NOT_FOUND', 'type', 'Opportunity');
    expectRestError(
      await t.call('POST', `${V}/sobjects/Opportunity`, { token, body: { Name: 'x' } }),
      404,
      'NOT_FOUND',
      'type',
      'Opportunity',
    );
    expectRestError(
      await t.call('GET', `${V}/query?q=${encodeURIComponent('SELECT Id FROM Opportunity')}`, { token }),
      400,
      'INVALID_TYPE',
      undefined,
      'Opportunity',
    );
    expectRestError(await t.call('GET', '/services/data/v49.0/sobjects', { token }), 404, 'NOT_FOUND', 'version', 'v49.0');
    expectRestError(await t.call('GET', '/services/data/v62.5/sobjects', { token }), 404, 'NOT_FOUND', 'version', 'v62.5');
    // Versions newer than the listed ones are accepted (spec: 50.0 and later).
    expect((await t.call('GET', '/services/data/v66.0/sobjects', { token })).status).toBe(200);
    expectRestError(await t.call('GET', '/services/data/newest/sobjects', { token }), 404, 'NOT_FOUND', 'version');
    expectRestError(await t.call('GET', `${V}/nothing/here`, { token }), 404, 'NOT_FOUND');
    // A known resource with a method it doesn't take: 405, naming the methods it does take.
    expectRestError(await t.call('PUT', cartUrl(), { token, body: {} }), 405, 'METHOD_NOT_ALLOWED', undefined, 'GET, PATCH, DELETE');
  });

  it('bad ids', async () => {
    expectRestError(await t.call('GET', `${V}/sobjects/WebCart/not-an-id`, { token }), 400, 'MALFORMED_ID', 'Id');
    expectRestError(await t.call('GET', `${V}/sobjects/WebCart/${t.ids.acme}`, { token }), 400, 'MALFORMED_ID', 'Id'); // an Account id
    const bad18 = t.ids.cart!.slice(0, 15) + 'ZZZ'; // wrong case-safe suffix
    expectRestError(await t.call('PATCH', `${V}/sobjects/WebCart/${bad18}`, { token, body: { PoNumber: 'x' } }), 400, 'MALFORMED_ID', 'Id');
    expectRestError(await t.call('PATCH', cartUrl(), { token, body: { WebStoreId: 'abc' } }), 400, 'MALFORMED_ID', 'WebStoreId');
    // Requirement 1 of the action keeps its published status (UNKNOWN_EXCEPTION 500, spec §3).
    const r = await t.call('POST', invokeUrl, { token, body: { inputs: [{ cartId: 'abc' }] } });
    expect(r.status).toBe(500);
    expect(r.body[0].errors[0].statusCode).toBe('UNKNOWN_EXCEPTION');
    expect(r.body[0].errors[0].message).toContain('Invalid CartId Input');
  });

  it('unsupported SOQL and missing q', async () => {
    // GROUP BY and child subqueries are SOQL the engine now runs (docs/soql.md); these it doesn't.
    for (const q of [
      'SELECT Id FROM WebCart WHERE Id IN (SELECT CartId FROM CartItem)',
      'SELECT Id, (SELECT Id, (SELECT Id FROM CartTaxes) FROM CartItems) FROM WebCart',
      'SELECT Id FROM WebCart WHERE Name = 1 OR Name = 2',
      'DELETE FROM WebCart',
    ]) {
      const r = await t.call('GET', `${V}/query?q=${encodeURIComponent(q)}`, { token });
      expect(r.status, q).toBe(400);
      expect(['MALFORMED_QUERY', 'INVALID_FIELD']).toContain(r.body[0].errorCode);
    }
    expectRestError(await t.call('GET', `${V}/query`, { token }), 400, 'MALFORMED_QUERY', 'q');
  });

  it('wrong content type', async () => {
    expectRestError(await t.call('POST', invokeUrl, { token, raw: 'inputs=1', contentType: 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('none of it changed anything', async () => {
    expect(await snapshot()).toEqual(before);
    const cart = await t.call('GET', cartUrl(), { token });
    expect(cart.body).toMatchObject({ Status: 'Checkout', PoNumber: 'PO-1001' });
  });
});
