/**
 * Flow statecharts laid out by elkjs (the layout engine of Stately's visualizer) for the engine's
 * statechart page: drawn generically from a flow definition, so the default flow, custom flows and
 * template flows all render: one node per step (by kind: screen, async, sync, final), the error
 * state, the transitions the flow allows, and each async or sync step's error exit.
 */
import { ERROR_STATE, type CompiledFlow } from '../../machines/flow.js';

/** A laid-out state. */
export interface ChartNode {
  id: string;
  label: string;
  kind: string;
  action: string | null;
  description: string | null;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A laid-out transition, as a polyline. */
export interface ChartEdge {
  id: string;
  from: string;
  to: string;
  /** `next` (claim or State update) or `error` (an operation's failure exit). */
  type: 'next' | 'error';
  label: string;
  /** The short label drawn on the chart (`claim`, `update`, `fails`); `label` is the full one. */
  short: string;
  /** Where elkjs placed the short label (its top-left corner and size). */
  labelBox: { x: number; y: number; width: number; height: number } | null;
  points: { x: number; y: number }[];
}

/** A laid-out flow. */
export interface FlowChart {
  id: string;
  width: number;
  height: number;
  initial: string;
  nodes: ChartNode[];
  edges: ChartEdge[];
}

/** Width per character and height of an edge label as drawn (10.5px system font). */
const LABEL_CHAR = 6;
const LABEL_HEIGHT = 13;

type Elk = { layout(g: unknown): Promise<any> };
let elk: Promise<Elk> | undefined;
// elkjs is large: loaded on first use, so commands that draw nothing start fast.
const getElk = () => (elk ??= import('elkjs/lib/elk.bundled.js').then((m) => new ((m as { default: unknown }).default as new () => Elk)()));

/** Lays a compiled flow out with elkjs (layered, top to bottom). */
export async function layoutFlow(flow: CompiledFlow): Promise<FlowChart> {
  const nodes: Omit<ChartNode, 'x' | 'y' | 'width' | 'height'>[] = [...flow.def.steps.map((s) => ({ id: s.key, label: s.label, kind: s.kind as string, action: s.action ?? null, description: s.description ?? null }))];
  const edges: Omit<ChartEdge, 'points' | 'labelBox'>[] = [];
  let errorUsed = false;
  for (const s of flow.def.steps) {
    for (const t of flow.next.get(s.key) ?? []) {
      const target = flow.steps.get(t)!;
      const claim = target.kind === 'async' || target.kind === 'sync';
      edges.push({ id: `${s.key}->${t}`, from: s.key, to: t, type: 'next', label: claim ? `claim · ${target.action}` : 'State update', short: claim ? 'claim' : 'update' });
    }
    if (s.kind === 'async' || s.kind === 'sync') {
      const exit = s.onError ?? ERROR_STATE;
      if (exit === ERROR_STATE) errorUsed = true;
      edges.push({ id: `${s.key}-x>${exit}`, from: s.key, to: exit, type: 'error', label: `${s.action} fails`, short: 'fails' });
    }
  }
  if (errorUsed) nodes.push({ id: ERROR_STATE, label: 'Error', kind: 'error', action: null, description: 'A step failed: IsError = true. Cancel and start a new checkout.' });
  const size = (n: { label: string; action: string | null }) => ({ width: Math.max(150, 8 * Math.max(n.label.length, (n.action ?? '').length * 0.85) + 40), height: n.action ? 52 : 40 });
  const graph = {
    id: flow.def.id,
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '20',
      'elk.spacing.nodeNode': '40',
      'elk.spacing.edgeNode': '18',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      // A long flow wraps into columns instead of running off the bottom of the window.
      'elk.layered.wrapping.strategy': 'MULTI_EDGE',
      'elk.aspectRatio': '1.3',
      'elk.edgeLabels.placement': 'CENTER',
      'elk.spacing.edgeLabel': '2',
    },
    children: nodes.map((n) => ({ id: n.id, ...size(n) })),
    edges: edges.map((e) => ({ id: e.id, sources: [e.from], targets: [e.to], labels: [{ id: `${e.id}#label`, text: e.short, width: LABEL_CHAR * e.short.length + 6, height: LABEL_HEIGHT }] })),
  };
  const out = await (await getElk()).layout(graph);
  const placed = new Map<string, { x: number; y: number; width: number; height: number }>(out.children.map((c: any) => [c.id, c]));
  const labels = new Map<string, ChartEdge['labelBox']>(
    (out.edges ?? []).map((e: any) => {
      const l = e.labels?.[0];
      return [e.id, l && Number.isFinite(l.x) ? { x: l.x, y: l.y, width: l.width, height: l.height } : null];
    }),
  );
  const routes = new Map<string, { x: number; y: number }[]>(
    (out.edges ?? []).map((e: any) => {
      const sec = e.sections?.[0];
      return [e.id, sec ? [sec.startPoint, ...(sec.bendPoints ?? []), sec.endPoint].map((p: any) => ({ x: p.x, y: p.y })) : []];
    }),
  );
  return {
    id: flow.def.id,
    width: out.width,
    height: out.height,
    initial: flow.def.steps[0]!.key,
    nodes: nodes.map((n) => {
      const p = placed.get(n.id)!;
      return { ...n, x: p.x, y: p.y, width: p.width, height: p.height };
    }),
    edges: edges.map((e) => ({ ...e, labelBox: labels.get(e.id) ?? null, points: routes.get(e.id) ?? [] })),
  };
}
