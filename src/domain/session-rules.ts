/**
 * Pure rules for moving a checkout session between states: the compare-and-set claim of
 * `updateCheckoutSessionStateAction` and the direct State write of a screen step. Each returns the
 * problem (an error-table key and a detail naming what was wrong) or null.
 */
import type { CompiledFlow } from '../../machines/flow.js';
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
