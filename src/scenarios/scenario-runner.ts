/**
 * Runs scenarios: each on a fresh engine (SQLite in memory; a temp SQLite file when the scenario
 * restarts the engine, since an in-memory database can't outlive its engine; or a location given
 * with `db`), directly against the engine or (`over: 'http'`) through the REST API of an in-process
 * server on 127.0.0.1 port 0. Every step's expectations are checked; a scenario stops at its first
 * failing step and reports the failing expectation with the session history it observed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { createCheckoutEngine, type CheckoutEngine } from '../engine/engine.js';
import { runCheckout, type CheckoutDriver, type CheckoutRun, type RunCheckoutOptions } from '../engine/checkout-runner.js';
import { demoFixture, type DemoOptions } from '../demo/fixture.js';
import { demoCatalogFixture } from '../demo/run-demo.js';
import { parseFixture } from '../engine/seed.js';
import { DEFAULT_INTEGRATIONS } from '../integrations/defaults.js';
import { EngineError, ERRORS, toEngineError } from '../errors.js';
// The HTTP server (Fastify) is loaded only when a scenario runs over HTTP, so the library entry stays free of it.
import type { RunningServer } from '../http/server.js';
import type { InvocationResult } from '../actions/index.js';
import type { Row } from '../storage/port.js';
import type { Interview, NavigateRequest } from '../engine/interviews.js';
import { checkInvariants, orderTotalsProblem } from './invariants.js';
import { bossSchemaFor } from '../engine/queue/names.js';
import { loadScenario, scenarioDir, ScenarioFileError, type LoadedScenario } from './loader.js';
import { STEP_KINDS, type ExpectDoc, type MatcherDoc, type ScenarioDoc, type StepDoc } from './schema.js';

/** How scenarios run. */
export interface ScenarioRunOptions {
  /** `engine` (default): call the engine; `http`: the same steps through the REST API. */
  over?: 'engine' | 'http';
  /**
   * Where each scenario's database lives: unset = SQLite in memory (a temp file when it restarts);
   * a directory = one fresh SQLite file per scenario in it; a postgres:// URL = one fresh schema each.
   */
  db?: string;
  /** Scenarios run at once (default 4). */
  concurrency?: number;
  /** Check the engine invariants after every step too (default true). */
  invariants?: boolean;
  /**
   * Keep each scenario's PostgreSQL schemas (the engine's and its pg-boss queue's) after it ran;
   * by default they are dropped. SQLite files in a `db` folder are always kept.
   */
  keep?: boolean;
}

/** One entry of the history the runner observed: a session's fields after a step. */
export interface ScenarioHistoryEntry {
  step: number;
  sessionId: string;
  cartId: string;
  State: string | null;
  NextState: string | null;
  IsProcessing: boolean;
  IsError: boolean;
  IsArchived: boolean;
}

/** A failed expectation. */
export interface ScenarioFailure {
  /** Step index (0-based) and its line in the file. */
  step: number;
  line: number;
  label: string;
  message: string;
}

/** The outcome of one scenario. */
export interface ScenarioResult {
  file: string;
  name: string;
  passed: boolean;
  /** Steps that ran (all of them when the scenario passed). */
  stepsRun: number;
  stepCount: number;
  failure: ScenarioFailure | null;
  history: ScenarioHistoryEntry[];
  /** How long the scenario took (loading, engine start, steps and cleanup), in milliseconds. */
  durationMs: number;
  /** The PostgreSQL schema the scenario ran in (with `db` a postgres:// URL). */
  schema?: string;
}

/** A call's outcome, the same shape over the engine and over HTTP. */
type Outcome =
  | { ok: true; outputs: Record<string, unknown>; id?: string }
  | { ok: false; code: string; status: number; message: string; fields: string[] };

/** The calls a scenario makes: on the engine, or through REST. */
interface Driver {
  invoke(action: string, input: Record<string, unknown>, userId: string): Promise<Outcome>;
  create(type: string, fields: Record<string, unknown>, userId: string): Promise<Outcome>;
  update(type: string, id: string, fields: Record<string, unknown>, userId: string): Promise<Outcome>;
  remove(type: string, id: string, userId: string): Promise<Outcome>;
  runCheckout(cartId: string, opts: RunCheckoutOptions): Promise<CheckoutRun>;
  startInterview(flow: string, inputs: Record<string, unknown>, userId: string): Promise<InterviewOutcome>;
  navigate(interviewId: string, nav: NavigateRequest, userId: string): Promise<InterviewOutcome>;
  close(): Promise<void>;
}

/** An interview call's outcome: the call's (outputs = the interview's output variables) and the interview when it succeeded. */
type InterviewOutcome = { outcome: Outcome; interview?: Interview };
const fromInterview = (iv: Interview): InterviewOutcome => ({ outcome: { ok: true, outputs: iv.outputs ?? {}, id: iv.id }, interview: iv });

const fromError = (e: unknown): Outcome => {
  const err = toEngineError(e);
  return { ok: false, code: err.code, status: err.status, message: err.message, fields: err.fields };
};
const fromResult = (r: InvocationResult): Outcome =>
  r.isSuccess
    ? { ok: true, outputs: r.outputValues ?? {} }
    : { ok: false, code: r.errors![0]!.statusCode, status: r.httpStatus, message: r.errors![0]!.message, fields: r.errors![0]!.fields };

function engineDriver(engine: CheckoutEngine): Driver {
  const wrap = async (fn: () => Promise<Outcome>) => fn().catch(fromError);
  return {
    invoke: (a, input, userId) => wrap(async () => fromResult((await engine.invoke(a, [input], { userId }))[0]!)),
    create: (t, f, userId) => wrap(async () => ({ ok: true, outputs: {}, id: (await engine.createRecord(t, f, { userId })).id })),
    update: (t, id, f, userId) => wrap(async () => (await engine.updateRecord(t, id, f, { userId }), { ok: true, outputs: {} })),
    remove: (t, id, userId) => wrap(async () => (await engine.deleteRecord(t, id, { userId }), { ok: true, outputs: {} })),
    runCheckout: (cartId, opts) => engine.runCheckout(cartId, opts),
    startInterview: (flow, inputs, userId) =>
      engine.startInterview(flow, inputs, { userId }).then(fromInterview, (e: unknown) => ({ outcome: fromError(e) })),
    navigate: (id, nav, userId) => engine.navigate(id, nav, { userId }).then(fromInterview, (e: unknown) => ({ outcome: fromError(e) })),
    close: () => engine.close(),
  };
}

/** REST API version the HTTP driver calls. */
const V = '/services/data/v62.0';

async function httpDriver(engine: CheckoutEngine, passwords: Map<string, string>): Promise<Driver> {
  const { startServer } = await import('../http/server.js');
  const server: RunningServer = await startServer(engine, { port: 0, host: '127.0.0.1', log: false });
  const tokens = new Map<string, string>();
  const token = async (userId: string) => {
    const known = tokens.get(userId);
    if (known) return known;
    const user = await engine.admin.get('User', userId);
    const username = String(user?.Username ?? '');
    const password = passwords.get(username);
    if (!password) throw new Error(`over http, user '${username || userId}' logs in with its fixture Password, and the fixture gives none`);
    const res = await fetch(`${server.url}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'scenario',
        client_secret: 'scenario',
        username,
        password,
      }).toString(),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`login of ${username} failed: ${res.status} ${JSON.stringify(body)}`);
    tokens.set(userId, body.access_token);
    return body.access_token;
  };
  const call = async (method: string, path: string, userId: string, body?: unknown) => {
    const res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${await token(userId)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as any) : null };
  };
  const restError = (status: number, body: any): Outcome => {
    const e = Array.isArray(body) ? body[0] : body;
    return {
      ok: false,
      code: String(e?.errorCode ?? e?.error ?? 'UNKNOWN'),
      status,
      message: String(e?.message ?? ''),
      fields: e?.fields ?? [],
    };
  };
  const driver: Driver = {
    async invoke(action, input, userId) {
      const r = await call('POST', `${V}/actions/standard/${encodeURIComponent(action)}`, userId, { inputs: [input] });
      const item = Array.isArray(r.body) ? r.body[0] : undefined;
      if (!item || typeof item !== 'object' || !('isSuccess' in item)) return restError(r.status, r.body);
      if (item.isSuccess) return { ok: true, outputs: item.outputValues ?? {} };
      return {
        ok: false,
        code: item.errors[0].statusCode,
        status: r.status,
        message: item.errors[0].message,
        fields: item.errors[0].fields ?? [],
      };
    },
    async create(type, fields, userId) {
      const r = await call('POST', `${V}/sobjects/${type}`, userId, fields);
      return r.status === 201 ? { ok: true, outputs: {}, id: String(r.body.id) } : restError(r.status, r.body);
    },
    async update(type, id, fields, userId) {
      const r = await call('PATCH', `${V}/sobjects/${type}/${id}`, userId, fields);
      return r.status === 204 ? { ok: true, outputs: {} } : restError(r.status, r.body);
    },
    async remove(type, id, userId) {
      const r = await call('DELETE', `${V}/sobjects/${type}/${id}`, userId);
      return r.status === 204 ? { ok: true, outputs: {} } : restError(r.status, r.body);
    },
    // The flow runner makes its calls through this facade, so each of them goes over REST too.
    runCheckout(cartId, opts) {
      const facade: CheckoutDriver = {
        core: engine.core,
        admin: engine.admin,
        worker: engine.worker,
        invokeAny: async (action: string, inputs: unknown, o: { userId: string }): Promise<InvocationResult[]> => {
          const out = await driver.invoke(action, (inputs as Record<string, unknown>[])[0]!, o.userId);
          return [
            out.ok
              ? { actionName: action, errors: null, isSuccess: true, outputValues: out.outputs, version: 1, httpStatus: 200 }
              : {
                  actionName: action,
                  errors: [{ statusCode: out.code, message: out.message, fields: out.fields }],
                  isSuccess: false,
                  outputValues: null,
                  version: 1,
                  httpStatus: out.status,
                },
          ];
        },
        updateRecord: async (type: string, id: string, fields: unknown, o: { userId: string }) => {
          const out = await driver.update(type, id, fields as Record<string, unknown>, o.userId);
          if (!out.ok)
            throw Object.assign(new EngineError('INTERNAL', out.message), { code: out.code, status: out.status, message: out.message });
        },
      };
      return runCheckout(facade, cartId, opts);
    },
    async startInterview(flow, inputs, userId) {
      const r = await call('POST', `${V}/flows/${encodeURIComponent(flow)}/interviews`, userId, { inputs });
      return r.status === 201 ? fromInterview(r.body as Interview) : { outcome: restError(r.status, r.body) };
    },
    async navigate(id, nav, userId) {
      const r = await call('POST', `${V}/flows/interviews/${encodeURIComponent(id)}/navigate`, userId, nav);
      return r.status === 200 ? fromInterview(r.body as Interview) : { outcome: restError(r.status, r.body) };
    },
    close: () => server.close(),
  };
  return driver;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DEFAULT_CLOCK = '2026-01-15T12:00:00.000Z';

/** Runs one loaded scenario. */
export async function runScenario(loaded: LoadedScenario, opts: ScenarioRunOptions = {}, index = 0): Promise<ScenarioResult> {
  const started = performance.now();
  const doc: ScenarioDoc = loaded.doc;
  const history: ScenarioHistoryEntry[] = [];
  let schema: string | undefined;
  const result = (failure: ScenarioFailure | null, stepsRun: number): ScenarioResult => ({
    file: loaded.file,
    name: doc.name,
    passed: !failure,
    stepsRun,
    stepCount: doc.steps.length,
    failure,
    history,
    durationMs: 0, // stamped once the scenario is cleaned up
    ...(schema ? { schema } : {}),
  });
  const restarts = doc.steps.some((s) => 'restart' in s);
  let tempDir: string | undefined;
  let location = ':memory:';
  if (opts.db && /^postgres(ql)?:\/\//.test(opts.db)) {
    schema = `scn_${process.pid}_${Date.now().toString(36)}_${index}`;
    const url = new URL(opts.db);
    url.searchParams.set('schema', schema);
    location = url.toString();
  } else if (opts.db && opts.db !== ':memory:') {
    const base = resolve(opts.db);
    location = join(base, `${index}-${doc.name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}.db`);
    rmSync(location, { force: true });
    (await import('node:fs')).mkdirSync(base, { recursive: true });
  } else if (restarts) {
    tempDir = mkdtempSync(join(tmpdir(), 'checkout-scenario-'));
    location = join(tempDir, 'engine.db');
  }
  let now = Date.parse(doc.clock ?? DEFAULT_CLOCK);
  const clock = () => new Date(now);
  const held = new Map<string, () => void>();
  const overrides = new Map<string, (typeof DEFAULT_INTEGRATIONS)[string]>();
  const handles: Record<string, string> = {};
  const passwords = new Map<string, string>();
  // Flow metadata files are relative to the scenario file.
  const flowSources = doc.flowSources?.map((f) => (isAbsolute(f) ? f : resolve(scenarioDir(loaded.file), f)));
  const open = async () => {
    const engine = await createCheckoutEngine({
      storage: location,
      clock,
      onError: () => {},
      stepTimeoutMs: 5_000,
      ...(flowSources ? { flowSources } : {}),
    });
    for (const [name, p] of overrides) engine.registerIntegration(name, p);
    return engine;
  };
  let engine: CheckoutEngine | undefined;
  let driver: Driver | undefined;
  const connect = async () => {
    engine = await open();
    applyFlow(engine);
    driver = opts.over === 'http' ? await httpDriver(engine, passwords) : engineDriver(engine);
  };
  const flowId = doc.flow ?? 'default';
  const applyFlow = (e: CheckoutEngine) => {
    if (flowId === 'default' || !handles[(doc.store ?? '@store').slice(1)]) return;
    // The store's flow is engine configuration (storeFlows), which exists before the fixture's ids do.
    (e as unknown as { storeFlows: Record<string, string> }).storeFlows[resolveRef(doc.store ?? '@store')] = flowId;
  };
  const resolveRef = (v: string): string => {
    if (!v.startsWith('@')) return v;
    const id = handles[v.slice(1)];
    if (!id) throw new ScenarioStepError(`unknown handle '${v}' (known: ${Object.keys(handles).sort().join(', ') || 'none'})`);
    return id;
  };
  const resolveDeep = (v: unknown): unknown => {
    if (typeof v === 'string') return v.startsWith('@') ? resolveRef(v) : v;
    if (Array.isArray(v)) return v.map(resolveDeep);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveDeep(x)]));
    return v;
  };
  const userOf = (as: string | undefined) => resolveRef(`@${(as ?? 'buyer').replace(/^@/, '')}`);

  let i = -1;
  /** What the step handlers see of this run (the engine and driver change on a restart). */
  const stepContext = (): StepContext => ({
    engine: engine!,
    driver: driver!,
    step: i,
    handles,
    history,
    held,
    overrides,
    passwords,
    resolveRef,
    resolveDeep,
    userOf,
    advanceClock: (ms) => {
      now += ms;
    },
    async restart() {
      if (location === ':memory:') throw new ScenarioStepError('restart needs storage that outlives the engine');
      await engine!.whenIdle();
      await driver!.close();
      driver = undefined;
      await connect();
    },
  });
  let outcome: ScenarioResult;
  try {
    outcome = await steps();
  } finally {
    for (const release of held.values()) release();
    await engine?.whenIdle().catch(() => {});
    await driver?.close().catch(() => {});
    if (!driver) await engine?.close().catch(() => {});
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    if (schema && !opts.keep) await dropSchemas(opts.db!, [schema, bossSchemaFor(schema)]);
  }
  return { ...outcome, durationMs: performance.now() - started };

  async function steps(): Promise<ScenarioResult> {
    try {
      await connect();
      if (flowId !== 'default' && !engine!.core.flowIds().includes(flowId))
        throw new ScenarioStepError(`unknown flow '${flowId}' (known: ${engine!.core.flowIds().join(', ')})`);
      const fixture = fixtureOf(doc, loaded.file);
      rememberPasswords(fixture, passwords);
      Object.assign(handles, await engine!.seed(fixture));
      applyFlow(engine!);
      await observe(-1);

      for (i = 0; i < doc.steps.length; i++) {
        const step = doc.steps[i] as StepDoc;
        const exp: ExpectDoc | undefined = 'check' in step ? step.check : step.expect;
        const before = exp?.unchanged ? await dumpAll(engine!) : null;
        const { outcome, run, interview } = await performStep(stepContext(), step);
        await observe(i);
        const problems = await expectations(exp, outcome, run, interview);
        if (before) problems.push(...dumpDifferences(before, await dumpAll(engine!)));
        if (opts.invariants !== false) problems.push(...(await checkInvariants(engine!)).map((p) => `invariant: ${p}`));
        if (problems.length)
          return result({ step: i, line: loaded.stepLines[i] ?? 0, label: stepLabel(step), message: problems.join('\n') }, i + 1);
      }
      return result(null, doc.steps.length);
    } catch (e) {
      const message =
        e instanceof ScenarioStepError
          ? e.message
          : e instanceof EngineError
            ? `${e.code}: ${e.message}`
            : String((e as Error)?.stack ?? e);
      const step = Math.max(i, 0);
      return result(
        {
          step: i,
          line: i >= 0 ? (loaded.stepLines[step] ?? 0) : 1,
          label: i >= 0 ? stepLabel(doc.steps[step] as StepDoc) : 'fixture',
          message,
        },
        i + 1,
      );
    }
  }

  async function observe(step: number) {
    for (const s of await engine!.admin.find('CartCheckoutSession', { orderBy: [{ field: 'CreatedDate', direction: 'asc' }] })) {
      const entry: ScenarioHistoryEntry = {
        step,
        sessionId: String(s.Id),
        cartId: String(s.WebCartId),
        State: (s.State as string | null) ?? null,
        NextState: (s.NextState as string | null) ?? null,
        IsProcessing: s.IsProcessing === true,
        IsError: s.IsError === true,
        IsArchived: s.IsArchived === true,
      };
      const last = [...history].reverse().find((h) => h.sessionId === entry.sessionId);
      const same = last && (['State', 'NextState', 'IsProcessing', 'IsError', 'IsArchived'] as const).every((k) => last[k] === entry[k]);
      if (!same) history.push(entry);
    }
  }

  async function expectations(
    exp: ExpectDoc | undefined,
    outcome: Outcome | undefined,
    run: CheckoutRun | undefined,
    interview?: Interview,
  ): Promise<string[]> {
    const problems: string[] = [];
    const check = (what: string, actual: unknown, m: MatcherDoc) => checkValue(what, actual, m, resolveRef);
    const describeOutcome = (o: Outcome) =>
      o.ok
        ? `success ${JSON.stringify(o.outputs)}`
        : `${o.code} ${o.status}: ${o.message}${o.fields.length ? ` [${o.fields.join(', ')}]` : ''}`;
    // A call with no expectation about its result must succeed.
    const wantsFailure = exp?.success === false || !!exp?.error;
    if (outcome && !outcome.ok && !wantsFailure && !exp?.allowError) problems.push(`expected success, got ${describeOutcome(outcome)}`);
    if (outcome && !outcome.ok && outcome.message === ERRORS.INTERNAL.message)
      problems.push(`unexpected internal error: ${describeOutcome(outcome)}`);
    if (!exp) return problems;
    if (exp.success === true && outcome && !outcome.ok) {
      /* reported above */
    }
    if (wantsFailure && outcome?.ok)
      problems.push(`expected an error${exp.error ? ` ${exp.error.code}` : ''}, got ${describeOutcome(outcome)}`);
    if (exp.error && outcome && !outcome.ok) {
      if (outcome.code !== exp.error.code) problems.push(`error code: expected ${exp.error.code}, got ${describeOutcome(outcome)}`);
      if (exp.error.status !== undefined && outcome.status !== exp.error.status)
        problems.push(`HTTP status: expected ${exp.error.status}, got ${describeOutcome(outcome)}`);
      if (exp.error.message !== undefined) problems.push(...check('error message', outcome.message, exp.error.message));
      if (exp.error.fields && JSON.stringify(outcome.fields) !== JSON.stringify(exp.error.fields))
        problems.push(`error fields: expected ${JSON.stringify(exp.error.fields)}, got ${JSON.stringify(outcome.fields)}`);
    }
    if (exp.outputs) {
      if (!outcome?.ok) problems.push('outputs: the call did not succeed');
      else for (const [k, m] of Object.entries(exp.outputs)) problems.push(...check(`output ${k}`, outcome.outputs[k], m));
    }
    if (exp.interview) {
      const e = exp.interview;
      if (!interview) problems.push('interview: this step is not a startInterview or navigate (or it failed)');
      else {
        const where = `(interview ${interview.status}${interview.screen ? ` at ${interview.screen.name}` : ''}${interview.error ? `: ${interview.error.message}` : ''})`;
        if (e.status && interview.status !== e.status) problems.push(`interview status: expected ${e.status}, got ${where}`);
        if (e.screen !== undefined) problems.push(...check('interview screen', interview.screen?.name ?? null, e.screen));
        if (e.actions) {
          const got = [...(interview.screen?.availableActions ?? [])].sort();
          if (JSON.stringify(got) !== JSON.stringify([...e.actions].sort()))
            problems.push(`interview actions: expected ${e.actions.join(', ')}, got ${got.join(', ') || 'none'}`);
        }
        if (e.redirect) {
          if (!interview.redirect) problems.push(`interview redirect: expected one, got none ${where}`);
          else {
            if (e.redirect.pageName !== undefined)
              problems.push(...check('interview redirect pageName', interview.redirect.pageName, e.redirect.pageName));
            if (e.redirect.recordId !== undefined)
              problems.push(...check('interview redirect recordId', interview.redirect.recordId, e.redirect.recordId));
          }
        }
        if (e.error !== undefined) problems.push(...check('interview error', interview.error?.message ?? null, e.error));
      }
    }
    if (exp.run) {
      if (!run) problems.push('run: this step is not a runCheckout (or it failed)');
      else {
        if (exp.run.status && run.status !== exp.run.status)
          problems.push(`run status: expected ${exp.run.status}, got ${run.status} (state ${run.state}; ${run.errors.join('; ')})`);
        if (exp.run.state !== undefined) problems.push(...check('run state', run.state, exp.run.state));
        if (exp.run.order !== undefined && !!run.orderId !== exp.run.order)
          problems.push(`run order: expected ${exp.run.order ? 'an order' : 'no order'}, got ${run.orderId ?? 'none'}`);
        if (exp.run.errors !== undefined) problems.push(...check('run errors', run.errors.join('\n'), exp.run.errors));
      }
    }
    const s = engine!.admin;
    for (const r of exp.records ?? []) {
      let rows: Row[];
      try {
        rows = await s.find(r.type, {});
      } catch (e) {
        problems.push(`records ${r.type}: ${toEngineError(e).message}`);
        continue;
      }
      const matching = rows.filter((row) =>
        Object.entries(r.where ?? {}).every(([f, m]) => check(f, row[f], m as MatcherDoc).length === 0),
      );
      const where = r.where ? ` where ${JSON.stringify(r.where)}` : '';
      if (typeof r.count === 'number' && matching.length !== r.count)
        problems.push(`records: expected ${r.count} ${r.type}${where}, found ${matching.length}`);
      if (typeof r.count === 'object') {
        if (r.count.min !== undefined && matching.length < r.count.min)
          problems.push(`records: expected at least ${r.count.min} ${r.type}${where}, found ${matching.length}`);
        if (r.count.max !== undefined && matching.length > r.count.max)
          problems.push(`records: expected at most ${r.count.max} ${r.type}${where}, found ${matching.length}`);
      }
      if (r.fields) {
        if (!matching.length) problems.push(`records: no ${r.type}${where} to check fields on`);
        for (const row of matching)
          for (const [f, m] of Object.entries(r.fields)) problems.push(...check(`${r.type} ${String(row.Id)}.${f}`, row[f], m));
      }
    }
    if (exp.session) {
      const e = exp.session;
      const cartId = resolveRef(e.cart ?? '@cart');
      const active = await s.find('CartCheckoutSession', {
        where: [
          { field: 'WebCartId', op: '=', value: cartId },
          { field: 'IsArchived', op: '=', value: false },
        ],
      });
      const all = await s.find('CartCheckoutSession', {
        where: [{ field: 'WebCartId', op: '=', value: cartId }],
        orderBy: [{ field: 'CreatedDate', direction: 'desc' }],
      });
      if (e.none === true && active.length)
        problems.push(`session: expected no active session, found ${active.map((a) => `${String(a.Id)} (${String(a.State)})`).join(', ')}`);
      if (e.active !== undefined && active.length !== e.active)
        problems.push(`session: expected ${e.active} active sessions, found ${active.length}`);
      const fields = (['State', 'NextState', 'IsProcessing', 'IsError', 'IsArchived'] as const).filter((f) => e[f] !== undefined);
      if (fields.length) {
        // IsArchived: true looks at the newest session; everything else at the active one.
        const row = e.IsArchived === true ? all[0] : active[0];
        if (!row) problems.push(`session: cart ${cartId} has no ${e.IsArchived === true ? '' : 'active '}session`);
        else for (const f of fields) problems.push(...check(`session ${f}`, row[f] ?? null, e[f] as MatcherDoc));
      }
    }
    if (exp.history) {
      const cartId = resolveRef(exp.history.cart ?? '@cart');
      const seen = history.filter((h) => h.cartId === cartId).map((h) => h.State ?? '');
      const states = seen.filter((st, k) => k === 0 || st !== seen[k - 1]);
      const want = exp.history.states;
      let ok: boolean;
      if (exp.history.exactly) ok = JSON.stringify(states) === JSON.stringify(want);
      else {
        let k = 0;
        for (const st of states) if (st === want[k]) k++;
        ok = k === want.length;
      }
      if (!ok)
        problems.push(
          `history: expected States ${want.join(' → ')}${exp.history.exactly ? ' exactly' : ' in order'}, observed ${states.join(' → ') || 'none'}`,
        );
    }
    if (exp.totals) {
      const cartId = resolveRef(exp.totals.cart ?? '@cart');
      const sessions = await s.find('CartCheckoutSession', {
        where: [{ field: 'WebCartId', op: '=', value: cartId }],
        orderBy: [{ field: 'CreatedDate', direction: 'desc' }],
      });
      const orderId = sessions.find((x) => x.OrderId)?.OrderId;
      const order = orderId ? await s.get('Order', String(orderId)) : undefined;
      if (!order) problems.push(`totals: cart ${cartId} has no order`);
      else {
        const p = await orderTotalsProblem(engine!, order, cartId);
        if (!!p === exp.totals.orderMatchesCart)
          problems.push(p ?? `totals: expected the order's totals to differ from the cart's, they are equal`);
      }
    }
    return problems;
  }
}

/** A problem with a scenario step itself (an unknown handle, a bad save), as opposed to a failed expectation. */
class ScenarioStepError extends Error {}

/** A step's effect: the call's outcome (checked by `expect`), and the run of a runCheckout step. */
type Performed = { outcome?: Outcome; run?: CheckoutRun; interview?: Interview };

/** What a step handler works with: the scenario's engine, driver, handles and history at this step. */
interface StepContext {
  readonly engine: CheckoutEngine;
  readonly driver: Driver;
  /** The step's index. */
  readonly step: number;
  readonly handles: Record<string, string>;
  readonly history: ScenarioHistoryEntry[];
  /** Integrations held by a `hold` behaviour, by name: their release. */
  readonly held: Map<string, () => void>;
  /** Integrations a step replaced, re-registered after a restart. */
  readonly overrides: Map<string, (typeof DEFAULT_INTEGRATIONS)[string]>;
  readonly passwords: Map<string, string>;
  resolveRef: (v: string) => string;
  resolveDeep(v: unknown): unknown;
  userOf(as: string | undefined): string;
  advanceClock(ms: number): void;
  /** Closes the engine (and server) and opens it again on the same storage. */
  restart(): Promise<void>;
}

type StepKind = (typeof STEP_KINDS)[number];
type StepOfKind<K extends StepKind> = Extract<StepDoc, Record<K, unknown>>;

/** The kind of a step: the field that names it. */
const kindOf = (step: StepDoc): StepKind => STEP_KINDS.find((k) => k in step) ?? 'check';

/** One handler per step kind. */
const STEP_HANDLERS: { [K in StepKind]: (c: StepContext, step: StepOfKind<K>) => Promise<Performed> } = {
  async invoke(c, step) {
    const input = c.resolveDeep(step.input ?? {}) as Record<string, unknown>;
    if (step.runAsync !== undefined) input.runAsync = step.runAsync;
    const outcome = await c.driver.invoke(step.invoke, input, c.userOf(step.as));
    if (outcome.ok && step.save) {
      for (const [h, field] of Object.entries(step.save)) {
        if (outcome.outputs[field] === undefined)
          throw new ScenarioStepError(`save: output '${field}' is missing (outputs: ${Object.keys(outcome.outputs).join(', ')})`);
        c.handles[h] = String(outcome.outputs[field]);
      }
    }
    return { outcome };
  },
  async create(c, step) {
    const outcome = await c.driver.create(step.create, c.resolveDeep(step.fields) as Record<string, unknown>, c.userOf(step.as));
    if (outcome.ok && step.ref) c.handles[step.ref] = outcome.id!;
    return { outcome };
  },
  async update(c, step) {
    return {
      outcome: await c.driver.update(
        step.update,
        c.resolveRef(step.id),
        c.resolveDeep(step.fields) as Record<string, unknown>,
        c.userOf(step.as),
      ),
    };
  },
  async delete(c, step) {
    return { outcome: await c.driver.remove(step.delete, c.resolveRef(step.id), c.userOf(step.as)) };
  },
  async cartLines(c, step) {
    const l = step.cartLines;
    const cartId = c.resolveRef(l.cart ?? '@cart');
    const user = c.userOf(step.as);
    for (const add of l.add ?? []) {
      const group = add.group
        ? c.resolveRef(add.group)
        : String(
            (await c.engine.admin.find('CartDeliveryGroup', { where: [{ field: 'CartId', op: '=', value: cartId }], limit: 1 }))[0]?.Id ??
              '',
          );
      const product = await c.engine.admin.get('Product2', c.resolveRef(add.product));
      const fields: Record<string, unknown> = {
        CartId: cartId,
        CartDeliveryGroupId: group || null,
        Product2Id: c.resolveRef(add.product),
        Quantity: add.quantity,
        Name: product?.Name ?? 'Item',
        Sku: product?.StockKeepingUnit ?? null,
      };
      if (add.price !== undefined) Object.assign(fields, { SalesPrice: add.price, ListPrice: add.price });
      const out = await c.driver.create('CartItem', fields, user);
      if (!out.ok) return { outcome: out };
      if (add.ref) c.handles[add.ref] = out.id!;
    }
    for (const set of l.set ?? []) {
      const out = await c.driver.update('CartItem', c.resolveRef(set.item), { Quantity: set.quantity }, user);
      if (!out.ok) return { outcome: out };
    }
    for (const item of l.remove ?? []) {
      const out = await c.driver.remove('CartItem', c.resolveRef(item), user);
      if (!out.ok) return { outcome: out };
    }
    return { outcome: { ok: true, outputs: {} } };
  },
  async wait(c, step) {
    if (step.wait === 'all') await c.engine.whenIdle();
    else {
      const id = c.resolveRef(step.wait);
      for (let n = 0; n < 2000; n++) {
        const op = await c.engine.admin.get('BackgroundOperation', id);
        if (!op) throw new ScenarioStepError(`wait: no operation ${id}`);
        if (op.Status !== 'New' && op.Status !== 'Running') break;
        await new Promise((r) => setTimeout(r, 5));
      }
      await c.engine.whenIdle();
    }
    return {};
  },
  async advanceClock(c, step) {
    const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(step.advanceClock)!;
    c.advanceClock(Number(m[1]) * UNITS[m[2]!]!);
    if (step.sweep) await c.engine.expireCheckouts();
    return {};
  },
  async restart(c) {
    await c.restart();
    return { outcome: { ok: true, outputs: {} } };
  },
  async runCheckout(c, step) {
    const r = step.runCheckout;
    try {
      const run = await c.driver.runCheckout(c.resolveRef(r.cart ?? '@cart'), {
        userId: c.userOf(step.as),
        answers: c.resolveDeep(r.answers ?? {}) as RunCheckoutOptions['answers'],
        stopAt: r.stopAt,
        orderLifeCycleType: r.orderLifeCycleType,
        maxWaitMs: 20_000,
      });
      for (const [h, field] of Object.entries(step.save ?? {})) if (run[field]) c.handles[h] = String(run[field]);
      // The run's trajectory is history too: each state it reached, in order.
      for (const t of run.trajectory) {
        c.history.push({
          step: c.step,
          sessionId: t.sessionId,
          cartId: run.cartId,
          State: t.state,
          NextState: null,
          IsProcessing: false,
          IsError: t.state === 'error',
          IsArchived: false,
        });
      }
      return { run, outcome: { ok: true, outputs: {} } };
    } catch (e) {
      return { outcome: fromError(e) };
    }
  },
  async integration(c, step) {
    const name = step.integration;
    c.held.get(name)?.();
    c.held.delete(name);
    if (step.behaviour === 'default') {
      c.overrides.delete(name);
      const dflt = DEFAULT_INTEGRATIONS[name];
      if (!dflt) throw new ScenarioStepError(`integration: no built-in calculator '${name}'`);
      c.engine.registerIntegration(name, dflt);
    } else {
      const message = step.message ?? `The ${name} service is unavailable.`;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      if (step.behaviour === 'hold') c.held.set(name, release);
      const dflt = DEFAULT_INTEGRATIONS[name];
      const p: (typeof DEFAULT_INTEGRATIONS)[string] =
        step.behaviour === 'hold'
          ? {
              startCartProcessAsync: async (info, cartId, data) => (
                await gate,
                dflt ? dflt.startCartProcessAsync(info, cartId, data) : { status: 'SUCCESS' as const }
              ),
            }
          : step.behaviour === 'throw'
            ? { startCartProcessAsync: async () => Promise.reject(new Error(message)) }
            : { startCartProcessAsync: async () => ({ status: 'FAILED' as const, message }) };
      c.overrides.set(name, p);
      c.engine.registerIntegration(name, p);
    }
    return {};
  },
  async find(c, step) {
    const rows = await c.engine.admin.find(step.find, { orderBy: [{ field: 'CreatedDate', direction: 'asc' }] });
    const hit = rows.find((row) =>
      Object.entries(step.where ?? {}).every(([f, m]) => checkValue(f, row[f], m as MatcherDoc, c.resolveRef).length === 0),
    );
    if (!hit) throw new ScenarioStepError(`find: no ${step.find} matches ${JSON.stringify(step.where ?? {})}`);
    c.handles[step.ref] = String(hit.Id);
    return {};
  },
  async seed(c, step) {
    // Handles the scenario knows become ids; the others are the seed's own refs.
    const known = (v: unknown): unknown =>
      typeof v === 'string'
        ? v.startsWith('@') && c.handles[v.slice(1)]
          ? c.handles[v.slice(1)]
          : v
        : Array.isArray(v)
          ? v.map(known)
          : v && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, known(x)]))
            : v;
    const fixture = known(step.seed);
    rememberPasswords(fixture as Record<string, unknown>, c.passwords);
    try {
      Object.assign(c.handles, await c.engine.seed(fixture));
      return { outcome: { ok: true, outputs: {} } };
    } catch (e) {
      return { outcome: fromError(e) };
    }
  },
  async startInterview(c, step) {
    const s = step.startInterview;
    const r = await c.driver.startInterview(s.flow, c.resolveDeep(s.inputs ?? {}) as Record<string, unknown>, c.userOf(step.as));
    if (r.interview) c.handles[step.ref ?? 'interview'] = r.interview.id;
    return r;
  },
  async navigate(c, step) {
    const n = step.navigate;
    const nav: NavigateRequest = {
      action: n.action,
      ...(n.answers ? { answers: c.resolveDeep(n.answers) as NavigateRequest['answers'] } : {}),
      ...(n.waitMs !== undefined ? { waitMs: n.waitMs } : {}),
    };
    return c.driver.navigate(c.resolveRef(n.interview ?? '@interview'), nav, c.userOf(step.as));
  },
  async check() {
    return {};
  },
};

/** Runs a step through the handler of its kind. */
function performStep(c: StepContext, step: StepDoc): Promise<Performed> {
  return (STEP_HANDLERS[kindOf(step)] as (c: StepContext, step: StepDoc) => Promise<Performed>)(c, step);
}

/** How each step kind reads in a report, unless the step has a `name`. */
const STEP_LABELS: { [K in StepKind]: (step: StepOfKind<K>) => string } = {
  invoke: (s) => `invoke ${s.invoke}${s.as ? ` as ${s.as}` : ''}`,
  create: (s) => `create ${s.create}`,
  update: (s) => `update ${s.update} ${s.id}`,
  delete: (s) => `delete ${s.delete} ${s.id}`,
  cartLines: () => 'change cart lines',
  wait: (s) => `wait ${s.wait}`,
  advanceClock: (s) => `advance clock ${s.advanceClock}`,
  restart: () => 'restart engine',
  runCheckout: () => 'run checkout',
  integration: (s) => `integration ${s.integration} → ${s.behaviour}`,
  seed: () => 'seed records',
  find: (s) => `find ${s.find} as @${s.ref}`,
  startInterview: (s) => `start interview ${s.startInterview.flow}${s.as ? ` as ${s.as}` : ''}`,
  navigate: (s) => `navigate ${s.navigate.action}${s.navigate.interview ? ` ${s.navigate.interview}` : ''}${s.as ? ` as ${s.as}` : ''}`,
  check: () => 'check',
};

function stepLabel(step: StepDoc): string {
  return step.name || (STEP_LABELS[kindOf(step)] as (s: StepDoc) => string)(step);
}

function fixtureOf(doc: ScenarioDoc, file: string): Record<string, unknown> {
  const f = doc.fixture ?? 'demo';
  if (f === 'demo') return scenarioDemo({});
  if ('demo' in f) return scenarioDemo(f.demo);
  if ('records' in f) return f.records;
  const path = isAbsolute(f.file) ? f.file : join(scenarioDir(file), f.file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ScenarioStepError(`fixture file '${path}' can't be read (${(e as NodeJS.ErrnoException).code})`);
  }
  return parseFixture(text);
}

/**
 * The demo store as a scenario fixture: demoFixture's store, users and cart (no preset taxes,
 * adjustments or delivery method: the steps compute them) plus its catalog (price book, stock,
 * promotions, tax rates). Handles: buyer, admin, outsider, acme, globex, store, cart, group0…,
 * item0…, charge0…, product0…, ground, express.
 */
export function scenarioDemo(
  opts: DemoOptions & {
    store?: Record<string, unknown>;
    session?: Record<string, unknown>;
    records?: Record<string, Record<string, unknown>[]>;
  },
): Record<string, Record<string, unknown>[]> {
  const { store, session, records, ...shape } = opts;
  const fixture = demoFixture({ taxes: false, adjustments: false, ...shape, catalog: false });
  for (const g of fixture.CartDeliveryGroup ?? []) g.DeliveryMethodId = null;
  if (store) Object.assign(fixture.WebStore![0]!, store);
  if (session && fixture.CartCheckoutSession) Object.assign(fixture.CartCheckoutSession[0]!, session);
  for (const [type, list] of Object.entries(records ?? {})) fixture[type] = [...(fixture[type] ?? []), ...list];
  const catalog = demoCatalogFixture({ storeId: '@store', productIds: (fixture.Product2 ?? []).map((p) => `@${String(p.ref)}`) });
  return { ...fixture, ...catalog };
}

function rememberPasswords(fixture: Record<string, unknown>, into: Map<string, string>) {
  const users = fixture.User;
  if (!Array.isArray(users)) return;
  for (const u of users as Record<string, unknown>[])
    if (typeof u.Username === 'string' && typeof u.Password === 'string') into.set(u.Username, u.Password);
}

/** Checks a value against a matcher; returns the problems (empty when it matches). */
export function checkValue(what: string, actual: unknown, m: MatcherDoc, resolve: (v: string) => string = (v) => v): string[] {
  const show = (v: unknown) => JSON.stringify(v) ?? 'undefined';
  const same = (a: unknown, raw: unknown) => {
    const b = typeof raw === 'string' && raw.startsWith('@') ? resolve(raw) : raw;
    if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) < 1e-9;
    return (a ?? null) === (b ?? null);
  };
  if (m === null || typeof m !== 'object') return same(actual, m) ? [] : [`${what}: expected ${show(m)}, got ${show(actual)}`];
  const out: string[] = [];
  const n = Number(actual);
  if (m.equals !== undefined && !same(actual, m.equals)) out.push(`${what}: expected ${show(m.equals)}, got ${show(actual)}`);
  if (m.not !== undefined && same(actual, m.not)) out.push(`${what}: expected anything but ${show(m.not)}`);
  if (m.matches !== undefined && !new RegExp(m.matches).test(String(actual ?? '')))
    out.push(`${what}: expected to match /${m.matches}/, got ${show(actual)}`);
  if (m.oneOf && !m.oneOf.some((o) => same(actual, o))) out.push(`${what}: expected one of ${show(m.oneOf)}, got ${show(actual)}`);
  if (m.exists !== undefined && (actual !== null && actual !== undefined) !== m.exists)
    out.push(`${what}: expected ${m.exists ? 'a value' : 'no value'}, got ${show(actual)}`);
  if (m.gt !== undefined && !(n > m.gt)) out.push(`${what}: expected > ${m.gt}, got ${show(actual)}`);
  if (m.gte !== undefined && !(n >= m.gte)) out.push(`${what}: expected ≥ ${m.gte}, got ${show(actual)}`);
  if (m.lt !== undefined && !(n < m.lt)) out.push(`${what}: expected < ${m.lt}, got ${show(actual)}`);
  if (m.lte !== undefined && !(n <= m.lte)) out.push(`${what}: expected ≤ ${m.lte}, got ${show(actual)}`);
  if (m.approx !== undefined && !(Math.abs(n - m.approx) < 0.005)) out.push(`${what}: expected ≈ ${m.approx}, got ${show(actual)}`);
  return out;
}

/**
 * Drops a scenario's PostgreSQL schemas. Best effort: a scenario's verdict doesn't depend on its
 * cleanup (a server gone at this point already failed the scenario). Engines of other scenarios
 * migrating at that moment retry the catalog scan the drop disturbs (see the postgres storage).
 */
async function dropSchemas(base: string, schemas: string[]): Promise<void> {
  const { default: pg } = await import('pg');
  const url = new URL(base);
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  try {
    await client.connect();
    for (const s of schemas) await client.query(`drop schema if exists "${s}" cascade`);
  } catch {
    // Left behind: the schema names carry the process id (scn_<pid>_…) for a later clean-up.
  } finally {
    await client.end().catch(() => {});
  }
}

/** A scenario file that didn't load, as a failed result. */
function loadFailure(file: string, e: unknown): ScenarioResult {
  const message =
    e instanceof ScenarioFileError
      ? e.problems.map((p) => `${p.line}:${p.column} ${p.field || '(file)'}: ${p.message}`).join('\n')
      : String(e);
  const line = e instanceof ScenarioFileError ? (e.problems[0]?.line ?? 1) : 1;
  return {
    file,
    name: file,
    passed: false,
    stepsRun: 0,
    stepCount: 0,
    failure: { step: -1, line, label: 'load', message },
    history: [],
    durationMs: 0,
  };
}

/**
 * Loads and runs scenario files, `concurrency` at a time; `onResult` sees each result as it
 * finishes (for a progress line). Results come back in file order.
 */
export async function runScenarioFiles(
  files: string[],
  opts: ScenarioRunOptions = {},
  onResult?: (r: ScenarioResult, done: number, total: number) => void,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = new Array(files.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < files.length) {
      const k = next++;
      const file = files[k]!;
      let r: ScenarioResult;
      const started = performance.now();
      try {
        r = await runScenario(loadScenario(file), opts, k);
      } catch (e) {
        r = { ...loadFailure(file, e), durationMs: performance.now() - started };
      }
      results[k] = r;
      onResult?.(r, ++done, files.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, files.length)) }, worker));
  return results;
}

/** Every stored row of every record object, keyed by object and id, for `unchanged`. */
async function dumpAll(engine: CheckoutEngine): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [name, rows] of Object.entries(await engine.admin.dump()))
    for (const row of rows) out.set(`${name} ${String(row.Id)}`, JSON.stringify(row));
  return out;
}

/** What differs between two dumps, one line per created, deleted or changed row. */
function dumpDifferences(before: Map<string, string>, after: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [key, row] of after) {
    const was = before.get(key);
    if (was === undefined) problems.push(`unchanged: ${key} was created`);
    else if (was !== row) problems.push(`unchanged: ${key} changed from ${was} to ${row}`);
  }
  for (const key of before.keys()) if (!after.has(key)) problems.push(`unchanged: ${key} was deleted`);
  return problems;
}
