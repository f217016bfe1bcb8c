/**
 * The checkout session statechart. One machine per flow definition, generated from it: each flow
 * step is a state; async steps have a `running` substate that invokes the step's service. Guards,
 * actions and the actor are named in `setup()`; the engine supplies the real `runStep` with
 * `machine.provide` and, for durability, drives the machine with XState's pure `transition()`
 * (see src/engine/sessions.ts). No I/O, clocks or ids here.
 */
import { assign, fromPromise, setup, type AnyStateMachine } from 'xstate';
import { firstFailedRequirement, rejectionFor, STEP_REQUIREMENTS, type RequirementFacts } from '../domain/requirements.js';
import { claimProblem, moveProblem, resolvedSession, sessionRowProblem, type Rejection } from '../domain/session-rules.js';
import { ERROR_STATE, type CompiledFlow } from '../domain/flow.js';

/** Bumped whenever the machine's shape changes incompatibly; stored with every snapshot. */
export const MACHINE_VERSION = 1;

/** Machine id; state ids are `#checkoutSession.<key>`. */
export const MACHINE_ID = 'checkoutSession';

/** The state a session row is restored into when it names no state its flow can be in. */
export const UNRESTORABLE_STATE = 'unrestorable';

// Keyed by the machine's config, which `machine.provide(...)` keeps, so provided copies find it too.
const FLOW_OF = new WeakMap<object, CompiledFlow>();

/** The flow a machine (or a `provide`d copy of it) was generated from. */
export function flowOfMachine(machine: AnyStateMachine): CompiledFlow | undefined {
  return FLOW_OF.get(machine.config as object);
}

/** The session record fields the machine owns, plus the last rejection. */
export interface SessionContext {
  sessionId: string;
  cartId: string;
  State: string | null;
  NextState: string | null;
  IsProcessing: boolean;
  IsError: boolean;
  IsArchived: boolean;
  BackgroundOperationId: string | null;
  OrderId: string | null;
  /** Set when the last event was refused; never persisted. */
  rejection: Rejection | null;
}

/** Input of the `runStep` actor: which step's service to run, and for which operation. */
export interface RunStepInput {
  step: string;
  operationId: string;
  sessionId: string;
  cartId: string;
}

/** Output of a successful step. */
export interface StepOutput {
  OrderId?: string | null;
}

/** Events the session accepts. */
export type SessionEvent =
  | { type: 'CLAIM'; expCurrentState: string; nextState: string }
  | { type: 'STEP'; step: string; facts: RequirementFacts; operationId: string }
  | { type: 'SET_STATE'; state: string }
  | { type: 'CANCEL' }
  | { type: 'xstate.done.actor.step'; output: StepOutput }
  | { type: 'xstate.error.actor.step'; error: unknown };

const sessionState = (c: SessionContext) => ({
  State: c.State,
  NextState: c.NextState,
  IsProcessing: c.IsProcessing,
  IsError: c.IsError,
  IsArchived: c.IsArchived,
});

/**
 * Builds the statechart for a validated flow. The flow's convention (src/domain/flow.ts) shapes it:
 * under `source` a step S is claimed from its predecessor (`P.claimed_S`) and runs as `S.running`;
 * under `template` S is claimed with its successor T while State = S (`S.claimed_T`) and runs as
 * `S.running_T`, ending in T. State and NextState hold what the caller wrote; guards compare what
 * they resolve to.
 */
export function createCheckoutSessionMachine(flow: CompiledFlow) {
  const conv = flow.convention;
  const written = (event: SessionEvent): string | null => {
    const raw = event.type === 'CLAIM' ? event.nextState : event.type === 'SET_STATE' ? event.state : null;
    return raw === null || conv.storesAsWritten ? raw : (flow.resolve(raw) ?? raw);
  };
  // The facts a step's requirements see: the session resolved to the flow's keys, and why its row
  // can't be restored (if it can't).
  const stepFacts = (context: SessionContext, facts: RequirementFacts): RequirementFacts => {
    const s = resolvedSession(sessionState(context), flow);
    // One object literal (a spread copy given a new key, `problem`, takes V8's slow path on every call on Node 20).
    const session = {
      State: s.State,
      NextState: s.NextState,
      IsProcessing: s.IsProcessing,
      IsError: s.IsError,
      IsArchived: s.IsArchived,
      problem: sessionRowProblem(sessionState(context), flow),
    };
    return { ...facts, session };
  };
  const base = setup({
    types: {} as { context: SessionContext; events: SessionEvent; input: SessionContext },
    actors: {
      // Replaced by the engine (machine.provide); this default refuses so a machine run without an
      // engine fails the step visibly instead of pretending to succeed.
      runStep: fromPromise<StepOutput, RunStepInput>(async ({ input }) => {
        throw new Error(`no step service provided for '${input.step}'`);
      }),
    },
    guards: {
      canClaim: ({ context, event }, p: { to: string }) =>
        event.type === 'CLAIM' &&
        flow.resolve(event.nextState) === p.to &&
        claimProblem(sessionState(context), flow, event.expCurrentState, event.nextState) === null,
      canMoveTo: ({ context, event }, p: { to: string }) =>
        event.type === 'SET_STATE' && flow.resolve(event.state) === p.to && moveProblem(sessionState(context), flow, event.state) === null,
      stepRequirementsMet: ({ context, event }, p: { step: string }) =>
        event.type === 'STEP' &&
        event.step === p.step &&
        firstFailedRequirement(stepFacts(context, event.facts), p.step, STEP_REQUIREMENTS, conv.name) === null,
    },
    actions: {
      claim: assign(({ context, event }) => ({
        NextState: written(event),
        IsProcessing: conv.claimSetsProcessing ? true : context.IsProcessing,
        rejection: null,
      })),
      moveState: assign(({ context, event }) => ({
        State: written(event),
        // The template's "Update Checkout State" writes State only; the source convention clears NextState.
        NextState: conv.name === 'template' && event.type === 'SET_STATE' ? context.NextState : null,
        IsProcessing: false,
        rejection: null,
      })),
      startStep: assign(({ event }) => ({
        BackgroundOperationId: event.type === 'STEP' ? event.operationId : null,
        IsProcessing: true,
        rejection: null,
      })),
      completeStep: assign(({ context, event }, p: { step: string }) => ({
        State: conv.completeTo === 'nextState' ? context.NextState : p.step,
        NextState: null,
        IsProcessing: false,
        OrderId: (event.type === 'xstate.done.actor.step' ? event.output?.OrderId : undefined) ?? context.OrderId,
        rejection: null,
      })),
      failStep: assign((_, p: { target: string }) => ({
        State: p.target,
        NextState: null,
        IsProcessing: false,
        IsError: p.target === ERROR_STATE,
        rejection: null,
      })),
      archive: assign({ IsArchived: true, IsProcessing: false, rejection: null }),
      rejectClaim: assign(({ context, event }) => ({
        rejection:
          event.type === 'CLAIM'
            ? (claimProblem(sessionState(context), flow, event.expCurrentState, event.nextState) ?? {
                error: 'STATE_MISMATCH' as const,
                detail: `'${event.nextState}' can't be claimed from '${context.State}'.`,
              })
            : null,
      })),
      rejectMove: assign(({ context, event }) => ({
        rejection:
          event.type === 'SET_STATE'
            ? (moveProblem(sessionState(context), flow, event.state) ?? {
                error: 'INVALID_STATE_CHANGE' as const,
                detail: `'${event.state}' can't follow '${context.State}'.`,
              })
            : null,
      })),
      rejectStep: assign(({ context, event }) => {
        if (event.type !== 'STEP') return {};
        const facts = stepFacts(context, event.facts);
        const failed = firstFailedRequirement(facts, event.step, STEP_REQUIREMENTS, conv.name);
        return {
          rejection: failed
            ? rejectionFor(failed, facts)
            : {
                error: 'SESSION_NOT_READY' as const,
                requirement: 7,
                detail: `The session isn't waiting for '${flow.steps.get(event.step)?.label ?? event.step}'.`,
              },
        };
      }),
    },
  });

  const stateId = (key: string) => `#${MACHINE_ID}.${key}`;
  /** The invocation of a step's service: done → `doneTarget` (completeStep), error → the state `failKey` (failStep). */
  const runStepInvoke = (key: string, doneTarget: string, failKey: string) => ({
    id: 'step',
    src: 'runStep',
    input: ({ context }: { context: SessionContext }) => ({
      step: key,
      operationId: context.BackgroundOperationId!,
      sessionId: context.sessionId,
      cartId: context.cartId,
    }),
    onDone: { target: doneTarget, actions: { type: 'completeStep', params: { step: key } } },
    onError: { target: stateId(failKey), actions: { type: 'failStep', params: { target: failKey } } },
  });
  const runs = (key: string) => {
    const k = flow.steps.get(key)!.kind;
    return k === 'async' || k === 'sync';
  };
  const states: Record<string, any> = {};
  for (const step of flow.steps.values()) {
    const next = flow.next.get(step.key) ?? [];
    if (step.kind === 'final') {
      states[step.key] = { type: 'final', description: step.description ?? step.label, meta: { label: step.label, kind: step.kind } };
      continue;
    }
    const failTarget = step.onError ?? ERROR_STATE;
    const node: Record<string, any> = {
      description: step.description ?? step.label,
      meta: { label: step.label, kind: step.kind, action: step.action },
      initial: 'idle',
      states: {},
    };
    if (conv.runs === 'nextState') {
      const claimable = next.filter(runs);
      const movable = next.filter((t) => !claimable.includes(t));
      node.states.idle = {
        description: `State = ${step.key}, nothing in flight.`,
        on: {
          CLAIM: [
            ...claimable.map((t) => ({ guard: { type: 'canClaim', params: { to: t } }, target: `claimed_${t}`, actions: 'claim' })),
            // A claim of a screen or final state completes at once (Order Confirmation → Complete).
            ...movable.map((t) => ({ guard: { type: 'canClaim', params: { to: t } }, target: stateId(t), actions: 'moveState' })),
          ],
          SET_STATE: movable.map((t) => ({ guard: { type: 'canMoveTo', params: { to: t } }, target: stateId(t), actions: 'moveState' })),
        },
      };
      for (const t of claimable) {
        node.states[`claimed_${t}`] = {
          description: `NextState = ${t}, IsProcessing = true: waiting for ${flow.steps.get(t)!.action}.`,
          on: {
            STEP: { guard: { type: 'stepRequirementsMet', params: { step: t } }, target: `${stateId(t)}.running`, actions: 'startStep' },
          },
        };
      }
      if (runs(step.key)) {
        node.states.running = {
          description: `${step.action} is running as a BackgroundOperation.`,
          invoke: runStepInvoke(step.key, 'idle', failTarget),
        };
      }
    } else {
      // Template convention: State = this step; a claim names the successor; this step's action runs.
      const writable = step.kind === 'screen' || (step.kind === 'sync' && conv.writeLeavesSync);
      const claims = next.map((t) => ({ guard: { type: 'canClaim', params: { to: t } }, target: `.claimed_${t}`, actions: 'claim' }));
      const moves = writable
        ? next.map((t) => ({ guard: { type: 'canMoveTo', params: { to: t } }, target: stateId(t), actions: 'moveState' }))
        : [];
      node.on = { CLAIM: claims, SET_STATE: moves };
      node.states.idle = { description: `State = ${step.label}, NextState empty.` };
      for (const t of next) {
        const label = flow.steps.get(t)!.label;
        node.states[`claimed_${t}`] = runs(step.key)
          ? {
              description: `NextState = ${label}: waiting for ${step.action}.`,
              on: {
                STEP: { guard: { type: 'stepRequirementsMet', params: { step: step.key } }, target: `running_${t}`, actions: 'startStep' },
              },
            }
          : { description: `NextState = ${label}.` };
        if (runs(step.key)) {
          node.states[`running_${t}`] = {
            description: `${step.action} is running; on completion State := NextState (${label}).`,
            invoke: runStepInvoke(step.key, stateId(t), failTarget),
          };
        }
      }
    }
    states[step.key] = node;
  }
  states[ERROR_STATE] = {
    description: 'A step failed: IsError = true. The way out is cancel and a new checkout.',
    meta: { label: 'Error', kind: 'terminal' },
  };
  states[UNRESTORABLE_STATE] = {
    description:
      "The stored row names no state this flow can be in (empty or unknown State, a NextState that can't follow it). Every claim, move and step is refused with the requirement it breaks; cancel archives it.",
    meta: { label: 'Unrestorable', kind: 'terminal' },
  };
  states.archived = {
    type: 'final',
    description: 'Canceled or expired: IsArchived = true; the cart is unlocked.',
    meta: { label: 'Archived', kind: 'final' },
  };

  const machine = base.createMachine({
    id: MACHINE_ID,
    context: ({ input }) => input,
    initial: flow.def.steps[0]!.key,
    states,
    on: {
      CLAIM: { actions: 'rejectClaim' },
      SET_STATE: { actions: 'rejectMove' },
      STEP: { actions: 'rejectStep' },
      CANCEL: { target: '.archived', actions: 'archive' },
    },
  }) as unknown as AnyStateMachine;
  FLOW_OF.set(machine.config as object, flow);
  return machine;
}

/**
 * Whether a state value is `step` running its operation: `{ step: 'running' }` under the source
 * convention, `{ step: 'running_<successor>' }` under the template convention.
 */
export function isRunningStep(value: unknown, step: string): boolean {
  const sub = value && typeof value === 'object' ? (value as Record<string, unknown>)[step] : undefined;
  return typeof sub === 'string' && (sub === 'running' || sub.startsWith('running_'));
}
