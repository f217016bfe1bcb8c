/**
 * checkout-engine: Salesforce B2B Commerce checkout (Checkout Flow core actions) as XState
 * statecharts, offline. This entry loads no HTTP server: the Fastify server and plugin are in
 * 'checkout-engine/http', the scenario runner also in 'checkout-engine/scenarios'.
 * @example
 *   import { createCheckoutEngine, demo } from 'checkout-engine';
 *   const engine = await createCheckoutEngine({ storage: ':memory:' });
 *   const { buyerId, cartId } = await demo.newCart(engine);
 *   const [r] = await engine.invoke('checkoutSessionAction', [{ cartId }], { userId: buyerId });
 *   if (r?.isSuccess) console.log(r.outputValues.requestId);
 */
import { createCheckoutEngine as createEngine, type CheckoutEngine, type CheckoutEngineOptions } from './engine/engine.js';
import type { InspectorLike } from './engine/inspect-option.js';
import { resumePlacements } from './connect/orders.js';

export { CheckoutEngine, type CheckoutEngineOptions, type CallOptions } from './engine/engine.js';

/**
 * Creates a checkout engine on the given storage, runs migrations and resumes operations an
 * earlier process left unfinished (and the Connect order placements they belong to). With `inspect`, the inspector (src/inspect/attach.ts, loaded
 * only then) subscribes to the engine's session events.
 * @example const engine = await createCheckoutEngine({ storage: './checkout.db' })
 */
export function createCheckoutEngine(opts: CheckoutEngineOptions = {}): Promise<CheckoutEngine> {
  return createEngine(opts, {
    attachInspector: async (engine, option) => (await import('./inspect/attach.js')).attachInspector(engine, option),
    // Orders the Connect Checkout API placed before a crash go on (src/connect/orders.ts).
    resume: resumePlacements,
  });
}
export type { Interview, InterviewScreen, InterviewScreenField, NavigateRequest } from './engine/interviews.js';
export type { ApexContext, ApexStandIn, ComponentStandIn } from './engine/flow-standins.js';
export { FlowFault, type FlowData, type FlowLoadIssue } from './flows/contract.js';
export { ACTIONS } from './actions/index.js';
export type {
  ActionError,
  ActionFailure,
  ActionInput,
  ActionName,
  ActionOutput,
  ActionResult,
  ActionSuccess,
  CheckoutActions,
  InvocationResult,
  InvokeInputs,
  InvokeName,
  InvokeResult,
} from './actions/typed.js';
export type { ActionDef, ActionParam } from './actions/types.js';
export { ERRORS, EngineError, StorageFault, type ErrorKey, type ErrorDef } from './errors.js';
export { OBJECTS, findObject, type ObjectDef, type FieldDef } from './domain/objects.js';
export { mintId, parseId, to18, checksumSuffix } from './domain/ids.js';
export { addMoney, formatMoney, multiplyMoney, percentOf, roundMoney, spreadMoney, subtractMoney, sumMoney } from './domain/money.js';
export { DEFAULT_FLOW, validateFlow, type FlowDefinition, type FlowStep } from './domain/flow.js';
export { createCheckoutSessionMachine, MACHINE_VERSION } from './machines/checkout-session.js';
export { STEP_REQUIREMENTS } from './domain/requirements.js';
export type { QueryResult } from './engine/query.js';
export type { EngineAdmin, AdminQuery } from './engine/admin.js';
export type { Storage } from './storage/port.js';
export { openStorage } from './storage/index.js';
export { openSqlite, SqliteStore, type SqliteOptions } from './storage/sqlite/index.js';
export * from './integrations/index.js';
export type { CheckoutRun, CheckoutAnswers, TrajectoryEntry, RunCheckoutOptions } from './engine/checkout-runner.js';
export type { CalculateCartInput, CalculateCartResult, CartCalculateValidation } from './engine/cart-calculate.js';
export {
  demo,
  demoCatalogFixture,
  demoFixture,
  formatTrajectory,
  type CatalogTargets,
  type DemoOptions,
  type NewDemoCartOptions,
} from './demo/index.js';
// The scenario runner's names, listed (not `export *`): its deprecated `HistoryEntry` alias would
// collide with the engine's session `HistoryEntry` exported below.
export {
  Scenario,
  scenarioJsonSchema,
  loadScenario,
  parseScenario,
  expandScenarioPaths,
  formatProblem,
  ScenarioFileError,
  runScenario,
  runScenarioFiles,
  checkValue,
  textReport,
  junitReport,
  progressLine,
  historyTable,
  checkInvariants,
  computedCartTotals,
  orderTotalsProblem,
  type ScenarioDoc,
  type StepDoc,
  type ExpectDoc,
  type LoadedScenario,
  type ScenarioProblem,
  type ScenarioResult,
  type ScenarioRunOptions,
  type ScenarioHistoryEntry,
  type ScenarioFailure,
} from './scenarios/index.js';
export type { HistoryEntry, EventOrigin } from './engine/sessions.js';
export { redactSecrets, REDACTED } from './domain/redact.js';
export { flowMermaid } from './inspect/mermaid.js';
export { layoutFlow, type FlowChart } from './inspect/layout.js';
export type { InspectOption, InspectorLike, AttachedInspector } from './engine/inspect-option.js';
/** Replays a stored session's history into an inspector (src/inspect/attach.ts, loaded on the call). */
export async function replayHistory(engine: CheckoutEngine, sessionId: string, inspector: InspectorLike): Promise<number> {
  return (await import('./inspect/attach.js')).replayHistory(engine, sessionId, inspector);
}
