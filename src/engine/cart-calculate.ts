/**
 * The kernel side of Cart Calculate (src/integrations/cart-calculate.ts): one request runs the
 * store's orchestrator for a cart and the buyer actions that triggered it, in ONE transaction:
 *
 * 1. the WebCart row is read locked (a second calculation of the cart, or a record write to it,
 *    waits for this one), and the cart draft is loaded once (through the transaction);
 * 2. the orchestrator calls step methods; each runs the store's calculator for its domain (a
 *    registered integration, else the engine's default) on that same draft, so a later step sees
 *    what an earlier one changed;
 * 3. everything staged is applied at the end: the draft's writes, stock holds (when inventory ran),
 *    the CartValidationOutput rows (those of earlier runs of the same Types are replaced), one
 *    BackgroundOperation row (Name `Cart Calculate`, Status Complete or Error) that the rows name,
 *    the cart's roll-ups, and the stamps of an active checkout session for the steps that succeeded.
 *
 * An Error-level validation is a result, not a failure: it is written and reported (status
 * `Errored`), and the default orchestrator stops its chain there. A throw — from the orchestrator, a
 * calculator, an invalid calculator status, a timeout (`stepTimeoutMs`), or a staged write the
 * commit refuses — rolls back everything of the request: nothing is written, and the error is
 * reported as an unsaved `SystemError` validation. Only a commit-time refusal that carries
 * validations (e.g. stock taken by another cart meanwhile) writes those, in their own transaction.
 */
import { EngineError, StepFailed, StorageFault } from '../errors.js';
import { parseId } from '../domain/ids.js';
import { OBJECTS } from '../domain/objects.js';
import { publicRecord, withDefaults } from '../domain/records.js';
import { parseStamps, type Computation } from '../domain/completion-invariants.js';
import { validationOutputRows } from '../domain/validation-output.js';
import { applyStagedWrites, StagingCartDataApi } from '../integrations/data-api.js';
import {
  DOMAIN_CALCULATORS,
  toBuyerActions,
  type BuyerAction,
  type BuyerActions,
  type CalculatorDomain,
  type CalculatorOutcome,
  type CartCalculateRequest,
} from '../integrations/cart-calculate.js';
import type { CartDataApi, IntegrationValidation } from '../integrations/contract.js';
import type { IntegrationRegistry } from '../integrations/registry.js';
import type { Row } from '../storage/port.js';
import { cartPort } from './calculator-step.js';
import { cartRows, stampsFor } from './completion.js';
import type { EngineCore } from './core.js';
import { findActiveSession } from './facts.js';
import { VersionConflict } from './sessions.js';
import type { Tx } from './transaction.js';

/** What a calculation needs: the engine's core and its integrations (a `CheckoutEngine` has both). */
export interface CartCalculateEnv {
  readonly core: EngineCore;
  readonly integrations: IntegrationRegistry;
}

/** The input of `calculateCart`. */
export interface CalculateCartInput {
  /** The WebCart id. */
  readonly cartId: string;
  /** The buyer actions: names (`['cartItemChanged']`) or flags (`{ cartItemChanged: true }`). */
  readonly buyerActions: readonly BuyerAction[] | Partial<Record<BuyerAction, boolean>>;
  /** Optional details: the CartItems the buyer added, edited or deleted. */
  readonly details?: { readonly changedCartItemIds?: readonly string[] };
  /** Who asked (recorded as the origin of the transaction); access is the caller's business (src/connect checks it). */
  readonly caller?: { readonly Id: string } | null;
}

/** A CartValidationOutput of the request, as written (Id null when the request was rolled back and it wasn't). */
export interface CartCalculateValidation {
  readonly Id: string | null;
  readonly Level: 'Info' | 'Warning' | 'Error';
  readonly Type: string;
  readonly Message: string;
  readonly RelatedEntityId: string | null;
}

/** The result of `calculateCart`. */
export interface CalculateCartResult {
  /** `Errored` when an Error-level validation was reported or the request was rolled back. */
  readonly status: 'Completed' | 'Errored';
  /** The validations of the request (Info, Warning and Error), in the order reported. */
  readonly validations: CartValidationList;
  /** The domains whose step methods ran, in order (`prices`, `promotions`, `inventory`, `shipping`, `postShipping`, `taxes`). */
  readonly ran: CalculatorDomain[];
  /** The BackgroundOperation recording the request; null when it was rolled back with nothing written. */
  readonly operationId: string | null;
  /** Set when the request was rolled back: why. */
  readonly error?: string;
}

type CartValidationList = CartCalculateValidation[];

/**
 * A throw inside the request (orchestrator, calculator, timeout, a commit-time refusal): the
 * transaction rolls back; `calculateCart` turns it into an `Errored` result.
 */
export class CartCalculateRollback extends Error {
  constructor(
    message: string,
    /** The domains that ran before the throw. */
    readonly ran: CalculatorDomain[],
    /** Validations a commit-time refusal carries (written by `calculateCart` after the rollback). */
    readonly validations: IntegrationValidation[],
    cause: unknown,
  ) {
    super(message, { cause });
    this.name = 'CartCalculateRollback';
  }
}

/** Cart statuses a calculation may run on. */
const CALCULABLE = ['Active', 'Checkout'];

/** The completion computation each domain stamps on an active checkout session (post-shipping: none). */
const COMPUTATION: Partial<Record<CalculatorDomain, Computation>> = {
  prices: 'pricing',
  promotions: 'promotions',
  inventory: 'inventory',
  shipping: 'shipping',
  taxes: 'taxes',
};

const CART_PREFIX = OBJECTS.get('WebCart')!.keyPrefix;

/** The input checked: the cart id, the buyer actions and the changed item ids (INVALID_… naming the field). */
function parseInput(input: CalculateCartInput): { cartId: string; actions: BuyerActions; changed: string[] } {
  if (!input || typeof input !== 'object')
    throw new EngineError('INVALID_INPUT', 'calculateCart needs { cartId, buyerActions }.', ['cartId']);
  const id = parseId(input.cartId, [CART_PREFIX]);
  if (!id.ok) throw new EngineError('INVALID_ID_FIELD', `cartId: ${id.message}`, ['cartId']);
  if (!input.buyerActions || typeof input.buyerActions !== 'object') {
    throw new EngineError('INVALID_INPUT', 'buyerActions: a list of buyer action names or an object of flags is required.', [
      'buyerActions',
    ]);
  }
  let actions: BuyerActions;
  try {
    actions = toBuyerActions(input.buyerActions);
  } catch (e) {
    throw new EngineError('INVALID_INPUT', (e as Error).message, ['buyerActions']);
  }
  const changed = input.details?.changedCartItemIds ?? [];
  if (!Array.isArray(changed) || changed.some((x) => typeof x !== 'string')) {
    throw new EngineError('INVALID_INPUT', 'details.changedCartItemIds: a list of CartItem ids is expected.', [
      'details.changedCartItemIds',
    ]);
  }
  return { cartId: id.id, actions, changed: [...changed] };
}

/** A failure the transaction machinery handles itself (retry, or the storage fault as it is). */
function isTransactionFault(core: EngineCore, e: unknown): boolean {
  return (
    e instanceof VersionConflict ||
    e instanceof StorageFault ||
    core.storage.adapter.isSerializationFailure(e) ||
    core.storage.adapter.isRetryable(e)
  );
}

/** The data API one calculator sees: the request's shared draft, its validations typed with its domain's Type. */
function calculatorView(
  api: StagingCartDataApi,
  type: string,
  mine: IntegrationValidation[],
  calculation: CartDataApi['calculation'],
): CartDataApi {
  return {
    signal: api.signal,
    now: api.now,
    cart: api.cart,
    calculation,
    state: () => api.state(),
    edit: (recipe) => api.edit(recipe),
    items: () => api.items(),
    deliveryGroups: () => api.deliveryGroups(),
    find: (object, match) => api.find(object, match),
    addValidation(v) {
      const typed: IntegrationValidation = { ...v, Type: v?.Type ?? type };
      api.addValidation(typed);
      mine.push(typed);
    },
    insert: (object, fields) => api.insert(object, fields),
    update: (object, id, fields, expect) => api.update(object, id, fields, expect),
    delete: (object, ids) => api.delete(object, ids),
    reserve: (id, quantity, info) => api.reserve(id, quantity, info),
  };
}

/** Runs `work`, failing it after `ms` (aborting `controller`, which the calculators see as their signal). */
async function withTimeout<T>(work: Promise<T>, ms: number, controller: AbortController): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`The cart calculation took longer than ${ms} ms.`));
    }, ms);
  });
  work.catch(() => {});
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The BackgroundOperation row recording a Cart Calculate request. */
function operationRow(id: string, cartId: string, now: Date, error: string | null): Row {
  const stamp = now.toISOString();
  return {
    ...withDefaults(OBJECTS.get('BackgroundOperation')!, {}),
    Id: id,
    CreatedDate: stamp,
    LastModifiedDate: stamp,
    Name: 'Cart Calculate',
    Status: error === null ? 'Complete' : 'Error',
    Error: error === null ? null : error.slice(0, 255),
    SubmittedAt: stamp,
    StartedAt: stamp,
    FinishedAt: stamp,
    RetryCount: 0,
    _step: 'cartCalculate',
    _sessionId: null,
    _cartId: cartId,
    _input: null,
    _leaseUntil: null,
    _version: 1,
  };
}

function asValidation(r: Row): CartCalculateValidation {
  return {
    Id: r.Id === undefined ? null : String(r.Id),
    Level: (r.Level ?? 'Error') as CartCalculateValidation['Level'],
    Type: String(r.Type),
    Message: String(r.Message),
    RelatedEntityId: (r.RelatedEntityId as string | null | undefined) ?? null,
  };
}

/**
 * Runs a Cart Calculate request inside the caller's transaction `tx` (see the module comment); a
 * throw of the request is a `CartCalculateRollback`, so the caller's transaction rolls back with
 * it. Input errors throw EngineError (INVALID_ID_FIELD / INVALID_INPUT naming the field,
 * NOT_FOUND for a missing cart, CART_NOT_CALCULABLE for a cart neither Active nor in Checkout).
 */
export async function calculateCartIn(env: CartCalculateEnv, tx: Tx, input: CalculateCartInput): Promise<CalculateCartResult> {
  const { cartId, actions, changed } = parseInput(input);
  const { core, integrations } = env;
  const cart = await tx.get('WebCart', cartId, { forUpdate: true });
  if (!cart) throw new EngineError('NOT_FOUND', `cartId: no cart '${cartId}'.`, ['cartId']);
  if (!CALCULABLE.includes(String(cart.Status))) {
    throw new EngineError('CART_NOT_CALCULABLE', `Cart ${cartId} is ${String(cart.Status)}.`, ['cartId']);
  }
  const now = core.now();
  const operationId = core.mint('BackgroundOperation');
  const controller = new AbortController();
  const port = cartPort(core);
  const api = new StagingCartDataApi(port, cart, now, controller.signal, tx);
  const storeId = typeof cart.WebStoreId === 'string' ? cart.WebStoreId : null;
  const ran: CalculatorDomain[] = [];
  const completed: CalculatorDomain[] = [];
  const reported: IntegrationValidation[] = [];
  let running: CalculatorDomain | null = null;
  /** The step whose calculator threw, if one did. */
  let threwIn: CalculatorDomain | null = null;

  const step = (domain: CalculatorDomain) => async (): Promise<CalculatorOutcome> => {
    if (running) throw new Error(`The ${domain} step was called while the ${running} step runs: await each step method in turn.`);
    running = domain;
    ran.push(domain);
    try {
      const { integration, validationType } = DOMAIN_CALCULATORS[domain];
      const mine: IntegrationValidation[] = [];
      const view = calculatorView(api, validationType, mine, { domain, buyerActions: actions, changedCartItemIds: changed });
      const status = await integrations
        .calculator(domain, storeId)
        .startCartProcessAsync({ integrationId: integration, jobId: operationId, siteLanguage: 'en_US' }, cartId, view);
      if (status?.status !== 'SUCCESS' && status?.status !== 'FAILED') {
        throw new Error(`The ${integration} calculator returned an invalid status; expected { status: 'SUCCESS' | 'FAILED' }.`);
      }
      const ofType = () => mine.filter((v) => (v.Level ?? 'Error') === 'Error' && v.Type === validationType);
      if (status.status === 'FAILED' && ofType().length === 0) {
        view.addValidation({ Level: 'Error', Message: status.message ?? `The ${integration} calculator failed.`, RelatedEntityId: cartId });
      }
      const stop = ofType().length > 0;
      if (!stop && status.status === 'SUCCESS') completed.push(domain);
      reported.push(...mine);
      return { domain, status: stop ? 'FAILED' : status.status, validations: [...mine], stop };
    } catch (e) {
      threwIn ??= domain;
      throw e;
    } finally {
      running = null;
    }
  };

  const request: CartCalculateRequest = {
    cartId,
    cart: publicRecord('WebCart', cart) as Row,
    buyerActions: actions,
    details: { changedCartItemIds: changed },
    state: () => api.state(),
    hasErrors: (domain) =>
      reported.some(
        (v) => (v.Level ?? 'Error') === 'Error' && (domain === undefined || v.Type === DOMAIN_CALCULATORS[domain].validationType),
      ),
    prices: step('prices'),
    promotions: step('promotions'),
    inventory: step('inventory'),
    shipping: step('shipping'),
    postShipping: step('postShipping'),
    taxes: step('taxes'),
  };

  const rollback = (e: unknown, validations: IntegrationValidation[] = []): never => {
    if (isTransactionFault(core, e) || e instanceof CartCalculateRollback) throw e;
    const where = threwIn ? `the ${threwIn} step: ` : '';
    throw new CartCalculateRollback(`${where}${e instanceof Error ? e.message : String(e)}`, [...ran], validations, e);
  };

  let staged: Awaited<ReturnType<StagingCartDataApi['result']>>;
  try {
    await withTimeout(integrations.orchestrator(storeId).calculate(request), core.stepTimeoutMs, controller);
    staged = await api.result();
  } catch (e) {
    return rollback(e);
  }

  const errors = reported.filter((v) => (v.Level ?? 'Error') === 'Error');
  try {
    // A new run of a step replaces the messages earlier runs of its Type left on the cart.
    const types = [...new Set(ran.map((d) => DOMAIN_CALCULATORS[d].validationType))];
    if (types.length) {
      const old = await tx.find('CartValidationOutput', {
        where: [
          { field: 'CartId', op: '=', value: cartId },
          { field: 'Type', op: 'in', value: types },
        ],
      });
      await tx.delete(
        'CartValidationOutput',
        old.map((r) => String(r.Id)),
      );
    }
    await tx.insert('BackgroundOperation', [operationRow(operationId, cartId, now, errors[0]?.Message ?? null)]);
    await applyStagedWrites(port, tx, cartId, staged, operationId, ran.includes('inventory') ? 'Inventory' : 'Other', now);
    const computations = completed.map((d) => COMPUTATION[d]).filter((c): c is Computation => !!c);
    const session = computations.length ? await findActiveSession(tx, cartId, true) : null;
    if (session) {
      const stamps = stampsFor(parseStamps(session._stamps), computations, now.toISOString(), await cartRows(tx, cartId));
      await tx.update('CartCheckoutSession', String(session.Id), { _stamps: JSON.stringify(stamps) });
    }
  } catch (e) {
    return rollback(e, e instanceof StepFailed ? e.validations.map((v) => ({ ...v })) : []);
  }
  const written = await tx.find('CartValidationOutput', {
    where: [{ field: 'BackgroundOperationId', op: '=', value: operationId }],
  });
  const byMessage = new Map<IntegrationValidation, Row>();
  // Report in the order reported: match each written row to its validation (same Type, Level, Message, entity).
  const pool = [...written];
  for (const v of reported) {
    const i = pool.findIndex(
      (r) =>
        r.Type === v.Type &&
        r.Level === (v.Level ?? 'Error') &&
        r.Message === v.Message.slice(0, 255) &&
        (r.RelatedEntityId ?? null) === (v.RelatedEntityId ?? null),
    );
    if (i >= 0) byMessage.set(v, pool.splice(i, 1)[0]!);
  }
  return {
    status: errors.length ? 'Errored' : 'Completed',
    validations: reported.map((v) => asValidation(byMessage.get(v) ?? { ...v, Id: undefined })),
    ran,
    operationId,
  };
}

/**
 * Runs the Cart Calculate orchestrator of the cart's store for a cart and the buyer actions that
 * triggered it, in its own transaction, and reports what happened. Stable signature:
 *
 * `calculateCart(env, { cartId, buyerActions, details?, caller? })` →
 * `{ status: 'Completed' | 'Errored', validations, ran, operationId, error? }`
 *
 * - `env`: `{ core, integrations }` — a `CheckoutEngine` is one (`calculateCart(engine, …)`).
 * - `buyerActions`: names or flags of `BUYER_ACTIONS` (`cartItemChanged`, `checkoutStarted`,
 *   `couponChanged`, `deliveryGroupChanged`, `deliveryMethodSelected`, `recalculationRequested`,
 *   `evaluateShippingRequested`, `evaluateTaxesRequested`); `details.changedCartItemIds` optional.
 * - `caller`: recorded as the origin; this function checks no access (the caller has reached the cart).
 * - `status`: `Completed`, or `Errored` when an Error-level validation was written (the chain stopped)
 *   or the request was rolled back (`error` says why; `operationId` null; nothing written, except
 *   the validations of a commit-time refusal such as stock another cart took meanwhile).
 * - `validations`: `{ Id, Level, Type, Message, RelatedEntityId }` of the request, in order.
 * - `ran`: the domains whose step methods ran.
 *
 * Throws EngineError for bad input (INVALID_ID_FIELD / INVALID_INPUT), a missing cart (NOT_FOUND)
 * and a cart neither Active nor in Checkout (CART_NOT_CALCULABLE), and storage faults as they are.
 */
export async function calculateCart(env: CartCalculateEnv, input: CalculateCartInput): Promise<CalculateCartResult> {
  const callerId = input && typeof input === 'object' && input.caller ? String(input.caller.Id) : null;
  try {
    return await env.core.atomically((tx) => calculateCartIn(env, tx, input), { origin: { operation: 'cartCalculate', callerId } });
  } catch (e) {
    if (!(e instanceof CartCalculateRollback)) throw e;
    const cartId = String(input.cartId);
    if (e.validations.length) {
      const core = env.core;
      const now = core.now();
      const operationId = core.mint('BackgroundOperation');
      const rows = validationOutputRows(
        { cartId, operationId, type: 'SystemError', now, mint: () => core.mint('CartValidationOutput') },
        e.validations,
      );
      await core.atomically(
        async (tx) => {
          await tx.insert('BackgroundOperation', [operationRow(operationId, cartId, now, e.message)]);
          await tx.insert('CartValidationOutput', rows);
        },
        { origin: { operation: 'cartCalculate', callerId } },
      );
      return { status: 'Errored', validations: rows.map(asValidation), ran: e.ran, operationId, error: e.message };
    }
    return {
      status: 'Errored',
      validations: [{ Id: null, Level: 'Error', Type: 'SystemError', Message: e.message.slice(0, 255), RelatedEntityId: cartId }],
      ran: e.ran,
      operationId: null,
      error: e.message,
    };
  }
}
