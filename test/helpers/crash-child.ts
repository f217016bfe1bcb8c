/**
 * A separate engine process for crash tests: runs cartToOrderAction on a claimed cart and stalls at
 * the named point (`before` the commit transaction, or `inside` it after the order rows were
 * written), telling the parent it is there so the parent can kill -9 it.
 */
import { createCheckoutEngine } from '../../src/index.js';

const [location, cartId, userId, point] = process.argv.slice(2) as [string, string, string, 'before' | 'inside'];
const stall = async () => {
  process.send?.('stalled');
  await new Promise(() => {});
};
const engine = await createCheckoutEngine({
  storage: location,
  recover: false,
  faults: point === 'inside' ? { insideCommit: stall } : { beforeCommit: stall },
});
await engine.invoke('cartToOrderAction', [{ cartId, runAsync: false }], { userId });
