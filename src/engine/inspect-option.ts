/**
 * The `inspect` option's types, declared beside the engine so the facade names them without
 * importing the inspector: the inspect layer (src/inspect/attach.ts) subscribes to the engine's
 * session events and reports them to such an inspector.
 */

/** What the engine needs of an inspector: the three methods of `createInspector`'s result (and `stop`). */
export interface InspectorLike {
  actor(actor: any, snapshot?: Record<string, unknown>, info?: Record<string, unknown>): void;
  event(actor: any, event: { type: string; [k: string]: unknown }, info?: { source?: string }): void;

  snapshot(actor: any, snapshot: Record<string, unknown>, info?: { event?: { type: string; [k: string]: unknown } }): void;
  stop?(): void;
}

/** The `inspect` option: a WebSocket inspector URL (e.g. `ws://localhost:8080`) or an inspector object. */
export type InspectOption = string | InspectorLike;

/** An inspector attached to an engine: the engine closes it (delivering what is buffered) when it closes. */
export interface AttachedInspector {
  readonly inspector: InspectorLike;
  close(): Promise<void>;
}
