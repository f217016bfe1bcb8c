/**
 * priceCart(cartId, runAsync): the 'pricing' calculator step, run as a BackgroundOperation by the
 * store's 'pricing' integration (spec §4). Usage requirements and errors are the async-step template's
 * (spec §3, requirement 7 naming this step).
 */
import { calculatorStepService } from '../engine/calculator-step.js';
import { asyncStepAction } from './async-step.js';

/** The priceCart definition. */
export const priceCart = asyncStepAction({
  name: 'priceCart',
  label: 'Price Cart',
  description: 'Reprices every line of the cart; changed prices are reported as CartValidationOutput warnings.',
  operationName: 'Price Cart',
  service: calculatorStepService('pricing', 'Pricing'),
});
