/**
 * Default pricing integration: the store's active price books (WebStorePricebook → Pricebook2,
 * both active) and their active PricebookEntry rows. Each product line is repriced to the lowest
 * active entry's UnitPrice across the store's price books; a changed price gets a Warning-level
 * Pricing CartValidationOutput; a product with no active entry fails the step. Prices are set on
 * the cart's draft in one edit: only the lines whose price changed are written. A line breaking a
 * line rule (a quantity outside its product's QuantityScale, a priced line rounding to 0.00) fails
 * the step with an Error-level Pricing validation (domain/line-rules.ts).
 */
import { formatMoney, roundMoney } from '../domain/money.js';
import { lineProblem } from '../domain/line-rules.js';
import type { CartProcessor } from './contract.js';

/** Reprices every product line from the store's price books. */
export const defaultPricing: CartProcessor = {
  async startCartProcessAsync(_info, _cartId, data) {
    // The cart and the store's price book links, asked for together (one round trip where the engine can).
    const [state, links] = await Promise.all([
      data.state(),
      data.find('WebStorePricebook', { WebStoreId: data.cart.WebStoreId, IsActive: true }),
    ]);
    const products = Object.values(state.items).filter((i) => i.Type !== 'Charge');
    const books = links.length ? await data.find('Pricebook2', { Id: links.map((l) => l.Pricebook2Id), IsActive: true }) : [];
    const productIds = [...new Set(products.map((i) => i.Product2Id).filter((x): x is string => typeof x === 'string'))];
    // The entries and the products, asked for together (one round trip where the engine can).
    const [entries, catalog] = await Promise.all([
      books.length && productIds.length
        ? data.find('PricebookEntry', { Pricebook2Id: books.map((b) => b.Id), Product2Id: productIds, IsActive: true })
        : [],
      productIds.length ? data.find('Product2', { Id: productIds }) : [],
    ]);
    const best = new Map<string, number>();
    for (const e of entries) {
      const p = String(e.Product2Id);
      const price = Number(e.UnitPrice);
      if (!best.has(p) || price < best.get(p)!) best.set(p, price);
    }
    const productById = new Map(catalog.map((p) => [String(p.Id), p]));
    let missing = false;
    const prices = new Map<string, number>();
    for (const item of products) {
      const price = typeof item.Product2Id === 'string' ? best.get(item.Product2Id) : undefined;
      if (price === undefined) {
        missing = true;
        data.addValidation({
          Message: `No price is available for SKU ${String(item.Sku ?? item.Name)} in this store.`,
          RelatedEntityId: String(item.Id),
        });
        continue;
      }
      const unit = roundMoney(price);
      prices.set(String(item.Id), unit);
      // Line rules (domain/line-rules.ts): a quantity outside the product's scale, or a line that rounds to 0.00, fails the step.
      const problem = lineProblem({ ...item, SalesPrice: unit }, productById.get(String(item.Product2Id)));
      if (problem) {
        missing = true;
        data.addValidation({ Message: problem.message, RelatedEntityId: String(item.Id) });
        continue;
      }
      if (item.SalesPrice !== unit && typeof item.SalesPrice === 'number') {
        data.addValidation({
          Level: 'Warning',
          Message: `The price of SKU ${String(item.Sku ?? item.Name)} changed from ${formatMoney(item.SalesPrice)} to ${formatMoney(unit)}.`,
          RelatedEntityId: String(item.Id),
        });
      }
    }
    if (missing) return { status: 'FAILED' };
    // Only the lines whose price changes are drafted (a draft row costs a proxy; an unchanged one writes nothing anyway).
    const changed = products.filter(
      (i) => prices.has(String(i.Id)) && (i.SalesPrice !== prices.get(String(i.Id)) || i.ListPrice === null || i.ListPrice === undefined),
    );
    if (changed.length) {
      await data.edit((cart) => {
        for (const item of changed) {
          const unit = prices.get(String(item.Id))!;
          const line = cart.items[String(item.Id)]!;
          line.SalesPrice = unit;
          if (line.ListPrice === null || line.ListPrice === undefined) line.ListPrice = unit;
        }
      });
    }
    return { status: 'SUCCESS' };
  },
};
