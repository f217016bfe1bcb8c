/**
 * Flow metadata XML → FlowDefinition. Accepts Metadata API (`X.flow`) and DX source
 * (`X.flow-meta.xml`) files. Everything outside the supported subset (docs/flow-runtime.md) is a
 * load issue naming the file and the element: never a silent skip.
 */
import { XMLParser } from 'fast-xml-parser';
import type { FlowLoadIssue } from './contract.js';
import {
  ASSIGNMENT_OPERATORS,
  CONDITION_OPERATORS,
  FILTER_OPERATORS,
  FlowDefinitionSchema,
  RUN_MODES,
  type ConditionSet,
  type FlowDefinition,
  type FlowElement,
  type FlowValue,
  type ScreenField,
} from './metadata.js';

/** A parsed XML node: every child tag is an array (repeated tags), text nodes are strings. */
type Node = { [tag: string]: Array<Node | string> };

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
  isArray: () => true,
});

/** Element kinds that exist in Flow metadata but that this runtime refuses, with the reason. */
const REFUSED_KINDS: Record<string, string> = {
  apexPluginCalls: 'Apex plug-in calls are not supported (use an invocable action)',
  collectionProcessors: 'collection filter/sort elements are not supported',
  customErrors: 'custom error elements are not supported',
  transforms: 'transform elements are not supported',
  waits: 'wait elements are not supported (an offline interview cannot park on a time or platform event)',
  recordRollbacks: 'roll back records elements are not supported',
  steps: 'steps (legacy Cloud Flow Designer) are not supported',
  orchestratedStages: 'orchestration stages are not supported',
  formulas: 'formulas are not supported (the formula language is outside the supported subset)',
  choices: 'choices are not supported',
  dynamicChoiceSets: 'dynamic choice sets are not supported',
  stages: 'stages are not supported',
  actionCallsTimeout: 'timeout connectors are not supported',
};

/** Top-level tags read or deliberately ignored (display-only or recorded elsewhere). */
const TOP_LEVEL_KNOWN = new Set([
  'apiVersion',
  'description',
  'interviewLabel',
  'isTemplate',
  'label',
  'processMetadataValues',
  'processType',
  'runInMode',
  'status',
  'start',
  'startElementReference',
  'environments',
  'fullName',
  'isAdditionalPermissionRequiredToRun',
  'areMetricsLoggedToDataCloud',
  'sourceTemplate',
  'timeZoneSidKey',
  'triggerOrder',
  'migratedFromWorkflowRuleName',
  'decisions',
  'assignments',
  'screens',
  'subflows',
  'actionCalls',
  'recordLookups',
  'recordUpdates',
  'recordCreates',
  'recordDeletes',
  'loops',
  'variables',
  'constants',
  'textTemplates',
]);

/** Globals a reference may name. */
const GLOBALS = new Set([
  '$Flow.FaultMessage',
  '$Flow.CurrentDateTime',
  '$Flow.CurrentDate',
  '$GlobalConstant.True',
  '$GlobalConstant.False',
  '$GlobalConstant.EmptyString',
  '$User.Id',
]);

/** The flow API name a file holds: its base name without `.flow` / `.flow-meta.xml`. */
export function flowNameOfFile(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.flow-meta\.xml$/i, '').replace(/\.flow$/i, '');
}

/** Whether a file name is a flow file. */
export function isFlowFile(file: string): boolean {
  return /\.flow$|\.flow-meta\.xml$/i.test(file);
}

/**
 * Parse one flow file's XML (an unsupported operator is reported and read as a placeholder, so the
 * rest of the flow is still checked). `file` names it in issues and gives the API name (its base name) unless
 * `apiName` is passed (built-ins given as strings). A definition is returned whenever the XML is a
 * Flow at all; any issue means it must not run.
 */
export function parseFlowXml(
  xml: string,
  file: string,
  apiName: string = flowNameOfFile(file),
): { definition: FlowDefinition | null; issues: FlowLoadIssue[] } {
  const issues: FlowLoadIssue[] = [];
  const issue = (message: string, element?: string) => issues.push({ file, flow: apiName, ...(element ? { element } : {}), message });
  let doc: Node;
  try {
    doc = dropWhitespace(parser.parse(xml, true)) as Node;
  } catch (err) {
    issues.push({ file, flow: apiName, message: `not well-formed XML: ${(err as Error).message}` });
    return { definition: null, issues };
  }
  const rootList = doc.Flow;
  const root = rootList && typeof rootList[0] === 'object' ? (rootList[0] as Node) : null;
  if (!root) {
    issues.push({ file, flow: apiName, message: 'the root element is not <Flow>' });
    return { definition: null, issues };
  }

  /** A checked reference (`Name`, `Name.Field`, a supported global). */
  const ref = (r: string, element: string): string => {
    if (r.startsWith('$')) {
      if (!GLOBALS.has(r)) issue(`the global reference '${r}' is not supported (supported: ${[...GLOBALS].join(', ')})`, element);
    } else if (r.split('.').length > 2) {
      issue(`the cross-object path '${r}' is not supported (read the related record with Get Records)`, element);
    } else if (!/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$/.test(r)) {
      issue(`'${r}' is not a valid reference`, element);
    }
    return r;
  };
  const value = (holder: Node, tag: string, element: string): FlowValue | null => {
    const v = one(holder, tag);
    if (v === null || typeof v === 'string') return null;
    const kinds = Object.keys(v);
    if (kinds.length !== 1) {
      if (kinds.length > 1) issue(`a <${tag}> has more than one value (${kinds.join(', ')})`, element);
      return null;
    }
    const kind = kinds[0];
    const raw = (kind === 'stringValue' ? rawText(v, kind) : text(v, kind)) ?? '';
    switch (kind) {
      case 'stringValue':
        return { kind: 'string', value: raw };
      case 'numberValue': {
        const n = Number(raw);
        if (raw.trim() === '' || !Number.isFinite(n)) issue(`'${raw}' is not a number`, element);
        return { kind: 'number', value: Number.isFinite(n) ? n : 0 };
      }
      case 'booleanValue':
        if (raw !== 'true' && raw !== 'false') issue(`'${raw}' is not a boolean (true or false)`, element);
        return { kind: 'boolean', value: raw === 'true' };
      case 'dateValue':
        if (!/^\d{4}-\d{2}-\d{2}$/.test(raw)) issue(`'${raw}' is not a date (YYYY-MM-DD)`, element);
        return { kind: 'date', value: raw };
      case 'dateTimeValue':
        if (Number.isNaN(Date.parse(raw))) issue(`'${raw}' is not a date-time`, element);
        return { kind: 'dateTime', value: raw };
      case 'elementReference':
        return { kind: 'reference', ref: ref(raw, element) };
      default:
        issue(
          `the value kind <${kind}> is not supported (supported: stringValue, numberValue, booleanValue, dateValue, dateTimeValue, elementReference)`,
          element,
        );
        return null;
    }
  };
  const conditions = (holder: Node, element: string, logicTag = 'conditionLogic'): ConditionSet => {
    const logic = text(holder, logicTag) ?? 'and';
    const list = nodes(holder, 'conditions').map((c) => {
      const operator = text(c, 'operator') ?? '';
      if (!(CONDITION_OPERATORS as readonly string[]).includes(operator))
        issue(`the condition operator '${operator}' is not supported (supported: ${CONDITION_OPERATORS.join(', ')})`, element);
      return {
        left: ref(text(c, 'leftValueReference') ?? '', element),
        operator: (CONDITION_OPERATORS as readonly string[]).includes(operator)
          ? (operator as (typeof CONDITION_OPERATORS)[number])
          : 'EqualTo',
        right: value(c, 'rightValue', element),
      };
    });
    checkLogic(logic, list.length, element, issue);
    return { logic, conditions: list };
  };
  const filters = (holder: Node, element: string) =>
    nodes(holder, 'filters').map((f) => {
      const operator = text(f, 'operator') ?? '';
      if (!(FILTER_OPERATORS as readonly string[]).includes(operator))
        issue(`the filter operator '${operator}' is not supported (supported: ${FILTER_OPERATORS.join(', ')})`, element);
      const field = text(f, 'field') ?? '';
      if (field.includes('.')) issue(`the filter field '${field}' is a cross-object path, which is not supported`, element);
      return {
        field,
        operator: (FILTER_OPERATORS as readonly string[]).includes(operator) ? (operator as (typeof FILTER_OPERATORS)[number]) : 'EqualTo',
        value: value(f, 'value', element),
      };
    });
  const params = (holder: Node, tag: string, element: string) =>
    nodes(holder, tag).map((p) => ({ name: text(p, 'name') ?? '', value: value(p, 'value', element) }));
  const outParams = (holder: Node, tag: string, element: string) =>
    nodes(holder, tag).map((p) => ({ name: text(p, 'name') ?? '', target: ref(text(p, 'assignToReference') ?? '', element) }));
  const connector = (holder: Node, tag: string): string | null => {
    const c = one(holder, tag);
    return c && typeof c === 'object' ? (text(c, 'targetReference') ?? null) : null;
  };
  const optRef = (holder: Node, tag: string, element: string) => {
    const r = text(holder, tag);
    return r ? ref(r, element) : null;
  };
  const screenField = (f: Node, screen: string): ScreenField => {
    const name = text(f, 'name') ?? '';
    const where = `${screen}.${name}`;
    const mode = text(f, 'inputsOnNextNavToAssocScrn') ?? 'UseStoredValues';
    if (mode !== 'UseStoredValues' && mode !== 'ResetValues')
      issue(`inputsOnNextNavToAssocScrn '${mode}' is not UseStoredValues or ResetValues`, where);
    const vis = one(f, 'visibilityRule');
    return {
      name,
      fieldType: text(f, 'fieldType') ?? '',
      extensionName: text(f, 'extensionName'),
      fieldText: text(f, 'fieldText'),
      dataType: text(f, 'dataType'),
      inputs: params(f, 'inputParameters', where),
      outputs: outParams(f, 'outputParameters', where),
      storeOutputAutomatically: bool(f, 'storeOutputAutomatically', false),
      inputsOnNextNavToAssocScrn: mode === 'ResetValues' ? 'ResetValues' : 'UseStoredValues',
      isRequired: bool(f, 'isRequired', false),
      visibility: vis && typeof vis === 'object' ? conditions(vis, where) : null,
      fields: nodes(f, 'fields').map((c) => screenField(c, screen)),
    };
  };

  const elements: Record<string, FlowElement> = {};
  const names = new Set<string>();
  const claim = (name: string, kind: string) => {
    if (!name) issue(`a <${kind}> has no <name>`);
    else if (names.has(name)) issue(`the name '${name}' is used twice (elements and resources share one namespace)`, name);
    names.add(name);
  };
  const add = (el: FlowElement) => {
    claim(el.name, el.kind);
    elements[el.name] = el;
  };
  const label = (n: Node) => text(n, 'label') ?? text(n, 'name') ?? '';

  for (const tag of Object.keys(root)) {
    if (REFUSED_KINDS[tag]) {
      for (const n of nodes(root, tag)) issue(`${REFUSED_KINDS[tag]}`, text(n, 'name') ?? tag);
      if (nodes(root, tag).length === 0) issue(REFUSED_KINDS[tag], tag);
    } else if (!TOP_LEVEL_KNOWN.has(tag)) {
      const structured = root[tag].some((v) => typeof v === 'object');
      if (structured) issue(`the element kind <${tag}> is not supported`, tag);
    }
  }

  for (const d of nodes(root, 'decisions')) {
    const name = text(d, 'name') ?? '';
    const rules = nodes(d, 'rules').map((r) => {
      const rname = text(r, 'name') ?? '';
      const set = conditions(r, `${name}.${rname}`);
      if (set.conditions.length === 0) issue(`the outcome '${rname}' has no conditions`, name);
      return { name: rname, label: label(r), logic: set.logic, conditions: set.conditions, connector: connector(r, 'connector') };
    });
    add({ kind: 'decision', name, label: label(d), rules, defaultConnector: connector(d, 'defaultConnector') });
  }
  for (const a of nodes(root, 'assignments')) {
    const name = text(a, 'name') ?? '';
    const items = nodes(a, 'assignmentItems').map((i) => {
      const operator = text(i, 'operator') ?? '';
      if (!(ASSIGNMENT_OPERATORS as readonly string[]).includes(operator))
        issue(`the assignment operator '${operator}' is not supported (supported: ${ASSIGNMENT_OPERATORS.join(', ')})`, name);
      return {
        target: ref(text(i, 'assignToReference') ?? '', name),
        operator: (ASSIGNMENT_OPERATORS as readonly string[]).includes(operator)
          ? (operator as (typeof ASSIGNMENT_OPERATORS)[number])
          : 'Assign',
        value: value(i, 'value', name),
      };
    });
    add({ kind: 'assignment', name, label: label(a), items, connector: connector(a, 'connector') });
  }
  for (const s of nodes(root, 'screens')) {
    const name = text(s, 'name') ?? '';
    add({
      kind: 'screen',
      name,
      label: label(s),
      allowBack: bool(s, 'allowBack', true),
      allowFinish: bool(s, 'allowFinish', true),
      allowPause: bool(s, 'allowPause', true),
      showFooter: bool(s, 'showFooter', true),
      fields: nodes(s, 'fields').map((f) => screenField(f, name)),
      connector: connector(s, 'connector'),
    });
  }
  for (const s of nodes(root, 'subflows')) {
    const name = text(s, 'name') ?? '';
    add({
      kind: 'subflow',
      name,
      label: label(s),
      flowName: text(s, 'flowName') ?? '',
      inputs: params(s, 'inputAssignments', name),
      outputs: outParams(s, 'outputAssignments', name),
      storeOutputAutomatically: bool(s, 'storeOutputAutomatically', false),
      connector: connector(s, 'connector'),
    });
  }
  for (const a of nodes(root, 'actionCalls')) {
    const name = text(a, 'name') ?? '';
    if (one(a, 'timeoutConnector')) issue('timeout connectors (asynchronous actions) are not supported', name);
    add({
      kind: 'actionCall',
      name,
      label: label(a),
      actionType: text(a, 'actionType') ?? '',
      actionName: text(a, 'actionName') ?? '',
      inputs: params(a, 'inputParameters', name),
      outputs: outParams(a, 'outputParameters', name),
      storeOutputAutomatically: bool(a, 'storeOutputAutomatically', false),
      connector: connector(a, 'connector'),
      faultConnector: connector(a, 'faultConnector'),
    });
  }
  for (const l of nodes(root, 'recordLookups')) {
    const name = text(l, 'name') ?? '';
    const sortOrder = text(l, 'sortOrder');
    if (sortOrder && sortOrder !== 'Asc' && sortOrder !== 'Desc') issue(`sortOrder '${sortOrder}' is not Asc or Desc`, name);
    const limitText = text(l, 'limit');
    const queried = list(l, 'queriedFields').filter((q): q is string => typeof q === 'string');
    for (const q of queried) if (q.includes('.')) issue(`the queried field '${q}' is a cross-object path, which is not supported`, name);
    add({
      kind: 'recordLookup',
      name,
      label: label(l),
      object: text(l, 'object') ?? '',
      filters: filters(l, name),
      filterLogic: text(l, 'filterLogic') ?? 'and',
      queriedFields: queried.length ? queried : null,
      sortField: text(l, 'sortField'),
      sortOrder: sortOrder === 'Asc' || sortOrder === 'Desc' ? sortOrder : null,
      limit: limitText ? Number(limitText) : null,
      getFirstRecordOnly: bool(l, 'getFirstRecordOnly', false),
      storeOutputAutomatically: bool(l, 'storeOutputAutomatically', false),
      outputReference: optRef(l, 'outputReference', name),
      outputAssignments: nodes(l, 'outputAssignments').map((o) => ({
        field: text(o, 'field') ?? '',
        target: ref(text(o, 'assignToReference') ?? '', name),
      })),
      assignNullValuesIfNoRecordsFound: bool(l, 'assignNullValuesIfNoRecordsFound', false),
      connector: connector(l, 'connector'),
      faultConnector: connector(l, 'faultConnector'),
    });
  }
  const fieldValues = (n: Node, name: string) =>
    nodes(n, 'inputAssignments').map((i) => ({ field: text(i, 'field') ?? '', value: value(i, 'value', name) }));
  for (const u of nodes(root, 'recordUpdates')) {
    const name = text(u, 'name') ?? '';
    add({
      kind: 'recordUpdate',
      name,
      label: label(u),
      inputReference: optRef(u, 'inputReference', name),
      object: text(u, 'object'),
      filters: filters(u, name),
      filterLogic: text(u, 'filterLogic') ?? 'and',
      inputAssignments: fieldValues(u, name),
      connector: connector(u, 'connector'),
      faultConnector: connector(u, 'faultConnector'),
    });
  }
  for (const c of nodes(root, 'recordCreates')) {
    const name = text(c, 'name') ?? '';
    if (bool(c, 'doesUpsert', false)) issue('upsert (doesUpsert) is not supported', name);
    add({
      kind: 'recordCreate',
      name,
      label: label(c),
      inputReference: optRef(c, 'inputReference', name),
      object: text(c, 'object'),
      inputAssignments: fieldValues(c, name),
      assignRecordIdToReference: optRef(c, 'assignRecordIdToReference', name),
      storeOutputAutomatically: bool(c, 'storeOutputAutomatically', false),
      connector: connector(c, 'connector'),
      faultConnector: connector(c, 'faultConnector'),
    });
  }
  for (const d of nodes(root, 'recordDeletes')) {
    const name = text(d, 'name') ?? '';
    add({
      kind: 'recordDelete',
      name,
      label: label(d),
      inputReference: optRef(d, 'inputReference', name),
      object: text(d, 'object'),
      filters: filters(d, name),
      filterLogic: text(d, 'filterLogic') ?? 'and',
      connector: connector(d, 'connector'),
      faultConnector: connector(d, 'faultConnector'),
    });
  }
  for (const l of nodes(root, 'loops')) {
    const name = text(l, 'name') ?? '';
    const order = text(l, 'iterationOrder') ?? 'Asc';
    if (order !== 'Asc' && order !== 'Desc') issue(`iterationOrder '${order}' is not Asc or Desc`, name);
    add({
      kind: 'loop',
      name,
      label: label(l),
      collectionReference: ref(text(l, 'collectionReference') ?? '', name),
      assignNextValueToReference: optRef(l, 'assignNextValueToReference', name),
      iterationOrder: order === 'Desc' ? 'Desc' : 'Asc',
      nextValueConnector: connector(l, 'nextValueConnector'),
      noMoreValuesConnector: connector(l, 'noMoreValuesConnector'),
    });
  }

  const variables = nodes(root, 'variables').map((v) => {
    const name = text(v, 'name') ?? '';
    claim(name, 'variables');
    return {
      name,
      dataType: text(v, 'dataType') ?? 'String',
      isCollection: bool(v, 'isCollection', false),
      objectType: text(v, 'objectType'),
      apexClass: text(v, 'apexClass'),
      isInput: bool(v, 'isInput', false),
      isOutput: bool(v, 'isOutput', false),
      value: value(v, 'value', name),
    };
  });
  const constants = nodes(root, 'constants').map((c) => {
    const name = text(c, 'name') ?? '';
    claim(name, 'constants');
    const v = value(c, 'value', name);
    if (v?.kind === 'reference' && v.ref !== '$GlobalConstant.EmptyString')
      issue(`a constant's value can't be a reference ('${v.ref}')`, name);
    return { name, dataType: text(c, 'dataType') ?? 'String', value: v };
  });
  const textTemplates = nodes(root, 'textTemplates').map((t) => {
    const name = text(t, 'name') ?? '';
    claim(name, 'textTemplates');
    return { name, text: text(t, 'text') ?? '' };
  });

  const startNode = one(root, 'start');
  const start =
    (startNode && typeof startNode === 'object' ? connector(startNode, 'connector') : null) ?? text(root, 'startElementReference');
  const runInMode = text(root, 'runInMode') ?? 'DefaultMode';
  if (!(RUN_MODES as readonly string[]).includes(runInMode)) issue(`runInMode '${runInMode}' is not one of ${RUN_MODES.join(', ')}`);

  const candidate = {
    apiName,
    label: text(root, 'label') ?? apiName,
    apiVersion: text(root, 'apiVersion'),
    processType: text(root, 'processType'),
    runInMode: (RUN_MODES as readonly string[]).includes(runInMode) ? runInMode : 'DefaultMode',
    status: text(root, 'status'),
    start,
    variables,
    constants,
    textTemplates,
    elements,
    source: file,
  };
  const checked = FlowDefinitionSchema.safeParse(candidate);
  if (!checked.success) {
    for (const i of checked.error.issues) issue(`invalid flow model at ${i.path.join('.')}: ${i.message}`);
    return { definition: null, issues };
  }
  return { definition: checked.data, issues };
}

/** Checks `and` / `or` / custom logic (1-based indices within the conditions). */
function checkLogic(logic: string, count: number, element: string, issue: (m: string, e?: string) => void) {
  const l = logic.trim().toLowerCase();
  if (l === 'and' || l === 'or') return;
  const tokens = logic.match(/\d+|AND|OR|NOT|\(|\)|\S+/gi) ?? [];
  for (const t of tokens) {
    if (/^\d+$/.test(t)) {
      const n = Number(t);
      if (n < 1 || n > count) issue(`the condition logic '${logic}' names condition ${n}, but there are ${count}`, element);
    } else if (!/^(AND|OR|NOT|\(|\))$/i.test(t)) issue(`the condition logic '${logic}' has an unknown token '${t}'`, element);
  }
}

/** Values keep their spaces (`<stringValue>Cart </stringValue>`); whitespace between tags is dropped. */
function dropWhitespace(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropWhitespace);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== '#text') out[k] = dropWhitespace(x);
    return out;
  }
  return v;
}

function one(n: Node, tag: string): Node | string | null {
  const v = n[tag];
  return v && v.length ? v[0] : null;
}
function list(n: Node, tag: string): Array<Node | string> {
  return n[tag] ?? [];
}
function nodes(n: Node, tag: string): Node[] {
  return list(n, tag).map((v) => (typeof v === 'string' ? {} : v));
}
function text(n: Node, tag: string): string | null {
  return rawText(n, tag)?.trim() ?? null;
}
function rawText(n: Node, tag: string): string | null {
  const v = one(n, tag);
  if (v === null) return null;
  if (typeof v === 'string') return v;
  // An element with neither text nor children (`<stringValue></stringValue>`) parses as ''.
  return Object.keys(v).length === 0 ? '' : null;
}
function bool(n: Node, tag: string, dflt: boolean): boolean {
  const v = text(n, tag);
  return v === null ? dflt : v === 'true';
}
