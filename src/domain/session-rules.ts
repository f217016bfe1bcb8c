/**
 * Pure rules for moving a checkout session between states: the compare-and-set claim of
 * `updateCheckoutSessionStateAction`, the direct State write of a screen step, the record write of
 * the other session fields, and a buyer's closing write of the cart. Each returns the problem (an
 * error-table key and a detail naming what was wrong) or null. State and NextState are compared by
 * what they resolve to in the flow (key, label or alias, case-insensitive), never by spelling, and
 * the flow's convention (src/domain/flow.ts) decides which step a claim names.
 */
import { ERROR_STATE, type CompiledFlow } from './flow.js';
import type { ErrorKey } from '../errors.js';

/** Why a session refused an event. */
export interface Rejection {
  readonly error: ErrorKey;
  readonly detail?: string;
  /** For step actions: the number of the usage requirement that failed. */
  readonly requirement?: number;
  /** For record writes: the field the refusal is about. */
  readonly field?: string;
}

/** The session fields these rules read. */
export interface SessionState {
  readonly State: string | null;
  readonly NextState: string | null;
  readonly IsProcessing: boolean;
  readonly IsError: boolean;
  readonly IsArchived: boolean;
}

/** The session with State and NextState resolved to the flow's keys (unknown values stay as written). */
export function resolvedSession<T extends SessionState>(s: T, flow: CompiledFlow): T {
  return {
    ...s,
    State: s.State === null ? null : (flow.resolve(s.State) ?? s.State),
    NextState: s.NextState === null ? null : (flow.resolve(s.NextState) ?? s.NextState),
  };
}

/** Whether `nextState` may be claimed when the caller expects the session at `expCurrentState`. */
export function claimProblem(raw: SessionState, flow: CompiledFlow, expCurrentState: string, nextState: string): Rejection | null {
  const s = resolvedSession(raw, flow);
  const exp = flow.resolve(expCurrentState);
  const to = flow.resolve(nextState);
  if (s.IsArchived) return { error: 'INVALID_SESSION_ID', detail: 'The session is archived.' };
  const broken = sessionRowProblem(raw, flow);
  if (broken) return { error: 'STATE_MISMATCH', detail: `The session can't be restored: ${broken}; cancel the checkout and start again.` };
  if (!exp || s.State !== exp) {
    return { error: 'STATE_MISMATCH', detail: `Expected state '${expCurrentState}' but the session is in '${raw.State}'.` };
  }
  if (s.IsError) return { error: 'STATE_MISMATCH', detail: 'The session is in error; cancel the checkout and start again.' };
  if (s.IsProcessing) {
    return { error: 'STATE_MISMATCH', detail: `A step is already in flight (NextState '${raw.NextState}').` };
  }
  const allowed = flow.next.get(s.State ?? '') ?? [];
  if (!to || !allowed.includes(to)) {
    return {
      error: 'STATE_MISMATCH',
      detail: `'${nextState}' can't follow '${raw.State}' in flow '${flow.def.id}' (allowed: ${allowed.join(', ') || 'none'}).`,
    };
  }
  return null;
}

/**
 * Whether a direct write of State (a screen step) to `to` is allowed. Under the source convention
 * State moves to the next screen or final state; under the template convention State moves from a
 * screen (or sync) step to its successor, whatever kind that is.
 */
export function moveProblem(raw: SessionState, flow: CompiledFlow, to: string): Rejection | null {
  const s = resolvedSession(raw, flow);
  const target = flow.resolve(to);
  if (s.IsArchived) return { error: 'INVALID_STATE_CHANGE', detail: 'The session is archived.' };
  if (s.IsError) return { error: 'INVALID_STATE_CHANGE', detail: 'The session is in error; cancel the checkout and start again.' };
  const broken = sessionRowProblem(raw, flow);
  if (broken)
    return { error: 'INVALID_STATE_CHANGE', detail: `The session can't be restored: ${broken}; cancel the checkout and start again.` };
  if (s.IsProcessing) return { error: 'INVALID_STATE_CHANGE', detail: `A step is in flight (NextState '${raw.NextState}').` };
  const allowed = flow.next.get(s.State ?? '') ?? [];
  const names = allowed.join(', ') || 'none';
  if (!target || !allowed.includes(target)) {
    return { error: 'INVALID_STATE_CHANGE', detail: `'${to}' isn't the flow's next state after '${raw.State}' (allowed: ${names}).` };
  }
  const here = flow.steps.get(s.State ?? '');
  const step = flow.steps.get(target)!;
  if (flow.convention.runs === 'state') {
    if (!here || (here.kind !== 'screen' && !(here.kind === 'sync' && flow.convention.writeLeavesSync))) {
      return {
        error: 'INVALID_STATE_CHANGE',
        detail: `'${raw.State}' is an ${here?.kind} step: claim '${step.label}' with updateCheckoutSessionStateAction and run ${here?.action}.`,
      };
    }
    return null;
  }
  if (step.kind !== 'screen' && step.kind !== 'final') {
    return {
      error: 'INVALID_STATE_CHANGE',
      detail: `'${to}' is an ${step.kind} step: claim it with updateCheckoutSessionStateAction and run its action.`,
    };
  }
  return null;
}

/**
 * Why a session row can't be restored as a state of `flow`, or null when it can. Archived and
 * error rows always restore (to `archived` / `error`); otherwise State must name a state of the flow
 * (key, label or alias). Under the source convention a row that is processing must name as
 * NextState an async or sync step the flow allows after State (NextState is ignored while nothing
 * is processing: the next claim overwrites it). Under the template convention State is the step
 * about to run, and a NextState, when set, must be a state the flow allows after State.
 */
export function sessionRowProblem(raw: SessionState, flow: CompiledFlow): string | null {
  if (raw.IsArchived || raw.IsError || raw.State === ERROR_STATE) return null;
  if (typeof raw.State !== 'string' || !raw.State.trim()) return 'its State is empty';
  const state = flow.resolve(raw.State);
  if (!state) return `State '${raw.State}' isn't a state of flow '${flow.def.id}'`;
  const template = flow.convention.runs === 'state';
  if (!raw.IsProcessing && !template) return null;
  const nextRaw = raw.NextState;
  if (typeof nextRaw !== 'string' || !nextRaw.trim()) {
    return raw.IsProcessing ? `IsProcessing is true but NextState is empty (State '${raw.State}')` : null;
  }
  const next = flow.resolve(nextRaw);
  if (!next) return `NextState '${nextRaw}' isn't a state of flow '${flow.def.id}'`;
  if (!template) {
    const kind = flow.steps.get(next)!.kind;
    if (kind !== 'async' && kind !== 'sync') return `NextState '${nextRaw}' is a ${kind} step, which nothing processes`;
  }
  if (!(flow.next.get(state) ?? []).includes(next)) {
    return `NextState '${nextRaw}' can't follow State '${raw.State}' in flow '${flow.def.id}'`;
  }
  return null;
}

/** A record write of a session, as the events the statechart is offered. */
export type SessionWriteEvent = { type: 'SET_STATE'; state: string } | { type: 'CLAIM'; expCurrentState: string; nextState: string };

/** The session fields a record write may name, and that only the statechart changes. */
export const SESSION_MACHINE_FIELDS = [
  'State',
  'NextState',
  'IsProcessing',
  'IsError',
  'IsArchived',
  'BackgroundOperationId',
  'OrderId',
] as const;

/**
 * Turns a record write of CartCheckoutSession into statechart events: `State` is a screen step's
 * move, `NextState` is a claim from the (new) State — the template's `NextState := 'Authorize
 * Payment'` — and both together are the move then the claim (`State := 'Pre-Pricing', NextState :=
 * 'Post-Pricing'`). A NextState the flow doesn't know, or clearing a NextState, is a rejection.
 */
export function sessionWriteEvents(
  raw: SessionState,
  flow: CompiledFlow,
  values: Readonly<Record<string, unknown>>,
): SessionWriteEvent[] | Rejection {
  const events: SessionWriteEvent[] = [];
  let current = raw.State;
  if ('State' in values) {
    const state = values.State;
    if (typeof state !== 'string' || !flow.resolve(state)) {
      return { error: 'INVALID_STATE_CHANGE', field: 'State', detail: `'${String(state)}' isn't a state of flow '${flow.def.id}'.` };
    }
    if (flow.resolve(state) !== flow.resolve(raw.State) || raw.State === null) events.push({ type: 'SET_STATE', state });
    current = state;
  }
  if ('NextState' in values) {
    const next = values.NextState;
    const same =
      next === raw.NextState || (typeof next === 'string' && raw.NextState !== null && flow.resolve(next) === flow.resolve(raw.NextState));
    if (same && events.length === 0) return events;
    if (typeof next !== 'string' || !flow.resolve(next)) {
      return {
        error: 'SESSION_FIELD_NOT_WRITABLE',
        field: 'NextState',
        detail: `NextState '${String(next)}' isn't a state of flow '${flow.def.id}' that can follow '${String(current)}'.`,
      };
    }
    events.push({ type: 'CLAIM', expCurrentState: String(current), nextState: next });
  }
  return events;
}

/**
 * After the events of a write were applied: every other statechart field the write names must hold
 * the value the statechart gave it (writing IsProcessing = false where it is false is fine; turning
 * it on, or setting OrderId, IsError, IsArchived or BackgroundOperationId by hand, is not).
 */
export function sessionFieldProblem(after: Readonly<Record<string, unknown>>, values: Readonly<Record<string, unknown>>): Rejection | null {
  for (const f of SESSION_MACHINE_FIELDS) {
    if (f === 'State' || f === 'NextState' || !(f in values)) continue;
    if ((values[f] ?? null) !== (after[f] ?? null)) {
      return {
        error: 'SESSION_FIELD_NOT_WRITABLE',
        field: f,
        detail: `CartCheckoutSession.${f} can't be set to ${JSON.stringify(values[f])} here: the flow's statechart sets it (it is ${JSON.stringify(after[f] ?? null)}).`,
      };
    }
  }
  return null;
}

/** Whether a BackgroundOperation status means the operation is still in flight. */
export function operationInFlight(status: unknown): boolean {
  return status === 'New' || status === 'Running';
}

/**
 * Whether a buyer may write a cart in Checkout to Closed: only in a flow whose convention lets the
 * buyer close it (the Re-entrant template's Order Confirmation), only when the session's order is
 * activated and the session is at, or has claimed, a final state.
 */
export function closeCartProblem(raw: SessionState | null, flow: CompiledFlow | null, orderStatus: string | null): Rejection | null {
  const refuse = (detail: string): Rejection => ({ error: 'CART_STATUS_MANAGED', field: 'Status', detail });
  if (!raw || !flow || raw.IsArchived) return refuse('The cart has no active checkout session.');
  if (!flow.convention.buyerClosesCart) return refuse(`Flow '${flow.def.id}' closes the cart itself when the checkout completes.`);
  if (orderStatus !== 'Activated') return refuse("The checkout's order isn't activated yet.");
  const s = resolvedSession(raw, flow);
  const atEnd = [s.State, s.NextState].some((k) => k !== null && flow.steps.get(k)?.kind === 'final');
  if (!atEnd || s.IsProcessing || s.IsError)
    return refuse('The checkout session has not reached its confirmation (claim its final state first).');
  return null;
}
