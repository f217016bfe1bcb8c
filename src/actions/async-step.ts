/**
 * The template every async checkout action follows (spec §2 async step protocol, §3 requirements):
 * its inputs (`cartId`, the action's own, `runAsync`), its output (`backgroundOperationId`) and its
 * service. What a call does — load the facts, offer STEP to the session statechart (whose guard
 * checks the eight usage requirements in order), and execute the step the machine starts — is the
 * step lifecycle's (src/engine/steps.ts).
 */
import type { StepService } from '../engine/core.js';
import type { CompletionPoint } from '../domain/completion-invariants.js';
import type { ActionDef, ActionParam } from './types.js';

/** What distinguishes one async step action from another. */
export interface AsyncStepSpec {
  name: string;
  label: string;
  description: string;
  /** Inputs beyond cartId and runAsync. */
  extraInputs?: ActionParam[];
  /** The work the operation does. */
  service: StepService;
  /** Operation name shown in BackgroundOperation.Name. */
  operationName: string;
  /** The completion invariants checked before the step is claimed (cartToOrder, activate). */
  completion?: CompletionPoint;
}

/** Builds an async step action and the step service it registers. */
export function asyncStepAction(spec: AsyncStepSpec): ActionDef & { service: StepService } {
  return {
    name: spec.name,
    label: spec.label,
    description: spec.description,
    service: spec.service,
    inputs: [
      { name: 'cartId', type: 'ID', required: true, description: 'The ID of the cart in checkout.' },
      ...(spec.extraInputs ?? []),
      { name: 'runAsync', type: 'BOOLEAN', required: false, description: 'Run the operation in the background (default false).' },
    ],
    outputs: [{ name: 'backgroundOperationId', type: 'ID', required: false, description: 'The ID of the background operation.' }],

    run: (env, input) => env.steps.call(spec, env, input),
    readsCallerWithFacts: true,
  };
}
