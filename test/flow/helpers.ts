/** Shared set-up for the flow tests: engines on the tested backends, the demo checkout, calls as the buyer. */
import { afterAll, beforeAll, expect } from 'vitest';
import { createCheckoutEngine, type CheckoutEngine, type CheckoutEngineOptions, type InvocationResult } from '../../src/index.js';
import { seedDemoCheckout } from '../../src/demo/run-demo.js';
import { BACKENDS } from '../helpers/backends.js';
import type { Row } from '../../src/storage/port.js';

/** SQLite (memory) and PostgreSQL (fresh schema): every storage-touching flow test runs on both. */
export const FLOW_BACKENDS = [BACKENDS[0]!, BACKENDS[2]!];

/** The buyer's default answers: a California delivery address and a PO number. */
export const CA_ADDRESS = {
  DeliverToName: 'Acme Receiving',
  DeliverToStreet: '500 Harbor Way',
  DeliverToCity: 'Oakland',
  DeliverToState: 'CA',
  DeliverToPostalCode: '94607',
  DeliverToCountry: 'US',
};

/** A fresh Active demo cart (the demo store and its catalog are seeded on first use) on an existing engine. */
export async function cartOn(engine: CheckoutEngine, shape: { lines?: number; groups?: number } = {}) {
  const { buyerId, cartId } = await seedDemoCheckout(engine, shape);
  const as = { userId: buyerId };
  const [admin] = await engine.admin.find('User', { where: [{ field: 'Username', op: '=', value: 'admin@store.example' }] });
  const [outsider] = await engine.admin.find('User', { where: [{ field: 'Username', op: '=', value: 'buyer@globex.example' }] });
  const cart = (await engine.admin.get('WebCart', cartId))!;
  return { engine, buyerId, cartId, as, adminId: String(admin!.Id), outsiderId: String(outsider!.Id), storeId: String(cart.WebStoreId) };
}

/** An engine on `location` with the demo store, its catalog data and a fresh Active cart. */
export async function demoCheckout(location: string, shape: { lines?: number; groups?: number } = {}, opts: CheckoutEngineOptions = {}) {
  const engine = await createCheckoutEngine({ storage: location, onError: () => {}, ...opts });
  return cartOn(engine, shape);
}

/**
 * One engine per backend for a whole describe block (engine start-up on PostgreSQL costs seconds):
 * call in the block's body; `get()` inside tests.
 */
export function sharedEngine(location: () => string, opts: CheckoutEngineOptions = {}): { get: () => CheckoutEngine } {
  let engine: CheckoutEngine | undefined;
  beforeAll(async () => {
    engine = await createCheckoutEngine({ storage: location(), onError: () => {}, ...opts });
  });
  afterAll(async () => {
    await engine?.close();
  });
  return { get: () => engine! };
}

/** Invokes one input as a user and returns its result. */
export async function call(
  engine: CheckoutEngine,
  action: string,
  input: Record<string, unknown>,
  userId: string,
): Promise<InvocationResult> {
  const [r] = await engine.invoke(action, [input], { userId });
  return r!;
}

/** Asserts success and returns the output values. */
export function ok(r: InvocationResult): Record<string, unknown> {
  expect(r.isSuccess, JSON.stringify(r.errors)).toBe(true);
  return r.outputValues ?? {};
}

/** The error of a failed result, with its HTTP status. */
export function failure(r: InvocationResult): { code: string; status: number; message: string; fields: string[] } {
  expect(r.isSuccess, 'expected the call to fail').toBe(false);
  const e = r.errors![0]!;
  return { code: e.statusCode, status: r.httpStatus, message: e.message, fields: e.fields };
}

/** The cart's active session row (internal columns included), or undefined. */
export async function activeSession(engine: CheckoutEngine, cartId: string): Promise<Row | undefined> {
  const [s] = await engine.admin.find('CartCheckoutSession', {
    where: [
      { field: 'WebCartId', op: '=', value: cartId },
      { field: 'IsArchived', op: '=', value: false },
    ],
  });
  return s;
}

/** Rows of an object matching equality filters. */
export async function rows(engine: CheckoutEngine, object: string, match: Record<string, unknown> = {}): Promise<Row[]> {
  return engine.admin.find(object, { where: Object.entries(match).map(([field, value]) => ({ field, op: '=' as const, value })) });
}
