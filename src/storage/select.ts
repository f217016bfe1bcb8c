/**
 * The select compiler: a `SelectPlan` (an object, left joins to the parents its reference columns
 * name, a condition tree with SOQL's two-valued logic, aggregates, grouping, order, paging) becomes
 * one SQL statement; the rows come back keyed by the columns' `as` names, values decoded.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { DialectSpec } from './dialect.js';
import type { ColumnRef, Predicate, Row, SelectPlan } from './port.js';
import { encodeValue, type TableInfo } from './tables.js';

/** Compiles a select plan to one SQL statement (left joins, a condition tree, aggregates, grouping), runs it on `db` and decodes the rows. */
export async function selectRows(
  db: Kysely<any> | Transaction<any>,
  spec: DialectSpec,
  table: (object: string) => TableInfo,
  plan: SelectPlan,
): Promise<Row[]> {
  const aliases = new Map<string, TableInfo>([['t0', table(plan.object)]]);
  for (const j of plan.joins ?? []) {
    if (!/^t\d+$/.test(j.alias) || aliases.has(j.alias)) throw new Error(`bad join alias ${j.alias}`);
    aliases.set(j.alias, table(j.object));
  }
  const col = (r: ColumnRef): RawBuilder<unknown> => {
    const info = aliases.get(r.alias);
    if (!info || !info.codecs.has(r.field)) throw new Error(`unknown column ${r.alias}.${r.field}`);
    return sql.ref(`${r.alias}.${r.field}`);
  };
  // Long AND / OR lists nest as a balanced tree: SQLite refuses expression trees deeper than 1000.
  const joinBalanced = (parts: RawBuilder<boolean>[], op: 'and' | 'or'): RawBuilder<boolean> => {
    if (parts.length <= 16) return sql<boolean>`(${sql.join(parts, sql.raw(` ${op} `))})`;
    const mid = Math.ceil(parts.length / 2);
    return sql<boolean>`(${joinBalanced(parts.slice(0, mid), op)} ${sql.raw(op)} ${joinBalanced(parts.slice(mid), op)})`;
  };
  const pred = (p: Predicate): RawBuilder<boolean> => {
    if ('and' in p) return p.and.length ? joinBalanced(p.and.map(pred), 'and') : sql<boolean>`1 = 1`;
    if ('or' in p) return p.or.length ? joinBalanced(p.or.map(pred), 'or') : sql<boolean>`1 = 0`;
    if ('not' in p) return sql<boolean>`(not coalesce(${pred(p.not)}, false))`;
    const c = col(p);
    const info = aliases.get(p.alias)!;
    const enc = (v: unknown) => encodeValue(info, p.field, v);
    // Repeated list values bind once (a list is bounded by the statement's parameter limit).
    const list = (vs: readonly unknown[]) => [...new Set(vs.map(enc))];
    switch (p.op) {
      case 'is null':
        return sql<boolean>`${c} is null`;
      case 'is not null':
        return sql<boolean>`${c} is not null`;
      case 'in':
        return p.value.length ? sql<boolean>`${c} in (${sql.join(list(p.value))})` : sql<boolean>`1 = 0`;
      case 'not in':
        return p.value.length ? sql<boolean>`(${c} not in (${sql.join(list(p.value))}) or ${c} is null)` : sql<boolean>`1 = 1`;
      case 'like':
        return sql<boolean>`${c} ${sql.raw(spec.likeOperator)} ${p.value} escape '\\'`;
      case '=':
        return p.value === null ? sql<boolean>`${c} is null` : sql<boolean>`${c} = ${enc(p.value)}`;
      case '!=':
        return p.value === null ? sql<boolean>`${c} is not null` : sql<boolean>`(${c} <> ${enc(p.value)} or ${c} is null)`;
      default:
        return sql<boolean>`${c} ${sql.raw(p.op)} ${enc(p.value)}`;
    }
  };
  let q: any = db.selectFrom(`${plan.object} as t0`);
  for (const j of plan.joins ?? []) {
    const on = j.on ? sql<boolean>` and ${pred(j.on)}` : sql``;
    col(j.from);
    q = q.leftJoin(`${j.object} as ${j.alias}`, (jb: any) => jb.on(sql<boolean>`${sql.ref(`${j.alias}.Id`)} = ${col(j.from)}${on}`));
  }
  const fnSql = { count: 'count', count_distinct: 'count', sum: 'sum', avg: 'avg', min: 'min', max: 'max' } as const;
  q = q.select(
    plan.columns.map((c) => {
      if (!/^\w+$/.test(c.as)) throw new Error(`bad column name ${c.as}`);
      if (!c.fn) return col(c.ref).as(c.as);
      if (!c.ref) return sql`count(*)`.as(c.as);
      const inner = c.fn === 'count_distinct' ? sql`distinct ${col(c.ref)}` : col(c.ref);
      return sql`${sql.raw(fnSql[c.fn])}(${inner})`.as(c.as);
    }),
  );
  if (plan.where) q = q.where(pred(plan.where));
  if (plan.groupBy?.length) q = q.groupBy(plan.groupBy.map(col));
  for (const o of plan.orderBy ?? []) {
    const nulls = o.nulls ?? (o.direction === 'asc' ? 'first' : 'last');
    q = q.orderBy(sql`${col(o)} ${sql.raw(o.direction === 'asc' ? 'asc' : 'desc')} nulls ${sql.raw(nulls === 'first' ? 'first' : 'last')}`);
  }
  if (plan.limit !== undefined) q = q.limit(plan.limit);
  if (plan.offset !== undefined) {
    if (plan.limit === undefined) q = q.limit(spec.noLimit);
    q = q.offset(plan.offset);
  }
  const rows = (await q.execute()) as Row[];
  const decoders = plan.columns.map((c): [string, (v: unknown) => unknown] => {
    if (c.fn === 'count' || c.fn === 'count_distinct') return [c.as, (v) => Number(v ?? 0)];
    if (c.fn === 'sum' || c.fn === 'avg') return [c.as, (v) => (v === null || v === undefined ? null : Number(v))];
    const codec = aliases.get(c.ref!.alias)!.codecs.get(c.ref!.field)!;
    return [c.as, codec.decode];
  });
  for (const r of rows) for (const [k, dec] of decoders) r[k] = dec(r[k]);
  return rows;
}
