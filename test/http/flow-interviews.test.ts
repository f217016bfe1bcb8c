/**
 * Flow interviews over HTTP (src/http/routes/flows.ts): start, read and navigate as the token's
 * user; a second buyer can't read or navigate another's interview (404, as a missing one); bad
 * ids, bodies and versions get Salesforce's error bodies naming the field; no token is 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demo } from '../../src/index.js';
import { mintId } from '../../src/domain/ids.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { GOOD, storeCode } from '../flows/interview-helpers.js';
import { startTestServer, V, type TestServer } from './helpers.js';

let t: TestServer;
let buyerToken: string;
let otherToken: string;
let cartId: string;

beforeAll(async () => {
  t = await startTestServer(':memory:', { seed: false, engine: { flowSources: [GOOD], ...storeCode } });
  ({ cartId } = await demo.newCart(t.engine, { lines: 1, groups: 1 }));
  await demo.newCart(t.engine, { buyer: demo.users.otherBuyer, lines: 1, groups: 1 });
  buyerToken = await t.token(demo.users.buyer);
  otherToken = await t.token(demo.users.otherBuyer);
});
afterAll(async () => {
  await t?.close();
  await t?.engine.close();
  await dropTestSchemas();
});

describe('flow interviews over HTTP', () => {
  it('starts (201), reads and navigates an interview to Finished', async () => {
    const start = await t.call('POST', `${V}/flows/Interview_Basics/interviews`, { token: buyerToken, body: { inputs: { cartId } } });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    expect(start.body).toMatchObject({ flowApiName: 'Interview_Basics', status: 'Paused', screen: { name: 'Welcome' } });
    const id = start.body.id as string;
    const read = await t.call('GET', `${V}/flows/interviews/${id}`, { token: buyerToken });
    expect(read).toEqual({ status: 200, body: start.body });
    const ask = await t.call('POST', `${V}/flows/interviews/${id}/navigate`, { token: buyerToken, body: { action: 'NEXT' } });
    expect(ask.status).toBe(200);
    expect(ask.body.screen.name).toBe('Ask_PO');
    const done = await t.call('POST', `${V}/flows/interviews/${id}/navigate`, {
      token: buyerToken,
      body: { action: 'NEXT', answers: { PO_Input: { poNumber: 'PO-77' } } },
    });
    expect(done.body).toMatchObject({ id, status: 'Finished', outputs: { result: 'PO-77' } });
    const again = await t.call('POST', `${V}/flows/interviews/${id}/navigate`, { token: buyerToken, body: { action: 'NEXT' } });
    expect(again.status).toBe(409);
    expect(again.body[0]).toMatchObject({ errorCode: 'INVALID_OPERATION', fields: ['interviewId'] });
  });

  it("a second buyer can't read or navigate the buyer's interview, nor start one on the buyer's cart", async () => {
    const start = await t.call('POST', `${V}/flows/Interview_Basics/interviews`, { token: buyerToken, body: { inputs: { cartId } } });
    const id = start.body.id as string;
    const missingId = mintId('0Fo');
    const missing = await t.call('GET', `${V}/flows/interviews/${missingId}`, { token: otherToken });
    const read = await t.call('GET', `${V}/flows/interviews/${id}`, { token: otherToken });
    expect(read.status).toBe(404);
    expect(read.body[0].errorCode).toBe('NOT_FOUND');
    expect(read.body[0].fields).toEqual(missing.body[0].fields);
    expect(read.body[0].message.replace(id, 'X')).toBe(missing.body[0].message.replace(missingId, 'X'));
    const nav = await t.call('POST', `${V}/flows/interviews/${id}/navigate`, { token: otherToken, body: { action: 'NEXT' } });
    expect(nav.status).toBe(404);
    const onCart = await t.call('POST', `${V}/flows/Interview_Basics/interviews`, { token: otherToken, body: { inputs: { cartId } } });
    expect(onCart.status).toBe(404);
    expect(onCart.body[0].fields).toEqual(['cartId']);
    // The buyer's interview didn't move.
    expect((await t.call('GET', `${V}/flows/interviews/${id}`, { token: buyerToken })).body.screen.name).toBe('Welcome');
  });

  it('bad ids, bodies, flows and versions get Salesforce error bodies naming the field; no token is 401', async () => {
    const start = await t.call('POST', `${V}/flows/Interview_Basics/interviews`, { token: buyerToken, body: { inputs: { cartId } } });
    const id = start.body.id as string;
    const badId = await t.call('GET', `${V}/flows/interviews/not-an-id`, { token: buyerToken });
    expect(badId.status).toBe(400);
    expect(badId.body[0]).toMatchObject({ errorCode: 'MALFORMED_ID', fields: ['interviewId'] });
    const wrongPrefix = await t.call('POST', `${V}/flows/interviews/${cartId}/navigate`, { token: buyerToken, body: { action: 'NEXT' } });
    expect(wrongPrefix.status).toBe(400);
    const badAction = await t.call('POST', `${V}/flows/interviews/${id}/navigate`, { token: buyerToken, body: { action: 'JUMP' } });
    expect(badAction.status).toBe(400);
    expect(JSON.stringify(badAction.body)).toContain('action');
    const extra = await t.call('POST', `${V}/flows/interviews/${id}/navigate`, {
      token: buyerToken,
      body: { action: 'NEXT', sneaky: true },
    });
    expect(extra.status).toBe(400);
    const badWait = await t.call('POST', `${V}/flows/interviews/${id}/navigate`, {
      token: buyerToken,
      body: { action: 'NEXT', waitMs: 'soon' },
    });
    expect(badWait.status).toBe(400);
    expect(JSON.stringify(badWait.body)).toContain('waitMs');
    const notJson = await t.call('POST', `${V}/flows/interviews/${id}/navigate`, {
      token: buyerToken,
      raw: '{"action":',
      contentType: 'application/json',
    });
    expect(notJson.status).toBe(400);
    const badInputs = await t.call('POST', `${V}/flows/Interview_Basics/interviews`, { token: buyerToken, body: { inputs: ['x'] } });
    expect(badInputs.status).toBe(400);
    expect(JSON.stringify(badInputs.body)).toContain('inputs');
    const unknown = await t.call('POST', `${V}/flows/No_Such_Flow/interviews`, { token: buyerToken, body: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.body[0].message).toContain('No_Such_Flow');
    const oldVersion = await t.call('GET', `/services/data/v20.0/flows/interviews/${id}`, { token: buyerToken });
    expect(oldVersion.status).toBe(404);
    for (const [method, path] of [
      ['POST', `${V}/flows/Interview_Basics/interviews`],
      ['GET', `${V}/flows/interviews/${id}`],
      ['POST', `${V}/flows/interviews/${id}/navigate`],
    ] as const) {
      const anon = await t.call(method, path, { body: method === 'POST' ? { action: 'NEXT' } : undefined });
      expect(anon.status).toBe(401);
    }
    // Nothing above moved the interview.
    expect((await t.call('GET', `${V}/flows/interviews/${id}`, { token: buyerToken })).body.screen.name).toBe('Welcome');
  });
});
