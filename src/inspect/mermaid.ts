/**
 * A flow as a Mermaid `stateDiagram-v2`, drawn generically from its definition (so custom and
 * template flows render the same way): steps with their labels, the transitions the flow allows,
 * each async or sync step's error exit, the final step, and the kind of each step as a class.
 */
import { ERROR_STATE, validateFlow, type FlowDefinition } from '../domain/flow.js';
import type { FlowDefinition as MetadataFlow } from '../flows/metadata.js';
import { FLOW_END, FLOW_START, flowGraph } from './flow-graph.js';

const CLASSES: Record<string, string> = {
  screen: 'fill:#eef6ff,stroke:#3b82f6',
  async: 'fill:#fff7e6,stroke:#f59e0b',
  sync: 'fill:#f3e8ff,stroke:#8b5cf6',
  final: 'fill:#ecfdf5,stroke:#10b981',
  failure: 'fill:#fef2f2,stroke:#ef4444',
};

/** Mermaid `stateDiagram-v2` text for a flow (validated first; an invalid flow throws FlowError). */
export function flowMermaid(def: FlowDefinition): string {
  const flow = validateFlow(def);
  const lines = ['stateDiagram-v2', '    direction TB'];
  for (const s of flow.def.steps) lines.push(`    state "${s.label.replace(/"/g, "'")} (${s.kind})" as ${s.key}`);
  lines.push(`    state "Error (IsError)" as ${ERROR_STATE}`);
  lines.push(`    [*] --> ${flow.def.steps[0]!.key}`);
  let errorUsed = false;
  for (const s of flow.def.steps) {
    for (const t of flow.next.get(s.key) ?? []) {
      const target = flow.steps.get(t)!;
      const how = target.kind === 'async' || target.kind === 'sync' ? `claim, ${target.action}` : 'State update';
      lines.push(`    ${s.key} --> ${t} : ${how}`);
    }
    if (s.kind === 'async' || s.kind === 'sync') {
      const exit = s.onError ?? ERROR_STATE;
      if (exit === ERROR_STATE) errorUsed = true;
      lines.push(`    ${s.key} --> ${exit} : ${s.action} fails`);
    }
    if (s.kind === 'final') lines.push(`    ${s.key} --> [*]`);
  }
  if (!errorUsed) lines.splice(lines.indexOf(`    state "Error (IsError)" as ${ERROR_STATE}`), 1);
  for (const [cls, style] of Object.entries(CLASSES)) lines.push(`    classDef ${cls} ${style}`);
  for (const kind of ['screen', 'async', 'sync', 'final']) {
    const keys = flow.def.steps.filter((s) => s.kind === kind).map((s) => s.key);
    if (keys.length) lines.push(`    class ${keys.join(',')} ${kind}`);
  }
  if (errorUsed) lines.push(`    class ${ERROR_STATE} failure`);
  lines.push('    note left of ' + flow.def.steps[0]!.key + ' : CANCEL from any state archives the session');
  return lines.join('\n');
}

const ELEMENT_CLASSES: Record<string, string> = {
  screen: 'fill:#eef6ff,stroke:#3b82f6',
  decision: 'fill:#fff7e6,stroke:#f59e0b',
  assignment: 'fill:#f8fafc,stroke:#64748b',
  action: 'fill:#f3e8ff,stroke:#8b5cf6',
  record: 'fill:#ecfeff,stroke:#0891b2',
  subflow: 'fill:#fdf4ff,stroke:#c026d3',
  loop: 'fill:#fefce8,stroke:#ca8a04',
  failure: 'fill:#fef2f2,stroke:#ef4444',
};

/** The drawing class of an element kind (record elements share one, as do actions). */
export function elementClass(kind: string): string {
  if (kind.startsWith('record')) return 'record';
  if (kind === 'actionCall') return 'action';
  if (kind === 'error') return 'failure';
  return kind;
}

/** Text Mermaid accepts inside a state description or a transition label. */
const mermaidText = (s: string) =>
  s
    .replace(/["\n\r]/g, "'")
    .replace(/[:;#]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/**
 * Mermaid `stateDiagram-v2` text for a store's Flow metadata, drawn from its own element graph:
 * each element by label and kind (with the action, object or subflow it names), decisions with
 * their outcome labels, loops' "for each" and "done", fault connectors (dashed in the legend's
 * sense: labelled `fault`), and the unhandled failure of elements without one.
 */
export function flowMetadataMermaid(def: MetadataFlow): string {
  const g = flowGraph(def);
  const lines = ['stateDiagram-v2', '    direction TB', `    %% ${mermaidText(def.label)} (${def.apiName})`];
  for (const n of g.nodes) {
    if (n.kind === 'start' || n.kind === 'end') continue;
    const text = n.kind === 'error' ? 'Error (unhandled fault)' : `${n.label} (${n.kind}${n.detail ? ` · ${n.detail}` : ''})`;
    lines.push(`    state "${mermaidText(text)}" as ${n.id}`);
  }
  const id = (node: string) => (node === FLOW_START || node === FLOW_END ? '[*]' : node);
  for (const e of g.edges) lines.push(`    ${id(e.from)} --> ${id(e.to)}${e.label ? ` : ${mermaidText(e.label)}` : ''}`);
  const byClass = new Map<string, string[]>();
  for (const n of g.nodes) {
    if (n.kind === 'start' || n.kind === 'end') continue;
    const cls = elementClass(n.kind);
    byClass.set(cls, [...(byClass.get(cls) ?? []), n.id]);
  }
  for (const [cls, ids] of byClass)
    lines.push(`    classDef ${cls} ${ELEMENT_CLASSES[cls] ?? ELEMENT_CLASSES.assignment}`, `    class ${ids.join(',')} ${cls}`);
  return lines.join('\n');
}
