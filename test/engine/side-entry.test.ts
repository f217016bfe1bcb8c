/**
 * A side history entry (a flow interview's start or navigate on a cart with a checkout session):
 * `writeSideEntry` appends it with one statement (`StorageOps.appendSessionEntry`) where it used to
 * read the session, count its entries and insert. The rows it stores, and the entry it returns, are
 * those of the old path (kept here as `readCountInsert`), on every backend, whatever the shape of the
 * session's snapshot — including the shapes the statement's SQL doesn't work out, which the engine
 * corrects with one update.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mintId } from '../../src/domain/ids.js';
import { redactSecrets } from '../../src/domain/redact.js';
import { findActiveSession } from '../../src/engine/facts.js';
import { HISTORY_OBJECT, statePath, writeSideEntry, type HistoryEntry } from '../../src/engine/sessions.js';
import { readThenInsert } from '../../src/storage/session-entry.js';
import { openStorage } from '../../src/storage/index.js';
import type { Row, Storage, StorageOps } from '../../src/storage/port.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';

afterAll(dropTestSchemas);

/** The side entry as the engine wrote it before `appendSessionEntry`: the session read, its entries counted, the entry inserted. */
async function readCountInsert(
  ops: StorageOps,
  cartId: string,
  event: Record<string, unknown>,
  now: Date,
  origin?: { operation: string; callerId: string | null },
): Promise<HistoryEntry | null> {
  const session = await findActiveSession(ops, cartId);
  if (!session) return null;
  let path: string;
  try {
    path = statePath((JSON.parse(String(session._snapshot)) as { value?: unknown }).value);
  } catch {
    path = String(session.State ?? '');
  }
  const seq = Number(session._version ?? 0);
  const n = await ops.count(HISTORY_OBJECT, [
    { field: 'SessionId', op: '=', value: String(session.Id) },
    { field: 'Seq', op: '=', value: seq },
  ]);
  const entry: HistoryEntry = {
    sessionId: String(session.Id),
    flowId: (session._flow as string | null) ?? 'default',
    cartId: (session.WebCartId as string | null) ?? null,
    seq,
    sub: n,
    at: now.toISOString(),
    event: redactSecrets(event),
    from: path,
    to: path,
    accepted: true,
    rejection: null,
    operation: origin?.operation ?? null,
    operationId: null,
    callerId: origin?.callerId ?? null,
  };
  await ops.insert(HISTORY_OBJECT, [
    {
      Id: mintId('0xE'),
      CreatedDate: entry.at,
      LastModifiedDate: entry.at,
      SessionId: entry.sessionId,
      CartId: entry.cartId,
      Seq: entry.seq,
      Sub: entry.sub,
      EventType: String(entry.event.type),
      Event: JSON.stringify(entry.event),
      StateBefore: entry.from,
      StateAfter: entry.to,
      Accepted: true,
      RejectionCode: null,
      RejectionDetail: null,
      Operation: entry.operation,
      OperationId: null,
      CallerId: entry.callerId,
    },
  ]);
  return entry;
}

/** Snapshots as a session row may hold them: the engine's own, and rows written by hand or by older versions. */
const SNAPSHOTS: Array<string | null> = [
  '{"value":{"start":"idle"}}',
  '{"value":{"inventory":"running"}}',
  '{"value":"complete"}',
  '{"value":{"post-shipping":"idle"}}',
  '{"value":{"état":"prêt"}}',
  '{"value":{"a":{"b":"c"}}}',
  '{"value":{"a":"b","c":"d"}}',
  '{"value":{"z":"1","1":"z"}}',
  '{"value":{"a":""}}',
  '{"value":""}',
  '{"value":5}',
  '{"value":null}',
  '{"value":true}',
  '{"value":["a","b"]}',
  '{"value":{}}',
  '{"value":"quo\\"te"}',
  '{"value":{"back\\\\slash":"x"}}',
  '{"value":"\\u0041"}',
  '{"value":"a","value":"b"}',
  '{"status":"active","value":{"a":"b"}}',
  ' {"value":"spaced"} ',
  '{"VALUE":"upper"}',
  '{}',
  '[]',
  '"text"',
  'null',
  '42',
  'not json',
  '{"value":',
  '',
  null,
];

/** Session rows differing by snapshot, State, version and flow. */
function sessionsOf(): Array<Pick<Row, '_snapshot' | 'State' | '_version' | '_flow'>> {
  const out: Array<Pick<Row, '_snapshot' | 'State' | '_version' | '_flow'>> = [];
  SNAPSHOTS.forEach((snap, i) =>
    out.push({
      _snapshot: snap,
      State: i % 3 === 0 ? null : `State ${i}`,
      _version: i % 4 === 0 ? null : i,
      _flow: i % 5 === 0 ? null : 'default',
    }),
  );
  return out;
}

async function seedSession(storage: Storage, fields: Row, archived = false): Promise<{ cartId: string; sessionId: string }> {
  const cartId = mintId('0a6');
  const sessionId = mintId('2z9');
  await storage.insert('CartCheckoutSession', [
    {
      Id: sessionId,
      CreatedDate: '2026-01-01T00:00:00.000Z',
      LastModifiedDate: '2026-01-01T00:00:00.000Z',
      Name: 'Checkout',
      WebCartId: cartId,
      IsArchived: archived,
      _activeKey: archived ? null : cartId,
      ...fields,
    },
  ]);
  return { cartId, sessionId };
}

/** A stored entry without what differs between two sessions of the same shape (ids). */
function comparable(r: Row): Row {
  const { Id: _id, SessionId: _s, CartId: cart, ...rest } = r;
  return { ...rest, CartId: cart === null ? null : 'the cart' };
}
const entryOf = (e: HistoryEntry | null) => e && { ...e, sessionId: 'the session', cartId: e.cartId === null ? null : 'the cart' };

async function entriesOf(storage: Storage, sessionId: string): Promise<Row[]> {
  return storage.find(HISTORY_OBJECT, {
    where: [{ field: 'SessionId', op: '=', value: sessionId }],
    orderBy: [
      { field: 'Seq', direction: 'asc' },
      { field: 'Sub', direction: 'asc' },
    ],
  });
}

const EVENT = { type: 'FLOW_INTERVIEW', interviewId: '0Fo000000000001AAA', action: 'NEXT', password: 'hunter2', status: 'Paused' };
const ORIGIN = { operation: 'navigateInterview', callerId: '005000000000001AAA' };

describe.each(BACKENDS)('side history entries ($name)', ({ location }) => {
  it('store the rows the read, the count and the insert stored, whatever the snapshot', async () => {
    const storage = await openStorage(location());
    await storage.migrate();
    try {
      const now = new Date('2026-03-04T05:06:07.089Z');
      for (const [i, fields] of sessionsOf().entries()) {
        const old = await seedSession(storage, fields);
        const fresh = await seedSession(storage, fields);
        // Entries already there: at the session's version (counted) and at another (not counted).
        for (const s of [old, fresh]) {
          await readCountInsert(storage, s.cartId, { type: 'EARLIER' }, now);
          if (i % 2) {
            await storage.update('CartCheckoutSession', s.sessionId, { _version: Number(fields._version ?? 0) + 1 });
            await readCountInsert(storage, s.cartId, { type: 'LATER' }, now);
            await storage.update('CartCheckoutSession', s.sessionId, { _version: fields._version });
          }
        }
        const label = `snapshot ${JSON.stringify(fields._snapshot)}, State ${String(fields.State)}`;
        for (let k = 0; k < 2; k++) {
          const a = await readCountInsert(storage, old.cartId, EVENT, now, ORIGIN);
          // Outside a transaction and in one (the navigate's save), alternately.
          const b =
            (i + k) % 2
              ? await writeSideEntry(storage, fresh.cartId, EVENT, now, ORIGIN)
              : await storage.transaction((tx) => writeSideEntry(tx, fresh.cartId, EVENT, now, ORIGIN));
          expect(entryOf(b), label).toEqual(entryOf(a));
        }
        expect((await entriesOf(storage, fresh.sessionId)).map(comparable), label).toEqual(
          (await entriesOf(storage, old.sessionId)).map(comparable),
        );
      }
    } finally {
      await storage.close();
    }
  });

  it('write nothing for a cart without an active session, and pick the active one beside archived ones', async () => {
    const storage = await openStorage(location());
    await storage.migrate();
    try {
      const now = new Date('2026-03-04T05:06:07.089Z');
      expect(await writeSideEntry(storage, mintId('0a6'), EVENT, now, ORIGIN)).toBeNull();
      const archived = await seedSession(storage, { _snapshot: '{"value":"a"}', State: 'a', _version: 1 }, true);
      expect(await writeSideEntry(storage, archived.cartId, EVENT, now, ORIGIN)).toBeNull();
      expect(await entriesOf(storage, archived.sessionId)).toEqual([]);
      const cartId = archived.cartId;
      const active = mintId('2z9');
      await storage.insert('CartCheckoutSession', [
        { Id: active, WebCartId: cartId, IsArchived: false, _activeKey: cartId, _snapshot: '{"value":{"b":"idle"}}', _version: 2 },
      ]);
      const entry = await writeSideEntry(storage, cartId, EVENT, now, ORIGIN);
      expect(entry).toMatchObject({ sessionId: active, cartId, seq: 2, sub: 0, from: 'b.idle', to: 'b.idle' });
      expect(entry!.event).toEqual(redactSecrets(EVENT));
      expect(await entriesOf(storage, archived.sessionId)).toEqual([]);
      expect((await entriesOf(storage, active)).map((r) => [r.Seq, r.Sub, r.StateBefore, r.StateAfter, r.Event])).toEqual([
        [2, 0, 'b.idle', 'b.idle', JSON.stringify(redactSecrets(EVENT))],
      ]);
    } finally {
      await storage.close();
    }
  });

  it('a backend of another SQL reads, counts and inserts: the same row, the state path left to the engine', async () => {
    const storage = await openStorage(location());
    await storage.migrate();
    try {
      const { cartId, sessionId } = await seedSession(storage, { _snapshot: '{"value":{"a":"b"}}', State: 'a', _version: 3, _flow: 'f' });
      const row = { Id: mintId('0xE'), CreatedDate: 'x', LastModifiedDate: 'x', EventType: 'E', Event: '{}', Accepted: true };
      const a = await readThenInsert(storage, cartId, row);
      const b = await storage.appendSessionEntry(cartId, { ...row, Id: mintId('0xE') });
      expect(a!.session).toEqual({
        Id: sessionId,
        WebCartId: cartId,
        _version: 3,
        _flow: 'f',
        _snapshot: '{"value":{"a":"b"}}',
        State: 'a',
      });
      expect(b!.session).toEqual(a!.session);
      expect(a!.row).toMatchObject({ SessionId: sessionId, CartId: cartId, Seq: 3, Sub: 0, StateBefore: '', StateAfter: '' });
      expect(b!.row).toMatchObject({ SessionId: sessionId, CartId: cartId, Seq: 3, Sub: 1, StateBefore: 'a.b', StateAfter: 'a.b' });
      expect(await readThenInsert(storage, mintId('0a6'), row)).toBeUndefined();
      // The shapes the engine's sessions have: the statement works their path out itself (no correcting update).
      for (const [snap, path] of [
        ['{"value":{"start":"idle"}}', 'start.idle'],
        ['{"value":"complete"}', 'complete'],
        ['{"value":{"post-shipping":"idle"}}', 'post-shipping.idle'],
        ['{"value":{"état":"prêt"}}', 'état.prêt'],
      ]) {
        const s = await seedSession(storage, { _snapshot: snap, State: 'x', _version: 1 });
        const appended = await storage.appendSessionEntry(s.cartId, { ...row, Id: mintId('0xE') });
        expect([appended!.row.StateBefore, appended!.row.StateAfter], snap).toEqual([path, path]);
      }
    } finally {
      await storage.close();
    }
  });
});
