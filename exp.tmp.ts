import { createCheckoutEngine } from './src/index.js';
import { layoutFlow } from './src/inspect/layout.js';
const e = await createCheckoutEngine({ storage: ':memory:' });
const f = (e.core as any).flow('default').flow;
const c = await layoutFlow(f);
console.log(c.width, c.height);
for (const n of c.nodes) console.log(n.id, Math.round(n.x), Math.round(n.y), Math.round(n.width));
await e.close();
