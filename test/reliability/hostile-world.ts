/**
 * The world the hostile-input properties attack: one engine with the demo store, buyer A (Acme) with
 * an Active cart, a cart resting at checkoutSummary and a completed checkout (its order and summary),
 * buyer B (Globex) with an Active cart, and the admin; a Fastify app on the engine for `inject` and
 * tokens for all three. It also holds the checks every property shares: the whole-database dump,
 * the error-table checks for library and HTTP answers, and the invariants after accepted requests.
 */
import { expect } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createCheckoutEngine, type CheckoutEngine } from '../../src/index.js';
import { buildServer } from '../../src/http/server.js';
import { EngineError, ERRORS, type ErrorKey } from '../../src/errors.js';
import { OBJECTS, STORED_OBJECTS } from '../../src/domain/objects.js';
import { checkInvariants } from '../../src/scenarios/invariants.js';
import type { InvocationResult } from '../../src/actions/index.js';
import { cartOn, CA_ADDRESS } from '../flow/helpers.js';
import type { Row } from '../../src/storage/port.js';
import { LogSink } from '../http/helpers.js';

/** The three principals of the world. */
export type Who = 'a' | 'b' | 'admin';
export const WHO: readonly Who[] = ['a', 'b', 'admin'];

/** A world under attack. */
export interface World {
  engine: CheckoutEngine;
  app: FastifyInstance;
  logs: LogSink;
  users: Record<Who, string>;
  tokens: Record<Who, string>;
  /** Ids of real rows, per object (A's, B's, the store's, the completed order's…). */
  ids: Record<string, string[]>;
  /** Per object, the writable fields of one real row: a template that hostile creates mutate. */
  samples: Record<string, Record<string, unknown>>;
  /** Named ids: A's Active cart, A's cart at checkoutSummary and its session, B's cart… */
  named: Record<string, string>;
  /** The rows that make the world usable (the three users, their accounts and store membership, their tokens), as built. */
  principals: { object: string; row: Row }[];
  /** Everything the engine reported to `onError` (an unexpected internal error): must stay empty. */
  internalErrors: unknown[];
  close(): Promise<void>;
}

/** Builds a world on `location` (':memory:' in npm test; a PostgreSQL URL with HOSTILE_PG=1). */
export async function buildWorld(location: string): Promise<World> {
  const internalErrors: unknown[] = [];
  // A fixed clock: no checkout expires between a "before" and an "after" dump.
  const clock = () => new Date('2026-03-02T10:00:00.000Z');
  const engine = await createCheckoutEngine({ storage: location, clock, onError: (e) => internalErrors.push(e) });
  const first = await cartOn(engine, { lines: 2, groups: 1 });
  const aId = first.buyerId;
  const bId = first.outsiderId;
  const adminId = first.adminId;
  const storage = engine.admin;
  const [outsider] = await storage.find('User', { where: [{ field: 'Id', op: '=', value: bId }] });
  const [product] = await storage.find('Product2', { limit: 1 });
  const summary = await cartOn(engine, { lines: 2, groups: 1 });
  const done = await cartOn(engine, { lines: 3, groups: 2 });
  const answers = { deliveryAddress: CA_ADDRESS, poNumber: 'PO-HOSTILE' };
  const stopped = await engine.runCheckout(summary.cartId, { userId: aId, answers, stopAt: 'checkoutSummary' });
  expect(stopped.status, stopped.errors.join('; ')).toBe('stopped');
  const complete = await engine.runCheckout(done.cartId, { userId: aId, answers });
  expect(complete.status, complete.errors.join('; ')).toBe('complete');
  const bIds = await engine.seed({
    WebCart: [
      { ref: 'cart', Name: 'Globex cart', WebStoreId: first.storeId, AccountId: outsider!.AccountId, OwnerId: bId, Status: 'Active' },
    ],
    CartDeliveryGroup: [{ ref: 'group', CartId: '@cart', Name: 'Globex dock', ...CA_ADDRESS }],
    CartItem: [
      {
        ref: 'item',
        CartId: '@cart',
        CartDeliveryGroupId: '@group',
        Product2Id: String(product!.Id),
        Name: 'Widget',
        Quantity: 2,
        ListPrice: 100,
        SalesPrice: 100,
      },
    ],
  });
  await engine.whenIdle();
  const [session] = await storage.find('CartCheckoutSession', {
    where: [
      { field: 'WebCartId', op: '=', value: summary.cartId },
      { field: 'IsArchived', op: '=', value: false },
    ],
  });
  const ids: Record<string, string[]> = {};
  const samples: Record<string, Record<string, unknown>> = {};
  for (const o of OBJECTS.values()) {
    const rows = await storage.find(o.name, { limit: 12 });
    ids[o.name] = rows.map((r) => String(r.Id));
    const row = rows.at(-1);
    if (row)
      samples[o.name] = Object.fromEntries(
        o.fields
          .filter((f) => !f.readOnly && !f.writeOnly && row[f.name] !== undefined && row[f.name] !== null)
          .map((f) => [f.name, row[f.name]]),
      );
  }
  const issue = async (userId: string) => (await engine.issueToken(userId, 7200)).token;
  const logs = new LogSink();
  const { app } = buildServer(engine, { log: { level: 'info', stream: logs } });
  await app.ready();
  const tokens = { a: await issue(aId), b: await issue(bId), admin: await issue(adminId) };
  const principals: World['principals'] = [];
  const keep = async (object: string, where: { field: string; op: '='; value: unknown }[]) => {
    for (const row of await storage.find(object, { where })) principals.push({ object, row });
  };
  for (const id of [aId, bId, adminId]) await keep('User', [{ field: 'Id', op: '=', value: id }]);
  const accounts = principals.map((p) => p.row.AccountId).filter((a): a is string => typeof a === 'string');
  for (const id of accounts) {
    await keep('Account', [{ field: 'Id', op: '=', value: id }]);
    await keep('BuyerAccount', [{ field: 'BuyerId', op: '=', value: id }]);
    await keep('BuyerGroupMember', [{ field: 'BuyerId', op: '=', value: id }]);
  }
  await keep('WebStore', [{ field: 'Id', op: '=', value: first.storeId }]);
  await keep('WebStoreBuyerGroup', [{ field: 'WebStoreId', op: '=', value: first.storeId }]);
  for (const p of principals.filter((x) => x.object === 'BuyerGroupMember'))
    await keep('BuyerGroup', [{ field: 'Id', op: '=', value: p.row.BuyerGroupId }]);
  for (const userId of [aId, bId, adminId]) await keep('EngineAuthToken', [{ field: 'UserId', op: '=', value: userId }]);
  return {
    engine,
    app,
    logs,
    principals,
    users: { a: aId, b: bId, admin: adminId },
    tokens,
    ids,
    samples,
    named: {
      cartA: first.cartId,
      cartSummary: summary.cartId,
      sessionSummary: String(session!.Id),
      cartDone: done.cartId,
      cartB: bIds.cart!,
      itemB: bIds.item!,
      groupB: bIds.group!,
      store: first.storeId,
    },
    internalErrors,
    async close() {
      await app.close();
      await engine.close();
    },
  };
}

/**
 * Puts back the rows that make the world usable when an accepted request changed them (the admin
 * may delete or deactivate a buyer, reset a password — which ends the buyer's tokens — or take an
 * account out of the store): the properties go on attacking with the same principals. Returns how
 * many rows were put back. Only ever called after the checks of the accepted request.
 */
export async function restorePrincipals(w: World): Promise<number> {
  await w.engine.whenIdle();
  const storage = w.engine.core.storage;
  let restored = 0;
  for (const { object, row } of w.principals) {
    const now = await w.engine.admin.get(object, String(row.Id));
    if (now && JSON.stringify(now) === JSON.stringify(row)) continue;
    await storage.transaction(async (tx) => {
      if (now) await tx.delete(object, [String(row.Id)]);
      await tx.insert(object, [row]);
    });
    restored++;
  }
  return restored;
}

/** Every row of every stored table (engine-internal ones included), in a stable order. */
export type Dump = Record<string, string>;

/** The whole database as text, one JSON line per table, rows sorted by Id. */
export async function dumpAll(w: World): Promise<Dump> {
  await w.engine.whenIdle();
  const out: Dump = {};
  for (const name of STORED_OBJECTS.keys()) {
    // Every table, EngineSetting included (engine.admin doesn't read it): a read past the API, on purpose.
    const rows = await w.engine.core.storage.find(name, {});
    rows.sort((x, y) => String(x.Id).localeCompare(String(y.Id)));
    out[name] = JSON.stringify(rows);
  }
  return out;
}

/**
 * Differences between two dumps, as table names. A refused event offered to a checkout session is
 * recorded in the session's history by design (docs/inspection.md: "applied or rejected"), so new
 * CheckoutSessionEvent rows with `Accepted = false` are not a change to stored data, nor are login
 * throttle counters (EngineLoginThrottle); anything else is.
 */
export function changedTables(before: Dump, after: Dump): string[] {
  const changed: string[] = [];
  for (const name of Object.keys(after)) {
    if (before[name] === after[name]) continue;
    // Login throttle counters are written by every sign-in attempt, refused ones included, by design
    // (docs/http-security.md): they are not stored data a refused request changed.
    if (name === 'EngineLoginThrottle') continue;
    if (name === 'CheckoutSessionEvent') {
      const was = new Set((JSON.parse(before[name]!) as { Id: string }[]).map((r) => JSON.stringify(r)));
      const now = JSON.parse(after[name]!) as { Id: string; Accepted: unknown }[];
      const kept = now.filter((r) => was.has(JSON.stringify(r)));
      const added = now.filter((r) => !was.has(JSON.stringify(r)));
      if (kept.length === was.size && added.every((r) => r.Accepted === false || r.Accepted === 0)) continue;
    }
    changed.push(name);
  }
  return changed;
}

/** `code|status` pairs the error table declares. */
const DECLARED = new Set(Object.values(ERRORS).map((e) => `${e.code}|${e.status}`));

/** Why an error (code, HTTP status, message) isn't a documented one; null when it is. */
export function undocumented(code: unknown, status: unknown, message: unknown): string | null {
  if (typeof code !== 'string' || typeof status !== 'number' || typeof message !== 'string')
    return `not an error of the table: ${JSON.stringify({ code, status, message })}`;
  if (!DECLARED.has(`${code}|${status}`)) return `undeclared error ${code} with status ${status}: ${message}`;
  if (message === ERRORS.INTERNAL.message) return `an unexpected internal error (${code} ${status})`;
  return null;
}

/** Why a thrown value isn't an EngineError of the table (other than INTERNAL); null when it is. */
export function badThrow(e: unknown): string | null {
  if (!(e instanceof EngineError))
    return `threw a non-EngineError: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`;
  if (!(e.key in ERRORS) || (e.key as ErrorKey) === 'INTERNAL') return `threw ${e.key}: ${e.message}`;
  return undocumented(e.code, e.status, e.message);
}

/** Problems of invocation results: undocumented errors, or a result whose shape isn't Salesforce's. */
export function badResults(results: InvocationResult[]): string | null {
  for (const r of results) {
    if (r.isSuccess) {
      if ((r.errors as unknown) !== null || r.httpStatus !== 200) return `a success with errors or status ${r.httpStatus}`;
      continue;
    }
    const e = r.errors?.[0];
    if (!e || r.errors!.length !== 1) return `a failed result without exactly one error: ${JSON.stringify(r)}`;
    const p = undocumented(e.statusCode, r.httpStatus, e.message);
    if (p) return p;
    if (!Array.isArray(e.fields)) return `error fields not a list: ${JSON.stringify(e)}`;
  }
  return null;
}

/** Problems of a REST answer: every error status carries a Salesforce error body from the table. */
export function badRest(status: number, body: unknown): string | null {
  if (![200, 201, 204].includes(status) && !(status >= 400 && status < 600)) return `status ${status}`;
  if (status < 400) return null;
  if (!Array.isArray(body) || body.length === 0)
    return `error ${status} without a Salesforce error list: ${JSON.stringify(body)?.slice(0, 300)}`;
  // An invocation answers its results (status: the first failure's); anything else [{ message, errorCode, fields }].
  if ('actionName' in (body[0] as object)) {
    for (const r of body as InvocationResult[]) {
      if (r.isSuccess) continue;
      const e = r.errors?.[0];
      if (!e) return `failed result without errors: ${JSON.stringify(r)}`;
      const p = undocumented(e.statusCode, statusOfCode(e.statusCode, status, e.message), e.message);
      if (p) return p;
    }
    const first = (body as InvocationResult[]).find((r) => !r.isSuccess);
    if (!first) return `status ${status} with every result a success`;
    return null;
  }
  for (const e of body as { message?: unknown; errorCode?: unknown; fields?: unknown }[]) {
    const p = undocumented(e.errorCode, status, e.message);
    if (p) return p;
    if (!Array.isArray(e.fields)) return `error without a fields list: ${JSON.stringify(e)}`;
  }
  return null;
}

/** Problems of an OAuth endpoint's answer: success, or `{ error, error_description }` of an OAUTH_ (or request-level) error of the table. */
export function badOAuth(status: number, body: unknown): string | null {
  if (status === 200) return null;
  if (Array.isArray(body)) return badRest(status, body);
  const b = body as { error?: unknown; error_description?: unknown } | null;
  if (!b || typeof b.error !== 'string' || typeof b.error_description !== 'string')
    return `OAuth error ${status} without { error, error_description }: ${JSON.stringify(body)?.slice(0, 300)}`;
  return undocumented(b.error, status, b.error_description);
}

/** The status a result's error has in the table (the answer's status is the first failure's; later ones carry their own). */
function statusOfCode(code: string, answered: number, message: string): number {
  const defs = Object.values(ERRORS).filter((d) => d.code === code && message.startsWith(d.message));
  if (defs.some((d) => d.status === answered)) return answered;
  return defs[0]?.status ?? answered;
}

/** The invariants of src/scenarios/invariants.ts, plus "the principals still exist". */
export async function invariantProblems(w: World): Promise<string[]> {
  await w.engine.whenIdle();
  return checkInvariants(w.engine);
}

/** Whether Object.prototype (or Array.prototype) gained anything: a prototype pollution. */
export function prototypePolluted(): string | null {
  const o = Object.getOwnPropertyNames(Object.prototype).filter((k) => !BASE_OBJECT_PROTO.has(k));
  const a = Object.getOwnPropertyNames(Array.prototype).filter((k) => !BASE_ARRAY_PROTO.has(k));
  return o.length || a.length ? `prototype polluted: ${[...o, ...a].join(', ')}` : null;
}
const BASE_OBJECT_PROTO = new Set(Object.getOwnPropertyNames(Object.prototype));
const BASE_ARRAY_PROTO = new Set(Object.getOwnPropertyNames(Array.prototype));
