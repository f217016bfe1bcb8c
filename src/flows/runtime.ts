/**
 * The flow runtime (FlowRuntime of src/flows/contract.ts): starts interviews of loaded flows, runs
 * them until they rest (a screen, finished, failed, or a wait screen whose checkout session is still
 * processing), validates navigation against the screen, and runs action and record elements through
 * the FlowHost. The compiled machines (src/flows/compile.ts) are run by the `InterviewExecutor` the
 * engine passes in (src/engine/interview-machines.ts: XState's pure `transition()`, the actions it
 * returns executed by the step executor of src/engine/steps.ts); this module hands it the handler of
 * the `runElement` action (the element's work through the FlowHost) and reads the frames it leaves at
 * rest. An interview is stored as the top machine's persisted snapshot, subflow frames inside.
 */
import type { AnyStateMachine } from 'xstate';
import { EngineError } from '../errors.js';
import { FlowFault } from './contract.js';
import type {
  FlowData,
  FlowHost,
  FlowRecord,
  FlowRuntime,
  InterviewState,
  InterviewView,
  NavigateAction,
  RecordFilter,
  ScreenFieldView,
  ScreenView,
} from './contract.js';
import {
  AbortElement,
  compileFlow,
  frameOutputs,
  type ElementPatch,
  type FlowEvent,
  type FrameInput,
  type FrameOutput,
  type RunElementInput,
  type ScreenOutputs,
} from './compile.js';
import { flowReferences, objectOfReference } from './load.js';
import {
  elementConnectors,
  NAVIGATION_BUTTONS_COMPONENT,
  REDIRECT_COMPONENT,
  WAIT_COMPONENT,
  type FlowDefinition,
  type FlowFilter,
  type ScreenElement,
  type ScreenField,
} from './metadata.js';
import { asText, conditionsHold, merge, resolve, valueOf, variableOf, write, type Frame, type ValueEnv } from './values.js';

/** One machine of an interview as its executor leaves it at rest; the subflow frames it invoked are its children (by invoke id). */
export interface MachineFrame {
  status: 'active' | 'done' | 'error' | 'stopped';
  value: unknown;
  context: unknown;
  /** Once done: the machine's output. */
  output?: unknown;
  /** Once in error: what failed. */
  error?: unknown;
  children: Readonly<Record<string, MachineFrame>>;
}

/** An interview's machines in the executor's hands. */
export interface InterviewRun {
  /** The top flow's frame (subflow frames under `children`). */
  frame(): MachineFrame;
  /** Sends `event` to the top machine and executes what it starts until the interview rests. */
  send(event: FlowEvent): Promise<void>;
  /** The top machine's persisted snapshot as plain data (JSON-serializable; the run changes none of it once at rest), subflow frames inside. */
  persisted(): unknown;
}

/** The work an interview's named actions ask for, by action name (`runElement`: its params' `input`). */
export type InterviewHandlers = Readonly<Record<string, (input: unknown) => Promise<unknown>>>;

/**
 * What advances an interview's machines and executes the actions they return (the engine's step
 * executor, src/engine/interview-machines.ts). Both calls return at rest: a screen, or the end.
 */
export interface InterviewExecutor {
  /** The machine's initial transition with `input`, and everything it starts, until it rests. */
  start(machine: AnyStateMachine, input: FrameInput, handlers: InterviewHandlers): Promise<InterviewRun>;
  /** A stored interview at its rest point (nothing runs until `send`). */
  restore(machine: AnyStateMachine, persisted: unknown, handlers: InterviewHandlers): InterviewRun;
}

export interface FlowRuntimeOptions {
  /** Runs the interviews' machines (the engine's step executor). */
  executor: InterviewExecutor;
  /** Elements a frame may enter between two navigations (default 2000); over it the interview fails. */
  stepLimit?: number;
  /** Reading a field of a null record: a fault (default) or null. */
  nullRecordField?: 'fault' | 'null';
  /**
   * Answers a component's host stand-in reads beyond the outputs the flow declares, by extension
   * name (the payment component's `paymentType`, `token` …): shown in `outputNames` and accepted.
   */
  componentAnswers?: Readonly<Record<string, readonly string[]>>;
}

/** The element graph of a flow, for diagrams. */
export interface FlowGraph {
  flow: string;
  start: string | null;
  nodes: Array<{ id: string; kind: string; label: string; subflow?: string }>;
  edges: Array<{ from: string; to: string; kind: string }>;
}

/** FlowRuntime plus what tools need: definitions, machines and graphs to draw. */
export interface FlowRuntimeExt extends FlowRuntime {
  definition(apiName: string): FlowDefinition;
  /** The flow's machine (subflows included as child machines), for drawing and inspection. */
  flowMachine(apiName: string): AnyStateMachine;
  flowGraph(apiName: string): FlowGraph;
}

const CONTAINERS = new Set(['RegionContainer', 'Region']);

type Located =
  | { kind: 'busy' }
  | { kind: 'done'; output: FrameOutput }
  | { kind: 'error'; message: string }
  | { kind: 'screen'; frames: Array<{ def: FlowDefinition; frame: Frame }>; screen: ScreenElement };

const refuse = (detail: string, fields: string[] = []) => new EngineError('FLOW_NAVIGATION_REFUSED', detail, fields);
const messageOf = (err: unknown) => (err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err));

export function createFlowRuntime(definitions: FlowDefinition[], opts: FlowRuntimeOptions): FlowRuntimeExt {
  const defs = new Map(definitions.map((d) => [d.apiName, d]));
  const stepLimit = opts.stepLimit ?? 2000;
  const nullRecordField = opts.nullRecordField ?? 'fault';
  const defOf = (name: string): FlowDefinition => {
    const d = defs.get(name);
    if (!d) throw new EngineError('FLOW_NOT_FOUND', `'${name}' (loaded: ${[...defs.keys()].join(', ') || 'none'})`, ['flowApiName']);
    return d;
  };
  const envOf = (def: FlowDefinition, frame: Frame, lenient = false): ValueEnv => ({
    def,
    userId: frame.userId,
    nullRecordField: lenient ? 'null' : nullRecordField,
  });

  /** Output params each auto-storing screen component is read by (`Field.param` anywhere in the flow). */
  const referencedParams = new Map<string, Map<string, Set<string>>>();
  for (const d of definitions) {
    const m = new Map<string, Set<string>>();
    for (const { ref } of flowReferences(d)) {
      const [head, field] = ref.split('.');
      if (field && !ref.startsWith('$')) m.set(head, (m.get(head) ?? new Set()).add(field));
    }
    referencedParams.set(d.apiName, m);
  }

  /** The compiled machines by flow API name (subflows' as child machines of their callers'). */
  const machines = new Map<string, AnyStateMachine>();
  const machineOf = (name: string): AnyStateMachine => {
    let m = machines.get(name);
    if (!m) {
      m = compileFlow(defOf(name), { stepLimit, nullRecordField, childMachine: machineOf });
      machines.set(name, m);
    }
    return m;
  };

  /** The runtime's handler table for the executor: an element's work, as `host`. */
  const handlersFor = (host: FlowHost): InterviewHandlers => ({
    runElement: async (input) => {
      const i = input as RunElementInput;
      // A frame already failed or over its step limit runs nothing more (the machine's `aborted` guard).
      if (i.frame.error !== null || i.frame.steps > stepLimit) throw new AbortElement('aborted');
      return runElement(i, host);
    },
  });

  // --- effects ---------------------------------------------------------------------------------
  async function runElement(input: RunElementInput, host: FlowHost): Promise<ElementPatch> {
    const def = defOf(input.flow);
    const e = def.elements[input.element];
    const f = structuredClone(input.frame);
    const env = envOf(def, f);
    const filtersOf = (filters: FlowFilter[]): RecordFilter[] =>
      filters.map((x) => ({ field: x.field, operator: x.operator, value: asScalar(valueOf(f, x.value, env), x.field) }));
    switch (e.kind) {
      case 'actionCall': {
        const inputs: Record<string, FlowData> = {};
        for (const p of e.inputs) inputs[p.name] = valueOf(f, p.value, env);
        const result =
          e.actionType === 'apex' ? await host.invokeApex(e.actionName, inputs) : await host.invokeCoreAction(e.actionName, inputs);
        if (e.storeOutputAutomatically) f.outputs[e.name] = { ...result };
        for (const o of e.outputs) write(f, o.target, result[o.name] ?? null);
        break;
      }
      case 'recordLookup': {
        const filters = filtersOf(e.filters);
        const nullFilter = e.filterLogic.trim().toLowerCase() === 'and' && filters.some((x) => x.operator !== 'IsNull' && x.value === null);
        const rows = nullFilter
          ? []
          : await host.queryRecords(
              {
                object: e.object,
                filters,
                filterLogic: e.filterLogic,
                fields: e.queriedFields,
                ...(e.sortField ? { sortField: e.sortField, sortOrder: e.sortOrder ?? 'Asc' } : {}),
                ...(e.getFirstRecordOnly ? { limit: 1 } : e.limit !== null ? { limit: e.limit } : {}),
              },
              f.mode,
            );
        const first = rows[0] ?? null;
        if (e.storeOutputAutomatically) f.values[e.name] = e.getFirstRecordOnly ? first : rows.length ? rows : null;
        if (e.outputReference) {
          const isCollection = variableOf(def, e.outputReference)?.isCollection ?? false;
          if (rows.length) write(f, e.outputReference, isCollection ? rows : first);
          else if (e.assignNullValuesIfNoRecordsFound) write(f, e.outputReference, null);
        }
        for (const o of e.outputAssignments) {
          if (first) write(f, o.target, first[o.field] ?? null);
          else if (e.assignNullValuesIfNoRecordsFound) write(f, o.target, null);
        }
        break;
      }
      case 'recordUpdate': {
        if (e.inputReference) {
          const v = resolve(f, e.inputReference, env);
          const records = recordsOf(v, e.inputReference);
          if (records.some((r) => typeof r.Id !== 'string' || r.Id === ''))
            throw new FlowFault(`${e.inputReference} holds a record without an Id: only a record with an Id can be updated.`);
          if (records.length) await host.updateRecords(objectOfReference(def, e.inputReference)!, records, f.mode);
        } else {
          const fields: FlowRecord = {};
          for (const a of e.inputAssignments) fields[a.field] = asScalar(valueOf(f, a.value, env), a.field);
          await host.updateWhere(e.object!, filtersOf(e.filters), e.filterLogic, fields, f.mode);
        }
        break;
      }
      case 'recordCreate': {
        if (e.inputReference) {
          const v = resolve(f, e.inputReference, env);
          const object = objectOfReference(def, e.inputReference)!;
          const records = recordsOf(v, e.inputReference);
          const created: FlowRecord[] = [];
          for (const r of records) {
            const { Id: _drop, ...fields } = r;
            created.push({ ...r, Id: await host.createRecord(object, fields, f.mode) });
          }
          if (records.length) write(f, e.inputReference, Array.isArray(v) ? created : created[0]);
          const id = created[0]?.Id ?? null;
          if (e.assignRecordIdToReference) write(f, e.assignRecordIdToReference, id);
          if (e.storeOutputAutomatically) f.values[e.name] = id;
        } else {
          const fields: FlowRecord = {};
          for (const a of e.inputAssignments) fields[a.field] = asScalar(valueOf(f, a.value, env), a.field);
          const id = await host.createRecord(e.object!, fields, f.mode);
          if (e.assignRecordIdToReference) write(f, e.assignRecordIdToReference, id);
          if (e.storeOutputAutomatically) f.values[e.name] = id;
        }
        break;
      }
      case 'recordDelete': {
        if (e.inputReference) {
          const ids = recordsOf(resolve(f, e.inputReference, env), e.inputReference)
            .map((r) => r.Id)
            .filter((x): x is string => typeof x === 'string');
          if (ids.length) await host.deleteRecords(objectOfReference(def, e.inputReference)!, ids, f.mode);
        } else {
          const rows = await host.queryRecords(
            { object: e.object!, filters: filtersOf(e.filters), filterLogic: e.filterLogic, fields: ['Id'] },
            f.mode,
          );
          const ids = rows.map((r) => r.Id).filter((x): x is string => typeof x === 'string');
          if (ids.length) await host.deleteRecords(e.object!, ids, f.mode);
        }
        break;
      }
      default:
        throw new Error(`${e.kind} ${e.name} is not run by runElement`);
    }
    return { values: f.values, outputs: f.outputs };
  }

  // --- where an interview stands -------------------------------------------------------------
  function locate(run: InterviewRun, top: FlowDefinition): Located {
    let at = run.frame();
    let def = top;
    const frames: Array<{ def: FlowDefinition; frame: Frame }> = [];
    for (;;) {
      if (at.status === 'done') return frames.length === 0 ? { kind: 'done', output: at.output as FrameOutput } : { kind: 'busy' };
      if (at.status === 'error') return frames.length === 0 ? { kind: 'error', message: messageOf(at.error) } : { kind: 'busy' };
      frames.push({ def, frame: at.context as Frame });
      const el = def.elements[String(at.value)];
      if (!el) return { kind: 'busy' };
      if (el.kind === 'screen') return { kind: 'screen', frames, screen: el };
      if (el.kind !== 'subflow') return { kind: 'busy' };
      const child = at.children[el.name];
      if (!child) return { kind: 'busy' };
      at = child;
      def = defOf(el.flowName);
    }
  }

  /** Where a run the executor left at rest stands (a screen or the end: anything else is a fault of the run). */
  function settled(run: InterviewRun, top: FlowDefinition): Exclude<Located, { kind: 'busy' }> {
    const l = locate(run, top);
    if (l.kind === 'busy') throw new Error(`the interview of ${top.apiName} came to rest outside a screen`);
    return l;
  }

  /** The visible leaf fields of a screen (containers hidden with their children). */
  function visibleFields(def: FlowDefinition, frame: Frame, fields: ScreenField[]): ScreenField[] {
    const out: ScreenField[] = [];
    for (const f of fields) {
      let visible: boolean;
      try {
        visible = f.visibility === null || conditionsHold(frame, f.visibility, envOf(def, frame, true));
      } catch {
        visible = false;
      }
      if (!visible) continue;
      if (!CONTAINERS.has(f.fieldType)) out.push(f);
      out.push(...visibleFields(def, frame, f.fields));
    }
    return out;
  }

  function outputNamesOf(def: FlowDefinition, f: ScreenField): { names: string[]; required: string[] } {
    if (f.fieldType === 'InputField') return { names: ['value'], required: f.isRequired ? ['value'] : [] };
    if (f.fieldType !== 'ComponentInstance' || f.extensionName === WAIT_COMPONENT || f.extensionName === REDIRECT_COMPONENT)
      return { names: [], required: [] };
    if (!f.storeOutputAutomatically) {
      const names = f.outputs.map((o) => o.name);
      return {
        names: [...new Set([...names, ...(opts.componentAnswers?.[f.extensionName ?? ''] ?? [])])],
        required: f.isRequired ? names : [],
      };
    }
    const read = [...(referencedParams.get(def.apiName)?.get(f.name) ?? [])];
    const extra = opts.componentAnswers?.[f.extensionName ?? ''] ?? [];
    return { names: [...new Set([...read, ...extra, ...f.inputs.map((i) => i.name)])], required: f.isRequired ? read : [] };
  }

  function fieldInputs(def: FlowDefinition, frame: Frame, screen: ScreenElement, f: ScreenField): Record<string, FlowData> {
    const stored = frame.stored[screen.name]?.[f.name];
    const env = envOf(def, frame, true);
    if (f.fieldType === 'DisplayText') return { text: merge(frame, f.fieldText ?? '', env) };
    if (f.fieldType === 'InputField') return { value: frame.values[f.name] ?? null };
    const inputs: Record<string, FlowData> = {};
    for (const p of f.inputs) inputs[p.name] = valueOf(frame, p.value, env);
    // A revisit with UseStoredValues shows the values the component had when the buyer left it (its outputs included).
    return stored && f.inputsOnNextNavToAssocScrn === 'UseStoredValues' ? { ...inputs, ...structuredClone(stored) } : inputs;
  }

  /** What navigate accepts on a screen (its view's `availableActions`). */
  function availableActions(frame: Frame, screen: ScreenElement): ScreenView['availableActions'] {
    const actions: ScreenView['availableActions'] = [];
    if (screen.connector) actions.push('NEXT');
    else if (screen.allowFinish) actions.push('FINISH');
    if (screen.allowBack && frame.history.length >= 2) actions.push('BACK');
    if (screen.allowPause && screen.showFooter) actions.push('PAUSE');
    return actions;
  }

  /** The screen as the interview shows it; `visible`: its visible fields, when already worked out. */
  function screenView(def: FlowDefinition, frame: Frame, screen: ScreenElement, visible?: ScreenField[]): ScreenView {
    const fields: ScreenFieldView[] = (visible ?? visibleFields(def, frame, screen.fields)).map((f) => {
      const { names } = outputNamesOf(def, f);
      const inputs = fieldInputs(def, frame, screen, f);
      // Two literals rather than a spread followed by keys (V8's slow path on Node 20); the keys keep their order.
      return f.extensionName
        ? { name: f.name, fieldType: f.fieldType, extensionName: f.extensionName, inputs, outputNames: names, isRequired: f.isRequired }
        : { name: f.name, fieldType: f.fieldType, inputs, outputNames: names, isRequired: f.isRequired };
    });
    return { name: screen.name, label: screen.label, fields, availableActions: availableActions(frame, screen) };
  }

  function topFrameOutputs(run: InterviewRun, top: FlowDefinition): Record<string, FlowData> {
    return frameOutputs(top, run.frame().context as Frame);
  }

  /** The view of a run at rest; a wait screen whose session stopped processing is passed (the run moves on). */
  async function runToRest(run: InterviewRun, top: FlowDefinition, host: FlowHost): Promise<InterviewView> {
    let autos = 0;
    for (;;) {
      const l = settled(run, top);
      if (l.kind === 'done') {
        return l.output.error !== null
          ? { status: 'Error', currentElement: l.output.where.element, stack: l.output.where.stack, error: { message: l.output.error } }
          : { status: 'Finished', currentElement: null, stack: [top.apiName], outputs: l.output.outputs };
      }
      if (l.kind === 'error') return { status: 'Error', currentElement: null, stack: [top.apiName], error: { message: l.message } };
      const { def, frame } = l.frames[l.frames.length - 1];
      const stack = l.frames.map((x) => x.def.apiName);
      const fields = visibleFields(def, frame, l.screen.fields);
      const view = screenView(def, frame, l.screen, fields);
      const at = { currentElement: l.screen.name, stack, screen: view };
      const redirect = fields.find((f) => f.extensionName === REDIRECT_COMPONENT);
      if (redirect) {
        const inputs = fieldInputs(def, frame, l.screen, redirect);
        const recordId = inputs.recordId ?? null;
        return {
          status: 'Finished',
          ...at,
          redirect: { pageName: asText(inputs.pageName ?? null), recordId: recordId === null ? null : asText(recordId) },
          outputs: topFrameOutputs(run, top),
        };
      }
      const wait = fields.find((f) => f.extensionName === WAIT_COMPONENT);
      if (wait) {
        const sessionId = fieldInputs(def, frame, l.screen, wait).cartCheckoutSessionId ?? null;
        const processing = sessionId !== null && (await host.isSessionProcessing(asText(sessionId)));
        const move: NavigateAction | null = l.screen.connector ? 'NEXT' : l.screen.allowFinish ? 'FINISH' : null;
        if (processing || move === null) return { status: 'Waiting', ...at };
        if (++autos > stepLimit)
          return {
            status: 'Error',
            ...at,
            error: {
              message: `The flow ${def.apiName} passed its wait screen ${l.screen.name} more than the step limit (${stepLimit}) allows.`,
            },
          };
        await run.send({ type: move, outputs: {} });
        continue;
      }
      return { status: 'Paused', ...at };
    }
  }

  function restore(state: InterviewState, host: FlowHost): { run: InterviewRun; top: FlowDefinition } {
    const top = defOf(state.flowApiName);
    return { run: opts.executor.restore(machineOf(top.apiName), state.snapshot, handlersFor(host)), top };
  }

  function finish(run: InterviewRun, flowApiName: string, view: InterviewView): InterviewState {
    // The executor's persisted snapshot is plain data already (see InterviewRun.persisted).
    const snapshot = run.persisted();
    return { flowApiName, snapshot, view };
  }

  const runtime: FlowRuntimeExt = {
    flowNames: () => [...defs.keys()].sort(),
    definition: defOf,

    async start(flowApiName, inputs, host) {
      const top = defOf(flowApiName);
      for (const [name, value] of Object.entries(inputs ?? {})) {
        const v = top.variables.find((x) => x.name === name);
        if (!v || !v.isInput)
          throw new EngineError(
            'FLOW_INPUT_INVALID',
            `'${name}' is not an input variable of ${flowApiName} (inputs: ${
              top.variables
                .filter((x) => x.isInput)
                .map((x) => x.name)
                .join(', ') || 'none'
            })`,
            [name],
          );
        if (value !== null && (typeof value === 'object') !== (v.isCollection || v.dataType === 'SObject' || v.dataType === 'Apex'))
          throw new EngineError(
            'FLOW_INPUT_INVALID',
            `'${name}' takes ${v.isCollection ? 'a collection' : v.dataType === 'SObject' ? 'a record' : `a ${v.dataType}`}`,
            [name],
          );
      }
      const input: FrameInput = { inputs: inputs ?? {}, callerMode: 'user', userId: host.userId };
      const run = await opts.executor.start(machineOf(top.apiName), input, handlersFor(host));
      const view = await runToRest(run, top, host);
      return finish(run, top.apiName, view);
    },

    async navigate(state, nav, host) {
      if (state.view.status === 'Finished' || state.view.status === 'Error')
        throw refuse(`the interview is ${state.view.status === 'Finished' ? 'finished' : 'in error'}; start a new one`, ['action']);
      if (state.view.status === 'Waiting') return runtime.resume(state, host);
      const { run, top } = restore(state, host);
      const l = locate(run, top);
      if (l.kind !== 'screen') throw refuse('the interview is not at a screen', ['action']);
      const { def, frame } = l.frames[l.frames.length - 1];
      // What the checks below need of the screen: its actions and its visible fields (not their inputs).
      const actions = availableActions(frame, l.screen);
      if (!actions.includes(nav.action))
        throw refuse(
          `the action ${nav.action} isn't available on the screen ${l.screen.name} (available: ${actions.join(', ') || 'none'})`,
          ['action'],
        );
      const fields = visibleFields(def, frame, l.screen.fields);
      const answers = answersOf(nav.answers ?? {}, l.screen.name, fields, nav.action);
      for (const [fieldName, params] of Object.entries(answers)) {
        const f = fields.find((x) => x.name === fieldName);
        if (!f)
          throw refuse(
            `the screen ${l.screen.name} has no field '${fieldName}' (fields: ${fields.map((x) => x.name).join(', ') || 'none'})`,
            [fieldName],
          );
        const { names } = outputNamesOf(def, f);
        if (params === null || typeof params !== 'object' || Array.isArray(params))
          throw refuse(`the answer for '${fieldName}' must be an object of output parameters`, [fieldName]);
        for (const p of Object.keys(params))
          if (!names.includes(p))
            throw refuse(`the field '${fieldName}' has no output '${p}' (outputs: ${names.join(', ') || 'none'})`, [`${fieldName}.${p}`]);
      }
      if (nav.action === 'PAUSE') return finish(run, top.apiName, { ...state.view });
      if (nav.action === 'BACK') {
        await run.send({ type: 'BACK' });
      } else {
        for (const f of fields) {
          const { required } = outputNamesOf(def, f);
          const missing = required.filter((p) => !(p in (answers[f.name] ?? {})));
          if (missing.length)
            throw refuse(
              `the field '${f.name}' is required: answer ${missing.join(', ')}`,
              missing.map((p) => `${f.name}.${p}`),
            );
        }
        const outputs: ScreenOutputs = {};
        for (const f of fields) {
          const given = answers[f.name] ?? {};
          if (f.fieldType === 'ComponentInstance' && f.extensionName !== WAIT_COMPONENT && f.extensionName !== REDIRECT_COMPONENT) {
            const result = await host.runComponent(f.extensionName ?? '', fieldInputs(def, frame, l.screen, f), given);
            const { names } = outputNamesOf(def, f);
            outputs[f.name] = Object.fromEntries(Object.entries(result ?? given).filter(([k]) => names.includes(k)));
          } else if (f.fieldType === 'InputField' && 'value' in given) outputs[f.name] = { value: given.value };
        }
        await run.send({ type: nav.action, outputs });
      }
      const next = await runToRest(run, top, host);
      return finish(run, top.apiName, next);
    },

    async resume(state, host) {
      if (state.view.status !== 'Waiting') return state;
      const { run, top } = restore(state, host);
      const view = await runToRest(run, top, host);
      return finish(run, top.apiName, view);
    },

    flowMachine: (apiName) => machineOf(apiName),

    flowGraph(apiName) {
      const def = defOf(apiName);
      const nodes: FlowGraph['nodes'] = Object.values(def.elements).map((e) => ({
        id: e.name,
        kind: e.kind,
        label: e.label,
        ...(e.kind === 'subflow' ? { subflow: e.flowName } : {}),
      }));
      const edges: FlowGraph['edges'] = Object.values(def.elements).flatMap((e) =>
        elementConnectors(e).map((c) => ({ from: e.name, to: c.target, kind: c.kind })),
      );
      return { flow: apiName, start: def.start, nodes, edges };
    },
  };
  return runtime;
}

/**
 * The answers as the runtime reads them: keyed by field name, or wrapped once in the screen's name
 * (`{ Shipping_Options: { Shipping: { … } } }`, when no field has the screen's name); a navigation
 * buttons field that isn't answered gets the navigate's action as its `selectedAction`.
 */
function answersOf(given: ScreenOutputs, screenName: string, fields: ScreenField[], action: string): ScreenOutputs {
  const keys = Object.keys(given);
  const wrapped = keys.length === 1 && keys[0] === screenName && !fields.some((f) => f.name === screenName);
  const inner = given[screenName] as unknown;
  const answers: ScreenOutputs =
    wrapped && inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? { ...(inner as ScreenOutputs) } : { ...given };
  for (const f of fields) {
    if (f.extensionName !== NAVIGATION_BUTTONS_COMPONENT) continue;
    const a = answers[f.name];
    if (a === undefined) answers[f.name] = { selectedAction: action };
    else if (a !== null && typeof a === 'object' && !Array.isArray(a) && !('selectedAction' in a))
      answers[f.name] = { ...a, selectedAction: action };
  }
  return answers;
}

function asScalar(v: FlowData, field: string): FlowData & (string | number | boolean | null) {
  if (v !== null && typeof v === 'object')
    throw new Error(`the value for ${field} is a ${Array.isArray(v) ? 'collection' : 'record'}, not a field value`);
  return v;
}

function recordsOf(v: FlowData, ref: string): FlowRecord[] {
  if (v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((r) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new Error(`${ref} does not hold records`);
    return r;
  });
}
