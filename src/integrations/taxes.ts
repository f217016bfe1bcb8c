/**
 * Default tax integration: TaxRate rows (Country, State — empty means the whole country, Rate as a
 * fraction, active). Each delivery group's address picks the state's rate, else the country's; each
 * taxable line of the group (products and charges) gets one CartTax of TotalPrice × Rate, rounded
 * half-up. Earlier CartTax rows of the cart are replaced (one edit of the cart's draft). No matching rate means no tax; a group
 * without a country fails the step.
 */
import { deriveCartLine, multiplyMoney } from '../domain/money.js';
import type { CartProcessor } from './contract.js';

const same = (a: unknown, b: unknown) =>
  String(a ?? '')
    .trim()
    .toLowerCase() ===
  String(b ?? '')
    .trim()
    .toLowerCase();

/** Calculates one CartTax per taxable line from the rate table. */
export const defaultTaxes: CartProcessor = {
  async startCartProcessAsync(_info, cartId, data) {
    // The rates and the cart, asked for together (one round trip where the engine can).
    const [rates, { items, deliveryGroups }] = await Promise.all([data.find('TaxRate', { IsActive: true }), data.state()]);
    const lines = Object.values(items);
    const taxes: Record<string, unknown>[] = [];
    let failed = false;
    for (const g of Object.values(deliveryGroups)) {
      if (typeof g.DeliverToCountry !== 'string' || !g.DeliverToCountry) {
        failed = true;
        data.addValidation({
          Message: `A delivery address with a country is needed to calculate taxes for '${String(g.Name)}'.`,
          RelatedEntityId: String(g.Id),
        });
        continue;
      }
      const countryRates = rates.filter((r) => same(r.Country, g.DeliverToCountry));
      const rate = countryRates.find((r) => r.State && same(r.State, g.DeliverToState)) ?? countryRates.find((r) => !r.State);
      if (!rate) continue;
      for (const item of lines.filter((i) => i.CartDeliveryGroupId === g.Id)) {
        const amount = multiplyMoney(deriveCartLine(item).TotalPrice, Number(rate.Rate));
        if (amount === 0) continue;
        taxes.push({
          CartItemId: item.Id,
          Name: String(rate.Name ?? `Tax ${String(rate.Country)}${rate.State ? `-${String(rate.State)}` : ''}`),
          Amount: amount,
          TaxRate: Number(rate.Rate),
          TaxType: 'Actual',
          TaxCalculationDate: data.now.toISOString(),
        });
      }
    }
    if (failed) return { status: 'FAILED' };
    // The cart's taxes are replaced: the earlier rows deleted, one new row per taxed line.
    await data.edit((cart) => {
      cart.taxes = Object.fromEntries(taxes.map((t) => [`tax:${String(t.CartItemId)}`, t]));
    });
    return { status: 'SUCCESS' };
  },
};
