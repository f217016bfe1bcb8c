/**
 * The typed flow model: what `parse.ts` makes of a `*.flow` / `*.flow-meta.xml` file and what
 * `load.ts` checks, `compile.ts` turns into a machine and `runtime.ts` runs. Only the subset the
 * runtime executes is modelled (docs/flow-runtime.md); display-only fields (locations, labels of
 * connectors, descriptions, processMetadataValues) are dropped by the parser.
 */
import { z } from 'zod';

/** A value element (`<value>`, `<rightValue>`): a literal of one kind, or a reference. Absent = null. */
export const FlowValueSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('string'), value: z.string() }),
  z.object({ kind: z.literal('number'), value: z.number() }),
  z.object({ kind: z.literal('boolean'), value: z.boolean() }),
  z.object({ kind: z.literal('date'), value: z.string() }),
  z.object({ kind: z.literal('dateTime'), value: z.string() }),
  z.object({ kind: z.literal('reference'), ref: z.string() }),
]);
export type FlowValue = z.infer<typeof FlowValueSchema>;
const Value = FlowValueSchema.nullable();

export const CONDITION_OPERATORS = [
  'EqualTo',
  'NotEqualTo',
  'GreaterThan',
  'GreaterThanOrEqualTo',
  'LessThan',
  'LessThanOrEqualTo',
  'StartsWith',
  'EndsWith',
  'Contains',
  'IsNull',
  'IsBlank',
  'IsEmpty',
  'In',
  'NotIn',
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export const ASSIGNMENT_OPERATORS = [
  'Assign',
  'Add',
  'Subtract',
  'AddAtStart',
  'AddItem',
  'AssignCount',
  'RemoveFirst',
  'RemoveAll',
  'RemoveAfterFirst',
  'RemoveBeforeFirst',
  'RemovePosition',
  'RemoveUncommon',
] as const;
export type AssignmentOperator = (typeof ASSIGNMENT_OPERATORS)[number];

/** Record filter operators (Get/Update/Delete Records). */
export const FILTER_OPERATORS = [
  'EqualTo',
  'NotEqualTo',
  'GreaterThan',
  'GreaterThanOrEqualTo',
  'LessThan',
  'LessThanOrEqualTo',
  'StartsWith',
  'EndsWith',
  'Contains',
  'IsNull',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export const ConditionSchema = z.object({ left: z.string(), operator: z.enum(CONDITION_OPERATORS), right: Value });
export type Condition = z.infer<typeof ConditionSchema>;

/** `and`, `or`, or custom logic such as `1 AND (2 OR 3)`. */
export const ConditionSetSchema = z.object({ logic: z.string(), conditions: z.array(ConditionSchema) });
export type ConditionSet = z.infer<typeof ConditionSetSchema>;

const Connector = z.string().nullable();
const Param = z.object({ name: z.string(), value: Value });
const OutputParam = z.object({ name: z.string(), target: z.string() });
const FilterSchema = z.object({ field: z.string(), operator: z.enum(FILTER_OPERATORS), value: Value });
export type FlowFilter = z.infer<typeof FilterSchema>;
const FieldValue = z.object({ field: z.string(), value: Value });
const FieldTarget = z.object({ field: z.string(), target: z.string() });

export const VariableSchema = z.object({
  name: z.string(),
  dataType: z.string(),
  isCollection: z.boolean(),
  objectType: z.string().nullable(),
  apexClass: z.string().nullable(),
  isInput: z.boolean(),
  isOutput: z.boolean(),
  value: Value,
});
export type FlowVariable = z.infer<typeof VariableSchema>;

export const ConstantSchema = z.object({ name: z.string(), dataType: z.string(), value: Value });
export type FlowConstant = z.infer<typeof ConstantSchema>;

export const TextTemplateSchema = z.object({ name: z.string(), text: z.string() });
export type FlowTextTemplate = z.infer<typeof TextTemplateSchema>;

/** A screen component (fields nest: a RegionContainer holds Regions which hold fields). */
export interface ScreenField {
  name: string;
  fieldType: string;
  /** ComponentInstance: the component (`forceCommunity:commerceScreenWait`). */
  extensionName: string | null;
  /** DisplayText: the text with merge fields. */
  fieldText: string | null;
  /** InputField etc.: the declared data type. */
  dataType: string | null;
  inputs: Array<{ name: string; value: FlowValue | null }>;
  /** Explicit outputs (storeOutputAutomatically false): parameter → target reference. */
  outputs: Array<{ name: string; target: string }>;
  storeOutputAutomatically: boolean;
  inputsOnNextNavToAssocScrn: 'UseStoredValues' | 'ResetValues';
  isRequired: boolean;
  /** Shown only when this holds (absent = always shown). */
  visibility: ConditionSet | null;
  fields: ScreenField[];
}
export const ScreenFieldSchema: z.ZodType<ScreenField> = z.object({
  name: z.string(),
  fieldType: z.string(),
  extensionName: z.string().nullable(),
  fieldText: z.string().nullable(),
  dataType: z.string().nullable(),
  inputs: z.array(Param),
  outputs: z.array(OutputParam),
  storeOutputAutomatically: z.boolean(),
  inputsOnNextNavToAssocScrn: z.enum(['UseStoredValues', 'ResetValues']),
  isRequired: z.boolean(),
  visibility: ConditionSetSchema.nullable(),
  get fields() {
    return z.array(ScreenFieldSchema);
  },
});

const base = { name: z.string(), label: z.string() };

export const DecisionSchema = z.object({
  ...base,
  kind: z.literal('decision'),
  rules: z.array(
    z.object({ name: z.string(), label: z.string(), logic: z.string(), conditions: z.array(ConditionSchema), connector: Connector }),
  ),
  defaultConnector: Connector,
});
export const AssignmentSchema = z.object({
  ...base,
  kind: z.literal('assignment'),
  items: z.array(z.object({ target: z.string(), operator: z.enum(ASSIGNMENT_OPERATORS), value: Value })),
  connector: Connector,
});
export const ScreenSchema = z.object({
  ...base,
  kind: z.literal('screen'),
  allowBack: z.boolean(),
  allowFinish: z.boolean(),
  allowPause: z.boolean(),
  showFooter: z.boolean(),
  fields: z.array(ScreenFieldSchema),
  connector: Connector,
});
export const SubflowSchema = z.object({
  ...base,
  kind: z.literal('subflow'),
  flowName: z.string(),
  inputs: z.array(Param),
  outputs: z.array(OutputParam),
  storeOutputAutomatically: z.boolean(),
  connector: Connector,
});
const faultable = { connector: Connector, faultConnector: Connector };
export const ActionCallSchema = z.object({
  ...base,
  kind: z.literal('actionCall'),
  actionType: z.string(),
  actionName: z.string(),
  inputs: z.array(Param),
  outputs: z.array(OutputParam),
  storeOutputAutomatically: z.boolean(),
  ...faultable,
});
export const RecordLookupSchema = z.object({
  ...base,
  kind: z.literal('recordLookup'),
  object: z.string(),
  filters: z.array(FilterSchema),
  filterLogic: z.string(),
  queriedFields: z.array(z.string()).nullable(),
  sortField: z.string().nullable(),
  sortOrder: z.enum(['Asc', 'Desc']).nullable(),
  limit: z.number().nullable(),
  getFirstRecordOnly: z.boolean(),
  storeOutputAutomatically: z.boolean(),
  outputReference: z.string().nullable(),
  outputAssignments: z.array(FieldTarget),
  assignNullValuesIfNoRecordsFound: z.boolean(),
  ...faultable,
});
export const RecordUpdateSchema = z.object({
  ...base,
  kind: z.literal('recordUpdate'),
  inputReference: z.string().nullable(),
  object: z.string().nullable(),
  filters: z.array(FilterSchema),
  filterLogic: z.string(),
  inputAssignments: z.array(FieldValue),
  ...faultable,
});
export const RecordCreateSchema = z.object({
  ...base,
  kind: z.literal('recordCreate'),
  inputReference: z.string().nullable(),
  object: z.string().nullable(),
  inputAssignments: z.array(FieldValue),
  assignRecordIdToReference: z.string().nullable(),
  storeOutputAutomatically: z.boolean(),
  ...faultable,
});
export const RecordDeleteSchema = z.object({
  ...base,
  kind: z.literal('recordDelete'),
  inputReference: z.string().nullable(),
  object: z.string().nullable(),
  filters: z.array(FilterSchema),
  filterLogic: z.string(),
  ...faultable,
});
export const LoopSchema = z.object({
  ...base,
  kind: z.literal('loop'),
  collectionReference: z.string(),
  /** Absent: the loop name itself is the current item. */
  assignNextValueToReference: z.string().nullable(),
  iterationOrder: z.enum(['Asc', 'Desc']),
  nextValueConnector: Connector,
  noMoreValuesConnector: Connector,
});

export const FlowElementSchema = z.discriminatedUnion('kind', [
  DecisionSchema,
  AssignmentSchema,
  ScreenSchema,
  SubflowSchema,
  ActionCallSchema,
  RecordLookupSchema,
  RecordUpdateSchema,
  RecordCreateSchema,
  RecordDeleteSchema,
  LoopSchema,
]);
export type FlowElement = z.infer<typeof FlowElementSchema>;
export type ElementKind = FlowElement['kind'];
export type DecisionElement = z.infer<typeof DecisionSchema>;
export type AssignmentElement = z.infer<typeof AssignmentSchema>;
export type ScreenElement = z.infer<typeof ScreenSchema>;
export type SubflowElement = z.infer<typeof SubflowSchema>;
export type ActionCallElement = z.infer<typeof ActionCallSchema>;
export type RecordLookupElement = z.infer<typeof RecordLookupSchema>;
export type RecordUpdateElement = z.infer<typeof RecordUpdateSchema>;
export type RecordCreateElement = z.infer<typeof RecordCreateSchema>;
export type RecordDeleteElement = z.infer<typeof RecordDeleteSchema>;
export type LoopElement = z.infer<typeof LoopSchema>;
/** Elements that may fail and so have a `faultConnector`. */
export type FaultableElement = ActionCallElement | RecordLookupElement | RecordUpdateElement | RecordCreateElement | RecordDeleteElement;

export const RUN_MODES = ['DefaultMode', 'SystemModeWithSharing', 'SystemModeWithoutSharing'] as const;

export const FlowDefinitionSchema = z.object({
  apiName: z.string(),
  label: z.string(),
  apiVersion: z.string().nullable(),
  processType: z.string().nullable(),
  runInMode: z.enum(RUN_MODES),
  status: z.string().nullable(),
  /** The first element (null: the flow does nothing). */
  start: z.string().nullable(),
  variables: z.array(VariableSchema),
  constants: z.array(ConstantSchema),
  textTemplates: z.array(TextTemplateSchema),
  /** Elements by API name. */
  elements: z.record(z.string(), FlowElementSchema),
  /** The file it was read from (or `builtin:<name>`). */
  source: z.string(),
});
export type FlowDefinition = z.infer<typeof FlowDefinitionSchema>;

/** Every field of a screen, nested region fields included, depth first in file order. */
export function allScreenFields(fields: ScreenField[]): ScreenField[] {
  const out: ScreenField[] = [];
  for (const f of fields) {
    out.push(f);
    out.push(...allScreenFields(f.fields));
  }
  return out;
}

/** The connectors leaving an element, with the kind of each (for diagrams and checks). */
export function elementConnectors(el: FlowElement): Array<{ kind: string; target: string }> {
  const out: Array<{ kind: string; target: string | null }> = [];
  switch (el.kind) {
    case 'decision':
      for (const r of el.rules) out.push({ kind: `rule:${r.name}`, target: r.connector });
      out.push({ kind: 'default', target: el.defaultConnector });
      break;
    case 'loop':
      out.push({ kind: 'next', target: el.nextValueConnector }, { kind: 'noMoreValues', target: el.noMoreValuesConnector });
      break;
    case 'actionCall':
    case 'recordLookup':
    case 'recordUpdate':
    case 'recordCreate':
    case 'recordDelete':
      out.push({ kind: 'connector', target: el.connector }, { kind: 'fault', target: el.faultConnector });
      break;
    default:
      out.push({ kind: 'connector', target: el.connector });
  }
  return out.filter((c): c is { kind: string; target: string } => c.target !== null);
}

/** Built-in screen components the runtime itself handles. */
export const WAIT_COMPONENT = 'forceCommunity:commerceScreenWait';
export const REDIRECT_COMPONENT = 'forceCommunity:flowRedirect';
/**
 * The quickstart's navigation-buttons component (a screen without a footer): the button the buyer
 * presses is the navigation itself, so its `selectedAction` output is the navigate's action unless
 * the answer names one (`{ NavButtons: { selectedAction: 'BACK' } }` with NEXT goes back by the flow's own decision).
 */
export const NAVIGATION_BUTTONS_COMPONENT = 'c:navigationButtons';
