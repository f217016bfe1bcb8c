/**
 * The scenario format and runner: file/line/field errors for invalid files, the JSON Schema kept
 * current, failing expectations reported with the session history, JUnit output, the `run`
 * command's exit codes, `--over http` and `--db` (SQLite folder and PostgreSQL).
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import {
  expandScenarioPaths,
  junitReport,
  parseScenario,
  runScenario,
  runScenarioFiles,
  ScenarioFileError,
  scenarioJsonSchema,
  textReport,
} from '../../src/scenarios/index.js';
import { dropTestSchemas, PG_URL } from '../helpers/backends.js';

afterAll(dropTestSchemas);

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _e: string, cb: () => void) {
    this.text += chunk.toString('utf8');
    cb();
  }
}

const problemsOf = (text: string) => {
  try {
    parseScenario(text, 'bad.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioFileError);
    expect((e as ScenarioFileError).code).toBe('INVALID_SCENARIO');
    return (e as ScenarioFileError).problems;
  }
  throw new Error('expected the scenario to be refused');
};

describe('scenario files', () => {
  it('scenarios/scenario.schema.json is the JSON Schema generated from the zod schema (run npx tsx scripts/scenario-schema.ts)', () => {
    const stored = JSON.parse(readFileSync('scenarios/scenario.schema.json', 'utf8'));
    expect(stored).toEqual(scenarioJsonSchema());
    expect(stored.properties.steps.type).toBe('array');
  });

  it('every library file (the security attacks included) is valid and points editors at the schema', () => {
    const files = expandScenarioPaths(['scenarios']);
    expect(files.filter((f) => f.includes('/security/')).length).toBeGreaterThanOrEqual(20);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(text.split('\n')[0], f).toMatch(/^# yaml-language-server: \$schema=(\.\.\/)+scenario\.schema\.json$/);
      expect(parseScenario(text, f).doc.steps.length, f).toBeGreaterThan(0);
    }
  });

  it('an invalid file names file, line, column and field for each problem', () => {
    const problems = problemsOf(
      [
        'name: broken', //                                        1
        'fixture: demo', //                                       2
        'steps:', //                                              3
        '  - invoke: cartToOrderAction', //                       4
        '    input: { cartId: "@cart" }', //                      5
        '    expect:', //                                         6
        '      error: { code: 42, status: "x" }', //               7
        '  - advanceClock: soon', //                              8
        '  - restart: true', //                                   9
        '    colour: blue', //                                   10
        '  - wait: all', //                                      11
        '    invoke: priceCart', //                              12
        '  - nothing: here', //                                  13
      ].join('\n'),
    );
    const byField = Object.fromEntries(problems.map((p) => [p.field, p]));
    expect(byField['steps[0].expect.error.code']).toMatchObject({ file: 'bad.yaml', line: 7 });
    expect(byField['steps[0].expect.error.status']).toMatchObject({ line: 7 });
    expect(byField['steps[1].advanceClock']).toMatchObject({ line: 8 });
    expect(byField['steps[2].colour']).toMatchObject({ line: 10, message: "unknown field 'colour'" });
    expect(byField['steps[3]']).toMatchObject({ line: 11, message: expect.stringMatching(/one thing; found invoke and wait/) });
    expect(byField['steps[4]']).toMatchObject({ line: 13, message: expect.stringMatching(/^a step needs one of: invoke, create/) });
  });

  it('top-level problems, missing steps and YAML syntax errors are located too', () => {
    expect(problemsOf('name: x\nflow: 7\nsteps: []\n')).toEqual([
      expect.objectContaining({ field: 'flow', line: 2 }),
      expect.objectContaining({ field: 'steps', line: 3, message: 'must list at least one step' }),
    ]);
    expect(problemsOf('steps:\n  - check: {}\n')).toEqual([expect.objectContaining({ field: 'name', line: 1 })]);
    expect(problemsOf('name: x\nsteps: [\n')[0]).toMatchObject({ line: expect.any(Number), message: expect.stringMatching(/^YAML:/) });
  });
});

const write = (dir: string, name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('runner', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scenario-test-'));
  const failing = write(
    dir,
    'failing.yaml',
    `name: expects the wrong code
steps:
  - invoke: checkoutSessionAction
    input: { cartId: '@cart' }
  - invoke: cartToOrderAction
    input: { cartId: '@cart' }
    expect: { error: { code: ALREADY_IN_PROCESS, status: 400 } }
`,
  );
  const passing = write(
    dir,
    'passing.yaml',
    `name: a buyer of another account is refused
steps:
  - invoke: checkoutSessionAction
    as: outsider
    input: { cartId: '@cart' }
    expect: { error: { code: UNKNOWN_EXCEPTION, status: 500 }, session: { none: true } }
`,
  );

  it('a failing expectation is reported with the step, its line, what was expected and got, and the session history', async () => {
    const [r] = await runScenarioFiles([failing]);
    expect(r).toMatchObject({ passed: false, stepsRun: 2, failure: { step: 1, line: 5 } });
    expect(r!.failure!.message).toMatch(
      /error code: expected ALREADY_IN_PROCESS, got INVALID_OPERATION 403: Cart Isn't in the Checkout State/,
    );
    expect(r!.history).toEqual([expect.objectContaining({ step: 0, State: 'start', IsProcessing: false })]);
    const text = textReport([r!], dir);
    expect(text).toMatch(/FAIL failing\.yaml:5 — expects the wrong code/);
    expect(text).toMatch(/session history:\n {4}after step 1: session \w+ State=start/);
    expect(text).toMatch(/0 passed, 1 failed, 1 scenarios$/);
  });

  it('an unexpected failure of a step without expectations fails it; an unknown handle is named', async () => {
    const r = await runScenario(
      parseScenario("name: x\nsteps:\n  - invoke: cartToOrderAction\n    input: { cartId: '@cart' }\n", 'x.yaml'),
    );
    expect(r.failure!.message).toMatch(/^expected success, got INVALID_OPERATION 403/);
    const u = await runScenario(
      parseScenario("name: x\nsteps:\n  - invoke: cartToOrderAction\n    input: { cartId: '@nope' }\n", 'x.yaml'),
    );
    expect(u.failure!.message).toMatch(/unknown handle '@nope'/);
  });

  it('JUnit output has a testcase per scenario and the failure with its history', async () => {
    const results = await runScenarioFiles([failing, passing], { concurrency: 2 });
    const xml = junitReport(results, dir);
    expect(xml).toMatch(/<testsuite name="scenarios" tests="2" failures="1"/);
    expect(xml).toMatch(
      /<testcase classname="passing.yaml" name="a buyer of another account is refused" file="passing.yaml" time="\d+\.\d{3}"><\/testcase>/,
    );
    expect(xml).toMatch(
      /<failure message="invoke cartToOrderAction: error code: expected ALREADY_IN_PROCESS[^"]*" type="ScenarioFailure">failing.yaml:5/,
    );
    expect(xml).toMatch(/Cart Isn&apos;t in the Checkout State/);
  });

  it('checkout-engine run: progress lines, report, exit 1 on a failure and 0 when all pass, 2 on usage errors, --reporter junit to a file', async () => {
    const io = () => ({ out: new Sink(), err: new Sink(), env: {} });
    const a = io();
    expect(await main(['run', failing, passing], a)).toBe(1);
    expect(a.err.text).toMatch(/\[\d\/2\] (PASS|FAIL) /);
    expect(a.out.text).toMatch(/1 passed, 1 failed, 2 scenarios/);
    const b = io();
    expect(await main(['run', join(dir, 'pass*.yaml')], b)).toBe(0);
    const c = io();
    const out = join(dir, 'junit.xml');
    expect(await main(['run', dir + '/*.yaml', '--reporter', 'junit', '--output', out], c)).toBe(1);
    expect(readFileSync(out, 'utf8')).toMatch(/^<\?xml[^]*tests="2" failures="1"/);
    for (const args of [
      ['run'],
      ['run', passing, '--over', 'smoke'],
      ['run', passing, '--reporter', 'tap'],
      ['run', join(dir, 'none*.yaml')],
    ]) {
      const d = io();
      expect(await main(args, d), args.join(' ')).toBe(2);
      expect(d.err.text).toMatch(/^checkout-engine run: /);
    }
  });

  it('--over http runs the same scenarios through the REST API, restart included', async () => {
    const files = [
      'flow-happy-path',
      'errors-step-req3-other-account',
      'errors-update-state-mismatch',
      'recovery-restart-claimed-step',
      'recovery-cart-change-add-line',
      'errors-invocation',
    ].map((n) => `scenarios/library/${n}.yaml`);
    const results = await runScenarioFiles(files, { over: 'http', concurrency: 3 });
    expect(results.filter((r) => !r.passed).map((r) => `${r.file}: ${r.failure?.message}`)).toEqual([]);
  });

  it('--db: a folder gets one SQLite file per scenario; a postgres:// URL one schema per scenario', async () => {
    const dbDir = join(dir, 'dbs');
    const [r] = await runScenarioFiles([passing, 'scenarios/library/recovery-restart-mid-checkout.yaml'], { db: dbDir });
    expect(r!.passed).toBe(true);
    expect(readdirSync(dbDir).filter((f) => f.endsWith('.db'))).toHaveLength(2);
    const pg = await runScenarioFiles([passing, 'scenarios/library/recovery-restart-mid-checkout.yaml'], { db: PG_URL });
    expect(pg.map((x) => x.failure?.message ?? 'ok')).toEqual(['ok', 'ok']);
  });
});
