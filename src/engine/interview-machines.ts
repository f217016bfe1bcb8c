/**
 * Flow interviews run by the step executor (the `InterviewExecutor` of src/flows/runtime.ts). An
 * interview's machines (src/flows/compile.ts: the top flow's, one child machine per subflow frame)
 * are advanced with XState's pure `initialTransition()` / `transition()` and the actions those
 * return are carried out by `executeActions` (src/engine/steps.ts), the executor of the checkout
 * sessions' steps, with this module's table of handlers:
 *
 * - a named action the runtime has a handler for (`runElement`: an action or record element, its
 *   params the run's id and input) runs it and feeds its `xstate.done.actor.<id>` (the patch) or
 *   `xstate.error.actor.<id>` (the fault) back to its machine with `transition()`; `stopElement`
 *   (the element's state was left) drops a result still to come;
 * - a spawn is a subflow: the child machine the flow's machine names for that source starts with
 *   `initialTransition()` as a frame of its own; when it ends, its done (output) or error event goes
 *   to its caller the same way, and a stop ends it;
 * - `forward` hands a navigation to the child frame holding the screen.
 *
 * Events are delivered in order, one at a time (a mailbox per run, as an actor has): an element's
 * result and a child's end are queued behind whatever the current transition started. A transition
 * that throws (a subflow input that can't be resolved) leaves its machine in error, as an actor would.
 * A run rests when nothing is queued: the interview stands on a screen, or it ended.
 *
 * The stored form is XState's persisted snapshot (status, value, context, and the subflow frames
 * under `children` as `{ snapshot, src }`), restored with `resolveState()` frame by frame.
 */
import { StateMachine, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';
import type { FrameInput, FlowEvent, RunElementParams, StopElementParams } from '../flows/compile.js';
import type { InterviewExecutor, InterviewHandlers, InterviewRun, MachineFrame } from '../flows/runtime.js';
import { executeActions, type ActionHandlers, type MachineAction, type SpawnedActor } from './steps.js';
import { pureTransition } from './pure-transition.js';

/** One machine of a running interview: the top flow's, or a subflow frame (a child of its caller's). */
interface FrameNode {
  readonly machine: AnyStateMachine;
  /** Its source in the caller's machine (the subflow's API name; '' for the top). */
  readonly src: string;
  /** Null until a child frame started (its start is queued behind the transition that spawned it). */
  snapshot: AnyMachineSnapshot | null;
  /** Set when a transition of this machine threw: the machine is in error. */
  failure: { error: unknown } | null;
  readonly children: Map<string, FrameNode>;
  /** Elements started and not yet settled or stopped, by invoke id. */
  readonly running: Set<string>;
  readonly parent: { node: FrameNode; id: string } | null;
  stopped: boolean;
}

/** A persisted snapshot as XState writes it (only what a frame at rest needs). */
interface Persisted {
  status?: string;
  value: unknown;
  context: unknown;
  children?: Record<string, { snapshot: Persisted; src: string }>;
}

const statusOf = (n: FrameNode): MachineFrame['status'] =>
  n.failure ? 'error' : ((n.snapshot?.status ?? 'active') as MachineFrame['status']);
/** What failed a machine in error: a transition that threw here, or an error XState caught in it (a throwing invoke input). */
const errorOf = (n: FrameNode): unknown => (n.failure ? n.failure.error : n.snapshot?.status === 'error' ? n.snapshot.error : undefined);
const messageOf = (err: unknown) => (err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err));

function node(machine: AnyStateMachine, src: string, parent: FrameNode['parent']): FrameNode {
  return { machine, src, snapshot: null, failure: null, children: new Map(), running: new Set(), parent, stopped: false };
}

/** The child machine a flow's machine invokes for `src` (a subflow), or undefined. */
function childMachine(machine: AnyStateMachine, src: string): AnyStateMachine | undefined {
  const logic = (machine.implementations.actors as Record<string, unknown>)[src];
  return logic instanceof StateMachine ? (logic as AnyStateMachine) : undefined;
}

function stopAll(n: FrameNode): void {
  n.stopped = true;
  n.running.clear();
  for (const c of n.children.values()) stopAll(c);
}

/** The machines of one interview in the executor's hands (see the module comment). */
class MachineRun implements InterviewRun {
  private readonly queue: Array<() => Promise<void>> = [];
  private readonly tables = new WeakMap<FrameNode, ActionHandlers<void>>();

  constructor(
    private readonly top: FrameNode,
    private readonly handlers: InterviewHandlers,
  ) {}

  frame(): MachineFrame {
    return frameOf(this.top);
  }

  async send(event: FlowEvent): Promise<void> {
    this.queue.push(() => this.deliver(this.top, event));
    await this.settle();
  }

  /**
   * The tree of frames in XState's persisted form, built anew (no JSON copy): what it shares with
   * the run are the frames' contexts, which no transition changes in place (assign makes new ones),
   * and the run is done with once it rests.
   */
  persisted(): unknown {
    return persist(this.top);
  }

  /** Starts a frame's machine with `initialTransition()` and executes what it started. */
  async begin(n: FrameNode, input: FrameInput): Promise<void> {
    if (n.stopped) return;
    let started: [AnyMachineSnapshot, MachineAction[]];
    try {
      started = pureTransition(n.machine, null, input);
    } catch (error) {
      return this.fail(n, error);
    }
    n.snapshot = started[0];
    await this.execute(n, started[1]);
  }

  /** Runs the queue until the interview rests. */
  async settle(): Promise<void> {
    for (let job = this.queue.shift(); job; job = this.queue.shift()) await job();
  }

  /** `transition()` of one frame's machine with `event`, then the actions it returned executed. */
  private async deliver(n: FrameNode, event: EventObject): Promise<void> {
    if (n.stopped || n.failure || !n.snapshot || n.snapshot.status !== 'active') return;
    let next: [AnyMachineSnapshot, MachineAction[]];
    try {
      next = pureTransition(n.machine, n.snapshot, event);
    } catch (error) {
      return this.fail(n, error);
    }
    n.snapshot = next[0];
    await this.execute(n, next[1]);
  }

  private fail(n: FrameNode, error: unknown): void {
    n.failure = { error };
    this.ended(n);
  }

  private async execute(n: FrameNode, actions: MachineAction[]): Promise<void> {
    await executeActions(actions, this.actionHandlers(n));
    if (n.snapshot && n.snapshot.status !== 'active') this.ended(n);
  }

  /** The executor's handlers of one frame's actions, built once per frame of the run. */
  private actionHandlers(n: FrameNode): ActionHandlers<void> {
    let h = this.tables.get(n);
    if (h) return h;
    // The runtime's work by action name (`runElement`), each run started by its named action.
    const elements = Object.fromEntries(
      Object.entries(this.handlers).map(
        ([name, run]) => [name, (params: unknown) => this.startElement(n, params as RunElementParams, run)] as const,
      ),
    );
    h = {
      spawn: { '*': (s) => this.startChild(n, s) },
      stop: (id) => this.stop(n, id),
      // Object.assign: a spread copy given new keys takes V8's slow path on every call on Node 20.
      named: Object.assign({}, elements, {
        stopElement: (params: unknown) => void n.running.delete((params as StopElementParams).id),
        forward: (params: unknown, event: EventObject) => {
          const child = n.children.get(String((params as { child?: unknown })?.child));
          if (!child) throw new Error(`no subflow frame to take ${event.type}`);
          this.queue.push(() => this.deliver(child, event));
        },
      }),
    };
    this.tables.set(n, h);
    return h;
  }

  /** An element's run: queued, then its result fed back unless its state was left meanwhile. */
  private startElement(n: FrameNode, run: RunElementParams, work: (input: unknown) => Promise<unknown>): void {
    n.running.add(run.id);
    this.queue.push(async () => {
      if (n.stopped || !n.running.has(run.id)) return;
      let event: EventObject;
      try {
        event = { type: `xstate.done.actor.${run.id}`, output: await work(run.input) } as EventObject;
      } catch (error) {
        event = { type: `xstate.error.actor.${run.id}`, error } as EventObject;
      }
      if (n.stopped || !n.running.delete(run.id)) return;
      await this.deliver(n, event);
    });
  }

  /** A subflow's frame: its machine starts once the transition that invoked it is executed. */
  private startChild(n: FrameNode, s: SpawnedActor): void {
    const machine = childMachine(n.machine, s.src);
    if (!machine) throw new Error(`the flow ${n.machine.id} invokes '${s.src}', which has no handler and is no subflow`);
    const child = node(machine, s.src, { node: n, id: s.id });
    const previous = n.children.get(s.id);
    if (previous) stopAll(previous);
    n.children.set(s.id, child);
    this.queue.push(() => this.begin(child, s.input as FrameInput));
  }

  private stop(n: FrameNode, id: string): void {
    n.running.delete(id);
    const child = n.children.get(id);
    if (!child) return;
    stopAll(child);
    n.children.delete(id);
  }

  /** A frame ended (done or in error): its caller gets the done or error event, as an actor's parent would. */
  private ended(n: FrameNode): void {
    const parent = n.parent;
    if (!parent) return;
    this.queue.push(async () => {
      if (n.stopped || parent.node.children.get(parent.id) !== n) return;
      parent.node.children.delete(parent.id);
      const event =
        statusOf(n) === 'error'
          ? { type: `xstate.error.actor.${parent.id}`, error: errorOf(n) }
          : { type: `xstate.done.actor.${parent.id}`, output: n.snapshot!.output as unknown };
      await this.deliver(parent.node, event as EventObject);
    });
  }
}

function frameOf(n: FrameNode): MachineFrame {
  const children: Record<string, MachineFrame> = {};
  for (const [id, c] of n.children) if (c.snapshot || c.failure) children[id] = frameOf(c);
  // Keys added one by one (no spread in the literal: a key defined after a spread is slow on Node 20).
  const frame: MachineFrame = {
    status: statusOf(n),
    value: n.snapshot?.value ?? null,
    context: n.snapshot?.context ?? null,
  } as MachineFrame;
  if (n.snapshot?.status === 'done') frame.output = n.snapshot.output as unknown;
  if (statusOf(n) === 'error') frame.error = errorOf(n);
  frame.children = children;
  return frame;
}

function persist(n: FrameNode): Persisted & Record<string, unknown> {
  const children: NonNullable<Persisted['children']> & Record<string, { syncSnapshot: boolean }> = {};
  for (const [id, c] of n.children) if (c.snapshot || c.failure) children[id] = { snapshot: persist(c), src: c.src, syncSnapshot: false };
  // XState's own persisted form of the frame (`getPersistedSnapshot` of the snapshot without its
  // children: the same keys in the same order), its children being the frames this run holds. Built
  // as one literal: XState's rest-and-spread copies take V8's slow path on every navigate on Node 20.
  const s = n.snapshot;
  const out: Persisted & Record<string, unknown> = s
    ? {
        status: s.status,
        output: s.output,
        error: s.error,
        value: s.value,
        historyValue: persistedHistory(s.historyValue),
        context: persistedContext(s.context),
        children,
      }
    : { value: null, context: null, children };
  if (statusOf(n) === 'error') Object.assign(out, { status: 'error', error: messageOf(errorOf(n)) });
  return out;
}

/** XState's persisted history value (`serializeHistoryValue`): each entry's state nodes by id. */
function persistedHistory(historyValue: unknown): Record<string, Array<{ id: string }>> {
  if (typeof historyValue !== 'object' || historyValue === null) return {};
  const out: Record<string, Array<{ id: string }>> = {};
  for (const key in historyValue) {
    const value = (historyValue as Record<string, unknown>)[key];
    if (Array.isArray(value)) out[key] = value.map((item: { id: string }) => ({ id: item.id }));
  }
  return out;
}

/** XState's persisted context (`persistContext`): an actor reference anywhere in it stored as its id, the rest as it is. */
function persistedContext(part: unknown): unknown {
  let copy: Record<string, unknown> | unknown[] | undefined;
  const obj = part as Record<string, unknown>;
  for (const key in obj) {
    const value = obj[key];
    if (value && typeof value === 'object') {
      if ('sessionId' in value && 'send' in value && 'ref' in value) {
        copy ??= Array.isArray(obj) ? obj.slice() : Object.assign({}, obj);
        (copy as Record<string, unknown>)[key] = { xstate$$type: 1, id: (value as { id?: unknown }).id };
      } else {
        const result = persistedContext(value);
        if (result !== value) {
          copy ??= Array.isArray(obj) ? obj.slice() : Object.assign({}, obj);
          (copy as Record<string, unknown>)[key] = result;
        }
      }
    }
  }
  return copy ?? part;
}

function restore(machine: AnyStateMachine, p: Persisted, src: string, parent: FrameNode['parent']): FrameNode {
  const n = node(machine, src, parent);
  n.snapshot = machine.resolveState({ value: p.value as never, context: p.context as never });
  for (const [id, c] of Object.entries(p.children ?? {})) {
    const child = childMachine(machine, c.src);
    if (!child) throw new Error(`the stored interview holds a frame of '${c.src}', which ${machine.id} does not invoke`);
    n.children.set(id, restore(child, c.snapshot, c.src, { node: n, id }));
  }
  return n;
}

/** The interview executor of the engine (see the module comment). */
export const interviewExecutor: InterviewExecutor = {
  async start(machine, input, handlers) {
    const top = node(machine, '', null);
    const run = new MachineRun(top, handlers);
    await run.begin(top, input);
    await run.settle();
    return run;
  },
  restore(machine, persisted, handlers) {
    return new MachineRun(restore(machine, persisted as Persisted, '', null), handlers);
  },
};
