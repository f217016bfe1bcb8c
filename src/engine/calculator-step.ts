/**
 * The StepService that runs a calculator: `compute` resolves the store's integration and runs it
 * against a staging data API (outside any transaction; the worker applies the timeout) — the
 * cart is read once, as a draft the integration edits — and turns the draft's patches into a
 * write plan; `commit` applies it, batched, in the step's completion transaction. FAILED, an Error-level
 * validation, a throw or an invalid status all fail the step with CartValidationOutput rows.
 */
import { StepFailed, type EngineCore, type StepService } from './core.js';
import { applyStagedWrites, StagingCartDataApi, type StagedResult } from '../integrations/data-api.js';
import { DEFAULT_INTEGRATIONS } from '../integrations/defaults.js';
import type { CartPort } from '../integrations/port.js';
import { recomputeCart } from './cart.js';
import { setHolds } from './reservations.js';

/** The kernel's side of the integrations port (src/integrations/port.ts): reads, ids, stock holds and roll-ups. */
export function cartPort(core: EngineCore): CartPort {
  return {
    get storage() {
      return core.storage;
    },
    mint: (object) => core.mint(object),
    holdStock: (tx, cartId, holds, operationId, now) => setHolds(core, tx, cartId, holds, operationId, now),
    recomputeCart,
  };
}

/** A step service that runs the integration registered under `name` (a calculator or a custom step's action). */
export function calculatorStepService(name: string, stepType: string): StepService {
  return {
    runsInline({ integrations, storeId }) {
      // The engine's own calculators are in-process and do no I/O but our reads; registered ones may call out.
      const processor = integrations.resolve(name, storeId);
      return !!processor && Object.values(DEFAULT_INTEGRATIONS).includes(processor);
    },
    async compute(ctx) {
      const reads = ctx.reads ?? ctx.core.storage;
      const cart = await reads.get('WebCart', ctx.cartId);
      if (!cart) throw new StepFailed('The cart no longer exists.');
      const processor = ctx.integrations.resolve(name, String(cart.WebStoreId));
      if (!processor) throw new StepFailed(`No integration is registered for '${name}'.`);
      const api = new StagingCartDataApi(ctx.core, cart, ctx.now, ctx.signal, reads);
      const status = await processor.startCartProcessAsync(
        { integrationId: name, jobId: String(ctx.operation.Id), siteLanguage: 'en_US' },
        ctx.cartId,
        api,
      );
      const reported = api.reported();
      const errors = reported.filter((v) => (v.Level ?? 'Error') === 'Error');
      if (status?.status !== 'SUCCESS' && status?.status !== 'FAILED') {
        throw new StepFailed(`The ${name} integration returned an invalid status; expected { status: 'SUCCESS' | 'FAILED' }.`);
      }
      if (status.status === 'FAILED' || errors.length) {
        const message = errors[0]?.Message ?? status.message ?? `The ${name} integration failed.`;
        const validations = reported.map((v) => ({ ...v, Type: v.Type ?? stepType }));
        throw new StepFailed(message, errors.length ? validations : [{ Message: message, RelatedEntityId: ctx.cartId }, ...validations]);
      }
      // The draft's writes, checked and prepared outside the commit transaction.
      return api.result();
    },
    async commit(ctx, tx, computed) {
      await applyStagedWrites(cartPort(ctx.core), tx, ctx.cartId, computed as StagedResult, String(ctx.operation.Id), stepType, ctx.now);
      return {};
    },
  };
}
