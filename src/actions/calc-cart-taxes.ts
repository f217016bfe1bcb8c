/**
 * calcCartTaxesAction(cartId, runAsync): the 'taxes' calculator step, run as a BackgroundOperation by the
 * store's 'taxes' integration (spec §4). Usage requirements and errors are the async-step template's
 * (spec §3, requirement 7 naming this step).
 */
import { calculatorStepService } from '../engine/calculator-step.js';
import { asyncStepAction } from './async-step.js';

/** The calcCartTaxesAction definition. */
export const calcCartTaxesAction = asyncStepAction({
  name: 'calcCartTaxesAction',
  label: 'Calculate Cart Taxes',
  description: 'Calculates the taxes of every line (CartTax) and rolls them up into the cart totals.',
  operationName: 'Calculate Taxes',
  service: calculatorStepService('taxes', 'Taxes'),
});
