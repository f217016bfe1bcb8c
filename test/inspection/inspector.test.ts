/**
 * The Stately inspector, live (issue 10 item 2): a local WebSocket receiver stands in for the
 * inspector; the engine reports each session's actor, events and snapshots to it in order, across
 * actions and the worker, with secrets redacted deep inside events; a stored history replays.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createInspector } from '@statelyai/inspect';
import { createCheckoutEngine, replayHistory } from '../../src/index.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { CA_ADDRESS, cartOn } from '../flow/helpers.js';
import { REDACTED } from '../../src/domain/redact.js';

afterAll(dropTestSchemas);

type Msg = {
  type: string;
  sessionId: string;
  event?: Record<string, any>;
  snapshot?: { value: unknown; context?: Record<string, unknown> };
  name?: string;
  definition?: string;
  sourceId?: string;
};

async function receiver() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const messages: Msg[] = [];
  wss.on('connection', (ws) => ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as Msg)));
  const port = (wss.address() as { port: number }).port;
  return { url: `ws://127.0.0.1:${port}`, messages, close: () => new Promise((r) => wss.close(r)) };
}

async function until(cond: () => boolean, what: string) {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

const valueOf = (path: string) => {
  const parts = path.split('.');
  return parts.length === 1 ? parts[0] : { [parts[0]!]: parts[1] };
};

describe('Stately inspector over WebSocket', () => {
  it('receives every event and snapshot of a checkout in order, redacted, and a replay', async () => {
    const rx = await receiver();
    const engine = await createCheckoutEngine({ inspect: rx.url, onError: () => {} });
    try {
      const c = await cartOn(engine);
      const run = await engine.runCheckout(c.cartId, { ...c.as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-I' } });
      expect(run.status, run.errors.join()).toBe('complete');
      const history = await engine.getHistory(run.sessionId);
      const mine = () => rx.messages.filter((m) => m.sessionId === run.sessionId);
      await until(() => mine().filter((m) => m.type === '@xstate.snapshot').length >= history.length, 'all snapshots');
      const msgs = mine();
      // The actor first, with the flow machine's definition, named after it.
      expect(msgs[0]).toMatchObject({ type: '@xstate.actor', name: 'checkoutSession', snapshot: { value: { start: 'idle' } } });
      expect(JSON.parse(msgs[0]!.definition!).id).toBe('checkoutSession');
      // Then event, snapshot pairs in history order: the same trajectory.
      const pairs = msgs.slice(1);
      expect(pairs.map((m) => m.type)).toEqual(history.flatMap(() => ['@xstate.event', '@xstate.snapshot']));
      const snaps = pairs.filter((m) => m.type === '@xstate.snapshot');
      expect(snaps.map((m) => m.snapshot!.value)).toEqual(history.map((h) => valueOf(h.to)));
      expect(snaps.at(-1)!.snapshot!.value).toBe('complete');
      const events = pairs.filter((m) => m.type === '@xstate.event');
      expect(events.map((m) => m.event!.type)).toEqual(history.map((h) => h.event.type));
      // Worker events come from the engine, the buyer's from the buyer.
      expect(events.find((m) => m.event!.type === 'xstate.done.actor.step')!.sourceId).toBe('engine');
      expect(events.find((m) => m.event!.type === 'CLAIM')!.sourceId).toBe(`user:${c.buyerId}`);
      // No requirement facts (cart data) leave the engine.
      expect(JSON.stringify(pairs)).not.toContain('"facts"');

      // A secret anywhere in an event's input is redacted before it leaves the engine.
      const before = rx.messages.length;
      engine.core.notify({
        ...history[0]!,
        event: {
          type: 'SET_STATE',
          state: 'x',
          input: {
            nested: [{ password: 'hunter2', card: { number: '4111111111111111' }, PaymentMethodId: 'pm_123', access_token: 'tok' }],
          },
        },
      });
      await until(() => rx.messages.length >= before + 2, 'the redacted pair');
      const sent = JSON.stringify(rx.messages.slice(before));
      for (const secret of ['hunter2', '4111111111111111', 'pm_123', '"tok"']) expect(sent).not.toContain(secret);
      expect(rx.messages[before]!.event!.input.nested[0]).toEqual({
        password: REDACTED,
        card: REDACTED,
        PaymentMethodId: REDACTED,
        access_token: REDACTED,
      });

      // Replay of the stored history into another inspector object: the same trajectory.
      const replayed: Msg[] = [];
      const inspector = createInspector({ send: (e) => void replayed.push(e as unknown as Msg) });
      expect(await replayHistory(engine, run.sessionId, inspector)).toBe(history.length);
      expect(replayed.filter((m) => m.type === '@xstate.snapshot').map((m) => m.snapshot!.value)).toEqual(
        history.map((h) => valueOf(h.to)),
      );
      expect(replayed[0]).toMatchObject({ type: '@xstate.actor', sessionId: run.sessionId });
    } finally {
      await engine.close();
      await rx.close();
    }
  });
});
