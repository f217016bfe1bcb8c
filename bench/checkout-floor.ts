/**
 * A whole checkout through the engine vs its floor (issue 22, item 1): the same call-by-call
 * protocol of the default flow done with prepared better-sqlite3 statements.
 *
 * The floor makes the calls `engine.runCheckout` makes (src/engine/checkout-runner.ts, spec §2),
 * ONE transaction per call that writes, reading and writing the same rows: per turn the
 * get-or-create of the session (caller, cart and session reads; the first one inserts the
 * session), a read of the session, then by the step's kind
 * - an async/sync step: the claim (session compare-and-set + history row), then the step's
 *   transaction (session + history, the step's reads and writes, the cart's roll-up, session +
 *   history, the completed BackgroundOperation) and a read of the operation;
 * - a screen step: its record work (the delivery method; the PO number) and the State write
 *   (session + history; the final screens also release the holds and close the cart).
 * The step work uses the engine's own pure code: the built-in calculators (DEFAULT_INTEGRATIONS)
 * run on an immer draft of the cart (`cartState`, `planWrites`), lines are re-derived with
 * `withDerivedLine`, totals rolled up with `rollUpCart`, the order built with `mapCartToOrder`.
 * What it leaves out is what the floor is measured against: the query builder, validation, access
 * rules beyond the owner check, XState, the history's event payloads and snapshots, the worker
 * and its queue, async bookkeeping.
 *
 * `checkFloor` compares what both sides left for the same cart (order, items, taxes, summary,
 * cart totals and status, session state), so the floor is known to do the same work.
 */
import Database from 'better-sqlite3';
import { enablePatches, produceWithPatches, type Patch } from 'immer';
import { mapCartToOrder } from '../src/domain/cart-to-order.js';
import { mintId } from '../src/domain/ids.js';
import { rollUpCart, sumMoney } from '../src/domain/money.js';
import { STORED_OBJECTS as OBJECTS } from '../src/domain/objects.js';
import { withDerivedLine } from '../src/domain/records.js';
import { cartState, planWrites, type CartState } from '../src/integrations/cart-draft.js';
import type { CartDataApi, CartProcessor, IntegrationValidation } from '../src/integrations/contract.js';
import { DEFAULT_INTEGRATIONS } from '../src/integrations/defaults.js';

enablePatches();

type Rec = Record<string, unknown>;

/** The default flow, as the runner walks it: step key, kind and (for operation steps) what runs. */
const FLOW: { key: string; kind: 'screen' | 'async' | 'sync' | 'final'; run?: string }[] = [
  { key: 'start', kind: 'screen' },
  { key: 'inventory', kind: 'async', run: 'inventory' },
  { key: 'confirmPrice', kind: 'async', run: 'pricing' },
  { key: 'calculatePromotions', kind: 'async', run: 'promotions' },
  { key: 'shippingCost', kind: 'async', run: 'shipping' },
  { key: 'deliveryMethod', kind: 'screen' },
  { key: 'taxes', kind: 'async', run: 'taxes' },
  { key: 'paymentAndBillingAddress', kind: 'screen' },
  { key: 'checkoutSummary', kind: 'screen' },
  { key: 'cartToOrder', kind: 'async', run: 'cartToOrder' },
  { key: 'authorizePayment', kind: 'sync', run: 'authorizePayment' },
  { key: 'activateOrder', kind: 'sync', run: 'activateOrder' },
  { key: 'orderConfirmation', kind: 'screen' },
  { key: 'complete', kind: 'final' },
];

const TYPE_NAMES: Record<string, string> = {
  inventory: 'Inventory',
  pricing: 'Pricing',
  promotions: 'Promotions',
  shipping: 'Shipping',
  taxes: 'Taxes',
};

/** Boolean fields per object (SQLite stores 0/1; the engine's rows carry booleans). */
const BOOLEANS = new Map<string, Set<string>>();
for (const [name, def] of OBJECTS) BOOLEANS.set(name, new Set(def.fields.filter((f) => f.type === 'boolean').map((f) => f.name)));

const mint = (object: string) => mintId(OBJECTS.get(object)!.keyPrefix);
const toSql = (v: unknown) => (typeof v === 'boolean' ? Number(v) : v === undefined ? null : v);

/** The floor over one SQLite file: `checkout(cartId, userId)` runs the whole protocol. */
export class CheckoutFloor {
  readonly db: Database.Database;
  /** Statements run (begin and commit included). */
  statements = 0;
  transactions = 0;
  private readonly cache = new Map<string, Database.Statement>();
  private readonly columns = new Map<string, string[]>();
  private readonly seq = new Map<string, number>();

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
  }

  close(): void {
    this.db.close();
  }

  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) this.cache.set(sql, (s = this.db.prepare(sql)));
    this.statements++;
    return s;
  }

  private decode(object: string, row: Rec | undefined): Rec | undefined {
    if (!row) return row;
    const bools = BOOLEANS.get(object);
    if (bools) for (const f of bools) if (typeof row[f] === 'number') row[f] = row[f] === 1;
    return row;
  }

  get(object: string, id: string): Rec | undefined {
    return this.decode(object, this.stmt(`select * from "${object}" where "Id" = ?`).get(id) as Rec | undefined);
  }

  /** Rows of `object` matching equality (or `in`, for arrays) filters. */
  find(object: string, match: Rec = {}, tail = ''): Rec[] {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const [k, v] of Object.entries(match)) {
      if (Array.isArray(v)) {
        if (!v.length) return [];
        where.push(`"${k}" in (${v.map(() => '?').join(', ')})`);
        params.push(...v.map(toSql));
      } else {
        where.push(`"${k}" = ?`);
        params.push(toSql(v));
      }
    }
    const sql = `select * from "${object}"${where.length ? ` where ${where.join(' and ')}` : ''}${tail}`;
    return (this.stmt(sql).all(...params) as Rec[]).map((r) => this.decode(object, r)!);
  }

  insert(object: string, rows: readonly Rec[]): void {
    if (!rows.length) return;
    let cols = this.columns.get(object);
    if (!cols)
      this.columns.set(
        object,
        (cols = (this.db.prepare(`select name from pragma_table_info('${object}')`).all() as { name: string }[]).map((c) => c.name)),
      );
    const tuple = `(${cols.map(() => '?').join(', ')})`;
    const values: unknown[] = [];
    for (const row of rows) for (const c of cols) values.push(toSql(row[c]));
    this.stmt(`insert into "${object}" (${cols.map((c) => `"${c}"`).join(', ')}) values ${rows.map(() => tuple).join(', ')}`).run(values);
  }

  update(object: string, id: string, fields: Rec): number {
    const keys = Object.keys(fields);
    return this.stmt(`update "${object}" set ${keys.map((k) => `"${k}" = ?`).join(', ')} where "Id" = ?`).run(
      ...keys.map((k) => toSql(fields[k])),
      id,
    ).changes;
  }

  private delete(object: string, ids: readonly string[]): void {
    if (ids.length) this.stmt(`delete from "${object}" where "Id" in (${ids.map(() => '?').join(', ')})`).run(...ids);
  }

  /** One transaction per call (BEGIN IMMEDIATE, as the engine). */
  private tx<T>(fn: () => T): T {
    this.transactions++;
    this.statements += 2;
    return this.db.transaction(fn).immediate();
  }

  /** The caller and the cart it may act on (the owner check every call makes). */
  private caller(userId: string, cartId: string): Rec {
    const user = this.get('User', userId);
    const cart = this.get('WebCart', cartId);
    if (!user || !cart || (cart.OwnerId !== userId && cart.AccountId !== user.AccountId))
      throw new Error(`floor: ${userId} may not use cart ${cartId}`);
    return cart;
  }

  /** A history row of the session (CheckoutSessionEvent). */
  private history(session: Rec, eventType: string, before: unknown, after: unknown, operation: string | null, now: string): void {
    const id = String(session.Id);
    const seq = (this.seq.get(id) ?? 0) + 1;
    this.seq.set(id, seq);
    this.insert('CheckoutSessionEvent', [
      {
        Id: mint('CheckoutSessionEvent'),
        CreatedDate: now,
        LastModifiedDate: now,
        SessionId: id,
        CartId: session.WebCartId,
        Seq: seq,
        Sub: 0,
        EventType: eventType,
        Event: `{"type":"${eventType}"}`,
        StateBefore: before,
        StateAfter: after,
        Accepted: true,
        Operation: operation,
      },
    ]);
  }

  /** The session's compare-and-set write. */
  private moveSession(session: Rec, fields: Rec, now: string): void {
    const keys = Object.keys(fields);
    const n = this.stmt(
      `update "CartCheckoutSession" set ${keys.map((k) => `"${k}" = ?`).join(', ')}, "_version" = "_version" + 1, "LastModifiedDate" = ? where "Id" = ? and "_version" = ?`,
    ).run(...keys.map((k) => toSql(fields[k])), now, session.Id, session._version).changes;
    if (n !== 1) throw new Error(`floor: session ${String(session.Id)} moved under us`);
    Object.assign(session, fields, { _version: Number(session._version) + 1 });
  }

  /** checkoutSessionAction: the cart's active session, created (and the cart put in Checkout) if none. */
  private checkoutSession(userId: string, cartId: string): string {
    const cart = this.caller(userId, cartId);
    const [active] = this.find('CartCheckoutSession', { WebCartId: cartId, IsArchived: false }, ' limit 1');
    if (active) return String(active.Id);
    return this.tx(() => {
      this.caller(userId, cartId);
      const now = new Date().toISOString();
      const id = mint('CartCheckoutSession');
      this.insert('CartCheckoutSession', [
        {
          Id: id,
          CreatedDate: now,
          LastModifiedDate: now,
          Name: `Checkout ${String(cart.Name ?? cartId)}`,
          WebCartId: cartId,
          State: FLOW[0]!.key,
          IsProcessing: false,
          IsError: false,
          IsArchived: false,
          CurrencyIsoCode: cart.CurrencyIsoCode ?? 'USD',
          _version: 0,
          _flow: null,
        },
      ]);
      this.update('WebCart', cartId, { Status: 'Checkout', LastModifiedDate: now });
      return id;
    });
  }

  /** Line taxes and header totals from the lines and taxes (recomputeCart's work). */
  private rollUp(cartId: string, items: readonly Rec[], taxes: readonly Rec[], now: string): void {
    const byItem = new Map<string, number[]>();
    for (const t of taxes)
      (byItem.get(String(t.CartItemId)) ?? byItem.set(String(t.CartItemId), []).get(String(t.CartItemId))!).push(Number(t.Amount ?? 0));
    const lines = items.map((i) => {
      const tax = sumMoney(byItem.get(String(i.Id)) ?? []);
      if (i.TotalLineTaxAmount === tax) return i;
      this.update('CartItem', String(i.Id), { TotalLineTaxAmount: tax });
      return { ...i, TotalLineTaxAmount: tax };
    });
    this.update('WebCart', cartId, { ...rollUpCart(lines), LastModifiedDate: now });
  }

  /** Runs a built-in calculator on a draft of the cart and applies its writes; throws when it failed (the floor has no error path). */
  private async calculator(name: string, cartId: string, cart: Rec, opId: string, now: Date): Promise<void> {
    const stamp = now.toISOString();
    const base = cartState(cart, {
      items: this.find('CartItem', { CartId: cartId }),
      deliveryGroups: this.find('CartDeliveryGroup', { CartId: cartId }),
      taxes: this.find('CartTax', { CartId: cartId }),
      deliveryMethods: this.find('CartDeliveryGroupMethod', { WebCartId: cartId }),
    });
    let state: CartState = base;
    const patches: Patch[] = [];
    const validations: IntegrationValidation[] = [];
    const holds = new Map<string, number>();
    const api: CartDataApi = {
      signal: new AbortController().signal,
      now,
      cart,
      state: () => Promise.resolve(state),
      edit: (recipe) => {
        const [next, p] = produceWithPatches(state, recipe);
        state = next;
        patches.push(...p);
        return Promise.resolve(state);
      },
      items: () => Promise.resolve(Object.values(state.items).map((r) => ({ ...r }))),
      deliveryGroups: () => Promise.resolve(Object.values(state.deliveryGroups).map((r) => ({ ...r }))),
      find: (object, match) => Promise.resolve(this.find(object, match)),
      addValidation: (v) => void validations.push(v),
      insert: () => {
        throw new Error('floor: the built-in calculators edit the draft');
      },
      update: () => {
        throw new Error('floor: the built-in calculators edit the draft');
      },
      delete: () => {
        throw new Error('floor: the built-in calculators edit the draft');
      },
      reserve: (id, quantity) => void holds.set(id, (holds.get(id) ?? 0) + quantity),
    };
    const processor: CartProcessor = DEFAULT_INTEGRATIONS[name]!;
    const status = await processor.startCartProcessAsync({ integrationId: name, jobId: opId, siteLanguage: 'en_US' }, cartId, api);
    if (status.status !== 'SUCCESS' || validations.some((v) => (v.Level ?? 'Error') === 'Error'))
      throw new Error(`floor: ${name} failed: ${validations[0]?.Message ?? status.message ?? ''}`);
    const plan = planWrites(base, patches, cartId);
    const items = { ...state.items };
    for (const d of plan.deletes) this.delete(d.object, d.ids);
    const inserted: Rec[] = [];
    for (const ins of plan.inserts) {
      const row: Rec = { ...ins.values, Id: mint(ins.object), CreatedDate: stamp, LastModifiedDate: stamp };
      if (ins.object === 'CartDeliveryGroupMethod') row.WebCartId = cartId;
      else row.CartId = cartId;
      inserted.push({ object: ins.object, row });
    }
    for (const object of new Set(inserted.map((x) => x.object as string)))
      this.insert(
        object,
        inserted.filter((x) => x.object === object).map((x) => x.row as Rec),
      );
    for (const u of plan.updates) {
      const values = { ...u.values };
      if (u.object === 'CartItem') {
        const line = withDerivedLine(state.items[u.id]!);
        items[u.id] = line;
        for (const f of ['TotalLineAmount', 'TotalListPrice', 'TotalPrice']) if (line[f] !== base.items[u.id]![f]) values[f] = line[f];
      }
      this.update(u.object, u.id, { ...values, LastModifiedDate: stamp });
    }
    if (holds.size) this.hold(cartId, holds, opId, stamp);
    const kept = validations.map((v) => ({
      Id: mint('CartValidationOutput'),
      CreatedDate: stamp,
      LastModifiedDate: stamp,
      CartId: cartId,
      BackgroundOperationId: opId,
      Name: v.Message.slice(0, 80),
      Level: v.Level ?? 'Info',
      Type: v.Type ?? TYPE_NAMES[name],
      Message: v.Message,
      RelatedEntityId: v.RelatedEntityId ?? cartId,
      IsDeleted: false,
    }));
    this.insert('CartValidationOutput', kept);
    // The edited state's rows: existing ones (as re-derived) and the new ones as inserted (with their Ids).
    const newRows = (object: string) => inserted.filter((x) => x.object === object).map((x) => x.row as Rec);
    const lines = [
      ...Object.keys(items)
        .filter((k) => k in base.items)
        .map((k) => items[k]!),
      ...newRows('CartItem'),
    ];
    const taxes = [
      ...Object.keys(state.taxes)
        .filter((k) => k in base.taxes)
        .map((k) => state.taxes[k]!),
      ...newRows('CartTax'),
    ];
    this.rollUp(cartId, lines, taxes, stamp);
  }

  /** Stock holds: set the cart's hold per inventory row (QuantityReserved moves by the difference). */
  private hold(cartId: string, holds: Map<string, number>, opId: string, now: string): void {
    const held = this.find('ProductReservation', { WebCartId: cartId, Status: 'Held' });
    const rows = this.find('ProductInventory', { Id: [...holds.keys()] });
    for (const row of rows) {
      const want = holds.get(String(row.Id))!;
      const had = held.filter((h) => h.ProductInventoryId === row.Id).reduce((s, h) => s + Number(h.Quantity ?? 0), 0);
      const reserved = Number(row.QuantityReserved ?? 0) + want - had;
      if (Number(row.QuantityAvailable ?? 0) < reserved) throw new Error(`floor: not enough stock of ${String(row.Id)}`);
      this.update('ProductInventory', String(row.Id), { QuantityReserved: reserved, LastModifiedDate: now });
    }
    this.insert(
      'ProductReservation',
      rows.map((row) => ({
        Id: mint('ProductReservation'),
        CreatedDate: now,
        LastModifiedDate: now,
        WebCartId: cartId,
        ProductInventoryId: row.Id,
        Product2Id: row.Product2Id,
        Quantity: holds.get(String(row.Id)),
        Status: 'Held',
        _holdKey: `${cartId}:${String(row.Id)}`,
        _operationId: opId,
      })),
    );
  }

  /** An async or sync step: the claim, then the step's transaction, then a read of its operation. */
  private async operationStep(userId: string, cartId: string, sessionId: string, from: string, step: (typeof FLOW)[number]): Promise<void> {
    this.tx(() => {
      this.caller(userId, cartId);
      const session = this.get('CartCheckoutSession', sessionId)!;
      const now = new Date().toISOString();
      this.moveSession(session, { NextState: step.key, IsProcessing: true }, now);
      this.history(session, 'CLAIM', from, step.key, null, now);
    });
    const now = new Date();
    const stamp = now.toISOString();
    const opId = mint('BackgroundOperation');
    // The built-in calculators read and compute inside the step's transaction (as the engine's inline steps).
    const work = async () => {
      const cart = this.caller(userId, cartId);
      const session = this.get('CartCheckoutSession', sessionId)!;
      this.moveSession(session, { BackgroundOperationId: opId }, stamp);
      this.history(session, 'START', from, step.key, opId, stamp);
      if (step.run === 'cartToOrder') this.cartToOrder(cartId, cart, session, now);
      else if (step.run === 'activateOrder') this.activate(cartId, session, stamp);
      else if (step.run !== 'authorizePayment') await this.calculator(step.run!, cartId, cart, opId, now);
      this.moveSession(session, { State: step.key, NextState: null, IsProcessing: false }, stamp);
      this.history(session, 'DONE', step.key, step.key, opId, stamp);
      this.insert('BackgroundOperation', [
        {
          Id: opId,
          CreatedDate: stamp,
          LastModifiedDate: stamp,
          Name: `${step.key} ${cartId}`,
          Status: 'Complete',
          SubmittedAt: stamp,
          StartedAt: stamp,
          FinishedAt: stamp,
          RetryCount: 0,
          _step: step.key,
          _sessionId: sessionId,
          _cartId: cartId,
          _version: 0,
        },
      ]);
    };
    // better-sqlite3 transactions are synchronous; the calculators are async functions that never wait on I/O here.
    this.transactions++;
    this.stmt('begin immediate').run();
    try {
      await work();
      this.stmt('commit').run();
    } catch (e) {
      this.db.prepare('rollback').run();
      throw e;
    }
    this.get('BackgroundOperation', opId);
  }

  private cartToOrder(cartId: string, cart: Rec, session: Rec, now: Date): void {
    const items = this.find('CartItem', { CartId: cartId });
    const groups = this.find('CartDeliveryGroup', { CartId: cartId });
    const taxes = this.find('CartTax', { CartId: cartId });
    const productIds = [...new Set(items.map((i) => i.Product2Id).filter((x) => typeof x === 'string'))];
    const products = new Map(this.find('Product2', { Id: productIds }).map((p) => [String(p.Id), p]));
    this.find('ProductInventory', { Product2Id: productIds });
    this.find('ProductReservation', { WebCartId: cartId, Status: ['Held', 'Ordered'] });
    const d = mapCartToOrder({ cart, groups, items, taxes, products } as unknown as Parameters<typeof mapCartToOrder>[0], {
      now,
      orderReferenceNumber: String(session.Id),
      mintId: (o) => mint(o),
    });
    this.insert('Order', [{ ...d.order, _sessionId: session.Id }]);
    this.insert('OrderDeliveryGroup', d.deliveryGroups);
    for (let i = 0; i < d.items.length; i += 500) this.insert('OrderItem', d.items.slice(i, i + 500));
    for (let i = 0; i < d.taxLines.length; i += 500) this.insert('OrderItemTaxLineItem', d.taxLines.slice(i, i + 500));
    for (let i = 0; i < d.adjustmentLines.length; i += 500) this.insert('OrderItemAdjustmentLineItem', d.adjustmentLines.slice(i, i + 500));
    session.OrderId = d.order.Id;
    this.moveSession(session, { OrderId: d.order.Id, OrderReferenceNumber: session.Id }, now.toISOString());
  }

  private activate(cartId: string, session: Rec, now: string): void {
    const order = this.get('Order', String(session.OrderId))!;
    this.find('OrderItem', { OrderId: order.Id });
    this.stmt(
      `update "ProductReservation" set "Status" = 'Ordered', "OrderId" = ?, "_holdKey" = null, "LastModifiedDate" = ? where "WebCartId" = ? and "Status" = 'Held'`,
    ).run(order.Id, now, cartId);
    this.update('Order', String(order.Id), { Status: 'Activated', ActivatedDate: now, LastModifiedDate: now });
    this.insert('OrderSummary', [
      {
        Id: mint('OrderSummary'),
        CreatedDate: now,
        LastModifiedDate: now,
        OriginalOrderId: order.Id,
        AccountId: order.AccountId ?? null,
        OwnerId: order.OwnerId ?? null,
        SalesStoreId: order.SalesStoreId ?? null,
        OrderLifeCycleType: 'UNMANAGED',
        Status: 'Created',
        OrderNumber: order.OrderReferenceNumber ?? null,
        GrandTotalAmount: order.GrandTotalAmount ?? 0,
        TotalTaxAmount: order.TotalTaxAmount ?? 0,
        OrderedDate: order.OrderedDate ?? now,
      },
    ]);
  }

  /** setCheckoutDeliveryMethod with the cheapest method offered to every group (the runner's choice). */
  private deliveryMethod(userId: string, cartId: string): void {
    const groups = this.find('CartDeliveryGroup', { CartId: cartId });
    const byMethod = new Map<string, { n: number; fees: number[] }>();
    for (const o of this.find('CartDeliveryGroupMethod', { WebCartId: cartId })) {
      const m = byMethod.get(String(o.DeliveryMethodId)) ?? { n: 0, fees: [] };
      m.n++;
      m.fees.push(Number(o.ShippingFee ?? 0));
      byMethod.set(String(o.DeliveryMethodId), m);
    }
    const [methodId] = [...byMethod.entries()]
      .filter(([, m]) => m.n === groups.length)
      .sort((a, b) => sumMoney(a[1].fees) - sumMoney(b[1].fees) || a[0].localeCompare(b[0]))[0]!;
    this.tx(() => {
      this.caller(userId, cartId);
      const now = new Date().toISOString();
      const gs = this.find('CartDeliveryGroup', { CartId: cartId });
      const options = this.find('CartDeliveryGroupMethod', { WebCartId: cartId, DeliveryMethodId: methodId });
      const method = this.get('OrderDeliveryMethod', methodId)!;
      const charges = this.find('CartItem', { CartId: cartId, Type: 'Charge' });
      for (const g of gs) {
        const option = options.find((o) => o.CartDeliveryGroupId === g.Id)!;
        this.update('CartDeliveryGroup', String(g.Id), { DeliveryMethodId: methodId, LastModifiedDate: now });
        const old = charges.filter((c) => c.CartDeliveryGroupId === g.Id).map((c) => String(c.Id));
        if (old.length) {
          this.delete(
            'CartTax',
            this.find('CartTax', { CartItemId: old }).map((t) => String(t.Id)),
          );
          this.delete('CartItem', old);
        }
        const fee = Number(option.ShippingFee ?? 0);
        this.insert('CartItem', [
          withDerivedLine({
            Id: mint('CartItem'),
            CreatedDate: now,
            LastModifiedDate: now,
            CartId: cartId,
            CartDeliveryGroupId: g.Id,
            Product2Id: method.ProductId ?? null,
            Name: String(option.Name ?? method.Name),
            Type: 'Charge',
            Quantity: 1,
            ListPrice: fee,
            SalesPrice: fee,
            AdjustmentAmount: 0,
            TotalLineTaxAmount: 0,
          }),
        ]);
      }
      this.rollUp(cartId, this.find('CartItem', { CartId: cartId }), this.find('CartTax', { CartId: cartId }), now);
    });
  }

  /** A screen step's State write (the final screens also release the holds and close the cart). */
  private screen(userId: string, cartId: string, sessionId: string, from: string, to: string): void {
    this.tx(() => {
      const session = this.get('CartCheckoutSession', sessionId)!;
      this.caller(userId, cartId);
      const now = new Date().toISOString();
      this.moveSession(session, { State: to }, now);
      this.history(session, 'STATE', from, to, null, now);
      if (to === 'orderConfirmation' || to === 'complete') {
        this.stmt(
          `update "ProductReservation" set "Status" = 'Ordered', "OrderId" = ?, "_holdKey" = null, "LastModifiedDate" = ? where "WebCartId" = ? and "Status" = 'Held'`,
        ).run(session.OrderId, now, cartId);
        this.stmt(
          `update "WebCart" set "Status" = 'Closed', "LastModifiedDate" = ? where "Id" = ? and "Status" in ('Checkout', 'Active')`,
        ).run(now, cartId);
      }
    });
  }

  /** The whole checkout of one cart as the buyer, with a PO number (the runner's loop, one turn per step). */
  async checkout(cartId: string, userId: string, poNumber: string): Promise<string> {
    for (let turn = 0; turn < 50; turn++) {
      const sessionId = this.checkoutSession(userId, cartId);
      const session = this.get('CartCheckoutSession', sessionId)!;
      const at = FLOW.findIndex((s) => s.key === session.State);
      const next = FLOW[at + 1];
      if (!next) return sessionId;
      const from = String(session.State);
      if (next.kind === 'async' || next.kind === 'sync') await this.operationStep(userId, cartId, sessionId, from, next);
      else {
        if (next.key === 'deliveryMethod') this.deliveryMethod(userId, cartId);
        if (next.key === 'paymentAndBillingAddress')
          this.tx(() => {
            this.caller(userId, cartId);
            this.update('WebCart', cartId, { PoNumber: poNumber, LastModifiedDate: new Date().toISOString() });
          });
        this.screen(userId, cartId, sessionId, from, next.key);
        if (next.kind === 'final') {
          // The runner's last turn: the closed cart answers its completed session, then the order summary.
          this.find('CartCheckoutSession', { WebCartId: cartId }, ' order by "CreatedDate" desc limit 1');
          const s = this.get('CartCheckoutSession', sessionId)!;
          this.find('OrderSummary', { OriginalOrderId: s.OrderId }, ' limit 1');
          return sessionId;
        }
      }
    }
    throw new Error(`floor: the checkout of ${cartId} made no progress`);
  }
}

/** What a whole checkout left for one cart, in a form both sides can be compared by. */
export function checkoutOutcome(db: Database.Database, cartId: string): Rec {
  const one = (sql: string, ...p: unknown[]) => db.prepare(sql).get(...p) as Rec | undefined;
  const cart = one(
    'select "Status", "GrandTotalAmount", "TotalTaxAmount", "TotalChargeAmount", "TotalAdjustmentAmount", "PoNumber" from "WebCart" where "Id" = ?',
    cartId,
  );
  const session = one(
    'select "State", "IsProcessing", "IsError", "OrderId" from "CartCheckoutSession" where "WebCartId" = ? order by "CreatedDate" desc limit 1',
    cartId,
  );
  const order = one(
    'select "Status", "GrandTotalAmount", "TotalTaxAmount", "TotalAmount", "PoNumber", "Id" from "Order" where "CartId" = ?',
    cartId,
  );
  const orderId = order?.Id;
  if (order) delete order.Id;
  const count = (sql: string) => one(sql, orderId) ?? {};
  return {
    cart,
    session: session && { ...session, OrderId: session.OrderId === orderId },
    order,
    items: count('select count(*) as n, sum("TotalPrice") as total, sum("TotalTaxAmount") as tax from "OrderItem" where "OrderId" = ?'),
    taxLines: count('select count(*) as n, sum("Amount") as amount from "OrderItemTaxLineItem" where "OrderId" = ?'),
    adjustments: count('select count(*) as n, sum("Amount") as amount from "OrderItemAdjustmentLineItem" where "OrderId" = ?'),
    summary: count('select count(*) as n, sum("GrandTotalAmount") as total from "OrderSummary" where "OriginalOrderId" = ?'),
    cartItems: one('select count(*) as n, sum("TotalPrice") as total from "CartItem" where "CartId" = ?', cartId),
    cartTaxes: one('select count(*) as n, sum("Amount") as amount from "CartTax" where "CartId" = ?', cartId),
    holds: one(
      'select count(*) as n, sum("Quantity") as q from "ProductReservation" where "WebCartId" = ? and "Status" = \'Ordered\'',
      cartId,
    ),
    history: one('select count(*) as n from "CheckoutSessionEvent" where "CartId" = ?', cartId),
    operations: one('select count(*) as n from "BackgroundOperation" where "_cartId" = ?', cartId),
  };
}
