/**
 * Model-based tests of every built-in flow (`default`, `salesforce-reentrant`, `salesforce-main`):
 * paths generated from each flow's statechart with `xstate/graph` (shortest paths to every model
 * state, and simple paths into `error` and `archived`; step outcomes are events), each replayed
 * against the real engine on SQLite (the flow as the engine's default flow) with the stored session
 * compared to the model and the invariants checked after every event.
 *
 * Bounded for `npm test`: the shortest paths are replayed as the leaves of their tree (every other
 * one is a prefix of a leaf), and the simple paths into `archived` are sampled. Set
 * CHECKOUT_MODEL_ALL=1 to replay every shortest and simple path.
 */
import { describe, expect, it } from 'vitest';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { describePath, MODELS, serializeState } from './model.js';

const ALL = process.env.CHECKOUT_MODEL_ALL === '1';

type Path = { steps: { event: any; state: any }[]; state: any };
const key = (p: Path) => describePath(p.steps.map((s) => s.event));

/** Paths none of the others extends (replaying them visits every vertex of the rest). */
function leaves(paths: Path[]): Path[] {
  const keys = paths.map(key);
  return paths.filter((_, i) => !keys.some((k, j) => j !== i && k.startsWith(`${keys[i]}, `)));
}

describe.each([...MODELS.entries()])('model-based paths of the %s flow (xstate/graph)', (_id, model) => {
  const options = { input: model.input, events: model.eventsOf as never, serializeState: serializeState as never };
  const shortest = getShortestPaths(model.machine, options) as unknown as Path[];
  const simple = getSimplePaths(model.machine, {
    ...options,
    toState: (s: any) => s.context.IsError || s.context.IsArchived,
  }) as unknown as Path[];
  const toError = simple.filter((p) => p.state.context.IsError && !p.state.context.IsArchived);
  const toArchived = simple.filter((p) => p.state.context.IsArchived);
  // Sampled: cancels from a claimed or running state, and every fourth of the rest.
  const sampledArchived = ALL
    ? toArchived
    : toArchived.filter((p, i) => i % 4 === 0 || JSON.stringify(p.steps.at(-2)?.state.value ?? '').match(/running|claimed/));

  it('the model covers every state of the flow, the error state and archiving', () => {
    const visited = new Set(shortest.map((p) => String(p.state.context.State)));
    for (const step of [...model.flow.steps.keys(), 'error']) expect(visited.has(step), step).toBe(true);
    expect(shortest.some((p) => p.state.context.IsArchived)).toBe(true);
    // Every async and sync step can fail, and only those: the simple paths into error fail exactly
    // the flow's async and sync steps (the re-entrant template reaches Activate Order two ways,
    // after Authorize Payment runs or by the record write that skips it, so one step has two paths).
    const failed = new Set(toError.map((p) => p.steps.filter((s) => s.event.type === 'STEP').at(-1)!.event.step));
    expect([...failed].sort()).toEqual(
      [...model.flow.steps.values()]
        .filter((st) => st.kind === 'async' || st.kind === 'sync')
        .map((st) => st.key)
        .sort(),
    );
  });

  // Cancels are leaves of their own; the simple paths into archived below cover them.
  const replayed = ALL ? shortest : leaves(shortest.filter((p) => !p.state.context.IsArchived));
  describe.each([
    ['shortest', replayed],
    ['simple → error', toError],
    ['simple → archived', ALL ? sampledArchived : sampledArchived.slice(0, 8)],
  ] as const)('%s paths', (_kind, paths) => {
    it.concurrent.each(paths.map((p) => [key(p), p] as const))('%s', { timeout: 60_000 }, async (_name, path) => {
      expect(await model.replay(path.steps)).toEqual([]);
    });
  });
});
