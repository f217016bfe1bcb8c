/**
 * Default shipping integration: every active OrderDeliveryMethod becomes one
 * CartDeliveryGroupMethod per delivery group, with ShippingFee = flat fee + fee per unit × the
 * group's product quantity. Earlier options of the cart's groups are replaced (re-entry). A group
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
    const groups = await data.deliveryGroups();
    const items = await data.items();
    const existing = await data.find('CartDeliveryGroupMethod', { WebCartId: cartId });
    data.delete('CartDeliveryGroupMethod', existing.map((r) => String(r.Id)));
    let failed = false;
    for (const g of groups) {
      if (typeof g.DeliverToCountry !== 'string' || !g.DeliverToCountry) {
        failed = true;
        data.addValidation({ Message: `Enter a delivery address with a country for '${String(g.Name)}'.`, RelatedEntityId: String(g.Id) });
        continue;
      }
      const units = toNumber(sumDecimal(items.filter((i) => i.CartDeliveryGroupId === g.Id && i.Type !== 'Charge').map((i) => Number(i.Quantity ?? 0))));
      for (const m of methods) {
        data.insert('CartDeliveryGroupMethod', {
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
    return { status: failed ? 'FAILED' : 'SUCCESS' };
  },
};
