/**
 * Flow interviews in the Stately inspector (issue 19 item 6): each interview is an actor of its
 * own (id = interview id, the flow's compiled machine as definition, state ids = element names),
 * one event and snapshot per start and navigate, answers with secret names redacted; another
 * buyer's interview is its own actor; interviews are listed for the page with their element.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, demo, type CheckoutEngine } from '../../src/index.js';
import { InterviewInspector, type InspectorLike } from '../../src/inspect/inspector.js';
import { REDACTED } from '../../src/domain/redact.js';
import { EngineError } from '../../src/errors.js';

const GIFT = fileURLToPath(new URL('../../scenarios/library/flows-metadata', import.meta.url));
const CART_FLOWS = fileURLToPath(new URL('./fixtures/cart-flows', import.meta.url));

type Call = { kind: 'actor' | 'event' | 'snapshot'; id: string; payload: any; definition?: any };

function recorder(): InspectorLike & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    actor: (ref, snapshot) => calls.push({ kind: 'actor', id: ref.id, payload: snapshot, definition: ref.logic?.config }),
    event: (id, event) => calls.push({ kind: 'event', id, payload: event }),
    snapshot: (id, snapshot) => calls.push({ kind: 'snapshot', id, payload: snapshot }),
  };
}

describe('interviews in the Stately inspector', () => {
  let engine: CheckoutEngine;
  const rx = recorder();
  let buyer: { buyerId: string; cartId: string };
  let other: { buyerId: string; cartId: string };

  beforeAll(async () => {
    engine = await createCheckoutEngine({ flowSources: [GIFT, CART_FLOWS], inspect: rx, onError: () => {} });
    buyer = await demo.newCart(engine, { lines: 1, groups: 1 });
    other = await demo.newCart(engine, { buyer: demo.users.otherBuyer, lines: 1, groups: 1 });
  });
  afterAll(() => engine?.close());

  it('announces the interview with its flow machine, then an event and a snapshot per call', async () => {
    const as = { userId: buyer.buyerId };
    const iv = await engine.startInterview('Gift_Options', {}, as);
    await engine.navigate(iv.id, { action: 'NEXT', answers: { Wants_Wrap: { value: true } } }, as);
    await engine.navigate(iv.id, { action: 'NEXT', answers: { Gift_Message: { value: 'Happy birthday' } } }, as);
    const done = await engine.navigate(iv.id, { action: 'FINISH' }, as);
    expect(done.status).toBe('Finished');

    const mine = rx.calls.filter((c) => c.id === iv.id);
    expect(mine[0]).toMatchObject({ kind: 'actor', payload: { value: '__start', status: 'active' } });
    expect(mine[0]!.definition).toMatchObject({ id: 'Gift_Options', initial: 'Ask_Wrap' });
    expect(Object.keys(mine[0]!.definition.states)).toEqual(
      expect.arrayContaining(['Ask_Wrap', 'Wrap_Decision', 'Ask_Message', 'Confirm', '__end', '__error']),
    );
    expect(mine.filter((c) => c.kind === 'actor')).toHaveLength(1);
    const events = mine.filter((c) => c.kind === 'event').map((c) => c.payload.type);
    const snapshots = mine.filter((c) => c.kind === 'snapshot').map((c) => c.payload.value);
    expect(events[0]).toBe('START');
    expect(events.at(-1)).toBe('FINISH');
    expect(snapshots[0]).toBe('Ask_Wrap');
    expect(snapshots).toContain('Ask_Message');
    expect(snapshots).toContain('Confirm');
    expect(snapshots.at(-1)).toBe('__end');
    const last = mine.filter((c) => c.kind === 'snapshot').at(-1)!.payload;
    expect(last).toMatchObject({
      status: 'done',
      context: { status: 'Finished', outputs: { wrapChoice: 'wrap+card', messageText: 'Happy birthday' } },
    });
    const given = mine.find((c) => c.kind === 'event' && c.payload.answers?.Wants_Wrap);
    expect(given!.payload.answers).toEqual({ Wants_Wrap: { value: true } });
  });

  it('redacts secret-named answers and outputs (a payment component’s card number)', () => {
    const rec = recorder();
    const view = {
      status: 'Finished' as const,
      currentElement: null,
      stack: ['Pay'],
      outputs: { paymentToken: 'tok_live_123', total: 12 },
    };
    new InterviewInspector(rec, () => undefined).report({
      interviewId: '0Fo000000000001AAA',
      flowApiName: 'Pay',
      userId: '005x',
      action: 'FINISH',
      answers: { Pay_Form: { cardNumber: '4242424242424242', holder: 'Ann' } },
      view,
    });
    expect(rec.calls.map((c) => c.kind)).toEqual(['actor', 'event', 'snapshot']);
    expect(rec.calls[1]!.payload).toEqual({ type: 'FINISH', answers: { Pay_Form: { cardNumber: REDACTED, holder: 'Ann' } } });
    expect(rec.calls[2]!.payload).toMatchObject({
      status: 'done',
      value: '__end',
      context: { outputs: { paymentToken: REDACTED, total: 12 } },
    });
    expect(JSON.stringify(rec.calls)).not.toMatch(/4242424242424242|tok_live_123/);
  });

  it('lists only the caller’s interviews, with the element each stands on', async () => {
    const mine = await engine.startInterview('Gift_Options', {}, { userId: buyer.buyerId });
    const theirs = await engine.startInterview('Gift_Options', {}, { userId: other.buyerId });
    const list = await engine.listInterviews({ userId: buyer.buyerId });
    expect(list.map((i) => i.id)).toContain(mine.id);
    expect(list.map((i) => i.id)).not.toContain(theirs.id);
    expect(list.find((i) => i.id === mine.id)).toMatchObject({
      flowApiName: 'Gift_Options',
      status: 'Paused',
      currentElement: 'Ask_Wrap',
      stack: ['Gift_Options'],
    });
    const refused = await engine.interviewSummary(theirs.id, { userId: buyer.buyerId }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EngineError);
    expect((refused as EngineError).code).toBe('NOT_FOUND');
    // Each buyer's interview is its own actor.
    expect(rx.calls.filter((c) => c.kind === 'actor' && c.id === theirs.id)).toHaveLength(1);
  });

  it('an interview on a cart with a checkout session shows in the session history and on the session actor too', async () => {
    const as = { userId: buyer.buyerId };
    const iv = await engine.startInterview('Gift_Note_Checkout', { cartId: buyer.cartId }, as);
    expect(iv.screen?.name).toBe('Ask_Note');
    const [session] = await engine.admin.find('CartCheckoutSession', { where: [{ field: 'WebCartId', op: '=', value: buyer.cartId }] });
    const sessionId = String(session!.Id);
    const done = await engine.navigate(iv.id, { action: 'FINISH', answers: { Note: { value: 'For Sam' } } }, as);
    expect(done).toMatchObject({ status: 'Finished', outputs: { sessionId } });
    const history = await engine.getHistory(sessionId, as);
    const entries = history.filter((h) => h.event.type === 'FLOW_INTERVIEW');
    expect(entries.at(-1)).toMatchObject({
      operation: 'navigateInterview',
      callerId: buyer.buyerId,
      event: { interviewId: iv.id, action: 'FINISH', elementBefore: 'Ask_Note', status: 'Finished' },
    });
    // The session's own actor got the entry; the interview's actor got its own event.
    expect(
      rx.calls.some(
        (c) => c.id === sessionId && c.kind === 'event' && c.payload.type === 'FLOW_INTERVIEW' && c.payload.interviewId === iv.id,
      ),
    ).toBe(true);
    expect(rx.calls.filter((c) => c.id === iv.id && c.kind === 'snapshot').map((c) => c.payload.value)).toEqual(['Ask_Note', '__end']);
    // Another buyer reads neither the session's history nor the interview.
    await expect(engine.getHistory(sessionId, { userId: other.buyerId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(engine.getInterview(iv.id, { userId: other.buyerId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
