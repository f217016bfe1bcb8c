/**
 * Loading flows: files or folders (recursive) of `*.flow` / `*.flow-meta.xml`, plus built-in
 * definitions, each checked whole: connectors and references resolve, subflows exist with matching
 * input and output names, actions and components have stand-ins in the registry, no subflow calls
 * itself through a chain, no API name twice. Every problem is a FlowLoadIssue naming file and element.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import type { FlowLoadIssue, FlowRegistry } from './contract.js';
import { allScreenFields, elementConnectors, REDIRECT_COMPONENT, WAIT_COMPONENT, type FlowDefinition, type FlowValue } from './metadata.js';
import { isFlowFile, parseFlowXml } from './parse.js';
import { mergeRefs } from './values.js';

export { parseFlowXml } from './parse.js';

/** One reference a flow makes: where, and whether it is written. */
export interface FlowReference {
  ref: string;
  element: string;
  write: boolean;
}

/** Screen field types the runtime shows. */
const FIELD_TYPES = new Set(['DisplayText', 'ComponentInstance', 'InputField', 'RegionContainer', 'Region']);

/** Every reference a flow makes (merge fields in text included), in element order. */
export function flowReferences(def: FlowDefinition): FlowReference[] {
  const out: FlowReference[] = [];
  const r = (ref: string | null, element: string, write = false) => {
    if (ref) out.push({ ref, element, write });
  };
  const v = (val: FlowValue | null, element: string) => {
    if (val?.kind === 'reference') r(val.ref, element);
  };
  const text = (t: string | null, element: string) => {
    if (t) for (const m of mergeRefs(t)) r(m, element);
  };
  for (const variable of def.variables) v(variable.value, variable.name);
  for (const t of def.textTemplates) text(t.text, t.name);
  for (const e of Object.values(def.elements)) {
    switch (e.kind) {
      case 'decision':
        for (const rule of e.rules)
          for (const c of rule.conditions) {
            r(c.left, e.name);
            v(c.right, e.name);
          }
        break;
      case 'assignment':
        for (const i of e.items) {
          r(i.target, e.name, true);
          v(i.value, e.name);
        }
        break;
      case 'screen':
        for (const f of allScreenFields(e.fields)) {
          const where = `${e.name}.${f.name}`;
          for (const p of f.inputs) v(p.value, where);
          for (const o of f.outputs) r(o.target, where, true);
          text(f.fieldText, where);
          for (const c of f.visibility?.conditions ?? []) {
            r(c.left, where);
            v(c.right, where);
          }
        }
        break;
      case 'subflow':
      case 'actionCall':
        for (const p of e.inputs) v(p.value, e.name);
        for (const o of e.outputs) r(o.target, e.name, true);
        break;
      case 'recordLookup':
        for (const f of e.filters) v(f.value, e.name);
        r(e.outputReference, e.name, true);
        for (const o of e.outputAssignments) r(o.target, e.name, true);
        break;
      case 'recordUpdate':
        r(e.inputReference, e.name);
        for (const f of e.filters) v(f.value, e.name);
        for (const a of e.inputAssignments) v(a.value, e.name);
        break;
      case 'recordCreate':
        r(e.inputReference, e.name);
        for (const a of e.inputAssignments) v(a.value, e.name);
        r(e.assignRecordIdToReference, e.name, true);
        break;
      case 'recordDelete':
        r(e.inputReference, e.name);
        for (const f of e.filters) v(f.value, e.name);
        break;
      case 'loop':
        r(e.collectionReference, e.name);
        r(e.assignNextValueToReference, e.name, true);
        break;
    }
  }
  return out;
}

/** The sObject type a record reference holds (a variable's objectType or a Get Records element's object). */
export function objectOfReference(def: FlowDefinition, ref: string): string | null {
  const head = ref.split('.')[0];
  const variable = def.variables.find((x) => x.name === head);
  if (variable) return variable.objectType;
  const el = def.elements[head];
  if (el?.kind === 'recordLookup') return el.object;
  if (el?.kind === 'loop') return objectOfReference(def, el.collectionReference);
  return null;
}

/** Checks a set of flows together (loaded files and built-ins). */
export function validateFlows(defs: FlowDefinition[], registry: FlowRegistry): FlowLoadIssue[] {
  const issues: FlowLoadIssue[] = [];
  const byName = new Map(defs.map((d) => [d.apiName, d]));
  for (const def of defs) {
    const issue = (message: string, element?: string) =>
      issues.push({ file: def.source, flow: def.apiName, ...(element ? { element } : {}), message });
    const screenFields = new Map<string, ReturnType<typeof allScreenFields>[number]>();
    for (const e of Object.values(def.elements))
      if (e.kind === 'screen') for (const f of allScreenFields(e.fields)) screenFields.set(f.name, f);
    const isKnown = (n: string) =>
      n in def.elements ||
      screenFields.has(n) ||
      def.variables.some((x) => x.name === n) ||
      def.constants.some((x) => x.name === n) ||
      def.textTemplates.some((x) => x.name === n);

    if (def.start !== null && !(def.start in def.elements))
      issue(`the start connector points at '${def.start}', which is not an element of the flow`);
    for (const e of Object.values(def.elements)) {
      for (const c of elementConnectors(e))
        if (!(c.target in def.elements))
          issue(`the ${c.kind} connector points at '${c.target}', which is not an element of the flow`, e.name);
    }

    for (const { ref, element, write } of flowReferences(def)) {
      if (ref.startsWith('$')) {
        if (write) issue(`'${ref}' can't be assigned`, element);
        continue;
      }
      const [head, field] = ref.split('.');
      if (!isKnown(head)) {
        issue(`the reference '${ref}' names '${head}', which is not a variable, constant, text template or element of the flow`, element);
        continue;
      }
      const variable = def.variables.find((x) => x.name === head);
      const el = def.elements[head];
      const sf = screenFields.get(head);
      if (variable) {
        if (field && variable.dataType !== 'SObject' && variable.dataType !== 'Apex')
          issue(`'${ref}' reads a field of '${head}', which is a ${variable.dataType}, not a record`, element);
        if (field && variable.isCollection) issue(`'${ref}' reads a field of the collection '${head}'`, element);
        continue;
      }
      // A Get Records element that stores its one record automatically holds a record the flow may
      // change field by field before an Update Records by reference writes it back.
      if (write && field && el?.kind === 'recordLookup' && el.storeOutputAutomatically && el.getFirstRecordOnly) continue;
      if (write) {
        // A field of the record a Get Records element stored automatically may be set (then written back by reference).
        const storedRecord = el?.kind === 'recordLookup' && el.storeOutputAutomatically && el.getFirstRecordOnly && !!field;
        if (!storedRecord) issue(`'${ref}' can't be assigned: '${head}' is not a variable`, element);
        continue;
      }
      if (def.constants.some((x) => x.name === head) || def.textTemplates.some((x) => x.name === head)) {
        if (field) issue(`'${ref}' reads a field of the constant or text template '${head}'`, element);
        continue;
      }
      if (sf) {
        if (sf.fieldType === 'ComponentInstance' && !sf.storeOutputAutomatically)
          issue(`'${ref}' reads the screen component '${head}', which doesn't store its outputs automatically`, element);
        if (sf.fieldType === 'ComponentInstance' && !field)
          issue(`'${ref}' names the screen component '${head}' without an output parameter`, element);
        continue;
      }
      switch (el.kind) {
        case 'actionCall':
        case 'subflow':
          if (!el.storeOutputAutomatically) issue(`'${ref}' reads '${head}', which doesn't store its outputs automatically`, element);
          if (!field) issue(`'${ref}' names '${head}' without an output parameter`, element);
          if (el.kind === 'subflow' && field) {
            const child = byName.get(el.flowName);
            if (child && !child.variables.some((x) => x.name === field && x.isOutput))
              issue(`'${ref}' reads '${field}', which is not an isOutput variable of ${el.flowName}`, element);
          }
          break;
        case 'recordLookup':
          if (!el.storeOutputAutomatically)
            issue(`'${ref}' reads '${head}', which doesn't store its records automatically (it writes to its output reference)`, element);
          if (field && !el.getFirstRecordOnly) issue(`'${ref}' reads a field of '${head}', which stores a collection`, element);
          break;
        case 'recordCreate':
          if (!el.storeOutputAutomatically) issue(`'${ref}' reads '${head}', which doesn't store the new Id automatically`, element);
          if (field) issue(`'${ref}' reads a field of '${head}', which stores an Id`, element);
          break;
        case 'loop':
          if (el.assignNextValueToReference)
            issue(`'${ref}' reads the loop '${head}', which assigns its items to '${el.assignNextValueToReference}'`, element);
          break;
        default:
          issue(`'${ref}' names the ${el.kind} '${head}', which has no value`, element);
      }
    }

    for (const e of Object.values(def.elements)) {
      switch (e.kind) {
        case 'subflow': {
          const child = byName.get(e.flowName);
          if (!child) {
            issue(`the subflow '${e.flowName}' is not loaded and is not a built-in`, e.name);
            break;
          }
          for (const i of e.inputs) {
            const v = child.variables.find((x) => x.name === i.name);
            if (!v || !v.isInput) issue(`the input '${i.name}' is not an isInput variable of ${e.flowName}`, e.name);
          }
          for (const o of e.outputs) {
            const v = child.variables.find((x) => x.name === o.name);
            if (!v || !v.isOutput) issue(`the output '${o.name}' is not an isOutput variable of ${e.flowName}`, e.name);
          }
          break;
        }
        case 'actionCall':
          if (e.actionType === 'apex') {
            if (!registry.apex.has(e.actionName))
              issue(`the Apex class '${e.actionName}' has no stand-in (registered: ${[...registry.apex].join(', ') || 'none'})`, e.name);
          } else if (!registry.coreActions.has(e.actionName)) {
            issue(`the action '${e.actionName}' (type ${e.actionType}) is not a core action of the engine`, e.name);
          } else if (e.actionType !== e.actionName) {
            issue(`the core action '${e.actionName}' has actionType '${e.actionType}' (a core action's type is its name)`, e.name);
          }
          break;
        case 'screen':
          for (const f of allScreenFields(e.fields)) {
            const where = `${e.name}.${f.name}`;
            if (!FIELD_TYPES.has(f.fieldType))
              issue(`the screen field type '${f.fieldType}' is not supported (supported: ${[...FIELD_TYPES].join(', ')})`, where);
            if (f.fieldType === 'ComponentInstance') {
              const ext = f.extensionName ?? '';
              if (ext !== WAIT_COMPONENT && ext !== REDIRECT_COMPONENT && !registry.components.has(ext))
                issue(`the screen component '${ext}' has no stand-in`, where);
            }
          }
          break;
        case 'recordUpdate':
        case 'recordDelete':
          if (e.inputReference) {
            if (!objectOfReference(def, e.inputReference))
              issue(`the record type of '${e.inputReference}' is unknown (an SObject variable or a Get Records element is needed)`, e.name);
          } else if (!e.object) issue('neither an input reference nor an object is given', e.name);
          else if (e.kind === 'recordDelete' && e.filters.length === 0) issue('a delete by filter needs at least one filter', e.name);
          break;
        case 'recordCreate':
          if (e.inputReference) {
            if (!objectOfReference(def, e.inputReference)) issue(`the record type of '${e.inputReference}' is unknown`, e.name);
          } else if (!e.object) issue('neither an input reference nor an object is given', e.name);
          break;
        case 'recordLookup':
          if (!e.object) issue('the Get Records element names no object', e.name);
          if (!e.storeOutputAutomatically && !e.outputReference && e.outputAssignments.length === 0)
            issue('the records go nowhere (no automatic storage, output reference or output assignments)', e.name);
          break;
        default:
          break;
      }
    }
  }

  // No flow may reach itself through subflows.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    const def = byName.get(name);
    if (!def || state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      const first = byName.get(cycle[0])!;
      const el = Object.values(first.elements).find((e) => e.kind === 'subflow' && e.flowName === cycle[1]);
      issues.push({
        file: first.source,
        flow: first.apiName,
        ...(el ? { element: el.name } : {}),
        message: `recursive subflow chain: ${cycle.join(' → ')}`,
      });
      return;
    }
    state.set(name, 'visiting');
    for (const e of Object.values(def.elements)) if (e.kind === 'subflow') visit(e.flowName, [...path, name]);
    state.set(name, 'done');
  };
  for (const d of defs) visit(d.apiName, []);
  return issues;
}

async function collectFiles(path: string, out: string[], issues: FlowLoadIssue[]): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch {
    issues.push({ file: path, message: 'no such file or folder' });
    return;
  }
  if (s.isDirectory()) {
    const entries = (await readdir(path)).sort();
    for (const e of entries) {
      const p = join(path, e);
      const st = await stat(p);
      if (st.isDirectory()) await collectFiles(p, out, issues);
      else if (isFlowFile(e)) out.push(p);
    }
  } else if (isFlowFile(path)) out.push(path);
  else issues.push({ file: path, message: 'not a flow file (*.flow or *.flow-meta.xml)' });
}

/**
 * Loads flow files and folders (recursively) together with built-in definitions. Returns the flows
 * that can run (no issue of their own) and every issue found.
 */
export async function loadFlowSources(
  paths: string[],
  registry: FlowRegistry,
  builtins: FlowDefinition[] = [],
): Promise<{ definitions: FlowDefinition[]; issues: FlowLoadIssue[] }> {
  const issues: FlowLoadIssue[] = [];
  const files: string[] = [];
  for (const p of paths) await collectFiles(p, files, issues);
  const defs: FlowDefinition[] = [...builtins];
  const seen = new Map(builtins.map((b) => [b.apiName, b.source]));
  for (const file of files) {
    const { definition, issues: found } = parseFlowXml(await readFile(file, 'utf8'), file);
    issues.push(...found);
    if (!definition) continue;
    const other = seen.get(definition.apiName);
    if (other !== undefined) {
      issues.push({ file, flow: definition.apiName, message: `the flow API name '${definition.apiName}' is already defined by ${other}` });
      continue;
    }
    seen.set(definition.apiName, file);
    defs.push(definition);
  }
  issues.push(...validateFlows(defs, registry));
  const broken = new Set(issues.map((i) => `${i.file}\u0000${i.flow ?? ''}`));
  let definitions = defs.filter((d) => !broken.has(`${d.source}\u0000${d.apiName}`));
  // A flow whose subflow can't run can't run either (the subflow's own issues say why).
  for (let changed = true; changed;) {
    const kept = new Set(definitions.map((d) => d.apiName));
    const next = definitions.filter((d) => Object.values(d.elements).every((e) => e.kind !== 'subflow' || kept.has(e.flowName)));
    changed = next.length !== definitions.length;
    definitions = next;
  }
  return { definitions, issues };
}

/** One line per issue: `file › flow › element: message`. */
export function formatIssue(i: FlowLoadIssue): string {
  return [i.file, i.flow, i.element].filter((x): x is string => !!x).join(' › ') + `: ${i.message}`;
}

/** Throws one FLOW_LOAD_ERROR listing every issue (nothing when there is none). */
export function assertNoLoadIssues(issues: FlowLoadIssue[]): void {
  if (issues.length === 0) return;
  const lines = issues.map(formatIssue);
  throw new EngineError('FLOW_LOAD_ERROR', `${issues.length} problem${issues.length === 1 ? '' : 's'}: ${lines.join('; ')}`, [
    ...new Set(issues.map((i) => (i.element ? `${i.flow ?? i.file}.${i.element}` : (i.flow ?? i.file)))),
  ]);
}

/** Loads, then throws FLOW_LOAD_ERROR when anything is wrong; the definitions otherwise. */
export async function loadFlowsOrThrow(
  paths: string[],
  registry: FlowRegistry,
  builtins: FlowDefinition[] = [],
): Promise<FlowDefinition[]> {
  const { definitions, issues } = await loadFlowSources(paths, registry, builtins);
  assertNoLoadIssues(issues);
  return definitions;
}
