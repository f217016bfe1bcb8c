/**
 * The narrow port an integration step reaches the cart through. The kernel (src/engine) implements
 * it and passes it in (src/engine/calculator-step.ts); nothing under src/integrations imports the
 * engine. It reads the cart (plain storage reads, outside any transaction or inside the step's),
 * writes named fields (the staged plan, with ids the kernel mints), holds stock (the cart's
 * reservations), and re-derives the cart's roll-ups after the writes.
 */
import type { Row, StorageOps } from '../storage/port.js';

/** What a cart should hold of one inventory row after its inventory step. */
export interface HoldRequest {
  quantity: number;
  sku?: string;
  relatedEntityId?: string;
}

/** A cart's lines and taxes as a step holds them after its writes (the roll-ups need nothing else). */
export interface HeldCart {
  readonly items: readonly Row[];
  readonly taxes: readonly Row[];
}

/** Where an integration's staging API reads: storage outside any transaction (a slow integration holds no locks). */
export interface CartReadPort {
  readonly storage: StorageOps;
}

/** What applying a step's staged writes needs from the kernel, inside the step's transaction `tx`. */
export interface CartPort extends CartReadPort {
  /** A new record id for a row of `object`. */
  mint(object: string): string;
  /** Sets the cart's stock holds to `holds` (a re-run sets, never adds; stock no longer held goes back). */
  holdStock(tx: StorageOps, cartId: string, holds: ReadonlyMap<string, HoldRequest>, operationId: string, now: Date): Promise<void>;
  /** Re-derives the cart's line tax totals and header totals (from `held` when given, else read). */
  recomputeCart(tx: StorageOps, cartId: string, now: Date, held?: HeldCart): Promise<void>;
}
