/**
 * Scenario steps that drive a flow interview (issue 19 item 6): `startInterview` and `navigate`
 * with `interview` expectations (status, screen, actions, redirect, error) and the flow's outputs,
 * over the engine and over HTTP alike; a wrong expectation fails the step naming what it saw; a
 * malformed step is refused by the loader naming the field.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario, runScenario, ScenarioFileError } from '../../src/scenarios/index.js';

const LIBRARY = 'scenarios/library/flow-interview-gift-options.yaml';

describe('interview scenario steps', () => {
  it.each(['engine', 'http'] as const)('the library scenario passes over %s', async (over) => {
    const r = await runScenario(loadScenario(LIBRARY), { over });
    expect(r.failure).toBeNull();
    expect(r.stepsRun).toBe(r.stepCount);
  });

  it('a wrong screen or output fails the step, saying where the interview stands', async () => {
    const text = [
      'name: wrong screen',
      'fixture: demo',
      'flowSources: [flows-metadata]',
      'steps:',
      '  - startInterview: { flow: Gift_Options }',
      '    expect: { interview: { screen: Ask_Message, status: Finished } }',
    ].join('\n');
    const r = await runScenario(parseScenario(text, join('scenarios/library', 'inline.yaml')));
    expect(r.passed).toBe(false);
    expect(r.failure?.label).toBe('start interview Gift_Options');
    expect(r.failure?.message).toContain('interview screen');
    expect(r.failure?.message).toContain('Ask_Wrap');
    expect(r.failure?.message).toContain('interview status: expected Finished, got (interview Paused at Ask_Wrap)');

    const outputs = [
      'name: wrong output',
      'fixture: demo',
      'flowSources: [flows-metadata]',
      'steps:',
      '  - startInterview: { flow: Gift_Options }',
      '  - navigate: { action: NEXT, answers: { Wants_Wrap: { value: false } } }',
      '  - navigate: { action: FINISH }',
      '    expect: { outputs: { wrapChoice: wrap } }',
    ].join('\n');
    const o = await runScenario(parseScenario(outputs, join('scenarios/library', 'inline.yaml')));
    expect(o.failure?.step).toBe(2);
    expect(o.failure?.message).toMatch(/output wrapChoice.*none/);
  });

  it.each(['engine', 'http'] as const)(
    'a flow on the cart redirects when it finishes; another buyer may not start it on that cart (%s)',
    async (over) => {
      const text = [
        'name: redirect',
        'fixture: demo',
        'flowSources: [fixtures/flows]',
        'steps:',
        "  - startInterview: { flow: Gift_Redirect, inputs: { cartId: '@cart' } }",
        '    expect: { interview: { status: Paused, screen: Ask_Note, actions: [NEXT] } }',
        '  - name: a required answer left out is refused, naming the field',
        '    navigate: { action: NEXT }',
        '    expect: { success: false, unchanged: true }',
        '  - navigate: { action: NEXT, answers: { Note: { value: For Sam } } }',
        "    expect: { interview: { status: Finished, screen: Go_To_Cart, redirect: { pageName: gift-note, recordId: '@cart' } } }",
        '  - name: the other buyer cannot start it on this cart',
        "    startInterview: { flow: Gift_Redirect, inputs: { cartId: '@cart' } }",
        '    as: outsider',
        '    expect: { error: { code: NOT_FOUND, fields: [cartId] }, unchanged: true }',
      ].join('\n');
      const r = await runScenario(parseScenario(text, join('test/scenarios', 'inline.yaml')), { over });
      expect(r.failure).toBeNull();
      expect(r.stepsRun).toBe(4);
    },
  );

  it('an interview expectation on a step that is no interview call is reported', async () => {
    const text = ['name: misplaced', 'fixture: demo', 'steps:', '  - check: { interview: { status: Paused } }'].join('\n');
    const r = await runScenario(parseScenario(text, 'inline.yaml'));
    expect(r.failure?.message).toContain('interview: this step is not a startInterview or navigate');
  });

  it('the loader refuses a navigate without an action and an unknown status, naming the field', () => {
    const bad = [
      'name: bad',
      'steps:',
      '  - navigate: { answers: {} }',
      '  - startInterview: { flow: X }',
      '    expect: { interview: { status: Done } }',
    ].join('\n');
    const e = (() => {
      try {
        parseScenario(bad, 'bad.yaml');
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(ScenarioFileError);
    const fields = (e as ScenarioFileError).problems.map((p) => p.field);
    expect(fields).toContain('steps[0].navigate.action');
    expect(fields).toContain('steps[1].expect.interview.status');
  });
});
