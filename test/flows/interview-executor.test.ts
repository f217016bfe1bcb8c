/**
 * Interviews run by the engine's step executor (src/engine/interview-machines.ts over
 * src/engine/steps.ts `executeActions`): the stored state is XState's persisted snapshot with the
 * subflow frame inside, a state XState itself wrote restores and navigates, each element runs once
 * per entry, and an action the executor has no handler for is an error, never a silent skip.
 */
import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition } from 'xstate';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFlowSources } from '../../src/flows/load.js';
import { createFlowRuntime } from '../../src/flows/runtime.js';
import { interviewExecutor } from '../../src/engine/interview-machines.js';
import { executeActions, type MachineAction } from '../../src/engine/steps.js';
import { MemoryHost } from './memory-host.js';

const GOOD = join(import.meta.dirname, 'fixtures/good');
const registry = { coreActions: new Set(['priceCart']), apex: new Set(['B2BCharge']), components: new Set(['c:addressPicker']) };
const roundTrip = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

async function atGreeterScreen() {
  const { definitions, issues } = await loadFlowSources([GOOD], registry);
  expect(issues).toEqual([]);
  const host = new MemoryHost();
  host.actions.set('priceCart', () => ({ lineCount: 3 }));
  const cartId = host.insert('WebCart', { Name: 'Spring order', Status: 'Checkout', Total: 120 });
  const runtime = createFlowRuntime(definitions, { executor: interviewExecutor });
  let s = await runtime.start('Order_Desk', { cartId, words: ['a', 'b'] }, host);
  s = await runtime.navigate(roundTrip(s), { action: 'NEXT', answers: { Where: { city: 'Oslo' } } }, host);
  s = await runtime.navigate(roundTrip(s), { action: 'NEXT', answers: { Note: { value: 'door' } } }, host);
  expect(s.view.stack).toEqual(['Order_Desk', 'Greeter']);
  return { runtime, host, s };
}

describe('interviews on the step executor', () => {
  it('stores the subflow frame inside the top snapshot, in the form XState persists', async () => {
    const { runtime, s } = await atGreeterScreen();
    const snap = s.snapshot as { status: string; value: string; children: Record<string, { src: string; snapshot: { value: unknown } }> };
    expect(snap.status).toBe('active');
    expect(snap.value).toBe('Greet');
    expect(Object.keys(snap.children)).toEqual(['Greet']);
    expect(snap.children.Greet!.src).toBe('Greeter');
    expect(snap.children.Greet!.snapshot.value).toBe(s.view.currentElement);
    // XState restores it as it is (the child frame included) without the executor.
    const actor = createActor(runtime.flowMachine('Order_Desk'), { snapshot: roundTrip(s.snapshot) as never });
    expect(actor.getSnapshot().value).toBe('Greet');
    expect(actor.getSnapshot().children.Greet?.getSnapshot().value).toBe(s.view.currentElement);
  });

  it('navigates a state XState wrote itself: the navigation is forwarded to the child holding the screen', async () => {
    const { runtime, host, s } = await atGreeterScreen();
    const written = createActor(runtime.flowMachine('Order_Desk'), { snapshot: roundTrip(s.snapshot) as never }).getPersistedSnapshot();
    const done = await runtime.navigate({ ...s, snapshot: roundTrip(written) }, { action: 'FINISH' }, host);
    expect(done.view).toMatchObject({ status: 'Finished', outputs: { greeting: 'Hello buyer!' } });
    expect((done.snapshot as { children: object }).children).toEqual({});
  });

  it('runs each element once per entry (the done event fed back with transition(), not a second run)', async () => {
    const { host } = await atGreeterScreen();
    expect(host.calls.filter((c) => c.name === 'priceCart')).toHaveLength(1);
  });

  it('a transition that throws (a subflow input read from a null record) fails its frame, and its caller through the error event', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'executor-flows-'));
    const flow = (name: string, body: string) =>
      writeFileSync(
        join(dir, `${name}.flow-meta.xml`),
        `<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>60.0</apiVersion><label>${name}</label><processType>CheckoutFlow</processType><status>Active</status>
${body}
</Flow>`,
      );
    flow(
      'Null_Input',
      `    <start><connector><targetReference>Greet</targetReference></connector></start>
    <subflows>
        <name>Greet</name><label>Greet</label><flowName>Greeter</flowName>
        <inputAssignments><name>who</name><value><elementReference>rec.Name</elementReference></value></inputAssignments>
    </subflows>
    <variables><name>rec</name><dataType>SObject</dataType><objectType>WebCart</objectType><isCollection>false</isCollection><isInput>false</isInput><isOutput>false</isOutput></variables>`,
    );
    flow(
      'Outer_Null',
      `    <start><connector><targetReference>Inner</targetReference></connector></start>
    <subflows><name>Inner</name><label>Inner</label><flowName>Null_Input</flowName></subflows>`,
    );
    const { definitions, issues } = await loadFlowSources([GOOD, dir], registry);
    expect(issues).toEqual([]);
    const runtime = createFlowRuntime(definitions, { executor: interviewExecutor });
    const host = new MemoryHost();
    const top = await runtime.start('Null_Input', {}, host);
    expect(top.view).toMatchObject({ status: 'Error', stack: ['Null_Input'] });
    expect(top.view.error!.message).toMatch(/rec/);
    const nested = await runtime.start('Outer_Null', {}, host);
    expect(nested.view).toMatchObject({ status: 'Error', error: top.view.error });
    expect((nested.snapshot as { value: string; children: object }).value).toBe('__error');
  });

  it('an element state asks the executor for its run without XState constructing an actor for it', async () => {
    const { definitions } = await loadFlowSources([GOOD], registry);
    const runtime = createFlowRuntime(definitions, { executor: interviewExecutor });
    // Order_Desk starts on Find_Cart, a Get Records element.
    const [snapshot, actions] = initialTransition(runtime.flowMachine('Order_Desk'), {
      inputs: {},
      callerMode: 'user',
      userId: '005',
    } as never);
    expect(snapshot.value).toBe('Find_Cart');
    expect(snapshot.children).toEqual({});
    // No spawn at all: the run is the named action runElement, declared in the machine's setup().
    expect(actions.filter((a) => a.type === 'xstate.spawnChild')).toEqual([]);
    const runs = (actions as MachineAction[]).filter((a) => a.type === 'runElement');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.params).toMatchObject({ id: 'Find_Cart.run', input: { flow: 'Order_Desk', element: 'Find_Cart' } });
    expect(Object.keys(runtime.flowMachine('Order_Desk').implementations.actions)).toEqual(
      expect.arrayContaining(['runElement', 'stopElement']),
    );
    // Leaving the state names stopElement with the same run id.
    const [, left] = transition(runtime.flowMachine('Order_Desk'), snapshot, {
      type: 'xstate.done.actor.Find_Cart.run',
      output: {},
    } as never);
    expect((left as MachineAction[]).filter((a) => a.type === 'stopElement').map((a) => a.params)).toEqual([{ id: 'Find_Cart.run' }]);
  });

  it('refuses an action it has no handler for instead of skipping it', async () => {
    const spawn = { type: 'xstate.spawnChild', params: { id: 'x', src: 'unknownActor' } } as unknown as MachineAction;
    await expect(executeActions([spawn], { spawn: {}, stop: () => {} })).rejects.toThrow(
      /no handler for an actor of source 'unknownActor'/,
    );
    const custom = { type: 'launchRocket', params: {}, info: { event: { type: 'GO' } } } as unknown as MachineAction;
    await expect(executeActions([custom], { spawn: {}, stop: () => {} })).rejects.toThrow(/no handler for the action 'launchRocket'/);
  });
});
