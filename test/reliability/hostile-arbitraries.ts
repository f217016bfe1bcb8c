/**
 * fast-check generators of hostile input, built from the engine's own metadata so they follow it:
 * action inputs from `describeActions()` params, record writes from the object table
 * (`src/domain/objects.ts`, every object and field), SOQL from the grammar of docs/soql.md with
 * valid and broken pieces, plus arbitrary text. Ids come from the world's real rows (own, other
 * account's, wrong object type), their 15-character forms and malformed ones.
 */
import fc from 'fast-check';
import { CHILD_RELATIONSHIPS, OBJECTS, STORED_OBJECTS, allFields, type FieldDef, type ObjectDef } from '../../src/domain/objects.js';
import { checksumSuffix } from '../../src/domain/ids.js';
import type { ActionDef, ActionParam } from '../../src/actions/types.js';
import type { World } from './hostile-world.js';

/** `arb`'s value with probability `p` (0–1), else null. */
export function sometimes<T>(arb: fc.Arbitrary<T>, p: number): fc.Arbitrary<T | null> {
  const k = Math.round(p * 100);
  return fc.oneof({ weight: k, arbitrary: arb }, { weight: 100 - k, arbitrary: fc.constant(null) });
}

/** Keys that pollute prototypes when merged carelessly. */
export const POLLUTING_KEYS = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'hasOwnProperty', 'toString', 'valueOf'];

/** Strings nobody should send: empty, blanks, control and bidi characters, lone surrogates, SQL and path tricks, long runs. */
export const junkString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '\u0000abc',
      '\t\r\n',
      '\u202e\u202d',
      '\ud800',
      '\udfff',
      'e\u0301',
      '𝒜𝒞𝓂ℯ',
      '%',
      '_',
      '\\',
      "'",
      "' OR 1=1 --",
      '"; DROP TABLE "WebCart"; --',
      '../../etc/passwd',
      '${7*7}',
      '{{7*7}}',
      'null',
      'undefined',
      'NaN',
      'Infinity',
      '-1',
      '1e309',
      'true',
      '[object Object]',
      '__proto__',
      'constructor',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom('a', 'é', '\u0000', '𝒜', "'"), fc.integer({ min: 250, max: 70_000 })).map(([c, n]) => c.repeat(n)),
  },
);

/** Numbers at and beyond every bound: zero, signs, fractions past the scale, precision edges, NaN, infinities. */
export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    0.001,
    0.005,
    0.015,
    1e16 - 0.01,
    1e16,
    1e17,
    -1e16,
    2 ** 53,
    2 ** 53 + 2,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    NaN,
    Infinity,
    -Infinity,
    1e308,
    -1e308,
    4294967296,
    2147483648,
  ),
  fc.double(),
  fc.integer(),
);

/** Values of every JSON (and non-JSON) type. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: junkString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, [], {}, [null], { a: 1 }, ['x', 1]) },
  { weight: 1, arbitrary: fc.constantFrom(10n, Symbol('s'), () => 1, new Date(0), new Date(Number.NaN), /re/) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** Every real id of the world, all types. */
function allIds(w: World): string[] {
  return Object.values(w.ids).flat();
}

/** Ids a caller might send: real ones (any object, any account), their 15-char and re-cased forms, broken ones. */
export function idArb(w: World, objects?: readonly string[]): fc.Arbitrary<string> {
  const own = objects?.flatMap((o) => w.ids[o] ?? []) ?? [];
  const real = allIds(w);
  const named = Object.values(w.named);
  const forms = (id: string) => [
    id,
    id.slice(0, 15),
    id.toLowerCase(),
    id.toUpperCase(),
    id.slice(0, 15) + 'AAA',
    id.slice(0, 17),
    `${id} `,
    ` ${id}`,
    id + id.slice(0, 3),
  ];
  const ofType = fc.constantFrom(...(own.length ? own : real));
  // A syntactically valid id of a prefix nothing uses, or of a known prefix with no row.
  const nowhere = fc
    .tuple(fc.constantFrom('001', '0a6', '801', 'zzz', '000', '0Ak', '0xE', '0Es'), fc.stringMatching(/^[A-Za-z0-9]{12}$/))
    .map(([p, r]) => p + r + checksumSuffix(p + r));
  return fc.oneof(
    { weight: 10, arbitrary: ofType },
    { weight: 2, arbitrary: fc.constantFrom(...named) },
    { weight: 3, arbitrary: ofType.chain((id) => fc.constantFrom(...forms(id))) },
    { weight: 1, arbitrary: fc.constantFrom(...real) },
    { weight: 1, arbitrary: nowhere },
    { weight: 1, arbitrary: junkString },
  );
}

/** A value for one described action param: mostly the right type, often not. */
function paramValue(w: World, p: ActionParam): fc.Arbitrary<unknown> {
  const right =
    p.type === 'BOOLEAN'
      ? fc.constantFrom<unknown>(true, false, 'true', 'false', 'TRUE', 'yes', 0, 1, '')
      : p.type === 'ID'
        ? idArb(
            w,
            p.name === 'cartId'
              ? ['WebCart']
              : p.name === 'checkoutSessionId'
                ? ['CartCheckoutSession']
                : p.name === 'deliveryMethodId'
                  ? ['OrderDeliveryMethod', 'CartDeliveryGroupMethod']
                  : undefined,
          )
        : fc.oneof(
            fc.constantFrom(
              'Start',
              'start',
              'Checkout Summary',
              'checkoutSummary',
              'Cart To Order',
              'cartToOrder',
              'Inventory',
              'complete',
              'error',
              'Activated',
              'Draft',
              'MANAGED',
              'UNMANAGED',
              'Pre-Pricing',
            ),
            junkString,
          );
  return fc.oneof({ weight: 10, arbitrary: right }, { weight: 1, arbitrary: anyValue });
}

/** Own-property object (JSON.parse keeps `__proto__` as an own key, as a JSON body would). */
function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

/** Extra keys: junk, polluting, a real param's name in other case, an output's name. */
function extraKey(def: ActionDef): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...POLLUTING_KEYS),
    fc.constantFrom(...def.inputs.map((p) => p.name.toUpperCase()), ...def.outputs.map((p) => p.name), 'inputs', 'userId', 'Id'),
    fc.string({ maxLength: 12 }),
  );
}

/** One input of an action: built from its described params, with fields dropped, added, mistyped; or not an object at all. */
export function actionInputArb(w: World, def: ActionDef): fc.Arbitrary<unknown> {
  const entries = fc.tuple(
    ...def.inputs.map((p) =>
      sometimes(fc.tuple(fc.constantFrom(p.name, p.name, p.name.toLowerCase()), paramValue(w, p)), p.required ? 0.92 : 0.5),
    ),
  );
  const extras = fc.array(fc.tuple(extraKey(def), anyValue), { maxLength: 2 });
  const shaped = fc
    .tuple(entries, fc.oneof({ weight: 8, arbitrary: fc.constant([] as [string, unknown][]) }, { weight: 1, arbitrary: extras }))
    .map(([es, xs]) => objectOf([...(es.filter(Boolean) as [string, unknown][]), ...xs]));
  return fc.oneof({ weight: 20, arbitrary: shaped }, { weight: 1, arbitrary: anyValue });
}

/** Action names: every described action, mostly; sometimes a near miss. */
export function actionNameArb(w: World): fc.Arbitrary<string> {
  const names = w.engine.describeActions().map((a) => a.name);
  return fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...names) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ...names.map((n) => n.toLowerCase()),
        '__proto__',
        'constructor',
        'toString',
        '',
        'cartToOrder',
        'hasOwnProperty',
      ),
    },
  );
}

/** An invocation: an action, a caller and a list of inputs (usually 1–4; sometimes 199–201, the limit and over). */
export interface Invocation {
  action: string;
  who: 'a' | 'b' | 'admin';
  inputs: unknown;
}
export function invocationArb(w: World): fc.Arbitrary<Invocation> {
  const defs = new Map(w.engine.describeActions().map((d) => [d.name, d]));
  return fc.tuple(actionNameArb(w), fc.constantFrom<'a' | 'b' | 'admin'>('a', 'a', 'b', 'admin')).chain(([action, who]) => {
    const def = defs.get(action) ?? defs.get('cartToOrderAction')!;
    const input = actionInputArb(w, def);
    const list = fc.oneof(
      { weight: 16, arbitrary: fc.array(input, { minLength: 1, maxLength: 4 }) },
      { weight: 1, arbitrary: fc.constant([]) },
      // Around the 200 limit: the same few inputs repeated.
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.array(input, { minLength: 1, maxLength: 3 }), fc.constantFrom(199, 200, 201, 450))
          .map(([xs, n]) => Array.from({ length: n }, (_, i) => xs[i % xs.length])),
      },
      { weight: 1, arbitrary: anyValue },
    );
    return list.map((inputs): Invocation => ({ action, who, inputs }));
  });
}

/** A value for a field: right type and in bounds, at the bounds, or out of them; or another type. */
function fieldValue(w: World, f: FieldDef): fc.Arbitrary<unknown> {
  let right: fc.Arbitrary<unknown>;
  switch (f.type) {
    case 'string':
    case 'password':
      right = fc.oneof(
        fc.string({ maxLength: 20 }),
        fc.constantFrom(
          'x'.repeat(f.maxLength ?? 255),
          'x'.repeat((f.maxLength ?? 255) + 1),
          'é'.repeat(f.maxLength ?? 255),
          '𝒜'.repeat(f.maxLength ?? 255),
        ),
        junkString,
      );
      break;
    case 'picklist':
      right = fc.oneof(
        fc.constantFrom(...(f.values ?? ['x'])),
        fc.constantFrom(...(f.values ?? ['x']).map((v) => v.toLowerCase()), ''),
        junkString,
      );
      break;
    case 'reference':
      right = idArb(w, f.to);
      break;
    case 'number':
    case 'currency':
    case 'integer':
      right = fc.oneof(hostileNumber, fc.constantFrom('1', '1.5', '1e3', ' 2', '0x10', '', '١٢'));
      break;
    case 'boolean':
      right = fc.constantFrom(true, false, 'true', 'false', 0, 1, 'yes', '');
      break;
    case 'date':
      right = fc.constantFrom(
        '2026-01-31',
        '2026-02-30',
        '2026-13-01',
        '0000-00-00',
        '2026-01-31T10:00:00Z',
        '31/01/2026',
        '',
        '99999-01-01',
        '-000001-01-01',
      );
      break;
    case 'datetime':
      right = fc.constantFrom(
        '2026-01-31T10:00:00Z',
        '2026-01-31T10:00:00.000+0000',
        '2026-01-31',
        '2026-01-31T25:00:00Z',
        'yesterday',
        '',
        '+275760-09-13T00:00:00.000Z',
        '1970-01-01T00:00:00Z',
      );
      break;
    case 'stringList':
      right = fc.oneof(
        fc.constantFrom(['ModifyAllData'], ['B2BCommerceIntegrator'], [], ['ModifyAllData', 'x'], 'ModifyAllData', [1], [null]),
        fc.array(junkString, { maxLength: 3 }),
      );
      break;
    default:
      right = anyValue;
  }
  return fc.oneof({ weight: 10, arbitrary: right }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: anyValue });
}

/** A field map for an object: real field names (any case, read-only and internal ones included), junk names, polluting keys. */
export function fieldMapArb(w: World, object: ObjectDef): fc.Arbitrary<Record<string, unknown>> {
  const fields = allFields(object);
  const internal = (STORED_OBJECTS.get(object.name)?.internal ?? []).map((c) => c.name);
  const real = fc
    .constantFrom(...fields)
    .chain((f) => fc.tuple(fc.constantFrom(f.name, f.name, f.name.toLowerCase(), f.name.toUpperCase()), fieldValue(w, f)));
  const junk = fc.tuple(
    fc.oneof(
      fc.constantFrom(...POLLUTING_KEYS, ...internal, 'attributes', 'Id ', 'Account.Name', 'CartItems', ''),
      fc.string({ maxLength: 10 }),
    ),
    anyValue,
  );
  return fc
    .array(fc.oneof({ weight: 12, arbitrary: real }, { weight: 1, arbitrary: junk }), { maxLength: 4 })
    .map((entries) => objectOf(entries as [string, unknown][]));
}

/** A record write: one of every object (or a near miss) × create/update/delete × A, B or admin. */
export interface RecordWrite {
  op: 'create' | 'update' | 'delete';
  type: string;
  who: 'a' | 'b' | 'admin';
  id: string;
  fields: unknown;
}
export function recordWriteArb(w: World): fc.Arbitrary<RecordWrite> {
  const objects = [...OBJECTS.values()];
  const object = fc.oneof(
    { weight: 20, arbitrary: fc.constantFrom(...objects) },
    { weight: 1, arbitrary: fc.constantFrom<ObjectDef>(...[...STORED_OBJECTS.values()].filter((o) => !OBJECTS.has(o.name))) },
  );
  return fc
    .tuple(
      object,
      fc.constantFrom<RecordWrite['op']>('create', 'update', 'update', 'delete'),
      fc.constantFrom<RecordWrite['who']>('a', 'a', 'b', 'admin'),
      sometimes(fc.constantFrom('webcart', 'WEBCART', 'Webcart__c', '__proto__', ''), 0.04),
    )
    .chain(([o, op, who, rename]) =>
      fc.record({
        op: fc.constant(op),
        type: fc.constant(rename ?? o.name),
        who: fc.constant(who),
        id: idArb(w, [o.name]),
        fields: fc.oneof(
          { weight: 10, arbitrary: fieldMapArb(w, o) },
          // A copy of a real row with a field or two changed: the writes that get furthest.
          {
            weight: op === 'create' ? 10 : 3,
            arbitrary: fc
              .tuple(fc.constant(w.samples[o.name] ?? {}), fieldMapArb(w, o))
              .map(([base, changes]) =>
                objectOf([...Object.entries(base), ...Object.entries(changes)].slice(0, op === 'create' ? undefined : 3)),
              ),
          },
          { weight: 1, arbitrary: anyValue },
        ),
      }),
    );
}

// --- SOQL ---------------------------------------------------------------------------------------

const KEYWORDS = [
  'SELECT',
  'FROM',
  'WHERE',
  'AND',
  'OR',
  'NOT',
  'LIKE',
  'IN',
  'ORDER BY',
  'GROUP BY',
  'LIMIT',
  'OFFSET',
  'NULLS FIRST',
  'HAVING',
  'WITH',
  'FOR UPDATE',
  'TYPEOF',
  'USING SCOPE',
  '(',
  ')',
  ',',
  ':x',
  '=',
];

/** A SOQL literal, valid or broken. */
const soqlLiteral: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 8 }).map((s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`),
  fc.string({ maxLength: 8 }).map((s) => `'${s}'`),
  fc.constantFrom(
    'NULL',
    'TRUE',
    'false',
    '0',
    '-1',
    '1.5',
    '1e400',
    '99999999999999999999999',
    '2026-01-31',
    '2026-01-31T10:00:00Z',
    '2026-02-30',
    'TODAY',
    'LAST_N_DAYS:3',
    'LAST_N_DAYS:-1',
    'LAST_N_DAYS:99999999999',
    'N_DAYS_AGO',
    "'\\u0000'",
    "'\\z'",
    "'",
    '"x"',
    ':bind',
    'NaN',
  ),
  hostileNumber.map((n) => String(n)),
);

/** A field path of an object: a real field, a parent path, a child name, or junk. */
function pathArb(object: ObjectDef): fc.Arbitrary<string> {
  const names = allFields(object).map((f) => f.name);
  const parents = allFields(object)
    .filter((f) => f.type === 'reference' && f.name.endsWith('Id') && f.name !== 'Id' && f.to?.length === 1)
    .flatMap((f) => {
      const target = OBJECTS.get(f.to![0]!);
      return target
        ? allFields(target)
            .slice(0, 6)
            .map((g) => `${f.name.slice(0, -2)}.${g.name}`)
        : [];
    });
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...names) },
    { weight: 2, arbitrary: parents.length ? fc.constantFrom(...parents) : fc.constantFrom(...names) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'Password',
        '_snapshot',
        '_version',
        'Owner.Password',
        'Account.Account.Account.Account.Account.Account.Name',
        'Nope',
        'a.b',
        '*',
        'Id.Id',
        '',
      ),
    },
  );
}

/** One WHERE expression, nested up to `depth`. */
function whereArb(object: ObjectDef, depth: number): fc.Arbitrary<string> {
  const cmp = fc
    .tuple(
      pathArb(object),
      fc.constantFrom('=', '!=', '<>', '<', '<=', '>', '>=', 'LIKE', 'IN', 'NOT IN', '==', 'INCLUDES'),
      soqlLiteral,
      fc.array(soqlLiteral, { maxLength: 3 }),
    )
    .map(([p, op, v, vs]) => (op.endsWith('IN') ? `${p} ${op} (${vs.join(', ')})` : `${p} ${op} ${v}`));
  if (depth <= 0) return cmp;
  const sub = whereArb(object, depth - 1);
  return fc.oneof(
    { weight: 4, arbitrary: cmp },
    { weight: 1, arbitrary: fc.tuple(sub, fc.constantFrom('AND', 'OR'), sub).map(([x, op, y]) => `(${x}) ${op} (${y})`) },
    { weight: 1, arbitrary: fc.tuple(sub, sub, sub).map(([x, y, z]) => `${x} AND ${y} OR ${z}`) },
    { weight: 1, arbitrary: sub.map((x) => `NOT (${x})`) },
  );
}

/** A SELECT item: a path, an aggregate, a child subquery. */
function selectItemArb(object: ObjectDef): fc.Arbitrary<string> {
  const rels = CHILD_RELATIONSHIPS[object.name] ?? [];
  const sub = rels.length
    ? fc
        .constantFrom(...rels)
        .chain((r) =>
          fc
            .tuple(
              fc.array(pathArb(OBJECTS.get(r.object)!), { minLength: 1, maxLength: 3 }),
              sometimes(whereArb(OBJECTS.get(r.object)!, 0), 0.4),
            )
            .map(([ps, wh]) => `(SELECT ${ps.join(', ')} FROM ${r.name}${wh ? ` WHERE ${wh}` : ''})`),
        )
    : pathArb(object);
  return fc.oneof(
    { weight: 6, arbitrary: pathArb(object) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom('COUNT', 'COUNT_DISTINCT', 'SUM', 'AVG', 'MIN', 'MAX', 'FORMAT', 'toLabel'),
          pathArb(object),
          sometimes(fc.constantFrom('total', 'expr0', 'x y'), 0.3),
        )
        .map(([fn, p, a]) => `${fn}(${p})${a ? ` ${a}` : ''}`),
    },
    { weight: 1, arbitrary: sub },
  );
}

/** A query following docs/soql.md's grammar with valid and broken pieces. */
export const grammarSoqlArb: fc.Arbitrary<string> = fc.constantFrom(...OBJECTS.values()).chain((object) =>
  fc
    .record({
      select: fc.oneof(
        { weight: 8, arbitrary: fc.array(selectItemArb(object), { minLength: 1, maxLength: 4 }).map((xs) => xs.join(', ')) },
        { weight: 1, arbitrary: fc.constantFrom('COUNT()', '', '*', 'COUNT(), Id') },
      ),
      from: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(object.name, object.name.toLowerCase()) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            'EngineAuthToken',
            'CheckoutSessionEvent',
            'EngineSetting',
            'Nope',
            'WebCart, Order',
            '(SELECT Id FROM WebCart)',
          ),
        },
      ),
      where: sometimes(whereArb(object, 2), 0.6),
      groupBy: sometimes(fc.array(pathArb(object), { minLength: 1, maxLength: 2 }), 0.15),
      orderBy: sometimes(
        fc.array(fc.tuple(pathArb(object), fc.constantFrom('', ' ASC', ' DESC', ' DESC NULLS FIRST', ' NULLS LAST', ' SIDEWAYS')), {
          minLength: 1,
          maxLength: 2,
        }),
        0.3,
      ),
      limit: sometimes(
        fc.oneof(fc.integer({ min: -2, max: 60_000 }).map(String), fc.constantFrom('1e3', '99999999999999999999', 'ALL', '-0', '1.5')),
        0.3,
      ),
      offset: sometimes(fc.oneof(fc.integer({ min: -2, max: 3000 }).map(String), fc.constantFrom('x', '2147483648')), 0.15),
      tail: sometimes(fc.constantFrom(...KEYWORDS), 0.1),
    })
    .map(
      (q) =>
        `SELECT ${q.select} FROM ${q.from}` +
        (q.where ? ` WHERE ${q.where}` : '') +
        (q.groupBy ? ` GROUP BY ${q.groupBy.join(', ')}` : '') +
        (q.orderBy ? ` ORDER BY ${q.orderBy.map(([p, d]) => p + d).join(', ')}` : '') +
        (q.limit !== null ? ` LIMIT ${q.limit}` : '') +
        (q.offset !== null ? ` OFFSET ${q.offset}` : '') +
        (q.tail ? ` ${q.tail}` : ''),
    ),
);

/** Arbitrary text, keyword soup, deep nesting and over-long queries. */
export const textSoqlArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: junkString },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...KEYWORDS), fc.constantFrom('Id', 'Name', 'WebCart', 'Order', "'x'", '1')), { maxLength: 12 })
      .map((xs) => xs.join(' ')),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 10, max: 80 }).map((n) => `SELECT Id FROM WebCart WHERE ${'('.repeat(n)}Name = 'x'${')'.repeat(n)}`),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 99_990, max: 100_010 })
      .map((n) => `SELECT Id FROM WebCart WHERE Name = '${'x'.repeat(Math.max(0, n - 45))}'`),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 400, max: 600 }).map((n) => `SELECT ${Array.from({ length: n }, () => 'Id').join(', ')} FROM WebCart`),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 18, max: 24 })
      .map((n) => `SELECT ${Array.from({ length: n }, () => '(SELECT Id FROM CartItems)').join(', ')} FROM WebCart`),
  },
);

/** A literal of the field's type, quoted and escaped as SOQL wants it (hostile content inside). */
function typedLiteral(f: FieldDef): fc.Arbitrary<string> {
  const quoted = fc
    .oneof(
      fc.constantFrom(...(f.values ?? ['Acme', 'x'])),
      junkString.filter((x) => x.length < 200),
    )
    .map((x) => `'${x.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`);
  switch (f.type) {
    case 'number':
    case 'currency':
    case 'integer':
      return fc.oneof(
        fc.integer({ min: -1000, max: 1000 }).map(String),
        fc.constantFrom('0.5', '-0.01', '1e3', '99999999999999999', '1.7976931348623157e308'),
      );
    case 'boolean':
      return fc.constantFrom('TRUE', 'FALSE', 'true');
    case 'date':
      return fc.constantFrom('2026-01-31', 'TODAY', 'LAST_N_DAYS:3', 'NEXT_N_MONTHS:2', 'THIS_YEAR', '2026-02-29');
    case 'datetime':
      return fc.constantFrom(
        '2026-01-31T10:00:00Z',
        '2026-01-31T10:00:00.000+0000',
        'TODAY',
        'LAST_N_DAYS:30',
        'N_DAYS_AGO:1',
        'YESTERDAY',
      );
    default:
      return fc.oneof({ weight: 4, arbitrary: quoted }, { weight: 1, arbitrary: fc.constant('NULL') });
  }
}

/** A comparison on a real, readable field with a literal of its type. */
function validCondition(object: ObjectDef): fc.Arbitrary<string> {
  const fields = allFields(object).filter((f) => !f.writeOnly && f.type !== 'stringList');
  return fc.constantFrom(...fields).chain((f) => {
    const ops = ['=', '!=', '<', '>=', ...(['string', 'picklist', 'reference'].includes(f.type) ? ['LIKE'] : []), 'IN', 'NOT IN'];
    return fc
      .tuple(fc.constantFrom(...ops), typedLiteral(f), fc.array(typedLiteral(f), { minLength: 1, maxLength: 3 }))
      .map(([op, v, vs]) => (op.endsWith('IN') ? `${f.name} ${op} (${vs.join(', ')})` : `${f.name} ${op} ${v}`));
  });
}

/** A query that follows the grammar with real names and typed literals: the engine must answer it (or refuse it by the table). */
export const validSoqlArb: fc.Arbitrary<string> = fc.constantFrom(...OBJECTS.values()).chain((object) => {
  const readable = allFields(object)
    .filter((f) => !f.writeOnly)
    .map((f) => f.name);
  const rels = CHILD_RELATIONSHIPS[object.name] ?? [];
  const sub = rels.length
    ? fc.constantFrom(...rels).chain((r) => {
        const child = OBJECTS.get(r.object)!;
        return fc
          .tuple(
            fc.subarray(
              allFields(child)
                .filter((f) => !f.writeOnly)
                .map((f) => f.name),
              { minLength: 1, maxLength: 3 },
            ),
            sometimes(validCondition(child), 0.3),
            sometimes(fc.integer({ min: 0, max: 5 }), 0.2),
          )
          .map(([fs, c, l]) => `(SELECT ${fs.join(', ')} FROM ${r.name}${c ? ` WHERE ${c}` : ''}${l !== null ? ` LIMIT ${l}` : ''})`);
      })
    : fc.constant('Id');
  const cond = fc.oneof(
    { weight: 3, arbitrary: validCondition(object) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(validCondition(object), fc.constantFrom('AND', 'OR'), validCondition(object))
        .map(([a, op, b]) => `(${a}) ${op} NOT (${b})`),
    },
  );
  const plain = fc
    .record({
      fields: fc.subarray(readable, { minLength: 1, maxLength: 4 }),
      sub: sometimes(sub, 0.3),
      where: sometimes(cond, 0.6),
      order: sometimes(fc.tuple(fc.constantFrom(...readable), fc.constantFrom('', ' DESC', ' ASC NULLS LAST')), 0.3),
      limit: sometimes(fc.integer({ min: 0, max: 50 }), 0.3),
      offset: sometimes(fc.integer({ min: 0, max: 5 }), 0.15),
    })
    .map(
      (q) =>
        `SELECT ${[...q.fields, ...(q.sub ? [q.sub] : [])].join(', ')} FROM ${object.name}${q.where ? ` WHERE ${q.where}` : ''}${q.order ? ` ORDER BY ${q.order[0]}${q.order[1]}` : ''}${q.limit !== null ? ` LIMIT ${q.limit}` : ''}${q.offset !== null ? ` OFFSET ${q.offset}` : ''}`,
    );
  const aggregate = fc
    .tuple(
      fc.constantFrom(...readable),
      fc.constantFrom('COUNT', 'COUNT_DISTINCT', 'MIN', 'MAX'),
      fc.constantFrom(...readable),
      sometimes(cond, 0.5),
    )
    .map(([g, fn, f, c]) => `SELECT ${g}, ${fn}(${f}) n FROM ${object.name}${c ? ` WHERE ${c}` : ''} GROUP BY ${g}`);
  const countAll = sometimes(cond, 0.6).map((c) => `SELECT COUNT() FROM ${object.name}${c ? ` WHERE ${c}` : ''}`);
  return fc.oneof({ weight: 6, arbitrary: plain }, { weight: 1, arbitrary: aggregate }, { weight: 1, arbitrary: countAll });
});

/** SOQL: well-formed queries, queries with broken pieces, and arbitrary text. */
export const soqlArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: validSoqlArb },
  { weight: 3, arbitrary: grammarSoqlArb },
  { weight: 1, arbitrary: textSoqlArb },
);

// --- HTTP requests --------------------------------------------------------------------------------

/** One HTTP request: method, URL (with query), headers and raw body. */
export interface HostileRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** Percent-encodes text for a URL; a lone surrogate (which has no UTF-8 form) is sent as U+FFFD, as a client's encoder would. */
export function enc(s: string): string {
  return encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
}

/** JSON text of any value (bigints as strings; what JSON can't say is dropped, NaN and infinities become null). */
export function toJson(v: unknown): string {
  return (
    JSON.stringify(v, (_k, x: unknown) =>
      typeof x === 'bigint' ? x.toString() : typeof x === 'symbol' || typeof x === 'function' ? undefined : x,
    ) ?? 'null'
  );
}

/** API version segments: served, latest, too old, unknown, malformed. */
export const versionArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('v62.0', 'v64.0', 'latest') },
  { weight: 1, arbitrary: fc.constantFrom('v49.0', 'v999.0', 'v62', '62.0', 'v62.0.0', 'V62.0', '%00', '%E0%A4%A', 'v1e3.0', 'v062.0') },
);

/** Who sends it: a buyer's or the admin's token, mostly; none, a garbage one, or another scheme sometimes. */
export function authArb(w: World): fc.Arbitrary<Record<string, string>> {
  return fc.oneof(
    {
      weight: 12,
      arbitrary: fc.constantFrom('a', 'a', 'b', 'admin').map((k) => ({ authorization: `Bearer ${w.tokens[k as 'a' | 'b' | 'admin']}` })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Record<string, string>>(
        {},
        { authorization: 'Bearer' },
        { authorization: 'Bearer x' },
        { authorization: `Basic ${w.tokens.a}` },
        { authorization: `OAuth ${w.tokens.a}` },
        { authorization: `Bearer ${w.tokens.a}x` },
        { authorization: `bearer  ${w.tokens.b}` },
      ),
    },
  );
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'application/xml',
  '',
];

/** A JSON body text, sometimes made hostile: truncated, BOM, duplicate keys, NaN/1e400 tokens, deep nesting, over the size limit. */
export function rawBodyArb(value: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 10, arbitrary: value.map(toJson) },
    { weight: 1, arbitrary: fc.tuple(value.map(toJson), fc.nat()).map(([t, n]) => t.slice(0, n % Math.max(1, t.length))) },
    { weight: 1, arbitrary: value.map((v) => `\ufeff${toJson(v)}`) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '{"inputs":[{"cartId":NaN}]}',
        '{"inputs":[{"cartId":1e400}]}',
        '{"Quantity":1e400}',
        '{"Quantity":-1e400,"Name":"x"}',
        '{"inputs":[],"inputs":[{}]}',
        '{"__proto__":{"polluted":1},"Name":"x"}',
        '{"constructor":{"prototype":{"polluted":1}}}',
        '{"inputs":[{"__proto__":{"isAdmin":true},"cartId":"x"}]}',
        '{"inputs":null}',
        '{"inputs":{}}',
        '{"inputs":"[]"}',
        '[]',
        'null',
        '""',
        '0',
        '{',
        '{"a":"\\ud800"}',
        '{"a":"\\u0000"}',
        "{'inputs':[]}",
        `${'['.repeat(5000)}${']'.repeat(5000)}`,
        `{"inputs":[${Array.from({ length: 300 }, () => '{}').join(',')}]}`,
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(1024 * 1024 + 1, 2 * 1024 * 1024).map((n) => `{"Name":"${'x'.repeat(n)}"}`) },
  );
}

/** Headers of a body: the JSON content type mostly, any other sometimes. */
const bodyHeaders = fc
  .oneof({ weight: 10, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES) })
  .map((ct): Record<string, string> => (ct ? { 'content-type': ct } : {}));

/** An action invocation over REST. */
export function httpInvokeArb(w: World): fc.Arbitrary<HostileRequest> {
  const defs = new Map(w.engine.describeActions().map((d) => [d.name, d]));
  return fc.tuple(actionNameArb(w), versionArb, authArb(w), bodyHeaders).chain(([action, v, auth, ct]) => {
    const def = defs.get(action) ?? defs.get('cartToOrderAction')!;
    const inputs = fc.oneof(
      { weight: 12, arbitrary: fc.array(actionInputArb(w, def), { minLength: 1, maxLength: 4 }) },
      { weight: 1, arbitrary: anyValue },
    );
    const body = fc.oneof(
      { weight: 8, arbitrary: inputs.map((i) => ({ inputs: i })) },
      {
        weight: 1,
        arbitrary: fc.tuple(inputs, fc.constantFrom(...POLLUTING_KEYS, 'extra')).map(([i, k]) =>
          objectOf([
            ['inputs', i],
            [k, 1],
          ]),
        ),
      },
    );
    return rawBodyArb(body).map((b) => ({
      method: 'POST',
      url: `/services/data/${v}/actions/standard/${enc(action)}`,
      headers: { ...auth, ...ct },
      body: b,
    }));
  });
}

/** A record write (or read) over REST: POST, PATCH, DELETE, GET on every object. */
export function httpRecordArb(w: World): fc.Arbitrary<HostileRequest> {
  return fc
    .tuple(
      recordWriteArb(w),
      versionArb,
      authArb(w),
      bodyHeaders,
      fc.constantFrom('', '', '', '?fields=Id,Name', '?fields=Password', '?fields=,,', '?x=%00'),
    )
    .chain(([r, v, auth, ct, q]) => {
      const base = `/services/data/${v}/sobjects/${enc(r.type)}`;
      const idSeg = enc(r.id);
      if (r.op === 'delete')
        return fc.constantFrom<HostileRequest>(
          { method: 'DELETE', url: `${base}/${idSeg}`, headers: auth },
          { method: 'GET', url: `${base}/${idSeg}${q}`, headers: auth },
        );
      return rawBodyArb(fc.constant(r.fields)).map((b) => ({
        method: r.op === 'create' ? 'POST' : 'PATCH',
        url: r.op === 'create' ? base : `${base}/${idSeg}`,
        headers: { ...auth, ...ct },
        body: b,
      }));
    });
}

/** A SOQL query over REST, percent-encoded (or, sometimes, half-encoded). */
export function httpQueryArb(w: World): fc.Arbitrary<HostileRequest> {
  return fc
    .tuple(soqlArb, versionArb, authArb(w), fc.constantFrom('enc', 'enc', 'enc', 'plus', 'none', 'twice'))
    .map(([q, v, auth, how]) => {
      const text =
        how === 'plus'
          ? enc(q).replace(/%20/g, '+')
          : how === 'none'
            ? q.replace(/[#?&%\s]/g, (c) => enc(c))
            : how === 'twice'
              ? `${enc(q)}&q=x`
              : enc(q);
      return { method: 'GET', url: `/services/data/${v}/query?q=${text}`, headers: auth };
    });
}

/** The path a client's URL parser (and `inject`) sends: dot segments resolved. */
function normalizedPath(p: string): string {
  try {
    return new URL(p, 'http://localhost').pathname;
  } catch {
    return p;
  }
}

/** Any request on any route pattern with junk segments, any method and body. */
export function httpAnyArb(w: World): fc.Arbitrary<HostileRequest> {
  const segment = fc.oneof(
    fc.constantFrom(
      'services',
      'data',
      'v62.0',
      'latest',
      'sobjects',
      'actions',
      'standard',
      'custom',
      'query',
      'WebCart',
      'describe',
      'oauth2',
      'id',
      'openapi.json',
      'page',
      '..',
      '.',
      '%2e%2e',
      '%00',
      '%',
      '%ZZ',
      '',
      'x'.repeat(300),
    ),
    fc.string({ maxLength: 6 }).map(enc),
  );
  const path = fc
    .oneof(
      { weight: 3, arbitrary: fc.array(segment, { minLength: 1, maxLength: 7 }).map((xs) => `/${xs.join('/')}`) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.constantFrom(
              '/services/data/v62.0/sobjects/WebCart/',
              '/services/data/v62.0/actions/standard/',
              '/services/data/v62.0/',
              '/services/data/v62.0/query/',
              '/id/00D000000000001AAA/',
              '/page/api/',
              '/services/data/v62.0/checkout-sessions/',
            ),
            segment,
          )
          .map(([a, b]) => a + b),
      },
      // The statechart page's data: session lists with hostile filters, any id's history.
      {
        weight: 2,
        arbitrary: fc.oneof(
          fc
            .tuple(
              fc.constantFrom('state', 'cart', 'error', 'archived', 'x'),
              junkString.filter((x) => x.length < 300),
            )
            .map(([k, v]) => `/page/api/sessions?${k}=${enc(v)}`),
          fc.tuple(versionArb, idArb(w)).map(([v, id]) => `/services/data/${v}/checkout-sessions/${enc(id)}/history`),
        ),
      },
    )
    .filter((p) => !normalizedPath(p).startsWith('/page/api/events')); // a server-sent event stream never ends: not a request/answer case
  return fc.record({
    method: fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'HEAD', 'OPTIONS'),
    url: path,
    headers: fc.tuple(authArb(w), bodyHeaders).map(([a, c]) => ({ ...a, ...c })),
    body: sometimes(rawBodyArb(anyValue), 0.5).map((b) => b ?? undefined),
  });
}

/** Token and revoke requests with hostile form or JSON bodies (never a live token: revoking one would end the world's sessions). */
export function httpOAuthArb(): fc.Arbitrary<HostileRequest> {
  const value = fc.oneof(
    { weight: 4, arbitrary: junkString.filter((s) => s.length < 2000) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
  const params = fc.record({
    grant_type: fc.oneof(fc.constantFrom('password', 'password', 'PASSWORD', 'client_credentials', 'refresh_token', ''), value),
    username: fc.oneof(fc.constantFrom('buyer@acme.example', ' BUYER@ACME.EXAMPLE ', 'admin@store.example', 'nobody@x.example'), value),
    password: fc.oneof(fc.constantFrom('demo-password-1', 'wrong', ''), value),
    client_id: value,
  });
  const extra = sometimes(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'grant_type', 'x'), fc.string({ maxLength: 8 })), 0.3);
  const entries = fc
    .tuple(params, extra)
    .map(([p, x]) => [...(Object.entries(p).filter(([, v]) => v !== undefined) as [string, string][]), ...(x ? [x] : [])]);
  return fc
    .tuple(
      entries,
      fc.constantFrom('form', 'form', 'json', 'query', 'none'),
      fc.constantFrom('/services/oauth2/token', '/services/oauth2/token', '/services/oauth2/revoke'),
    )
    .map(([es, how, path]): HostileRequest => {
      const list = path.endsWith('revoke') ? [['token', es[0]?.[1] ?? 'x'] as [string, string], ...es] : es;
      const form = new URLSearchParams(list).toString();
      if (how === 'query') return { method: 'POST', url: `${path}?${form}`, headers: {} };
      if (how === 'none') return { method: path.endsWith('revoke') ? 'GET' : 'POST', url: `${path}?${form}`, headers: {} };
      return how === 'json'
        ? { method: 'POST', url: path, headers: { 'content-type': 'application/json' }, body: toJson(Object.fromEntries(list)) }
        : { method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form };
    });
}
