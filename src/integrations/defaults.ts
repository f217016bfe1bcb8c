/** The engine's built-in calculators, by calculator name (spec §4). */
import type { CartProcessor } from './contract.js';
import { defaultInventory } from './inventory.js';
import { defaultPricing } from './pricing.js';
import { defaultPromotions } from './promotions.js';
import { defaultShipping } from './shipping.js';
import { defaultTaxes } from './taxes.js';

/** Default integration per calculator name; a store's or the engine's registration overrides it. */
export const DEFAULT_INTEGRATIONS: Readonly<Record<string, CartProcessor>> = {
  inventory: defaultInventory,
  pricing: defaultPricing,
  promotions: defaultPromotions,
  shipping: defaultShipping,
  taxes: defaultTaxes,
};
