/**
 * Session persistence: the only place a session actor is restored and the only place a session's
 * new state is written. The database row is the truth; the statechart runs as XState's pure
 * `transition()` over the restored snapshot, and the result is written back with a compare-and-set
 * on the row's `_version`, so concurrent writers (threads of one process or many processes) never
 * lose an update: the loser re-reads and re-decides.
 */
import type { AnyMachineSnapshot, AnyStateMachine, ExecutableActionObject } from 'xstate';
import { pureTransition } from './pure-transition.js';
import {
  flowOfMachine,
  MACHINE_VERSION,
  UNRESTORABLE_STATE,
  type SessionContext,
  type SessionEvent,
} from '../machines/checkout-session.js';
import { ERROR_STATE, type CompiledFlow } from '../domain/flow.js';
import { operationInFlight, sessionRowProblem, type Rejection } from '../domain/session-rules.js';
import type { Row, StorageOps } from '../storage/port.js';
import { mintId } from '../domain/ids.js';
import { STORED_OBJECTS } from '../domain/objects.js';
import { redactSecrets } from '../domain/redact.js';
import type { EventOrigin, HistoryEntry, Tx } from './transaction.js';

export type { EventOrigin, HistoryEntry } from './transaction.js';

/** Thrown when a compare-and-set lost a race; the caller retries its whole transaction. */
export class VersionConflict extends Error {
  constructor(
    readonly object: string,
    readonly id: string,
  ) {
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
    let stored: unknown;
    try {
      stored = row._snapshot ? (JSON.parse(String(row._snapshot)) as { value?: unknown })?.value : null;
    } catch {
      stored = null;
    }
    const next = row.NextState;
    inFlight =
      typeof next === 'string' && !!stored && typeof stored === 'object' && (stored as Record<string, unknown>)[next] === 'running';
  }
  const value = impliedStateValue(row, flow, inFlight && typeof row.BackgroundOperationId === 'string');
  return resolvedState(machine, value, contextFromRow(row));
}

/** Per machine, the snapshot `resolveState` made of each state value (with the first context it was given). */
const RESOLVED = new WeakMap<AnyStateMachine, Map<string, AnyMachineSnapshot>>();

/**
 * `machine.resolveState({ value, context })`. Resolving a state value walks the machine's state
 * nodes (every session event restores one); what it yields besides the context depends on the value
 * alone, so it is done once per machine and value, and each restore is that snapshot with its own
 * context and fresh children, history and tags — what `resolveState` itself returns. XState never
 * changes a snapshot (a transition makes new ones), so the shared nodes and value are read only.
 */
function resolvedState(machine: AnyStateMachine, value: unknown, context: SessionContext): AnyMachineSnapshot {
  let byValue = RESOLVED.get(machine);
  if (!byValue) RESOLVED.set(machine, (byValue = new Map()));
  const key = typeof value === 'string' ? value : JSON.stringify(value);
  const base = byValue.get(key);
  if (!base) {
    const resolved = machine.resolveState({ value: value as any, context }) as AnyMachineSnapshot;
    byValue.set(key, resolved);
    return { ...resolved, children: {}, historyValue: {}, tags: new Set(resolved.tags) };
  }
  return { ...base, context, children: {}, historyValue: {}, tags: new Set(base.tags) };
}

/** What a new session row holds besides what the machine decides. */
export interface NewSession {
  Id: string;
  WebCartId: string;
  /** The state key the session starts in: the flow's first state, or (an administrator's choice) another screen state. */
  startKey: string;
  /** State as the caller wrote it (a label or alias is stored as written under conventions that keep it). */
  State: string;
}

/** The session record fields the machine's context owns, as the row stores them. */
function sessionFields(ctx: SessionContext): Row {
  return {
    State: ctx.State,
    NextState: ctx.NextState,
    IsProcessing: ctx.IsProcessing,
    IsError: ctx.IsError,
    IsArchived: ctx.IsArchived,
    BackgroundOperationId: ctx.BackgroundOperationId,
    OrderId: ctx.OrderId,
  };
}

/**
 * The row of a new session: the machine's own start, XState's `initialTransition()` over the row's
 * context — or, for a session started at another screen state, that state resolved — so the
 * machine decides the initial state fields and snapshot. `fields` adds the record's other columns.
 */
export function initialSessionRow(machine: AnyStateMachine, s: NewSession, now: Date, fields: Row = {}): Row {
  const context: SessionContext = {
    sessionId: s.Id,
    cartId: s.WebCartId,
    State: s.State,
    NextState: null,
    IsProcessing: false,
    IsError: false,
    IsArchived: false,
    BackgroundOperationId: null,
    OrderId: null,
    rejection: null,
  };
  const [initial] = pureTransition(machine, null, context);
  const snapshot = initial.matches(s.startKey) ? initial : machine.resolveState({ value: { [s.startKey]: 'idle' } as any, context });
  const ctx = snapshot.context as SessionContext;
  const stamp = now.toISOString();
  return {
    Id: s.Id,
    CreatedDate: stamp,
    LastModifiedDate: stamp,
    WebCartId: s.WebCartId,
    ...fields,
    ...sessionFields(ctx),
    _snapshot: JSON.stringify({ value: snapshot.value }),
    _machineVersion: MACHINE_VERSION,
    _version: 0,
    _activeKey: ctx.IsArchived ? null : ctx.cartId,
  };
}

/** The status `restoreSession` would read: the operation's only while the session is processing it. */
function currentOperationStatus(row: Row, status: string | null): string | null {
  return row.IsProcessing === true && typeof row.BackgroundOperationId === 'string' ? status : null;
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
  const why =
    sessionRowProblem(sessionStateOf(row), flow) ??
    `it isn't running a step (State '${String(row.State)}', NextState '${String(row.NextState)}')`;
  return { error: 'SESSION_NOT_READY', requirement: 7, detail: `The session can't take the step's result: ${why}.` };
}

/** The result of offering an event to a session. */
export type SessionTransition =
  | { ok: false; rejection: Rejection }
  | {
      ok: true;
      row: Row;
      value: unknown;
      context: SessionContext;
      /** What `transition()` returned for the caller to execute (the step executor, src/engine/steps.ts). */
      actions: ExecutableActionObject[];
    };

/** The table history rows live in (engine-internal, declared in src/domain/objects.ts). */
export const HISTORY_OBJECT = 'CheckoutSessionEvent';
const HISTORY_PREFIX = STORED_OBJECTS.get(HISTORY_OBJECT)!.keyPrefix;
/** At most this many rejections are kept per session version, so a client hammering a session can't grow its history without bound. */
export const MAX_REJECTIONS_PER_VERSION = 50;

/** A state value as a dotted path (`{ inventory: 'running' }` → `inventory.running`). */
export function statePath(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  let out = '';
  for (const k in value as Record<string, unknown>) {
    if (!Object.hasOwn(value, k)) continue;
    const rest = statePath((value as Record<string, unknown>)[k]);
    out += `${out ? ',' : ''}${rest ? `${k}.${rest}` : k}`;
  }
  return out;
}

/** The event as history keeps it: requirement facts dropped (derived data), secrets redacted. */
function recordedEvent(event: SessionEvent, origin: EventOrigin | undefined): Record<string, unknown> {
  // Built key by key from an empty object (a copy given a new key after it, `{ ...rest }` then
  // `out.input = …`, takes V8's slow path on every call on Node 20).
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(event)) if (k !== 'facts') out[k] = (event as Record<string, unknown>)[k];
  if (origin?.input !== undefined) out.input = origin.input;
  return redactSecrets(out);
}

function historyRow(e: HistoryEntry): Row {
  // flowId is not a column: a session's flow is on the session row.
  return {
    Id: mintId(HISTORY_PREFIX),
    CreatedDate: e.at,
    LastModifiedDate: e.at,
    SessionId: e.sessionId,
    CartId: e.cartId,
    Seq: e.seq,
    Sub: e.sub,
    EventType: String(e.event.type),
    Event: JSON.stringify(e.event),
    StateBefore: e.from,
    StateAfter: e.to,
    Accepted: e.accepted,
    RejectionCode: e.rejection?.error ?? null,
    RejectionDetail: e.rejection?.detail ?? null,
    Operation: e.operation,
    OperationId: e.operationId,
    CallerId: e.callerId,
  };
}

/** A stored history row as an entry. */
export function historyEntry(r: Row): HistoryEntry {
  let event: Record<string, unknown> = { type: r.EventType };
  try {
    event = JSON.parse(String(r.Event)) as Record<string, unknown>;
  } catch {
    // A row written by hand: keep the type.
  }
  return {
    sessionId: String(r.SessionId),
    cartId: (r.CartId as string | null) ?? null,
    seq: Number(r.Seq),
    sub: Number(r.Sub ?? 0),
    at: String(r.CreatedDate),
    event,
    from: String(r.StateBefore ?? ''),
    to: String(r.StateAfter ?? ''),
    accepted: r.Accepted !== false,
    rejection: r.RejectionCode ? { error: String(r.RejectionCode), detail: (r.RejectionDetail as string | null) ?? null } : null,
    operation: (r.Operation as string | null) ?? null,
    operationId: (r.OperationId as string | null) ?? null,
    callerId: (r.CallerId as string | null) ?? null,
  };
}

/** A session's history in order (oldest first). */
export async function readHistory(ops: StorageOps, sessionId: string): Promise<HistoryEntry[]> {
  const rows = await ops.find(HISTORY_OBJECT, {
    where: [{ field: 'SessionId', op: '=', value: sessionId }],
    orderBy: [
      { field: 'Seq', direction: 'asc' },
      { field: 'Sub', direction: 'asc' },
      { field: 'CreatedDate', direction: 'asc' },
      { field: 'Id', direction: 'asc' },
    ],
  });
  return rows.map(historyEntry);
}

/** The state path of a session row as its history records it: its snapshot's value, or (a snapshot that doesn't read) its State. */
function rowStatePath(session: Row): string {
  try {
    return statePath((JSON.parse(String(session._snapshot)) as { value?: unknown }).value);
  } catch {
    return String(session.State ?? '');
  }
}

/**
 * Records an event that happened beside a session without moving it (a flow interview's start or
 * navigate on the session's cart): the cart's active session's state before and after alike,
 * numbered after the entries of the session's current version. The session read, the count and the
 * insert are one statement (`StorageOps.appendSessionEntry`); a snapshot whose state path the SQL
 * doesn't work out is corrected by one update of the entry (in `ops`' transaction, if any).
 * Returns the entry written, or null when the cart has no active session (nothing written).
 */
export async function writeSideEntry(
  ops: StorageOps,
  cartId: string,
  event: Record<string, unknown>,
  now: Date,
  origin?: EventOrigin,
): Promise<HistoryEntry | null> {
  const entry: HistoryEntry = {
    sessionId: '',
    cartId: null,
    seq: 0,
    sub: 0,
    at: now.toISOString(),
    event: redactSecrets(event),
    from: '',
    to: '',
    accepted: true,
    rejection: null,
    operation: origin?.operation ?? null,
    operationId: null,
    callerId: origin?.callerId ?? null,
  };
  // The session's columns of the row (SessionId, CartId, Seq, Sub, the state path) are the statement's.
  const appended = await ops.appendSessionEntry(cartId, historyRow(entry));
  if (!appended) return null;
  const { row, session } = appended;
  const path = rowStatePath(session);
  if (row.StateBefore !== path || row.StateAfter !== path)
    await ops.update(HISTORY_OBJECT, String(row.Id), { StateBefore: path, StateAfter: path });
  // Keyed in the order the entry always had (listeners may serialize it).
  return {
    sessionId: String(session.Id),
    flowId: (session._flow as string | null) ?? 'default',
    cartId: (session.WebCartId as string | null) ?? null,
    seq: Number(session._version ?? 0),
    sub: Number(row.Sub),
    at: entry.at,
    event: entry.event,
    from: path,
    to: path,
    accepted: true,
    rejection: null,
    operation: entry.operation,
    operationId: null,
    callerId: entry.callerId,
  };
}

/**
 * Writes rejected events. A rejection changes nothing, and the action that offered it usually
 * throws and rolls its transaction back, so rejections are written after the transaction ends, in
 * a short transaction of their own (numbered after the applied event of the same version, capped
 * at MAX_REJECTIONS_PER_VERSION per version). Returns the entries written.
 */
export async function writeRejections(
  storage: { transaction<T>(fn: (tx: StorageOps) => Promise<T>): Promise<T> },
  entries: HistoryEntry[],
): Promise<HistoryEntry[]> {
  if (!entries.length) return [];
  return storage.transaction(async (tx) => {
    const written: HistoryEntry[] = [];
    for (const e of entries) {
      const n = await tx.count(HISTORY_OBJECT, [
        { field: 'SessionId', op: '=', value: e.sessionId },
        { field: 'Seq', op: '=', value: e.seq },
        { field: 'Accepted', op: '=', value: false },
      ]);
      if (n >= MAX_REJECTIONS_PER_VERSION) continue;
      const entry = { ...e, sub: n + 1 };
      await tx.insert(HISTORY_OBJECT, [historyRow(entry)]);
      written.push(entry);
    }
    return written;
  });
}

/**
 * Offers `event` to the session in `row` and, when the machine accepts it, writes the new state
 * (plus `extra` fields) with a compare-and-set on `_version`, and its history entry (event, state
 * before and after, `origin`) in the same transaction. `operationStatus` is the status of the
 * operation `row.BackgroundOperationId` names, when the caller read it with the row (else it is read). A rejection writes nothing here: it is
 * journaled on `tx` and written when the transaction ends (see `writeRejections`). Without `origin`,
 * the event is the transaction's call's (`tx.origin`).
 */
export async function applySessionEvent(
  tx: Tx,
  machine: AnyStateMachine,
  row: Row,
  event: SessionEvent,
  now: Date,
  extra: Row = {},
  origin?: EventOrigin,
  operationStatus?: string | null,
): Promise<SessionTransition> {
  origin ??= tx.origin;
  // The caller may already hold the current operation's status (read with the session): no second read.
  const before =
    operationStatus !== undefined
      ? restoreSnapshot(machine, row, currentOperationStatus(row, operationStatus))
      : await restoreSession(tx, machine, row);
  const refused = completionProblem(before, row, event);
  if (refused) return { ok: false, rejection: refused };
  const [after, actions] = pureTransition(machine, before, event);
  const ctx = after.context as SessionContext;
  const version = Number(row._version ?? 0);
  const stamp = now.toISOString();
  const sessionId = String(row.Id);
  const flowId = (row._flow as string | null) ?? 'default';
  const cartId = (row.WebCartId as string | null) ?? null;
  const recorded = recordedEvent(event, origin);
  const from = statePath(before.value);
  const operation = origin?.operation ?? null;
  const operationId =
    origin?.operationId ?? (event.type === 'STEP' ? event.operationId : ((row.BackgroundOperationId as string | null) ?? null));
  const callerId = origin?.callerId ?? null;
  if (ctx.rejection) {
    // Keyed in the order entries always had (listeners may serialize them).
    tx.journal.rejected.push({
      sessionId,
      flowId,
      cartId,
      at: stamp,
      event: recorded,
      from,
      operation,
      operationId,
      callerId,
      seq: version,
      sub: 1,
      to: from,
      accepted: false,
      rejection: { error: ctx.rejection.error, detail: ctx.rejection.detail ?? null },
    });
    return { ok: false, rejection: ctx.rejection };
  }
  const activeKey = ctx.IsArchived ? null : ctx.cartId;
  // The indexed columns (IsArchived, _activeKey) are set only when they change: SQLite rewrites an
  // index's entries for every column an UPDATE sets, even to the value it holds. `row` is the stored
  // row at `version` (the compare-and-set below), so a column left out keeps the value written here
  // (and the row returned, `row` with what is set over it, holds it alike).
  const setArchived = 'IsArchived' in extra || row.IsArchived !== ctx.IsArchived;
  const setKey = '_activeKey' in extra || row._activeKey !== activeKey;
  const snapshot = JSON.stringify({ value: after.value });
  // One object literal per case (adding or deleting keys one by one would make a slow object); the
  // keys in the order the session's write always had.
  const set: Row =
    setArchived && setKey
      ? {
          State: ctx.State,
          NextState: ctx.NextState,
          IsProcessing: ctx.IsProcessing,
          IsError: ctx.IsError,
          IsArchived: ctx.IsArchived,
          BackgroundOperationId: ctx.BackgroundOperationId,
          OrderId: ctx.OrderId,
          _activeKey: activeKey,
          _snapshot: snapshot,
          _machineVersion: MACHINE_VERSION,
          _version: version + 1,
          LastModifiedDate: stamp,
        }
      : setArchived
        ? {
            State: ctx.State,
            NextState: ctx.NextState,
            IsProcessing: ctx.IsProcessing,
            IsError: ctx.IsError,
            IsArchived: ctx.IsArchived,
            BackgroundOperationId: ctx.BackgroundOperationId,
            OrderId: ctx.OrderId,
            _snapshot: snapshot,
            _machineVersion: MACHINE_VERSION,
            _version: version + 1,
            LastModifiedDate: stamp,
          }
        : setKey
          ? {
              State: ctx.State,
              NextState: ctx.NextState,
              IsProcessing: ctx.IsProcessing,
              IsError: ctx.IsError,
              BackgroundOperationId: ctx.BackgroundOperationId,
              OrderId: ctx.OrderId,
              _activeKey: activeKey,
              _snapshot: snapshot,
              _machineVersion: MACHINE_VERSION,
              _version: version + 1,
              LastModifiedDate: stamp,
            }
          : {
              State: ctx.State,
              NextState: ctx.NextState,
              IsProcessing: ctx.IsProcessing,
              IsError: ctx.IsError,
              BackgroundOperationId: ctx.BackgroundOperationId,
              OrderId: ctx.OrderId,
              _snapshot: snapshot,
              _machineVersion: MACHINE_VERSION,
              _version: version + 1,
              LastModifiedDate: stamp,
            };
  for (const k in extra) set[k] = extra[k];
  // The compare-and-set and the history entry go out with the transaction's next statement (one
  // round trip where the backend batches writes); a lost race throws VersionConflict there.
  tx.defer(
    { kind: 'update', object: 'CartCheckoutSession', id: sessionId, values: set, expect: [{ field: '_version', op: '=', value: version }] },
    () => new VersionConflict('CartCheckoutSession', sessionId),
  );
  const entry: HistoryEntry = {
    sessionId,
    flowId,
    cartId,
    at: stamp,
    event: recorded,
    from,
    operation,
    operationId,
    callerId,
    seq: version + 1,
    sub: 0,
    to: statePath(after.value),
    accepted: true,
    rejection: null,
  };
  tx.defer({ kind: 'insert', object: HISTORY_OBJECT, rows: [historyRow(entry)] });
  tx.journal.accepted.push(entry);
  return { ok: true, row: { ...row, ...set }, value: after.value, context: ctx, actions };
}
