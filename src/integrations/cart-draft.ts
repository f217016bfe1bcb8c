/**
 * The cart draft of an integration step (issue 12). The step's cart is loaded once — one read per
 * table — as one immutable `CartState` whose collections are keyed by record Id; an integration
 * edits it with an immer recipe (`data.edit(draft => …)`). Each edit runs `produceWithPatches`;
 * its patches are checked against the rules the staged API enforces (which objects may be
 * created, deleted or updated, which fields, the field schemas, and that new rows point into the
 * step's cart) before the edit is kept, and the patches of every kept edit name, row by row, the
 * fields the step writes. At commit those become the fewest writes: one delete per object, one
 * multi-row insert per object, and batched updates of only the named fields that changed.
 *
 * Keyed collections make patch paths stable (`['items', id, 'SalesPrice']`): a path names one row
 * and one field however many edits ran, which array indexes would not.
 */
import { enablePatches, freeze, Immer, type Draft, type Patch } from 'immer';
import { EngineError, StepFailed } from '../errors.js';
import { validateFields } from '../domain/records.js';
import type { Row } from '../storage/port.js';

enablePatches();
/** A private instance: the engine's freezing choice doesn't leak into an application's own immer use. */
const immer = new Immer({ autoFreeze: true });

/** Rows of one object, keyed by record Id (new rows: by any key that isn't an Id of the cart). */
export type RowsById = Readonly<Record<string, Row>>;

/** The step's cart as an integration sees and edits it (public fields of each record). */
export interface CartState {
  /** The WebCart (read-only). */
  readonly cart: Row;
  /** CartItem rows (products and charges); SalesPrice, ListPrice and AdjustmentAmount are writable. */
  readonly items: RowsById;
  /** CartDeliveryGroup rows (read-only). */
  readonly deliveryGroups: RowsById;
  /** CartTax rows: add, delete, or update their amounts. */
  readonly taxes: RowsById;
  /** CartDeliveryGroupMethod rows (the shipping options): add, delete, or update them. */
  readonly deliveryMethods: RowsById;
}

/** What an edit recipe gets: the cart state, mutable. */
export type CartDraft = Draft<CartState>;

/** The collections of a CartState and their objects. */
export const CART_COLLECTIONS = {
  items: 'CartItem',
  deliveryGroups: 'CartDeliveryGroup',
  taxes: 'CartTax',
  deliveryMethods: 'CartDeliveryGroupMethod',
} as const;

/** A collection of a CartState. */
export type Collection = keyof typeof CART_COLLECTIONS;

const COLLECTIONS = Object.keys(CART_COLLECTIONS) as Collection[];

/** The collection holding an object's rows, if any. */
export function collectionOf(object: string): Collection | undefined {
  return COLLECTIONS.find((c) => CART_COLLECTIONS[c] === object);
}

/** What each object allows an integration to do, and which fields it may update. */
export const WRITABLE: Record<string, { insert?: boolean; delete?: boolean; update?: readonly string[] }> = {
  CartItem: { update: ['SalesPrice', 'ListPrice', 'AdjustmentAmount'] },
  CartTax: { insert: true, delete: true, update: ['Amount', 'TaxRate', 'TaxType', 'Name', 'Description', 'TaxCalculationDate'] },
  CartDeliveryGroupMethod: { insert: true, delete: true, update: ['ShippingFee', 'Name', 'Carrier', 'ClassOfService', 'ExternalProvider'] },
  ProductInventory: { update: ['QuantityAvailable', 'QuantityReserved'] },
};

/** An integration tried something it may not: thrown to the integration (and failing its step if uncaught). */
export function refuse(what: string): never {
  throw new Error(`integration write refused: ${what}`);
}

/** Schema-checks field values for a write (zod, as records are), refusing with the object and field named. */
export function schemaChecked(object: string, fields: Row, mode: 'create' | 'update'): Row {
  try {
    return validateFields(object, fields, mode);
  } catch (e) {
    if (e instanceof EngineError) refuse(`${object}: ${e.message}`);
    throw e;
  }
}

/** The writes a step's edits come to: what the engine applies at commit. */
export interface WritePlan {
  /** Rows of the cart to delete, by object. */
  readonly deletes: { object: string; ids: string[] }[];
  /** New rows (engine-assigned Id, CartId/WebCartId and dates are added at commit), by the key they had in the draft. */
  readonly inserts: { object: string; key: string; values: Row }[];
  /** Existing rows: only the fields the patches named whose value changed. */
  readonly updates: { object: string; id: string; values: Row }[];
}

/** How one row stands after the edits so far. */
interface Mark {
  /** The row was loaded from the database (else it is new in this step). */
  readonly db: boolean;
  readonly present: boolean;
  /** Replaced as a whole (every field is compared with the loaded row). */
  readonly whole: boolean;
  /** Fields named by field-level patches. */
  readonly fields: ReadonlySet<string>;
}

const NO_FIELDS: ReadonlySet<string> = new Set();

const isPlainObject = (v: unknown): v is Row => !!v && typeof v === 'object' && !Array.isArray(v);

/** Equality of stored values (string lists compare by content); null and undefined are one. */
function same(a: unknown, b: unknown): boolean {
  if (a === b || ((a === null || a === undefined) && (b === null || b === undefined))) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return false;
}

/**
 * The rows and fields a sequence of patches over a CartState touched. Marks are replaced, never
 * mutated, so `clone()` is a shallow copy (an edit folds into a clone and keeps it only if valid).
 */
export class PatchLedger {
  private readonly marks: Map<Collection, Map<string, Mark>>;

  constructor(
    private readonly base: CartState,
    marks?: Map<Collection, Map<string, Mark>>,
  ) {
    this.marks = marks ?? new Map(COLLECTIONS.map((c) => [c, new Map()]));
  }

  clone(): PatchLedger {
    return new PatchLedger(this.base, new Map([...this.marks].map(([c, m]) => [c, new Map(m)])));
  }

  private mark(c: Collection, key: string): Mark | undefined {
    return (
      this.marks.get(c)!.get(key) ??
      (Object.hasOwn(this.base[c], key) ? { db: true, present: true, whole: false, fields: NO_FIELDS } : undefined)
    );
  }

  private put(c: Collection, key: string): void {
    const m = this.mark(c, key);
    this.marks
      .get(c)!
      .set(key, m?.db ? { ...m, present: true, whole: true } : { db: false, present: true, whole: true, fields: NO_FIELDS });
  }

  private remove(c: Collection, key: string): void {
    const m = this.mark(c, key);
    if (m?.db) this.marks.get(c)!.set(key, { ...m, present: false });
    else this.marks.get(c)!.delete(key);
  }

  /** Folds patches in; returns the rows they touched (collection → keys). Refuses paths outside the collections. */
  fold(patches: readonly Patch[], current: CartState): Map<Collection, Set<string>> {
    const touched = new Map<Collection, Set<string>>();
    const touch = (c: Collection, key: string) => (touched.get(c) ?? touched.set(c, new Set()).get(c)!).add(key);
    for (const p of patches) {
      const [top, k, field] = p.path.map(String);
      if (top === undefined) refuse('an edit changes the draft; it may not replace it');
      if (top === 'cart') refuse("integrations can't update WebCart records");
      if (!Object.hasOwn(CART_COLLECTIONS, top)) refuse(`the cart draft has no '${top}'`);
      const c = top as Collection;
      if (k === undefined) {
        // The whole collection replaced: rows missing from the new value are deleted, the others put.
        if (p.op === 'remove' || !isPlainObject(p.value)) refuse(`draft.${c} must stay an object of rows keyed by Id`);
        const next = p.value as Row;
        for (const key of Object.keys(current[c])) {
          if (Object.hasOwn(next, key)) continue;
          this.remove(c, key);
          touch(c, key);
        }
        for (const key of Object.keys(next)) {
          this.put(c, key);
          touch(c, key);
        }
      } else if (field === undefined) {
        if (p.op === 'remove') this.remove(c, k);
        else this.put(c, k);
        touch(c, k);
      } else {
        const m = this.mark(c, k);
        if (!m?.present) continue; // a field of a row removed later in the same edit
        if (m.db && !m.whole && !m.fields.has(field)) this.marks.get(c)!.set(k, { ...m, fields: new Set([...m.fields, field]) });
        else if (!this.marks.get(c)!.has(k)) this.marks.get(c)!.set(k, m);
        touch(c, k);
      }
    }
    return touched;
  }

  /** The writes the folded patches come to, given the state they produced (`only`: just these rows). */
  plan(final: CartState, only?: Map<Collection, Set<string>>): WritePlan {
    const deletes: WritePlan['deletes'][number][] = [];
    const inserts: WritePlan['inserts'][number][] = [];
    const updates: WritePlan['updates'][number][] = [];
    for (const c of COLLECTIONS) {
      const object = CART_COLLECTIONS[c];
      const keys = only ? [...(only.get(c) ?? [])] : [...this.marks.get(c)!.keys()];
      const gone: string[] = [];
      for (const key of keys) {
        const m = this.mark(c, key);
        if (!m) continue;
        if (m.db && !m.present) {
          gone.push(key);
          continue;
        }
        const row = final[c][key];
        if (!isPlainObject(row)) refuse(`draft.${c}['${key}'] must be a record (an object of field values)`);
        if (m.db) {
          const was = this.base[c][key]!;
          const names = m.whole ? new Set([...Object.keys(row), ...Object.keys(was)]) : m.fields;
          const values: Row = {};
          for (const f of names) if (!same(row[f], was[f])) values[f] = row[f] ?? null;
          if (Object.keys(values).length) updates.push({ object, id: key, values });
        } else {
          inserts.push({ object, key, values: { ...row } });
        }
      }
      if (gone.length) deletes.push({ object, ids: gone });
    }
    return { deletes, inserts, updates };
  }
}

/** Fields the engine assigns to a new row: left out, or (CartId, WebCartId) the step's cart. */
const ASSIGNED = ['Id', 'CreatedDate', 'LastModifiedDate'];

/** A new row's values without the fields the engine assigns (refused if set to anything else). */
function withoutAssigned(object: string, row: Row, cartId: string): Row {
  const values: Row = { ...row };
  for (const f of ASSIGNED) {
    if (values[f] !== undefined && values[f] !== null) refuse(`a new ${object} gets its ${f} from the engine; leave ${f} out`);
    delete values[f];
  }
  const cartField = object === 'CartTax' ? 'CartId' : object === 'CartDeliveryGroupMethod' ? 'WebCartId' : undefined;
  if (cartField && values[cartField] !== undefined && values[cartField] !== null && values[cartField] !== cartId) {
    refuse(`a new ${object} belongs to the step's cart; ${cartField} ${String(values[cartField])} isn't it`);
  }
  if (cartField) delete values[cartField];
  return values;
}

/**
 * Checks a plan against what integrations may write and returns each row's values as stored
 * (schema-normalized: ids at 18 characters, numbers rounded to their field's scale). Refusals
 * throw `integration write refused: …`; a new row pointing outside the cart is a StepFailed.
 */
export function checkPlan(plan: WritePlan, final: CartState, cartId: string): WritePlan {
  for (const d of plan.deletes) if (!WRITABLE[d.object]?.delete) refuse(`integrations can't delete ${d.object} records`);
  const updates = plan.updates.map((u) => {
    const allowed = WRITABLE[u.object]?.update;
    if (!allowed) refuse(`integrations can't update ${u.object} records`);
    for (const f of Object.keys(u.values)) if (!allowed.includes(f)) refuse(`integrations can't update ${u.object}.${f}`);
    return { ...u, values: schemaChecked(u.object, u.values, 'update') };
  });
  const inserts = plan.inserts.map((i) => {
    if (!WRITABLE[i.object]?.insert) refuse(`integrations can't create ${i.object} records`);
    const checked = schemaChecked(i.object, withoutAssigned(i.object, i.values, cartId), 'create');
    if (i.object === 'CartTax' && !Object.hasOwn(final.items, String(checked.CartItemId))) {
      throw new StepFailed(`The integration wrote CartItem ${String(checked.CartItemId)}, which isn't part of cart ${cartId}.`);
    }
    if (i.object === 'CartDeliveryGroupMethod' && !Object.hasOwn(final.deliveryGroups, String(checked.CartDeliveryGroupId))) {
      throw new StepFailed(
        `The integration wrote CartDeliveryGroup ${String(checked.CartDeliveryGroupId)}, which isn't part of cart ${cartId}.`,
      );
    }
    return { ...i, values: checked };
  });
  return { deletes: plan.deletes, inserts, updates };
}

/**
 * The write plan of patches over a cart state: fold, check, translate (a pure function: no
 * storage, no clock). `patches` are those of one or more `produceWithPatches` runs from `base`.
 */
export function planWrites(base: CartState, patches: readonly Patch[], cartId: string): WritePlan {
  const ledger = new PatchLedger(base);
  ledger.fold(patches, base);
  const final = immer.applyPatches(base, patches);
  return checkPlan(ledger.plan(final), final, cartId);
}

/** A CartState over loaded rows (each collection keyed by Id, in the given order), deeply frozen. */
export function cartState(cart: Row, rows: { [C in Collection]: readonly Row[] }): CartState {
  const byId = (list: readonly Row[]) => Object.fromEntries(list.map((r) => [String(r.Id), r]));
  return freeze(
    {
      cart,
      items: byId(rows.items),
      deliveryGroups: byId(rows.deliveryGroups),
      taxes: byId(rows.taxes),
      deliveryMethods: byId(rows.deliveryMethods),
    },
    true,
  );
}

/**
 * The draft of one step: the loaded state, the state after the kept edits, and their ledger. An
 * edit that breaks a rule throws and changes nothing; a kept edit's values are stored as the
 * schema normalizes them, so what later edits and the roll-ups see is what the database gets.
 */
export class CartEditor {
  private current: CartState;
  private ledger: PatchLedger;

  constructor(
    readonly base: CartState,
    readonly cartId: string,
  ) {
    this.current = base;
    this.ledger = new PatchLedger(base);
  }

  /** The state after every kept edit. */
  get state(): CartState {
    return this.current;
  }

  /** Runs a recipe on a draft of the current state (synchronously); returns the new state. */
  edit(recipe: (draft: CartDraft) => void): CartState {
    const [next, patches] = immer.produceWithPatches(this.current, (draft: CartDraft) => {
      const r = recipe(draft) as unknown;
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).catch(() => {});
        throw new Error('an edit recipe runs synchronously: read what it needs first (data.state(), data.find()), then edit');
      }
    });
    if (patches.length === 0) return this.current;
    const ledger = this.ledger.clone();
    const touched = ledger.fold(patches, this.current);
    const checked = checkPlan(ledger.plan(next, touched), next, this.cartId);
    const fixes: [Collection, string, Row][] = [];
    for (const w of [
      ...checked.updates.map((u) => [u.object, u.id, u.values] as const),
      ...checked.inserts.map((i) => [i.object, i.key, i.values] as const),
    ]) {
      const c = collectionOf(w[0])!;
      const row = next[c][w[1]]!;
      const changed = Object.entries(w[2]).filter(([f, v]) => !same(row[f], v));
      if (changed.length) fixes.push([c, w[1], Object.fromEntries(changed)]);
    }
    this.current = fixes.length
      ? immer.produce(next, (d: CartDraft) => void fixes.forEach(([c, key, values]) => Object.assign(d[c][key]!, values)))
      : next;
    this.ledger = ledger;
    return this.current;
  }

  /** The writes of every kept edit (values as stored: each edit was checked and normalized when it was kept). */
  plan(): WritePlan {
    const plan = this.ledger.plan(this.current);
    return { ...plan, inserts: plan.inserts.map((i) => ({ ...i, values: withoutAssigned(i.object, i.values, this.cartId) })) };
  }
}
