/** Scenario tests as data: the file format, the loader, the runner, the reporters and a vitest helper. */
export { Scenario, scenarioJsonSchema, type ScenarioDoc, type StepDoc, type ExpectDoc } from './schema.js';
export {
  loadScenario,
  parseScenario,
  expandScenarioPaths,
  formatProblem,
  ScenarioFileError,
  type LoadedScenario,
  type ScenarioProblem,
} from './loader.js';
export {
  runScenario,
  runScenarioFiles,
  checkValue,
  type ScenarioResult,
  type ScenarioRunOptions,
  type ScenarioHistoryEntry,
  type ScenarioFailure,
} from './scenario-runner.js';
import type { ScenarioHistoryEntry } from './scenario-runner.js';
/**
 * @deprecated Renamed ScenarioHistoryEntry (the engine's session history entry is the root
 * entry's `HistoryEntry`, src/engine/sessions.ts); this alias stays for 'checkout-engine/scenarios'.
 */
export type HistoryEntry = ScenarioHistoryEntry;
export { textReport, junitReport, progressLine, historyTable } from './report.js';
export { checkInvariants, computedCartTotals, orderTotalsProblem } from './invariants.js';
