/**
 * Flow interviews for the inspect face: the inspector subscribes to the engine's interview events
 * (the engine calls only `watchInterviews`, and this module knows the engine only through the
 * narrow `InterviewSource` below), and the statechart page's charts of loaded Flow metadata.
 */
import type { AnyStateMachine } from 'xstate';
import { compileFlow } from '../flows/compile.js';
import type { FlowDefinition } from '../flows/metadata.js';
import { InterviewInspector, type InspectorLike, type InterviewInspection } from './inspector.js';
import { layoutFlowMetadata, type FlowChart } from './layout.js';

/** What the inspect face needs of an engine for interviews. */
export interface InterviewSource {
  onInterviewEvent(listener: (e: InterviewInspection) => void): () => void;
  flowMetadata(apiName: string): FlowDefinition | undefined;
  loadedFlows(): readonly FlowDefinition[];
}

/** Flow machines compiled without effects (drawing and inspecting only), per definition. */
const machines = new WeakMap<FlowDefinition, AnyStateMachine>();
function machineOf(def: FlowDefinition): AnyStateMachine {
  let m = machines.get(def);
  if (!m) machines.set(def, (m = compileFlow(def)));
  return m;
}

/**
 * Reports every stored interview start and navigate of `engine` to `inspector` (one actor per
 * interview, the compiled flow machine as its definition; redacted). Returns the unsubscribe.
 */
export function watchInterviews(engine: InterviewSource, inspector: InspectorLike): () => void {
  const interviews = new InterviewInspector(inspector, (name) => {
    const def = engine.flowMetadata(name);
    return def ? machineOf(def) : undefined;
  });
  return engine.onInterviewEvent((e) => interviews.report(e));
}

const charts = new WeakMap<readonly FlowDefinition[], Promise<FlowChart[]>>();

/**
 * Every loaded Flow metadata flow laid out by elkjs from its element graph, as `flow:<apiName>`
 * (laid out once per set of loaded flows: loading more lays them out again).
 */
export function flowMetadataCharts(engine: Pick<InterviewSource, 'loadedFlows'>): Promise<FlowChart[]> {
  const loaded = engine.loadedFlows();
  let laid = charts.get(loaded);
  if (!laid) {
    laid = Promise.all(loaded.map((d) => layoutFlowMetadata(d)));
    charts.set(loaded, laid);
  }
  return laid;
}
