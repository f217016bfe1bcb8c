/**
 * The checkout-facts statement: everything the usage requirements and the checkout actions look
 * at, read by one statement — the cart, its checkout session (the active one, or the one asked
 * for), the session's current operation, the cart's store, and what the caller's access depends
 * on (account, buyer status, store membership, best share).
 */
import { sql, type Compilable, type Kysely, type QueryResult, type Transaction } from 'kysely';
import type { DialectSpec } from './dialect.js';
import type { CheckoutFacts, FactsKey, Row } from './port.js';
import { decodeRow, type TableInfo } from './tables.js';

/** What the facts read needs of the backend's operations (KyselyOps in src/storage/crud.ts has them). */
export interface FactsOps {
  readonly db: Kysely<any> | Transaction<any>;
  readonly spec: DialectSpec;
  exec(shape: string, params: unknown[], build: () => Compilable): Promise<QueryResult<Row>>;
  table(object: string): TableInfo;
  keepRead(object: string, row: Row | undefined, locked: boolean): void;
}

/**
 * A table's row out of the joined facts row: `(r) => ({ Id: r.c__Id, … })` as one object literal
 * (built once per table and alias), so the row is a fast object made at once — one property set
 * after another would make a ~40-column row slowly. Names are written as JSON string literals.
 */
const pickers = new WeakMap<TableInfo, Map<string, (row: Row) => Row>>();
function pickerOf(info: TableInfo, alias: string): (row: Row) => Row {
  let byAlias = pickers.get(info);
  if (!byAlias) pickers.set(info, (byAlias = new Map()));
  let pick = byAlias.get(alias);
  if (!pick) {
    const fields = info.columns.map((c) => `${JSON.stringify(c)}: r[${JSON.stringify(`${alias}__${c}`)}]`);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated once per table and alias from its column names (see above)
    pick = new Function('r', `return {${fields.join(', ')}};`) as (row: Row) => Row;
    byAlias.set(alias, pick);
  }
  return pick;
}

/** The checkout facts of a cart for `userId`, in one statement; `forUpdate` locks the cart (by cartId) or the session (by sessionId). */
export async function readCheckoutFacts(
  ops: FactsOps,
  key: FactsKey,
  userId: string,
  opts?: { forUpdate?: boolean },
): Promise<CheckoutFacts> {
  const bySession = 'sessionId' in key;
  const lock = !!opts?.forUpdate && ops.spec.adapter.supportsRowLocks;
  const notArchived = ops.spec.encodeBoolean(false);
  const id = bySession ? key.sessionId : key.cartId;
  const params = bySession ? [userId, id] : [userId, notArchived, id];
  const tables = { c: 'WebCart', s: 'CartCheckoutSession', o: 'BackgroundOperation', w: 'WebStore' } as const;
  const { rows } = await ops.exec(`facts ${bySession} ${lock}`, params, () => {
    const cols = sql.join(
      Object.entries(tables).flatMap(([alias, object]) =>
        ops.table(object).columns.map((c) => sql`${sql.ref(`${alias}.${c}`)} as ${sql.ref(`${alias}__${c}`)}`),
      ),
    );
    const t = (name: string, alias: string) => sql`${sql.table(name)} as ${sql.raw(alias)}`;
    const from = bySession
      ? sql`${t('CartCheckoutSession', 's')} left join ${t('WebCart', 'c')} on c."Id" = s."WebCartId"`
      : sql`${t('WebCart', 'c')} left join ${t('CartCheckoutSession', 's')} on s."WebCartId" = c."Id" and s."IsArchived" = ${notArchived}`;
    const q = sql`select ${cols},
      (select 1 from ${t('Account', 'a')} where a."Id" = c."AccountId") as "x__account",
      (select b."BuyerStatus" from ${t('BuyerAccount', 'b')} where b."BuyerId" = c."AccountId" limit 1) as "x__buyer",
      (select 1 from ${t('BuyerGroupMember', 'm')} join ${t('WebStoreBuyerGroup', 'g')} on g."BuyerGroupId" = m."BuyerGroupId"
        where m."BuyerId" = c."AccountId" and g."WebStoreId" = c."WebStoreId" limit 1) as "x__member",
      (select max(case when sh."AccessLevel" = 'Edit' then 2 else 1 end) from ${t('WebCartShare', 'sh')}
        where sh."ParentId" = c."Id" and sh."UserOrGroupId" = ${userId}) as "x__share"
      from ${from}
      left join ${t('BackgroundOperation', 'o')} on o."Id" = s."BackgroundOperationId"
      left join ${t('WebStore', 'w')} on w."Id" = c."WebStoreId"
      where ${sql.raw(bySession ? 's' : 'c')}."Id" = ${id}
      ${sql.raw(lock ? `for update of ${bySession ? 's' : 'c'}` : '')}`;
    return { compile: () => q.compile(ops.db) };
  });
  const row = rows[0];
  const part = (alias: keyof typeof tables): Row | undefined => {
    if (!row || row[`${alias}__Id`] === null || row[`${alias}__Id`] === undefined) return undefined;
    const info = ops.table(tables[alias]);
    return decodeRow(info, pickerOf(info, alias)(row));
  };
  const cart = part('c');
  const session = part('s');
  const operation = part('o');
  const store = part('w');
  ops.keepRead('WebCart', cart, lock && !bySession);
  ops.keepRead('CartCheckoutSession', session, lock && bySession);
  ops.keepRead('BackgroundOperation', operation, false);
  ops.keepRead('WebStore', store, false);
  const share = Number(row?.x__share ?? 0);
  return {
    cart,
    session,
    operation,
    store,
    accountExists: row?.x__account !== null && row?.x__account !== undefined,
    buyerStatus: (row?.x__buyer as string | null | undefined) ?? null,
    storeMember: row?.x__member !== null && row?.x__member !== undefined,
    share: !cart || cart.OwnerId === userId ? null : share >= 2 ? 'Edit' : share === 1 ? 'Read' : null,
  };
}
