/**
 * Every endpoint of the HTTP API, on every storage backend: OAuth2 token, versions, resources,
 * invocable actions (list, describe, invoke), sObjects (describeGlobal, basics, describe, get,
 * create, update, delete), SOQL, identity and the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { claimCartToOrder, startTestServer, V, type TestServer } from './helpers.js';

afterAll(dropTestSchemas);

describe.each(BACKENDS)('HTTP API on $name', (backend) => {
  let t: TestServer;
  let buyer: string;
  // One server per backend; the tests run in order and each uses records it doesn't share.
  beforeAll(async () => {
    t = await startTestServer(backend.location());
    buyer = await t.token();
  });
  afterAll(() => t.close());

  it('issues an OAuth2 password-grant token with the Salesforce fields', async () => {
    const res = await fetch(`${t.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&client_id=c&client_secret=s&username=buyer%40acme.example&password=demo-password-1',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'id', 'instance_url', 'issued_at', 'signature', 'token_type']);
    expect(body.signature).toMatch(/^[A-Za-z0-9+/]{43}=$/); // base64 of a SHA-256 HMAC
    expect(body.token_type).toBe('Bearer');
    expect(body.instance_url).toBe(t.url);
    expect(body.id).toMatch(new RegExp(`^${t.url}/id/00D\\w{15}/${t.ids.buyer}$`));
    expect(Math.abs(Number(body.issued_at) - Date.now())).toBeLessThan(60_000);
    // The identity URL answers for the token's user.
    const who = await t.call('GET', new URL(body.id!).pathname, { token: body.access_token });
    expect(who.status).toBe(200);
    expect(who.body).toMatchObject({ user_id: t.ids.buyer, username: 'buyer@acme.example' });
    // JSON bodies are accepted too.
    const json = await t.call('POST', '/services/oauth2/token', {
      body: { grant_type: 'password', username: 'admin@store.example', password: 'demo-password-1' },
    });
    expect(json.status).toBe(200);
    expect(json.body.id.endsWith(t.ids.admin)).toBe(true);
  });

  it('refuses bad logins in OAuth shape without saying which part was wrong', async () => {
    const form = (p: Record<string, string>) =>
      fetch(`${t.url}/services/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(p).toString(),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    const wrong = await form({ grant_type: 'password', username: 'buyer@acme.example', password: 'nope' });
    const unknown = await form({ grant_type: 'password', username: 'nobody@acme.example', password: 'nope' });
    expect(wrong).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'authentication failure' } });
    expect(unknown).toEqual(wrong);
    expect(await form({ grant_type: 'client_credentials' })).toEqual({
      status: 400,
      body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' },
    });
    const missing = await form({ grant_type: 'password', username: 'buyer@acme.example' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
    expect(missing.body.error_description).toContain('password');
  });

  it('lists versions, resources and action kinds', async () => {
    const versions = await t.call('GET', '/services/data', { token: buyer });
    expect(versions.status).toBe(200);
    expect(versions.body).toContainEqual({ label: "Winter '21", url: '/services/data/v50.0', version: '50.0' });
    expect(versions.body).toContainEqual({ label: "Winter '25", url: '/services/data/v62.0', version: '62.0' });
    expect((await t.call('GET', V, { token: buyer })).body).toEqual({
      sobjects: `${V}/sobjects`,
      query: `${V}/query`,
      actions: `${V}/actions`,
      identity: `${t.url}/id/00D000000000001EAA/${t.ids.buyer}`,
    });
    expect((await t.call('GET', `${V}/actions`, { token: buyer })).body).toEqual({
      standard: `${V}/actions/standard`,
      custom: `${V}/actions/custom`,
    });
  });

  it('lists and describes actions with each input and output name, type and required flag', async () => {
    const list = await t.call('GET', `${V}/actions/standard`, { token: buyer });
    expect(list.status).toBe(200);
    const names = list.body.actions.map((a: { name: string }) => a.name);
    expect(names).toEqual(expect.arrayContaining(['checkoutSessionAction', 'updateCheckoutSessionStateAction', 'cartToOrderAction']));
    const d = await t.call('GET', `${V}/actions/standard/cartToOrderAction`, { token: buyer });
    expect(d.status).toBe(200);
    expect(d.body.name).toBe('cartToOrderAction');
    expect(d.body.inputs.map((p: any) => [p.name, p.type, p.required])).toEqual([
      ['cartId', 'ID', true],
      ['runAsync', 'BOOLEAN', false],
    ]);
    expect(d.body.outputs.map((p: any) => [p.name, p.type, p.required])).toEqual([['backgroundOperationId', 'ID', false]]);
  });

  it('invokes the checkout actions and answers with the invocable result array', async () => {
    const start = await t.call('POST', `${V}/actions/standard/checkoutSessionAction`, {
      token: buyer,
      body: { inputs: [{ cartId: t.ids.cart }] },
    });
    expect(start.status).toBe(200);
    expect(start.body).toEqual([
      { actionName: 'checkoutSessionAction', errors: null, isSuccess: true, outputValues: { requestId: t.ids.session }, version: 1 },
    ]);
    await claimCartToOrder(t, buyer);
    const run = await t.call('POST', `${V}/actions/standard/cartToOrderAction`, {
      token: buyer,
      body: { inputs: [{ cartId: t.ids.cart, runAsync: false }] },
    });
    expect(run.status).toBe(200);
    expect(run.body[0].isSuccess).toBe(true);
    const opId = run.body[0].outputValues.backgroundOperationId;
    const op = await t.call('GET', `${V}/sobjects/BackgroundOperation/${opId}`, { token: buyer });
    expect(op.body.Status).toBe('Complete');
    const session = await t.call('GET', `${V}/sobjects/CartCheckoutSession/${t.ids.session}`, { token: buyer });
    expect(session.body).toMatchObject({ State: 'cartToOrder', IsProcessing: false, BackgroundOperationId: opId });
    const order = await t.call('GET', `${V}/sobjects/Order/${session.body.OrderId}`, { token: buyer });
    expect(order.body).toMatchObject({ Status: 'Draft', attributes: { type: 'Order' } });

    // The order exists now, so a second run fails; with two failed inputs the status is the first one's.
    const again = await t.call('POST', `${V}/actions/standard/cartToOrderAction`, {
      token: buyer,
      body: { inputs: [{ cartId: t.ids.cart }, { cartId: 'bad' }] },
    });
    expect(again.status).toBe(403);
    expect(again.body).toHaveLength(2);
    expect(again.body[0]).toMatchObject({
      actionName: 'cartToOrderAction',
      isSuccess: false,
      outputValues: null,
      errors: [{ statusCode: 'INVALID_OPERATION', fields: [] }],
    });
    expect(again.body[1].errors[0].statusCode).toBe('UNKNOWN_EXCEPTION');
    expect(again.body[0]).not.toHaveProperty('httpStatus');
  });

  it('answers with the first failed input status when some inputs succeed', async () => {
    const r = await t.call('POST', `${V}/actions/standard/checkoutSessionAction`, {
      token: buyer,
      body: { inputs: [{ cartId: t.ids.cart }, { cartId: t.ids.acme }] },
    });
    expect(r.body[0].isSuccess).toBe(true);
    expect(r.body[1].isSuccess).toBe(false);
    expect(r.status).toBe(500); // Invalid CartId Input: UNKNOWN_EXCEPTION 500, as the Help page publishes it
  });

  it('describes sObjects: global, basics and full describe from the object table', async () => {
    const global = await t.call('GET', `${V}/sobjects`, { token: buyer });
    expect(global.status).toBe(200);
    expect(global.body.sobjects.find((o: any) => o.name === 'WebCart')).toMatchObject({
      keyPrefix: '0a6',
      createable: true,
      queryable: true,
    });
    const basic = await t.call('GET', `${V}/sobjects/WebCart`, { token: buyer });
    expect(basic.body.objectDescribe.name).toBe('WebCart');
    const d = await t.call('GET', `${V}/sobjects/webcart/describe`, { token: buyer });
    expect(d.status).toBe(200);
    const status = d.body.fields.find((f: any) => f.name === 'Status');
    expect(status.type).toBe('picklist');
    expect(status.picklistValues.map((p: any) => p.value)).toEqual(expect.arrayContaining(['Active', 'Checkout', 'Closed']));
    expect(d.body.fields.find((f: any) => f.name === 'Id')).toMatchObject({ type: 'id', createable: false, updateable: false });
    expect(d.body.fields.find((f: any) => f.name === 'WebStoreId')).toMatchObject({ type: 'reference', referenceTo: ['WebStore'] });
    expect(d.body.fields.find((f: any) => f.name === 'GrandTotalAmount')).toMatchObject({ type: 'currency', createable: false });
  });

  it('gets, creates, updates and deletes records', async () => {
    const got = await t.call('GET', `${V}/sobjects/WebCart/${t.ids.cart}`, { token: buyer });
    expect(got.status).toBe(200);
    expect(got.body.attributes).toEqual({ type: 'WebCart', url: `${V}/sobjects/WebCart/${t.ids.cart}` });
    expect(got.body).toMatchObject({ Id: t.ids.cart, Status: 'Checkout', OwnerId: t.ids.buyer });
    const short = await t.call('GET', `${V}/sobjects/WebCart/${t.ids.cart!.slice(0, 15)}?fields=Name,status`, { token: buyer });
    expect(short.status).toBe(200);
    expect(short.body).toEqual({ attributes: got.body.attributes, Id: t.ids.cart, Name: 'Cart', Status: 'Checkout' });

    const created = await t.call('POST', `${V}/sobjects/WebCart`, {
      token: buyer,
      body: { Name: 'Second cart', WebStoreId: t.ids.store, AccountId: t.ids.acme },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(/^0a6\w{15}$/), success: true, errors: [] });
    const id = created.body.id;
    const patched = await t.call('PATCH', `${V}/sobjects/WebCart/${id}`, {
      token: buyer,
      body: { PoNumber: 'PO-77', attributes: { type: 'WebCart' } },
    });
    expect(patched).toEqual({ status: 204, body: null });
    expect((await t.call('GET', `${V}/sobjects/WebCart/${id}`, { token: buyer })).body).toMatchObject({
      PoNumber: 'PO-77',
      OwnerId: t.ids.buyer,
      Status: 'Active',
    });
    expect(await t.call('DELETE', `${V}/sobjects/WebCart/${id}`, { token: buyer })).toEqual({ status: 204, body: null });
    const gone = await t.call('GET', `${V}/sobjects/WebCart/${id}`, { token: buyer });
    expect(gone.status).toBe(404);
    expect(gone.body[0]).toMatchObject({ errorCode: 'NOT_FOUND', fields: ['Id'] });
  });

  it('runs the SOQL subset', async () => {
    const q = encodeURIComponent(
      "SELECT Id, Name, StockKeepingUnit FROM Product2 WHERE Name != 'x' ORDER BY StockKeepingUnit DESC LIMIT 2",
    );
    const r = await t.call('GET', `${V}/query?q=${q}`, { token: buyer });
    expect(r.status).toBe(200);
    expect(r.body.totalSize).toBe(2);
    expect(r.body.done).toBe(true);
    expect(r.body.records.map((x: any) => x.StockKeepingUnit)).toEqual(['SKU-0003', 'SKU-0002']);
    expect(r.body.records[0].attributes.type).toBe('Product2');
    expect(r.body.records[0].attributes.url).toBe(`${V}/sobjects/Product2/${r.body.records[0].Id}`);
    const v55 = await t.call('GET', `/services/data/v55.0/query?q=${q}`, { token: buyer });
    expect(v55.body.records[0].attributes.url).toMatch(/^\/services\/data\/v55\.0\/sobjects\/Product2\//);
  });

  it('serves an OpenAPI document generated from the schemas', async () => {
    const r = await t.call('GET', '/openapi.json', { token: buyer });
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.1.0');
    const paths = r.body.paths;
    expect(paths['/services/oauth2/token'].post).toBeDefined();
    expect(paths['/services/data/{version}/query'].get.parameters.map((p: any) => p.name)).toEqual(['version', 'q']);
    expect(
      paths['/services/data/{version}/actions/standard/cartToOrderAction'].post.requestBody.content['application/json'].schema.required,
    ).toEqual(['inputs']);
    expect(paths['/services/data/{version}/sobjects/WebCart/{id}'].patch).toBeDefined();
    expect(paths['/services/data/{version}/sobjects/CartCheckoutSession']?.post).toBeUndefined();
    const schemas = r.body.components.schemas;
    expect(schemas.cartToOrderActionInput).toMatchObject({
      required: ['cartId'],
      properties: { cartId: { type: 'string' }, runAsync: { type: 'boolean' } },
    });
    expect(schemas.WebCart.properties.Status.anyOf[0].enum).toContain('Checkout');
    expect(schemas.WebCartWrite.properties.GrandTotalAmount).toBeUndefined(); // read-only fields aren't writable
    expect(schemas.User.properties.Password).toBeUndefined(); // write-only fields aren't returned
  });
});
