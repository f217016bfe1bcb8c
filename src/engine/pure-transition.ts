/**
 * XState's pure `initialTransition()` / `transition()`, over an actor scope built once per machine.
 * Both helpers of XState create a fresh actor on every call, whose constructor eagerly computes the
 * machine's initial snapshot (for a flow machine without input: a context factory that throws, caught
 * by the actor) before the real transition runs — a cost paid on every session event and every
 * interview step. The scope's actor is never started, nothing registers in its system (only started
 * actors and `systemId`s do), and each call brings its own action executor that only collects the
 * actions, so sharing the scope across calls changes nothing the transition computes. Used by the
 * session kernel (src/engine/sessions.ts) and the interview machines (src/engine/interview-machines.ts);
 * the actions are carried out by the executor (`executeActions`, src/engine/steps.ts).
 */
import {
  createActor,
  type AnyActorRef,
  type AnyActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  type ExecutableActionObject,
} from 'xstate';

/** An action a transition returned, for the executor. */
type MachineAction = ExecutableActionObject;

type InertScope = Omit<AnyActorScope, 'actionExecutor'>;

const scopes = new WeakMap<AnyStateMachine, InertScope>();

/** The machine's inert scope (see the module comment), built on first use. */
function scopeOf(machine: AnyStateMachine): InertScope {
  let scope = scopes.get(machine);
  if (!scope) {
    const self = createActor(machine) as unknown as AnyActorRef;
    scope = {
      self,
      defer: () => {},
      id: '',
      logger: () => {},
      sessionId: '',
      stopChild: () => {},
      system: self.system,
      emit: () => {},
    };
    scopes.set(machine, scope);
  }
  return scope;
}

/**
 * `initialTransition(machine, input)` when `snapshot` is null, else `transition(machine, snapshot, event)`:
 * the next snapshot and the actions it asks for, nothing executed.
 */
export function pureTransition<S extends AnyMachineSnapshot = AnyMachineSnapshot>(
  machine: AnyStateMachine,
  snapshot: S | null,
  arg: unknown,
): [S, MachineAction[]] {
  const actions: MachineAction[] = [];
  const inert = scopeOf(machine);
  // One object literal: on Node 20 a spread copy given a key its source lacks (`{ ...inert, actionExecutor }`)
  // takes V8's slow path every time (several µs per transition).
  const scope: AnyActorScope = {
    self: inert.self,
    defer: inert.defer,
    id: inert.id,
    logger: inert.logger,
    sessionId: inert.sessionId,
    stopChild: inert.stopChild,
    system: inert.system,
    emit: inert.emit,
    actionExecutor: (a) => void actions.push(a as MachineAction),
  };
  const next = snapshot
    ? machine.transition(snapshot, arg as EventObject, scope as never)
    : machine.getInitialSnapshot(scope as never, arg);
  return [next as S, actions];
}
