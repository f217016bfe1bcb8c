/**
 * The interview list the statechart page reads (engine.listInterviews / interviewSummary) on every
 * backend: newest first, the element each stands on, only the caller's; another buyer's interview
 * answers as a missing id, and a malformed id names the field.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, demo } from '../../src/index.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';

const GIFT = fileURLToPath(new URL('../../scenarios/library/flows-metadata', import.meta.url));
afterAll(dropTestSchemas);

describe.each([BACKENDS[0]!, BACKENDS[2]!])('interview list on $name', (backend) => {
  it('lists the caller’s interviews newest first with their elements, and nobody else’s', async () => {
    const engine = await createCheckoutEngine({ storage: backend.location(), flowSources: [GIFT], onError: () => {} });
    try {
      const buyer = { userId: (await demo.newCart(engine, { lines: 1, groups: 1 })).buyerId };
      const other = { userId: (await demo.newCart(engine, { buyer: demo.users.otherBuyer, lines: 1, groups: 1 })).buyerId };
      const first = await engine.startInterview('Gift_Options', {}, buyer);
      await new Promise((r) => setTimeout(r, 5));
      const second = await engine.startInterview('Gift_Options', {}, buyer);
      await engine.navigate(second.id, { action: 'NEXT', answers: { Wants_Wrap: { value: false } } }, buyer);
      const theirs = await engine.startInterview('Gift_Options', {}, other);

      const list = await engine.listInterviews(buyer);
      expect(list.map((i) => i.id)).toEqual([second.id, first.id]);
      expect(list[0]).toMatchObject({ status: 'Paused', currentElement: 'Confirm', stack: ['Gift_Options'], cartId: null });
      expect(list[1]).toMatchObject({ currentElement: 'Ask_Wrap' });
      expect((await engine.listInterviews(other)).map((i) => i.id)).toEqual([theirs.id]);

      const done = await engine.navigate(second.id, { action: 'FINISH' }, buyer);
      expect(done.status).toBe('Finished');
      expect(await engine.interviewSummary(second.id, buyer)).toMatchObject({ status: 'Finished', currentElement: null });
      await expect(engine.interviewSummary(theirs.id, buyer)).rejects.toMatchObject({ code: 'NOT_FOUND', fields: ['interviewId'] });
      await expect(engine.interviewSummary('0Fo-nope', buyer)).rejects.toMatchObject({ fields: ['interviewId'] });
    } finally {
      await engine.close();
    }
  });
});
