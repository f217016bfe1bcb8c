/**
 * The CLI's `demo` command prints runDemo's story: the demo store seeded, the whole default flow
 * run by engine.runCheckout, and the trajectory. Running it again on the same database adds a
 * fresh cart instead of seeding twice.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, DEFAULT_FLOW } from '../../src/index.js';
import { runDemo } from '../../src/demo/run-demo.js';
import { dropTestSchemas } from '../helpers/backends.js';
import { FLOW_BACKENDS } from './helpers.js';

afterAll(dropTestSchemas);

describe.each(FLOW_BACKENDS)('runDemo on $name', (backend) => {
  it('prints every state of the default flow with its operation and timing, twice on one database', async () => {
    const engine = await createCheckoutEngine({ storage: backend.location(), onError: () => {} });
    try {
      for (let i = 0; i < 2; i++) {
        let text = '';
        const run = await runDemo(engine, { write: (s: string) => (text += s) });
        expect(run.status, run.errors.join()).toBe('complete');
        for (const [n, step] of DEFAULT_FLOW.steps.entries()) expect(text).toMatch(new RegExp(`^\\s*${n + 1}\\. ${step.key}\\s`, 'm'));
        expect(text).toMatch(
          /^\s*2\. inventory\s+async\s+Complete\s+[\d.]+ ms\s+0Yb\w{15}\s+updateRecord\(CartDeliveryGroup\) \+ updateCheckoutSessionStateAction \+ checkCartInventoryAction$/m,
        );
        expect(text).toMatch(new RegExp(`Order ${run.orderId}: Status Activated`));
        expect(text).toMatch(new RegExp(`cart ${run.cartId} is Closed; session ${run.sessionId} is complete`));
      }
      expect(await engine.admin.count('User', [{ field: 'Username', op: '=', value: 'buyer@acme.example' }])).toBe(1);
      expect(await engine.admin.count('Order', [{ field: 'Status', op: '=', value: 'Activated' }])).toBe(2);
    } finally {
      await engine.close();
    }
  });
});
