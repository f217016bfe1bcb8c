/**
 * Model-based paths over a compiled flow (issue 19 item 6): `xstate/graph` walks the machine
 * `compile.ts` makes of the project's own Gift Options flow (scenarios/library/flows-metadata),
 * with the answers each screen's input fields can take and its BACK/FINISH; every path it finds is
 * replayed on the engine through startInterview/navigate, and the interview must stand where the
 * graph says after every step: the same screen, or Finished with the same output variables.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { createCheckoutEngine, demo, type CheckoutEngine } from '../../src/index.js';
import { compileFlow, END, frameOutputs, type FlowEvent, type FrameInput } from '../../src/flows/compile.js';
import { loadFlowSources } from '../../src/flows/load.js';
import { allScreenFields, type FlowDefinition, type ScreenElement } from '../../src/flows/metadata.js';
import type { Frame } from '../../src/flows/values.js';
import type { Interview } from '../../src/engine/interviews.js';

const GIFT = fileURLToPath(new URL('../../scenarios/library/flows-metadata', import.meta.url));

/** Answers worth trying per input field type: both booleans, a blank and a given text. */
const DOMAIN: Record<string, unknown[]> = { Boolean: [true, false], String: ['', 'Happy birthday'], Number: [0, 3] };

/** The events a screen offers: NEXT/FINISH with every combination of its input fields' answers, and BACK where allowed. */
function screenEvents(screen: ScreenElement): FlowEvent[] {
  let combos: Record<string, Record<string, unknown>>[] = [{}];
  for (const f of allScreenFields(screen.fields).filter((x) => x.fieldType === 'InputField')) {
    const values = DOMAIN[f.dataType ?? 'String'] ?? DOMAIN.String!;
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [f.name]: { value: v } })));
  }
  const forward = screen.connector ? 'NEXT' : 'FINISH';
  const out: FlowEvent[] = combos.map((outputs) => ({
    type: forward,
    ...(Object.keys(outputs).length ? { outputs: outputs as never } : {}),
  }));
  if (screen.allowBack) out.push({ type: 'BACK' });
  return out;
}

/** Where the graph says a path stands: a screen (Paused) or the end (Finished, with outputs). */
function expected(
  def: FlowDefinition,
  snap: AnyMachineSnapshot,
): { status: string; screen: string | null; outputs?: Record<string, unknown> } {
  if (snap.value === END) return { status: 'Finished', screen: null, outputs: frameOutputs(def, snap.context as Frame) };
  return { status: 'Paused', screen: String(snap.value) };
}

function actual(iv: Interview): { status: string; screen: string | null; outputs?: Record<string, unknown> } {
  return { status: iv.status, screen: iv.screen?.name ?? null, ...(iv.status === 'Finished' ? { outputs: iv.outputs ?? {} } : {}) };
}

describe('model-based paths of a compiled flow, replayed on the engine', () => {
  let engine: CheckoutEngine;
  let def: FlowDefinition;
  let buyerId: string;

  beforeAll(async () => {
    const loaded = await loadFlowSources([GIFT], { coreActions: new Set(), apex: new Set(), components: new Set() });
    expect(loaded.issues).toEqual([]);
    def = loaded.definitions.find((d) => d.apiName === 'Gift_Options')!;
    engine = await createCheckoutEngine({ flowSources: [GIFT], onError: () => {} });
    buyerId = (await demo.newCart(engine, { lines: 1, groups: 1 })).buyerId;
  });
  afterAll(() => engine?.close());

  const traversal = () => {
    const machine = compileFlow(def);
    const screens = new Map(
      Object.values(def.elements)
        .filter((e): e is ScreenElement => e.kind === 'screen')
        .map((s) => [s.name, s]),
    );
    return {
      machine,
      options: {
        input: { inputs: {}, callerMode: 'user', userId: buyerId } satisfies FrameInput,
        events: (snap: AnyMachineSnapshot) =>
          (screens.has(String(snap.value)) ? screenEvents(screens.get(String(snap.value))!) : []) as EventObject[],
        // A state is the element it stands on, the flow's values and the screens behind it (BACK).
        serializeState: (snap: AnyMachineSnapshot) =>
          JSON.stringify([snap.value, (snap.context as Frame).values, (snap.context as Frame).history]),
      },
    };
  };

  async function replay(steps: Array<{ event: EventObject; state: AnyMachineSnapshot }>): Promise<void> {
    const as = { userId: buyerId };
    let iv = await engine.startInterview('Gift_Options', {}, as);
    for (const step of steps) {
      if (step.event.type === 'xstate.init') {
        expect(actual(iv)).toEqual(expected(def, step.state));
        continue;
      }
      const e = step.event as FlowEvent;
      iv = await engine.navigate(iv.id, { action: e.type, ...('outputs' in e && e.outputs ? { answers: e.outputs } : {}) }, as);
      expect(actual(iv), `after ${e.type} ${JSON.stringify('outputs' in e ? e.outputs : {})}`).toEqual(expected(def, step.state));
    }
  }

  it('every shortest path ends where the graph says, and together they reach every screen and outcome', async () => {
    const { machine, options } = traversal();
    const paths = getShortestPaths(machine, options as never);
    expect(paths.length).toBeGreaterThan(5);
    for (const p of paths) await replay(p.steps as never);
    const ends = paths.map((p) => p.state as AnyMachineSnapshot);
    for (const s of ['Ask_Wrap', 'Ask_Message', 'Confirm'])
      expect(
        ends.some((e) => e.value === s),
        s,
      ).toBe(true);
    const choices = new Set(ends.filter((e) => e.value === END).map((e) => (e.context as Frame).values.wrapChoice));
    expect([...choices].sort()).toEqual(['none', 'wrap', 'wrap+card']);
  }, 60_000);

  it('simple paths to the end (BACK detours included) finish with the outputs the graph computed', async () => {
    const { machine, options } = traversal();
    const paths = getSimplePaths(machine, { ...options, toState: (s: AnyMachineSnapshot) => s.value === END } as never);
    const finishing = paths.filter((p) => (p.state as AnyMachineSnapshot).value === END);
    expect(finishing.length).toBeGreaterThanOrEqual(3);
    // A path that went BACK at least once is among them.
    expect(finishing.some((p) => p.steps.some((s) => s.event.type === 'BACK'))).toBe(true);
    // Replay a bounded, varied sample: every distinct outcome, the longest path and the shortest.
    const byLength = [...finishing].sort((a, b) => a.steps.length - b.steps.length);
    const sample = new Map<string, (typeof finishing)[number]>();
    for (const p of byLength)
      sample.set(
        JSON.stringify(frameOutputs(def, (p.state as AnyMachineSnapshot).context as Frame)),
        sample.get(JSON.stringify(frameOutputs(def, (p.state as AnyMachineSnapshot).context as Frame))) ?? p,
      );
    sample.set('longest', byLength.at(-1)!);
    for (const p of sample.values()) await replay(p.steps as never);
  }, 60_000);
});
