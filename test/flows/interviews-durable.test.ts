/**
 * Interviews survive processes: two engines on one PostgreSQL database race a navigate (the second
 * gets INTERVIEW_BUSY, 409, and runs nothing), and an engine that dies mid-navigate leaves the
 * interview at its last rest point, which a new engine resumes once the lease has passed (SQLite
 * file and PostgreSQL).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, demo } from '../../src/index.js';
import { EngineError } from '../../src/errors.js';
import { dropTestSchemas, freshPgUrl, freshSqliteFile } from '../helpers/backends.js';
import { GOOD, storeCode } from './interview-helpers.js';

afterAll(dropTestSchemas);

/** A promise with its resolve, for holding an Apex stand-in mid-call. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

/** The PO check, held until `g` opens (and counting its calls). */
function heldApex(g: { opened: Promise<void> }, calls: { n: number }) {
  return {
    PoNumberCheck: async (inputs: Record<string, unknown>) => {
      calls.n++;
      await g.opened;
      return storeCode.apex.PoNumberCheck(inputs as Record<string, unknown>);
    },
  };
}

const until = async (check: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('flow interviews across processes', () => {
  it('two engines on one PostgreSQL database: the second navigate of a running one is INTERVIEW_BUSY and runs nothing', async () => {
    const url = freshPgUrl();
    const g = gate();
    const calls = { n: 0 };
    const a = await createCheckoutEngine({
      storage: url,
      flowSources: [GOOD],
      components: storeCode.components,
      apex: heldApex(g, calls),
      onError: () => {},
    });
    const b = await createCheckoutEngine({
      storage: url,
      flowSources: [GOOD],
      components: storeCode.components,
      apex: heldApex(g, calls),
      onError: () => {},
    });
    try {
      const { buyerId, cartId } = await demo.newCart(a, { lines: 1, groups: 1 });
      const as = { userId: buyerId };
      const iv = await a.startInterview('Interview_Basics', { cartId }, as);
      await b.navigate(iv.id, { action: 'NEXT' }, as);
      const nav = { action: 'NEXT' as const, answers: { PO_Input: { poNumber: 'PO-9' } } };
      const first = a.navigate(iv.id, nav, as);
      await until(() => calls.n === 1);
      const second = await b.navigate(iv.id, nav, as).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(EngineError);
      expect((second as EngineError).key).toBe('INTERVIEW_BUSY');
      expect((second as EngineError).status).toBe(409);
      // While A runs, B reads the last rest point.
      expect((await b.getInterview(iv.id, as)).screen?.name).toBe('Ask_PO');
      g.open();
      expect(await first).toMatchObject({ status: 'Finished', outputs: { result: 'PO-9' } });
      expect(calls.n).toBe(1);
      expect(await b.getInterview(iv.id, as)).toMatchObject({ status: 'Finished' });
    } finally {
      g.open();
      await a.close();
      await b.close();
    }
  });

  for (const [name, location] of [
    ['a SQLite file', freshSqliteFile],
    ['PostgreSQL', freshPgUrl],
  ] as const) {
    it(`an engine that dies mid-navigate: a new engine on ${name} resumes from the last screen once the lease passed`, async () => {
      const db = location();
      const stuck = gate();
      const calls = { n: 0 };
      const a = await createCheckoutEngine({
        storage: db,
        flowSources: [GOOD],
        components: storeCode.components,
        apex: heldApex(stuck, calls),
        interviewLeaseMs: 1_000,
        onError: () => {},
      });
      const { buyerId, cartId } = await demo.newCart(a, { lines: 1, groups: 1 });
      const as = { userId: buyerId };
      const iv = await a.startInterview('Interview_Basics', { cartId }, as);
      await a.navigate(iv.id, { action: 'NEXT' }, as);
      const dying = a.navigate(iv.id, { action: 'NEXT', answers: { PO_Input: { poNumber: 'PO-1' } } }, as).catch((e: unknown) => e);
      await until(() => calls.n === 1);
      // The process dies: its storage goes away with the navigate still inside the Apex call.
      await a.close();

      // A new engine an hour later (past any lease): the interview stands at Ask_PO and runs from there.
      const later = () => new Date(Date.now() + 3_600_000);
      const b = await createCheckoutEngine({ storage: db, flowSources: [GOOD], ...storeCode, clock: later, onError: () => {} });
      try {
        const read = await b.getInterview(iv.id, as);
        expect(read).toMatchObject({ status: 'Paused', screen: { name: 'Ask_PO' } });
        const done = await b.navigate(iv.id, { action: 'NEXT', answers: { PO_Input: { poNumber: 'PO-2' } } }, as);
        expect(done).toMatchObject({ status: 'Finished', outputs: { result: 'PO-2' } });
      } finally {
        stuck.open();
        // The dead process's navigate never saves over the resumed one.
        expect(await dying).toBeInstanceOf(Error);
        expect((await b.getInterview(iv.id, as)).outputs).toMatchObject({ result: 'PO-2' });
        await b.close();
      }
    });

    it(`a live lease on ${name} (renewed while its navigate runs) keeps other navigates out`, async () => {
      const db = location();
      const g = gate();
      const calls = { n: 0 };
      // A short lease: the running navigate renews it, so it never lapses while the navigate lives.
      const a = await createCheckoutEngine({
        storage: db,
        flowSources: [GOOD],
        components: storeCode.components,
        apex: heldApex(g, calls),
        interviewLeaseMs: 1_000,
        onError: () => {},
      });
      try {
        const { buyerId, cartId } = await demo.newCart(a, { lines: 1, groups: 1 });
        const as = { userId: buyerId };
        const iv = await a.startInterview('Interview_Basics', { cartId }, as);
        await a.navigate(iv.id, { action: 'NEXT' }, as);
        const running = a.navigate(iv.id, { action: 'NEXT', answers: { PO_Input: { poNumber: 'PO-5' } } }, as);
        await until(() => calls.n === 1);
        await new Promise((r) => setTimeout(r, 1_600));
        const busy = await a.navigate(iv.id, { action: 'BACK' }, as).catch((e: unknown) => e);
        expect((busy as EngineError).key).toBe('INTERVIEW_BUSY');
        g.open();
        expect((await running).outputs).toMatchObject({ result: 'PO-5' });
      } finally {
        g.open();
        await a.close();
      }
    });
  }
});
