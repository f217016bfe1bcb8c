import { it } from 'vitest';
import { buildWorld, invariantProblems } from './hostile-world.js';
it('probe', async () => {
  for (const [type, key] of [['WebCart', 'cartDone'], ['CartCheckoutSession', 'sessionDone'], ['Account', 'acme']] as const) {
    const w = await buildWorld(':memory:');
    const [session] = await w.engine.core.storage.find('CartCheckoutSession', { where: [{ field: 'WebCartId', op: '=', value: w.named.cartDone }] });
    const [user] = await w.engine.core.storage.find('User', { where: [{ field: 'Id', op: '=', value: w.users.a }] });
    const id = key === 'cartDone' ? w.named.cartDone : key === 'sessionDone' ? String(session!.Id) : String(user!.AccountId);
    let out = 'ok';
    try { await w.engine.deleteRecord(type, id, { userId: w.users.admin }); } catch (e) { out = (e as Error).message; }
    console.log('DEL', type, out, await invariantProblems(w));
    await w.close();
  }
}, 120000);
