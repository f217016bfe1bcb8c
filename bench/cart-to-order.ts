/**
 * cartToOrder through the engine vs the minimum the job needs (issue 12, item 1): the same cart
 * turned into the same draft order by a handful of raw prepared better-sqlite3 statements in ONE
 * transaction.
 *
 * Both sides start from identical copies of one SQLite file (WAL, synchronous=NORMAL) holding K
 * carts of N lines (1, 50, 500, 2,000) whose sessions were claimed for cartToOrder with
 * `updateCheckoutSessionStateAction` (checkoutSummary → cartToOrder) before timing starts.
 *
 * - engine: `engine.invoke('cartToOrderAction', [{ cartId, runAsync: false }], { userId })`, timed
 *   per call (requirement checks, session compare-and-set, operation, worker, order rows, …).
 * - raw: one transaction of prepared statements: read the cart, its active session, its delivery
 *   groups, items and taxes (5 reads); map them with `mapCartToOrder` (src/domain/cart-to-order.ts,
 *   the engine's own mapping, so both sides do the same mapping work); insert the Order, its
 *   OrderDeliveryGroups, OrderItems, OrderItemTaxLineItems and OrderItemAdjustmentLineItems
 *   (multi-row INSERTs); update the session; insert the (completed) BackgroundOperation. That is
 *   about 10 statements per cart; a batch holds at most ROWS_PER_INSERT rows, so 2,000 lines take a
 *   few more.
 *
 * The two sides run in one process on two files, alternating cart by cart (so both see the same
 * load on a shared machine). The first 10% of runs of each side are warm-up and dropped.
 *
 * Run alone: npx tsx bench/cart-to-order.ts [--quick]   (bench/run.ts runs it as a section)
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCheckoutEngine } from '../src/index.js';
import { mapCartToOrder } from '../src/domain/cart-to-order.js';
import { mintId } from '../src/domain/ids.js';
import { OBJECTS } from '../src/domain/objects.js';
import { demoFixture } from '../src/demo/fixture.js';
import {
  fx,
  inTurns,
  isMain,
  machine,
  machineLine,
  mark,
  mdTable,
  pct,
  type Check,
  type SectionOptions,
  type SectionResult,
} from './lib.js';

/** Largest number of rows in one multi-row INSERT of the raw side. */
const ROWS_PER_INSERT = 500;

/** The cases: cart lines, carts timed (full / quick) and the target ratio engine ÷ raw at p50. */
export const CASES = [
  { lines: 1, carts: 300, quickCarts: 60, target: 3 },
  { lines: 50, carts: 200, quickCarts: 40, target: 3 },
  { lines: 500, carts: 30, quickCarts: 8, target: 2 },
  { lines: 2000, carts: 10, quickCarts: 4, target: 2 },
] as const;

type Rec = Record<string, unknown>;

/** `count` more carts (each with a session at checkoutSummary) of `lines` lines for the demo store and buyer. */
export function moreCarts(count: number, lines: number, offset: number): Record<string, Rec[]> {
  const f = demoFixture({ lines, groups: 2, sessionState: 'checkoutSummary' });
  const out: Record<string, Rec[]> = { WebCart: [], CartDeliveryGroup: [], CartItem: [], CartTax: [], CartCheckoutSession: [] };
  for (let c = 0; c < count; c++) {
    const tag = `c${offset + c}_`;
    const rename = (v: unknown) =>
      typeof v === 'string' && (['@cart', '@group0', '@group1'].includes(v) || /^@(item|charge)\d+$/.test(v)) ? `@${tag}${v.slice(1)}` : v;
    for (const type of Object.keys(out)) {
      for (const rec of f[type] ?? []) {
        const copy: Rec = {};
        for (const [k, v] of Object.entries(rec)) copy[k] = k === 'ref' ? `${tag}${v}` : rename(v);
        out[type]!.push(copy);
      }
    }
  }
  return out;
}

interface Prepared {
  dir: string;
  engineFile: string;
  rawFile: string;
  cartIds: string[];
  buyer: string;
}

/** Seeds K carts of N lines, claims every session for cartToOrder, then copies the file for the raw side. */
async function prepare(lines: number, carts: number): Promise<Prepared> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-c2o-'));
  const engineFile = join(dir, 'engine.db');
  const engine = await createCheckoutEngine({ storage: engineFile, worker: false, recover: false });
  const base = demoFixture({ lines: 50 });
  for (const k of ['WebCart', 'CartDeliveryGroup', 'CartItem', 'CartTax', 'CartCheckoutSession']) delete base[k];
  const ids = await engine.seed(base);
  const buyer = ids.buyer!;
  const cartIds: string[] = [];
  const batch = Math.max(1, Math.floor(2000 / lines));
  for (let i = 0; i < carts; i += batch) {
    const n = Math.min(batch, carts - i);
    const h = await engine.seed(moreCarts(n, lines, i));
    for (let c = i; c < i + n; c++) {
      cartIds.push(h[`c${c}_cart`]!);
      const [r] = await engine.invoke(
        'updateCheckoutSessionStateAction',
        [{ checkoutSessionId: h[`c${c}_session`], expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' }],
        { userId: buyer },
      );
      if (!r!.isSuccess) throw new Error(`claiming the session for cartToOrder failed: ${JSON.stringify(r!.errors)}`);
    }
  }
  await engine.close();
  const rawFile = join(dir, 'raw.db');
  copyFileSync(engineFile, rawFile);
  return { dir, engineFile, rawFile, cartIds, buyer };
}

/** The raw side: one transaction of prepared statements per cart; `run` returns the statements it executed. */
function rawSide(file: string): { run: (cartId: string) => number; close: () => void } {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  let statements = 0;
  const q = {
    cart: db.prepare('select * from "WebCart" where "Id" = ?'),
    session: db.prepare('select * from "CartCheckoutSession" where "WebCartId" = ? and "IsArchived" = 0 limit 1'),
    groups: db.prepare('select * from "CartDeliveryGroup" where "CartId" = ?'),
    items: db.prepare('select * from "CartItem" where "CartId" = ?'),
    taxes: db.prepare('select * from "CartTax" where "CartId" = ?'),
    products: db.prepare('select * from "Product2" where "Id" in (select "Product2Id" from "CartItem" where "CartId" = ?)'),
    session2order: db.prepare(
      'update "CartCheckoutSession" set "State" = \'cartToOrder\', "NextState" = null, "IsProcessing" = 0, "BackgroundOperationId" = ?, "OrderId" = ?, "OrderReferenceNumber" = ?, "_version" = "_version" + 1, "LastModifiedDate" = ? where "Id" = ? and "_version" = ?',
    ),
    operation: db.prepare(
      'insert into "BackgroundOperation" ("Id", "Name", "Status", "SubmittedAt", "StartedAt", "FinishedAt", "RetryCount", "_step", "_sessionId", "_cartId", "_version", "CreatedDate", "LastModifiedDate") values (?, ?, \'Complete\', ?, ?, ?, 0, \'cartToOrder\', ?, ?, 0, ?, ?)',
    ),
  };
  const columns = new Map<string, string[]>();
  const inserts = new Map<string, Database.Statement>();
  /** Inserts rows of one object in multi-row INSERTs of at most ROWS_PER_INSERT rows. */
  const insertRows = (type: string, rows: readonly Rec[]) => {
    let cols = columns.get(type);
    // Every column of the table (the object's fields plus storage columns such as Order._sessionId).
    if (!cols)
      columns.set(
        type,
        (cols = (db.prepare(`select name from pragma_table_info('${type}')`).all() as { name: string }[]).map((c) => c.name)),
      );
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + ROWS_PER_INSERT);
      const key = `${type}:${chunk.length}`;
      let stmt = inserts.get(key);
      if (!stmt) {
        const tuple = `(${cols.map(() => '?').join(', ')})`;
        stmt = db.prepare(
          `insert into "${type}" (${cols.map((c) => `"${c}"`).join(', ')}) values ${Array.from({ length: chunk.length }, () => tuple).join(', ')}`,
        );
        inserts.set(key, stmt);
      }
      const values: unknown[] = [];
      for (const row of chunk) for (const c of cols) values.push(typeof row[c] === 'boolean' ? Number(row[c]) : (row[c] ?? null));
      stmt.run(values);
      statements++;
    }
  };
  const job = db.transaction((cartId: string) => {
    const now = new Date();
    const nowIso = now.toISOString();
    const cart = q.cart.get(cartId) as Rec & { Id: string };
    const session = q.session.get(cartId) as Rec & { Id: string };
    const groups = q.groups.all(cartId) as (Rec & { Id: string })[];
    const items = q.items.all(cartId) as (Rec & { Id: string })[];
    const taxes = q.taxes.all(cartId) as (Rec & { Id: string })[];
    const products = new Map((q.products.all(cartId) as (Rec & { Id: string })[]).map((p) => [p.Id, p]));
    statements += 6;
    const d = mapCartToOrder(
      { cart, groups, items, taxes, products },
      { now, orderReferenceNumber: session.Id, mintId: (o) => mintId(OBJECTS.get(o)!.keyPrefix) },
    );
    insertRows('Order', [{ ...d.order, _sessionId: session.Id }]);
    insertRows('OrderDeliveryGroup', d.deliveryGroups);
    insertRows('OrderItem', d.items);
    insertRows('OrderItemTaxLineItem', d.taxLines);
    insertRows('OrderItemAdjustmentLineItem', d.adjustmentLines);
    const opId = mintId(OBJECTS.get('BackgroundOperation')!.keyPrefix);
    const changed = q.session2order.run(opId, d.order.Id, session.Id, nowIso, session.Id, session._version).changes;
    if (changed !== 1) throw new Error(`raw side: session ${session.Id} changed under us`);
    q.operation.run(opId, `Cart to Order ${cartId}`, nowIso, nowIso, nowIso, session.Id, cartId, nowIso, nowIso);
    statements += 2;
  });
  return {
    run: (cartId) => {
      const before = statements;
      job(cartId);
      return statements - before;
    },
    close: () => db.close(),
  };
}

/**
 * Times both sides cart by cart, alternating engine and raw (engine first for even carts, raw first
 * for odd ones), so that both see the same load when the machine is shared.
 */
async function timeBoth(p: Prepared): Promise<{ engine: number[]; raw: number[]; statements: number[] }> {
  const engine = await createCheckoutEngine({ storage: p.engineFile });
  const raw = rawSide(p.rawFile);
  const out = { engine: [] as number[], raw: [] as number[], statements: [] as number[] };
  const runEngine = async (cartId: string) => {
    const t0 = performance.now();
    const [r] = await engine.invoke('cartToOrderAction', [{ cartId, runAsync: false }], { userId: p.buyer });
    out.engine.push(performance.now() - t0);
    if (!r!.isSuccess) throw new Error(`engine cartToOrderAction failed: ${JSON.stringify(r!.errors)}`);
  };
  const runRaw = (cartId: string) => {
    const t0 = performance.now();
    const n = raw.run(cartId);
    out.raw.push(performance.now() - t0);
    out.statements.push(n);
  };
  try {
    for (const [i, cartId] of p.cartIds.entries()) {
      await inTurns(
        i,
        () => runEngine(cartId),
        () => runRaw(cartId),
      );
    }
  } finally {
    raw.close();
    await engine.close();
  }
  return out;
}

/** Orders and order items the run produced in a file (a check that both sides did the job). */
function countOrders(file: string): { orders: number; items: number } {
  const db = new Database(file, { readonly: true });
  try {
    const orders = (db.prepare('select count(*) as n from "Order"').get() as { n: number }).n;
    const items = (db.prepare('select count(*) as n from "OrderItem"').get() as { n: number }).n;
    return { orders, items };
  } finally {
    db.close();
  }
}

/** One row of the table. */
export interface CartToOrderRow {
  lines: number;
  runs: number;
  engineP50: number;
  engineP99: number;
  rawP50: number;
  rawP99: number;
  ratioP50: number;
  ratioP99: number;
  rawStatements: number;
  target: number;
}

/** Runs every case and returns the table. */
export async function benchCartToOrder(opts: SectionOptions): Promise<SectionResult> {
  const rows: CartToOrderRow[] = [];
  const checks: Check[] = [];
  for (const c of CASES) {
    const carts = opts.quick ? c.quickCarts : c.carts;
    const t0 = performance.now();
    const p = await prepare(c.lines, carts);
    opts.log(`  cartToOrder ${c.lines} lines: seeded ${carts} carts in ${fx((performance.now() - t0) / 1000)} s`);
    try {
      const warm = Math.max(1, Math.floor(carts / 10));
      const both = await timeBoth(p);
      const engineTimes = both.engine.slice(warm);
      const rawTimes = both.raw.slice(warm);
      const e = countOrders(p.engineFile);
      const r = countOrders(p.rawFile);
      if (e.orders !== carts || r.orders !== carts || e.items !== r.items)
        throw new Error(`the two sides made different orders: engine ${JSON.stringify(e)}, raw ${JSON.stringify(r)}`);
      const row: CartToOrderRow = {
        lines: c.lines,
        runs: engineTimes.length,
        engineP50: pct(engineTimes, 50),
        engineP99: pct(engineTimes, 99),
        rawP50: pct(rawTimes, 50),
        rawP99: pct(rawTimes, 99),
        ratioP50: pct(engineTimes, 50) / pct(rawTimes, 50),
        ratioP99: pct(engineTimes, 99) / pct(rawTimes, 99),
        rawStatements: Math.max(...both.statements),
        target: c.target,
      };
      rows.push(row);
      checks.push({
        what: `cartToOrder ${c.lines} lines: engine ÷ raw (p50)`,
        value: row.ratioP50,
        target: `≤ ${c.target}`,
        ok: row.ratioP50 <= c.target,
      });
      opts.log(
        `  cartToOrder ${c.lines} lines: engine p50 ${fx(row.engineP50, 2)} ms, raw p50 ${fx(row.rawP50, 2)} ms, ratio ${fx(row.ratioP50, 2)}`,
      );
    } finally {
      rmSync(p.dir, { recursive: true, force: true });
    }
  }
  const text = mdTable(
    [
      'cart lines',
      'runs',
      'engine p50 ms',
      'engine p99 ms',
      'raw p50 ms',
      'raw p99 ms',
      'raw statements',
      'ratio p50',
      'ratio p99',
      'target (p50)',
      '',
    ],
    rows.map((r) => [
      r.lines.toLocaleString('en-US'),
      String(r.runs),
      fx(r.engineP50, 2),
      fx(r.engineP99, 2),
      fx(r.rawP50, 2),
      fx(r.rawP99, 2),
      String(r.rawStatements),
      fx(r.ratioP50, 2),
      fx(r.ratioP99, 2),
      `≤ ${r.target}`,
      mark(r.ratioP50 <= r.target),
    ]),
  );
  return { text, checks, data: rows };
}

if (isMain(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  console.log(`machine: ${machineLine(machine())}`);
  const r = await benchCartToOrder({ quick, log: (l) => console.log(l) });
  console.log(`\ncartToOrder: engine vs the minimum statements in one raw transaction\n${r.text}`);
  process.exitCode = r.checks.every((c) => c.ok) ? 0 : 1;
}
