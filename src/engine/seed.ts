/**
 * Fixtures (spec §1): one JSON or YAML document mapping object type → list of records. A record
 * carries an explicit valid `Id` or a `ref` handle; any field may point at another record with
 * `"@handle"`. Loading is all-or-nothing: every record is validated first, every error names the
 * record (`Type[index]` and its ref) and the field, and nothing is written unless all of it is.
 */
import { parse as parseYaml } from 'yaml';
import { EngineError } from '../errors.js';
import { parseId } from '../domain/ids.js';
import { findObject, OBJECTS } from '../domain/objects.js';
import { validateFields, withDefaults } from '../domain/records.js';
import { MACHINE_VERSION } from '../machines/checkout-session.js';
import type { EngineCore } from './core.js';
import { recomputeCart, withDerivedLine } from './cart.js';
import { prepareUserCredentials } from './passwords.js';
import { impliedStateValue } from './sessions.js';
import { UniqueViolation, type Row, type StorageOps } from '../storage/port.js';
import { cartRows, stampsFor } from './completion.js';
import { setHolds, type HoldRequest } from './reservations.js';
import { StepFailed } from './core.js';
import { computationOf, parseStamps } from '../domain/completion-invariants.js';

interface Pending {
  type: string;
  where: string;
  ref?: string;
  id: string;
  raw: Record<string, unknown>;
  row?: Row;
}

const fail = (where: string, detail: string, fields: string[] = []) => new EngineError('INVALID_FIXTURE', `${where}: ${detail}`, fields);

/** Runs `f`; an EngineError it throws (a derived total out of range) becomes INVALID_FIXTURE naming `where` and the field. */
function asFixtureError<T>(where: string, f: () => T): T {
  const wrap = (e: unknown): never => {
    throw e instanceof EngineError && e.key !== 'INVALID_FIXTURE' ? fail(where, e.message, e.fields) : e;
  };
  try {
    const r = f();
    return (r instanceof Promise ? r.catch(wrap) : r) as T;
  } catch (e) {
    return wrap(e);
  }
}

/** Parses fixture text (YAML, of which JSON is a subset) or passes an object through. */
export function parseFixture(fixture: unknown): Record<string, unknown> {
  let doc = fixture;
  if (typeof fixture === 'string') {
    try {
      doc = parseYaml(fixture);
    } catch (e) {
      throw new EngineError('INVALID_FIXTURE', `The fixture is not valid JSON or YAML: ${(e as Error).message}`);
    }
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new EngineError(
      'INVALID_FIXTURE',
      'A fixture must map object types to lists of records, e.g. { "Account": [ { "ref": "acme", "Name": "Acme" } ] }.',
    );
  }
  return doc as Record<string, unknown>;
}

/**
 * Loads a fixture. `handles` holds refs from earlier fixtures of this engine (and receives the
 * new ones). Returns this fixture's handle → id map.
 */
export async function seedFixture(core: EngineCore, fixture: unknown, handles: Map<string, string>): Promise<Record<string, string>> {
  const doc = parseFixture(fixture);
  const pending: Pending[] = [];
  const local = new Map<string, string>();
  const ids = new Set<string>();

  // 1. Types, ids and handles.
  for (const [typeName, list] of Object.entries(doc)) {
    const object = findObject(typeName);
    if (!object) throw fail(typeName, `unknown object type '${typeName}'.`);
    if (!Array.isArray(list)) throw fail(object.name, 'must be a list of records.');
    list.forEach((rec, i) => {
      let where = `${object.name}[${i}]`;
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw fail(where, 'a record must be an object of field values.');
      const { ref, Id, ...raw } = rec as Record<string, unknown>;
      if (ref !== undefined) {
        if (typeof ref !== 'string' || !ref || ref.startsWith('@'))
          throw fail(where, "'ref' must be a non-empty handle name (without '@').", ['ref']);
        where = `${where} (ref '${ref}')`;
        if (local.has(ref)) throw fail(where, `the handle '${ref}' is used twice.`, ['ref']);
      }
      let id: string;
      if (Id !== undefined) {
        const p = parseId(Id, [object.keyPrefix]);
        if (!p.ok) throw fail(where, `Id: ${p.message}.`, ['Id']);
        id = p.id;
      } else {
        id = core.mint(object.name);
      }
      if (ids.has(id)) throw fail(where, `Id ${id} appears twice in the fixture.`, ['Id']);
      ids.add(id);
      if (typeof ref === 'string') local.set(ref, id);
      pending.push({ type: object.name, where, ref: ref as string | undefined, id, raw });
    });
  }

  // 2. Resolve @handles, validate fields, apply defaults.
  const resolve = (where: string, field: string, v: unknown): unknown => {
    if (typeof v === 'string' && v.startsWith('@')) {
      const name = v.slice(1);
      const id = local.get(name) ?? handles.get(name);
      if (!id)
        throw fail(where, `${field}: unknown reference '${v}' (no record in this or an earlier fixture has ref '${name}').`, [field]);
      return id;
    }
    return v;
  };
  for (const p of pending) {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p.raw))
      fields[k] = Array.isArray(v) ? v.map((x) => resolve(p.where, k, x)) : resolve(p.where, k, v);
    let values: Record<string, unknown>;
    try {
      values = validateFields(p.type, fields, 'seed');
    } catch (e) {
      if (e instanceof EngineError) throw new EngineError('INVALID_FIXTURE', `${p.where}: ${e.message}`, e.fields);
      throw e;
    }
    p.row = withDefaults(OBJECTS.get(p.type)!, values);
  }

  // 3. Referential integrity: every reference names a record of the fixture or one already stored.
  const missing = new Map<string, { p: Pending; field: string }[]>();
  for (const p of pending) {
    for (const f of OBJECTS.get(p.type)!.fields) {
      if (f.type !== 'reference') continue;
      const v = p.row![f.name];
      if (typeof v === 'string' && !ids.has(v)) (missing.get(v) ?? missing.set(v, []).get(v)!).push({ p, field: f.name });
    }
  }
  for (const [id, uses] of missing) {
    const target = OBJECTS.get(uses[0]!.p.type)!.fields.find((f) => f.name === uses[0]!.field)!.to ?? [];
    let found = false;
    for (const t of target) if (await core.storage.get(t, id)) found = true;
    if (!found) {
      const { p, field } = uses[0]!;
      throw new EngineError('INVALID_FIXTURE', `${p.where}: ${field}: no ${target.join('/')} with id ${id} exists.`, [field]);
    }
  }

  // 4. Derived and engine-managed fields.
  const now = core.now().toISOString();
  const itemCart = new Map<string, string>();
  for (const p of pending) if (p.type === 'CartItem') itemCart.set(p.id, String(p.row!.CartId));
  const carts = new Set<string>();
  const byType = new Map<string, Row[]>();
  for (const p of pending) {
    let row: Row = { ...p.row!, Id: p.id, CreatedDate: p.row!.CreatedDate ?? now, LastModifiedDate: p.row!.LastModifiedDate ?? now };
    switch (p.type) {
      case 'CartItem':
        row = asFixtureError(p.where, () => withDerivedLine(row));
        carts.add(String(row.CartId));
        break;
      case 'CartTax': {
        const cartId = itemCart.get(String(row.CartItemId)) ?? (await core.storage.get('CartItem', String(row.CartItemId)))?.CartId;
        row.CartId = cartId ?? null;
        if (cartId) carts.add(String(cartId));
        break;
      }
      case 'WebCart':
        carts.add(p.id);
        break;
      case 'User':
        await prepareUserCredentials(row);
        break;
      case 'CartCheckoutSession': {
        row.State = row.State ?? 'start';
        const inFlight = typeof row.BackgroundOperationId === 'string';
        row._snapshot = JSON.stringify({ value: impliedStateValue(row, core.flow('default').flow, inFlight && row.IsProcessing === true) });
        row._flow = 'default';
        row._machineVersion = MACHINE_VERSION;
        row._version = 0;
        row._activeKey = row.IsArchived === true ? null : row.WebCartId;
        break;
      }
      case 'BackgroundOperation':
        row._version = 0;
        break;
    }
    (byType.get(p.type) ?? byType.set(p.type, []).get(p.type)!).push(row);
  }

  // 5. One transaction: all of it, or none of it.
  try {
    await core.storage.transaction(async (tx) => {
      for (const [type, rows] of byType) await tx.insert(type, rows);
      for (const cartId of carts)
        if (await tx.get('WebCart', cartId)) await asFixtureError(`WebCart ${cartId}`, () => recomputeCart(tx, cartId, core.now()));
      // A session seeded past a computation step counts that step as computed on the seeded cart (the
      // fixture states the computed cart); the completion invariants still check the cart's shape.
      for (const session of byType.get('CartCheckoutSession') ?? []) await stampSeededSession(core, tx, session);
    });
  } catch (e) {
    if (e instanceof UniqueViolation) {
      throw new EngineError(
        'INVALID_FIXTURE',
        `${e.object}: a record repeats a unique value (an Id that already exists, a second active session for a cart, a duplicate Username…).`,
      );
    }
    throw e;
  }
  for (const [k, v] of local) handles.set(k, v);
  return Object.fromEntries(local);
}

/** Stamps the computations a seeded (default-flow) session has passed, on its cart as seeded. */
async function stampSeededSession(core: EngineCore, tx: StorageOps, session: Row): Promise<void> {
  const { flow } = core.flow('default');
  const keys = flow.def.steps.map((st) => st.key);
  const here = keys.indexOf(flow.resolve(session.State) ?? '');
  if (here < 0) return;
  const done = flow.def.steps
    .slice(0, here + 1)
    .map((st) => computationOf(st.action))
    .filter((c): c is NonNullable<typeof c> => c !== null);
  if (!done.length) return;
  const rows = await cartRows(tx, String(session.WebCartId));
  const stamps = stampsFor(parseStamps(session._stamps), done, core.now().toISOString(), rows);
  await tx.update('CartCheckoutSession', String(session.Id), { _stamps: JSON.stringify(stamps) });
  if (done.includes('inventory') && session.IsArchived !== true && !session.OrderId)
    await holdSeededStock(core, tx, String(session.WebCartId), rows.items);
}

/**
 * A session seeded past the inventory step holds its cart's tracked stock, as that step would have
 * (stock-held is a completion invariant). Stock that isn't there is left unheld: the checkout then
 * meets the invariant's refusal, which is the truth of such a fixture.
 */
async function holdSeededStock(core: EngineCore, tx: StorageOps, cartId: string, items: readonly Row[]): Promise<void> {
  const quantities = new Map<string, { quantity: number; line: string }>();
  for (const i of items) {
    if (i.Type === 'Charge' || typeof i.Product2Id !== 'string') continue;
    const q = quantities.get(i.Product2Id) ?? { quantity: 0, line: String(i.Id) };
    q.quantity += Number(i.Quantity ?? 0);
    quantities.set(i.Product2Id, q);
  }
  if (!quantities.size) return;
  const inventories = await tx.find('ProductInventory', { where: [{ field: 'Product2Id', op: 'in', value: [...quantities.keys()] }] });
  const target = new Map<string, HoldRequest>();
  for (const inv of inventories) {
    const q = quantities.get(String(inv.Product2Id));
    if (q && q.quantity > 0) target.set(String(inv.Id), { quantity: q.quantity, relatedEntityId: q.line });
  }
  if (!target.size) return;
  try {
    await setHolds(core, tx, cartId, target, null, core.now());
  } catch (e) {
    if (!(e instanceof StepFailed)) throw e;
  }
}
