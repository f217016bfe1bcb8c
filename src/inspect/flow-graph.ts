/**
 * A store's Flow metadata as a graph to draw: one node per element (by kind: screen, decision,
 * assignment, action, record element, subflow, loop), the start, the end and the failure, and one
 * edge per connector — decision outcomes by their labels, the default outcome, a loop's "next" and
 * "done", and fault connectors marked as faults. Drawn from the flow's own elements (the same
 * graph `compile.ts` turns into a machine: state id = element name), so what the page and `viz`
 * show is what the interview runs. A faultable element without a fault connector fails the flow:
 * that exit is drawn to the failure node.
 */
import type { FlowDefinition, FlowElement } from '../flows/metadata.js';

/** The node ids of the start, the end (`__end` in the machine) and the failure (`__error`). */
export const FLOW_START = '__start';
export const FLOW_END = '__end';
export const FLOW_ERROR = '__error';

/** A node kind: the element kinds, plus the start, the end and the failure. */
export type FlowNodeKind = FlowElement['kind'] | 'start' | 'end' | 'error';

export interface FlowGraphNode {
  id: string;
  label: string;
  kind: FlowNodeKind;
  /** What it does, in a few words: the action, object or subflow it names (null for none). */
  detail: string | null;
}

export interface FlowGraphEdge {
  id: string;
  from: string;
  to: string;
  /** `next` (a connector, an outcome, a loop's next or done) or `fault` (a fault connector or the unhandled failure). */
  type: 'next' | 'fault';
  /** The full label (`Gift wrap`, `Default Outcome`, `fault`, `for each`, `done`), or '' for a plain connector. */
  label: string;
}

export interface FlowGraph {
  apiName: string;
  label: string;
  nodes: FlowGraphNode[];
  edges: FlowGraphEdge[];
}

const FAULTABLE = new Set(['actionCall', 'recordLookup', 'recordUpdate', 'recordCreate', 'recordDelete']);

/** What an element names, in a few words. */
function detailOf(e: FlowElement): string | null {
  switch (e.kind) {
    case 'actionCall':
      return e.actionType === e.actionName ? e.actionName : `${e.actionType}: ${e.actionName}`;
    case 'recordLookup':
      return `get ${e.object}`;
    case 'recordUpdate':
      return `update ${e.object ?? e.inputReference ?? ''}`.trim();
    case 'recordCreate':
      return `create ${e.object ?? e.inputReference ?? ''}`.trim();
    case 'recordDelete':
      return `delete ${e.object ?? e.inputReference ?? ''}`.trim();
    case 'subflow':
      return e.flowName;
    case 'loop':
      return `each of ${e.collectionReference}`;
    case 'screen': {
      const n = e.fields.length;
      return n ? `${n} field${n === 1 ? '' : 's'}` : null;
    }
    default:
      return null;
  }
}

/** The element graph of a flow definition. */
export function flowGraph(def: FlowDefinition): FlowGraph {
  const elements = Object.values(def.elements);
  const nodes: FlowGraphNode[] = [{ id: FLOW_START, label: 'Start', kind: 'start', detail: def.processType }];
  for (const e of elements) nodes.push({ id: e.name, label: e.label || e.name, kind: e.kind, detail: detailOf(e) });
  const edges: FlowGraphEdge[] = [];
  let endUsed = false;
  let errorUsed = false;
  const to = (target: string | null) => {
    if (target && def.elements[target]) return target;
    endUsed = true;
    return FLOW_END;
  };
  const add = (from: string, target: string | null, type: FlowGraphEdge['type'], label: string) => {
    const t = to(target);
    edges.push({ id: `${from}->${t}${label ? `:${label}` : ''}`, from, to: t, type, label });
  };
  add(FLOW_START, def.start, 'next', '');
  for (const e of elements) {
    switch (e.kind) {
      case 'decision':
        for (const r of e.rules) add(e.name, r.connector, 'next', r.label || r.name);
        add(e.name, e.defaultConnector, 'next', 'Default Outcome');
        break;
      case 'loop':
        add(e.name, e.nextValueConnector, 'next', 'for each');
        add(e.name, e.noMoreValuesConnector, 'next', 'done');
        break;
      case 'screen':
        // A screen without a connector ends the flow on FINISH.
        add(e.name, e.connector, 'next', e.connector ? '' : 'finish');
        break;
      default:
        add(e.name, e.connector, 'next', '');
    }
    if (FAULTABLE.has(e.kind)) {
      const fault = (e as { faultConnector: string | null }).faultConnector;
      if (fault) add(e.name, fault, 'fault', 'fault');
      else {
        errorUsed = true;
        edges.push({ id: `${e.name}-x>${FLOW_ERROR}`, from: e.name, to: FLOW_ERROR, type: 'fault', label: 'fails' });
      }
    }
    if (e.kind === 'subflow') {
      errorUsed = true;
      edges.push({ id: `${e.name}-x>${FLOW_ERROR}`, from: e.name, to: FLOW_ERROR, type: 'fault', label: 'subflow fails' });
    }
  }
  if (endUsed) nodes.push({ id: FLOW_END, label: 'End', kind: 'end', detail: null });
  if (errorUsed) nodes.push({ id: FLOW_ERROR, label: 'Error', kind: 'error', detail: 'unhandled fault' });
  return { apiName: def.apiName, label: def.label, nodes, edges };
}
