/**
 * The scenario library (scenarios/library) as tests: one test per file, run on a fresh in-memory
 * engine each (a temp SQLite file for those that restart). The attacks of
 * the security work are in `scenarios/library/security`.
 */
import { expect, it } from 'vitest';
import { describeScenarios } from '../../src/scenarios/vitest.js';

const files = describeScenarios('scenarios/library');

it('the library has at least 40 scenarios', () => {
  expect(files.length).toBeGreaterThanOrEqual(40);
});
