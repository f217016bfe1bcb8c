/**
 * Durable flow interviews: a running instance of a store's Flow metadata, stored in the internal
 * FlowInterview table (SQLite and PostgreSQL alike) so every engine process on one database sees
 * it and a restart loses nothing but the navigate that was running.
 *
 * A navigate never runs elements twice: it first claims the row with a compare-and-set on its
 * Version while no lease is live (LeaseOwner, LeaseUntil); a second navigate of the same interview
 * meanwhile gets INTERVIEW_BUSY (409) and runs nothing. The claimer runs the flow runtime from the
 * stored state (renewing its lease while it runs) and writes the new state with a compare-and-set
 * on the claimed Version and its own lease. A process that dies mid-navigate leaves the stored
 * state at the last rest point (a screen, or the wait it stood on): once its lease has passed, the
 * next navigate claims the row and runs from there.
 *
 * Only the user who started an interview reads or navigates it: to anyone else it answers as a
 * missing id (NOT_FOUND).
 */
import { randomUUID } from 'node:crypto';
import { EngineError } from '../errors.js';
import { mintId, parseId } from '../domain/ids.js';
import type { FlowData, FlowHost, FlowRuntime, InterviewState, InterviewStatus, InterviewView, NavigateAction } from '../flows/contract.js';
import type { Row, Storage, StorageOps } from '../storage/port.js';
import { callerOf, type Caller } from './facts.js';
import { OBJECTS } from '../domain/objects.js';

const OBJECT = 'FlowInterview';
const USER_PREFIX = OBJECTS.get('User')!.keyPrefix;
/** A lease that is not held: any time in the past frees it, this one reads as "never held". */
const FREE = '1970-01-01T00:00:00.000Z';
/** The longest `waitMs` a navigate polls a waiting interview for. */
export const MAX_WAIT_MS = 120_000;
/** How often a waiting interview is re-checked while `waitMs` lasts. */
const WAIT_POLL_MS = 200;
/** The largest stored state (Salesforce refuses to save an interview above 1 MB). */
const MAX_STATE_CHARS = 1_000_000;
/** The largest inputs or answers a call takes (JSON text). */
const MAX_INPUT_CHARS = 100_000;

/** A screen field as the interview shows it. */
export interface InterviewScreenField {
  name: string;
  /** The component (`forceCommunity:commerceDelivery`) of a component field, else null. */
  extensionName: string | null;
  /** `DisplayText`, `ComponentInstance`, `InputField`, … */
  fieldType: string;
  /** Resolved input parameters. */
  inputs: Record<string, FlowData>;
  /** The output parameters an answer may set. */
  outputNames: string[];
  isRequired: boolean;
}

/** The screen a paused interview shows. */
export interface InterviewScreen {
  name: string;
  label: string;
  fields: InterviewScreenField[];
  /** What navigate accepts here. */
  availableActions: NavigateAction[];
}

/** A flow interview as its user sees it. */
export interface Interview {
  /** 18-character FlowInterview id (key prefix 0Fo). */
  id: string;
  flowApiName: string;
  /** Paused at a screen, Waiting on a processing checkout session, Finished, or Error. */
  status: InterviewStatus;
  screen?: InterviewScreen;
  /** Where a finished checkout flow sends the buyer (`flowRedirect`). */
  redirect?: { pageName: string; recordId: string | null };
  error?: { message: string };
  /** The top flow's output variables, once Finished. */
  outputs?: Record<string, FlowData>;
}

/** What `navigate` takes. */
export interface NavigateRequest {
  /** NEXT or FINISH (as the screen offers), BACK to the previous screen, PAUSE where allowed. */
  action: NavigateAction;
  /** Screen field name → output parameter name → value. */
  answers?: Record<string, Record<string, FlowData>>;
  /** A Waiting interview: how long (ms, at most 120000) to keep re-checking before answering Waiting. */
  waitMs?: number;
}

/** A navigate as the session history records it. */
export interface InterviewEvent {
  interviewId: string;
  flowApiName: string;
  cartId: string;
  userId: string;
  action: NavigateAction | 'START' | 'RESUME';
  before: { status: InterviewStatus | null; element: string | null };
  after: { status: InterviewStatus; element: string | null };
}

/** A start or navigate as stored: what the inspector shows of it. */
export interface StoredInterviewEvent {
  interviewId: string;
  flowApiName: string;
  userId: string;
  cartId: string | null;
  action: InterviewEvent['action'];
  answers?: Record<string, Record<string, FlowData>>;
  view: InterviewView;
}

/** An interview as its user's list shows it (the statechart page). */
export interface InterviewSummary {
  id: string;
  flowApiName: string;
  status: InterviewStatus;
  /** The element it stands on (null once Finished or in Error). */
  currentElement: string | null;
  /** Flow API names from the top flow down to the subflow holding the current element. */
  stack: string[];
  cartId: string | null;
  createdDate: string;
  lastModifiedDate: string;
}

/** What the interview store needs from the engine. */
export interface InterviewDeps {
  storage(): Storage;
  now(): Date;
  /** The runtime over the loaded flows. */
  runtime(): FlowRuntime;
  /** A host running `flowApiName`'s interview as `caller` (the user the call loaded; active, else INVALID_SESSION). */
  host(caller: Caller, flowApiName: string): Promise<FlowHost>;
  /** Whether `caller` may read the cart (by id); false answers as a missing cart. */
  canReadCart(cartId: string, caller: Caller): Promise<boolean>;
  /** How long a navigate's claim lasts without renewal (ms). */
  leaseMs: number;
  /**
   * Told when an interview that names a cart finishes: the engine closes the cart when its checkout
   * is done (an Activated order) and the flow left it Checkout.
   */
  onFinished?(cartId: string): Promise<void>;
  /** Told of every start and navigate of an interview that names a cart (the session history). */
  onEvent?(event: InterviewEvent): Promise<void>;
  /**
   * `onEvent`'s history entry written in `tx`, the transaction saving a navigate (one transaction for
   * both); returns what tells listeners once it committed (undefined: nothing was written).
   */
  recordEventIn?(tx: StorageOps, event: InterviewEvent): Promise<(() => void) | undefined>;
  /** Told of every start and navigate once stored, with the answers and the new view (the Stately inspector). */
  onStored?(stored: StoredInterviewEvent): void;
  onError(e: unknown): void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** A JSON-safe flow value check (scalars, records, lists), so nothing but data reaches the runtime or the table. */
function checkData(v: unknown, path: string, depth = 0): void {
  if (depth > 20) throw new EngineError('INVALID_INPUT', `'${path}' is nested too deeply.`, [path.split(/[.[]/)[0]!]);
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new EngineError('INVALID_INPUT', `'${path}' must be a finite number.`, [path.split(/[.[]/)[0]!]);
    return;
  }
  if (Array.isArray(v)) return v.forEach((x, i) => checkData(x, `${path}[${i}]`, depth + 1));
  if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) checkData(x, `${path}.${k}`, depth + 1);
    return;
  }
  throw new EngineError('INVALID_INPUT', `'${path}' must be text, a number, a boolean, null, a record or a list, not ${typeof v}.`, [
    path.split(/[.[]/)[0]!,
  ]);
}

/** Runs a check of a caller's value: anything but a table error it throws (a hostile getter, a proxy) is INVALID_INPUT naming `field`. */
function guarded<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EngineError) throw e;
    throw new EngineError('INVALID_INPUT', `'${field}' could not be read as plain data.`, [field]);
  }
}

function checkSize(v: unknown, field: string): void {
  if (JSON.stringify(v).length > MAX_INPUT_CHARS)
    throw new EngineError('INVALID_INPUT', `'${field}' is larger than ${MAX_INPUT_CHARS} characters of JSON.`, [field]);
}

/** The interview's view as its user sees it. */
export function interviewOf(id: string, flowApiName: string, view: InterviewView): Interview {
  const out: Interview = { id, flowApiName, status: view.status };
  if (view.screen) {
    out.screen = {
      name: view.screen.name,
      label: view.screen.label,
      fields: view.screen.fields.map((f) => ({
        name: f.name,
        extensionName: f.extensionName ?? null,
        fieldType: f.fieldType,
        inputs: f.inputs,
        outputNames: f.outputNames,
        isRequired: f.isRequired,
      })),
      availableActions: view.screen.availableActions,
    };
  }
  if (view.redirect) out.redirect = view.redirect;
  if (view.error) out.error = view.error;
  if (view.outputs) out.outputs = view.outputs;
  return out;
}

/** A valid interview id (15 or 18 characters, prefix 0Fo), normalized to 18, or MALFORMED_ID naming `interviewId`. */
export function interviewId(id: unknown): string {
  const p = parseId(id, ['0Fo']);
  if (!p.ok) throw new EngineError('INVALID_ID_FIELD', `interviewId: ${p.message}`, ['interviewId']);
  return p.id;
}

/** The first input whose value is a WebCart id (the cart the interview works on), with its name. */
function cartInput(inputs: Record<string, FlowData>): { name: string; id: string } | undefined {
  for (const [name, v] of Object.entries(inputs)) {
    if (typeof v !== 'string') continue;
    const p = parseId(v, ['0a6']);
    if (p.ok) return { name, id: p.id };
  }
  return undefined;
}

/** The durable interview store: start, read and navigate interviews with claims and compare-and-set. */
export class InterviewStore {
  constructor(private readonly deps: InterviewDeps) {}

  private stamp(offsetMs = 0): string {
    return new Date(this.deps.now().getTime() + offsetMs).toISOString();
  }

  private serialize(state: InterviewState): string {
    const text = JSON.stringify(state);
    if (text.length > MAX_STATE_CHARS)
      throw new EngineError(
        'INVALID_INPUT',
        `The interview's state would be ${text.length} characters; an interview saves at most ${MAX_STATE_CHARS}.`,
        ['inputs'],
      );
    return text;
  }

  /** The row of an interview its user may see, or NOT_FOUND (missing and someone else's alike). */
  private async visibleRow(id: string, userId: string): Promise<Row> {
    const row = await this.deps.storage().get(OBJECT, id);
    if (!row || row.OwnerUserId !== userId) throw new EngineError('NOT_FOUND', `No flow interview with id ${id}.`, ['interviewId']);
    return row;
  }

  private async event(
    row: { id: string; flowApiName: string; cartId: unknown; userId: string },
    action: InterviewEvent['action'],
    before: InterviewEvent['before'],
    after: InterviewView,
    answers?: Record<string, Record<string, FlowData>>,
    recorded?: { told: (() => void) | undefined },
  ): Promise<void> {
    try {
      this.deps.onStored?.({
        interviewId: row.id,
        flowApiName: row.flowApiName,
        userId: row.userId,
        cartId: typeof row.cartId === 'string' && row.cartId ? row.cartId : null,
        action,
        ...(answers ? { answers } : {}),
        view: after,
      });
    } catch (e) {
      this.deps.onError(e);
    }
    if (recorded) {
      // The history entry went in with the saved state: listeners hear of it now.
      try {
        recorded.told?.();
      } catch (e) {
        this.deps.onError(e);
      }
      return;
    }
    if (!this.deps.onEvent || typeof row.cartId !== 'string' || !row.cartId) return;
    try {
      await this.deps.onEvent({
        interviewId: row.id,
        flowApiName: row.flowApiName,
        cartId: row.cartId,
        userId: row.userId,
        action,
        before,
        after: { status: after.status, element: after.currentElement },
      });
    } catch (e) {
      this.deps.onError(e);
    }
  }

  /** Starts `flowApiName` as `caller` with `inputs`; runs it to its first rest point and stores it. */
  async start(flowApiName: unknown, inputs: unknown, caller: Caller): Promise<Interview> {
    const userId = caller.Id;
    if (typeof flowApiName !== 'string' || !flowApiName || flowApiName.length > 255) {
      throw new EngineError('INVALID_INPUT', 'flowApiName must be the API name of a loaded flow.', ['flowApiName']);
    }
    const inputValues = inputs ?? {};
    guarded('inputs', () => {
      if (!isPlainObject(inputValues))
        throw new EngineError('INVALID_INPUT', '\'inputs\' must be an object of input variable values, e.g. { "cartId": "0a6…" }.', [
          'inputs',
        ]);
      checkData(inputValues, 'inputs');
      checkSize(inputValues, 'inputs');
    });
    const runtime = this.deps.runtime();
    const names = runtime.flowNames();
    if (!names.includes(flowApiName)) {
      const listed = names.slice(0, 20).join(', ');
      throw new EngineError(
        'FLOW_NOT_FOUND',
        `'${flowApiName}'. Loaded: ${listed || '(none: pass flowSources or call loadFlows)'}${names.length > 20 ? ', …' : ''}.`,
        ['flowApiName'],
      );
    }
    const values = inputValues as Record<string, FlowData>;
    const cart = cartInput(values);
    if (cart && !(await this.deps.canReadCart(cart.id, caller))) {
      throw new EngineError('NOT_FOUND', `No WebCart with id ${cart.id} (input '${cart.name}').`, [cart.name]);
    }
    const host = await this.deps.host(caller, flowApiName);
    const state = await runtime.start(flowApiName, cart ? { ...values, [cart.name]: cart.id } : values, host);
    const id = mintId('0Fo');
    const now = this.stamp();
    await this.deps.storage().insert(OBJECT, [
      {
        Id: id,
        FlowApiName: flowApiName,
        Status: state.view.status,
        OwnerUserId: userId,
        CartId: cart?.id ?? null,
        CurrentElement: state.view.currentElement,
        State: this.serialize(state),
        Version: 1,
        LeaseOwner: null,
        LeaseUntil: FREE,
        CreatedDate: now,
        LastModifiedDate: now,
      },
    ]);
    if (state.view.status === 'Finished' && cart) await this.deps.onFinished?.(cart.id);
    await this.event({ id, flowApiName, cartId: cart?.id, userId }, 'START', { status: null, element: null }, state.view);
    return interviewOf(id, flowApiName, state.view);
  }

  /** The interview as stored (no element runs: a Waiting one is re-checked by navigate). */
  async get(rawId: unknown, userId: string): Promise<Interview> {
    const id = interviewId(rawId);
    const row = await this.visibleRow(id, userId);
    const state = JSON.parse(String(row.State)) as InterviewState;
    return interviewOf(id, String(row.FlowApiName), state.view);
  }

  /** The user's interviews, newest first (at most `limit`), as the statechart page lists them. */
  async list(userId: string, limit = 200): Promise<InterviewSummary[]> {
    const rows = await this.deps.storage().find(OBJECT, {
      where: [{ field: 'OwnerUserId', op: '=', value: userId }],
      orderBy: [{ field: 'CreatedDate', direction: 'desc' }],
      limit,
    });
    return rows.map((r) => this.summaryOf(r));
  }

  /** One interview of the user with the element it stands on (another user's answers as a missing id: NOT_FOUND). */
  async summary(rawId: unknown, userId: string): Promise<InterviewSummary> {
    return this.summaryOf(await this.visibleRow(interviewId(rawId), userId));
  }

  private summaryOf(r: Row): InterviewSummary {
    const state = JSON.parse(String(r.State)) as InterviewState;
    return {
      id: String(r.Id),
      flowApiName: String(r.FlowApiName),
      status: state.view.status,
      currentElement: state.view.currentElement,
      stack: state.view.stack,
      cartId: typeof r.CartId === 'string' && r.CartId ? r.CartId : null,
      createdDate: String(r.CreatedDate),
      lastModifiedDate: String(r.LastModifiedDate),
    };
  }

  /** Checks a navigate request's shape (before any claim). */
  private request(nav: unknown): Required<Pick<NavigateRequest, 'action' | 'waitMs'>> & { answers: NavigateRequest['answers'] } {
    return guarded('action', () => this.requestOf(nav));
  }

  private requestOf(nav: unknown): Required<Pick<NavigateRequest, 'action' | 'waitMs'>> & { answers: NavigateRequest['answers'] } {
    if (!isPlainObject(nav))
      throw new EngineError('INVALID_INPUT', "navigate needs { action: 'NEXT' | 'BACK' | 'FINISH' | 'PAUSE', answers?, waitMs? }.", [
        'action',
      ]);
    const action = nav.action;
    if (action !== 'NEXT' && action !== 'BACK' && action !== 'FINISH' && action !== 'PAUSE') {
      throw new EngineError(
        'INVALID_INPUT',
        `action must be NEXT, BACK, FINISH or PAUSE, not ${typeof action === 'string' ? `'${action.slice(0, 40)}'` : typeof action}.`,
        ['action'],
      );
    }
    const answers = nav.answers;
    if (answers !== undefined && answers !== null) {
      if (!isPlainObject(answers))
        throw new EngineError('INVALID_INPUT', 'answers must be an object: screen field name → { output parameter → value }.', ['answers']);
      for (const [field, values] of Object.entries(answers)) {
        if (!isPlainObject(values))
          throw new EngineError('INVALID_INPUT', `answers.${field} must be an object of output parameter values.`, ['answers']);
      }
      checkData(answers, 'answers');
      checkSize(answers, 'answers');
    }
    const waitMs = nav.waitMs ?? 0;
    if (typeof waitMs !== 'number' || !Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_WAIT_MS) {
      throw new EngineError('INVALID_INPUT', `waitMs must be a whole number of milliseconds from 0 to ${MAX_WAIT_MS}.`, ['waitMs']);
    }
    return { action, answers: (answers ?? undefined) as NavigateRequest['answers'], waitMs };
  }

  /**
   * Navigates an interview as `caller`: a Paused one takes the action and answers; a Waiting one is
   * re-checked (for up to `waitMs`), the action then applying to nothing (the client sees the next
   * screen first). Claim, run, write back: see the file header.
   */
  async navigate(rawId: unknown, nav: unknown, caller: Caller): Promise<Interview> {
    const id = interviewId(rawId);
    const req = this.request(nav);
    return this.navigateRow(id, req, await this.visibleRow(id, caller.Id), caller);
  }

  /**
   * `navigate` as the user `userId` names, not read yet: the interview and its owner come in one
   * read, the owner being the caller when the interview is theirs. `loadCaller` reads the caller on
   * its own when it isn't (its error — an unknown user — comes first, as when the caller is read
   * before anything else), then the interview answers as missing.
   */
  async navigateFor(rawId: unknown, nav: unknown, userId: unknown, loadCaller: () => Promise<Caller>): Promise<Interview> {
    let id: string;
    let req: ReturnType<InterviewStore['request']>;
    try {
      id = interviewId(rawId);
      req = this.request(nav);
    } catch (e) {
      await loadCaller();
      throw e;
    }
    const owner = parseId(userId, [USER_PREFIX]);
    const read = owner.ok ? await this.deps.storage().getWithRef(OBJECT, id, 'OwnerUserId', 'User') : undefined;
    if (!owner.ok || !read?.ref || read.row.OwnerUserId !== owner.id) {
      await loadCaller();
      throw new EngineError('NOT_FOUND', `No flow interview with id ${id}.`, ['interviewId']);
    }
    return this.navigateRow(id, req, read.row, callerOf(read.ref));
  }

  /** A navigate of the interview `row`, read and visible to `caller` (see `navigate`). */
  private async navigateRow(id: string, req: ReturnType<InterviewStore['request']>, row: Row, caller: Caller): Promise<Interview> {
    const userId = caller.Id;
    const storage = this.deps.storage();
    const status = String(row.Status) as InterviewStatus;
    if (status === 'Finished' || status === 'Error')
      throw new EngineError('INTERVIEW_ENDED', `Interview ${id} is ${status}.`, ['interviewId']);
    const version = Number(row.Version);
    const now = this.stamp();
    if (row.LeaseOwner && String(row.LeaseUntil) > now) throw new EngineError('INTERVIEW_BUSY', `Interview ${id}.`, ['interviewId']);
    // The claim: only one request moves the row from this Version while no lease is live.
    const token = randomUUID();
    const claimed = await storage.update(
      OBJECT,
      id,
      { Version: version + 1, LeaseOwner: token, LeaseUntil: this.stamp(this.deps.leaseMs) },
      [
        { field: 'Version', op: '=', value: version },
        { field: 'LeaseUntil', op: '<=', value: now },
      ],
    );
    if (!claimed) throw new EngineError('INTERVIEW_BUSY', `Interview ${id}.`, ['interviewId']);
    const mine = [
      { field: 'Version', op: '=' as const, value: version + 1 },
      { field: 'LeaseOwner', op: '=' as const, value: token },
    ];
    const renew = setInterval(
      () => void storage.update(OBJECT, id, { LeaseUntil: this.stamp(this.deps.leaseMs) }, mine).catch((e) => this.deps.onError(e)),
      Math.max(50, Math.floor(this.deps.leaseMs / 3)),
    );
    renew.unref?.();
    let state = JSON.parse(String(row.State)) as InterviewState;
    const before = { status: state.view.status, element: state.view.currentElement };
    try {
      const runtime = this.deps.runtime();
      const host = await this.deps.host(caller, String(row.FlowApiName));
      if (state.view.status === 'Waiting') {
        const deadline = Date.now() + req.waitMs;
        state = await runtime.resume(state, host);
        while (state.view.status === 'Waiting' && Date.now() < deadline) {
          await sleep(Math.min(WAIT_POLL_MS, Math.max(0, deadline - Date.now())));
          state = await runtime.resume(state, host);
        }
      } else {
        state = await runtime.navigate(state, req.answers ? { action: req.action, answers: req.answers } : { action: req.action }, host);
      }
    } catch (e) {
      clearInterval(renew);
      // Nothing ran to a new rest point (or the runtime refused the request): free the claim, keep the state.
      await storage.update(OBJECT, id, { LeaseOwner: null, LeaseUntil: FREE }, mine).catch((err) => this.deps.onError(err));
      throw e;
    }
    clearInterval(renew);
    const flowApiName = String(row.FlowApiName);
    const cartId = typeof row.CartId === 'string' && row.CartId ? row.CartId : null;
    const action = before.status === 'Waiting' ? 'RESUME' : req.action;
    const saved = {
      Version: version + 2,
      Status: state.view.status,
      CurrentElement: state.view.currentElement,
      State: this.serialize(state),
      LeaseOwner: null,
      LeaseUntil: FREE,
      LastModifiedDate: this.stamp(),
    };
    let written: boolean | undefined;
    let recorded: { told: (() => void) | undefined } | undefined;
    if (this.deps.recordEventIn && cartId && state.view.status !== 'Finished') {
      const deps = this.deps as Required<Pick<InterviewDeps, 'recordEventIn'>>;
      // The state and its history entry in one transaction (a finished one closes its cart first, below).
      const event: InterviewEvent = {
        interviewId: id,
        flowApiName,
        cartId,
        userId,
        action,
        before,
        after: { status: state.view.status, element: state.view.currentElement },
      };
      let failing: 'save' | 'history' = 'save';
      try {
        written = await storage.transaction(async (tx) => {
          if (!(await tx.update(OBJECT, id, saved, mine))) return false;
          failing = 'history';
          recorded = { told: await deps.recordEventIn(tx, event) };
          failing = 'save';
          return true;
        });
      } catch (e) {
        // A failed save throws as ever; a failed history entry took the save back with it: the state is
        // saved below and the entry written on its own, as without a shared transaction (its failure only reported).
        if (failing === 'save') throw e;
        written = undefined;
        recorded = undefined;
      }
    }
    written ??= await storage.update(OBJECT, id, saved, mine);
    if (!written)
      throw new EngineError(
        'INTERVIEW_BUSY',
        `Interview ${id}: its claim ran out and another request took it over; this navigate's state was not saved.`,
        ['interviewId'],
      );
    if (state.view.status === 'Finished' && cartId) await this.deps.onFinished?.(cartId);
    await this.event(
      { id, flowApiName, cartId: row.CartId, userId },
      action,
      before,
      state.view,
      action === 'RESUME' ? undefined : req.answers,
      recorded,
    );
    return interviewOf(id, flowApiName, state.view);
  }
}
