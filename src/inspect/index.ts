/**
 * checkout-engine/inspect: the inspector and the diagrams, apart from the library entry. The
 * inspect layer subscribes to engine events; the engine never imports it.
 * @example
 *   import { createCheckoutEngine } from 'checkout-engine';
 *   import { replayHistory } from 'checkout-engine/inspect';
 *   import { createInspector } from '@statelyai/inspect';
 *   const engine = await createCheckoutEngine({ storage: './checkout.db' });
 *   await replayHistory(engine, sessionId, createInspector());
 */
export { attachInspector, replayHistory, flowCharts } from './attach.js';
export { SessionInspector, openInspector, flushInspector, inspectedSnapshot, type InspectOption, type InspectorLike } from './inspector.js';
export { layoutFlow, type FlowChart, type ChartNode, type ChartEdge } from './layout.js';
export { flowMermaid } from './mermaid.js';
export { builtInFlows } from './flows.js';
export type { AttachedInspector } from '../engine/inspect-option.js';
