/**
 * The checkout's lock is released when the poll says done: once a PATCH's run ended and GET
 * answered 200, the next PATCH sent at once gets the lock (202), never 409 CHECKOUT_CONFLICT from a
 * lock still held — in this process or in the database (the session's Connect data holds no lock).
 * On SQLite and PostgreSQL, for a method change (payment to clear, then nothing left to clear), an
 * address change and a contact-info change (no run).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../http/helpers.js';
import { dropTestSchemas, freshPgUrl } from '../helpers/backends.js';
import { connectData } from '../../src/connect/checkouts.js';

afterAll(dropTestSchemas);

describe.each([
  { name: 'sqlite', location: () => ':memory:' },
  { name: 'postgres', location: freshPgUrl },
])('Connect lock after the poll said 200 on $name', (backend) => {
  let t: TestServer;
  let token: string;
  let path: string;
  let methods: string[];

  /** GETs at once until the answer isn't 202 (as a client polls), at most 400 times 25 ms apart. */
  const poll = async () => {
    for (let i = 0; i < 400; i++) {
      const r = await t.call('GET', path, { token });
      if (r.status !== 202) return r;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`still 202: ${path}`);
  };

  /** The stored session's database lock: released (null) once the poll said 200. */
  const storedLock = async (id: string) => connectData((await t.engine.admin.get('CartCheckoutSession', id))!).lock ?? null;

  beforeAll(async () => {
    t = await startTestServer(backend.location(), { sessionState: '' });
    token = await t.token();
    const base = `/services/data/v62.0/commerce/webstores/${t.ids.store}`;
    const start = await t.call('POST', `${base}/checkouts`, { token, body: { cartId: 'active' } });
    expect(start.status).toBe(202);
    path = `${base}/checkouts/${String(start.body.checkoutId)}`;
    const ready = await poll();
    expect(ready.status).toBe(200);
    methods = (ready.body.deliveryGroups.items[0].availableDeliveryMethods as { id: string }[]).map((m) => m.id);
    expect(methods.length).toBeGreaterThan(1);
  });

  afterAll(async () => {
    await t?.close();
    await t?.engine.close();
  });

  it('a PATCH sent right after the poll answered 200 gets the lock (202), run after run', async () => {
    const id = path.slice(path.lastIndexOf('/') + 1);
    const bodies = [
      { deliveryMethodId: methods[1] },
      { deliveryMethodId: methods[0] },
      { contactInfo: { email: 'buyer@acme.example' } },
      { deliveryMethodId: methods[1] },
      { deliveryAddress: { street: '1 Main St', city: 'Springfield', region: 'IL', postalCode: '62701', country: 'US' } },
      { shippingInstructions: 'Leave at the door.' },
      { deliveryMethodId: methods[0] },
    ];
    for (const body of bodies) {
      const r = await t.call('PATCH', path, { token, body });
      expect(r.status, `${JSON.stringify(body)}: ${JSON.stringify(r.body)}`).toBe(202);
      const done = await poll();
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(await storedLock(id)).toBeNull();
    }
    const last = await poll();
    expect(last.body.deliveryGroups.items[0].selectedDeliveryMethod.id).toBe(methods[0]);
  });
});
