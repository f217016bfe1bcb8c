/**
 * The scenario file format, as zod schemas: a fixture, a flow, and steps, each step with optional
 * expectations. The JSON Schema editors use (`scenarios/scenario.schema.json`) is generated from
 * these with `z.toJSONSchema`, so the two never disagree.
 */
import { z } from 'zod';

/** A scalar a field can hold; strings starting with `@` name a handle (a fixture ref or a saved id). */
const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A matcher object: every given check must hold. */
export const MatcherObject = z
  .strictObject({
    equals: Scalar.optional().describe('Exactly this value (handles resolved)'),
    not: Scalar.optional().describe('Anything but this value'),
    matches: z.string().optional().describe('A regular expression the value (as text) matches'),
    oneOf: z.array(Scalar).optional().describe('One of these values'),
    exists: z.boolean().optional().describe('true: not null/undefined; false: null or undefined'),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    approx: z.number().optional().describe('A number within 0.005 of this one'),
  })
  .describe('A matcher: every check given must hold');

/** An expected value: exact (a scalar) or a matcher object. */
export const Matcher = z.union([Scalar, MatcherObject]);

/** A handle (`@name`) or a literal id. */
const Ref = z.string().min(1);

/** Expectations on stored records of one type. */
export const RecordExpect = z.strictObject({
  type: z.string().min(1).describe('Object type, e.g. Order'),
  where: z.record(z.string(), Matcher).optional().describe('Only records whose fields match'),
  count: z
    .union([z.number().int().min(0), z.strictObject({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })])
    .optional()
    .describe('How many records match (exact, or min/max)'),
  fields: z.record(z.string(), Matcher).optional().describe('Every matching record has these field values (at least one must match)'),
});

/** Expectations on a cart's active checkout session. */
export const SessionExpect = z.strictObject({
  cart: Ref.optional().describe("The cart (default '@cart')"),
  none: z.boolean().optional().describe('true: the cart has no active session'),
  active: z.number().int().min(0).optional().describe('How many active (not archived) sessions the cart has'),
  State: Matcher.optional(),
  NextState: Matcher.optional(),
  IsProcessing: z.boolean().optional(),
  IsError: z.boolean().optional(),
  IsArchived: z.boolean().optional(),
});

/** Expectations on the history the runner observed for a cart's sessions. */
export const HistoryExpect = z.strictObject({
  cart: Ref.optional().describe("The cart (default '@cart')"),
  states: z.array(z.string()).min(1).describe('Session States observed in this order (other states may come between)'),
  exactly: z.boolean().optional().describe('true: exactly these states, nothing between'),
});

/** The interview statuses. */
const InterviewStatus = z.enum(['Paused', 'Waiting', 'Finished', 'Error']);
/** Navigate actions. */
const NavigateAction = z.enum(['NEXT', 'BACK', 'FINISH', 'PAUSE']);

/** Expectations on the interview a startInterview or navigate step left (its outputs go under `outputs`). */
export const InterviewExpect = z.strictObject({
  status: InterviewStatus.optional().describe('Paused at a screen, Waiting on a processing session, Finished, or Error'),
  screen: Matcher.optional().describe('The API name of the screen it shows (null: none)'),
  actions: z.array(NavigateAction).optional().describe("The screen's available actions, exactly (in any order)"),
  redirect: z
    .strictObject({ pageName: Matcher.optional(), recordId: Matcher.optional() })
    .optional()
    .describe('Where the finished flow sends the buyer (flowRedirect)'),
  error: Matcher.optional().describe("The interview's error message (status Error)"),
});

/** What must hold after a step. */
export const Expect = z.strictObject({
  success: z.boolean().optional().describe('The call succeeded (true) or failed (false)'),
  allowError: z
    .boolean()
    .optional()
    .describe(
      'true: the call may be refused with any declared error (never an unexpected one); the other expectations and the invariants still apply',
    ),
  error: z
    .strictObject({
      code: z.string().min(1).describe('errorCode, e.g. INVALID_OPERATION'),
      status: z.number().int().min(100).max(599).optional().describe('HTTP status'),
      message: Matcher.optional(),
      fields: z.array(z.string()).optional(),
    })
    .optional()
    .describe('The call failed with this error'),
  outputs: z
    .record(z.string(), Matcher)
    .optional()
    .describe("outputValues of a successful action call; a finished interview's output variables"),
  interview: InterviewExpect.optional().describe('The interview after a startInterview or navigate step'),
  run: z
    .strictObject({
      status: z.enum(['complete', 'error', 'stopped']).optional(),
      state: Matcher.optional(),
      order: z.boolean().optional().describe('true: the run produced an order'),
      errors: Matcher.optional().describe('Matched against the run errors joined with newlines'),
    })
    .optional()
    .describe('The outcome of a runCheckout step'),
  records: z.array(RecordExpect).optional(),
  session: SessionExpect.optional(),
  history: HistoryExpect.optional(),
  unchanged: z
    .boolean()
    .optional()
    .describe('true: the step changed no stored row of any object (a refused attack leaves every byte as it was)'),
  totals: z
    .strictObject({ cart: Ref.optional(), orderMatchesCart: z.boolean() })
    .optional()
    .describe("orderMatchesCart: the session's order totals equal the cart's computed totals"),
});

const common = {
  name: z.string().optional().describe('Shown in the output'),
  as: z.string().min(1).optional().describe("The acting user's handle (default 'buyer')"),
  expect: Expect.optional(),
};

/** The kinds of steps, each keyed by its own field. */
export const STEP_SCHEMAS = {
  invoke: z.strictObject({
    ...common,
    invoke: z.string().min(1).describe('Action API name, e.g. cartToOrderAction'),
    input: z.record(z.string(), z.unknown()).optional().describe('One input; @handles are resolved'),
    runAsync: z.boolean().optional().describe('Sets input.runAsync'),
    save: z.record(z.string(), z.string()).optional().describe('handle → output field to remember'),
  }),
  create: z.strictObject({
    ...common,
    create: z.string().min(1).describe('Object type'),
    fields: z.record(z.string(), z.unknown()),
    ref: z.string().min(1).optional().describe('Remember the new id under this handle'),
  }),
  update: z.strictObject({
    ...common,
    update: z.string().min(1).describe('Object type'),
    id: Ref,
    fields: z.record(z.string(), z.unknown()),
  }),
  delete: z.strictObject({ ...common, delete: z.string().min(1).describe('Object type'), id: Ref }),
  cartLines: z.strictObject({
    ...common,
    cartLines: z
      .strictObject({
        cart: Ref.optional(),
        add: z
          .array(
            z.strictObject({
              product: Ref,
              quantity: z.number(),
              group: Ref.optional(),
              price: z.number().optional(),
              ref: z.string().optional(),
            }),
          )
          .optional(),
        set: z.array(z.strictObject({ item: Ref, quantity: z.number() })).optional(),
        remove: z.array(Ref).optional(),
      })
      .describe("Changes the cart's product lines through record writes as the user"),
  }),
  wait: z.strictObject({ ...common, wait: z.union([z.literal('all'), Ref]).describe("'all', or an operation's handle or id") }),
  advanceClock: z.strictObject({
    ...common,
    advanceClock: z
      .string()
      .regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/)
      .describe("A duration: '90s', '30m', '2h', '1d'"),
    sweep: z.boolean().optional().describe('Then run the expiry sweep (engine.expireCheckouts)'),
  }),
  restart: z.strictObject({ ...common, restart: z.literal(true).describe('Close the engine and reopen it on the same storage') }),
  runCheckout: z.strictObject({
    ...common,
    runCheckout: z.strictObject({
      cart: Ref.optional(),
      answers: z
        .strictObject({
          deliveryAddress: z.record(z.string(), z.string().nullable()).optional(),
          deliveryMethodId: z.string().optional(),
          poNumber: z.string().optional(),
          paymentMethodId: z.string().optional(),
          billingAddress: z.record(z.string(), z.string().nullable()).optional(),
        })
        .optional(),
      stopAt: z.string().optional(),
      orderLifeCycleType: z.enum(['MANAGED', 'UNMANAGED']).optional(),
    }),
    save: z.record(z.string(), z.enum(['sessionId', 'orderId', 'orderSummaryId'])).optional(),
  }),
  integration: z.strictObject({
    ...common,
    integration: z.string().min(1).describe('Calculator name: inventory, pricing, promotions, shipping, taxes'),
    behaviour: z
      .enum(['fail', 'throw', 'hold', 'default'])
      .describe(
        'fail: FAILED with a message; throw: an exception; hold: the step waits (its operation stays Running) until the next integration step for this calculator; default: the built-in one again',
      ),
    message: z.string().optional(),
  }),
  find: z.strictObject({
    ...common,
    find: z.string().min(1).describe('Object type'),
    where: z.record(z.string(), Matcher).optional(),
    ref: z.string().min(1).describe('Remember the first matching record (oldest first) under this handle'),
  }),
  seed: z.strictObject({
    ...common,
    seed: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))).describe('More fixture records (type → list)'),
  }),
  startInterview: z.strictObject({
    ...common,
    startInterview: z
      .strictObject({
        flow: z.string().min(1).describe("The API name of a flow loaded from the scenario's flowSources"),
        inputs: z.record(z.string(), z.unknown()).optional().describe('Input variables by name; @handles are resolved'),
      })
      .describe('Starts a flow interview as the user and runs it to its first screen, wait, finish or error'),
    ref: z.string().min(1).optional().describe("Remember the interview id under this handle (default 'interview')"),
  }),
  navigate: z.strictObject({
    ...common,
    navigate: z
      .strictObject({
        interview: Ref.optional().describe("The interview (default '@interview')"),
        action: NavigateAction,
        answers: z
          .record(z.string(), z.record(z.string(), z.unknown()))
          .optional()
          .describe('Screen field name → output parameter → value; @handles are resolved'),
        waitMs: z.number().int().min(0).max(120_000).optional().describe('A Waiting interview: how long to keep re-checking (ms)'),
      })
      .describe('Navigates a flow interview as the user'),
  }),
  check: z.strictObject({ name: z.string().optional(), check: Expect.describe('Only expectations, no action') }),
} as const;

/** The step kinds, in the order the loader looks for them. */
export const STEP_KINDS = Object.keys(STEP_SCHEMAS) as (keyof typeof STEP_SCHEMAS)[];

/** Any step. */
export const Step = z.union([
  STEP_SCHEMAS.invoke,
  STEP_SCHEMAS.create,
  STEP_SCHEMAS.update,
  STEP_SCHEMAS.delete,
  STEP_SCHEMAS.cartLines,
  STEP_SCHEMAS.wait,
  STEP_SCHEMAS.advanceClock,
  STEP_SCHEMAS.restart,
  STEP_SCHEMAS.runCheckout,
  STEP_SCHEMAS.integration,
  STEP_SCHEMAS.find,
  STEP_SCHEMAS.seed,
  STEP_SCHEMAS.startInterview,
  STEP_SCHEMAS.navigate,
  STEP_SCHEMAS.check,
]);

/** The demo fixture's shape options. */
const DemoFixture = z.strictObject({
  lines: z.number().int().min(1).max(200).optional(),
  groups: z.number().int().min(1).max(20).optional(),
  charges: z.boolean().optional(),
  taxes: z.boolean().optional(),
  adjustments: z.boolean().optional(),
  sessionState: z.string().optional(),
  store: z.record(z.string(), z.unknown()).optional().describe('Extra WebStore fields, e.g. CheckoutTimeToLive'),
  session: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('Fields of the seeded session (with sessionState), e.g. NextState, IsProcessing'),
  records: z
    .record(z.string(), z.array(z.record(z.string(), z.unknown())))
    .optional()
    .describe('More records, seeded with the demo store (type → list)'),
});

/** Where the records come from. */
export const Fixture = z.union([
  z.literal('demo').describe('The demo store with a 3-line cart'),
  z.strictObject({ demo: DemoFixture }),
  z.strictObject({ file: z.string().min(1).describe('A JSON or YAML fixture file, relative to the scenario') }),
  z.strictObject({ records: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))).describe('Inline fixture: type → records') }),
]);

/** A whole scenario file. */
export const Scenario = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  tags: z.array(z.string()).optional(),
  fixture: Fixture.optional().describe("Default 'demo'"),
  flow: z.string().min(1).optional().describe("Flow id of the cart's store (default 'default')"),
  store: Ref.optional().describe("The store the flow applies to (default '@store')"),
  flowSources: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('Salesforce Flow metadata files or folders (relative to the scenario) loaded for startInterview steps'),
  clock: z.iso.datetime().optional().describe('Start time of the injected clock (default 2026-01-15T12:00:00Z)'),
  steps: z.array(Step).min(1),
});

/** Types of the parsed file. */
export type ScenarioDoc = z.infer<typeof Scenario>;
/** One expectation block. */
export type ExpectDoc = z.infer<typeof Expect>;
/** A matcher. */
export type MatcherDoc = z.infer<typeof Matcher>;
/** A step of any kind. */
export type StepDoc = { [K in keyof typeof STEP_SCHEMAS]: z.infer<(typeof STEP_SCHEMAS)[K]> }[keyof typeof STEP_SCHEMAS];

/** The JSON Schema of a scenario file, for editors (`# yaml-language-server: $schema=…`). */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Scenario, { target: 'draft-2020-12', unrepresentable: 'any', reused: 'ref' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://checkout-engine.local/scenario.schema.json', title: 'checkout-engine scenario' };
}
