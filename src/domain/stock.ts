/**
 * Stock reservation rules, pure: how a cart's holds on ProductInventory rows change when its
 * inventory step runs again, how much stock a cart may still take, and what releasing a hold does
 * to QuantityReserved. The engine applies them in src/engine/reservations.ts.
 */

/** Status of a ProductReservation: held by a cart in checkout, released, or kept as an order's. */
export const RESERVATION_STATUSES = ['Held', 'Released', 'Ordered'] as const;

/** Why a hold was released. */
export const RELEASE_REASONS = ['Canceled', 'Expired', 'StepError', 'Recomputed'] as const;

/** A reason a hold was released. */
export type ReleaseReason = (typeof RELEASE_REASONS)[number];

/** One change of a cart's hold on one inventory row. */
export interface HoldChange {
  readonly inventoryId: string;
  /** What the cart held before. */
  readonly from: number;
  /** What the cart holds after. */
  readonly to: number;
  /** to − from: added to QuantityReserved (negative gives stock back). */
  readonly delta: number;
}

/**
 * The changes that make a cart hold exactly `target` (inventory id → quantity) when it holds
 * `current`: a re-run of the inventory step sets the hold instead of adding to it, and a product the
 * cart no longer needs gives its stock back. Unchanged holds are left out.
 */
export function holdChanges(current: ReadonlyMap<string, number>, target: ReadonlyMap<string, number>): HoldChange[] {
  const out: HoldChange[] = [];
  for (const id of [...new Set([...current.keys(), ...target.keys()])].sort()) {
    const from = current.get(id) ?? 0;
    const to = Math.max(0, target.get(id) ?? 0);
    if (from !== to) out.push({ inventoryId: id, from, to, delta: to - from });
  }
  return out;
}

/** Stock not reserved by anyone: QuantityAvailable − QuantityReserved (never below 0). */
export function unreservedStock(inventory: { QuantityAvailable?: unknown; QuantityReserved?: unknown }): number {
  return Math.max(0, Number(inventory.QuantityAvailable ?? 0) - Number(inventory.QuantityReserved ?? 0));
}

/** Whether a cart may raise its hold by `delta` given the inventory row as it stands. */
export function canHold(inventory: { QuantityAvailable?: unknown; QuantityReserved?: unknown }, delta: number): boolean {
  return delta <= 0 || delta <= unreservedStock(inventory);
}

/** QuantityReserved after giving back `quantity` (never below 0, even if an operator lowered it meanwhile). */
export function afterRelease(reserved: unknown, quantity: number): number {
  return Math.max(0, Number(reserved ?? 0) - quantity);
}
