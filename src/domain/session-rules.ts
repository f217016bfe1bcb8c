/**
 * Pure rules for moving a checkout session between states: the compare-and-set claim of
 * `updateCheckoutSessionStateAction` and the direct State write of a screen step. Each returns the
 * problem (an error-table key and a detail naming what was wrong) or null.
 */
import { ERROR_STATE, type CompiledFlow } from '../../machines/flow.js';
import type { ErrorKey } from '../errors.js';

/** Why a session refused an event. */
export interface Rejection {
  readonly error: ErrorKey;
  readonly detail?: string;
  /** For step actions: the number of the usage requirement that failed. */
  readonly requirement?: number;
}

/** The session fields these rules read. */
export interface SessionState {
  readonly State: string | null;
  readonly NextState: string | null;
  readonly IsProcessing: boolean;
  readonly IsError: boolean;
  readonly IsArchived: boolean;
}

/** Whether `nextState` may be claimed when the caller expects the session at `expCurrentState`. */
export function claimProblem(s: SessionState, flow: CompiledFlow, expCurrentState: string, nextState: string): Rejection | null {
  if (s.IsArchived) return { error: 'INVALID_SESSION_ID', detail: 'The session is archived.' };
  const broken = sessionRowProblem(s, flow);
  if (broken) return { error: 'STATE_MISMATCH', detail: `The session can't be restored: ${broken}; cancel the checkout and start again.` };
  if (s.State !== expCurrentState) {
    return { error: 'STATE_MISMATCH', detail: `Expected state '${expCurrentState}' but the session is in '${s.State}'.` };
  }
  if (s.IsError) return { error: 'STATE_MISMATCH', detail: 'The session is in error; cancel the checkout and start again.' };
  if (s.IsProcessing) {
    return { error: 'STATE_MISMATCH', detail: `A step is already in flight (NextState '${s.NextState}').` };
  }
  const allowed = flow.next.get(s.State ?? '') ?? [];
  if (!allowed.includes(nextState)) {
    return {
      error: 'STATE_MISMATCH',
      detail: `'${nextState}' can't follow '${s.State}' in flow '${flow.def.id}' (allowed: ${allowed.join(', ') || 'none'}).`,
    };
  }
  return null;
}

/** Whether a direct write of State (a screen step) to `to` is allowed. */
export function moveProblem(s: SessionState, flow: CompiledFlow, to: string): Rejection | null {
  if (s.IsArchived) return { error: 'INVALID_STATE_CHANGE', detail: 'The session is archived.' };
  if (s.IsError) return { error: 'INVALID_STATE_CHANGE', detail: 'The session is in error; cancel the checkout and start again.' };
  const broken = sessionRowProblem(s, flow);
  if (broken) return { error: 'INVALID_STATE_CHANGE', detail: `The session can't be restored: ${broken}; cancel the checkout and start again.` };
  if (s.IsProcessing) return { error: 'INVALID_STATE_CHANGE', detail: `A step is in flight (NextState '${s.NextState}').` };
  const allowed = flow.next.get(s.State ?? '') ?? [];
  const target = flow.steps.get(to);
  if (!allowed.includes(to)) {
    return { error: 'INVALID_STATE_CHANGE', detail: `'${to}' isn't the flow's next state after '${s.State}' (allowed: ${allowed.join(', ') || 'none'}).` };
  }
  if (!target || (target.kind !== 'screen' && target.kind !== 'final')) {
    return { error: 'INVALID_STATE_CHANGE', detail: `'${to}' is an ${target?.kind} step: claim it with updateCheckoutSessionStateAction and run its action.` };
  }
  return null;
}

/**
 * Why a session row can't be restored as a state of `flow`, or null when it can. Archived and
 * error rows always restore (to `archived` / `error`); otherwise State must be a state of the flow,
 * and a row that is processing must name as NextState an async or sync step the flow allows after
 * State. NextState is ignored while nothing is processing (the next claim overwrites it).
 */
export function sessionRowProblem(s: SessionState, flow: CompiledFlow): string | null {
  if (s.IsArchived || s.IsError || s.State === ERROR_STATE) return null;
  if (typeof s.State !== 'string' || !s.State.trim()) return 'its State is empty';
  const here = flow.steps.get(s.State);
  if (!here) return `State '${s.State}' isn't a state of flow '${flow.def.id}'`;
  if (!s.IsProcessing) return null;
  if (typeof s.NextState !== 'string' || !s.NextState.trim()) return `IsProcessing is true but NextState is empty (State '${s.State}')`;
  const next = flow.steps.get(s.NextState);
  if (!next) return `NextState '${s.NextState}' isn't a state of flow '${flow.def.id}'`;
  if (next.kind !== 'async' && next.kind !== 'sync') return `NextState '${s.NextState}' is a ${next.kind} step, which nothing processes`;
  if (!(flow.next.get(s.State) ?? []).includes(s.NextState)) {
    return `NextState '${s.NextState}' can't follow State '${s.State}' in flow '${flow.def.id}'`;
  }
  return null;
}

/** Whether a BackgroundOperation status means the operation is still in flight. */
export function operationInFlight(status: unknown): boolean {
  return status === 'New' || status === 'Running';
}
