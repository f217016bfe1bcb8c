/**
 * Runs a folder of scenarios as vitest tests: one `it` per file, failing with the scenario's
 * failing expectation and session history.
 * @example describeScenarios('scenarios/library', { over: 'engine' })
 */
import { relative } from 'node:path';
import { describe, it } from 'vitest';
import { expandScenarioPaths, loadScenario } from './loader.js';
import { historyTable } from './report.js';
import { runScenario, type ScenarioRunOptions } from './scenario-runner.js';

/** Declares one test per scenario file found under `paths` (files, folders or globs). */
export function describeScenarios(paths: string | string[], opts: ScenarioRunOptions & { timeoutMs?: number } = {}): string[] {
  const files = expandScenarioPaths(Array.isArray(paths) ? paths : [paths]);
  describe.concurrent(`scenarios${opts.over === 'http' ? ' over http' : ''}`, () => {
    files.forEach((file, k) => {
      it(relative(process.cwd(), file), { timeout: opts.timeoutMs ?? 60_000 }, async () => {
        const r = await runScenario(loadScenario(file), opts, k);
        if (!r.passed) {
          const f = r.failure!;
          throw new Error(
            `${relative(process.cwd(), file)}:${f.line} step ${f.step + 1} (${f.label}):\n${f.message}\nsession history:\n${historyTable(r.history)}`,
          );
        }
      });
    });
  });
  return files;
}
