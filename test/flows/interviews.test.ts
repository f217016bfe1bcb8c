/**
 * Durable flow interviews on every backend (src/engine/interviews.ts): start, read, navigate a
 * store's own Flow metadata (test/flows/fixtures/engine/good) as the buyer who started it; another
 * buyer sees nothing; a core action's outputs and an Apex stand-in's fault reach the flow; bad ids
 * and bodies are refused naming the field; navigates are recorded in the cart's session history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, demo, type CheckoutEngine } from '../../src/index.js';
import { EngineError } from '../../src/errors.js';
import { mintId } from '../../src/domain/ids.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { BROKEN, GOOD, storeCode } from './interview-helpers.js';

async function refusal(p: Promise<unknown>): Promise<EngineError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(EngineError);
  return e as EngineError;
}

afterAll(dropTestSchemas);

describe.each(BACKENDS)('flow interviews on $name', (backend) => {
  let engine: CheckoutEngine;
  let buyer: { buyerId: string; cartId: string };
  let other: { buyerId: string; cartId: string };

  beforeAll(async () => {
    engine = await createCheckoutEngine({ storage: backend.location(), flowSources: [GOOD], ...storeCode, onError: () => {} });
    buyer = await demo.newCart(engine, { lines: 2, groups: 1 });
    other = await demo.newCart(engine, { buyer: demo.users.otherBuyer, lines: 1, groups: 1 });
  });
  afterAll(() => engine?.close());

  it('runs the flow screen by screen to Finished, with core action and Apex outputs', async () => {
    const as = { userId: buyer.buyerId };
    const cart = await engine.getRecord('WebCart', buyer.cartId, as);
    const cartId = (await demo.newCart(engine, { lines: 1, groups: 1 })).cartId;
    const started = await engine.startInterview('Interview_Basics', { cartId }, as);
    expect(started.id).toMatch(/^0Fo[0-9A-Za-z]{15}$/);
    expect(started.status).toBe('Paused');
    expect(started.screen?.name).toBe('Welcome');
    expect(JSON.stringify(started.screen?.fields[0]?.inputs)).toContain('Checking out');
    expect(cart.Id).toBe(buyer.cartId);
    expect(await engine.getInterview(started.id, as)).toEqual(started);

    const ask = await engine.navigate(started.id, { action: 'NEXT' }, as);
    expect(ask.screen?.name).toBe('Ask_PO');
    expect(ask.screen?.fields[0]).toMatchObject({
      name: 'PO_Input',
      extensionName: 'c:poNumberInput',
      inputs: { cartId },
      outputNames: ['poNumber'],
    });
    // The core action started a real checkout session on the cart.
    const [session] = await engine.admin.find('CartCheckoutSession', { where: [{ field: 'WebCartId', op: '=', value: cartId }] });
    expect(session).toBeDefined();

    const done = await engine.navigate(started.id, { action: 'NEXT', answers: { PO_Input: { poNumber: ' po-7 ' } } }, as);
    // The Apex stand-in refused 'po-7': its message is $Flow.FaultMessage on the fault path.
    expect(done.status).toBe('Finished');
    expect(String(done.outputs?.result)).toContain("PO number 'po-7' is not of the form");
    expect(done.outputs?.sessionId).toBe(session!.Id);

    // Finished is final.
    const ended = await refusal(engine.navigate(started.id, { action: 'NEXT' }, as));
    expect(ended.key).toBe('INTERVIEW_ENDED');
    expect(ended.status).toBe(409);

    // The session history shows the interview's start and navigates beside the session's own events.
    const history = await engine.getHistory(String(session!.Id), as);
    const flowEvents = history.filter((h) => h.event.type === 'FLOW_INTERVIEW');
    expect(flowEvents.map((h) => h.event.action)).toEqual(['NEXT', 'NEXT']);
    expect(flowEvents.at(-1)?.event).toMatchObject({ interviewId: started.id, flowApiName: 'Interview_Basics', status: 'Finished' });
  });

  it('BACK returns to the previous screen; a good PO finishes with the Apex output', async () => {
    const as = { userId: buyer.buyerId };
    const { cartId } = await demo.newCart(engine, { lines: 1, groups: 1 });
    const iv = await engine.startInterview('Interview_Basics', { cartId }, as);
    const ask = await engine.navigate(iv.id, { action: 'NEXT' }, as);
    expect(ask.screen?.availableActions).toContain('BACK');
    const back = await engine.navigate(iv.id, { action: 'BACK' }, as);
    expect(back.screen?.name).toBe('Welcome');
    await engine.navigate(iv.id, { action: 'NEXT' }, as);
    const done = await engine.navigate(iv.id, { action: 'NEXT', answers: { PO_Input: { poNumber: 'PO-42' } } }, as);
    expect(done).toMatchObject({ status: 'Finished', outputs: { result: 'PO-42' } });
  });

  it("another buyer can't start on, read or navigate someone else's interview: answers as missing", async () => {
    const as = { userId: buyer.buyerId };
    const hostile = { userId: other.buyerId };
    const { cartId } = await demo.newCart(engine, { lines: 1, groups: 1 });
    const iv = await engine.startInterview('Interview_Basics', { cartId }, as);
    const read = await refusal(engine.getInterview(iv.id, hostile));
    const missing = await refusal(engine.getInterview(mintId('0Fo'), as));
    expect(read.key).toBe('NOT_FOUND');
    expect(read.status).toBe(404);
    expect(read.fields).toEqual(['interviewId']);
    expect(missing.key).toBe(read.key);
    const nav = await refusal(engine.navigate(iv.id, { action: 'NEXT' }, hostile));
    expect(nav.key).toBe('NOT_FOUND');
    // Nothing moved.
    expect((await engine.getInterview(iv.id, as)).screen?.name).toBe('Welcome');
    // Nor can they start an interview on the buyer's cart.
    const onCart = await refusal(engine.startInterview('Interview_Basics', { cartId }, hostile));
    expect(onCart.status).toBe(404);
    expect(onCart.fields).toEqual(['cartId']);
  });

  it('refuses bad ids, flows, inputs and navigations naming the field', async () => {
    const as = { userId: buyer.buyerId };
    const { cartId } = await demo.newCart(engine, { lines: 1, groups: 1 });
    const iv = await engine.startInterview('Interview_Basics', { cartId }, as);
    for (const bad of ['nope', '0a6000000000001AAA', 42, '']) {
      const e = await refusal(engine.getInterview(bad as string, as));
      expect(e.status).toBe(400);
      expect(e.fields).toEqual(['interviewId']);
    }
    const unknown = await refusal(engine.startInterview('No_Such_Flow', {}, as));
    expect(unknown.key).toBe('FLOW_NOT_FOUND');
    expect(unknown.message).toContain('No_Such_Flow');
    expect(unknown.message).toContain('Interview_Basics');
    expect((await refusal(engine.startInterview('Interview_Basics', [] as unknown as Record<string, unknown>, as))).fields).toEqual([
      'inputs',
    ]);
    expect(
      (await refusal(engine.startInterview('Interview_Basics', { cartId: () => 1 } as unknown as Record<string, unknown>, as))).fields,
    ).toEqual(['inputs']);
    expect((await refusal(engine.navigate(iv.id, { action: 'JUMP' } as never, as))).fields).toEqual(['action']);
    expect((await refusal(engine.navigate(iv.id, { action: 'NEXT', answers: [] } as never, as))).fields).toEqual(['answers']);
    expect((await refusal(engine.navigate(iv.id, { action: 'NEXT', waitMs: -1 }, as))).fields).toEqual(['waitMs']);
    expect((await refusal(engine.navigate(iv.id, { action: 'NEXT', waitMs: 1e9 }, as))).fields).toEqual(['waitMs']);
    // Hostile library arguments: errors from the table naming the argument, never a TypeError.
    expect((await refusal(engine.startInterview(Symbol('x') as never, {}, as))).fields).toEqual(['flowApiName']);
    const trap = Object.defineProperty({}, 'cartId', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    expect((await refusal(engine.startInterview('Interview_Basics', trap, as))).fields).toEqual(['inputs']);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect((await refusal(engine.startInterview('Interview_Basics', loop, as))).fields).toEqual(['inputs']);
    expect((await refusal(engine.startInterview('Interview_Basics', { n: 10n } as never, as))).fields).toEqual(['inputs']);
    expect((await refusal(engine.navigate(iv.id, null as never, as))).fields).toEqual(['action']);
    expect(
      (
        await refusal(
          engine.navigate(
            iv.id,
            new Proxy(
              {},
              {
                getPrototypeOf: () => {
                  throw new Error('boom');
                },
              },
            ) as never,
            as,
          ),
        )
      ).status,
    ).toBe(400);
    // The runtime refuses what the screen doesn't offer (Welcome has no BACK) after the claim: the claim is freed.
    const back = await refusal(engine.navigate(iv.id, { action: 'BACK' }, as));
    expect(back.status).toBe(400);
    expect(back.key).toBe('FLOW_NAVIGATION_REFUSED');
    const unknownField = await refusal(engine.navigate(iv.id, { action: 'NEXT', answers: { Nope: { x: 1 } } }, as));
    expect(unknownField.status).toBe(400);
    // A refused navigate leaves the interview as it was, and free for the next one.
    const next = await engine.navigate(iv.id, { action: 'NEXT' }, as);
    expect(next.screen?.name).toBe('Ask_PO');
  });

  it('loading flows with issues is one error listing every issue per file and element', async () => {
    const e = await refusal(engine.loadFlows([BROKEN]));
    expect(e.key).toBe('FLOW_LOAD_ERROR');
    expect(e.message).toContain('Broken_References');
    expect(e.message).toContain('Not_Xml');
    expect(e.message).toContain('NoSuchApexClass');
    expect(e.message).toContain('Nowhere_Element');
    // Nothing of it was loaded, and what was loaded still runs.
    expect(engine.flowNames()).toContain('Interview_Basics');
    expect(engine.flowNames()).not.toContain('Broken_References');
    const issues = await engine.checkFlows([BROKEN]);
    expect(new Set(issues.map((i) => i.file.split('/').pop()))).toEqual(
      new Set(['Broken_References.flow-meta.xml', 'Not_Xml.flow-meta.xml']),
    );
  });
});
