/**
 * Issue 13 item 1, the short soak of every `npm test`: 50 buyers check out over HTTP for 5 s on a
 * SQLite file (one engine process) and on PostgreSQL (three engine processes on one schema), both
 * at once; some change their cart mid-checkout, some cancel, some fail an integration (a sold-out
 * product, a declined card, a payment gateway that throws). Afterwards the database holds every
 * invariant of `npm run soak` (scripts/soak/run.ts): each checkout complete, archived or in error
 * with a message; each Order the order of exactly one session; no operation New or Running; the
 * stock ledger adds up; no undocumented 5xx. Without PostgreSQL the PostgreSQL half fails.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, freshPgUrl, freshSqliteFile } from '../helpers/backends.js';
import { formatReport, runSoak, type SoakReport } from '../../scripts/soak/run.js';

afterAll(dropTestSchemas);

/** 50 buyers over 10 users (each password hash, at seeding and login, costs ~50 ms of CPU). */
const SHORT = { buyers: 50, users: 10, seconds: 5, seed: 13, maxSockets: 32 } as const;

/** What a short soak must have exercised, besides holding the invariants. */
function expectExercised(r: SoakReport): void {
  const text = formatReport(r).join('\n');
  expect(r.problems, text).toEqual([]);
  expect(r.checkouts.unexpected, text).toBe(0);
  expect(r.checkouts.completed, text).toBeGreaterThan(0);
  expect(r.checkouts.canceled, text).toBeGreaterThan(0);
  expect(r.checkouts.changed, text).toBeGreaterThan(0);
  expect(r.checkouts.errored, text).toBeGreaterThan(0);
  // Every checkout a buyer started is a session, and every completed one has its Activated order.
  expect(r.database.sessions, text).toBe(r.checkouts.started);
  expect(r.database.activatedOrders, text).toBe(r.checkouts.completed);
}

describe.concurrent('soak (short): buyers over HTTP, then the invariants', () => {
  it('SQLite file, one engine process', { timeout: 120_000 }, async () => {
    expectExercised(await runSoak({ backend: 'sqlite', storage: freshSqliteFile(), processes: 1, ...SHORT }));
  });

  it('PostgreSQL, three engine processes on one schema', { timeout: 120_000 }, async () => {
    expectExercised(await runSoak({ backend: 'postgres', storage: freshPgUrl(), processes: 3, ...SHORT }));
  });
});
