/**
 * The contract between the flow language (src/flows: Flow metadata parsed, checked, compiled into
 * XState machines and interpreted) and the engine that hosts interviews (storage, access, core
 * actions, Apex and component stand-ins). The flow language never imports the engine; the engine
 * implements `FlowHost` and calls `FlowRuntime`.
 */

/** A scalar a flow resource holds: text, number, boolean, or null (unset). Dates are ISO text. */
export type FlowScalar = string | number | boolean | null;
/** An SObject variable: field API name → value (exactly the fields it was given or queried). */
export interface FlowRecord {
  [field: string]: FlowScalar;
}
/** Any value of a flow resource: a scalar, a record, or a collection of either. */
export type FlowData = FlowScalar | FlowRecord | FlowData[];

/** `runInMode` of a flow (absent in the XML ⇒ DefaultMode). */
export type RunMode = 'DefaultMode' | 'SystemModeWithSharing' | 'SystemModeWithoutSharing';

/**
 * How record elements reach the data: `user` = the running user's object, field and sharing rules
 * (DefaultMode launched by a buyer); `systemWithSharing` = no object or field checks, row sharing
 * kept; `system` = all rows.
 */
export type RecordAccessMode = 'user' | 'systemWithSharing' | 'system';

/** One filter of a Get/Update/Delete Records element, its value already resolved. */
export interface RecordFilter {
  field: string;
  operator:
    | 'EqualTo'
    | 'NotEqualTo'
    | 'GreaterThan'
    | 'GreaterThanOrEqualTo'
    | 'LessThan'
    | 'LessThanOrEqualTo'
    | 'StartsWith'
    | 'EndsWith'
    | 'Contains'
    | 'IsNull';
  value: FlowScalar;
}

/** A Get Records query, values resolved. `fields` null = every field of the object. */
export interface RecordQuery {
  object: string;
  filters: RecordFilter[];
  /** `and`, `or`, or custom logic such as `1 AND (2 OR 3)`. */
  filterLogic: string;
  fields: string[] | null;
  sortField?: string;
  sortOrder?: 'Asc' | 'Desc';
  limit?: number;
}

/** The element failed: the interview follows the element's fault connector with this message as $Flow.FaultMessage, or fails. */
export class FlowFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlowFault';
  }
}

/**
 * What a running interview needs from the engine. Every call runs as `userId`, with the record
 * access mode of the flow frame that makes it. A failure the flow may catch is thrown as a
 * `FlowFault` (any other error is a fault too, with its message).
 */
export interface FlowHost {
  /** The user the interview runs as (the buyer who started it). */
  readonly userId: string;
  /** A core action (actionType = actionName = the engine action name), one input; outputs by name. */
  invokeCoreAction(actionName: string, inputs: Record<string, FlowData>): Promise<Record<string, FlowData>>;
  /**
   * An Apex invocable by class name (actionType `apex`). The flow passes single values; the host
   * applies the bulk contract (list in, one result per input) and returns the outputs by name
   * (`output` when the method returns a plain list).
   */
  invokeApex(className: string, inputs: Record<string, FlowData>): Promise<Record<string, FlowData>>;
  queryRecords(query: RecordQuery, mode: RecordAccessMode): Promise<FlowRecord[]>;
  /** Update by reference: each record by its Id, every field it holds (unchanged values included). */
  updateRecords(object: string, records: FlowRecord[], mode: RecordAccessMode): Promise<void>;
  /** Update by filter: every matching row gets `fields`. Zero matches is not a fault. */
  updateWhere(object: string, filters: RecordFilter[], filterLogic: string, fields: FlowRecord, mode: RecordAccessMode): Promise<number>;
  /** Create one record; returns its Id. */
  createRecord(object: string, fields: FlowRecord, mode: RecordAccessMode): Promise<string>;
  deleteRecords(object: string, ids: string[], mode: RecordAccessMode): Promise<void>;
  /**
   * A screen component that does work itself (payment components …), registered by extension
   * name: called on NEXT/FINISH with its resolved inputs and the buyer's answers; returns the
   * component's outputs (defaults to the answers).
   */
  runComponent(
    extensionName: string,
    inputs: Record<string, FlowData>,
    answers: Record<string, FlowData>,
  ): Promise<Record<string, FlowData>>;
  /** Wait screens (`forceCommunity:commerceScreenWait`): is the checkout session still processing? */
  isSessionProcessing(sessionId: string): Promise<boolean>;
}

/** What the loader needs to know exists outside the flow files (to report what has no stand-in). */
export interface FlowRegistry {
  /** Core action names (`priceCart`, `cartToOrderAction`, …). */
  coreActions: ReadonlySet<string>;
  /** Apex class names with a stand-in. */
  apex: ReadonlySet<string>;
  /** Screen component extension names the runtime knows (built-ins and registered stand-ins). */
  components: ReadonlySet<string>;
}

/** One problem found while loading flows: never a silent skip. */
export interface FlowLoadIssue {
  /** The file it was found in (or the built-in flow's name). */
  file: string;
  /** The flow API name, when known. */
  flow?: string;
  /** The element (or resource) name, when the problem is inside one. */
  element?: string;
  message: string;
}

/** A screen as the interview shows it to the UI. */
export interface ScreenView {
  name: string;
  label: string;
  fields: ScreenFieldView[];
  /** What navigate accepts here: NEXT or FINISH, BACK when an earlier screen exists and allowBack, PAUSE when allowed. */
  availableActions: Array<'NEXT' | 'BACK' | 'FINISH' | 'PAUSE'>;
}

export interface ScreenFieldView {
  name: string;
  /** `DisplayText`, `ComponentInstance`, `InputField`, … */
  fieldType: string;
  /** The component (`forceCommunity:commerceDelivery`) for ComponentInstance fields. */
  extensionName?: string;
  /** Resolved input parameters (DisplayText: `{ text }` with merges resolved). */
  inputs: Record<string, FlowData>;
  /** The output parameters an answer may set. */
  outputNames: string[];
  isRequired: boolean;
}

export type InterviewStatus = 'Paused' | 'Waiting' | 'Finished' | 'Error';

/** The public view of an interview, derived from its stored state. */
export interface InterviewView {
  status: InterviewStatus;
  /** The element the interview stands on (the screen, or the last element run). */
  currentElement: string | null;
  /** Flow API names from the top flow down to the subflow holding the current element. */
  stack: string[];
  screen?: ScreenView;
  redirect?: { pageName: string; recordId: string | null };
  error?: { message: string };
  /** `isOutput` variables of the top flow once Finished. */
  outputs?: Record<string, FlowData>;
}

export type NavigateAction = 'NEXT' | 'BACK' | 'FINISH' | 'PAUSE';

/** `answers` keyed by screen field name, then output parameter name. */
export interface Navigation {
  action: NavigateAction;
  answers?: Record<string, Record<string, FlowData>>;
}

/** What the engine stores for an interview (JSON): the machine snapshot and the derived view. */
export interface InterviewState {
  flowApiName: string;
  /** XState persisted snapshot of the compiled top flow (subflow frames inside). */
  snapshot: unknown;
  view: InterviewView;
}

/**
 * The flow language's face to the engine (implemented in src/flows/runtime.ts). `start` and
 * `navigate` run elements until the interview stops at a screen, finishes, fails, or waits on a
 * processing session; they return the new state for the engine to store (compare-and-set).
 */
export interface FlowRuntime {
  /** API names of the flows it can start (loaded files and built-ins). */
  flowNames(): string[];
  start(flowApiName: string, inputs: Record<string, FlowData>, host: FlowHost): Promise<InterviewState>;
  /** Refuses (throws the engine error naming the field or action) without changing anything when the answers or action don't fit the screen. */
  navigate(state: InterviewState, nav: Navigation, host: FlowHost): Promise<InterviewState>;
  /** A Waiting interview: re-check its wait screen and move on when the session stopped processing. */
  resume(state: InterviewState, host: FlowHost): Promise<InterviewState>;
}
