/**
 * What Salesforce's checkout templates rely on beyond the basics (test/flows/fixtures/semantics):
 * a Get Records element's own record changed field by field and saved by reference; the
 * navigation-buttons component whose output is the button the buyer pressed (the navigate's action
 * unless answered); answers wrapped in the screen's name; answers a component's stand-in reads
 * beyond the flow's declared outputs (`componentAnswers`).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFlowSources } from '../../src/flows/load.js';
import { createFlowRuntime } from '../../src/flows/runtime.js';
import { interviewExecutor } from '../../src/engine/interview-machines.js';
import { MemoryHost } from './memory-host.js';

const DIR = join(import.meta.dirname, 'fixtures/semantics');
const registry = {
  coreActions: new Set<string>(),
  apex: new Set<string>(),
  components: new Set(['c:paymentMethod', 'c:navigationButtons']),
};
const PAYMENT = { 'c:paymentMethod': ['paymentType', 'purchaseOrderNumber'] };

async function setup(componentAnswers?: Record<string, string[]>) {
  const { definitions, issues } = await loadFlowSources([DIR], registry);
  expect(issues).toEqual([]);
  const host = new MemoryHost();
  const cartId = host.insert('WebCart', { Status: 'Checkout' });
  const sessionId = host.insert('CartCheckoutSession', { WebCartId: cartId, State: 'Start', NextState: null });
  const runtime = createFlowRuntime(definitions, { executor: interviewExecutor, ...(componentAnswers ? { componentAnswers } : {}) });
  return { host, runtime, start: () => runtime.start('Session_Step', { cartId, sessionId }, host), sessionId };
}

describe('template semantics', () => {
  it("assigns a field of a Get Records element's record and saves it by reference", async () => {
    const { host, start, sessionId } = await setup(PAYMENT);
    const s = await start();
    expect(s.view.currentElement).toBe('Pick');
    expect(host.get('CartCheckoutSession', sessionId)).toMatchObject({ State: 'Picking', NextState: null });
  });

  it('navigation buttons: unanswered, the output is the action pressed; answered BACK, the flow goes back by its decision', async () => {
    const { runtime, host, start } = await setup(PAYMENT);
    const s = await start();
    const pick = s.view.screen!;
    expect(pick.fields.map((f) => [f.name, f.outputNames])).toEqual([
      ['Pay', ['paymentType', 'purchaseOrderNumber', 'cartId']],
      ['Buttons', ['selectedAction']],
    ]);
    const forward = await runtime.navigate(s, { action: 'NEXT', answers: { Pay: { paymentType: 'PurchaseOrder' } } }, host);
    expect(forward.view.screen).toMatchObject({ name: 'Done', fields: [{ inputs: { text: 'Pressed NEXT' } }] });
    const back = await runtime.navigate(
      s,
      { action: 'NEXT', answers: { Pay: { paymentType: 'PurchaseOrder' }, Buttons: { selectedAction: 'BACK' } } },
      host,
    );
    expect(back.view.screen).toMatchObject({ name: 'Gone_Back', fields: [{ inputs: { text: 'Pressed BACK' } }] });
    // The component stand-in saw the buyer's answer.
    expect(host.calls.filter((c) => c.name === 'c:paymentMethod')).toHaveLength(2);
  });

  it("answers wrapped in the screen's name are read as the screen's answers; unknown fields inside are still refused", async () => {
    const { runtime, host, start } = await setup(PAYMENT);
    const s = await start();
    const done = await runtime.navigate(
      s,
      { action: 'NEXT', answers: { Pick: { Pay: { paymentType: 'PurchaseOrder', purchaseOrderNumber: 'PO-9' } } } },
      host,
    );
    expect(done.view.currentElement).toBe('Done');
    await expect(runtime.navigate(s, { action: 'NEXT', answers: { Pick: { Nope: { x: 1 } } } }, host)).rejects.toMatchObject({
      code: 'INVALID_FLOW_NAVIGATION',
      fields: ['Nope'],
    });
  });

  it("without componentAnswers a component's answers are only its declared outputs", async () => {
    const { runtime, host, start } = await setup();
    const s = await start();
    expect(s.view.screen!.fields[0]!.outputNames).toEqual(['cartId']);
    await expect(runtime.navigate(s, { action: 'NEXT', answers: { Pay: { paymentType: 'PurchaseOrder' } } }, host)).rejects.toMatchObject({
      code: 'INVALID_FLOW_NAVIGATION',
      fields: ['Pay.paymentType'],
    });
  });

  it('assigning a field of a Get Records element that holds a collection, or of an action, is a load issue', async () => {
    const { parseFlowXml, validateFlows } = await import('../../src/flows/load.js');
    const xml = (getFirst: boolean) =>
      `<Flow><label>X</label><processType>CheckoutFlow</processType><start><connector><targetReference>L</targetReference></connector></start>
       <recordLookups><name>L</name><label>L</label><connector><targetReference>A</targetReference></connector><filterLogic>and</filterLogic><getFirstRecordOnly>${getFirst}</getFirstRecordOnly><object>WebCart</object><queriedFields>Id</queriedFields><storeOutputAutomatically>true</storeOutputAutomatically></recordLookups>
       <assignments><name>A</name><label>A</label><assignmentItems><assignToReference>L.Name</assignToReference><operator>Assign</operator><value><stringValue>n</stringValue></value></assignmentItems></assignments></Flow>`;
    for (const [first, issues] of [
      [true, 0],
      [false, 1],
    ] as const) {
      const { definition } = parseFlowXml(xml(first), 'x.flow', 'X');
      expect(validateFlows([definition!], registry).filter((i) => /can't be assigned/.test(i.message))).toHaveLength(issues);
    }
  });
});
