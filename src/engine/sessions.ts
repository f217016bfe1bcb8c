/**
 * Session persistence: the only place a session actor is restored and the only place a session's
 * new state is written. The database row is the truth; the statechart runs as XState's pure
 * `transition()` over the restored snapshot, and the result is written back with a compare-and-set
 * on the row's `_version`, so concurrent writers (threads of one process or many processes) never
 * lose an update: the loser re-reads and re-decides.
 */
import { transition, type AnyStateMachine } from 'xstate';
import { flowOfMachine, MACHINE_VERSION, UNRESTORABLE_STATE, type SessionContext, type SessionEvent } from '../../machines/checkout-session.js';
import { ERROR_STATE, type CompiledFlow } from '../../machines/flow.js';
import { operationInFlight, sessionRowProblem, type Rejection } from '../domain/session-rules.js';
import type { Row, StorageOps } from '../storage/port.js';

/** Thrown when a compare-and-set lost a race; the caller retries its whole transaction. */
export class VersionConflict extends Error {
  constructor(readonly object: string, readonly id: string) {
    super(`${object} ${id} was changed concurrently`);
    this.name = 'VersionConflict';
  }
}

/** The machine context a session row describes. */
export function contextFromRow(row: Row): SessionContext {
  return {
    sessionId: String(row.Id),
    cartId: String(row.WebCartId),
    State: (row.State as string | null) ?? null,
    NextState: (row.NextState as string | null) ?? null,
    IsProcessing: row.IsProcessing === true,
    IsError: row.IsError === true,
    IsArchived: row.IsArchived === true,
    BackgroundOperationId: (row.BackgroundOperationId as string | null) ?? null,
    OrderId: (row.OrderId as string | null) ?? null,
    rejection: null,
  };
}

/**
 * The state value a session row implies in `flow`: archived, error, running (its operation New or
 * Running), claimed, idle in its State (a final State is the final state), or `unrestorable` when
 * the row names no state the flow can be in (see `sessionRowProblem`). Pure; never throws.
 */
export function impliedStateValue(row: Row, flow: CompiledFlow, operationInFlight: boolean): unknown {
  if (row.IsArchived === true) return 'archived';
  if (row.IsError === true || row.State === ERROR_STATE) return ERROR_STATE;
  if (sessionRowProblem(sessionStateOf(row), flow)) return UNRESTORABLE_STATE;
  // State and NextState may be labels or aliases (stored as the caller wrote them): restore by key.
  const state = flow.resolve(row.State)!;
  const next = typeof row.NextState === 'string' && row.NextState.trim() ? flow.resolve(row.NextState) : undefined;
  if (flow.steps.get(state)!.kind === 'final') return state;
  if (flow.convention.runs === 'state') {
    // Template convention: State is the step about to run; a NextState names its successor.
    if (!next) return { [state]: 'idle' };
    const runs = ['async', 'sync'].includes(flow.steps.get(state)!.kind);
    return { [state]: runs && operationInFlight ? `running_${next}` : `claimed_${next}` };
  }
  if (row.IsProcessing === true && next) {
    return operationInFlight ? { [next]: 'running' } : { [state]: `claimed_${next}` };
  }
  return { [state]: 'idle' };
}

function sessionStateOf(row: Row) {
  return {
    State: typeof row.State === 'string' ? row.State : null,
    NextState: typeof row.NextState === 'string' ? row.NextState : null,
    IsProcessing: row.IsProcessing === true,
    IsError: row.IsError === true,
    IsArchived: row.IsArchived === true,
  };
}

/**
 * Restores the machine snapshot of a session row: the only place an actor is restored. The row's
 * fields are the truth — State, NextState, IsProcessing, IsError, IsArchived and whether its
 * operation is really in flight (`operationStatus` New or Running) — so a stale, foreign or
 * hand-edited `_snapshot` can't wedge a session, and a row the flow can't be in restores to
 * `unrestorable`, where every event but CANCEL is refused with the requirement it breaks. Without
 * `operationStatus` (undefined), the stored snapshot says whether the step was running.
 */
export function restoreSnapshot(machine: AnyStateMachine, row: Row, operationStatus?: string | null) {
  const flow = flowOfMachine(machine);
  if (!flow) throw new Error('restoreSnapshot needs a machine made by createCheckoutSessionMachine');
  let inFlight: boolean;
  if (operationStatus !== undefined) inFlight = operationInFlight(operationStatus);
  else {
    let stored: unknown = null;
    try {
      stored = row._snapshot ? (JSON.parse(String(row._snapshot)) as { value?: unknown })?.value : null;
    } catch {
      stored = null;
    }
    const next = row.NextState;
    inFlight = typeof next === 'string' && !!stored && typeof stored === 'object' && (stored as Record<string, unknown>)[next] === 'running';
  }
  const value = impliedStateValue(row, flow, inFlight && typeof row.BackgroundOperationId === 'string');
  return machine.resolveState({ value: value as any, context: contextFromRow(row) });
}

/** Restores a session row in a transaction, reading its current operation's status. */
export async function restoreSession(tx: StorageOps, machine: AnyStateMachine, row: Row) {
  const opId = row.IsProcessing === true && typeof row.BackgroundOperationId === 'string' ? row.BackgroundOperationId : null;
  const op = opId ? await tx.get('BackgroundOperation', opId) : undefined;
  return restoreSnapshot(machine, row, (op?.Status as string | undefined) ?? null);
}

/** Why the session in `row` can't take `event` from a step's operation, or null when it can. */
function completionProblem(snapshot: ReturnType<typeof restoreSnapshot>, row: Row, event: SessionEvent): Rejection | null {
  if (event.type !== 'xstate.done.actor.step' && event.type !== 'xstate.error.actor.step') return null;
  if (snapshot.can(event as any)) return null;
  const flow = flowOfMachine(snapshot.machine)!;
  const why = sessionRowProblem(sessionStateOf(row), flow) ?? `it isn't running a step (State '${String(row.State)}', NextState '${String(row.NextState)}')`;
  return { error: 'SESSION_NOT_READY', requirement: 7, detail: `The session can't take the step's result: ${why}.` };
}

/** The result of offering an event to a session. */
export type SessionTransition =
  | { ok: false; rejection: Rejection }
  | { ok: true; row: Row; value: unknown; context: SessionContext; spawned: { src: string; input: unknown }[] };

/**
 * Offers `event` to the session in `row` and, when the machine accepts it, writes the new state
 * (plus `extra` fields) with a compare-and-set on `_version`. Rejections write nothing.
 */
export async function applySessionEvent(
  tx: StorageOps,
  machine: AnyStateMachine,
  row: Row,
  event: SessionEvent,
  now: Date,
  extra: Row = {},
): Promise<SessionTransition> {
  const before = await restoreSession(tx, machine, row);
  const refused = completionProblem(before, row, event);
  if (refused) return { ok: false, rejection: refused };
  const [after, actions] = transition(machine, before, event as any);
  const ctx = after.context as SessionContext;
  if (ctx.rejection) return { ok: false, rejection: ctx.rejection };
  const spawned = actions
    .filter((a) => a.type === 'xstate.spawnChild')
    .map((a) => ({ src: String((a.params as { src?: unknown })?.src), input: (a.params as { input?: unknown })?.input }));
  const version = Number(row._version ?? 0);
  const values: Row = {
    State: ctx.State,
    NextState: ctx.NextState,
    IsProcessing: ctx.IsProcessing,
    IsError: ctx.IsError,
    IsArchived: ctx.IsArchived,
    BackgroundOperationId: ctx.BackgroundOperationId,
    OrderId: ctx.OrderId,
    _activeKey: ctx.IsArchived ? null : ctx.cartId,
    _snapshot: JSON.stringify({ value: after.value }),
    _machineVersion: MACHINE_VERSION,
    _version: version + 1,
    LastModifiedDate: now.toISOString(),
    ...extra,
  };
  const ok = await tx.update('CartCheckoutSession', String(row.Id), values, [{ field: '_version', op: '=', value: version }]);
  if (!ok) throw new VersionConflict('CartCheckoutSession', String(row.Id));
  return { ok: true, row: { ...row, ...values }, value: after.value, context: ctx, spawned };
}
