/**
 * calcCartShipmentAction(cartId, runAsync): the 'shipping' calculator step, run as a BackgroundOperation by the
 * store's 'shipping' integration (spec §4). Usage requirements and errors are the async-step template's
 * (spec §3, requirement 7 naming this step).
 */
import { calculatorStepService } from '../engine/calculator-step.js';
import { asyncStepAction } from './async-step.js';

/** The calcCartShipmentAction definition. */
export const calcCartShipmentAction = asyncStepAction({
  name: 'calcCartShipmentAction',
  label: 'Calculate Cart Shipment Costs',
  description: 'Calculates the shipping cost options (CartDeliveryGroupMethod) of every delivery group.',
  operationName: 'Calculate Shipment',
  service: calculatorStepService('shipping', 'Shipping'),
});
