/**
 * Per-row updates (`updateColumn`, `updateRows`) write `case "Id" when … end` statements of at most
 * 2,000 rows each: the database tests an id against the branches one by one, so one statement for
 * 25,000 rows was quadratic (about a minute on PostgreSQL). Counted on SQLite, checked by values.
 */
import { describe, expect, it } from 'vitest';
import { mintId } from '../../src/domain/ids.js';
import { openStorage } from '../../src/storage/index.js';
import { sqlWhile } from '../helpers/sql-log.js';

async function cartWith(n: number) {
  const s = await openStorage(':memory:');
  await s.migrate();
  const cart = mintId('0a6');
  const rows = Array.from({ length: n }, (_, i) => ({
    Id: mintId('0a9'),
    CartId: cart,
    CartDeliveryGroupId: mintId('0a7'),
    Name: `W${i}`,
    Quantity: 1,
    Type: 'Product',
  }));
  await s.insert('CartItem', rows);
  return { s, rows };
}

const updates = (sql: string[]) => sql.filter((q) => /^update "CartItem"/i.test(q));

describe('per-row updates go out in statements of at most 2,000 rows', () => {
  it('updateColumn: 4,001 rows are 3 statements, every row written', async () => {
    const { s, rows } = await cartWith(4_001);
    const values = new Map(rows.map((r, i) => [r.Id, i / 100]));
    const { result, sql } = await sqlWhile(() => s.updateColumn('CartItem', 'TotalLineTaxAmount', values), { pragmas: false });
    expect(result).toBe(4_001);
    expect(updates(sql)).toHaveLength(3);
    expect((await s.get('CartItem', rows[4_000]!.Id))!.TotalLineTaxAmount).toBe(40);
    expect((await s.get('CartItem', rows[1_999]!.Id))!.TotalLineTaxAmount).toBe(19.99);
    await s.close();
  });

  it('updateRows: 2,000 rows stay one statement, 2,001 are two', async () => {
    const { s, rows } = await cartWith(2_001);
    const set = (part: typeof rows) => part.map((r, i) => ({ id: r.Id, values: { Name: `N${i}` } }));
    const one = await sqlWhile(() => s.updateRows('CartItem', set(rows.slice(0, 2_000))), { pragmas: false });
    expect(one.result).toBe(2_000);
    expect(updates(one.sql)).toHaveLength(1);
    const two = await sqlWhile(() => s.updateRows('CartItem', set(rows)), { pragmas: false });
    expect(two.result).toBe(2_001);
    expect(updates(two.sql)).toHaveLength(2);
    expect((await s.get('CartItem', rows[2_000]!.Id))!.Name).toBe('N2000');
    await s.close();
  });
});
