/**
 * FlowDefinition → XState v5 machine. One state per element (state id = element name) plus the two
 * final states `__end` (the path ended) and `__error` (the frame failed). The machine context is the
 * flow frame (src/flows/values.ts). The machine only says what runs; the engine's step executor
 * (src/engine/steps.ts, through the runtime's `InterviewExecutor`) advances it with XState's pure
 * `transition()` and carries out the actions it returns: the named actions `runElement` (an action or
 * record element's run, on entering its state: the runtime's handler does the work) and
 * `stopElement` (on leaving it: a result still to come is dropped), one child machine per subflow
 * (invoked by the subflow's API name), and `forward` (a navigation passed to the subflow frame
 * holding the screen).
 *
 * Persist only at rest (a screen, or final): an element in flight is not part of the stored state.
 */
import { assign, setup, type AnyStateMachine } from 'xstate';
import type { FlowData, RecordAccessMode } from './contract.js';
import { allScreenFields, type FlowDefinition, type FlowElement, type ScreenElement } from './metadata.js';
import {
  assign as assignItem,
  conditionsHold,
  isTextType,
  newFrame,
  resolve,
  valueOf,
  write,
  type Frame,
  type ValueEnv,
} from './values.js';

/**
 * An action or record element's run is not an `invoke`: entering an invoking state makes XState's
 * `transition()` construct an Actor for the child (never started: the executor runs the element),
 * about a quarter of a navigate's machine work. Instead the state's entry names the action
 * `runElement` (params: the run's id and the element's input) and its exit `stopElement` (the run's
 * id). Both are declared in `setup()` and implemented by the executor (its handler table, by action
 * name: src/engine/interview-machines.ts), which feeds the run's result back as the done or error
 * event `xstate.done.actor.<id>` / `xstate.error.actor.<id>` the state listens for, as it would an
 * actor's. Their declarations here only say so: a machine run as an actor has no executor to run them.
 */
const executorOnly = (action: string) => () => {
  throw new Error(`${action} is the engine's executor's to carry out (src/engine/interview-machines.ts), not an actor's`);
};

export const END = '__end';
export const ERROR = '__error';

/** Outputs a screen hands to the flow on NEXT/FINISH: field → parameter → value (already validated). */
export type ScreenOutputs = Record<string, Record<string, FlowData>>;

export type FlowEvent =
  { type: 'NEXT'; outputs?: ScreenOutputs } | { type: 'FINISH'; outputs?: ScreenOutputs } | { type: 'BACK' } | { type: 'PAUSE' };

/** What a frame starts with. */
export interface FrameInput {
  inputs: Record<string, FlowData>;
  /** The caller frame's record access mode ('user' at top level). */
  callerMode: RecordAccessMode;
  userId: string;
  /** True when a parent flow calls (null text inputs arrive as ""). */
  asSubflow?: boolean;
}

/** What a frame ends with: the `isOutput` variables, or the failure. */
export type FrameOutput =
  | { outputs: Record<string, FlowData>; error: null }
  | {
      outputs: null;
      error: string;
      /** Flow names from this frame down to the failing one, and the element that failed. */ where: {
        stack: string[];
        element: string | null;
      };
    };

/** What an action or record element changed (applied on its run's done event). */
export interface ElementPatch {
  values?: Record<string, FlowData>;
  outputs?: Record<string, Record<string, FlowData>>;
}

export interface RunElementInput {
  flow: string;
  element: string;
  frame: Frame;
}

/** The params of the `runElement` action: the run's id (its done and error events name it) and what the runtime's handler runs. */
export interface RunElementParams {
  id: string;
  input: RunElementInput;
}

/** The params of the `stopElement` action: the run whose result no state waits for any more. */
export interface StopElementParams {
  id: string;
}

/** Thrown by the runtime's runElement handler when the frame must not run the element (already failed or over the step limit). */
export class AbortElement extends Error {}

export interface CompileOptions {
  /** Elements entered per frame between two navigations (default 2000). */
  stepLimit?: number;
  nullRecordField?: 'fault' | 'null';
  /** The machine of a subflow (by flow API name). */
  childMachine?: (flowName: string) => AnyStateMachine;
}

/** The record access mode a flow frame runs in. */
export function frameMode(def: FlowDefinition, callerMode: RecordAccessMode): RecordAccessMode {
  return def.runInMode === 'SystemModeWithSharing'
    ? 'systemWithSharing'
    : def.runInMode === 'SystemModeWithoutSharing'
      ? 'system'
      : callerMode;
}

/** A frame's initial context from its input. */
export function initialFrame(def: FlowDefinition, input: FrameInput): Frame {
  const frame = newFrame(def, frameMode(def, input.callerMode), input.userId);
  for (const [name, value] of Object.entries(input.inputs)) {
    const v = def.variables.find((x) => x.name === name);
    if (!v) continue;
    frame.values[name] = value === null && input.asSubflow && isTextType(v) ? '' : structuredClone(value);
  }
  return frame;
}

/** The `isOutput` variables of a frame. */
export function frameOutputs(def: FlowDefinition, frame: Frame): Record<string, FlowData> {
  const out: Record<string, FlowData> = {};
  for (const v of def.variables) if (v.isOutput) out[v.name] = frame.values[v.name] ?? null;
  return out;
}

const fail = (frame: Frame, err: unknown) => {
  frame.error = err instanceof Error ? err.message : String(err);
};

/** Compiles one flow. Subflow machines come from `opts.childMachine`; without it, subflows can't run (drawing only). */
export function compileFlow(def: FlowDefinition, opts: CompileOptions = {}): AnyStateMachine {
  const limit = opts.stepLimit ?? 2000;
  const env: ValueEnv = { def, userId: '', nullRecordField: opts.nullRecordField ?? 'fault' };
  const envOf = (frame: Frame): ValueEnv => ({ ...env, userId: frame.userId });
  const el = (name: string) => def.elements[name];
  const mutate = (frame: Frame, fn: (f: Frame) => void): Frame => {
    const next = structuredClone(frame);
    try {
      fn(next);
    } catch (err) {
      fail(next, err);
    }
    return next;
  };

  const children: Record<string, AnyStateMachine> = {};
  for (const e of Object.values(def.elements)) {
    if (e.kind === 'subflow' && !children[e.flowName]) {
      children[e.flowName] = opts.childMachine
        ? opts.childMachine(e.flowName)
        : setup({}).createMachine({ id: e.flowName, initial: 'unavailable', states: { unavailable: { type: 'final' } } });
    }
  }

  const machineSetup = setup({
    types: {} as { context: Frame; events: FlowEvent; input: FrameInput; output: FrameOutput },
    actors: children,
    guards: {
      failed: ({ context }) => context.error !== null,
      overLimit: ({ context }) => context.steps > limit,
      chose: ({ context }, params: { choice: string }) => context.choice === params.choice,
      backTo: ({ context }, params: { screen: string }) =>
        context.history.length >= 2 && context.history[context.history.length - 2] === params.screen,
      aborted: ({ event }) => (event as unknown as { error: unknown }).error instanceof AbortElement,
      childFailed: ({ event }) => (event as unknown as { output: FrameOutput }).output.error !== null,
    },
    actions: {
      // An element's run and its end (see executorOnly): carried out by the executor, by name.
      runElement: executorOnly('runElement') as (_: unknown, params: RunElementParams) => void,
      stopElement: executorOnly('stopElement') as (_: unknown, params: StopElementParams) => void,
      step: assign({ steps: ({ context }) => context.steps + 1, at: (_, params: { element: string }) => params.element }),
      resetSteps: assign({ steps: 0 }),
      stepLimitError: assign({
        error: ({ context }) =>
          context.error ?? `The flow ${def.apiName} ran more than the step limit (${limit} elements without a screen).`,
      }),
      decide: assign(({ context }, params: { element: string }) =>
        mutate(context, (f) => {
          const d = el(params.element);
          if (d.kind !== 'decision') return;
          const e = envOf(f);
          f.choice = 'default';
          for (const r of d.rules) {
            if (conditionsHold(f, r, e)) {
              f.choice = `rule:${r.name}`;
              break;
            }
          }
        }),
      ),
      assignItems: assign(({ context }, params: { element: string }) =>
        mutate(context, (f) => {
          const a = el(params.element);
          if (a.kind !== 'assignment') return;
          const e = envOf(f);
          for (const item of a.items) assignItem(f, item.target, item.operator, valueOf(f, item.value, e), e);
        }),
      ),
      loopStep: assign(({ context }, params: { element: string }) =>
        mutate(context, (f) => {
          const l = el(params.element);
          if (l.kind !== 'loop') return;
          let cursor = f.loops[l.name];
          if (!cursor) {
            const c = resolve(f, l.collectionReference, envOf(f));
            const items = c === null ? [] : Array.isArray(c) ? [...c] : [c];
            cursor = { items: l.iterationOrder === 'Desc' ? items.reverse() : items, index: 0 };
          }
          if (cursor.index < cursor.items.length) {
            const item = cursor.items[cursor.index];
            f.loops[l.name] = { items: cursor.items, index: cursor.index + 1 };
            write(f, l.assignNextValueToReference ?? l.name, item);
            f.choice = 'next';
          } else {
            delete f.loops[l.name];
            f.choice = 'done';
          }
        }),
      ),
      enterScreen: assign({
        history: ({ context }, params: { screen: string }) =>
          context.history[context.history.length - 1] === params.screen ? context.history : [...context.history, params.screen],
      }),
      leaveScreen: assign(({ context, event }, params: { screen: string }) =>
        mutate(context, (f) => {
          f.steps = 0;
          const s = el(params.screen) as ScreenElement;
          const outputs = (event as { outputs?: ScreenOutputs }).outputs ?? {};
          const e = envOf(f);
          const stored: Record<string, Record<string, FlowData>> = {};
          const writes: Array<() => void> = [];
          for (const field of allScreenFields(s.fields)) {
            const visible = field.visibility === null || conditionsHold(context, field.visibility, e);
            const inputs: Record<string, FlowData> = {};
            for (const p of field.inputs) inputs[p.name] = valueOf(context, p.value, e);
            const answers = visible ? (outputs[field.name] ?? {}) : null;
            stored[field.name] = { ...inputs, ...(answers ?? {}) };
            writes.push(() => applyFieldOutputs(f, field, answers));
          }
          for (const w of writes) w();
          f.stored = { ...f.stored, [s.name]: stored };
        }),
      ),
      goBack: assign({ history: ({ context }) => context.history.slice(0, -1), steps: 0 }),
      applyPatch: assign(({ context, event }) => {
        const patch = (event as unknown as { output: ElementPatch }).output;
        return { values: { ...context.values, ...(patch.values ?? {}) }, outputs: { ...context.outputs, ...(patch.outputs ?? {}) } };
      }),
      setFault: assign({ faultMessage: ({ event }) => errorText((event as unknown as { error: unknown }).error) }),
      setError: assign({ error: ({ context, event }) => context.error ?? errorText((event as unknown as { error: unknown }).error) }),
      setChildError: assign(({ event }) => {
        const out = (event as unknown as { output: FrameOutput }).output;
        return out.error === null
          ? {}
          : { error: out.error, failedIn: { stack: [def.apiName, ...out.where.stack], element: out.where.element } };
      }),
      storeSubflowOutputs: assign(({ context, event }, params: { element: string }) =>
        mutate(context, (f) => {
          const s = el(params.element);
          if (s.kind !== 'subflow') return;
          const out = (event as unknown as { output: FrameOutput }).output.outputs ?? {};
          if (s.storeOutputAutomatically) f.outputs[s.name] = structuredClone(out);
          for (const o of s.outputs) write(f, o.target, out[o.name] ?? null);
        }),
      ),
      // `forward` ({ child }) is the executor's: it hands the navigation to the child frame (no implementation here).
    },
  });

  const target = (t: string | null) => t ?? END;
  const guardsFirst = [
    { guard: 'failed', target: ERROR },
    { guard: 'overLimit', target: ERROR, actions: 'stepLimitError' },
  ];
  const states: Record<string, object> = {};
  const screens = Object.values(def.elements).filter((e): e is ScreenElement => e.kind === 'screen');

  for (const e of Object.values(def.elements) as FlowElement[]) {
    const step = { type: 'step', params: { element: e.name } };
    const base = { id: e.name, entry: [step] as unknown[] };
    switch (e.kind) {
      case 'decision':
        states[e.name] = {
          ...base,
          entry: [step, { type: 'decide', params: { element: e.name } }],
          always: [
            ...guardsFirst,
            ...e.rules.map((r) => ({
              guard: { type: 'chose', params: { choice: `rule:${r.name}` } },
              target: target(r.connector),
              reenter: true,
            })),
            { target: target(e.defaultConnector), reenter: true },
          ],
          meta: { kind: e.kind },
        };
        break;
      case 'assignment':
        states[e.name] = {
          ...base,
          entry: [step, { type: 'assignItems', params: { element: e.name } }],
          always: [...guardsFirst, { target: target(e.connector), reenter: true }],
          meta: { kind: e.kind },
        };
        break;
      case 'loop':
        states[e.name] = {
          ...base,
          entry: [step, { type: 'loopStep', params: { element: e.name } }],
          always: [
            ...guardsFirst,
            { guard: { type: 'chose', params: { choice: 'next' } }, target: target(e.nextValueConnector), reenter: true },
            { target: target(e.noMoreValuesConnector), reenter: true },
          ],
          meta: { kind: e.kind },
        };
        break;
      case 'screen': {
        const leave = { type: 'leaveScreen', params: { screen: e.name } };
        states[e.name] = {
          ...base,
          entry: [step, { type: 'enterScreen', params: { screen: e.name } }],
          always: guardsFirst,
          on: {
            ...(e.connector ? { NEXT: { target: e.connector, actions: [leave], reenter: true } } : {}),
            ...(!e.connector && e.allowFinish ? { FINISH: { target: END, actions: [leave] } } : {}),
            ...(e.allowBack
              ? {
                  BACK: screens
                    .filter((s) => s.name !== e.name)
                    .map((s) => ({ guard: { type: 'backTo', params: { screen: s.name } }, target: s.name, actions: ['goBack'] })),
                }
              : {}),
            PAUSE: { actions: [] },
          },
          meta: { kind: e.kind },
        };
        break;
      }
      case 'subflow': {
        const fwd = { actions: ['resetSteps', { type: 'forward', params: { child: e.name } }] };
        states[e.name] = {
          ...base,
          always: guardsFirst,
          invoke: {
            id: e.name,
            src: e.flowName,
            input: ({ context }: { context: Frame }): FrameInput => {
              const inputs: Record<string, FlowData> = {};
              const ev = envOf(context);
              for (const i of e.inputs) inputs[i.name] = valueOf(context, i.value, ev);
              return { inputs, callerMode: context.mode, userId: context.userId, asSubflow: true };
            },
            onDone: [
              { guard: 'childFailed', target: ERROR, actions: 'setChildError' },
              { target: target(e.connector), actions: { type: 'storeSubflowOutputs', params: { element: e.name } }, reenter: true },
            ],
            onError: { target: ERROR, actions: 'setError' },
          },
          on: { NEXT: fwd, FINISH: fwd, BACK: fwd, PAUSE: fwd },
          meta: { kind: e.kind, flowName: e.flowName },
        };
        break;
      }
      default: {
        const onError = e.faultConnector
          ? [
              { guard: 'aborted', target: ERROR, actions: 'stepLimitError' },
              { target: e.faultConnector, actions: 'setFault', reenter: true },
            ]
          : [
              { guard: 'aborted', target: ERROR, actions: 'stepLimitError' },
              { target: ERROR, actions: 'setError' },
            ];
        // The element's run, asked of the executor by the named actions runElement and stopElement:
        // its done or error event comes back under the run's id.
        const run = `${e.name}.run`;
        states[e.name] = {
          ...base,
          entry: [
            step,
            {
              type: 'runElement',
              params: ({ context }: { context: Frame }): RunElementParams => ({
                id: run,
                input: { flow: def.apiName, element: e.name, frame: context },
              }),
            },
          ],
          exit: [{ type: 'stopElement', params: { id: run } satisfies StopElementParams }],
          always: guardsFirst,
          on: {
            [`xstate.done.actor.${run}`]: { target: target(e.connector), actions: 'applyPatch', reenter: true },
            [`xstate.error.actor.${run}`]: onError,
          },
          meta: { kind: e.kind },
        };
      }
    }
  }
  states[END] = { type: 'final' };
  states[ERROR] = { type: 'final' };

  return machineSetup.createMachine({
    id: def.apiName,
    initial: def.start ?? END,
    context: ({ input }: { input: FrameInput }) => initialFrame(def, input),
    states: states as never,
    output: ({ context }: { context: Frame }): FrameOutput =>
      context.error !== null
        ? { outputs: null, error: context.error, where: context.failedIn ?? { stack: [def.apiName], element: context.at } }
        : { outputs: frameOutputs(def, context), error: null },
  } as never) as unknown as AnyStateMachine;
}

/** Writes a screen field's outputs (null for a hidden field). */
function applyFieldOutputs(f: Frame, field: ReturnType<typeof allScreenFields>[number], answers: Record<string, FlowData> | null): void {
  if (field.fieldType === 'InputField') {
    f.values[field.name] = answers ? (answers.value ?? f.values[field.name] ?? null) : null;
    return;
  }
  if (field.storeOutputAutomatically) {
    if (answers === null) {
      const prev = f.outputs[field.name] ?? {};
      f.outputs[field.name] = Object.fromEntries(Object.keys(prev).map((k) => [k, null]));
    } else f.outputs[field.name] = { ...(f.outputs[field.name] ?? {}), ...structuredClone(answers) };
    return;
  }
  for (const o of field.outputs) {
    if (answers === null) write(f, o.target, null);
    else if (o.name in answers) write(f, o.target, answers[o.name]);
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}
