/**
 * Session persistence: the only place a session actor is restored and the only place a session's
 * new state is written. The database row is the truth; the statechart runs as XState's pure
 * `transition()` over the restored snapshot, and the result is written back with a compare-and-set
 * on the row's `_version`, so concurrent writers (threads of one process or many processes) never
 * lose an update: the loser re-reads and re-decides.
 */
import { transition, type AnyStateMachine } from 'xstate';
import { MACHINE_VERSION, type SessionContext, type SessionEvent } from '../../machines/checkout-session.js';
import { ERROR_STATE } from '../../machines/flow.js';
import type { Rejection } from '../domain/session-rules.js';
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
 * The state value a row implies when it carries no snapshot (seeded or written by older code):
 * archived, error, running (operation New/Running), claimed, or idle in its State.
 */
export function impliedStateValue(row: Row, operationInFlight: boolean): unknown {
  if (row.IsArchived === true) return 'archived';
  if (row.IsError === true || row.State === ERROR_STATE) return ERROR_STATE;
  const state = String(row.State);
  if (row.IsProcessing === true && row.NextState) {
    return operationInFlight ? { [String(row.NextState)]: 'running' } : { [state]: `claimed_${row.NextState}` };
  }
  return row.State === 'complete' ? 'complete' : { [state]: 'idle' };
}

/** Restores the machine snapshot of a session row. */
export function restoreSnapshot(machine: AnyStateMachine, row: Row) {
  const stored = row._snapshot ? (JSON.parse(String(row._snapshot)) as { value: unknown }) : null;
  const value = stored?.value ?? impliedStateValue(row, false);
  return machine.resolveState({ value: value as any, context: contextFromRow(row) });
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
  const before = restoreSnapshot(machine, row);
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
