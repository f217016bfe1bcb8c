/**
 * The inspect layer's side of the engine: it subscribes to the engine's session events (the engine
 * never imports it). `attachInspector` is what the `inspect` option of createCheckoutEngine runs
 * (the library entry, src/index.ts, wires it in); `replayHistory` sends a stored session's history
 * to an inspector (`checkout-engine inspect <id>`); `flowCharts` lays out every registered flow
 * for the statechart page.
 */
import type { AnyStateMachine } from 'xstate';
import type { AttachedInspector, InspectOption, InspectorLike } from '../engine/inspect-option.js';
import type { CheckoutEngine } from '../engine/engine.js';
import { EngineError } from '../errors.js';
import type { HistoryEntry } from '../engine/sessions.js';
import { flushInspector, openInspector, SessionInspector } from './inspector.js';
import { layoutFlow, type FlowChart } from './layout.js';
import { watchInterviews } from './interviews.js';

/** The statechart of a session's flow (for its definition in the inspector), if the engine knows the flow. */
function machineOf(engine: CheckoutEngine, entry: HistoryEntry): AnyStateMachine | undefined {
  try {
    return engine.core.flow(entry.flowId).machine;
  } catch {
    return undefined;
  }
}

/**
 * Reports every session event the engine records (after its transaction commits, in order) to the
 * inspector `option` names: a WebSocket URL (ws:// or wss://) or an inspector object. Closing the
 * returned handle (the engine does it on close) unsubscribes, waits up to 2 s for a WebSocket
 * inspector to deliver what it buffered, and stops it.
 * @example const attached = await attachInspector(engine, 'ws://localhost:8080')
 */
export async function attachInspector(engine: CheckoutEngine, option: InspectOption): Promise<AttachedInspector> {
  const session = new SessionInspector(openInspector(option), (e) => machineOf(engine, e));
  const unsubscribe = engine.onSessionEvent((entry) => session.report(entry));
  // Flow interviews are actors of their own on the same inspector (src/inspect/interviews.ts).
  const unwatch = watchInterviews(engine, session.inspector);
  return {
    inspector: session.inspector,
    async close() {
      unsubscribe();
      unwatch();
      await flushInspector(session.inspector, 2_000);
      session.stop();
    },
  };
}

/**
 * Replays a stored session's history into an inspector (`checkout-engine inspect <id>`): the
 * actor, then each recorded event and the snapshot after it, in order. Returns how many events.
 * @example const n = await replayHistory(engine, sessionId, createInspector())
 */
export async function replayHistory(engine: CheckoutEngine, sessionId: string, inspector: InspectorLike): Promise<number> {
  const flowId = await engine.flowOfSession(sessionId);
  const history = await engine.getHistory(sessionId);
  const replay = new SessionInspector(inspector, (e) => machineOf(engine, e));
  for (const entry of history) replay.report({ ...entry, flowId });
  return history.length;
}

const charts = new WeakMap<CheckoutEngine, Promise<FlowChart[]>>();

/** Every flow registered on the engine laid out by elkjs as a statechart (nodes, edges, coordinates), once per engine. */
export function flowCharts(engine: CheckoutEngine): Promise<FlowChart[]> {
  if (engine.core.closed) return Promise.reject(new EngineError('ENGINE_CLOSED'));
  let laid = charts.get(engine);
  if (!laid) {
    laid = Promise.all(engine.core.flowIds().map((id) => layoutFlow(engine.core.flow(id).flow)));
    charts.set(engine, laid);
  }
  return laid;
}
