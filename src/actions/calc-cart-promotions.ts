/**
 * calcCartPromotionsAction(cartId, runAsync): the 'promotions' calculator step, run as a BackgroundOperation by the
 * store's 'promotions' integration (spec §4). Usage requirements and errors are the async-step template's
 * (spec §3, requirement 7 naming this step).
 */
import { calculatorStepService } from '../engine/calculator-step.js';
import { asyncStepAction } from './async-step.js';

/** The calcCartPromotionsAction definition. */
export const calcCartPromotionsAction = asyncStepAction({
  name: 'calcCartPromotionsAction',
  label: 'Calculate Cart Promotions',
  description: "Runs the full promotion calculation of the cart's promoted lines.",
  operationName: 'Calculate Promotions',
  service: calculatorStepService('promotions', 'Promotions'),
});
