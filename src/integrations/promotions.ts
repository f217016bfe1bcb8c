/**
 * Default promotions integration: active Promotion rows (of the cart's store, or of every store
 * when WebStoreId is empty). DiscountType Percentage (DiscountValue in percent, 0–100) or
 * FixedAmount; Product2Id set = line-level, empty = cart-level (a fixed cart discount is spread
 * over the product lines in proportion to their amounts, the cent remainder on the largest line). The step owns AdjustmentAmount: it is
 * recalculated from scratch on every run, capped so no line goes below zero; lines whose adjustment
 * changed are set on the cart's draft in one edit.
 */
import { addMoney, multiplyMoney, percentOf, roundMoney, spreadMoney, sumMoney, unitPriceOf } from '../domain/money.js';
import type { CartProcessor } from './contract.js';

const lineAmount = (i: Record<string, unknown>) => multiplyMoney(unitPriceOf(i), Number(i.Quantity ?? 0));

/** Applies percentage and fixed-amount promotions, cart- and line-level. */
export const defaultPromotions: CartProcessor = {
  async startCartProcessAsync(_info, _cartId, data) {
    // The cart and the promotions, asked for together (one round trip where the engine can).
    const [state, active] = await Promise.all([data.state(), data.find('Promotion', { IsActive: true })]);
    const products = Object.values(state.items).filter((i) => i.Type !== 'Charge');
    const promos = active.filter((p) => !p.WebStoreId || p.WebStoreId === data.cart.WebStoreId);
    const bad = promos.find((p) => {
      const v = Number(p.DiscountValue);
      return !Number.isFinite(v) || v < 0 || (p.DiscountType === 'Percentage' && v > 100);
    });
    if (bad) {
      data.addValidation({
        Message: `Promotion '${String(bad.Name)}' has an invalid DiscountValue (${String(bad.DiscountValue)}).`,
        RelatedEntityId: data.cart.Id as string,
      });
      return { status: 'FAILED' };
    }
    const base = new Map(products.map((i) => [String(i.Id), lineAmount(i)]));
    const discount = new Map(products.map((i) => [String(i.Id), 0]));
    const add = (id: string, amount: number) => discount.set(id, addMoney(discount.get(id)!, amount));
    for (const p of promos) {
      const v = Number(p.DiscountValue);
      const lines = p.Product2Id ? products.filter((i) => i.Product2Id === p.Product2Id) : products;
      if (lines.length === 0) continue;
      if (p.DiscountType === 'Percentage') {
        for (const i of lines) add(String(i.Id), percentOf(base.get(String(i.Id))!, v));
      } else if (p.Product2Id) {
        for (const i of lines) add(String(i.Id), Math.min(v, base.get(String(i.Id))!));
      } else {
        const total = sumMoney(lines.map((i) => base.get(String(i.Id))!));
        const off = Math.min(v, total);
        // The rounding remainder goes to the largest line (ties: lowest Id), so the split doesn't depend on read order.
        const largest = lines.reduce((best, i, n) => {
          const b = base.get(String(i.Id))!;
          const bb = base.get(String(lines[best]!.Id))!;
          return b > bb || (b === bb && String(i.Id) < String(lines[best]!.Id)) ? n : best;
        }, 0);
        const shares = total
          ? spreadMoney(
              off,
              lines.map((i) => base.get(String(i.Id))!),
              largest,
            )
          : lines.map(() => 0);
        lines.forEach((i, n) => add(String(i.Id), shares[n]!));
      }
      data.addValidation({ Level: 'Info', Message: `Promotion '${String(p.Name)}' applied.`, RelatedEntityId: data.cart.Id as string });
    }
    await data.edit((cart) => {
      for (const i of products) {
        const id = String(i.Id);
        const adj = -Math.min(discount.get(id)!, base.get(id)!);
        const next = adj === 0 ? 0 : roundMoney(adj);
        if (Number(i.AdjustmentAmount ?? 0) !== next) cart.items[id]!.AdjustmentAmount = next;
      }
    });
    return { status: 'SUCCESS' };
  },
};
