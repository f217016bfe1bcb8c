/**
 * The storage contract: every backend behind the port behaves the same. One suite, looped over
 * SQLite (memory and file) and PostgreSQL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mintId } from '../../src/domain/ids.js';
import { StorageFault } from '../../src/errors.js';
import { openStorage, storageBackends } from '../../src/storage/index.js';
import { UniqueViolation, type Storage } from '../../src/storage/port.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';

afterAll(dropTestSchemas);

const now = '2026-11-25T10:00:00.000Z';
const user = (over: Record<string, unknown> = {}) => ({
  Id: mintId('005'),
  CreatedDate: now,
  LastModifiedDate: now,
  Username: `u${Math.random()}@x.example`,
  Name: 'User',
  IsActive: true,
  Permissions: ['B2BCommerceIntegrator'],
  AccountId: null,
  ...over,
});

for (const backend of BACKENDS) {
  describe(`storage contract: ${backend.name}`, () => {
    // Empty databases (no tables) on every backend: the migration is part of what this suite checks.
    const open = async (location = backend.emptyLocation()): Promise<Storage> => {
      const s = await openStorage(location);
      await s.migrate();
      return s;
    };

    it('is a backend folder of its own kind and declares its adapter (a lost, uncommitted connection is retryable on every backend)', async () => {
      const s = await open();
      expect((await storageBackends()).map((b) => b.name)).toContain(s.kind);
      expect(s.adapter.isRetryable(new StorageFault('STORAGE_UNAVAILABLE', 'gone', false))).toBe(true);
      expect(s.adapter.isRetryable(new StorageFault('STORAGE_UNAVAILABLE', 'gone while committing', 'unknown'))).toBe(false);
      expect(s.adapter.isUniqueViolation(new Error('not a database error'))).toBe(false);
      await s.close();
    });

    it('migrates idempotently and round-trips every value type', async () => {
      const s = await open();
      await s.migrate();
      const u = user({ Permissions: ['ModifyAllData', 'X'], IsActive: false });
      await s.insert('User', [u]);
      const got = await s.get('User', u.Id);
      expect(got).toMatchObject({
        Id: u.Id,
        Username: u.Username,
        IsActive: false,
        Permissions: ['ModifyAllData', 'X'],
        AccountId: null,
        CreatedDate: now,
      });
      const item = {
        Id: mintId('0a9'),
        CartId: mintId('0a6'),
        CartDeliveryGroupId: mintId('0a7'),
        Name: 'W',
        Quantity: 3,
        SalesPrice: 19.99,
        Type: 'Product',
      };
      await s.insert('CartItem', [item]);
      expect(await s.get('CartItem', item.Id)).toMatchObject({ Quantity: 3, SalesPrice: 19.99, ListPrice: null });
      expect(await s.get('User', mintId('005'))).toBeUndefined();
      await s.close();
    });

    it('finds with =, !=, in, not in, like, null checks, ranges, order, limit and offset', async () => {
      const s = await open();
      const rows = [
        user({ Name: 'Alice', Username: 'alice@x.example', IsActive: true }),
        user({ Name: 'bob', Username: 'bob@x.example', IsActive: false }),
        user({ Name: 'Carol', Username: 'carol@x.example', IsActive: true, AccountId: mintId('001') }),
        user({ Name: null, Username: 'dan@x.example', IsActive: true }),
      ];
      await s.insert('User', rows);
      const names = async (opts: Parameters<Storage['find']>[1]) => (await s.find('User', opts)).map((r) => r.Name);
      expect(await names({ where: [{ field: 'IsActive', op: '=', value: false }] })).toEqual(['bob']);
      expect(
        await names({ where: [{ field: 'Name', op: '!=', value: 'bob' }], orderBy: [{ field: 'Username', direction: 'asc' }] }),
      ).toEqual(['Alice', 'Carol', null]);
      expect(
        await names({ where: [{ field: 'Name', op: 'in', value: ['Alice', 'Carol'] }], orderBy: [{ field: 'Name', direction: 'desc' }] }),
      ).toEqual(['Carol', 'Alice']);
      expect(await names({ where: [{ field: 'Name', op: 'in', value: [] }] })).toEqual([]);
      expect(await s.count('User', [{ field: 'Name', op: 'not in', value: [] }])).toBe(4);
      expect(await names({ where: [{ field: 'Name', op: 'like', value: 'a%' }] })).toEqual(['Alice']);
      expect(await names({ where: [{ field: 'AccountId', op: 'is not null' }] })).toEqual(['Carol']);
      expect(await s.count('User', [{ field: 'Name', op: 'is null' }])).toBe(1);
      expect(
        await names({
          where: [
            { field: 'Username', op: '>=', value: 'bob' },
            { field: 'Username', op: '<', value: 'dan' },
          ],
          orderBy: [{ field: 'Username', direction: 'asc' }],
        }),
      ).toEqual(['bob', 'Carol']);
      // Text sorts by code point on every backend (uppercase before lowercase).
      expect(await names({ orderBy: [{ field: 'Name', direction: 'asc', nulls: 'last' }], limit: 2, offset: 1 })).toEqual(['Carol', 'bob']);
      expect(await names({ orderBy: [{ field: 'Name', direction: 'asc', nulls: 'first' }], limit: 1 })).toEqual([null]);
      await s.close();
    });

    it('selects across joins with a condition tree, two-valued NOT, join conditions, aggregates and grouping', async () => {
      const s = await open();
      const acme = { Id: mintId('001'), CreatedDate: now, LastModifiedDate: now, Name: 'Acme' };
      const globex = { Id: mintId('001'), CreatedDate: now, LastModifiedDate: now, Name: 'Globex' };
      await s.insert('Account', [acme, globex]);
      await s.insert('User', [
        user({ Name: 'Alice', AccountId: acme.Id, IsActive: true }),
        user({ Name: 'Bob', AccountId: globex.Id, IsActive: false }),
        user({ Name: null, AccountId: null, IsActive: true }),
      ]);
      const rows = await s.select({
        object: 'User',
        joins: [
          {
            alias: 't1',
            object: 'Account',
            from: { alias: 't0', field: 'AccountId' },
            on: { alias: 't1', field: 'Id', op: 'in', value: [acme.Id] },
          },
        ],
        columns: [
          { as: 'name', ref: { alias: 't0', field: 'Name' } },
          { as: 'account', ref: { alias: 't1', field: 'Name' } },
          { as: 'active', ref: { alias: 't0', field: 'IsActive' } },
        ],
        where: {
          or: [{ not: { alias: 't0', field: 'Name', op: '=', value: 'Alice' } }, { alias: 't1', field: 'Name', op: 'like', value: 'ac%' }],
        },
        orderBy: [{ alias: 't0', field: 'Name', direction: 'asc', nulls: 'last' }],
      });
      // The join condition hides Globex (account null for Bob); NOT of a comparison on null is true.
      expect(rows).toEqual([
        { name: 'Alice', account: 'Acme', active: true },
        { name: 'Bob', account: null, active: false },
        { name: null, account: null, active: true },
      ]);
      expect(await s.select({ object: 'User', columns: [{ as: 'n', fn: 'count' }], where: { or: [] } })).toEqual([{ n: 0 }]);
      expect(await s.select({ object: 'User', columns: [{ as: 'n', fn: 'count' }], where: { and: [] } })).toEqual([{ n: 3 }]);
      const p = [mintId('01t'), mintId('01t'), mintId('01t')];
      await s.insert(
        'Product2',
        p.map((Id, i) => ({ Id, CreatedDate: now, LastModifiedDate: now, Name: `P${i}`, IsActive: i !== 1 })),
      );
      await s.insert(
        'ProductInventory',
        [5, 7, 2.5].map((q, i) => ({
          Id: mintId('0PI'),
          CreatedDate: now,
          LastModifiedDate: now,
          Product2Id: p[i],
          QuantityAvailable: q,
          QuantityReserved: 0,
        })),
      );
      const groups = await s.select({
        object: 'ProductInventory',
        joins: [{ alias: 't1', object: 'Product2', from: { alias: 't0', field: 'Product2Id' } }],
        columns: [
          { as: 'active', ref: { alias: 't1', field: 'IsActive' } },
          { as: 'n', fn: 'count', ref: { alias: 't0', field: 'Id' } },
          { as: 'total', fn: 'sum', ref: { alias: 't0', field: 'QuantityAvailable' } },
          { as: 'most', fn: 'max', ref: { alias: 't0', field: 'QuantityAvailable' } },
          { as: 'avg', fn: 'avg', ref: { alias: 't0', field: 'QuantityAvailable' } },
        ],
        groupBy: [{ alias: 't1', field: 'IsActive' }],
        orderBy: [{ alias: 't1', field: 'IsActive', direction: 'asc' }],
      });
      expect(groups).toEqual([
        { active: false, n: 1, total: 7, most: 7, avg: 7 },
        { active: true, n: 2, total: 7.5, most: 5, avg: 3.75 },
      ]);
      await expect(s.select({ object: 'User', columns: [{ as: 'x', ref: { alias: 't0', field: 'Nope' } }] })).rejects.toThrow(
        /unknown column/,
      );
      await s.close();
    });

    it('updates with compare-and-set, updates by filter and deletes', async () => {
      const s = await open();
      const u = user();
      await s.insert('User', [u]);
      expect(await s.update('User', u.Id, { Name: 'New' }, [{ field: 'Name', op: '=', value: 'User' }])).toBe(true);
      expect(await s.update('User', u.Id, { Name: 'Lost' }, [{ field: 'Name', op: '=', value: 'User' }])).toBe(false);
      expect((await s.get('User', u.Id))!.Name).toBe('New');
      expect(await s.update('User', mintId('005'), { Name: 'x' })).toBe(false);
      expect(await s.updateWhere('User', [{ field: 'IsActive', op: '=', value: true }], { IsActive: false })).toBe(1);
      expect(await s.delete('User', [u.Id, mintId('005')])).toBe(1);
      expect(await s.get('User', u.Id)).toBeUndefined();
      await s.close();
    });

    it('sets one column to per-row values in batches (typed: numbers stay numbers)', async () => {
      const s = await open();
      const cart = mintId('0a6');
      const rows = Array.from({ length: 25_000 }, (_, i) => ({
        Id: mintId('0a9'),
        CartId: cart,
        CartDeliveryGroupId: mintId('0a7'),
        Name: `W${i}`,
        Quantity: 1,
        Type: 'Product',
      }));
      await s.insert('CartItem', rows);
      const values = new Map(rows.map((r, i) => [r.Id, i / 100]));
      expect(await s.updateColumn('CartItem', 'TotalLineTaxAmount', values)).toBe(25_000);
      expect((await s.get('CartItem', rows[1234]!.Id))!.TotalLineTaxAmount).toBe(12.34);
      expect(await s.count('CartItem', [{ field: 'TotalLineTaxAmount', op: '>=', value: 249.99 }])).toBe(1);
      expect(await s.updateColumn('User', 'IsActive', new Map([[mintId('005'), false]]))).toBe(0);
      await s.close();
      // 25,000 rows are 13 statements of at most 2,000 (test/storage/case-batches.test.ts counts them).
    }, 180_000);

    it('updates many rows by id with their own values in batches (per field set; typed; missing ids not counted)', async () => {
      const s = await open();
      const cart = mintId('0a6');
      const rows = Array.from({ length: 300 }, (_, i) => ({
        Id: mintId('0a9'),
        CartId: cart,
        CartDeliveryGroupId: mintId('0a7'),
        Name: `W${i}`,
        Quantity: 1,
        SalesPrice: 5,
        Type: 'Product',
      }));
      await s.insert('CartItem', rows);
      const stamp = '2026-11-30T00:00:00.000Z';
      const updates = [
        // One field set, per-row values and one shared value.
        ...rows.slice(0, 200).map((r, i) => ({ id: r.Id, values: { SalesPrice: i / 100, LastModifiedDate: stamp } })),
        // Another field set, with a null and a value of another type.
        ...rows.slice(200, 210).map((r, i) => ({ id: r.Id, values: { AdjustmentAmount: i === 0 ? null : -i, Name: `Renamed ${i}` } })),
        { id: mintId('0a9'), values: { SalesPrice: 1, LastModifiedDate: stamp } },
      ];
      expect(await s.updateRows('CartItem', updates)).toBe(210);
      const got = new Map((await s.find('CartItem', { where: [{ field: 'CartId', op: '=', value: cart }] })).map((r) => [r.Id, r]));
      expect(got.get(rows[123]!.Id)).toMatchObject({ SalesPrice: 1.23, LastModifiedDate: stamp, Name: 'W123', AdjustmentAmount: null });
      expect(got.get(rows[200]!.Id)).toMatchObject({ SalesPrice: 5, AdjustmentAmount: null, Name: 'Renamed 0' });
      expect(got.get(rows[203]!.Id)).toMatchObject({ SalesPrice: 5, AdjustmentAmount: -3, Name: 'Renamed 3' });
      expect(got.get(rows[250]!.Id)).toMatchObject({ SalesPrice: 5, Name: 'W250', LastModifiedDate: null });
      const u = user({ IsActive: true, Permissions: ['A'] });
      await s.insert('User', [u]);
      expect(await s.updateRows('User', [{ id: u.Id, values: { IsActive: false, Permissions: ['B', 'C'] } }])).toBe(1);
      expect(await s.get('User', u.Id)).toMatchObject({ IsActive: false, Permissions: ['B', 'C'] });
      expect(await s.updateRows('User', [])).toBe(0);
      await expect(s.updateRows('User', [{ id: u.Id, values: { Nope: 1 } }])).rejects.toThrow(/unknown column/);
      await s.close();
    });

    it('reads several finds at once, each row and order as find reads them (numbers, booleans, lists, nulls)', async () => {
      const s = await open();
      const cart = mintId('0a6');
      const items = [0.1, 3, 1234567.891, -2.5e-7].map((n, i) => ({
        Id: mintId('0a9'),
        CartId: cart,
        Name: `line ${i} "quoted" \\ ü`,
        Quantity: i + 1,
        SalesPrice: n,
        TotalPrice: i === 0 ? null : n * 2,
        Type: 'Product',
      }));
      await s.insert('CartItem', [...items, { ...items[0]!, Id: mintId('0a9'), CartId: mintId('0a6') }]);
      const users = [user({ IsActive: false, Permissions: [] }), user({ AccountId: mintId('001') })];
      await s.insert('User', users);
      const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => String(a.Id).localeCompare(String(b.Id)));
      const reads = [
        { object: 'CartItem', where: [{ field: 'CartId', op: '=' as const, value: cart }] },
        { object: 'User', where: [{ field: 'Id', op: 'in' as const, value: users.map((u) => u.Id) }] },
        { object: 'CartItem', where: [{ field: 'CartId', op: '=' as const, value: mintId('0a6') }] },
      ];
      const [a, b, none] = await s.transaction((tx) => tx.findAll(reads));
      expect(byId(a!)).toEqual(byId(await s.find('CartItem', { where: reads[0]!.where })));
      expect(a).toHaveLength(4);
      expect(byId(b!)).toEqual(byId(await s.find('User', { where: reads[1]!.where })));
      expect(b!.find((u) => u.Id === users[0]!.Id)).toMatchObject({ IsActive: false, Permissions: [], AccountId: null });
      expect(none).toEqual([]);
      // An ordered read keeps find's order (nulls placed as find places them).
      const order = [
        { field: 'TotalPrice', direction: 'desc' as const },
        { field: 'Id', direction: 'asc' as const },
      ];
      const [sorted] = await s.findAll([{ ...reads[0]!, orderBy: order }, reads[2]!]);
      expect(sorted).toEqual(await s.find('CartItem', { where: reads[0]!.where, orderBy: order }));
      expect(sorted!.at(-1)!.TotalPrice).toBeNull();
      await s.close();
    });

    it('reads a row and the row its field points to in one statement (typed as get reads them; dangling or missing)', async () => {
      const s = await open();
      const u = user({ IsActive: false, Permissions: ['A', 'B'] });
      await s.insert('User', [u]);
      const token = { Id: 'a'.repeat(64), UserId: u.Id, ExpiresAt: '2099-01-01T00:00:00.000Z', CreatedDate: now, LastModifiedDate: now };
      const dangling = { ...token, Id: 'b'.repeat(64), UserId: mintId('005') };
      await s.insert('EngineAuthToken', [token, dangling]);
      const read = await s.getWithRef('EngineAuthToken', token.Id, 'UserId', 'User');
      expect(read!.row).toEqual(await s.get('EngineAuthToken', token.Id));
      expect(read!.ref).toEqual(await s.get('User', u.Id));
      expect(read!.ref).toMatchObject({ IsActive: false, Permissions: ['A', 'B'], AccountId: null });
      // Inside a transaction too; a dangling reference has no ref row, a missing row reads undefined.
      const [d, none] = await s.transaction(async (tx) => [
        await tx.getWithRef('EngineAuthToken', dangling.Id, 'UserId', 'User'),
        await tx.getWithRef('EngineAuthToken', 'c'.repeat(64), 'UserId', 'User'),
      ]);
      expect(d).toMatchObject({ row: { Id: dangling.Id }, ref: undefined });
      expect(none).toBeUndefined();
      await s.close();
    });

    it('writes a batch in order (compare-and-set updates, multi-row typed inserts), stopping at the first update that matches nothing', async () => {
      const s = await open();
      const a = user({ Name: 'A' });
      const b = user();
      const c = user();
      await s.insert('User', [a]);
      // Every write runs: two updates of one row (split where a statement can't change a row twice), typed values round-trip.
      const all = await s.transaction((tx) =>
        tx.writeBatch([
          { kind: 'update', object: 'User', id: a.Id, values: { Name: 'A2' }, expect: [{ field: 'Name', op: '=', value: 'A' }] },
          { kind: 'insert', object: 'User', rows: [b, c] },
          { kind: 'update', object: 'User', id: a.Id, values: { IsActive: false }, expect: [{ field: 'Name', op: '=', value: 'A2' }] },
          { kind: 'update', object: 'User', id: b.Id, values: { Permissions: ['X'] }, expect: [{ field: 'AccountId', op: 'is null' }] },
        ]),
      );
      expect(all).toBe(-1);
      expect(await s.get('User', a.Id)).toMatchObject({ Name: 'A2', IsActive: false });
      expect(await s.get('User', b.Id)).toMatchObject({ Permissions: ['X'], IsActive: true });
      expect((await s.get('User', c.Id))!.Permissions).toEqual(['B2BCommerceIntegrator']);
      // A lost compare-and-set: its index comes back and nothing after it runs (nor the insert after it).
      const d = user();
      const missed = await s.writeBatch([
        { kind: 'update', object: 'User', id: b.Id, values: { Name: 'B2' } },
        { kind: 'update', object: 'User', id: a.Id, values: { Name: 'lost' }, expect: [{ field: 'Name', op: '=', value: 'A' }] },
        { kind: 'insert', object: 'User', rows: [d] },
        { kind: 'update', object: 'User', id: c.Id, values: { Name: 'never' } },
      ]);
      expect(missed).toBe(1);
      expect((await s.get('User', b.Id))!.Name).toBe('B2');
      expect((await s.get('User', a.Id))!.Name).toBe('A2');
      expect(await s.get('User', d.Id)).toBeUndefined();
      expect((await s.get('User', c.Id))!.Name).toBe('User');
      // A unique key repeated by a batched insert is a UniqueViolation, and the transaction writes nothing.
      const e = user();
      await expect(
        s.transaction((tx) =>
          tx.writeBatch([
            { kind: 'update', object: 'User', id: c.Id, values: { Name: 'C2' } },
            { kind: 'insert', object: 'User', rows: [e, user({ Username: a.Username })] },
          ]),
        ),
      ).rejects.toBeInstanceOf(UniqueViolation);
      expect((await s.get('User', c.Id))!.Name).toBe('User');
      expect(await s.get('User', e.Id)).toBeUndefined();
      await s.close();
    });

    it('reports unique-key violations as UniqueViolation (usernames, one active session per cart)', async () => {
      const s = await open();
      await s.insert('User', [user({ Username: 'same@x.example' })]);
      await expect(s.insert('User', [user({ Username: 'same@x.example' })])).rejects.toBeInstanceOf(UniqueViolation);
      const cart = mintId('0a6');
      const session = (over: Record<string, unknown>) => ({
        Id: mintId('2z9'),
        Name: 'S',
        WebCartId: cart,
        State: 'start',
        _version: 0,
        ...over,
      });
      await s.insert('CartCheckoutSession', [session({ _activeKey: cart })]);
      await s.insert('CartCheckoutSession', [
        session({ _activeKey: null, IsArchived: true }),
        session({ _activeKey: null, IsArchived: true }),
      ]);
      await expect(s.insert('CartCheckoutSession', [session({ _activeKey: cart })])).rejects.toBeInstanceOf(UniqueViolation);
      await s.close();
    });

    it('rolls a transaction back completely when it throws, and commits it whole otherwise', async () => {
      const s = await open();
      const a = user();
      const b = user();
      await expect(
        s.transaction(async (tx) => {
          await tx.insert('User', [a]);
          await tx.update('User', a.Id, { Name: 'changed' });
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await s.get('User', a.Id)).toBeUndefined();
      await s.transaction(async (tx) => {
        await tx.insert('User', [a, b]);
        expect((await tx.get('User', b.Id))!.Id).toBe(b.Id);
      });
      expect(await s.count('User')).toBe(2);
      await s.close();
    });

    it('finds in a transaction see its own writes of every kind, and a found row changed by its caller stays as stored', async () => {
      const s = await open();
      const a = user({ Name: 'a', Permissions: ['X'] });
      const b = user({ Name: 'b' });
      await s.insert('User', [a]);
      const names = async (tx: Parameters<Parameters<Storage['transaction']>[0]>[0]) =>
        (
          await tx.find('User', { where: [{ field: 'Id', op: 'in', value: [a.Id, b.Id] }], orderBy: [{ field: 'Name', direction: 'asc' }] })
        ).map((r) => r.Name);
      await s.transaction(async (tx) => {
        const [found] = await tx.find('User', { where: [{ field: 'Id', op: '=', value: a.Id }] });
        found!.Name = 'mutated by the caller';
        (found!.Permissions as string[]).push('Y');
        const [again] = await tx.find('User', { where: [{ field: 'Id', op: '=', value: a.Id }] });
        expect(again).toMatchObject({ Name: 'a', Permissions: ['X'] });
        expect(await names(tx)).toEqual(['a']);
        await tx.insert('User', [b]);
        expect(await names(tx)).toEqual(['a', 'b']);
        await tx.update('User', b.Id, { Name: 'c' });
        expect(await names(tx)).toEqual(['a', 'c']);
        await tx.updateWhere('User', [{ field: 'Id', op: '=', value: a.Id }], { Name: 'd' });
        expect(await names(tx)).toEqual(['c', 'd']);
        await tx.updateColumn('User', 'Name', new Map([[a.Id, 'e']]));
        expect(await names(tx)).toEqual(['c', 'e']);
        await tx.updateRows('User', [{ id: b.Id, values: { Name: 'f' } }]);
        expect(await names(tx)).toEqual(['e', 'f']);
        await tx.writeBatch([{ kind: 'update', object: 'User', id: a.Id, values: { Name: 'g' } }]);
        expect(await names(tx)).toEqual(['f', 'g']);
        await tx.delete('User', [b.Id]);
        expect(await names(tx)).toEqual(['g']);
        expect((await tx.findAll([{ object: 'User', where: [{ field: 'Id', op: '=', value: a.Id }] }]))[0]!.map((r) => r.Name)).toEqual([
          'g',
        ]);
      });
      expect((await s.get('User', a.Id))?.Name).toBe('g');
      await s.close();
    });

    it('searches the full-text index: every word a prefix of a word, filtered, ranked, paged, in step with every write', async () => {
      const s = await open();
      expect(s.adapter.supportsFullText).toBe(true);
      const product = (name: string, extra: Record<string, unknown> = {}) => ({
        Id: mintId('01t'),
        CreatedDate: now,
        LastModifiedDate: now,
        Name: name,
        IsActive: true,
        QuantityScale: 0,
        ...extra,
      });
      const drill = product('Cordless drill', { StockKeepingUnit: 'DRL-7788', Description: 'Brushless motor' });
      const sander = product('Orbital sander', { Description: 'Brushless, dust bag' });
      const saw = product('Saw', { Description: 'Carbide', IsActive: false });
      await s.insert('Product2', [drill, sander, saw]);
      const search = (words: string[], more: object = {}) => s.textSearch('Product2', { words, ...more });
      expect((await search(['brushless'])).ids.sort()).toEqual([drill.Id, sander.Id].sort());
      expect((await search(['drl', '7788'])).ids).toEqual([drill.Id]);
      expect((await search(['brush', 'dust'])).ids).toEqual([sander.Id]);
      expect((await search(['carbide'], { where: [{ field: 'IsActive', op: '=', value: true }] })).total).toBe(0);
      const page = await search(['brushless'], { limit: 1, offset: 1 });
      expect(page.total).toBe(2);
      expect(page.ids).toHaveLength(1);
      await s.update('Product2', saw.Id, { Description: 'Diamond' });
      expect((await search(['carbide'])).total).toBe(0);
      expect((await search(['diamond'])).ids).toEqual([saw.Id]);
      await s.delete('Product2', [saw.Id]);
      expect((await search(['diamond'])).total).toBe(0);
      await s.close();
    });

    it('inserts large batches beyond one statement’s parameter limit', async () => {
      const s = await open();
      const cart = mintId('0a6');
      const rows = Array.from({ length: 6000 }, (_, i) => ({
        Id: mintId('0a9'),
        CartId: cart,
        CartDeliveryGroupId: mintId('0a7'),
        Name: `W${i}`,
        Quantity: i,
        Type: 'Product',
      }));
      await s.insert('CartItem', rows);
      expect(await s.count('CartItem', [{ field: 'CartId', op: '=', value: cart }])).toBe(6000);
      expect(
        await s.delete(
          'CartItem',
          rows.map((r) => r.Id),
        ),
      ).toBe(6000);
      await s.close();
    });

    if (backend.name !== 'sqlite') {
      it('keeps data across close and reopen', async () => {
        const location = backend.emptyLocation();
        const s1 = await open(location);
        const u = user();
        await s1.insert('User', [u]);
        await s1.close();
        const s2 = await open(location);
        expect((await s2.get('User', u.Id))!.Username).toBe(u.Username);
        await s2.close();
      });
    }
  });
}
