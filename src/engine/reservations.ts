/**
 * The stock reservation ledger (ProductReservation): which cart holds how much of which
 * ProductInventory row. Every change of a hold moves ProductInventory.QuantityReserved by the same
 * amount in the same transaction, from a value read under a row lock (the inventory step) or with a
 * compare-and-set on the value read (releases), so concurrent checkouts of one product serialize
 * (the loser waits for the lock, or its transaction re-reads and re-decides).
 *
 * - The inventory step sets the cart's holds (`setHolds`): a re-run sets, never adds.
 * - Cancel, expiry, a buyer's cart change (which cancels) and a step error release them (`releaseHolds`);
 *   cancel and expiry of a checkout whose order is still a draft also release the draft's Ordered
 *   holds, as the draft is deleted (src/domain/abandon.ts).
 * - Placing the order keeps them as the order's (`keepHoldsForOrder`): Status Ordered with the
 *   OrderId; the engine no longer touches that stock (fulfilment, outside the engine, ships it).
 */
import { afterRelease, canHold, holdChanges, unreservedStock, type ReleaseReason } from '../domain/stock.js';
import type { EngineCore } from './core.js';
import { StepFailed } from './core.js';
import { VersionConflict } from './sessions.js';
import type { Row, StorageOps } from '../storage/port.js';

import type { HoldRequest } from '../integrations/port.js';
export type { HoldRequest } from '../integrations/port.js';

/** The cart's Held reservations, locked for update. */
export async function heldReservations(tx: StorageOps, cartId: string): Promise<Row[]> {
  return tx.find('ProductReservation', {
    where: [
      { field: 'WebCartId', op: '=', value: cartId },
      { field: 'Status', op: '=', value: 'Held' },
    ],
    orderBy: [{ field: 'ProductInventoryId', direction: 'asc' }],
    forUpdate: true,
  });
}

/**
 * Makes the cart hold exactly `target` (inventory id → request): raises, lowers or releases its
 * existing holds and adds new ones. A raise beyond the unreserved stock fails the step with an
 * Inventory validation naming the SKU. The inventory rows are read in one statement, locked
 * (PostgreSQL `FOR UPDATE`, in Id order like every writer of them; a SQLite transaction already
 * serializes), so the quantities read are current until the commit and all of them move in one
 * batched update; the reservations change in one update per kind and one multi-row insert.
 */
export async function setHolds(
  core: EngineCore,
  tx: StorageOps,
  cartId: string,
  target: ReadonlyMap<string, HoldRequest>,
  operationId: string | null,
  now: Date,
): Promise<void> {
  const stamp = now.toISOString();
  const held = await heldReservations(tx, cartId);
  const byInventory = new Map(held.map((r) => [String(r.ProductInventoryId), r]));
  const current = new Map(held.map((r) => [String(r.ProductInventoryId), Number(r.Quantity ?? 0)]));
  const wanted = new Map([...target].map(([id, r]) => [id, r.quantity]));
  const changes = holdChanges(current, wanted);
  if (changes.length === 0) return;
  const inventories = new Map(
    (
      await tx.find('ProductInventory', {
        where: [{ field: 'Id', op: 'in', value: changes.map((c) => c.inventoryId) }],
        orderBy: [{ field: 'Id', direction: 'asc' }],
        forUpdate: true,
      })
    ).map((r) => [String(r.Id), r]),
  );
  const reserved: { id: string; values: Row }[] = [];
  const released: { id: string; values: Row }[] = [];
  const resized: { id: string; values: Row }[] = [];
  const added: Row[] = [];
  for (const change of changes) {
    const inventory = inventories.get(change.inventoryId);
    const request = target.get(change.inventoryId);
    const row = byInventory.get(change.inventoryId);
    if (!inventory) {
      if (request) throw new StepFailed(`The integration reserved ProductInventory ${change.inventoryId}, which doesn't exist.`);
    } else {
      if (!canHold(inventory, change.delta)) {
        const message = `Insufficient quantity for SKU ${request?.sku ?? String(inventory.Product2Id)}: ${change.to} requested, ${unreservedStock(inventory) + change.from} available.`;
        throw new StepFailed(message, [
          { Type: 'Inventory', Message: message, RelatedEntityId: request?.relatedEntityId ?? change.inventoryId },
        ]);
      }
      const next =
        change.delta > 0 ? Number(inventory.QuantityReserved ?? 0) + change.delta : afterRelease(inventory.QuantityReserved, -change.delta);
      reserved.push({ id: change.inventoryId, values: { QuantityReserved: next, LastModifiedDate: stamp } });
    }
    if (row && change.to === 0) {
      released.push({
        id: String(row.Id),
        values: { Status: 'Released', ReleasedDate: stamp, ReleaseReason: 'Recomputed', _holdKey: null, LastModifiedDate: stamp },
      });
    } else if (row) {
      resized.push({ id: String(row.Id), values: { Quantity: change.to, BackgroundOperationId: operationId, LastModifiedDate: stamp } });
    } else {
      added.push({
        Id: core.mint('ProductReservation'),
        CreatedDate: stamp,
        LastModifiedDate: stamp,
        WebCartId: cartId,
        ProductInventoryId: change.inventoryId,
        Product2Id: inventory?.Product2Id ?? null,
        Quantity: change.to,
        Status: 'Held',
        OrderId: null,
        BackgroundOperationId: operationId,
        ReleasedDate: null,
        ReleaseReason: null,
        _holdKey: `${cartId}:${change.inventoryId}`,
      });
    }
  }
  // Read under the lock in this transaction: a row missing now was deleted by a concurrent writer.
  if ((await tx.updateRows('ProductInventory', reserved)) !== reserved.length)
    throw new VersionConflict('ProductInventory', reserved.map((r) => r.id).join(','));
  await tx.updateRows('ProductReservation', [...released, ...resized]);
  await tx.insert('ProductReservation', added);
}

/**
 * Gives back every Held reservation of the cart and, with `draftOrderId`, the Ordered ones kept for
 * that draft order (abandoned with its checkout: src/domain/abandon.ts); returns how many were released.
 */
export async function releaseHolds(
  tx: StorageOps,
  cartId: string,
  reason: ReleaseReason,
  now: Date,
  draftOrderId?: string,
): Promise<number> {
  const stamp = now.toISOString();
  const held = draftOrderId
    ? (
        await tx.find('ProductReservation', {
          where: [
            { field: 'WebCartId', op: '=', value: cartId },
            { field: 'Status', op: 'in', value: ['Held', 'Ordered'] },
          ],
          orderBy: [{ field: 'ProductInventoryId', direction: 'asc' }],
          forUpdate: true,
        })
      ).filter((r) => r.Status === 'Held' || r.OrderId === draftOrderId)
    : await heldReservations(tx, cartId);
  if (!held.length) return 0;
  // The stock rows read in one locked statement (Id order, like every writer of them) and moved in one batch.
  const returned = new Map<string, number>();
  for (const r of held)
    returned.set(String(r.ProductInventoryId), (returned.get(String(r.ProductInventoryId)) ?? 0) + Number(r.Quantity ?? 0));
  const inventories = await tx.find('ProductInventory', {
    where: [{ field: 'Id', op: 'in', value: [...returned.keys()] }],
    orderBy: [{ field: 'Id', direction: 'asc' }],
    forUpdate: true,
  });
  await tx.updateRows(
    'ProductInventory',
    inventories.map((inv) => ({
      id: String(inv.Id),
      values: { QuantityReserved: afterRelease(inv.QuantityReserved, returned.get(String(inv.Id))!), LastModifiedDate: stamp },
    })),
  );
  await tx.updateWhere('ProductReservation', [{ field: 'Id', op: 'in', value: held.map((r) => String(r.Id)) }], {
    Status: 'Released',
    ReleasedDate: stamp,
    ReleaseReason: reason,
    _holdKey: null,
    LastModifiedDate: stamp,
  });
  return held.length;
}

/** Keeps the cart's Held reservations as the order's (Status Ordered, OrderId set); the stock stays reserved. */
export async function keepHoldsForOrder(tx: StorageOps, cartId: string, orderId: string, now: Date): Promise<number> {
  return tx.updateWhere(
    'ProductReservation',
    [
      { field: 'WebCartId', op: '=', value: cartId },
      { field: 'Status', op: '=', value: 'Held' },
    ],
    { Status: 'Ordered', OrderId: orderId, _holdKey: null, LastModifiedDate: now.toISOString() },
  );
}
