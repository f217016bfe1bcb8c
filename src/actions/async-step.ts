/**
 * The template every async checkout action follows (spec §2 async step protocol, §3 requirements):
 * parse `cartId` (and `runAsync`), load the facts, offer a STEP event to the session statechart
 * whose guard checks the eight usage requirements in order, and — when the machine enters the
 * step's `running` state — commit a New BackgroundOperation in the same transaction. Then either
 * hand it to the worker and return (runAsync) or run it and return when it finished.
 */
import { EngineError } from '../errors.js';
import { firstFailedRequirement, STEP_REQUIREMENTS } from '../domain/requirements.js';
import { CheckoutExpired, loadCartFacts } from '../engine/facts.js';
import type { Row } from '../storage/port.js';
import { applySessionEvent } from '../engine/sessions.js';
import type { StepService } from '../engine/core.js';
import { checkCompletion } from '../engine/completion.js';
import type { CompletionPoint } from '../domain/completion-invariants.js';
import { requirementError, type ActionDef, type ActionParam } from './types.js';

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

    async run(env, input) {
      const { core, caller, worker } = env;
      const waits = input.runAsync !== true;
      // A waiting call runs its step here and now. A step without slow work, or whose work is
      // in-process (the built-in calculators), runs and commits in the same transaction as its
      // claim (one transaction for the whole call); one with a registered integration claims
      // (operation Running under this process's lease), computes outside any transaction and
      // commits in a second one. runAsync = true queues the operation (New) for the worker.
      const service = spec.service;
      let inline = waits && worker.commitsInline;
      for (;;) {
        try {
          const claimed = await core.atomically(async (tx) => {
            const now = core.now();
            const loaded = await loadCartFacts(tx, caller, input.cartId, { forUpdate: true, now });
            const session = loaded.session;
            const flowEntry = session ? core.flow(session._flow as string) : null;
            const stepKey = flowEntry?.flow.byAction.get(spec.name)?.key;
            if (!session || !flowEntry || !stepKey) {
              // No session, or its flow has no such step: requirement 7 (or an earlier one) fails.
              const convention = flowEntry?.flow.convention.name;
              const failed = firstFailedRequirement(loaded.facts, stepKey ?? spec.name, STEP_REQUIREMENTS, convention);
              // Every requirement may hold under the template convention while the flow has no such step: 7 fails.
              throw requirementError(failed ?? STEP_REQUIREMENTS[6]!);
            }
            const opId = core.mint('BackgroundOperation');
            const t = await applySessionEvent(
              tx,
              flowEntry.machine,
              session,
              { type: 'STEP', step: stepKey, facts: loaded.facts, operationId: opId },
              now,
              {},
              { operation: spec.name, callerId: caller.Id, operationId: opId, input },
              (loaded.operation?.Status as string | undefined) ?? null,
            );
            if (!t.ok) throw new EngineError(t.rejection.error, t.rejection.detail, t.rejection.requirement === 1 ? ['cartId'] : []);
            if (!t.spawned.some((s) => s.src === 'runStep')) throw new Error(`the session accepted ${spec.name} but did not start its step`);
            // The completion invariants, whatever the flow: a broken one refuses the call and rolls all of it back.
            if (spec.completion) await checkCompletion(core, tx, spec.completion, session, loaded.store);
            const stamp = now.toISOString();
            const op: Row = {
              Id: opId,
              CreatedDate: stamp,
              LastModifiedDate: stamp,
              Name: `${spec.operationName} ${String(loaded.cart!.Id)}`,
              Status: waits ? 'Running' : 'New',
              Error: null,
              SubmittedAt: stamp,
              StartedAt: waits ? stamp : null,
              FinishedAt: null,
              RetryCount: 0,
              Timeout: core.stepTimeoutMs > 0 && Number.isFinite(core.stepTimeoutMs) ? Math.round(core.stepTimeoutMs / 1000) : null,
              _step: stepKey,
              _sessionId: session.Id,
              _cartId: loaded.cart!.Id,
              _input: JSON.stringify(input),
              _leaseUntil: waits ? worker.leaseNow() : null,
              _version: 0,
            };
            const here = inline && (!service.compute || service.runsInline?.({ core, storeId: String(loaded.cart!.WebStoreId) }) === true);
            if (here) {
              await worker.commitInline(tx, service, op, t.row, now);
              Object.assign(op, { Status: 'Complete', FinishedAt: stamp, _version: 1 });
            }
            await tx.insert('BackgroundOperation', [op]);
            return { op, session: t.row, done: here };
          });
          if (claimed.done) return { backgroundOperationId: claimed.op.Id };
          if (waits) await worker.runClaimed(claimed.op, claimed.session);
          else worker.enqueue(String(claimed.op.Id));
          return { backgroundOperationId: claimed.op.Id };
        } catch (e) {
          // A step that fails (or breaks) inside the one transaction rolled all of it back: run it
          // again the two-transaction way, which records the failure on its operation and session.
          if (inline && !(e instanceof EngineError) && !(e instanceof CheckoutExpired)) {
            inline = false;
            continue;
          }
          throw e;
        }
      }
    },
  };
}
