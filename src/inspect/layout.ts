/**
 * Flow statecharts laid out by elkjs (the layout engine of Stately's visualizer) for the engine's
 * statechart page: drawn generically from a flow definition, so the default flow, custom flows and
 * template flows all render: one node per step (by kind: screen, async, sync, final), the error
 * state, the transitions the flow allows, and each async or sync step's error exit.
 */
import { ERROR_STATE, type CompiledFlow } from '../domain/flow.js';
import type { FlowDefinition as MetadataFlow } from '../flows/metadata.js';
import { FLOW_START, flowGraph } from './flow-graph.js';

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
  /** Where the short label goes: centred on the route's longest segment (top-left corner and size). */
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

/** A label's box centred on the middle of a route's longest segment (null for an unrouted edge). */
function labelOn(points: { x: number; y: number }[], text: string): ChartEdge['labelBox'] {
  let best: { a: { x: number; y: number }; b: { x: number; y: number }; len: number } | null = null;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    const len = Math.abs(a.x - b.x) + Math.abs(a.y - b.y);
    if (!best || len > best.len) best = { a, b, len };
  }
  if (!best) return null;
  const width = LABEL_CHAR * text.length + 6;
  return { x: (best.a.x + best.b.x) / 2 - width / 2, y: (best.a.y + best.b.y) / 2 - LABEL_HEIGHT / 2, width, height: LABEL_HEIGHT };
}

type Elk = { layout(g: unknown): Promise<any> };
let elk: Promise<Elk> | undefined;
// elkjs is large: loaded on first use, so commands that draw nothing start fast.
const getElk = () => (elk ??= import('elkjs/lib/elk.bundled.js').then((m) => new ((m as { default: unknown }).default as new () => Elk)()));

/** Lays a compiled flow out with elkjs (layered, top to bottom). */
export async function layoutFlow(flow: CompiledFlow): Promise<FlowChart> {
  const nodes: Omit<ChartNode, 'x' | 'y' | 'width' | 'height'>[] = [
    ...flow.def.steps.map((s) => ({
      id: s.key,
      label: s.label,
      kind: s.kind as string,
      action: s.action ?? null,
      description: s.description ?? null,
    })),
  ];
  const edges: Omit<ChartEdge, 'points' | 'labelBox'>[] = [];
  let errorUsed = false;
  for (const s of flow.def.steps) {
    for (const t of flow.next.get(s.key) ?? []) {
      const target = flow.steps.get(t)!;
      const claim = target.kind === 'async' || target.kind === 'sync';
      edges.push({
        id: `${s.key}->${t}`,
        from: s.key,
        to: t,
        type: 'next',
        label: claim ? `claim · ${target.action}` : 'State update',
        short: claim ? 'claim' : 'update',
      });
    }
    if (s.kind === 'async' || s.kind === 'sync') {
      const exit = s.onError ?? ERROR_STATE;
      if (exit === ERROR_STATE) errorUsed = true;
      edges.push({ id: `${s.key}-x>${exit}`, from: s.key, to: exit, type: 'error', label: `${s.action} fails`, short: 'fails' });
    }
  }
  if (errorUsed)
    nodes.push({
      id: ERROR_STATE,
      label: 'Error',
      kind: 'error',
      action: null,
      description: 'A step failed: IsError = true. Cancel and start a new checkout.',
    });
  return place(flow.def.id, flow.def.steps[0]!.key, nodes, edges);
}

/** Lays nodes and edges out with elkjs (layered, top to bottom) and places each edge's short label. */
async function place(
  id: string,
  initial: string,
  nodes: Omit<ChartNode, 'x' | 'y' | 'width' | 'height'>[],
  edges: Omit<ChartEdge, 'points' | 'labelBox'>[],
): Promise<FlowChart> {
  const size = (n: { label: string; action: string | null }) => ({
    width: Math.max(150, 8 * Math.max(n.label.length, (n.action ?? '').length * 0.85) + 40),
    height: n.action ? 52 : 40,
  });
  const graph = {
    id,
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '28',
      'elk.spacing.nodeNode': '40',
      'elk.spacing.edgeNode': '18',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      // A long flow wraps into columns instead of running off the bottom of the window.
      'elk.layered.wrapping.strategy': 'MULTI_EDGE',
      'elk.aspectRatio': '1.3',
    },
    children: nodes.map((n) => ({ id: n.id, ...size(n) })),
    edges: edges.map((e) => ({ id: e.id, sources: [e.from], targets: [e.to] })),
  };
  const out = await (await getElk()).layout(graph);
  const placed = new Map<string, { x: number; y: number; width: number; height: number }>(out.children.map((c: any) => [c.id, c]));
  const routes = new Map<string, { x: number; y: number }[]>(
    (out.edges ?? []).map((e: any) => {
      const sec = e.sections?.[0];
      return [e.id, sec ? [sec.startPoint, ...(sec.bendPoints ?? []), sec.endPoint].map((p: any) => ({ x: p.x, y: p.y })) : []];
    }),
  );
  const laidEdges = edges.map((e) => {
    const points = routes.get(e.id) ?? [];
    return { ...e, labelBox: e.short ? labelOn(points, e.short) : null, points };
  });
  // The drawing's extent: nodes, routes and labels (a wrapped route may leave the nodes' box).
  const xs: number[] = [0, out.width];
  const ys: number[] = [0, out.height];
  for (const e of laidEdges) {
    xs.push(...e.points.map((p) => p.x));
    ys.push(...e.points.map((p) => p.y));
    if (e.labelBox) {
      xs.push(e.labelBox.x, e.labelBox.x + e.labelBox.width);
      ys.push(e.labelBox.y, e.labelBox.y + e.labelBox.height);
    }
  }
  const minX = Math.min(...xs);
  const minY = Math.min(...ys);
  const shift = <T extends { x: number; y: number }>(p: T): T => ({ ...p, x: p.x - minX, y: p.y - minY });
  return {
    id,
    width: Math.max(...xs) - minX,
    height: Math.max(...ys) - minY,
    initial,
    nodes: nodes.map((n) => {
      const p = placed.get(n.id)!;
      return shift({ ...n, x: p.x, y: p.y, width: p.width, height: p.height });
    }),
    edges: laidEdges.map((e) => ({ ...e, points: e.points.map(shift), labelBox: e.labelBox && shift(e.labelBox) })),
  };
}

/** The short label drawn on a flow-metadata edge (the full one is its title). */
const shortLabel = (label: string) => (label.length > 22 ? `${label.slice(0, 21)}…` : label);

/**
 * Lays a store's Flow metadata out with elkjs from its own element graph (src/inspect/flow-graph.ts):
 * node ids are element names (the compiled machine's state ids), plus `__start`, `__end` and
 * `__error`; fault connectors are `error` edges. The chart's id is `flow:<apiName>`.
 */
export async function layoutFlowMetadata(def: MetadataFlow): Promise<FlowChart> {
  const g = flowGraph(def);
  const nodes = g.nodes.map((n) => ({
    id: n.id,
    label: n.label,
    kind: n.kind as string,
    action: n.detail,
    description: n.kind === 'start' || n.kind === 'end' || n.kind === 'error' ? n.detail : `${n.kind} ${n.id}`,
  }));
  const edges = g.edges.map((e) => ({
    id: e.id,
    from: e.from,
    to: e.to,
    type: e.type === 'fault' ? ('error' as const) : ('next' as const),
    label: e.label || 'next',
    short: shortLabel(e.label),
  }));
  return place(`flow:${def.apiName}`, FLOW_START, nodes, edges);
}
