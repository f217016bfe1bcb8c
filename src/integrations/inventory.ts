/**
 * Default inventory integration: ProductInventory (Product2Id, QuantityAvailable, QuantityReserved).
 * A product with an inventory record needs QuantityAvailable − QuantityReserved (plus what this cart
 * already holds) ≥ the cart's quantity of it; success makes the cart hold that quantity
 * (`data.reserve`: re-checked in the commit transaction, so concurrent checkouts of one product
 * serialize and two can't both take the last units; recorded per cart as ProductReservation rows
 * and released on cancel, expiry, cart change and step error). Products without an inventory
 * record aren't tracked.
 */
import type { CartProcessor } from './contract.js';

/** Checks stock per product and reserves it on success. */
export const defaultInventory: CartProcessor = {
  async startCartProcessAsync(_info, cartId, data) {
    const products = Object.values((await data.state()).items).filter((i) => i.Type !== 'Charge');
    if (products.length === 0) {
      data.addValidation({ Message: 'Looks like your cart is empty.', RelatedEntityId: cartId });
      return { status: 'FAILED' };
    }
    const blank = products.find((i) => typeof i.Sku !== 'string' || !i.Sku.trim());
    if (blank) {
      data.addValidation({ Message: 'The SKUs for all products in your cart must be defined.', RelatedEntityId: String(blank.Id) });
      return { status: 'FAILED' };
    }
    const need = new Map<string, { qty: number; sku: string; itemId: string }>();
    for (const i of products) {
      if (typeof i.Product2Id !== 'string') continue;
      const n = need.get(i.Product2Id) ?? { qty: 0, sku: String(i.Sku), itemId: String(i.Id) };
      n.qty += Number(i.Quantity ?? 0);
      need.set(i.Product2Id, n);
    }
    // The stock and the cart's holds, asked for together (one round trip where the engine can).
    const [stock, holds] = await Promise.all([
      need.size ? data.find('ProductInventory', { Product2Id: [...need.keys()] }) : [],
      data.find('ProductReservation', { WebCartId: cartId, Status: 'Held' }),
    ]);
    // What this cart already holds counts as available to it: a re-run sets the hold, never adds.
    const held = new Map<string, number>();
    for (const r of holds) {
      held.set(String(r.ProductInventoryId), (held.get(String(r.ProductInventoryId)) ?? 0) + Number(r.Quantity ?? 0));
    }
    let short = false;
    for (const row of stock) {
      const n = need.get(String(row.Product2Id))!;
      const reserved = Number(row.QuantityReserved ?? 0) - (held.get(String(row.Id)) ?? 0);
      const available = Number(row.QuantityAvailable ?? 0) - reserved;
      if (n.qty > available) {
        short = true;
        data.addValidation({
          Message: `Insufficient quantity for SKU ${n.sku}: ${n.qty} requested, ${Math.max(0, available)} available.`,
          RelatedEntityId: n.itemId,
        });
      }
    }
    if (short) return { status: 'FAILED' };
    for (const row of stock) {
      const n = need.get(String(row.Product2Id))!;
      data.reserve(String(row.Id), n.qty, { sku: n.sku, relatedEntityId: n.itemId });
    }
    return { status: 'SUCCESS' };
  },
};
