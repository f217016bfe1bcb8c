/**
 * Session history (issue 10 item 1): every event offered to a session is recorded in order, with
 * state before and after, operation, caller, time and rejection; applied events in the same
 * transaction as the change, rejections after it. It survives a restart, on SQLite and PostgreSQL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, DEFAULT_FLOW } from '../../src/index.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { activeSession, CA_ADDRESS, call, cartOn, failure } from '../flow/helpers.js';
import { MAX_REJECTIONS_PER_VERSION, readHistory } from '../../src/engine/sessions.js';
import { EngineError } from '../../src/errors.js';
import { redactSecrets, REDACTED } from '../../src/domain/redact.js';

afterAll(dropTestSchemas);

describe.each([BACKENDS[1]!, BACKENDS[2]!])('session history on $name', (backend) => {
  it('records a whole checkout in order, rejections included, and survives a restart', async () => {
    const location = backend.location();
    let engine = await createCheckoutEngine({ storage: location, onError: () => {} });
    const c = await cartOn(engine, { lines: 2 });
    const run = await engine.runCheckout(c.cartId, {
      ...c.as,
      answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-H' },
      stopAt: 'deliveryMethod',
    });
    const sessionId = run.sessionId;
    // A hostile claim of a state that isn't next: rejected (the action fails), and recorded.
    const bad = await call(
      engine,
      'updateCheckoutSessionStateAction',
      { checkoutSessionId: sessionId, expCurrentState: 'start', nextState: 'taxes' },
      c.buyerId,
    );
    const badCode = failure(bad).code;
    expect(failure(bad).status).toBeGreaterThanOrEqual(400);
    await engine.close();

    engine = await createCheckoutEngine({ storage: location, onError: () => {} });
    try {
      const done = await engine.runCheckout(c.cartId, c.as);
      expect(done.status, done.errors.join()).toBe('complete');
      const history = await engine.getHistory(sessionId);
      const applied = history.filter((h) => h.accepted);
      // seq is the session version after each applied event: 1, 2, 3… with no gap.
      expect(applied.map((h) => h.seq)).toEqual(applied.map((_, i) => i + 1));
      // Each applied event starts where the previous one ended.
      for (let i = 1; i < applied.length; i++) expect(applied[i]!.from).toBe(applied[i - 1]!.to);
      expect(applied[0]!.from).toBe('start.idle');
      expect(applied.at(-1)!.to).toBe('complete');
      // Every step's state was passed through, in the flow's order.
      const visited = [...new Set(applied.map((h) => h.to.split('.')[0]))];
      expect(visited).toEqual(DEFAULT_FLOW.steps.map((s) => s.key));
      const claim = applied.find((h) => h.event.type === 'CLAIM')!;
      expect(claim).toMatchObject({
        operation: 'updateCheckoutSessionStateAction',
        callerId: c.buyerId,
        from: 'start.idle',
        to: 'start.claimed_inventory',
      });
      const step = applied.find((h) => h.event.type === 'STEP')!;
      expect(step.event).not.toHaveProperty('facts');
      expect(step.operationId).toMatch(/^0Yb/);
      const done1 = applied.find((h) => h.event.type === 'xstate.done.actor.step')!;
      expect(done1).toMatchObject({ callerId: null, operationId: step.operationId });
      expect(done1.operation).toMatch(/^worker/);
      const moved = applied.find((h) => h.event.type === 'SET_STATE')!;
      expect(moved.operation).toBe('updateRecord(CartCheckoutSession)');
      expect(moved.callerId).toBe(c.buyerId);
      const rejected = history.filter((h) => !h.accepted);
      expect(rejected).toHaveLength(1);
      expect(rejected[0]).toMatchObject({ from: 'deliveryMethod.idle', to: 'deliveryMethod.idle', callerId: c.buyerId, sub: 1 });
      // The recorded rejection is the error the caller got (key of the one error table → its code).
      expect(new EngineError(rejected[0]!.rejection!.error as never).code).toBe(badCode);
      // It sits right after the applied event of its version.
      const idx = history.indexOf(rejected[0]!);
      expect(history[idx - 1]!.seq).toBe(rejected[0]!.seq);
      // An outsider can't read it; the owner can.
      await expect(engine.getHistory(sessionId, { userId: c.outsiderId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await engine.getHistory(sessionId, { userId: c.buyerId })).toHaveLength(history.length);
    } finally {
      await engine.close();
    }
  });
});

describe('history edge cases (SQLite)', () => {
  it('records a refused screen move and a cancel with their callers, and caps rejections per version', async () => {
    const engine = await createCheckoutEngine({ onError: () => {} });
    try {
      const c = await cartOn(engine);
      const run = await engine.runCheckout(c.cartId, {
        ...c.as,
        answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-1' },
        stopAt: 'paymentAndBillingAddress',
      });
      // A screen move the flow refuses is recorded as a rejection of SET_STATE.
      const refused = await engine
        .updateRecord('CartCheckoutSession', run.sessionId, { State: 'complete' }, c.as)
        .catch((e: { code: string }) => e);
      expect(refused).toMatchObject({ key: 'INVALID_STATE_CHANGE' });
      const setRejection = (await engine.getHistory(run.sessionId)).filter((h) => !h.accepted).at(-1)!;
      expect(setRejection).toMatchObject({
        event: { type: 'SET_STATE', state: 'complete' },
        rejection: { error: 'INVALID_STATE_CHANGE' },
        operation: 'updateRecord(CartCheckoutSession)',
      });
      for (let i = 0; i < MAX_REJECTIONS_PER_VERSION + 5; i++) {
        await call(
          engine,
          'updateCheckoutSessionStateAction',
          { checkoutSessionId: run.sessionId, expCurrentState: 'start', nextState: 'inventory' },
          c.buyerId,
        );
      }
      const session = (await activeSession(engine, c.cartId))!;
      const atVersion = (await readHistory(engine.core.storage, run.sessionId)).filter(
        (h) => !h.accepted && h.seq === Number(session._version),
      );
      expect(atVersion).toHaveLength(MAX_REJECTIONS_PER_VERSION);
      expect(atVersion.map((h) => h.sub)).toEqual(atVersion.map((_, i) => i + 1));
      const [r] = await engine.invoke('cancelCartAsyncOperation', [{ cartId: c.cartId }], c.as);
      expect(r!.isSuccess).toBe(true);
      const last = (await engine.getHistory(run.sessionId)).at(-1)!;
      expect(last).toMatchObject({ accepted: true, to: 'archived', operation: 'cancelCartAsyncOperation', callerId: c.buyerId });
      expect(last.event).toMatchObject({ type: 'CANCEL', input: { cartId: c.cartId } });
    } finally {
      await engine.close();
    }
  });

  it('redacts secrets at any depth', () => {
    const v = redactSecrets({
      a: [{ password: 'x', n: { PaymentMethodId: 'pm_1', access_token: 't', keep: 1 } }],
      Authorization: 'Bearer x',
      cardNumber: '4111',
    });
    expect(v).toEqual({
      a: [{ password: REDACTED, n: { PaymentMethodId: REDACTED, access_token: REDACTED, keep: 1 } }],
      Authorization: REDACTED,
      cardNumber: REDACTED,
    });
  });
});
