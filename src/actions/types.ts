/**
 * The shape of an invocable action: its described inputs and outputs (what GET
 * /actions/standard/{name} returns), and its effect. Inputs are parsed from the described params,
 * so describe and validation can't drift apart.
 */
import { EngineError } from '../errors.js';
import type { EngineCore } from '../engine/core.js';
import type { CallerRef } from '../engine/facts.js';
import type { EventOrigin } from '../engine/transaction.js';
import type { ExpiredCheckout } from '../engine/expiry.js';
import type { StepLifecycle } from '../engine/steps.js';

/** One described input or output parameter. */
export interface ActionParam {
  readonly name: string;
  readonly type: 'ID' | 'STRING' | 'BOOLEAN';
  readonly required: boolean;
  readonly description: string;
}

/** What an action's effect can use. */
export interface ActionEnv {
  readonly core: EngineCore;
  /** Runs step actions (src/engine/steps.ts). */
  readonly steps: StepLifecycle;
  /**
   * The caller: read before the call, or (a `CallerRead`, for an action that `readsCallerWithFacts`)
   * read with its first facts read; `callerNow` gives it either way.
   */
  readonly caller: CallerRef;
  /** The call (this action, as `caller`): the origin of its transactions, recorded with the session events they offer. */
  readonly origin: EventOrigin;
  /** WebStore id → flow id for stores with their own flow. */
  readonly storeFlows: Readonly<Record<string, string>>;
  /** Flow of stores not in storeFlows (default `default`). */
  readonly defaultFlow?: string;
  /**
   * The flow a session this call creates follows, over storeFlows and defaultFlow: an interview
   * running a Salesforce template names the built-in flow of that template's shape
   * (src/engine/flow-standins.ts `sessionFlowOf`).
   */
  readonly sessionFlow?: string;
  /** The cart whose expired checkout expiry kept (its order is placed) on this run of the action: see `FreshFactsOptions.kept`. */
  readonly keptCheckout?: string;
  /** Told the Status a step call committed its operation with, when the call finished it itself (`StepCaller.operationSettled`). */
  readonly operationSettled?: (operationId: string, status: string) => void;
}

/** An invocable action. */
export interface ActionDef {
  readonly name: string;
  readonly label: string;
  readonly description: string;
  readonly inputs: readonly ActionParam[];
  readonly outputs: readonly ActionParam[];
  /**
   * Runs the action for one input; throws an EngineError from the error table on failure. When its
   * transaction found the checkout expired, it expired it there and returns `ExpiredCheckout`: the
   * runner runs the action again on what expiry left (`withFreshCheckout`).
   */
  run(env: ActionEnv, input: Record<string, unknown>): Promise<Record<string, unknown> | ExpiredCheckout>;
  /**
   * `run` reads the caller with its first facts read (`loadCartFacts`/`loadSessionFacts` given
   * `env.caller`) before anything else that looks at the caller or writes: a library call then gives
   * it a `CallerRead` (the user read and the facts read in one round trip where the backend
   * pipelines), not a caller read before the call.
   */
  readonly readsCallerWithFacts?: boolean;
}

/** Each described params list's params by lower-cased name, built once per list (an action's inputs never change). */
const BY_LOWER = new WeakMap<readonly ActionParam[], ReadonlyMap<string, ActionParam>>();
function paramsByLowerName(params: readonly ActionParam[]): ReadonlyMap<string, ActionParam> {
  let byLower = BY_LOWER.get(params);
  if (!byLower) BY_LOWER.set(params, (byLower = new Map(params.map((p) => [p.name.toLowerCase(), p]))));
  return byLower;
}

/**
 * Checks one invocation input against the described params: it must be an object; unknown
 * params, missing required params and values of the wrong type are errors naming the param.
 * Booleans also accept the strings "true"/"false" (as Flow and REST clients send them).
 */
export function parseActionInput(def: ActionDef, raw: unknown): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new EngineError('INVALID_INPUT', `Each input of ${def.name} must be a JSON object of parameter values.`);
  }
  const byLower = paramsByLowerName(def.inputs);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const p = byLower.get(k.toLowerCase());
    if (!p) {
      throw new EngineError(
        'INVALID_INPUT',
        `Unknown input parameter '${k}' for ${def.name}; expected ${def.inputs.map((i) => i.name).join(', ')}.`,
        [k],
      );
    }
    if (v === null || v === undefined) continue;
    if (p.type === 'BOOLEAN') {
      if (typeof v === 'boolean') out[p.name] = v;
      else if (v === 'true' || v === 'false') out[p.name] = v === 'true';
      else throw new EngineError('INVALID_INPUT', `Input parameter '${p.name}' of ${def.name} must be a boolean.`, [p.name]);
    } else {
      if (typeof v !== 'string')
        throw new EngineError('INVALID_INPUT', `Input parameter '${p.name}' of ${def.name} must be a string.`, [p.name]);
      out[p.name] = v;
    }
  }
  const missing = def.inputs.filter((p) => p.required && (out[p.name] === undefined || out[p.name] === '')).map((p) => p.name);
  if (missing.length) {
    throw new EngineError('REQUIRED_FIELD_MISSING', `[${missing.join(', ')}] in the input of ${def.name}.`, missing);
  }
  return out;
}
