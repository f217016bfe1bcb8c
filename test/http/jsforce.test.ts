/**
 * Proof with a real client: jsforce 3.10.16, unchanged, against the running server. It logs in
 * through OAuth2 (username-password), invokes the checkout actions with `conn.requestPost`, reads
 * and writes records with `conn.sobject(...)` and runs `conn.query(...)`.
 */
import jsforce from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, freshPgUrl } from '../helpers/backends.js';
import { PASSWORD, startTestServer, type TestServer } from './helpers.js';

afterAll(dropTestSchemas);

const BACKENDS = [
  { name: 'sqlite', location: () => ':memory:' },
  { name: 'postgres', location: freshPgUrl },
];

describe.each(BACKENDS)('jsforce against the server on $name', (backend) => {
  let t: TestServer;
  let conn: jsforce.Connection;
  const version = '62.0';
  const action = (name: string) => `/services/data/v${version}/actions/standard/${name}`;
  beforeAll(async () => {
    t = await startTestServer(backend.location());
    conn = new jsforce.Connection({
      oauth2: { loginUrl: t.url, clientId: 'checkout-client', clientSecret: 'checkout-secret', redirectUri: 'http://localhost/callback' },
      version,
    });
  });
  afterAll(() => t.close());

  it('logs in with username and password through OAuth2', async () => {
    const info = await conn.login('buyer@acme.example', PASSWORD);
    expect(info.id).toBe(t.ids.buyer);
    expect(info.organizationId).toMatch(/^00D/);
    expect(conn.instanceUrl).toBe(t.url);
    expect(conn.accessToken).toBeTruthy();
  });

  it('runs the checkout through the invocable actions and reads the order', async () => {
    const [session] = await conn.requestPost<any[]>(action('checkoutSessionAction'), { inputs: [{ cartId: t.ids.cart }] });
    expect(session).toMatchObject({ actionName: 'checkoutSessionAction', isSuccess: true, outputValues: { requestId: t.ids.session } });

    const [claim] = await conn.requestPost<any[]>(action('updateCheckoutSessionStateAction'), {
      inputs: [{ checkoutSessionId: t.ids.session, expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' }],
    });
    expect(claim.isSuccess).toBe(true);

    const [run] = await conn.requestPost<any[]>(action('cartToOrderAction'), { inputs: [{ cartId: t.ids.cart, runAsync: false }] });
    expect(run.isSuccess).toBe(true);
    const operationId = run.outputValues.backgroundOperationId;

    const sessionRec = await conn.sobject('CartCheckoutSession').retrieve(t.ids.session!);
    expect(sessionRec).toMatchObject({ State: 'cartToOrder', BackgroundOperationId: operationId, IsProcessing: false });
    const orders = await conn.query<{ Id: string; Status: string; GrandTotalAmount: number }>(
      `SELECT Id, Status, GrandTotalAmount FROM Order WHERE Id = '${sessionRec.OrderId}'`,
    );
    expect(orders.totalSize).toBe(1);
    expect(orders.records[0]).toMatchObject({ Id: sessionRec.OrderId, Status: 'Draft' });
    const cart = await conn.sobject('WebCart').retrieve(t.ids.cart!);
    expect(orders.records[0]!.GrandTotalAmount).toBe(cart.GrandTotalAmount);

    // A failed invocation surfaces through jsforce as an error carrying Salesforce's code.
    await expect(conn.requestPost(action('cartToOrderAction'), { inputs: [{ cartId: t.ids.cart }] })).rejects.toMatchObject({
      errorCode: expect.any(String),
    });
  });

  it('reads, creates, updates and deletes records with conn.sobject', async () => {
    const describe = await conn.sobject('WebCart').describe();
    expect(describe.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['Id', 'Status', 'WebStoreId', 'GrandTotalAmount']));

    const created = await conn.sobject('WebCart').create({ Name: 'jsforce cart', WebStoreId: t.ids.store, AccountId: t.ids.acme });
    expect(created.success).toBe(true);
    const id = created.id!;
    const updated = await conn.sobject('WebCart').update({ Id: id, PoNumber: 'PO-JSFORCE' });
    expect(updated.success).toBe(true);
    expect(await conn.sobject('WebCart').retrieve(id)).toMatchObject({
      Id: id,
      PoNumber: 'PO-JSFORCE',
      Status: 'Active',
      OwnerId: t.ids.buyer,
    });

    // Start a checkout on the new cart, then see it through a query.
    const [start] = await conn.requestPost<any[]>(action('checkoutSessionAction'), { inputs: [{ cartId: id }] });
    expect(start.isSuccess).toBe(true);
    const sessions = await conn.query<{ Id: string; State: string }>(
      `SELECT Id, State FROM CartCheckoutSession WHERE WebCartId = '${id}' AND IsArchived = FALSE`,
    );
    expect(sessions.records).toEqual([expect.objectContaining({ Id: start.outputValues.requestId, State: 'start' })]);
    expect((await conn.sobject('WebCart').retrieve(id)).Status).toBe('Checkout');

    // Field validation errors come back in Salesforce's shape.
    await expect(conn.sobject('WebCart').update({ Id: id, Status: 'Lost' })).rejects.toMatchObject({
      errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
    });

    const deleted = await conn.sobject('WebCart').destroy(id);
    expect(deleted.success).toBe(true);
    await expect(conn.sobject('WebCart').retrieve(id)).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
  });

  it('sees only what sharing allows when logged in as another buyer', async () => {
    const other = new jsforce.Connection({
      oauth2: { loginUrl: t.url, clientId: 'c', clientSecret: 's', redirectUri: 'http://localhost/cb' },
      version,
    });
    await other.login('buyer@globex.example', PASSWORD);
    expect((await other.query('SELECT Id FROM WebCart')).totalSize).toBe(0);
    await expect(other.sobject('WebCart').retrieve(t.ids.cart!)).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
    await expect(
      new jsforce.Connection({ oauth2: { loginUrl: t.url, clientId: 'c', clientSecret: 's', redirectUri: 'http://x' } }).login(
        'buyer@globex.example',
        'wrong',
      ),
    ).rejects.toThrow(/authentication failure/);
  });
});
