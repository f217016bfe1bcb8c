import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { assertNoLoadIssues, loadFlowSources, parseFlowXml } from '../../src/flows/load.js';
import { applyOperator, assign, evaluateLogic, merge, newFrame } from '../../src/flows/values.js';

const BAD = join(import.meta.dirname, 'fixtures/bad');
const registry = { coreActions: new Set(['priceCart']), apex: new Set<string>(), components: new Set<string>() };

describe('loading flows', () => {
  it('reports every problem naming the file and the element, and keeps no broken flow', async () => {
    const { definitions, issues } = await loadFlowSources([BAD], registry);
    expect(definitions).toEqual([]);
    const at = (element: string | undefined, re: RegExp) =>
      expect(issues.some((i) => i.element === element && re.test(i.message) && /fixtures\/bad\//.test(i.file))).toBe(true);
    at('Doubled', /formulas are not supported/);
    at('Sleep', /wait elements are not supported/);
    at('Check.Odd', /operator 'WasSet' is not supported/);
    at('Call', /value kind <formulaExpression> is not supported/);
    at('Call', /cross-object path 'cart.Account.Name'/);
    at('Check', /points at 'Nowhere'/);
    at('Sub', /subflow 'Missing_Flow' is not loaded/);
    at('Act', /'launchRocket' .* is not a core action/);
    at('Ask.Thing', /component 'c:unknownWidget' has no stand-in/);
    at('To_B', /'notAnInput' is not an isInput variable of Loop_B/);
    expect(issues.some((i) => /recursive subflow chain: Loop_A → Loop_B → Loop_A/.test(i.message))).toBe(true);
    expect(issues.some((i) => /Loop_B' is already defined/.test(i.message) && i.file.endsWith('dup/Loop_B.flow-meta.xml'))).toBe(true);
    try {
      assertNoLoadIssues(issues);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'FLOW_LOAD_ERROR', status: 400 });
      expect(String((err as Error).message)).toMatch(/Broken_Kinds\.flow › Broken_Kinds › Sleep: wait elements/);
    }
  });

  it('parses built-ins given as strings; not-XML and missing paths are issues', async () => {
    const xml =
      '<?xml version="1.0"?><Flow xmlns="http://soap.sforce.com/2006/04/metadata"><label>E</label><variables><name>ErrorMessage</name><dataType>String</dataType><isInput>true</isInput></variables></Flow>';
    const { definition, issues } = parseFlowXml(xml, 'builtin:sfdc_checkout__Error', 'sfdc_checkout__Error');
    expect(issues).toEqual([]);
    expect(definition).toMatchObject({ apiName: 'sfdc_checkout__Error', start: null, runInMode: 'DefaultMode' });
    expect(parseFlowXml('<NotFlow/>', 'x.flow').issues[0].message).toMatch(/root element is not <Flow>/);
    const missing = await loadFlowSources(['/no/such/folder'], registry);
    expect(missing.issues).toEqual([{ file: '/no/such/folder', message: 'no such file or folder' }]);
  });
});

describe('values', () => {
  const def = parseFlowXml(
    '<Flow><variables><name>list</name><dataType>String</dataType><isCollection>true</isCollection></variables><variables><name>n</name><dataType>Number</dataType></variables><variables><name>rec</name><dataType>SObject</dataType><objectType>WebCart</objectType></variables></Flow>',
    'v.flow',
  ).definition!;
  const env = { def, userId: 'u', nullRecordField: 'fault' as const };

  it('condition operators: null vs "", numbers, text, collections', () => {
    expect(applyOperator('EqualTo', null, null)).toBe(true);
    expect(applyOperator('EqualTo', null, '')).toBe(false);
    expect(applyOperator('NotEqualTo', null, 0)).toBe(true);
    expect(applyOperator('EqualTo', 0, 0.0)).toBe(true);
    expect(applyOperator('EqualTo', 'a', 'A')).toBe(false);
    expect(applyOperator('IsNull', '', true)).toBe(false);
    expect(applyOperator('IsNull', null, true)).toBe(true);
    expect(applyOperator('IsBlank', '', true)).toBe(true);
    expect(applyOperator('IsEmpty', [], true)).toBe(true);
    expect(applyOperator('GreaterThan', 3, 2)).toBe(true);
    expect(applyOperator('LessThanOrEqualTo', 2, 2)).toBe(true);
    expect(applyOperator('GreaterThan', null, 2)).toBe(false);
    expect(applyOperator('StartsWith', 'Checkout', 'Check')).toBe(true);
    expect(applyOperator('EndsWith', 'Checkout', 'out')).toBe(true);
    expect(applyOperator('Contains', ['a', 'b'], 'b')).toBe(true);
    expect(applyOperator('In', 'b', ['a', 'b'])).toBe(true);
    expect(evaluateLogic('1 AND (2 OR NOT 3)', (i) => [true, false, false][i - 1])).toBe(true);
    expect(() => evaluateLogic('1 AND', () => true)).toThrow(/malformed/);
  });

  it('assignment operators, new records from null, faults on fields of null records, merges', () => {
    const f = newFrame(def, 'user');
    assign(f, 'list', 'Add', 'b', env);
    assign(f, 'list', 'AddAtStart', 'a', env);
    assign(f, 'list', 'Add', ['c', 'b'], env);
    expect(f.values.list).toEqual(['a', 'b', 'c', 'b']);
    assign(f, 'list', 'RemoveFirst', 'b', env);
    expect(f.values.list).toEqual(['a', 'c', 'b']);
    assign(f, 'list', 'RemovePosition', 1, env);
    expect(f.values.list).toEqual(['c', 'b']);
    assign(f, 'n', 'AssignCount', f.values.list, env);
    assign(f, 'n', 'Subtract', 0.5, env);
    expect(f.values.n).toBe(1.5);
    assign(f, 'list', 'RemoveAll', 'b', env);
    expect(f.values.list).toEqual(['c']);
    expect(merge(f, 'x={!list} n={!n}', env)).toBe('x=c n=1.5');
    expect(() => merge(f, '{!rec.Id}', env)).toThrow(/hasn't been set or assigned/);
    expect(merge(f, '{!rec.Id}', { ...env, nullRecordField: 'null' })).toBe('');
    assign(f, 'rec.Id', 'Assign', '0a1', env);
    expect(f.values.rec).toEqual({ Id: '0a1' });
  });
});
