/** What the interview tests share: the fixture folders and the store's own Apex and component stand-ins. */
import { fileURLToPath } from 'node:url';
import { FlowFault } from '../../src/flows/contract.js';

export const GOOD = fileURLToPath(new URL('./fixtures/engine/good', import.meta.url));
export const BROKEN = fileURLToPath(new URL('./fixtures/engine/broken', import.meta.url));

/** The store's own Apex and component stand-ins the fixture flows use. */
export const storeCode = {
  apex: {
    PoNumberCheck: async ({ poNumber }: Record<string, unknown>) => {
      if (typeof poNumber !== 'string' || !/^PO-\d+$/.test(poNumber))
        throw new FlowFault(`PO number '${String(poNumber)}' is not of the form PO-<digits>.`);
      return { normalized: poNumber.toUpperCase() };
    },
  },
  components: {
    'c:poNumberInput': async (_inputs: Record<string, unknown>, answers: Record<string, unknown>) => ({
      poNumber: String(answers.poNumber ?? '').trim(),
    }),
  },
};
