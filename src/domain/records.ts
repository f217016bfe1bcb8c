/**
 * Record schemas: one zod schema per object, generated from the object metadata, used by fixtures,
 * createRecord/updateRecord and the HTTP layer. Every failure names the object and the field.
 */
import { z } from 'zod';
import { EngineError } from '../errors.js';
import { parseId } from './ids.js';
import { Decimal, deriveCartLine, roundDecimal, toNumber } from './money.js';
import { allFields, findField, findObject, OBJECTS, prefixesFor, type FieldDef, type ObjectDef } from './objects.js';

/** A stored record: Salesforce API field names to values; `Id` always present. */
export type SObject = Record<string, unknown> & { Id: string };

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function isValidDate(s: string): boolean {
  if (!DATE_RE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** An ISO 8601 date-time as a datetime field takes it (date and time, parseable). */
const isDateTime = (v: string): boolean => /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));

/**
 * Significant digits a stored number (an IEEE-754 double) keeps exactly: every decimal of at most
 * 15 digits survives the trip to a number and back. It caps a field's precision, so a currency
 * field (Salesforce: 18 digits, 2 decimals) holds at most 13 digits before the point here.
 */
export const EXACT_DIGITS = 15;

/** The range of a numeric field: exclusive bound on the magnitude, minimum, decimals kept. */
export interface NumberRange {
  /** |value| must be below this (none: any finite value). */
  readonly limit: Decimal | null;
  readonly min?: number;
  readonly minExclusive?: boolean;
  /** The largest value allowed (inclusive). */
  readonly max?: number;
  readonly scale?: number;
}

const ranges = new WeakMap<FieldDef, NumberRange>();

/** The range a numeric field's values must fall in, from its metadata. */
export function numberRange(field: FieldDef): NumberRange {
  let r = ranges.get(field);
  if (!r) {
    const scale = field.scale;
    const limit = field.precision === undefined ? null : new Decimal(10).pow(Math.min(field.precision, EXACT_DIGITS) - (scale ?? 0));
    ranges.set(field, (r = { limit, min: field.min, minExclusive: field.minExclusive, max: field.max, scale }));
  }
  return r;
}

const limits = new WeakMap<NumberRange, number | null>();

/** A range's magnitude limit as a double (a power of ten: its shortest form is the limit itself). */
function limitNumber(r: NumberRange): number | null {
  let n = limits.get(r);
  if (n === undefined) limits.set(r, (n = r.limit ? r.limit.toNumber() : null));
  return n;
}

/** The range in words, e.g. "greater than 0 and at most 9999999999999.99". */
export function describeRange(r: NumberRange): string {
  const fromLimit = r.limit ? r.limit.minus(new Decimal(10).pow(-(r.scale ?? 0))) : null;
  const max =
    r.max !== undefined && (!fromLimit || fromLimit.gt(r.max)) ? String(r.max) : fromLimit ? fromLimit.toFixed(r.scale ?? 0) : null;
  if (r.min === undefined) return max ? `a finite number between -${max} and ${max}` : 'a finite number';
  const low = r.minExclusive ? `greater than ${r.min}` : `at least ${r.min}`;
  return `a finite number ${low}${max ? ` and at most ${max}` : ''}`;
}

/**
 * Checks a numeric value against its field's range: finite, rounded half-up to the field's scale
 * (Salesforce rounds on save), then within the bounds. Returns the value to store or the reason.
 */
export function checkNumber(field: FieldDef, v: number): { ok: true; value: number } | { ok: false; message: string } {
  const r = numberRange(field);
  const refuse = () => ({ ok: false as const, message: `${Number.isNaN(v) ? 'NaN' : String(v)} (must be ${describeRange(r)})` });
  if (!Number.isFinite(v)) return refuse();
  // A value already at the field's scale (its shortest decimal form has no more decimals, and no
  // exponent) is stored as it is, and compares with the bounds as a double exactly as its decimal
  // form does with theirs (a double and its shortest form order alike), so no Decimal is needed.
  if (!Object.is(v, -0)) {
    const text = String(v);
    const dot = text.indexOf('.');
    if (!text.includes('e') && (r.scale === undefined || dot < 0 || text.length - dot - 1 <= r.scale)) {
      const limit = limitNumber(r);
      if (limit !== null && Math.abs(v) >= limit) return refuse();
      if (r.min !== undefined && (r.minExclusive ? v <= r.min : v < r.min)) return refuse();
      if (r.max !== undefined && v > r.max) return refuse();
      return { ok: true, value: v };
    }
  }
  let d = new Decimal(v);
  if (r.scale !== undefined) d = roundDecimal(d, r.scale);
  if (r.limit && d.abs().gte(r.limit)) return refuse();
  if (r.min !== undefined && (r.minExclusive ? d.lte(r.min) : d.lt(r.min))) return refuse();
  if (r.max !== undefined && d.gt(r.max)) return refuse();
  return { ok: true, value: toNumber(d) };
}

/**
 * Refuses a value the engine derived (a line total, a cart roll-up) that falls outside its
 * field's range, with NUMBER_OUTSIDE_VALID_RANGE naming the field; `why` says what it was derived from.
 */
export function assertInRange(type: string, fieldName: string, value: unknown, why = ''): void {
  if (typeof value !== 'number') return;
  const field = findField(type, fieldName);
  if (!field) return;
  const r = checkNumber(field, value);
  if (!r.ok || r.value !== value) {
    const message = r.ok ? `${value} (must have at most ${field.scale} decimals)` : r.message;
    throw new EngineError('NUMBER_OUTSIDE_VALID_RANGE', `${type}.${field.name}: ${message}${why ? `; ${why}` : ''}.`, [field.name]);
  }
}

/**
 * Text never holds U+0000: PostgreSQL can't store it (the write failed with a database error, a
 * 500) while SQLite could, so both backends refuse it the same way, naming the field.
 */
const noNul = (v: string) => !v.includes('\u0000');
const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';

/** The range of an integer field (32 bits). */
export const INT32_MIN = -2_147_483_648;
export const INT32_MAX = 2_147_483_647;

/** The zod schema of one field's value (nullable; `required` is checked separately). */
export function fieldSchema(field: FieldDef): z.ZodType<unknown> {
  let s: z.ZodType<unknown>;
  switch (field.type) {
    case 'string':
      s = z
        .string()
        .max(field.maxLength ?? 255, `must be at most ${field.maxLength ?? 255} characters`)
        .refine(noNul, NUL_MESSAGE);
      if (field.pattern) {
        const { regex, message } = field.pattern;
        s = s.refine((v) => regex.test(v as string), message);
      }
      break;
    case 'password':
      s = z.string().min(1, 'must not be empty').refine(noNul, NUL_MESSAGE);
      break;
    case 'picklist':
      s = z.enum(field.values as [string, ...string[]], { error: `must be one of: ${(field.values ?? []).join(', ')}` });
      break;
    case 'reference': {
      const prefixes = prefixesFor(field);
      s = z.unknown().transform((v, ctx) => {
        const r = parseId(v, prefixes.length ? prefixes : undefined);
        if (!r.ok) {
          ctx.addIssue({ code: 'custom', message: r.message, params: { malformedId: true } });
          return z.NEVER;
        }
        return r.id;
      });
      break;
    }
    case 'number':
    case 'currency':
      // Any JS number is read, then checked against the field's range (NaN and ±Infinity included).
      s = z.unknown().transform((v, ctx) => {
        if (typeof v !== 'number') {
          ctx.addIssue({ code: 'custom', message: 'must be a number' });
          return z.NEVER;
        }
        const r = checkNumber(field, v);
        if (!r.ok) {
          ctx.addIssue({ code: 'custom', message: r.message, params: { outOfRange: true } });
          return z.NEVER;
        }
        return r.value;
      });
      break;
    case 'integer':
      // A 32-bit integer, as Salesforce's Integer fields and PostgreSQL's integer columns hold.
      s = z.unknown().transform((v, ctx) => {
        if (typeof v !== 'number' || !Number.isInteger(v)) {
          ctx.addIssue({ code: 'custom', message: 'must be a whole number' });
          return z.NEVER;
        }
        // The field's own bounds (WebStore.CheckoutTimeToLive: 0 to a year), within 32 bits.
        const lo = Math.max(INT32_MIN, field.min ?? INT32_MIN);
        const hi = Math.min(INT32_MAX, field.max ?? INT32_MAX);
        if (v < lo || v > hi) {
          ctx.addIssue({ code: 'custom', message: `${v} (must be from ${lo} to ${hi})`, params: { outOfRange: true } });
          return z.NEVER;
        }
        return v;
      });
      break;
    case 'boolean':
      s = z.boolean({ error: 'must be true or false' });
      break;
    case 'date':
      s = z.string({ error: 'must be a date (YYYY-MM-DD)' }).refine(isValidDate, 'must be a date (YYYY-MM-DD)');
      break;
    case 'datetime':
      s = z
        .string({ error: 'must be an ISO 8601 date-time' })
        .refine(isDateTime, 'must be an ISO 8601 date-time')
        .transform((v) => new Date(v).toISOString());
      break;
    case 'stringList':
      s = z.array(z.string().refine(noNul, NUL_MESSAGE), { error: 'must be a list of strings' });
      break;
  }
  return s.nullable();
}

export type Mode = 'create' | 'update' | 'seed';

/** What a field's quick check returns for a value it can't vouch for: the schema decides. */
const UNSURE: unique symbol = Symbol('unsure');

/**
 * A field's value as its zod schema (`fieldSchema`, nullable and optional) outputs it, for the values
 * that schema accepts and this check recognizes; UNSURE for anything else (the schema then parses
 * the whole record, with its own errors). It never accepts a value the schema refuses, and what it
 * returns equals the schema's output (a string list is a new array, a date-time its ISO form).
 */
function quickCheck(field: FieldDef): (v: unknown) => unknown {
  switch (field.type) {
    case 'string': {
      if (field.pattern) return () => UNSURE;
      const max = field.maxLength ?? 255;
      return (v) => (typeof v === 'string' && v.length <= max && noNul(v) ? v : UNSURE);
    }
    case 'picklist': {
      const values: readonly unknown[] = field.values ?? [];
      return (v) => (typeof v === 'string' && values.includes(v) ? v : UNSURE);
    }
    case 'reference': {
      const prefixes = prefixesFor(field);
      return (v) => {
        const r = parseId(v, prefixes.length ? prefixes : undefined);
        return r.ok ? r.id : UNSURE;
      };
    }
    case 'number':
    case 'currency':
      return (v) => {
        if (typeof v !== 'number') return UNSURE;
        const r = checkNumber(field, v);
        return r.ok ? r.value : UNSURE;
      };
    case 'integer': {
      const lo = Math.max(INT32_MIN, field.min ?? INT32_MIN);
      const hi = Math.min(INT32_MAX, field.max ?? INT32_MAX);
      return (v) => (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? v : UNSURE);
    }
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? v : UNSURE);
    case 'date':
      return (v) => (typeof v === 'string' && isValidDate(v) ? v : UNSURE);
    case 'datetime':
      return (v) => (typeof v === 'string' && isDateTime(v) ? new Date(v).toISOString() : UNSURE);
    case 'stringList':
      return (v) => {
        if (!Array.isArray(v)) return UNSURE;
        const out = new Array<string>(v.length);
        for (let i = 0; i < v.length; i++) {
          const x: unknown = v[i];
          if (typeof x !== 'string' || !noNul(x)) return UNSURE;
          out[i] = x;
        }
        return out;
      };
    default:
      // password: left to the schema.
      return () => UNSURE;
  }
}

const quickChecks = new Map<string, readonly (readonly [string, (v: unknown) => unknown])[]>();

/**
 * `objectSchema(object, mode)`'s output for `canonical` (keys in the schema's order, those given
 * only, undefined kept as given) when every value passes its field's quick check; null otherwise.
 * Exported for its tests (@internal).
 */
export function quickParse(object: ObjectDef, mode: Mode, canonical: Record<string, unknown>): Record<string, unknown> | null {
  const key = `${object.name}:${mode}`;
  let checks = quickChecks.get(key);
  if (!checks) {
    checks = allFields(object)
      .filter((f) => mode === 'seed' || !f.readOnly)
      .map((f) => [f.name, quickCheck(f)] as const);
    quickChecks.set(key, checks);
  }
  const out: Record<string, unknown> = {};
  for (const [name, check] of checks) {
    if (!(name in canonical)) continue;
    const v = canonical[name];
    if (v === undefined || v === null) {
      out[name] = v;
      continue;
    }
    const r = check(v);
    if (r === UNSURE) return null;
    out[name] = r;
  }
  return out;
}

const schemaCache = new Map<string, z.ZodType<Record<string, unknown>>>();

/** The zod schema of an object's writable fields in `mode` (exported for its tests, @internal). */
export function objectSchema(object: ObjectDef, mode: Mode): z.ZodType<Record<string, unknown>> {
  const key = `${object.name}:${mode}`;
  let s = schemaCache.get(key);
  if (!s) {
    const shape: Record<string, z.ZodType<unknown>> = {};
    for (const f of allFields(object)) {
      // seed may set everything (test data, including ids and computed fields); callers may not
      // write read-only fields.
      if (mode !== 'seed' && f.readOnly) continue;
      shape[f.name] = fieldSchema(f).optional();
    }
    s = z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
    schemaCache.set(key, s);
  }
  return s;
}

/** The object definition for a type name, or an INVALID_TYPE error naming it. */
export function requireObject(type: string): ObjectDef {
  const o = findObject(type);
  if (!o)
    throw new EngineError(
      'INVALID_TYPE',
      typeof type === 'string' ? `sObject type '${type}' is not supported.` : `The sObject type must be a string, not ${typeof type}.`,
      [],
    );
  return o;
}

const fieldsByLowerName = new WeakMap<ObjectDef, Map<string, FieldDef>>();

/** Canonical API-name spelling of incoming field names (Salesforce field names are case-insensitive). */
function canonicalize(object: ObjectDef, input: Record<string, unknown>, mode: Mode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let byLower = fieldsByLowerName.get(object);
  if (!byLower) fieldsByLowerName.set(object, (byLower = new Map(allFields(object).map((f) => [f.name.toLowerCase(), f]))));
  for (const [k, v] of Object.entries(input)) {
    if (k === 'attributes') continue; // Salesforce REST bodies may carry { attributes: { type } }
    const f = byLower.get(k.toLowerCase());
    if (!f) throw new EngineError('INVALID_FIELD', `No such column '${k}' on sObject of type ${object.name}.`, [k]);
    if (mode !== 'seed' && f.readOnly) {
      throw new EngineError('READ_ONLY_FIELD', `Unable to create/update fields: ${f.name}. ${object.name}.${f.name} is read-only.`, [
        f.name,
      ]);
    }
    out[f.name] = v;
  }
  return out;
}

/**
 * Validates and normalizes field values for a write: unknown fields, read-only fields, wrong types,
 * malformed ids, bad picklist values, numbers outside their field's range and (on create) missing
 * required fields are EngineErrors naming the object and field. Ids are normalized to 18
 * characters; numbers are rounded half-up to their field's scale (currency: 2 decimals).
 */
export function validateFields(type: string, input: unknown, mode: Mode): Record<string, unknown> {
  const object = requireObject(type);
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new EngineError('INVALID_INPUT', `The ${object.name} record must be a JSON object of field values.`);
  }
  const canonical = canonicalize(object, input as Record<string, unknown>, mode);
  // Values the quick checks vouch for skip zod (same output); anything else gets the schema and its errors.
  const quick = quickParse(object, mode, canonical);
  const parsed = quick ? { success: true as const, data: quick } : objectSchema(object, mode).safeParse(canonical);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    const params = issue.code === 'custom' ? (issue as { params?: { malformedId?: boolean; outOfRange?: boolean } }).params : undefined;
    const def = object.fields.find((f) => f.name === field);
    const key = params?.malformedId
      ? 'INVALID_ID_FIELD'
      : params?.outOfRange
        ? 'NUMBER_OUTSIDE_VALID_RANGE'
        : def?.type === 'picklist'
          ? 'INVALID_FIELD_VALUE'
          : issue.code === 'too_big' && def?.type === 'string'
            ? 'STRING_TOO_LONG'
            : 'FIELD_VALUE_TYPE';
    throw new EngineError(key, `${object.name}.${field}: ${issue.message}.`, [field]);
  }
  const values = parsed.data;
  if (mode !== 'update') {
    // A record write may leave out a required copy (CartItem.Name) when it names its source (Product2Id): it is filled from it.
    const given = (name: string) => values[name] !== undefined && values[name] !== null;
    const missing = object.fields
      .filter((f) => f.required && !given(f.name) && !(mode === 'create' && f.copiedFrom && given(f.copiedFrom.via)))
      .map((f) => f.name);
    if (missing.length) {
      throw new EngineError('REQUIRED_FIELD_MISSING', `[${missing.join(', ')}] on ${object.name}.`, missing);
    }
  } else {
    for (const f of object.fields) {
      if (f.required && f.name in values && values[f.name] === null) {
        throw new EngineError('REQUIRED_FIELD_MISSING', `[${f.name}] on ${object.name} can't be set to null.`, [f.name]);
      }
    }
  }
  return values;
}

/** Default values of an object's fields for a new record (fields not given get their default or null). */
export function withDefaults(object: ObjectDef, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of object.fields) {
    const v = values[f.name];
    out[f.name] = v !== undefined ? v : f.default !== undefined ? structuredCloneIfArray(f.default) : null;
  }
  for (const k of ['Id', 'CreatedDate', 'LastModifiedDate']) if (values[k] !== undefined) out[k] = values[k];
  return out;
}

function structuredCloneIfArray(v: unknown): unknown {
  return Array.isArray(v) ? [...v] : v;
}

/**
 * The caller-visible view of a stored row: internal columns dropped, write-only fields hidden, and
 * for a reader without ModifyAllData (`admin` false) the fields only ModifyAllData reads (`read: 'admin'`).
 */
export function publicRecord(type: string, row: Record<string, unknown>, admin = true): SObject {
  const object = OBJECTS.get(type)!;
  const out: Record<string, unknown> = {};
  for (const f of allFields(object)) {
    if (f.writeOnly || (f.read === 'admin' && !admin)) continue;
    out[f.name] = row[f.name] ?? null;
  }
  return out as SObject;
}

/**
 * Fills a cart line's derived totals from its prices, quantity and adjustment (in decimal, rounded
 * to cents); a total outside the currency range is NUMBER_OUTSIDE_VALID_RANGE naming it.
 */
export function withDerivedLine(item: Record<string, unknown>): Record<string, unknown> {
  const derived = deriveCartLine(item);
  const why = `${String(item.SalesPrice ?? item.ListPrice ?? 0)} × ${String(item.Quantity)} on CartItem ${String(item.Id ?? '(new)')}`;
  for (const [field, value] of Object.entries(derived)) assertInRange('CartItem', field, value, `derived from ${why}`);
  return { ...item, ...derived };
}
