/**
 * Default shipping integration: every active OrderDeliveryMethod becomes one
 * CartDeliveryGroupMethod per delivery group, with ShippingFee = flat fee + fee per unit × the
 * group's product quantity. Earlier options of the cart's groups are replaced (re-entry), in one
 * edit of the cart's draft. A group
 * without a delivery country, or a store with no active method, fails the step.
 */
import { addMoney, multiplyMoney, sumDecimal, toNumber } from '../domain/money.js';
import type { CartProcessor } from './contract.js';

/** Offers every active delivery method to every delivery group. */
export const defaultShipping: CartProcessor = {
  async startCartProcessAsync(_info, cartId, data) {
    const methods = await data.find('OrderDeliveryMethod', { IsActive: true });
    if (methods.length === 0) {
      data.addValidation({ Message: 'No delivery method is available for this store.', RelatedEntityId: cartId });
      return { status: 'FAILED' };
    }
    const { items, deliveryGroups } = await data.state();
    const lines = Object.values(items);
    const offers: Record<string, unknown>[] = [];
    let failed = false;
    for (const g of Object.values(deliveryGroups)) {
      if (typeof g.DeliverToCountry !== 'string' || !g.DeliverToCountry) {
        failed = true;
        data.addValidation({ Message: `Enter a delivery address with a country for '${String(g.Name)}'.`, RelatedEntityId: String(g.Id) });
        continue;
      }
      const units = toNumber(
        sumDecimal(lines.filter((i) => i.CartDeliveryGroupId === g.Id && i.Type !== 'Charge').map((i) => Number(i.Quantity ?? 0))),
      );
      for (const m of methods) {
        offers.push({
          CartDeliveryGroupId: g.Id,
          DeliveryMethodId: m.Id,
          Name: m.Name,
          ShippingFee: addMoney(Number(m.ShippingFee ?? 0), multiplyMoney(Number(m.ShippingFeePerUnit ?? 0), units)),
          Carrier: m.Carrier ?? null,
          ClassOfService: m.ClassOfService ?? null,
          ExternalProvider: 'checkout-engine',
        });
      }
    }
    if (failed) return { status: 'FAILED' };
    // The cart's options are replaced: the earlier ones deleted, one new row per group and method.
    await data.edit((cart) => {
      cart.deliveryMethods = Object.fromEntries(offers.map((o) => [`${String(o.CartDeliveryGroupId)}:${String(o.DeliveryMethodId)}`, o]));
    });
    return { status: 'SUCCESS' };
  },
};
