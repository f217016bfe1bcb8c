/**
 * Any session row is an input, never a crash: rows the flow can't be in (a NextState that can't
 * follow State, an empty or unknown State, an unknown NextState, processing without a NextState),
 * a missing or foreign `_snapshot`, and an operation id naming a finished operation are seeded for
 * every action, the record State write, the worker and cancel, and each answers with the
 * requirement the row breaks — and changes nothing — instead of UNKNOWN_EXCEPTION 500.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dropTestSchemas } from '../helpers/backends.js';
import { EngineError } from '../../src/errors.js';
import type { CheckoutEngine } from '../../src/index.js';
import type { Row } from '../../src/storage/port.js';
import { activeSession, call, cartOn, failure, FLOW_BACKENDS, ok, rows, sharedEngine } from '../flow/helpers.js';

afterAll(dropTestSchemas);

/** Rows no state of the default flow matches; `snapshot` overrides the stored `_snapshot` (null: none). */
const BROKEN: { name: string; fields: Row; snapshot?: string | null; problem: RegExp }[] = [
  {
    name: 'State shippingCost, NextState taxes, IsProcessing (no snapshot)',
    fields: { State: 'shippingCost', NextState: 'taxes', IsProcessing: true },
    snapshot: null,
    problem: /NextState 'taxes' can't follow State 'shippingCost'/,
  },
  {
    name: 'State shippingCost, NextState taxes, IsProcessing (a running snapshot)',
    fields: { State: 'shippingCost', NextState: 'taxes', IsProcessing: true },
    snapshot: '{"value":{"taxes":"running"}}',
    problem: /can't follow State 'shippingCost'/,
  },
  { name: 'an empty State', fields: { State: '' }, problem: /State is empty/ },
  {
    name: 'a State the flow does not know',
    fields: { State: 'nowhere' },
    snapshot: '{"value":{"nowhere":"idle"}}',
    problem: /State 'nowhere' isn't a state of flow 'default'/,
  },
  {
    name: 'a NextState the flow does not know',
    fields: { State: 'deliveryMethod', NextState: 'nowhere', IsProcessing: true },
    problem: /NextState 'nowhere' isn't a state/,
  },
  {
    name: 'processing with no NextState',
    fields: { State: 'start', IsProcessing: true },
    snapshot: 'not json',
    problem: /NextState is empty/,
  },
  {
    name: 'processing toward a screen step',
    fields: { State: 'shippingCost', NextState: 'deliveryMethod', IsProcessing: true },
    problem: /'deliveryMethod' is a screen step/,
  },
];

/** Every async or sync step action, with the extra inputs it needs. */
const STEP_ACTIONS: [string, Record<string, unknown>][] = [
  ['checkCartInventoryAction', {}],
  ['priceCart', {}],
  ['calcCartPromotionsAction', {}],
  ['calcCartShipmentAction', {}],
  ['calcCartTaxesAction', {}],
  ['cartToOrderAction', {}],
  ['authorizePaymentAction', {}],
  ['activateOrderAction', { orderStatus: 'Activated' }],
];

/** A fresh demo cart in Checkout with a session row seeded as given. */
async function seeded(engine: CheckoutEngine, fields: Row, snapshot?: string | null, operation?: Row) {
  const c = await cartOn(engine, { lines: 2, groups: 1 });
  const fixture: Record<string, Record<string, unknown>[]> = {};
  if (operation) fixture.BackgroundOperation = [{ ref: 'op', Name: 'Seeded operation', ...operation }];
  fixture.CartCheckoutSession = [
    { ref: 'session', Name: 'Seeded', WebCartId: c.cartId, ...fields, ...(operation ? { BackgroundOperationId: '@op' } : {}) },
  ];
  const ids = await engine.seed(fixture);
  await engine.core.storage.update('WebCart', c.cartId, { Status: 'Checkout' });
  if (snapshot !== undefined) await engine.core.storage.update('CartCheckoutSession', ids.session!, { _snapshot: snapshot });
  const before = (await engine.admin.get('CartCheckoutSession', ids.session!))!;
  const [method] = await rows(engine, 'OrderDeliveryMethod', { Name: 'Ground' });
  return { ...c, sessionId: ids.session!, operationId: ids.op, before, methodId: String(method!.Id) };
}

/** The session row is exactly as seeded (no write happened). */
async function unchanged(engine: CheckoutEngine, before: Row) {
  const now = await engine.admin.get('CartCheckoutSession', String(before.Id));
  expect(now).toEqual(before);
}

for (const backend of FLOW_BACKENDS) {
  describe(`session rows the flow can't be in, on ${backend.name}`, () => {
    const unexpected: unknown[] = [];
    const shared = sharedEngine(backend.location, { onError: (e) => unexpected.push(e) });

    for (const row of BROKEN) {
      it(`${row.name}: every action answers with the requirement it breaks; cancel gets the buyer out`, async () => {
        const engine = shared.get();
        const s = await seeded(engine, row.fields, row.snapshot);

        for (const [action, extra] of STEP_ACTIONS) {
          const f = failure(await call(engine, action, { cartId: s.cartId, ...extra }, s.buyerId));
          expect([action, f.code, f.status]).toEqual([action, 'INVALID_OPERATION', 403]);
          expect(f.message).toMatch(/Requirement 7 failed/);
          expect(f.message).toMatch(row.problem);
        }

        const claim = failure(
          await call(
            engine,
            'updateCheckoutSessionStateAction',
            { checkoutSessionId: s.sessionId, expCurrentState: 'start', nextState: 'inventory' },
            s.buyerId,
          ),
        );
        expect([claim.code, claim.status]).toEqual(['INVALID_OPERATION', 409]);
        expect(claim.message).toMatch(row.problem);

        const method = failure(
          await call(engine, 'setCheckoutDeliveryMethod', { cartId: s.cartId, deliveryMethodId: s.methodId }, s.buyerId),
        );
        expect([method.code, method.status]).toEqual(['INVALID_OPERATION', 403]);
        expect(method.message).toMatch(row.problem);

        const write = await engine
          .updateRecord('CartCheckoutSession', s.sessionId, { State: 'paymentAndBillingAddress' }, s.as)
          .catch((e: unknown) => e);
        expect(write).toBeInstanceOf(EngineError);
        expect([(write as EngineError).code, (write as EngineError).status]).toEqual(['INVALID_OPERATION', 409]);
        expect((write as EngineError).message).toMatch(row.problem);

        // checkoutSessionAction hands back the cart's one active session; it doesn't restore it.
        expect(ok(await call(engine, 'checkoutSessionAction', { cartId: s.cartId }, s.buyerId)).requestId).toBe(s.sessionId);
        await unchanged(engine, s.before);

        // Cancel is the way out of any row: archived, cart Active, and a new checkout starts clean.
        ok(await call(engine, 'cancelCartAsyncOperation', { cartId: s.cartId }, s.buyerId));
        const archived = (await engine.admin.get('CartCheckoutSession', s.sessionId))!;
        expect(archived.IsArchived).toBe(true);
        expect((await engine.admin.get('WebCart', s.cartId))!.Status).toBe('Active');
        const fresh = ok(await call(engine, 'checkoutSessionAction', { cartId: s.cartId }, s.buyerId)).requestId as string;
        expect(fresh).not.toBe(s.sessionId);
        expect((await activeSession(engine, s.cartId))!.State).toBe('start');
        expect(unexpected).toEqual([]);
      });
    }

    it("the worker fails an operation whose session isn't running its step, without touching the session", async () => {
      const engine = shared.get();
      const s = await seeded(engine, { State: 'shippingCost', NextState: 'taxes', IsProcessing: true }, null, { Status: 'New' });
      await engine.core.storage.update('BackgroundOperation', s.operationId!, {
        _step: 'taxes',
        _sessionId: s.sessionId,
        _cartId: s.cartId,
        _input: '{}',
        _version: 0,
      });
      await engine.worker.run(s.operationId!);
      const op = (await engine.admin.get('BackgroundOperation', s.operationId!))!;
      expect(op.Status).toBe('Error');
      expect(String(op.Error)).toMatch(/isn't running 'taxes': NextState 'taxes' can't follow State 'shippingCost'/);
      const cvos = await rows(engine, 'CartValidationOutput', { BackgroundOperationId: s.operationId! });
      expect(cvos.map((c) => c.Type)).toEqual(['Taxes']);
      await unchanged(engine, s.before);
      // The step action still answers with requirement 7; the operation is finished, so not "in flight".
      const f = failure(await call(engine, 'calcCartTaxesAction', { cartId: s.cartId }, s.buyerId));
      expect([f.code, f.status]).toEqual(['INVALID_OPERATION', 403]);
      expect(unexpected).toEqual([]);
    });

    for (const status of ['Complete', 'Error', 'Canceled'] as const) {
      it(`an operation id naming a ${status} operation is not in flight: the claimed step runs`, async () => {
        const engine = shared.get();
        const s = await seeded(
          engine,
          { State: 'start', NextState: 'inventory', IsProcessing: true },
          '{"value":{"inventory":"running"}}',
          { Status: status },
        );
        const out = ok(await call(engine, 'checkCartInventoryAction', { cartId: s.cartId }, s.buyerId));
        expect(out.backgroundOperationId).not.toBe(s.operationId);
        const session = (await engine.admin.get('CartCheckoutSession', s.sessionId))!;
        expect([session.State, session.IsProcessing, session.BackgroundOperationId]).toEqual([
          'inventory',
          false,
          out.backgroundOperationId,
        ]);
        expect(unexpected).toEqual([]);
      });
    }

    it('an operation that really is New or Running is in flight: ALREADY_IN_PROCESS (requirement 8)', async () => {
      const engine = shared.get();
      const s = await seeded(engine, { State: 'start', NextState: 'inventory', IsProcessing: true }, null, { Status: 'Running' });
      const f = failure(await call(engine, 'checkCartInventoryAction', { cartId: s.cartId }, s.buyerId));
      expect([f.code, f.status]).toEqual(['ALREADY_IN_PROCESS', 400]);
      expect(f.message).toMatch(/Requirement 8 failed/);
      await unchanged(engine, s.before);
    });

    it("a foreign or unreadable _snapshot doesn't matter: the row's fields are the truth", async () => {
      const engine = shared.get();
      for (const snapshot of ['{"value":{"nowhere":"idle"}}', 'not json', null, '{"value":"archived"}']) {
        const s = await seeded(engine, { State: 'start' }, snapshot);
        ok(
          await call(
            engine,
            'updateCheckoutSessionStateAction',
            { checkoutSessionId: s.sessionId, expCurrentState: 'start', nextState: 'inventory' },
            s.buyerId,
          ),
        );
        ok(await call(engine, 'checkCartInventoryAction', { cartId: s.cartId }, s.buyerId));
        expect((await engine.admin.get('CartCheckoutSession', s.sessionId))!.State).toBe('inventory');
      }
      expect(unexpected).toEqual([]);
    });
  });
}
