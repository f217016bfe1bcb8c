/**
 * Live inspection with the Stately inspector (`@statelyai/inspect`, XState v5). The engine runs
 * each session event as a pure `transition()` over a restored snapshot, so there is no long-lived
 * actor to attach an inspector to: instead the engine reports every recorded session event (after
 * its transaction commits, in order; across actions and the worker) through the inspector object's
 * own methods — `actor` once per session (with the flow's machine definition), then `event` and
 * `snapshot` per event — with the session id as the actor id. Everything sent is redacted.
 */
import { createWebSocketInspector } from '@statelyai/inspect';
import type { AnyStateMachine } from 'xstate';
import { redactSecrets } from '../domain/redact.js';
import { EngineError } from '../errors.js';
import type { HistoryEntry } from '../engine/sessions.js';
import type { InspectOption, InspectorLike } from '../engine/inspect-option.js';
import type { InterviewView } from '../flows/contract.js';

export type { InspectOption, InspectorLike } from '../engine/inspect-option.js';

/** A state path back to a state value (`inventory.running` → `{ inventory: 'running' }`). */
export function pathToValue(path: string): unknown {
  const parts = path.split('.').filter(Boolean);
  if (parts.length <= 1) return parts[0] ?? '';
  let value: unknown = parts.at(-1);
  for (let i = parts.length - 2; i >= 0; i--) value = { [parts[i]!]: value };
  return value;
}

/** The snapshot an entry leaves the session in, as the inspector shows it (redacted). */
export function inspectedSnapshot(entry: HistoryEntry, state: 'to' | 'from' = 'to'): Record<string, unknown> {
  const path = entry[state];
  return {
    status: path === 'complete' || path === 'archived' ? 'done' : 'active',
    value: pathToValue(path),
    context: redactSecrets({
      sessionId: entry.sessionId,
      cartId: entry.cartId,
      version: entry.seq,
      lastOperation: entry.operation,
      operationId: entry.operationId,
      callerId: entry.callerId,
      rejection: entry.rejection,
    }),
  };
}

/** Reports session events to an inspector; `machineFor` gives a session's flow machine (for its definition). */
export class SessionInspector {
  private readonly announced = new Set<string>();

  constructor(
    readonly inspector: InspectorLike,
    private readonly machineFor: (entry: HistoryEntry) => AnyStateMachine | undefined,
  ) {}

  /** The actor-like the inspector reads the session id and the machine definition from. */
  private actorRef(entry: HistoryEntry): Record<string, unknown> {
    const machine = this.machineFor(entry);
    return {
      sessionId: entry.sessionId,
      id: entry.sessionId,
      logic: machine ? { config: machine.config } : undefined,
      send: () => {},
      getSnapshot: () => undefined,
    };
  }

  /** Sends one recorded event: the actor the first time this session is seen, then the event and the snapshot after it. */
  report(entry: HistoryEntry): void {
    if (!this.announced.has(entry.sessionId)) {
      this.announced.add(entry.sessionId);
      this.inspector.actor(this.actorRef(entry), inspectedSnapshot(entry, 'from'));
    }
    const event = redactSecrets({
      ...entry.event,
      type: String(entry.event.type),
      ...(entry.accepted ? {} : { rejected: entry.rejection }),
    });
    this.inspector.event(entry.sessionId, event, { source: entry.callerId ? `user:${entry.callerId}` : 'engine' });
    this.inspector.snapshot(entry.sessionId, inspectedSnapshot(entry), { event });
  }

  /** Stops the inspector (closes its WebSocket). */
  stop(): void {
    this.inspector.stop?.();
  }
}

/** An inspector for the option: a URL opens a WebSocket inspector (it reconnects until stopped). */
export function openInspector(option: InspectOption): InspectorLike {
  if (typeof option === 'string') {
    if (!/^wss?:\/\//.test(option))
      throw new EngineError('INVALID_INPUT', `The inspect URL must start with ws:// or wss://, got '${option.slice(0, 80)}'.`, ['inspect']);
    return createWebSocketInspector({ url: option, maxDeferredEvents: 10_000 }) as unknown as InspectorLike;
  }
  return option;
}

/**
 * Waits until a WebSocket inspector has delivered what it was given (its socket is open and its
 * buffer empty), at most `timeoutMs`; returns whether it did. Other inspectors return true at once.
 */
export async function flushInspector(inspector: InspectorLike, timeoutMs = 5_000): Promise<boolean> {
  const adapter = (inspector as { adapter?: { status?: string; ws?: { bufferedAmount?: number }; deferredEvents?: unknown[] } }).adapter;
  if (!adapter || !('deferredEvents' in adapter)) return true;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (adapter.status === 'open' && (adapter.ws?.bufferedAmount ?? 0) === 0) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** One start or navigate of a flow interview, as the inspector is told of it (after it was stored). */
export interface InterviewInspection {
  interviewId: string;
  flowApiName: string;
  userId: string;
  /** START, a navigate action, or RESUME (a waiting interview re-checked). */
  action: string;
  /** The answers given (field → output → value); redacted before sending. */
  answers?: Record<string, unknown>;
  /** The cart the interview names, when it names one. */
  cartId?: string | null;
  /** The interview's stored view after the call. */
  view: InterviewView;
}

/** The interview's state as the inspector shows it: the element it stands on (or `__end`/`__error`), its view as context, redacted. */
export function interviewSnapshot(
  e: Pick<InterviewInspection, 'interviewId' | 'flowApiName' | 'cartId' | 'view'>,
): Record<string, unknown> {
  const v = e.view;
  const done = v.status === 'Finished' || v.status === 'Error';
  const value = v.currentElement ?? (v.status === 'Error' ? '__error' : '__end');
  return {
    status: done ? 'done' : 'active',
    value,
    context: redactSecrets({
      interviewId: e.interviewId,
      flowApiName: e.flowApiName,
      cartId: e.cartId ?? null,
      status: v.status,
      stack: v.stack,
      screen: v.screen
        ? {
            name: v.screen.name,
            fields: v.screen.fields.map((f) => ({ name: f.name, inputs: f.inputs })),
            availableActions: v.screen.availableActions,
          }
        : null,
      redirect: v.redirect ?? null,
      outputs: v.outputs ?? null,
      error: v.error?.message ?? null,
    }),
  };
}

/**
 * Reports flow interviews to an inspector like sessions: each interview is one actor (id = the
 * interview id, the compiled flow machine as its definition, whose state ids are the flow's
 * element names), announced on its first report, then one event (START, NEXT, BACK, FINISH,
 * PAUSE, RESUME with the redacted answers) and the snapshot after it per start or navigate.
 */
export class InterviewInspector {
  private readonly announced = new Set<string>();

  constructor(
    readonly inspector: InspectorLike,
    private readonly machineFor: (flowApiName: string) => AnyStateMachine | undefined,
  ) {}

  report(e: InterviewInspection): void {
    if (!this.announced.has(e.interviewId)) {
      this.announced.add(e.interviewId);
      const machine = this.machineFor(e.flowApiName);
      const ref = {
        sessionId: e.interviewId,
        id: e.interviewId,
        logic: machine ? { config: machine.config } : undefined,
        send: () => {},
        getSnapshot: () => undefined,
      };
      const initial =
        e.action === 'START'
          ? {
              status: 'active',
              value: '__start',
              context: redactSecrets({ interviewId: e.interviewId, flowApiName: e.flowApiName, cartId: e.cartId ?? null }),
            }
          : interviewSnapshot(e);
      this.inspector.actor(ref, initial);
    }
    const event = redactSecrets({ type: e.action, ...(e.answers ? { answers: e.answers } : {}) });
    this.inspector.event(e.interviewId, event, { source: `user:${e.userId}` });
    this.inspector.snapshot(e.interviewId, interviewSnapshot(e), { event });
  }
}
