/**
 * The action behind a store's own async step (spec §2 custom flows): a flow step whose action isn't
 * a built-in one runs the integration registered under its action name, through the same
 * async-step template (requirements 1–8, a BackgroundOperation, error exit) as the built-in steps.
 */
import { calculatorStepService } from '../engine/calculator-step.js';
import { asyncStepAction } from './async-step.js';
import type { ActionDef } from './types.js';
import type { StepService } from '../engine/core.js';

/** An async-step action for a custom flow step, run by the integration registered under `name`. */
export function integrationStepAction(name: string, label: string, validationType: string): ActionDef & { service: StepService } {
  return asyncStepAction({
    name,
    label,
    description: `Custom checkout step '${label}', run by the integration registered as '${name}'.`,
    operationName: label,
    service: calculatorStepService(name, validationType),
  });
}
