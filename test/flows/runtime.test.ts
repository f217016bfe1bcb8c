import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { join } from 'node:path';
import { loadFlowSources } from '../../src/flows/load.js';
import { createFlowRuntime } from '../../src/flows/runtime.js';
import { interviewExecutor } from '../../src/engine/interview-machines.js';
import { MemoryHost } from './memory-host.js';

const GOOD = join(import.meta.dirname, 'fixtures/good');
const registry = { coreActions: new Set(['priceCart']), apex: new Set(['B2BCharge']), components: new Set(['c:addressPicker']) };

async function setup() {
  const { definitions, issues } = await loadFlowSources([GOOD], registry);
  expect(issues).toEqual([]);
  const host = new MemoryHost();
  host.actions.set('priceCart', () => ({ lineCount: 3 }));
  const cartId = host.insert('WebCart', { Name: 'Spring order', Status: 'Checkout', Total: 120 });
  return { runtime: createFlowRuntime(definitions, { executor: interviewExecutor }), host, cartId };
}
const roundTrip = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('flow runtime', () => {
  it('runs lookup, custom-logic decision, assignments and an action to a screen, with merged text', async () => {
    const { runtime, host, cartId } = await setup();
    const s = await runtime.start('Order_Desk', { cartId }, host);
    expect(s.view.status).toBe('Paused');
    expect(s.view.currentElement).toBe('Address');
    expect(s.view.screen!.fields[0].inputs.text).toBe('<p>Cart Spring order: 125 (priced 3 lines)</p>');
    expect(s.view.screen!.fields[1]).toMatchObject({
      name: 'Where',
      extensionName: 'c:addressPicker',
      inputs: { cartId },
      outputNames: ['city', 'cartId'],
      isRequired: true,
    });
    expect(s.view.screen!.availableActions).toEqual(['NEXT']);
    expect(host.calls.find((c) => c.kind === 'query')!.mode).toBe('systemWithSharing');
  });

  it('refuses answers that do not fit, leaving the state as it was', async () => {
    const { runtime, host, cartId } = await setup();
    const s = roundTrip(await runtime.start('Order_Desk', { cartId }, host));
    await expect(runtime.navigate(s, { action: 'NEXT', answers: {} }, host)).rejects.toMatchObject({
      code: 'INVALID_FLOW_NAVIGATION',
      fields: ['Where.city'],
    });
    await expect(runtime.navigate(s, { action: 'NEXT', answers: { Nope: {} } }, host)).rejects.toMatchObject({ fields: ['Nope'] });
    await expect(runtime.navigate(s, { action: 'NEXT', answers: { Where: { city: 'Oslo', zip: '1' } } }, host)).rejects.toMatchObject({
      fields: ['Where.zip'],
    });
    await expect(runtime.navigate(s, { action: 'BACK' }, host)).rejects.toThrow(/BACK isn't available/);
    await expect(runtime.navigate(s, { action: 'FINISH' }, host)).rejects.toThrow(/available: NEXT/);
    // A component the host runs may refuse too (nothing changes).
    await expect(runtime.navigate(s, { action: 'NEXT', answers: { Where: { city: 'Atlantis' } } }, host)).rejects.toThrow(/Atlantis/);
    const ok = await runtime.navigate(s, { action: 'NEXT', answers: { Where: { city: 'Oslo' } } }, host);
    expect(ok.view.currentElement).toBe('Confirm');
  });

  it('BACK redisplays the earlier screen with stored values, NEXT re-runs downstream; update by filter, subflow I/O, loop', async () => {
    const { runtime, host, cartId } = await setup();
    let s = await runtime.start('Order_Desk', { cartId, words: ['a', 'b', 'c'] }, host);
    s = await runtime.navigate(roundTrip(s), { action: 'NEXT', answers: { Where: { city: 'Oslo' } } }, host);
    expect(s.view.screen!.fields[0].inputs.text).toBe('Ship to Oslo');
    expect(s.view.screen!.availableActions).toEqual(['NEXT', 'BACK', 'PAUSE']);
    const back = await runtime.navigate(roundTrip(s), { action: 'BACK' }, host);
    expect(back.view.currentElement).toBe('Address');
    expect(back.view.screen!.fields[1].inputs).toEqual({ cartId, city: 'Oslo' });
    expect(host.calls.filter((c) => c.name === 'priceCart')).toHaveLength(1);
    s = await runtime.navigate(roundTrip(back), { action: 'NEXT', answers: { Where: { city: 'Oslo' } } }, host);
    const paused = await runtime.navigate(roundTrip(s), { action: 'PAUSE' }, host);
    expect(paused.view).toEqual(s.view);
    s = await runtime.navigate(roundTrip(s), { action: 'NEXT', answers: { Note: { value: 'leave at door' } } }, host);
    expect(host.get('WebCart', cartId)).toMatchObject({ City: 'Oslo', Note: 'leave at door' });
    // In the subflow: null text input arrived as "", the loop collected every word.
    expect(s.view.stack).toEqual(['Order_Desk', 'Greeter']);
    expect(s.view.screen!.fields[0].inputs.text).toBe('Hello buyer! a, b, c (3)');
    s = await runtime.navigate(roundTrip(s), { action: 'FINISH' }, host);
    expect(s.view.status).toBe('Finished');
    expect(s.view.outputs).toEqual({ total: 125, title: 'Cart Spring order', greeting: 'Hello buyer!' });
    await expect(runtime.navigate(s, { action: 'NEXT' }, host)).rejects.toThrow(/finished/);
  });

  it('a fault with a fault connector sets $Flow.FaultMessage; zero rows is not a fault', async () => {
    const { runtime, host, cartId } = await setup();
    host.actions.set('priceCart', () => {
      throw new Error('Prices are stale.');
    });
    const s = await runtime.start('Order_Desk', { cartId }, host);
    expect(s.view.currentElement).toBe('Problem');
    expect(s.view.screen!.fields[0].inputs.text).toBe('Failed: Prices are stale.');
    const none = await runtime.start('Order_Desk', { cartId: '0a0000000000000XYZ' }, host);
    expect(none.view.currentElement).toBe('No_Cart');
  });

  it('a fault without a fault connector fails the interview; data errors flow on; create and delete', async () => {
    const { runtime, host, cartId } = await setup();
    host.actions.set('B2BCharge', () => ({ output: 'card declined' }));
    const ok = await runtime.start('Strict_Charge', { cartId }, host);
    expect(ok.view).toMatchObject({ status: 'Finished', outputs: { error: 'card declined' } });
    expect([...(host.tables.get('Note')?.values() ?? [])]).toEqual([]);
    expect(host.calls.map((c) => c.kind)).toEqual(['apex', 'create', 'query', 'delete']);
    expect(host.calls.at(-1)!.mode).toBe('user');
    host.actions.set('B2BCharge', () => {
      throw new Error('gateway down');
    });
    const bad = await runtime.start('Strict_Charge', { cartId }, host);
    expect(bad.view).toMatchObject({
      status: 'Error',
      currentElement: 'Charge',
      stack: ['Strict_Charge'],
      error: { message: 'gateway down' },
    });
    await expect(runtime.navigate(bad, { action: 'NEXT' }, host)).rejects.toThrow(/in error/);
  });

  it('subflow outputs are auto-stored; a fault inside a subflow fails the whole interview (subflows have no fault path)', async () => {
    const { runtime, host, cartId } = await setup();
    host.actions.set('B2BCharge', () => ({ output: 'card declined' }));
    const ok = await runtime.start('Charge_Wrapper', { cartId }, host);
    expect(ok.view.screen!.fields[0].inputs.text).toBe('Charge said: card declined');
    host.actions.set('B2BCharge', () => {
      throw new Error('gateway down');
    });
    const bad = await runtime.start('Charge_Wrapper', { cartId }, host);
    expect(bad.view).toMatchObject({
      status: 'Error',
      currentElement: 'Charge',
      stack: ['Charge_Wrapper', 'Strict_Charge'],
      error: { message: 'gateway down' },
    });
  });

  it('wait screens wait while the session processes, then move on; redirect screens finish', async () => {
    const { runtime, host } = await setup();
    const sessionId = host.insert('CartCheckoutSession', { IsProcessing: true, State: 'Start', OrderId: '801000000000001AAA' });
    let s = await runtime.start('Wait_And_Go', { sessionId }, host);
    expect(s.view).toMatchObject({ status: 'Waiting', currentElement: 'Hold_On' });
    expect((await runtime.resume(roundTrip(s), host)).view.status).toBe('Waiting');
    host.tables.get('CartCheckoutSession')!.set(sessionId, { ...host.get('CartCheckoutSession', sessionId)!, IsProcessing: false });
    s = await runtime.resume(roundTrip(s), host);
    expect(s.view).toMatchObject({
      status: 'Finished',
      currentElement: 'Go',
      redirect: { pageName: 'Order', recordId: '801000000000001AAA' },
    });
    // Update by reference wrote every field the variable held (Id, OrderId, State).
    expect(host.get('CartCheckoutSession', sessionId)).toMatchObject({ State: 'Done', IsProcessing: false });
    expect(s.view.outputs).toEqual({ session: { Id: sessionId, OrderId: '801000000000001AAA', State: 'Done' } });
  });

  it('a field of an auto-stored Get Records record can be set and written back by reference (system mode)', async () => {
    const { runtime, host } = await setup();
    const sessionId = host.insert('CartCheckoutSession', { State: 'Start', IsProcessing: false });
    const s = await runtime.start('Stamp_Session', { sessionId }, host);
    expect(s.view.status).toBe('Finished');
    expect(host.get('CartCheckoutSession', sessionId)).toEqual({ Id: sessionId, State: 'Stamped', IsProcessing: false });
    expect(host.calls.filter((c) => c.kind === 'query' || c.kind === 'update').map((c) => c.mode)).toEqual(['system', 'system']);
  });

  it('a second buyer: the flow sees and writes only what the host shares with the running user and mode', async () => {
    const { definitions } = await loadFlowSources([GOOD], registry);
    const owner = new MemoryHost('005000000000001AAA');
    owner.actions.set('priceCart', () => ({ lineCount: 1 }));
    const cartId = owner.insert('WebCart', { Name: 'Mine', Status: 'Checkout', Total: 500, OwnerId: owner.userId });
    const other = new MemoryHost('005000000000002AAA', owner);
    other.actions.set('priceCart', () => ({ lineCount: 1 }));
    const runtime = createFlowRuntime(definitions, { executor: interviewExecutor });
    // Order_Desk runs with sharing: the other buyer's lookup finds nothing (not a fault) and nothing is priced.
    const theirs = await runtime.start('Order_Desk', { cartId }, other);
    expect(theirs.view.currentElement).toBe('No_Cart');
    expect(other.calls.some((c) => c.kind === 'core')).toBe(false);
    // A state started by the owner and continued by the other buyer's host still writes only shared rows.
    const mine = await runtime.start('Order_Desk', { cartId }, owner);
    const next = await createFlowRuntime(definitions, { executor: interviewExecutor }).navigate(
      JSON.parse(JSON.stringify(mine)),
      { action: 'NEXT', answers: { Where: { city: 'Oslo' } } },
      other,
    );
    const done = await runtime.navigate(next, { action: 'NEXT', answers: {} }, other);
    expect(owner.get('WebCart', cartId)!.City).toBeUndefined();
    expect(done.view.stack).toEqual(['Order_Desk', 'Greeter']);
    // DefaultMode (user): the session isn't visible, so the assignment makes a new record without an Id; writing it back is a fault, and with no fault path the interview fails.
    const sessionId = owner.insert('CartCheckoutSession', { IsProcessing: false, OrderId: null, OwnerId: owner.userId });
    const denied = await runtime.start('Wait_And_Go', { sessionId }, other);
    expect(denied.view).toMatchObject({
      status: 'Error',
      currentElement: 'Save_Session',
      error: { message: 'session holds a record without an Id: only a record with an Id can be updated.' },
    });
    expect(other.calls.some((c) => c.kind === 'update')).toBe(false);
    expect(owner.get('CartCheckoutSession', sessionId)!.State).toBeUndefined();
  });

  it('nested region fields, required input fields and visibility rules (hidden fields are not shown, answered or kept)', async () => {
    const { runtime, host } = await setup();
    const plain = await runtime.start('Regions', {}, host);
    expect(plain.view.screen!.fields.map((f) => [f.name, f.fieldType, f.outputNames, f.isRequired])).toEqual([
      ['Po_Number', 'InputField', ['value'], true],
    ]);
    await expect(runtime.navigate(plain, { action: 'NEXT', answers: {} }, host)).rejects.toMatchObject({ fields: ['Po_Number.value'] });
    await expect(
      runtime.navigate(plain, { action: 'NEXT', answers: { Po_Number: { value: 'PO-1' }, Gift_Note: { value: 'hi' } } }, host),
    ).rejects.toMatchObject({ fields: ['Gift_Note'] });
    const shown = await runtime.navigate(plain, { action: 'NEXT', answers: { Po_Number: { value: 'PO-1' } } }, host);
    expect(shown.view.screen!.fields[0].inputs.text).toBe('PO PO-1, note []');
    expect(shown.view.screen!.availableActions).toEqual(['FINISH', 'BACK', 'PAUSE']);
    const gift = await runtime.start('Regions', { isGift: true }, host);
    expect(gift.view.screen!.fields.map((f) => f.name)).toEqual(['Po_Number', 'Gift_Note']);
    const both = await runtime.navigate(
      gift,
      { action: 'NEXT', answers: { Po_Number: { value: 'PO-2' }, Gift_Note: { value: 'Happy day' } } },
      host,
    );
    expect(both.view.screen!.fields[0].inputs.text).toBe('PO PO-2, note [Happy day]');
    const back = await runtime.navigate(both, { action: 'BACK' }, host);
    expect(back.view.screen!.fields.map((f) => f.inputs)).toEqual([{ value: 'PO-2' }, { value: 'Happy day' }]);
  });

  it('stops a runaway loop at the step limit', async () => {
    const { definitions } = await loadFlowSources([GOOD], registry);
    const runtime = createFlowRuntime(definitions, { executor: interviewExecutor, stepLimit: 50 });
    const s = await runtime.start('Spinner', {}, new MemoryHost());
    expect(s.view.status).toBe('Error');
    expect(s.view.error!.message).toMatch(/step limit \(50/);
  });

  it('refuses unknown flows and inputs', async () => {
    const { runtime, host } = await setup();
    await expect(runtime.start('Nope', {}, host)).rejects.toMatchObject({ code: 'FLOW_NOT_FOUND', status: 404 });
    await expect(runtime.start('Order_Desk', { total: 1 }, host)).rejects.toMatchObject({ code: 'INVALID_FLOW_INPUT', fields: ['total'] });
  });

  it('machines are drawable and restorable at a screen; graphs list elements and connectors', async () => {
    const { runtime, host, cartId } = await setup();
    const m = runtime.flowMachine('Order_Desk');
    expect(Object.keys(m.root.states)).toEqual(expect.arrayContaining(['Find_Cart', 'Has_Cart', 'Address', 'Greet', '__end', '__error']));
    expect(m.root.states.Has_Cart.id).toBe('Has_Cart');
    const s = await runtime.start('Order_Desk', { cartId }, host);
    const actor = createActor(m, { snapshot: roundTrip(s.snapshot) as never });
    actor.start();
    expect(actor.getSnapshot().value).toBe('Address');
    actor.stop();
    const g = runtime.flowGraph('Order_Desk');
    expect(g.edges).toContainEqual({ from: 'Price', to: 'Problem', kind: 'fault' });
    expect(g.nodes).toContainEqual({ id: 'Greet', kind: 'subflow', label: 'Greet', subflow: 'Greeter' });
  });
});
