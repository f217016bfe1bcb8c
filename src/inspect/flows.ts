/**
 * The flows the CLI and the statechart page can draw without an engine: every FlowDefinition
 * `src/domain/flow.ts` exports (the default flow and any template flows added there), by id.
 */
import * as flowModule from '../domain/flow.js';
import type { FlowDefinition } from '../domain/flow.js';

const isFlow = (v: unknown): v is FlowDefinition =>
  !!v &&
  typeof v === 'object' &&
  typeof (v as FlowDefinition).id === 'string' &&
  Array.isArray((v as FlowDefinition).steps) &&
  (v as FlowDefinition).steps.every((s) => s && typeof s.key === 'string');

/** Every flow definition exported by src/domain/flow.ts (single ones and lists), by id. */
export function builtInFlows(): Map<string, FlowDefinition> {
  const out = new Map<string, FlowDefinition>();
  for (const v of Object.values(flowModule)) {
    for (const f of Array.isArray(v) ? v : Object.values(v && typeof v === 'object' && !isFlow(v) ? v : { v }))
      if (isFlow(f)) out.set(f.id, f);
  }
  return out;
}
