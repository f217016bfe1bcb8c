/**
 * A store's Flow metadata drawn from its own element graph (issue 19 item 6): the graph (decision
 * outcomes by label, loops, subflows, fault connectors and the unhandled failure), the Mermaid
 * text `viz --flows` prints, and the elkjs layout the statechart page draws.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadFlowSources } from '../../src/flows/load.js';
import type { FlowDefinition } from '../../src/flows/metadata.js';
import { FLOW_END, FLOW_ERROR, FLOW_START, flowGraph } from '../../src/inspect/flow-graph.js';
import { layoutFlowMetadata } from '../../src/inspect/layout.js';
import { flowMetadataMermaid } from '../../src/inspect/mermaid.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/flows', import.meta.url));
const GIFT = fileURLToPath(new URL('../../scenarios/library/flows-metadata', import.meta.url));
const registry = { coreActions: new Set(['priceCart']), apex: new Set<string>(), components: new Set<string>() };

async function flows(dir: string): Promise<Map<string, FlowDefinition>> {
  const { definitions, issues } = await loadFlowSources([dir], registry);
  expect(issues).toEqual([]);
  return new Map(definitions.map((d) => [d.apiName, d]));
}

describe('flow element graph', () => {
  it('has one node per element plus start, end and the failure, and one edge per connector', async () => {
    const def = (await flows(FIXTURES)).get('Viz_Lines')!;
    const g = flowGraph(def);
    expect(g.nodes.map((n) => n.id).sort()).toEqual([...Object.keys(def.elements), FLOW_START, FLOW_END, FLOW_ERROR].sort());
    const edge = (from: string, to: string) => g.edges.find((e) => e.from === from && e.to === to);
    expect(edge(FLOW_START, 'Get_Items')).toMatchObject({ type: 'next' });
    expect(edge('Get_Items', 'Lookup_Failed')).toMatchObject({ type: 'fault', label: 'fault' });
    expect(edge('Each_Item', 'Count_Item')).toMatchObject({ type: 'next', label: 'for each' });
    expect(edge('Each_Item', 'Tally')).toMatchObject({ type: 'next', label: 'done' });
    // An action without a fault connector fails the flow; so may a subflow.
    expect(edge('Price_Cart', FLOW_ERROR)).toMatchObject({ type: 'fault', label: 'fails' });
    expect(edge('Tally', FLOW_ERROR)).toMatchObject({ type: 'fault' });
    // An element without a connector ends the flow.
    expect(edge('Lookup_Failed', FLOW_END)).toBeDefined();
    expect(g.nodes.find((n) => n.id === 'Tally')).toMatchObject({ kind: 'subflow', detail: 'Viz_Tally' });
    expect(g.nodes.find((n) => n.id === 'Price_Cart')).toMatchObject({ kind: 'actionCall', detail: 'priceCart' });
    expect(g.nodes.find((n) => n.id === 'Get_Items')).toMatchObject({ kind: 'recordLookup', detail: 'get CartItem' });
  });

  it('labels decision outcomes and draws no failure node for a flow that cannot fault', async () => {
    const g = flowGraph((await flows(GIFT)).get('Gift_Options')!);
    expect(g.edges.filter((e) => e.from === 'Wrap_Decision').map((e) => [e.to, e.label])).toEqual([
      ['Ask_Message', 'Gift wrap'],
      ['Set_Plain', 'Default Outcome'],
    ]);
    expect(g.edges.find((e) => e.from === 'Confirm')).toMatchObject({ to: FLOW_END, label: 'finish' });
    expect(g.nodes.some((n) => n.id === FLOW_ERROR)).toBe(false);
  });
});

describe('flowMetadataMermaid', () => {
  it('prints a stateDiagram-v2 with outcome labels, faults, the subflow and the screens by kind', async () => {
    const text = flowMetadataMermaid((await flows(FIXTURES)).get('Viz_Lines')!);
    const lines = text.split('\n');
    expect(lines[0]).toBe('stateDiagram-v2');
    expect(lines).toContain('    [*] --> Get_Items');
    expect(lines).toContain('    Get_Items --> Lookup_Failed : fault');
    expect(lines).toContain('    Price_Cart --> __error : fails');
    expect(lines).toContain('    Each_Item --> Count_Item : for each');
    expect(lines).toContain('    Show_Count --> [*] : finish');
    expect(lines).toContain('    state "Tally lines (subflow · Viz_Tally)" as Tally');
    expect(lines).toContain('    state "Lines counted (screen · 1 field)" as Show_Count');
    expect(lines).toContain('    class Show_Count screen');
    expect(lines).toContain('    class __error failure');
    const gift = flowMetadataMermaid((await flows(GIFT)).get('Gift_Options')!);
    expect(gift).toContain('Wrap_Decision --> Ask_Message : Gift wrap');
    expect(gift).toContain('Message_Decision --> Set_Wrapped_Only : No message');
    expect(gift).toContain('class Wrap_Decision,Message_Decision decision');
    // Every state a transition names is declared (or is [*]).
    const declared = new Set([...gift.matchAll(/as (\w+)$/gm)].map((m) => m[1]));
    for (const m of gift.matchAll(/^ {4}(\S+) --> (\S+)/gm))
      for (const id of [m[1], m[2]]) if (id !== '[*]') expect(declared.has(id), id).toBe(true);
  });
});

describe('layoutFlowMetadata', () => {
  it('places every node and routes every edge, faults as error edges, plain connectors unlabelled', async () => {
    const def = (await flows(FIXTURES)).get('Viz_Lines')!;
    const chart = await layoutFlowMetadata(def);
    expect(chart.id).toBe('flow:Viz_Lines');
    expect(chart.initial).toBe(FLOW_START);
    expect(chart.nodes).toHaveLength(Object.keys(def.elements).length + 3);
    for (const n of chart.nodes) {
      expect(n.x).toBeGreaterThanOrEqual(0);
      expect(n.x + n.width).toBeLessThanOrEqual(chart.width + 0.001);
      expect(n.y + n.height).toBeLessThanOrEqual(chart.height + 0.001);
    }
    for (const e of chart.edges) expect(e.points.length, e.id).toBeGreaterThanOrEqual(2);
    expect(chart.edges.find((e) => e.from === 'Get_Items' && e.to === 'Lookup_Failed')).toMatchObject({ type: 'error', short: 'fault' });
    const plain = chart.edges.find((e) => e.from === 'Count_Item')!;
    expect(plain).toMatchObject({ short: '', labelBox: null });
    expect(chart.nodes.find((n) => n.id === 'Price_Cart')).toMatchObject({ kind: 'actionCall', action: 'priceCart' });
  });
});
