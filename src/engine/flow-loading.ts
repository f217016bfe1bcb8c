/**
 * The engine's one door to the flow language (src/flows): loading a store's Flow metadata files
 * against what the engine offers (core actions, Apex and component stand-ins, the managed subflows
 * of src/engine/flow-standins.ts), and the runtime over the loaded definitions. Load problems are
 * never skipped: every issue, per file and element, goes into one FLOW_LOAD_ERROR.
 */
import type { FlowLoadIssue, FlowRegistry, FlowRuntime } from '../flows/contract.js';
import { assertNoLoadIssues, formatIssue, loadFlowSources } from '../flows/load.js';
import type { FlowDefinition } from '../flows/metadata.js';
import { parseFlowXml } from '../flows/parse.js';
import { createFlowRuntime } from '../flows/runtime.js';
import { interviewExecutor } from './interview-machines.js';
import { EngineError } from '../errors.js';
import { builtinComponentAnswers, builtinSubflows } from './flow-standins.js';

export { formatIssue };

/** A loaded flow definition. */
export type LoadedFlow = FlowDefinition;

let builtins: FlowDefinition[] | undefined;

/** The managed subflows no org can retrieve, parsed once (their XML is the project's own). */
export function builtinFlows(): FlowDefinition[] {
  if (builtins) return builtins;
  const defs: FlowDefinition[] = [];
  for (const [name, xml] of Object.entries(builtinSubflows)) {
    const { definition, issues } = parseFlowXml(xml, `built-in ${name}`, name);
    if (!definition || issues.length) throw new Error(`built-in flow ${name} does not parse: ${issues.map(formatIssue).join('; ')}`);
    defs.push(definition);
  }
  return (builtins = defs);
}

/** Checks the paths argument (a list of file or directory names). */
function checkPaths(paths: unknown): asserts paths is string[] {
  if (!Array.isArray(paths) || paths.length === 0 || paths.some((p) => typeof p !== 'string' || !p)) {
    throw new EngineError('INVALID_INPUT', 'flowSources must be a non-empty list of flow files or directories.', ['flowSources']);
  }
}

/**
 * Loads flow files (directories are read for their `.flow-meta.xml`/`.flow` files) beside the
 * flows already loaded (`loaded`, whose API names they must not repeat); returns the new
 * definitions that can run and every issue.
 */
export async function checkFlowSources(
  paths: readonly string[],
  registry: FlowRegistry,
  loaded: readonly FlowDefinition[] = [],
): Promise<{ definitions: FlowDefinition[]; issues: FlowLoadIssue[] }> {
  checkPaths(paths);
  const base = [...builtinFlows(), ...loaded];
  const { definitions, issues } = await loadFlowSources([...paths], registry, base);
  const known = new Set(base);
  return { definitions: definitions.filter((d) => !known.has(d)), issues };
}

/** Loads flow files, or throws FLOW_LOAD_ERROR listing every issue; returns the new definitions. */
export async function loadFlows(
  paths: readonly string[],
  registry: FlowRegistry,
  loaded: readonly FlowDefinition[] = [],
): Promise<FlowDefinition[]> {
  const { definitions, issues } = await checkFlowSources(paths, registry, loaded);
  assertNoLoadIssues(issues);
  return definitions;
}

/** The runtime over the built-in and loaded definitions. */
export function runtimeOver(definitions: readonly FlowDefinition[]): FlowRuntime {
  const own = new Set(definitions.map((d) => d.apiName));
  return createFlowRuntime([...builtinFlows().filter((b) => !own.has(b.apiName)), ...definitions], {
    executor: interviewExecutor,
    componentAnswers: builtinComponentAnswers,
  });
}
