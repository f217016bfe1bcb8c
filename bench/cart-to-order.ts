/**
 * cartToOrder through the engine vs. the same reads and writes as raw prepared better-sqlite3
 * statements (issue 2's speed target: ≤ 3× at 50 cart lines, ≤ 2× at 2,000).
 *
 * Both sides start from identical copies of one SQLite file (WAL, synchronous=NORMAL) holding K
 * carts whose sessions are claimed for cartToOrder. The engine side times `invoke('cartToOrderAction',
 * runAsync=false)`; the raw side runs, per cart, the statements the engine issues — the action's
 * transaction (requirement facts, session compare-and-set, operation insert), the worker's claim,
 * and the commit (cart reads, the mapped order rows inserted one prepared statement per row,
 * session and operation updates) — and builds the rows with the same mapping function.
 *
 * Run: npx tsx bench/cart-to-order.ts [--quick]
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCheckoutEngine } from '../src/index.js';
import { mapCartToOrder } from '../src/domain/cart-to-order.js';
import { mintId } from '../src/domain/ids.js';
import { OBJECTS, allFields } from '../src/domain/objects.js';
import { demoFixture } from '../src/demo/fixture.js';

const quick = process.argv.includes('--quick');

/** A fixture of `count` more carts (each with a claimed session) for the demo store and buyer. */
function moreCarts(count: number, lines: number, offset: number) {
  const f = demoFixture({ lines, groups: 2, sessionState: 'checkoutSummary' });
  const out: Record<string, Record<string, unknown>[]> = { WebCart: [], CartDeliveryGroup: [], CartItem: [], CartTax: [], CartCheckoutSession: [] };
  for (let c = 0; c < count; c++) {
    const tag = `c${offset + c}_`;
    const rename = (v: unknown) => (typeof v === 'string' && v.startsWith('@') && ['@cart', '@group0', '@group1'].includes(v) ? `@${tag}${v.slice(1)}` : typeof v === 'string' && /^@(item|charge)\d+$/.test(v) ? `@${tag}${v.slice(1)}` : v);
    for (const type of Object.keys(out)) {
      for (const rec of f[type] ?? []) {
        const copy: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(rec)) copy[k] = k === 'ref' ? `${tag}${v}` : rename(v);
        if (type === 'CartCheckoutSession') Object.assign(copy, { NextState: 'cartToOrder', IsProcessing: true });
        out[type]!.push(copy);
      }
    }
  }
  return out;
}

async function prepare(lines: number, carts: number): Promise<{ dir: string; engineFile: string; rawFile: string; cartIds: string[]; buyer: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-c2o-'));
  const engineFile = join(dir, 'engine.db');
  const engine = await createCheckoutEngine({ storage: engineFile });
  const base = demoFixture({ lines: 50 });
  delete (base as Record<string, unknown>).WebCart;
  for (const k of ['CartDeliveryGroup', 'CartItem', 'CartTax']) delete (base as Record<string, unknown>)[k];
  const ids = await engine.seed(base);
  const cartIds: string[] = [];
  const batch = lines >= 1000 ? 1 : 20;
  for (let i = 0; i < carts; i += batch) {
    const h = await engine.seed(moreCarts(Math.min(batch, carts - i), lines, i));
    for (let c = i; c < Math.min(i + batch, carts); c++) cartIds.push(h[`c${c}_cart`]!);
  }
  await engine.close();
  const rawFile = join(dir, 'raw.db');
  copyFileSync(engineFile, rawFile);
  return { dir, engineFile, rawFile, cartIds, buyer: ids.buyer! };
}

async function timeEngine(file: string, cartIds: string[], buyer: string): Promise<number[]> {
  const engine = await createCheckoutEngine({ storage: file });
  const times: number[] = [];
  for (const cartId of cartIds) {
    const t0 = performance.now();
    const [r] = await engine.invoke('cartToOrderAction', [{ cartId, runAsync: false }], { userId: buyer });
    times.push(performance.now() - t0);
    if (!r!.isSuccess) throw new Error(JSON.stringify(r!.errors));
  }
  await engine.close();
  return times;
}

function timeRaw(file: string, cartIds: string[], buyer: string): number[] {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const get = (sql: string) => db.prepare(sql);
  const q = {
    user: get('select * from "User" where "Id" = ?'),
    cart: get('select * from "WebCart" where "Id" = ?'),
    account: get('select * from "Account" where "Id" = ?'),
    buyerAccount: get('select * from "BuyerAccount" where "BuyerId" = ? limit 1'),
    members: get('select * from "BuyerGroupMember" where "BuyerId" = ?'),
    storeGroups: get('select count(*) as n from "WebStoreBuyerGroup" where "WebStoreId" = ? and "BuyerGroupId" in (?)'),
    activeSession: get('select * from "CartCheckoutSession" where "WebCartId" = ? and "IsArchived" = 0 limit 1'),
    session: get('select * from "CartCheckoutSession" where "Id" = ?'),
    op: get('select * from "BackgroundOperation" where "Id" = ?'),
    claimSession: get('update "CartCheckoutSession" set "BackgroundOperationId" = ?, "_snapshot" = ?, "_version" = "_version" + 1, "LastModifiedDate" = ? where "Id" = ? and "_version" = ?'),
    insertOp: get('insert into "BackgroundOperation" ("Id", "Name", "Status", "SubmittedAt", "RetryCount", "_step", "_sessionId", "_cartId", "_version") values (?, ?, \'New\', ?, 0, \'cartToOrder\', ?, ?, 0)'),
    runOp: get('update "BackgroundOperation" set "Status" = \'Running\', "StartedAt" = ?, "_version" = "_version" + 1 where "Id" = ? and "_version" = ?'),
    orderByOrn: get('select * from "Order" where "OrderReferenceNumber" = ? limit 1'),
    groups: get('select * from "CartDeliveryGroup" where "CartId" = ?'),
    items: get('select * from "CartItem" where "CartId" = ?'),
    taxes: get('select * from "CartTax" where "CartId" = ?'),
    doneSession: get('update "CartCheckoutSession" set "State" = \'cartToOrder\', "NextState" = null, "IsProcessing" = 0, "OrderId" = ?, "OrderReferenceNumber" = ?, "_snapshot" = ?, "_version" = "_version" + 1 where "Id" = ? and "_version" = ?'),
    doneOp: get('update "BackgroundOperation" set "Status" = \'Complete\', "FinishedAt" = ?, "_version" = "_version" + 1 where "Id" = ? and "_version" = ?'),
  };
  const inserters = new Map<string, { stmt: Database.Statement; cols: string[] }>();
  const insert = (type: string, row: Record<string, unknown>) => {
    let ins = inserters.get(type);
    if (!ins) {
      const cols = allFields(OBJECTS.get(type)!).map((f) => f.name);
      ins = { cols, stmt: db.prepare(`insert into "${type}" (${cols.map((c) => `"${c}"`).join(', ')}) values (${cols.map(() => '?').join(', ')})`) };
      inserters.set(type, ins);
    }
    ins.stmt.run(ins.cols.map((c) => (typeof row[c] === 'boolean' ? Number(row[c]) : (row[c] ?? null))));
  };
  const times: number[] = [];
  for (const cartId of cartIds) {
    const t0 = performance.now();
    const now = new Date().toISOString();
    const opId = mintId('0Yb');
    db.transaction(() => {
      q.user.get(buyer);
      const cart = q.cart.get(cartId) as Record<string, unknown>;
      q.account.get(cart.AccountId);
      q.buyerAccount.get(cart.AccountId);
      const members = q.members.all(cart.AccountId) as Record<string, unknown>[];
      q.storeGroups.get(cart.WebStoreId, members[0]!.BuyerGroupId);
      const s = q.activeSession.get(cartId) as Record<string, unknown>;
      q.claimSession.run(opId, JSON.stringify({ value: { cartToOrder: 'running' } }), now, s.Id, s._version);
      q.insertOp.run(opId, `Cart to Order ${cartId}`, now, s.Id, cartId);
    })();
    db.transaction(() => {
      const op = q.op.get(opId) as Record<string, unknown>;
      q.runOp.run(now, opId, op._version);
      q.session.get(op._sessionId);
    })();
    db.transaction(() => {
      const op = q.op.get(opId) as Record<string, unknown>;
      const s = q.session.get(op._sessionId) as Record<string, unknown>;
      q.orderByOrn.get(s.Id);
      const cart = q.cart.get(cartId) as Record<string, unknown> & { Id: string };
      const groups = q.groups.all(cartId) as (Record<string, unknown> & { Id: string })[];
      const items = q.items.all(cartId) as (Record<string, unknown> & { Id: string })[];
      const taxes = q.taxes.all(cartId) as (Record<string, unknown> & { Id: string })[];
      const d = mapCartToOrder({ cart, groups, items, taxes }, { now: new Date(now), orderReferenceNumber: String(s.Id), mintId: (o) => mintId(OBJECTS.get(o)!.keyPrefix) });
      insert('Order', d.order);
      for (const r of d.deliveryGroups) insert('OrderDeliveryGroup', r);
      for (const r of d.items) insert('OrderItem', r);
      for (const r of d.taxLines) insert('OrderItemTaxLineItem', r);
      for (const r of d.adjustmentLines) insert('OrderItemAdjustmentLineItem', r);
      q.doneSession.run(d.order.Id, s.Id, JSON.stringify({ value: { cartToOrder: 'idle' } }), s.Id, s._version);
      q.doneOp.run(now, opId, op._version);
    })();
    times.push(performance.now() - t0);
  }
  db.close();
  return times;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[][] = [];
const cases = quick ? [{ lines: 50, carts: 40, target: 3 }, { lines: 2000, carts: 4, target: 2 }] : [{ lines: 50, carts: 200, target: 3 }, { lines: 2000, carts: 12, target: 2 }];
let pass = true;
for (const c of cases) {
  const p = await prepare(c.lines, c.carts);
  const warm = Math.max(1, Math.floor(c.carts / 10));
  const engineTimes = (await timeEngine(p.engineFile, p.cartIds, p.buyer)).slice(warm);
  const rawTimes = timeRaw(p.rawFile, p.cartIds, p.buyer).slice(warm);
  const e = median(engineTimes);
  const r = median(rawTimes);
  const ratio = e / r;
  pass &&= ratio <= c.target;
  rows.push([String(c.lines), String(engineTimes.length), e.toFixed(2), r.toFixed(2), ratio.toFixed(2), `≤ ${c.target}`, ratio <= c.target ? 'ok' : 'MISSED']);
  rmSync(p.dir, { recursive: true, force: true });
}
const header = ['lines', 'runs', 'engine ms (p50)', 'raw ms (p50)', 'ratio', 'target', ''];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const fmt = (r: string[]) => r.map((x, i) => x.padStart(widths[i]!)).join('  ');
console.log('cartToOrder: engine vs raw prepared SQLite statements (same reads and writes)');
console.log(fmt(header));
for (const r of rows) console.log(fmt(r));
console.log(`heap used ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB, rss ${(process.memoryUsage().rss / 1e6).toFixed(1)} MB`);
process.exitCode = pass ? 0 : 1;
