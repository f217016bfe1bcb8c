/**
 * Pure value semantics of the flow language: the frame (one flow's resources while it runs),
 * reference resolution, condition operators and logic, assignment operators, merge fields.
 * Nothing here does I/O; a fault is thrown as FlowFault.
 */
import { FlowFault, type FlowData, type FlowRecord, type FlowScalar, type RecordAccessMode } from './contract.js';
import type { AssignmentOperator, Condition, ConditionSet, FlowDefinition, FlowValue, FlowVariable } from './metadata.js';

/** One flow frame: everything a running flow holds (the XState context of its machine). */
export interface Frame {
  flow: string;
  /** Variables, plus record-element results stored under the element name and loop items under the loop name. */
  values: Record<string, FlowData>;
  /** Auto-stored outputs of actions, subflows and screen components: element → parameter → value. */
  outputs: Record<string, Record<string, FlowData>>;
  /** Screens visited in this frame, oldest first (BACK pops). */
  history: string[];
  /** Values of each screen's components from the last NEXT away from it: screen → field → parameter → value. */
  stored: Record<string, Record<string, Record<string, FlowData>>>;
  /** Loop cursors: the collection snapshot taken on entry and the next index. */
  loops: Record<string, { items: FlowData[]; index: number }>;
  faultMessage: string | null;
  mode: RecordAccessMode;
  /** Elements entered since the last navigation (the step limit). */
  steps: number;
  /** Set when the frame failed (unhandled fault, step limit). */
  error: string | null;
  /** The outcome the current decision or loop chose (`rule name`, `default`, `next`, `done`). */
  choice: string | null;
  /** The user the interview runs as (`$User.Id`). */
  userId: string;
  /** The element entered last (where a failure happened). */
  at: string | null;
  /** Where a failure happened when it came from a subflow: flow names down to the failing frame, and its element. */
  failedIn: { stack: string[]; element: string | null } | null;
}

/** What resolution needs beyond the frame. */
export interface ValueEnv {
  def: FlowDefinition;
  userId: string;
  /** Reading a field of a null record: a fault (default) or null. */
  nullRecordField: 'fault' | 'null';
  now?: () => Date;
}

const clone = <T extends FlowData>(v: T): T => (v === null || typeof v !== 'object' ? v : (structuredClone(v) as T));

/** The literal of a value element (references are resolved by `valueOf`). */
export function literal(v: FlowValue): FlowScalar {
  switch (v.kind) {
    case 'reference':
      throw new Error('literal() of a reference');
    default:
      return v.value;
  }
}

/** The initial frame of a flow: variables at their defaults (collections null until written). */
export function newFrame(def: FlowDefinition, mode: RecordAccessMode, userId = ''): Frame {
  const frame: Frame = {
    flow: def.apiName,
    values: {},
    outputs: {},
    history: [],
    stored: {},
    loops: {},
    faultMessage: null,
    mode,
    steps: 0,
    error: null,
    choice: null,
    userId,
    at: null,
    failedIn: null,
  };
  const env: ValueEnv = { def, userId, nullRecordField: 'null' };
  for (const v of def.variables) frame.values[v.name] = v.value ? valueOf(frame, v.value, env) : null;
  return frame;
}

/** Resolves a value element against the frame (null stays null). */
export function valueOf(frame: Frame, v: FlowValue | null, env: ValueEnv): FlowData {
  if (v === null) return null;
  if (v.kind === 'reference') return resolve(frame, v.ref, env);
  return v.value;
}

/** Resolves `Name`, `Name.Field`, `Elem.param` and the supported globals. */
export function resolve(frame: Frame, ref: string, env: ValueEnv): FlowData {
  if (ref.startsWith('$')) {
    switch (ref) {
      case '$Flow.FaultMessage':
        return frame.faultMessage;
      case '$Flow.CurrentDateTime':
        return (env.now?.() ?? new Date()).toISOString();
      case '$Flow.CurrentDate':
        return (env.now?.() ?? new Date()).toISOString().slice(0, 10);
      case '$GlobalConstant.True':
        return true;
      case '$GlobalConstant.False':
        return false;
      case '$GlobalConstant.EmptyString':
        return '';
      case '$User.Id':
        return env.userId;
      default:
        throw new FlowFault(`The flow failed to access the value for ${ref}: the global isn't supported.`);
    }
  }
  const dot = ref.indexOf('.');
  const head = dot < 0 ? ref : ref.slice(0, dot);
  const field = dot < 0 ? null : ref.slice(dot + 1);
  if (field !== null && head in frame.outputs && !(head in frame.values)) {
    const out = frame.outputs[head];
    return out[field] === undefined ? null : clone(out[field]);
  }
  const base = baseValue(frame, head, env);
  if (field === null) return clone(base);
  if (base === null) {
    if (head in frame.outputs) return null;
    if (env.nullRecordField === 'null') return null;
    throw new FlowFault(`The flow failed to access the value for ${ref} because it hasn't been set or assigned.`);
  }
  if (Array.isArray(base) || typeof base !== 'object')
    throw new FlowFault(`The flow failed to access the value for ${ref}: ${head} is not a record.`);
  const v = (base as FlowRecord)[field];
  return v === undefined ? null : v;
}

function baseValue(frame: Frame, head: string, env: ValueEnv): FlowData {
  if (head in frame.values) return frame.values[head];
  const c = env.def.constants.find((k) => k.name === head);
  if (c) return c.value ? valueOf(frame, c.value, env) : null;
  const t = env.def.textTemplates.find((k) => k.name === head);
  if (t) return merge(frame, t.text, env);
  if (head in frame.outputs) return frame.outputs[head] as FlowRecord;
  return null;
}

/** A value as text in merged text: null → "", collections joined with ", ". */
export function asText(v: FlowData): string {
  if (v === null) return '';
  if (Array.isArray(v)) return v.map(asText).join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The merge fields of a text (`{!Name}`, `{!Name.Field}`, `{!$Flow.FaultMessage}`). */
export function mergeRefs(text: string): string[] {
  return [...text.matchAll(/\{!([^}]+)\}/g)].map((m) => m[1].trim());
}

/** Resolves the merge fields of a text. */
export function merge(frame: Frame, text: string, env: ValueEnv): string {
  return text.replace(/\{!([^}]+)\}/g, (_m, r: string) => asText(resolve(frame, r.trim(), env)));
}

// --- conditions ------------------------------------------------------------------------------

const isNum = (v: unknown): v is number => typeof v === 'number';
const numeric = (v: FlowData): number | null =>
  isNum(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null;

/** Flow equality: null = null, null ≠ "", numbers numerically, text exactly, records and lists by value. */
export function flowEquals(a: FlowData, b: FlowData): boolean {
  if (a === null || b === null) return a === b;
  if (isNum(a) || isNum(b)) {
    const x = numeric(a);
    const y = numeric(b);
    return x !== null && y !== null && x === y;
  }
  if (typeof a === 'object' || typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

function compare(a: FlowData, b: FlowData): number | null {
  if (a === null || b === null || typeof a === 'object' || typeof b === 'object') return null;
  if (isNum(a) || isNum(b)) {
    const x = numeric(a);
    const y = numeric(b);
    return x === null || y === null ? null : x - y;
  }
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** One operator applied to resolved values. */
export function applyOperator(op: Condition['operator'], left: FlowData, right: FlowData): boolean {
  switch (op) {
    case 'EqualTo':
      return flowEquals(left, right);
    case 'NotEqualTo':
      return !flowEquals(left, right);
    case 'GreaterThan':
    case 'GreaterThanOrEqualTo':
    case 'LessThan':
    case 'LessThanOrEqualTo': {
      const c = compare(left, right);
      if (c === null) return false;
      return op === 'GreaterThan' ? c > 0 : op === 'GreaterThanOrEqualTo' ? c >= 0 : op === 'LessThan' ? c < 0 : c <= 0;
    }
    case 'StartsWith':
      return typeof left === 'string' && right !== null && left.startsWith(asText(right));
    case 'EndsWith':
      return typeof left === 'string' && right !== null && left.endsWith(asText(right));
    case 'Contains':
      if (Array.isArray(left)) return left.some((i) => flowEquals(i, right));
      return typeof left === 'string' && right !== null && left.includes(asText(right));
    case 'IsNull':
      return (left === null) === (right !== false);
    case 'IsBlank':
    case 'IsEmpty': {
      const blank = left === null || left === '' || (Array.isArray(left) && left.length === 0);
      return blank === (right !== false);
    }
    case 'In':
      return Array.isArray(right) && right.some((i) => flowEquals(i, left));
    case 'NotIn':
      return !(Array.isArray(right) && right.some((i) => flowEquals(i, left)));
  }
}

/** A condition set: `and`, `or` or custom logic over 1-based condition numbers. */
export function evaluateConditions(set: ConditionSet, test: (c: Condition) => boolean): boolean {
  const l = set.logic.trim().toLowerCase();
  if (l === 'and') return set.conditions.every(test);
  if (l === 'or') return set.conditions.some(test);
  return evaluateLogic(set.logic, (i) => {
    const c = set.conditions[i - 1];
    if (!c) throw new FlowFault(`The condition logic '${set.logic}' names condition ${i}, which doesn't exist.`);
    return test(c);
  });
}

/** Evaluates custom condition logic such as `1 AND (2 OR NOT 3)`. */
export function evaluateLogic(logic: string, cond: (i: number) => boolean): boolean {
  const tokens = logic.match(/\d+|AND|OR|NOT|\(|\)/gi) ?? [];
  let pos = 0;
  const peek = () => tokens[pos]?.toUpperCase();
  const fail = (): never => {
    throw new FlowFault(`The condition logic '${logic}' is malformed.`);
  };
  // Parsed into thunks first, then evaluated lazily (AND/OR short-circuit, like the outcome's own and/or).
  type Thunk = () => boolean;
  const primary = (): Thunk => {
    const t = peek();
    if (t === '(') {
      pos++;
      const v = or();
      if (peek() !== ')') fail();
      pos++;
      return v;
    }
    if (t === 'NOT') {
      pos++;
      const v = primary();
      return () => !v();
    }
    if (t && /^\d+$/.test(t)) {
      pos++;
      const n = Number(t);
      return () => cond(n);
    }
    return fail();
  };
  const and = (): Thunk => {
    const parts = [primary()];
    while (peek() === 'AND') {
      pos++;
      parts.push(primary());
    }
    return () => parts.every((p) => p());
  };
  const or = (): Thunk => {
    const parts = [and()];
    while (peek() === 'OR') {
      pos++;
      parts.push(and());
    }
    return () => parts.some((p) => p());
  };
  const v = or();
  if (pos !== tokens.length) fail();
  return v();
}

/** Evaluates a condition set against the frame. */
export function conditionsHold(frame: Frame, set: ConditionSet, env: ValueEnv): boolean {
  return evaluateConditions(set, (c) => applyOperator(c.operator, resolve(frame, c.left, env), valueOf(frame, c.right, env)));
}

// --- assignments ---------------------------------------------------------------------------

/** The declared variable a target reference writes (its head). */
export function variableOf(def: FlowDefinition, ref: string): FlowVariable | undefined {
  const head = ref.split('.')[0];
  return def.variables.find((v) => v.name === head);
}

/** Writes `Var` or `Var.Field` (a null record becomes a new empty record). Mutates the frame. */
export function write(frame: Frame, ref: string, value: FlowData): void {
  const dot = ref.indexOf('.');
  if (dot < 0) {
    frame.values[ref] = clone(value);
    return;
  }
  const head = ref.slice(0, dot);
  const field = ref.slice(dot + 1);
  let rec = frame.values[head];
  if (rec === null || rec === undefined) rec = {};
  if (Array.isArray(rec) || typeof rec !== 'object') throw new FlowFault(`The flow can't assign ${ref}: ${head} is not a record.`);
  if (value !== null && typeof value === 'object') throw new FlowFault(`The flow can't assign a record or collection to the field ${ref}.`);
  frame.values[head] = { ...rec, [field]: value };
}

const asList = (v: FlowData): FlowData[] => (v === null ? [] : Array.isArray(v) ? v : [v]);

function addDays(date: string, days: number): string {
  const d = new Date(`${date.slice(0, 10)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** One assignment item applied to the frame (mutates it). */
export function assign(frame: Frame, target: string, op: AssignmentOperator, value: FlowData, env: ValueEnv): void {
  const variable = variableOf(env.def, target);
  const isCollection = !target.includes('.') && (variable?.isCollection ?? Array.isArray(frame.values[target]));
  const current = target.includes('.') || target in frame.values ? resolve(frame, target, { ...env, nullRecordField: 'null' }) : null;
  const dataType = target.includes('.') ? null : (variable?.dataType ?? null);
  switch (op) {
    case 'Assign':
      if (isCollection && value !== null && !Array.isArray(value)) return write(frame, target, [value]);
      return write(frame, target, value);
    case 'Add':
      if (isCollection) return write(frame, target, [...asList(current), ...(Array.isArray(value) ? value : [value])]);
      if (dataType === 'Date' && typeof current === 'string' && isNum(value)) return write(frame, target, addDays(current, value));
      if (isNum(value) || isNum(current) || dataType === 'Number' || dataType === 'Currency') {
        const a = numeric(current) ?? 0;
        const b = numeric(value) ?? 0;
        return write(frame, target, a + b);
      }
      if (dataType === 'Boolean' || typeof value === 'boolean')
        throw new FlowFault(`The operator Add can't be used on the Boolean ${target}.`);
      if (dataType === 'Picklist' && typeof current === 'string' && current !== '') return write(frame, target, current + asText(value));
      return write(frame, target, asText(current) + asText(value));
    case 'Subtract':
      if (dataType === 'Date' && typeof current === 'string' && isNum(value)) return write(frame, target, addDays(current, -value));
      return write(frame, target, (numeric(current) ?? 0) - (numeric(value) ?? 0));
    case 'AddAtStart':
      return write(frame, target, [...(Array.isArray(value) ? value : [value]), ...asList(current)]);
    case 'AddItem': {
      const cur = asText(current);
      return write(frame, target, cur === '' ? asText(value) : `${cur};${asText(value)}`);
    }
    case 'AssignCount':
      return write(frame, target, asList(value).length);
    case 'RemoveFirst': {
      const list = [...asList(current)];
      const i = list.findIndex((x) => flowEquals(x, value));
      if (i >= 0) list.splice(i, 1);
      return write(frame, target, list);
    }
    case 'RemoveAll':
      return write(
        frame,
        target,
        asList(current).filter((x) => !asList(value).some((y) => flowEquals(x, y))),
      );
    case 'RemoveAfterFirst': {
      const list = asList(current);
      const i = list.findIndex((x) => flowEquals(x, value));
      return write(frame, target, i < 0 ? list : list.slice(0, i + 1));
    }
    case 'RemoveBeforeFirst': {
      const list = asList(current);
      const i = list.findIndex((x) => flowEquals(x, value));
      return write(frame, target, i < 0 ? list : list.slice(i));
    }
    case 'RemovePosition': {
      const list = [...asList(current)];
      const n = numeric(value);
      if (n === null || !Number.isInteger(n) || n < 1 || n > list.length)
        throw new FlowFault(`The position ${asText(value)} is outside the collection ${target} (1 to ${list.length}).`);
      list.splice(n - 1, 1);
      return write(frame, target, list);
    }
    case 'RemoveUncommon':
      return write(
        frame,
        target,
        asList(current).filter((x) => asList(value).some((y) => flowEquals(x, y))),
      );
  }
}

/** Values a flow stores for a text subflow input passed as null (it arrives as ""). */
export function isTextType(v: FlowVariable): boolean {
  return !v.isCollection && (v.dataType === 'String' || v.dataType === 'Picklist' || v.dataType === 'Multipicklist');
}
