/** Scenario tests as data: the file format, the loader, the runner, the reporters and a vitest helper. */
export { Scenario, scenarioJsonSchema, type ScenarioDoc, type StepDoc, type ExpectDoc } from './schema.js';
export { loadScenario, parseScenario, expandScenarioPaths, formatProblem, ScenarioFileError, type LoadedScenario, type ScenarioProblem } from './loader.js';
export { runScenario, runScenarioFiles, checkValue, type ScenarioResult, type ScenarioRunOptions, type HistoryEntry, type ScenarioFailure } from './runner.js';
export { textReport, junitReport, progressLine, historyTable } from './report.js';
export { checkInvariants, computedCartTotals, orderTotalsProblem } from './invariants.js';
