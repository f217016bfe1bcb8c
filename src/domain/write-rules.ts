/**
 * The write rules of the object metadata (objects.ts: `write`, `rowWriter`, field `write` and
 * `fixed`) as pure functions: who may create, update or delete an object's records and write each
 * field. The record layer (engine/record-service.ts) applies them; sharing (engine/access.ts) then decides
 * which rows a buyer reaches.
 */
import type { ErrorKey } from '../errors.js';
import { findField, type FieldDef, type ObjectDef, type Writer } from './objects.js';
import { decimalsOf, quantityScaleOf } from './line-rules.js';

/** The sharing a record verb needs: 'read', 'edit' (owner or Edit share) or 'delete' (owner only where `deleteBy: 'owner'`). */
export type AccessMode = 'read' | 'edit' | 'delete';

/** The role a caller writes with: ModifyAllData is 'admin', everyone else a 'buyer'. */
export type Role = 'buyer' | 'admin';

/** A record verb. */
export type Verb = 'create' | 'update' | 'delete';

/** Why a write is refused: the error key, a detail naming what, and the fields at fault. */
export interface Refusal {
  readonly key: ErrorKey;
  readonly detail: string;
  readonly fields: string[];
}

const RANK: Record<Writer | Role, number> = { buyer: 0, admin: 1, engine: 2 };

/** The role of a caller with these permissions (B2BCommerceIntegrator opens no record write). */
export function roleOf(permissions: readonly string[]): Role {
  return permissions.includes('ModifyAllData') ? 'admin' : 'buyer';
}

/** Whether `role` may do what `writer` allows. */
export function allows(writer: Writer, role: Role): boolean {
  return RANK[role] >= RANK[writer];
}

/** Who may create, update or delete records of an object. */
export function objectWriter(object: ObjectDef, verb: Verb): Writer {
  return object.write?.[verb] ?? 'admin';
}

/** Who may write a field: the engine for read-only fields, else its declared writer (default admin). */
export function fieldWriter(field: FieldDef): Writer {
  return field.readOnly ? 'engine' : (field.write ?? 'admin');
}

/** The writer a row needs because of its values (a Charge cart line needs admin), or null. */
export function rowWriterFor(object: ObjectDef, row: Readonly<Record<string, unknown>>): Writer | null {
  const r = object.rowWriter;
  return r && r.values.includes(row[r.field] as string) ? r.writer : null;
}

/** Refusal of a verb on an object for a role, before any field or row is looked at. */
export function checkObjectWrite(object: ObjectDef, verb: Verb, role: Role): Refusal | null {
  const writer = objectWriter(object, verb);
  if (allows(writer, role)) return null;
  if (writer === 'engine') {
    return {
      key: 'ENGINE_MANAGED',
      detail: `${object.name} records are ${verb === 'create' ? 'created' : verb === 'update' ? 'changed' : 'deleted'} only by the checkout actions.`,
      fields: [],
    };
  }
  return { key: 'INSUFFICIENT_ACCESS', detail: `Only ModifyAllData may ${verb} ${object.name} records.`, fields: [] };
}

/**
 * Refusal of the field values of a create or update: fields the role may not write (all named at
 * once), a row kind the role may not write (before or after the change), and, on update, fixed
 * fields whose value would change.
 */
export function checkFieldWrite(
  object: ObjectDef,
  verb: 'create' | 'update',
  role: Role,
  values: Readonly<Record<string, unknown>>,
  before?: Readonly<Record<string, unknown>>,
): Refusal | null {
  const denied: string[] = [];
  const fixed: string[] = [];
  for (const f of object.fields) {
    if (!(f.name in values)) continue;
    if (!allows(fieldWriter(f), role)) denied.push(f.name);
    else if (
      verb === 'update' &&
      (f.fixed === true || (f.fixed === 'buyer' && role === 'buyer')) &&
      before &&
      values[f.name] !== before[f.name]
    )
      fixed.push(f.name);
  }
  if (denied.length) {
    return { key: 'FIELD_NOT_WRITABLE', detail: `${object.name}: ${denied.join(', ')}.`, fields: denied };
  }
  for (const row of before ? [before, { ...before, ...values }] : [values]) {
    const w = rowWriterFor(object, row);
    if (w && !allows(w, role)) {
      const r = object.rowWriter!;
      return {
        key: 'INSUFFICIENT_ACCESS',
        detail: `Only ModifyAllData may write ${object.name} records with ${r.field} ${String(row[r.field])}.`,
        fields: [r.field],
      };
    }
  }
  if (fixed.length) return { key: 'FIELD_NOT_UPDATABLE', detail: `${object.name}: ${fixed.join(', ')}.`, fields: fixed };
  return null;
}

/** Refusal of deleting a row because of its kind (a Charge line for a buyer). */
export function checkRowDelete(object: ObjectDef, role: Role, row: Readonly<Record<string, unknown>>): Refusal | null {
  const w = rowWriterFor(object, row);
  if (w && !allows(w, role)) {
    const r = object.rowWriter!;
    return {
      key: 'INSUFFICIENT_ACCESS',
      detail: `Only ModifyAllData may delete ${object.name} records with ${r.field} ${String(row[r.field])}.`,
      fields: [r.field],
    };
  }
  return null;
}

/**
 * The sharing a buyer needs to delete a record of this object: 'delete' (the owner of its cart:
 * an Edit share never grants delete) where the metadata says `deleteBy: 'owner'`, else 'edit'.
 */
export function deleteAccess(object: ObjectDef): 'edit' | 'delete' {
  return object.write?.deleteBy === 'owner' ? 'delete' : 'edit';
}

/** Refusal of a delete because the caller may edit but not delete the record (an Edit share). */
export function editNotDelete(object: ObjectDef, id: string): Refusal {
  return {
    key: 'INSUFFICIENT_ACCESS',
    detail: `Only the cart's owner or ModifyAllData may delete ${object.name} ${id}: an Edit share edits but doesn't delete.`,
    fields: [],
  };
}

/**
 * Refusal of deleting a record that still has children the metadata says block it
 * (`restrictDelete`: a delivery group with lines). `counts` gives each blocking object's count.
 */
export function checkRestrictDelete(object: ObjectDef, id: string, counts: Readonly<Record<string, number>>): Refusal | null {
  const blocking = (object.restrictDelete ?? []).filter((r) => (counts[r.object] ?? 0) > 0);
  if (!blocking.length) return null;
  const what = blocking.map((r) => `${r.object} records (${r.object}.${r.field})`).join(', ');
  return {
    key: 'DELETE_RESTRICTED',
    detail: `${object.name} ${id} still has ${what}: delete or move them first.`,
    fields: [],
  };
}

/**
 * Whether a reference's target meets the field's `refWhere` (active, same account as the record
 * `via` names). `via` is that record (null when it doesn't exist). A target that doesn't meet it
 * answers as a missing one.
 */
export function refTargetAllowed(
  field: FieldDef,
  target: Readonly<Record<string, unknown>>,
  via: Readonly<Record<string, unknown>> | null,
): boolean {
  const w = field.refWhere;
  if (!w) return true;
  if (w.active && target[w.active] !== true) return false;
  if (w.sameAs) {
    const want = via?.[w.sameAs.viaField];
    if (want === null || want === undefined || target[w.sameAs.targetField] !== want) return false;
  }
  return true;
}

/** Whether a write to these values (or a create/delete) cancels the running checkout of the record's cart. */
export function cancelsCheckout(
  object: ObjectDef,
  verb: Verb,
  values: Readonly<Record<string, unknown>> = {},
  before?: Readonly<Record<string, unknown>>,
): boolean {
  const c = object.cancelsCheckout;
  if (!c) return false;
  if (verb !== 'update') return !!c[verb];
  const fields = c.fields === 'all' ? Object.keys(values) : (c.fields ?? []);
  return fields.some((f) => f in values && (!before || values[f] !== before[f]));
}

/** Whether an update changes a field that cancels the checkout once it has left its first state. */
export function cancelsAfterFirstState(
  object: ObjectDef,
  values: Readonly<Record<string, unknown>>,
  before: Readonly<Record<string, unknown>>,
): boolean {
  return (object.cancelsCheckout?.afterFirstState ?? []).some((f) => f in values && values[f] !== before[f]);
}

/** The fields of an object a role may write (for docs and describe). */
export function writableFields(object: ObjectDef, role: Role): string[] {
  return object.fields.filter((f) => allows(fieldWriter(f), role)).map((f) => f.name);
}

/** A record's fields, read-only. */
type Fields = Readonly<Record<string, unknown>>;

/**
 * The copied fields (`copiedFrom`: CartItem.Name and Sku from its Product2) of a create or update:
 * the values to fill from the records their `via` names (`sources`, by via field; null when the
 * row names none), or the refusal of a write by a role below the field's `writer` that supplies
 * another value than the copy (FIELD_NOT_WRITABLE, naming every such field) or names no source
 * (REQUIRED_FIELD_MISSING, naming `via`). `values`: the fields written; `row`: the record as the
 * write leaves it. A field is filled when the write sets its source (always, on create) and, for a
 * role at or above its writer, leaves the field itself empty.
 */
export function copiedFieldWrite(
  object: ObjectDef,
  verb: 'create' | 'update',
  role: Role,
  values: Fields,
  row: Fields,
  sources: Readonly<Record<string, Fields | null>>,
): { fill: Record<string, unknown> } | { refusal: Refusal } {
  const fill: Record<string, unknown> = {};
  const conflicts: string[] = [];
  const copiedBy = new Map<string, string[]>();
  for (const f of object.fields) {
    const c = f.copiedFrom;
    if (!c) continue;
    const setsSource = verb === 'create' || c.via in values;
    if (!setsSource && !(f.name in values)) continue;
    const source = sources[c.via] ?? null;
    const copy = source ? (source[c.field] ?? null) : null;
    if (allows(c.writer, role)) {
      if (setsSource && source && (values[f.name] === undefined || values[f.name] === null)) fill[f.name] = copy;
      continue;
    }
    if (row[c.via] === null || row[c.via] === undefined) {
      copiedBy.set(c.via, [...(copiedBy.get(c.via) ?? []), f.name]);
      continue;
    }
    if (f.name in values && values[f.name] !== copy) conflicts.push(f.name);
    else if (setsSource) fill[f.name] = copy;
  }
  const [via, copies] = [...copiedBy][0] ?? [];
  if (via) {
    return {
      refusal: {
        key: 'REQUIRED_FIELD_MISSING',
        detail: `[${via}] on ${object.name}: ${copies!.join(', ')} ${copies!.length === 1 ? 'is' : 'are'} copied from it.`,
        fields: [via],
      },
    };
  }
  if (conflicts.length) {
    const from = [...new Set(object.fields.filter((f) => conflicts.includes(f.name)).map((f) => f.copiedFrom!.via))].join(', ');
    return {
      refusal: {
        key: 'FIELD_NOT_WRITABLE',
        detail: `${object.name}: ${conflicts.join(', ')} ${conflicts.length === 1 ? 'is a copy' : 'are copies'} of the record ${from} names; only ModifyAllData writes another value.`,
        fields: conflicts,
      },
    };
  }
  return { fill };
}

/**
 * Refusal of a numeric value with more decimals than its `scaleFrom` source allows (CartItem.Quantity:
 * its Product2's QuantityScale, default 0 = whole units), for a role below the field's `writer`,
 * when the write sets the field or its source (always, on create). QUANTITY_SCALE naming the field.
 */
export function checkScaledFields(
  object: ObjectDef,
  verb: 'create' | 'update',
  role: Role,
  values: Fields,
  row: Fields,
  sources: Readonly<Record<string, Fields | null>>,
): Refusal | null {
  for (const f of object.fields) {
    const s = f.scaleFrom;
    if (!s || allows(s.writer, role)) continue;
    if (verb === 'update' && !(f.name in values) && !(s.via in values)) continue;
    if (rowWriterFor(object, row)) continue; // rows of another writer's kind (Charge lines) carry no product scale
    const value = row[f.name];
    if (typeof value !== 'number') continue;
    const source = sources[s.via] ?? null;
    const allowed = quantityScaleOf(source ? { QuantityScale: source[s.field] } : null);
    if (decimalsOf(value) <= allowed) continue;
    const target = findField(object.name, s.via)?.to?.[0] ?? s.via;
    const what = allowed === 0 ? 'whole units only' : `at most ${allowed} decimal${allowed === 1 ? '' : 's'}`;
    return {
      key: 'QUANTITY_SCALE',
      detail: `${object.name}.${f.name} ${value}: ${target} ${String(row[s.via] ?? '(none)')} is sold in ${what} (${target}.${s.field} ${allowed}).`,
      fields: [f.name],
    };
  }
  return null;
}
