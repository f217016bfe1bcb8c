/**
 * The soak (issue 13 item 1): many buyers check out concurrently through the HTTP API of one or
 * more engine processes on one database for a bounded time; some change their cart mid-checkout,
 * some cancel, some fail an integration. When the time is up every buyer finishes the checkout it
 * is in and stops, the engine processes shut down gracefully, and the database is checked through
 * the library: every checkout ended clearly, every Order belongs to exactly one session, no
 * operation is New or Running, the stock ledger adds up, and the server answered no 5xx but the
 * documented ones. `runSoak` returns the figures and the problems; scripts/soak.ts prints them and
 * test/reliability/soak.test.ts runs a short one on every `npm test`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { DEFAULT_FLOW, type FlowStep } from '../../src/domain/flow.js';
import { createCheckoutEngine, type CheckoutEngine } from '../../src/engine/engine.js';
import { seedDemoCheckout } from '../../src/demo/run-demo.js';
import { checkInvariants } from '../../src/scenarios/invariants.js';
import { ERRORS } from '../../src/errors.js';
import type { ServerMessage } from './server.js';
import { childEntry } from '../../test/helpers/child-build.js';
import { prng as rng } from '../../test/helpers/prng.js';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));
/** The server as built once for a vitest run, else its .ts under tsx (test/helpers/child-build.ts). */
const SERVER_RUN = childEntry(SERVER);
const V = '/services/data/v64.0';
const PASSWORD = 'soak-password-1';
const SOLD_OUT_SKU = 'SKU-SOLDOUT';

/** Options of one soak run on one backend. */
export interface SoakOptions {
  /** Label of the backend in the report. */
  backend: 'sqlite' | 'postgres';
  /** Storage location every engine process opens (a SQLite file or a postgres:// URL with its schema). */
  storage: string;
  /** Logical buyers, all checking out at once, each with its own carts. */
  buyers: number;
  /**
   * Distinct users (each of its own account) the buyers are spread over, round-robin; buyers of one
   * user share its token (default: one user per buyer). Fewer users means fewer password hashes
   * (scrypt, at seeding and login), which the short soak of `npm test` saves.
   */
  users?: number;
  /** How long buyers start new checkouts; then each finishes the one it is in. */
  seconds: number;
  /** Engine processes (HTTP servers) on the database; buyers are spread over them round-robin. */
  processes: number;
  /** Seed of the pseudo-random choices (scenario per checkout, change/cancel points, quantities). */
  seed: number;
  /** Sockets per server (keep-alive); requests beyond them queue in the client (default 128). */
  maxSockets?: number;
  /** Worker concurrency of each engine process (default 4). */
  workerConcurrency?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** What one checkout did, from the buyer's side. */
type Scenario = 'normal' | 'change' | 'cancel' | 'soldOut' | 'decline' | 'gatewayError';

/** Figures and problems of one run. */
export interface SoakReport {
  backend: string;
  processes: number;
  buyers: number;
  users: number;
  seconds: number;
  /** Wall time of the checkout phase (buyers' start to the last buyer's stop), in seconds. */
  checkoutPhaseSeconds: number;
  loginSeconds: number;
  seedSeconds: number;
  /** Checkouts (sessions) started, by how they ended from the buyer's side. */
  checkouts: { started: number; completed: number; errored: number; canceled: number; changed: number; unexpected: number };
  /** Sessions that ended in error, by the error message (first 100 characters). */
  errorsByMessage: Record<string, number>;
  /** Per scenario: how many checkouts took it. */
  scenarios: Record<Scenario, number>;
  /** Every HTTP call, logins included. */
  httpCalls: number;
  /** HTTP calls of the checkout phase (logins excluded). */
  phaseCalls: number;
  /** Answers by `status errorCode` (successes as `200`, `201`, `204`). */
  answers: Record<string, number>;
  /** Latency per call kind in ms: count, p50, p99, max. */
  latency: Record<string, { n: number; p50: number; p99: number; max: number }>;
  /** HTTP calls per second over the checkout phase (logins excluded). */
  callsPerSecond: number;
  /** Completed checkouts per second over the checkout phase. */
  checkoutsPerSecond: number;
  /** What the database held afterwards. */
  database: { sessions: number; orders: number; activatedOrders: number; operations: number; reservations: Record<string, number> };
  /** Unexpected internal errors the engine processes reported (onError), and a few of them. */
  internalErrors: number;
  /** Every invariant violation and undocumented answer (empty: the soak passed). */
  problems: string[];
  /** A few unexpected answers the buyers met (they cancel and go on), for diagnosis. */
  unexpectedSamples: string[];
}

/** 5xx answers the error table declares (an unexpected error, `INTERNAL`, is not one of them). */
function documented5xx(status: number, code: string, message: string): boolean {
  if (status === ERRORS.INTERNAL.status && code === ERRORS.INTERNAL.code && message.startsWith(ERRORS.INTERNAL.message)) return false;
  return Object.entries(ERRORS).some(([key, d]) => key !== 'INTERNAL' && d.status === status && d.code === code);
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0;
const round = (n: number) => Math.round(n * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Seeding: the demo store and catalog, a sold-out product, and one account + user per buyer.
// ---------------------------------------------------------------------------------------------

interface Seeded {
  storeId: string;
  /** Catalog products the buyers put in carts (id and SKU). */
  products: { id: string; sku: string }[];
  soldOut: { id: string; sku: string };
  groundId: string;
  buyers: { username: string; userId: string; accountId: string }[];
}

async function seedSoak(storage: string, buyers: number): Promise<Seeded> {
  const engine = await createCheckoutEngine({ storage, worker: false, recover: false, onError: () => {} });
  try {
    const s = engine.core.storage;
    await seedDemoCheckout(engine, { lines: 2, groups: 1 });
    const [store] = await s.find('WebStore', { where: [{ field: 'Name', op: '=', value: 'Demo B2B Store' }], limit: 1 });
    const [group] = await s.find('BuyerGroup', { where: [{ field: 'Name', op: '=', value: 'Demo Buyers' }], limit: 1 });
    const [pricebook] = await s.find('Pricebook2', { limit: 1 });
    const [ground] = await s.find('OrderDeliveryMethod', { where: [{ field: 'Name', op: '=', value: 'Ground' }], limit: 1 });
    const products = await s.find('Product2', {
      where: [{ field: 'StockKeepingUnit', op: 'like', value: 'SKU-0%' }],
      orderBy: [{ field: 'StockKeepingUnit', direction: 'asc' }],
    });
    const sold = await engine.seed({
      Product2: [{ ref: 'soldOut', Name: 'Sold-out widget', StockKeepingUnit: SOLD_OUT_SKU }],
      PricebookEntry: [{ Pricebook2Id: String(pricebook!.Id), Product2Id: '@soldOut', UnitPrice: 42, IsActive: true }],
      ProductInventory: [{ Product2Id: '@soldOut', QuantityAvailable: 0, QuantityReserved: 0 }],
    });
    // Chunks of buyers seeded a few at a time: each User's password is hashed (scrypt) before its
    // chunk's transaction, so several chunks keep libuv's thread pool busy.
    const CHUNK = 50;
    const chunks: number[] = [];
    for (let from = 0; from < buyers; from += CHUNK) chunks.push(from);
    const out: Seeded['buyers'] = new Array(buyers);
    const seedChunk = async (from: number) => {
      const n = Math.min(CHUNK, buyers - from);
      const fx: Record<string, Record<string, unknown>[]> = { Account: [], BuyerAccount: [], BuyerGroupMember: [], User: [] };
      for (let k = from; k < from + n; k++) {
        fx.Account!.push({ ref: `acct${k}`, Name: `Soak account ${k}` });
        fx.BuyerAccount!.push({ Name: `Soak account ${k}`, BuyerId: `@acct${k}`, BuyerStatus: 'Active' });
        fx.BuyerGroupMember!.push({ BuyerGroupId: String(group!.Id), BuyerId: `@acct${k}` });
        fx.User!.push({
          ref: `user${k}`,
          Username: `buyer${k}@soak.example`,
          Name: `Soak buyer ${k}`,
          AccountId: `@acct${k}`,
          Permissions: ['B2BCommerceIntegrator'],
          Password: PASSWORD,
        });
      }
      const ids = await engine.seed(fx);
      for (let k = from; k < from + n; k++)
        out[k] = { username: `buyer${k}@soak.example`, userId: ids[`user${k}`]!, accountId: ids[`acct${k}`]! };
    };
    const lanes = Array.from({ length: 4 }, async () => {
      for (let from = chunks.shift(); from !== undefined; from = chunks.shift()) await seedChunk(from);
    });
    await Promise.all(lanes);
    return {
      storeId: String(store!.Id),
      products: products.slice(0, 20).map((p) => ({ id: String(p.Id), sku: String(p.StockKeepingUnit) })),
      soldOut: { id: sold.soldOut!, sku: SOLD_OUT_SKU },
      groundId: String(ground!.Id),
      buyers: out,
    };
  } finally {
    await engine.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Engine processes
// ---------------------------------------------------------------------------------------------

interface ServerProc {
  child: ChildProcess;
  url: string;
  closed: Promise<{ internalErrors: number; samples: string[]; code: number | null }>;
}

async function startServerProc(storage: string, workerConcurrency: number): Promise<ServerProc> {
  const child = fork(SERVER_RUN.file, [], {
    execArgv: SERVER_RUN.execArgv,
    env: { ...process.env, SOAK_STORAGE: storage, SOAK_WORKER_CONCURRENCY: String(workerConcurrency) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let report = { internalErrors: 0, samples: [] as string[] };
  const closed = new Promise<{ internalErrors: number; samples: string[]; code: number | null }>((resolve) => {
    child.on('message', (m: ServerMessage) => {
      if (m.type === 'closed') report = { internalErrors: m.internalErrors, samples: m.samples };
    });
    child.once('exit', (code) => resolve({ ...report, code }));
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`soak server exited with ${code} before it listened`)));
    child.on('message', (m: ServerMessage) => {
      if (m.type === 'ready') resolve(m.url);
    });
  });
  return { child, url, closed };
}

// ---------------------------------------------------------------------------------------------
// The HTTP client: one keep-alive agent per server, every answer counted and timed.
// ---------------------------------------------------------------------------------------------

interface Reply {
  status: number;
  body: any;
}

class Stats {
  calls = 0;
  readonly answers = new Map<string, number>();
  readonly latency = new Map<string, number[]>();
  readonly problems: string[] = [];
  readonly unexpected: string[] = [];
  private undocumented = 0;

  record(label: string, ms: number, status: number, body: any): void {
    this.calls++;
    (this.latency.get(label) ?? this.latency.set(label, []).get(label)!).push(ms);
    const first = Array.isArray(body) ? body[0] : body;
    const code: string = status < 300 ? '' : String(first?.errorCode ?? first?.errors?.[0]?.statusCode ?? first?.error ?? '');
    const message: string = String(first?.message ?? first?.errors?.[0]?.message ?? first?.error_description ?? '');
    const key = code ? `${status} ${code}` : String(status);
    this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
    if (status >= 500 && !documented5xx(status, code, message)) {
      this.undocumented++;
      if (this.undocumented <= 10) this.problems.push(`undocumented ${status} ${code} from ${label}: ${message}`);
    }
  }

  failure(label: string, err: Error): void {
    this.calls++;
    const key = `no answer (${(err as NodeJS.ErrnoException).code ?? err.message})`;
    this.answers.set(key, (this.answers.get(key) ?? 0) + 1);
    this.undocumented++;
    if (this.undocumented <= 10) this.problems.push(`${label}: no HTTP answer: ${err.message}`);
  }

  undocumentedCount(): number {
    return this.undocumented;
  }
}

class Client {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;
  constructor(
    url: string,
    maxSockets: number,
    private readonly stats: Stats,
  ) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  send(label: string, method: string, path: string, body?: unknown, token?: string, form?: Record<string, string>): Promise<Reply> {
    const payload = form ? new URLSearchParams(form).toString() : body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (payload !== undefined) {
      headers['content-type'] = form ? 'application/x-www-form-urlencoded' : 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const t0 = performance.now();
    return new Promise<Reply>((resolve, reject) => {
      const req = request({ host: this.host, port: this.port, method, path, headers, agent: this.agent, timeout: 120_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            /* not JSON: keep the text */
          }
          const status = res.statusCode ?? 0;
          this.stats.record(label, performance.now() - t0, status, parsed);
          resolve({ status, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within 120 s`)));
      req.on('error', (e) => {
        this.stats.failure(label, e);
        reject(e);
      });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// A buyer
// ---------------------------------------------------------------------------------------------

/** An answer a buyer didn't expect: it cancels the checkout and goes on (counted, reported). */
class Unexpected extends Error {}

const CA_ADDRESS = {
  DeliverToName: 'Soak Receiving',
  DeliverToStreet: '500 Harbor Way',
  DeliverToCity: 'Oakland',
  DeliverToState: 'CA',
  DeliverToPostalCode: '94607',
  DeliverToCountry: 'US',
};
const BILLING = {
  BillingStreet: '1 Market St',
  BillingCity: 'San Francisco',
  BillingState: 'CA',
  BillingPostalCode: '94105',
  BillingCountry: 'US',
};

/** The steps a buyer walks after the first screen (the default flow, spec §2's call table). */
const WALK: readonly FlowStep[] = DEFAULT_FLOW.steps.slice(1);
/** Steps before which a change or cancel may happen: after the session starts, before cartToOrder. */
const BEFORE_ORDER = WALK.findIndex((s) => s.key === 'cartToOrder');

interface Tally {
  started: number;
  completed: number;
  errored: number;
  canceled: number;
  changed: number;
  unexpected: number;
  scenarios: Record<Scenario, number>;
  sessionIds: Set<string>;
  completedSessions: Set<string>;
}

class Buyer {
  private token = '';
  private lastStop = '';
  private lastSession = '';
  constructor(
    private readonly client: Client,
    private readonly me: Seeded['buyers'][number],
    private readonly seeded: Seeded,
    private readonly random: () => number,
    private readonly tally: Tally,
    private readonly stats: Stats,
  ) {}

  async login(tokens: Map<string, Promise<string>>): Promise<void> {
    const shared = tokens.get(this.me.username);
    if (shared) {
      this.token = await shared;
      return;
    }
    const mine = this.signIn();
    tokens.set(this.me.username, mine);
    this.token = await mine;
  }

  private async signIn(): Promise<string> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const r = await this.client.send('login', 'POST', '/services/oauth2/token', undefined, undefined, {
        grant_type: 'password',
        client_id: 'soak',
        client_secret: 'soak',
        username: this.me.username,
        password: PASSWORD,
      });
      if (r.status === 200 && r.body?.access_token) return String(r.body.access_token);
      await sleep(200 * (attempt + 1));
    }
    throw new Error(`login of ${this.me.username} failed`);
  }

  /** Checks out one new cart after another until `until` (performance.now()), finishing the last. */
  async loop(until: number): Promise<void> {
    while (performance.now() < until) await this.oneCart();
  }

  private pick(): Scenario {
    const x = this.random();
    if (x < 0.1) return 'change';
    if (x < 0.2) return 'cancel';
    if (x < 0.233) return 'soldOut';
    if (x < 0.266) return 'decline';
    if (x < 0.3) return 'gatewayError';
    return 'normal';
  }

  private async call(label: string, method: string, path: string, body?: unknown): Promise<Reply> {
    // A concurrent writer of a shared row (another buyer's reservation) answers CHECKOUT_CONFLICT: retry.
    for (let attempt = 0; ; attempt++) {
      const r = await this.client.send(label, method, path, body, this.token);
      const first = Array.isArray(r.body) ? r.body[0] : undefined;
      const code = first?.errorCode ?? first?.errors?.[0]?.statusCode;
      if (r.status === 409 && code === 'CHECKOUT_CONFLICT' && attempt < 5) {
        await sleep(10 * (attempt + 1) + this.random() * 20);
        continue;
      }
      return r;
    }
  }

  private async action(name: string, input: Record<string, unknown>): Promise<Reply> {
    return this.call(name, 'POST', `${V}/actions/standard/${name}`, { inputs: [input] });
  }

  private expect(r: Reply, label: string, ...ok: number[]): void {
    const success = ok.includes(r.status) && (!Array.isArray(r.body) || r.body[0]?.isSuccess !== false);
    if (!success) throw new Unexpected(`${label}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  }

  private async session(id: string): Promise<Record<string, any>> {
    const r = await this.call(
      'GET CartCheckoutSession',
      'GET',
      `${V}/sobjects/CartCheckoutSession/${id}?fields=Id,State,IsError,IsArchived,IsProcessing,OrderId`,
    );
    this.expect(r, 'GET CartCheckoutSession', 200);
    return r.body;
  }

  /** A new Active cart of this buyer with one or two product lines (the sold-out product for `soldOut`). */
  private async newCart(scenario: Scenario): Promise<{ cartId: string; itemId: string; quantity: number }> {
    const cart = await this.call('POST WebCart', 'POST', `${V}/sobjects/WebCart`, {
      Name: 'Soak cart',
      WebStoreId: this.seeded.storeId,
      AccountId: this.me.accountId,
      CurrencyIsoCode: 'USD',
    });
    this.expect(cart, 'POST WebCart', 201);
    const cartId = String(cart.body.id);
    const group = await this.call('POST CartDeliveryGroup', 'POST', `${V}/sobjects/CartDeliveryGroup`, {
      CartId: cartId,
      Name: 'Dock',
      ...CA_ADDRESS,
    });
    this.expect(group, 'POST CartDeliveryGroup', 201);
    const products = this.seeded.products;
    const lines = 1 + Math.floor(this.random() * 2);
    let itemId = '';
    let quantity = 0;
    for (let i = 0; i < lines; i++) {
      const product = scenario === 'soldOut' && i === 0 ? this.seeded.soldOut : products[Math.floor(this.random() * products.length)]!;
      const q = 1 + Math.floor(this.random() * 3);
      const item = await this.call('POST CartItem', 'POST', `${V}/sobjects/CartItem`, {
        CartId: cartId,
        CartDeliveryGroupId: group.body.id,
        Product2Id: product.id,
        Sku: product.sku,
        Quantity: q,
      });
      this.expect(item, 'POST CartItem', 201);
      if (!itemId) [itemId, quantity] = [String(item.body.id), q];
    }
    return { cartId, itemId, quantity };
  }

  private async oneCart(): Promise<void> {
    const scenario = this.pick();
    this.tally.scenarios[scenario]++;
    let cartId = '';
    try {
      const cart = await this.newCart(scenario);
      cartId = cart.cartId;
      const runAsync = this.random() < 0.25;
      if (scenario === 'change') {
        // Change the cart at a random point before the order: the engine cancels the checkout; start again.
        const at = 1 + Math.floor(this.random() * (BEFORE_ORDER - 1));
        const first = await this.checkout(cartId, scenario, runAsync, at);
        if (first !== 'stopped') return;
        const r = await this.call('PATCH CartItem', 'PATCH', `${V}/sobjects/CartItem/${cart.itemId}`, { Quantity: cart.quantity + 1 });
        this.expect(r, 'PATCH CartItem', 204);
        const old = await this.session(this.lastSession);
        if (old.IsArchived !== true)
          throw new Unexpected(`session ${this.lastSession} isn't archived after its cart changed (${this.lastStop})`);
        await this.checkout(cartId, 'normal', runAsync);
        return;
      }
      await this.checkout(cartId, scenario, runAsync, scenario === 'cancel' ? Math.floor(this.random() * BEFORE_ORDER) : undefined);
    } catch (e) {
      if (!(e instanceof Unexpected)) throw e;
      this.tally.unexpected++;
      if (this.stats.unexpected.length < 20) this.stats.unexpected.push(`${scenario}: ${e.message}`);
      // Leave no checkout hanging: cancel it (a Closed cart or no session answers an error, which is fine).
      if (cartId) await this.action('cancelCartAsyncOperation', { cartId }).catch(() => undefined);
    }
  }

  /**
   * Walks one checkout of the cart. `stopAt` (an index into WALK): for `change`, stop there and
   * return 'stopped' (the caller changes the cart); for `cancel`, cancel there.
   */
  private async checkout(
    cartId: string,
    scenario: Scenario,
    runAsync: boolean,
    stopAt?: number,
  ): Promise<'complete' | 'error' | 'canceled' | 'stopped'> {
    const started = await this.action('checkoutSessionAction', { cartId });
    this.expect(started, 'checkoutSessionAction', 200);
    const sessionId = String(started.body[0].outputValues.requestId);
    if (this.tally.sessionIds.has(sessionId)) {
      const s = await this.session(sessionId);
      throw new Unexpected(
        `checkoutSessionAction returned session ${sessionId} again for a new checkout (${this.lastStop}); it is ${JSON.stringify(s)}`,
      );
    }
    this.tally.sessionIds.add(sessionId);
    this.tally.started++;
    this.lastSession = sessionId;
    let state = DEFAULT_FLOW.steps[0]!.key;
    for (let i = 0; i < WALK.length; i++) {
      const step = WALK[i]!;
      if (stopAt === i) {
        if (runAsync && step.kind === 'async') {
          // Change or cancel while the step's operation is queued or running.
          const claim = await this.action('updateCheckoutSessionStateAction', {
            checkoutSessionId: sessionId,
            expCurrentState: state,
            nextState: step.key,
          });
          this.expect(claim, 'updateCheckoutSessionStateAction', 200);
          this.expect(await this.action(step.action!, { cartId, runAsync: true }), step.action!, 200);
        }
        this.lastStop = `${scenario} at ${step.key}${runAsync ? ' (async)' : ''}`;
        if (scenario === 'change') {
          this.tally.changed++;
          return 'stopped';
        }
        return this.cancel(cartId, sessionId);
      }
      if (step.kind === 'async' || step.kind === 'sync') {
        const claim = await this.action('updateCheckoutSessionStateAction', {
          checkoutSessionId: sessionId,
          expCurrentState: state,
          nextState: step.key,
        });
        this.expect(claim, 'updateCheckoutSessionStateAction', 200);
        const input: Record<string, unknown> = { cartId };
        if (step.kind === 'async') input.runAsync = runAsync;
        if (step.action === 'activateOrderAction') input.orderStatus = 'Activated';
        const ran = await this.action(step.action!, input);
        const failing = this.failsAt(scenario, step.key);
        if (!failing) this.expect(ran, step.action!, 200);
        if (runAsync && step.kind === 'async' && ran.status === 200)
          await this.waitFor(String(ran.body[0].outputValues.backgroundOperationId));
        if (failing || ran.status !== 200) {
          const s = await this.session(sessionId);
          if (s.IsError === true) {
            this.tally.errored++;
            return 'error';
          }
          throw new Unexpected(
            `${step.action} for '${scenario}' answered ${ran.status} ${JSON.stringify(ran.body).slice(0, 200)}; the session is ${s.State} (IsError ${s.IsError})`,
          );
        }
      } else {
        if (step.key === 'deliveryMethod') {
          const r = await this.action('setCheckoutDeliveryMethod', { cartId, deliveryMethodId: this.seeded.groundId });
          this.expect(r, 'setCheckoutDeliveryMethod', 200);
        } else if (step.key === 'paymentAndBillingAddress') {
          const pm = scenario === 'decline' ? 'pm_soak_decline' : scenario === 'gatewayError' ? 'pm_soak_error' : 'pm_soak_visa';
          const r = await this.call('PATCH WebCart', 'PATCH', `${V}/sobjects/WebCart/${cartId}`, {
            PaymentMethodId: pm,
            PoNumber: 'PO-SOAK',
            ...BILLING,
          });
          this.expect(r, 'PATCH WebCart', 204);
        }
        const moved = await this.call('PATCH CartCheckoutSession.State', 'PATCH', `${V}/sobjects/CartCheckoutSession/${sessionId}`, {
          State: step.key,
        });
        this.expect(moved, `State → ${step.key}`, 204);
      }
      state = step.key;
    }
    this.tally.completed++;
    this.tally.completedSessions.add(sessionId);
    return 'complete';
  }

  /** The step a failing scenario fails at. */
  private failsAt(scenario: Scenario, step: string): boolean {
    return (
      (scenario === 'soldOut' && step === 'inventory') ||
      ((scenario === 'decline' || scenario === 'gatewayError') && step === 'authorizePayment')
    );
  }

  private async cancel(cartId: string, sessionId: string): Promise<'canceled'> {
    const r = await this.action('cancelCartAsyncOperation', { cartId });
    this.expect(r, 'cancelCartAsyncOperation', 200);
    const s = await this.session(sessionId);
    if (s.IsArchived !== true) throw new Unexpected(`session ${sessionId} isn't archived after cancelCartAsyncOperation`);
    this.tally.canceled++;
    return 'canceled';
  }

  /** Polls a runAsync operation until it is no longer New or Running. */
  private async waitFor(operationId: string): Promise<void> {
    for (let wait = 10; ; wait = Math.min(200, wait * 2)) {
      const r = await this.call('GET BackgroundOperation', 'GET', `${V}/sobjects/BackgroundOperation/${operationId}?fields=Id,Status`);
      this.expect(r, 'GET BackgroundOperation', 200);
      if (r.body.Status !== 'New' && r.body.Status !== 'Running') return;
      await sleep(wait);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Afterwards: the invariants, read from the database through the library (no worker, no recovery)
// ---------------------------------------------------------------------------------------------

async function checkDatabase(
  engine: CheckoutEngine,
  tally: Tally,
): Promise<{ problems: string[]; database: SoakReport['database']; errorsByMessage: Map<string, number> }> {
  const s = engine.core.storage;
  const problems = (await checkInvariants(engine)).slice(0, 50);
  const sessions = await s.find('CartCheckoutSession', {});
  const ops = await s.find('BackgroundOperation', {});
  const opById = new Map(ops.map((o) => [String(o.Id), o]));
  const cvos = await s.find('CartValidationOutput', {});
  const cvoByOp = new Map<string, string[]>();
  for (const v of cvos)
    if (v.BackgroundOperationId)
      (
        cvoByOp.get(String(v.BackgroundOperationId)) ??
        cvoByOp.set(String(v.BackgroundOperationId), []).get(String(v.BackgroundOperationId))!
      ).push(String(v.Message ?? ''));
  const orders = await s.find('Order', {});
  const errorsByMessage = new Map<string, number>();
  const add = (p: string) => problems.length < 200 && problems.push(p);

  // Every checkout ended clearly: complete, archived, or in error with a message.
  const sessionById = new Map(sessions.map((r) => [String(r.Id), r]));
  for (const r of sessions) {
    const id = String(r.Id);
    const state = engine.core.flow(r._flow as string).flow.resolve(r.State) ?? String(r.State);
    if (r.IsArchived === true) continue;
    if (r.IsError === true) {
      const op = r.BackgroundOperationId ? opById.get(String(r.BackgroundOperationId)) : undefined;
      const messages = [op?.Error, ...(op ? (cvoByOp.get(String(op.Id)) ?? []) : [])].filter(
        (m): m is string => typeof m === 'string' && m.trim() !== '',
      );
      if (!messages.length) add(`session ${id} is in error without a message`);
      const key = (messages[0] ?? '(none)').slice(0, 100);
      errorsByMessage.set(key, (errorsByMessage.get(key) ?? 0) + 1);
      continue;
    }
    if (state !== 'complete')
      add(`session ${id} ended neither complete, archived nor in error: State ${String(r.State)}, IsProcessing ${String(r.IsProcessing)}`);
  }
  // Nothing lost, nothing doubled: the sessions are the buyers' checkouts (plus none), each seen once.
  for (const id of tally.sessionIds) if (!sessionById.has(id)) add(`session ${id} a buyer started is not in the database`);
  const extra = sessions.filter((r) => !tally.sessionIds.has(String(r.Id)));
  if (extra.length) add(`${extra.length} sessions in the database no buyer started (e.g. ${String(extra[0]!.Id)})`);
  for (const id of tally.completedSessions) {
    const r = sessionById.get(id);
    if (!r || r.IsArchived === true || r.IsError === true || !r.OrderId)
      add(
        `session ${id} completed for its buyer but is stored as State ${String(r?.State)}, IsError ${String(r?.IsError)}, OrderId ${String(r?.OrderId)}`,
      );
  }

  // Every Order belongs to exactly one session, and every session's order exists.
  const ordersBySession = new Map<string, number>();
  for (const o of orders) {
    const sid = o._sessionId ? String(o._sessionId) : '';
    if (!sid) add(`Order ${String(o.Id)} has no session`);
    else ordersBySession.set(sid, (ordersBySession.get(sid) ?? 0) + 1);
    const owners = sessions.filter((r) => r.OrderId === o.Id);
    if (owners.length !== 1) add(`Order ${String(o.Id)} is the OrderId of ${owners.length} sessions`);
    else if (String(owners[0]!.Id) !== sid)
      add(`Order ${String(o.Id)} belongs to session ${sid} but is the OrderId of session ${String(owners[0]!.Id)}`);
  }
  for (const [sid, n] of ordersBySession) if (n > 1) add(`session ${sid} has ${n} orders`);
  const orderIds = new Set(orders.map((o) => String(o.Id)));
  for (const r of sessions)
    if (r.OrderId && !orderIds.has(String(r.OrderId))) add(`session ${String(r.Id)} names Order ${String(r.OrderId)}, which doesn't exist`);
  for (const id of tally.completedSessions) {
    const order = orders.find((o) => o.Id === sessionById.get(id)?.OrderId);
    if (order && order.Status !== 'Activated') add(`Order ${String(order.Id)} of completed session ${id} is ${String(order.Status)}`);
  }

  // No operation is New or Running.
  const inFlight = ops.filter((o) => o.Status === 'New' || o.Status === 'Running');
  for (const o of inFlight.slice(0, 10)) add(`BackgroundOperation ${String(o.Id)} (${String(o._step)}) is still ${String(o.Status)}`);
  if (inFlight.length > 10) add(`… ${inFlight.length} operations in all are New or Running`);

  // Stock reservations add up: QuantityReserved = Held + Ordered per inventory row (all started at 0); nothing stays Held.
  const reservations = await s.find('ProductReservation', {});
  const byStatus: Record<string, number> = {};
  const holds = new Map<string, number>();
  for (const r of reservations) {
    byStatus[String(r.Status)] = (byStatus[String(r.Status)] ?? 0) + 1;
    if (r.Status === 'Held' || r.Status === 'Ordered')
      holds.set(String(r.ProductInventoryId), (holds.get(String(r.ProductInventoryId)) ?? 0) + Number(r.Quantity ?? 0));
    if (r.Status === 'Held')
      add(`ProductReservation ${String(r.Id)} of cart ${String(r.WebCartId)} is still Held after every checkout ended`);
  }
  for (const inv of await s.find('ProductInventory', {})) {
    const want = holds.get(String(inv.Id)) ?? 0;
    if (Number(inv.QuantityReserved ?? 0) !== want)
      add(`ProductInventory ${String(inv.Id)}: QuantityReserved ${String(inv.QuantityReserved)} but the ledger holds ${want}`);
  }
  return {
    problems,
    errorsByMessage,
    database: {
      sessions: sessions.length,
      orders: orders.length,
      activatedOrders: orders.filter((o) => o.Status === 'Activated').length,
      operations: ops.length,
      reservations: byStatus,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/** Runs one soak on one backend and returns its figures and problems (see the module comment). */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? (() => {});
  for (const [name, v] of [
    ['buyers', opts.buyers],
    ['seconds', opts.seconds],
    ['processes', opts.processes],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a whole number ≥ 1, got ${v}.`);
  }
  const t0 = performance.now();
  const users = opts.users ?? opts.buyers;
  if (!Number.isInteger(users) || users < 1 || users > opts.buyers)
    throw new Error(`users must be a whole number from 1 to buyers (${opts.buyers}), got ${users}.`);
  const seeded = await seedSoak(opts.storage, users);
  const seedSeconds = (performance.now() - t0) / 1000;
  log(`seeded ${users} users for ${opts.buyers} buyers in ${seedSeconds.toFixed(1)} s; starting ${opts.processes} engine process(es)`);

  const servers = await Promise.all(
    Array.from({ length: opts.processes }, () => startServerProc(opts.storage, opts.workerConcurrency ?? 4)),
  );
  const stats = new Stats();
  const clients = servers.map((s) => new Client(s.url, opts.maxSockets ?? 128, stats));
  const tally: Tally = {
    started: 0,
    completed: 0,
    errored: 0,
    canceled: 0,
    changed: 0,
    unexpected: 0,
    scenarios: { normal: 0, change: 0, cancel: 0, soldOut: 0, decline: 0, gatewayError: 0 },
    sessionIds: new Set(),
    completedSessions: new Set(),
  };
  let phase: number;
  let phaseCalls: number;
  let loginSeconds: number;
  const problems: string[] = [];
  try {
    const master = rng(opts.seed);
    const buyers = Array.from(
      { length: opts.buyers },
      (_, k) =>
        new Buyer(clients[k % clients.length]!, seeded.buyers[k % users]!, seeded, rng(Math.floor(master() * 2 ** 32)), tally, stats),
    );
    const l0 = performance.now();
    // One login per user (the first of its buyers); the others take its token.
    const tokens = new Map<string, Promise<string>>();
    await Promise.all(buyers.map((b) => b.login(tokens)));
    loginSeconds = (performance.now() - l0) / 1000;
    log(`${buyers.length} buyers logged in in ${loginSeconds.toFixed(1)} s; checking out for ${opts.seconds} s`);
    phaseCalls = -stats.calls;
    const p0 = performance.now();
    const until = p0 + opts.seconds * 1000;
    const ticker = setInterval(
      () =>
        log(
          `  ${Math.round((performance.now() - p0) / 1000)} s: ${tally.started} started, ${tally.completed} completed, ${stats.calls} calls`,
        ),
      10_000,
    );
    const ended = await Promise.allSettled(buyers.map((b) => b.loop(until)));
    clearInterval(ticker);
    phase = (performance.now() - p0) / 1000;
    phaseCalls += stats.calls;
    for (const e of ended)
      if (e.status === 'rejected') problems.push(`a buyer stopped: ${e.reason instanceof Error ? e.reason.message : String(e.reason)}`);
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) s.child.send({ type: 'close' });
  }
  const closed = await Promise.all(servers.map((s) => s.closed));
  let internalErrors = 0;
  for (const [i, c] of closed.entries()) {
    internalErrors += c.internalErrors;
    if (c.code !== 0) problems.push(`engine process ${i + 1} exited with ${c.code}`);
    for (const sample of c.samples.slice(0, 3))
      problems.push(`engine process ${i + 1} reported an internal error: ${sample.split('\n').slice(0, 3).join(' | ')}`);
  }
  if (internalErrors) problems.push(`${internalErrors} internal errors reported by the engine processes`);
  log(`checkout phase ${phase.toFixed(1)} s; engines stopped; checking the database`);

  const engine = await createCheckoutEngine({ storage: opts.storage, worker: false, recover: false, onError: () => {} });
  let db;
  try {
    db = await checkDatabase(engine, tally);
  } finally {
    await engine.close();
  }
  problems.push(...stats.problems, ...db.problems);
  if (stats.undocumentedCount() > 10) problems.push(`${stats.undocumentedCount()} undocumented 5xx answers or failed requests in all`);
  if (tally.unexpected) problems.push(`${tally.unexpected} checkouts met an answer their buyer didn't expect (see the samples)`);

  const latency: SoakReport['latency'] = {};
  for (const [label, xs] of [...stats.latency].sort((a, b) => a[0].localeCompare(b[0]))) {
    xs.sort((a, b) => a - b);
    latency[label] = { n: xs.length, p50: round(percentile(xs, 50)), p99: round(percentile(xs, 99)), max: round(xs[xs.length - 1] ?? 0) };
  }
  const all = [...stats.latency].flatMap(([label, xs]) => (label === 'login' ? [] : xs)).sort((a, b) => a - b);
  latency['(all but login)'] = {
    n: all.length,
    p50: round(percentile(all, 50)),
    p99: round(percentile(all, 99)),
    max: round(all[all.length - 1] ?? 0),
  };
  return {
    backend: opts.backend,
    processes: opts.processes,
    buyers: opts.buyers,
    users,
    seconds: opts.seconds,
    checkoutPhaseSeconds: round(phase),
    loginSeconds: round(loginSeconds),
    seedSeconds: round(seedSeconds),
    checkouts: {
      started: tally.started,
      completed: tally.completed,
      errored: tally.errored,
      canceled: tally.canceled,
      changed: tally.changed,
      unexpected: tally.unexpected,
    },
    errorsByMessage: Object.fromEntries(db.errorsByMessage),
    scenarios: tally.scenarios,
    httpCalls: stats.calls,
    answers: Object.fromEntries([...stats.answers].sort((a, b) => b[1] - a[1])),
    latency,
    phaseCalls,
    callsPerSecond: round(phase ? phaseCalls / phase : 0),
    checkoutsPerSecond: round(phase ? tally.completed / phase : 0),
    database: db.database,
    internalErrors,
    problems,
    unexpectedSamples: stats.unexpected,
  };
}

/** The report as text lines: the figures, then the problems (or "all invariants hold"). */
export function formatReport(r: SoakReport): string[] {
  const out: string[] = [];
  out.push(
    `== soak on ${r.backend}: ${r.processes} engine process(es), ${r.buyers} buyers (${r.users} users), ${r.seconds} s (checkout phase ${r.checkoutPhaseSeconds} s; seeding ${r.seedSeconds} s, logins ${r.loginSeconds} s)`,
  );
  const c = r.checkouts;
  out.push(
    `checkouts: ${c.started} started, ${c.completed} completed, ${c.errored} in error, ${c.canceled} canceled by the buyer, ${c.changed} canceled by a cart change (then started again), ${c.unexpected} unexpected`,
  );
  out.push(
    `scenarios: ${Object.entries(r.scenarios)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  out.push(
    `throughput: ${r.checkoutsPerSecond} completed checkouts/s, ${r.callsPerSecond} HTTP calls/s (${r.phaseCalls} calls in the checkout phase, ${r.httpCalls} with the logins)`,
  );
  out.push(
    `answers: ${Object.entries(r.answers)
      .map(([k, v]) => `${k} ×${v}`)
      .join(', ')}`,
  );
  out.push(`sessions in error, by message:`);
  for (const [m, n] of Object.entries(r.errorsByMessage)) out.push(`  ${String(n).padStart(6)}  ${m}`);
  out.push(`latency (ms)                          n      p50      p99      max`);
  for (const [label, l] of Object.entries(r.latency))
    out.push(
      `  ${label.padEnd(32)} ${String(l.n).padStart(7)} ${String(l.p50).padStart(8)} ${String(l.p99).padStart(8)} ${String(l.max).padStart(8)}`,
    );
  const d = r.database;
  out.push(
    `database: ${d.sessions} sessions, ${d.orders} orders (${d.activatedOrders} Activated), ${d.operations} operations, reservations ${
      Object.entries(d.reservations)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
  );
  if (r.unexpectedSamples.length) {
    out.push('unexpected answers (samples):');
    for (const s of r.unexpectedSamples.slice(0, 10)) out.push(`  ${s}`);
  }
  if (r.problems.length) {
    out.push(`PROBLEMS (${r.problems.length}):`);
    for (const p of r.problems) out.push(`  ${p}`);
  } else {
    out.push(
      'all invariants hold: every checkout complete, archived or in error with a message; one session per Order; no operation New or Running; the stock ledger adds up; no undocumented 5xx',
    );
  }
  return out;
}
