/**
 * checkCartInventoryAction(cartId, runAsync): the 'inventory' calculator step, run as a BackgroundOperation by the
 * store's 'inventory' integration (spec §4). Usage requirements and errors are the async-step template's
 * (spec §3, requirement 7 naming this step).
 */
import { calculatorStepService } from '../engine/calculator-step.js';
import { asyncStepAction } from './async-step.js';

/** The checkCartInventoryAction definition. */
export const checkCartInventoryAction = asyncStepAction({
  name: 'checkCartInventoryAction',
  label: 'Check Cart Inventory',
  description: 'Checks the inventory of every product in the cart (full inventory availability check).',
  operationName: 'Check Inventory',
  service: calculatorStepService('inventory', 'Inventory'),
});
