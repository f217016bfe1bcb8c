/**
 * A navigate's cost by counting, never by timing (timings live in bench/flow-connect.ts): the SQL
 * statements `engine.navigate` issues on SQLite, and that reading the caller together with the
 * interview keeps the errors a navigate answers with in the order they had.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, demo, type CheckoutEngine } from '../../src/index.js';
import { mintId } from '../../src/domain/ids.js';
import { EngineError } from '../../src/errors.js';
import { sqlWhile } from '../helpers/sql-log.js';
import { GOOD, storeCode } from './interview-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'navigate-counts-'));
let engine: CheckoutEngine;
beforeAll(async () => {
  engine = await createCheckoutEngine({ storage: join(dir, 'flow.db'), flowSources: [GOOD], ...storeCode });
});
afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

const refusal = async (p: Promise<unknown>): Promise<EngineError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
};

describe('navigate statement counts (SQLite)', () => {
  it('NEXT from Welcome to Ask_PO (checkoutSessionAction on the way): the caller and the interview in one read', async () => {
    const { cartId, buyerId } = await demo.newCart(engine, { lines: 2, groups: 1 });
    const as = { userId: buyerId };
    const iv = await engine.startInterview('Interview_Basics', { cartId }, as);
    const { result, sql } = await sqlWhile(() => engine.navigate(iv.id, { action: 'NEXT' }, as), { pragmas: false });
    expect(result.screen?.name).toBe('Ask_PO');
    // The interview with its owner (1), the claim (1), checkoutSessionAction without its caller read
    // (6), the saved state with its history entry in one transaction (4: begin, the state, the entry
    // — the cart's session read, its entries at this version counted and the entry inserted in one
    // statement —, commit): 12 (13 with the caller read apart).
    expect(sql.length, sql.join('\n')).toBeLessThanOrEqual(12);
    expect(sql.filter((s) => /"CheckoutSessionEvent"/.test(s)).length, sql.join('\n')).toBe(1);
    expect(sql.filter((s) => /from "User"/.test(s)).length, sql.join('\n')).toBe(0);
    expect(sql.filter((s) => /"FlowInterview"/.test(s) && /^select/i.test(s)).length, sql.join('\n')).toBe(1);
  });

  it('answers as before: a 15-character caller id, an unknown caller first, then a missing or foreign interview', async () => {
    const a = await demo.newCart(engine, { lines: 1, groups: 1 });
    const b = await demo.newCart(engine, { buyer: demo.users.otherBuyer, lines: 1, groups: 1 });
    const iv = await engine.startInterview('Interview_Basics', { cartId: a.cartId }, { userId: a.buyerId });
    const nobody = { userId: mintId('005') };
    // An unknown caller is refused before anything about the interview, whatever the interview.
    for (const id of [iv.id, mintId('0Fo'), 'nope']) {
      const e = await refusal(engine.navigate(id, { action: 'NEXT' }, nobody));
      expect(e.key).toBe('INVALID_SESSION');
    }
    expect((await refusal(engine.navigate(iv.id, { action: 'JUMP' } as never, nobody))).key).toBe('INVALID_SESSION');
    expect((await refusal(engine.navigate(iv.id, { action: 'NEXT' }, undefined as never))).key).toBe('INVALID_SESSION');
    // A known caller: a bad id or request names its field; someone else's interview answers as missing.
    expect((await refusal(engine.navigate('nope', { action: 'NEXT' }, { userId: b.buyerId }))).fields).toEqual(['interviewId']);
    const foreign = await refusal(engine.navigate(iv.id, { action: 'NEXT' }, { userId: b.buyerId }));
    expect(foreign.key).toBe('NOT_FOUND');
    expect(foreign.fields).toEqual(['interviewId']);
    expect((await refusal(engine.navigate(mintId('0Fo'), { action: 'NEXT' }, { userId: a.buyerId }))).key).toBe('NOT_FOUND');
    // The owner, by a 15-character id, navigates it.
    const next = await engine.navigate(iv.id, { action: 'NEXT' }, { userId: a.buyerId.slice(0, 15) });
    expect(next.screen?.name).toBe('Ask_PO');
  });
});
