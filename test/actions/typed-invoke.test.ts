/**
 * The typed action map (CheckoutActions) against the actions the engine serves: the same names and
 * the same input parameters, and — checked by `tsc -p tsconfig.json` (npm test's typecheck) through
 * the `@ts-expect-error` lines below — a misspelt action name or input parameter, a wrong input type
 * or reading outputValues before checking isSuccess doesn't compile, while `invokeAny` and a name
 * known only at run time stay untyped.
 */
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  createCheckoutEngine,
  demo,
  type ActionInput,
  type ActionName,
  type CheckoutEngine,
  type InvocationResult,
} from '../../src/index.js';

/** One input of every action with every parameter set: tsc rejects a missing action, a missing parameter or an extra one. */
const everyInput: { [A in ActionName]: Required<ActionInput<A>> } = {
  checkoutSessionAction: { cartId: 'c', initialState: 'Start' },
  updateCheckoutSessionStateAction: { checkoutSessionId: 's', expCurrentState: 'a', nextState: 'b' },
  updateCheckoutSessionAction: { checkoutSessionId: 's', expCurrentState: 'a', nextState: 'b' },
  checkCartInventoryAction: { cartId: 'c', runAsync: true },
  priceCart: { cartId: 'c', runAsync: true },
  calcCartPromotionsAction: { cartId: 'c', runAsync: true },
  calcCartShipmentAction: { cartId: 'c', runAsync: true },
  calcCartTaxesAction: { cartId: 'c', runAsync: true },
  cartToOrderAction: { cartId: 'c', runAsync: true },
  authorizePaymentAction: { cartId: 'c' },
  activateOrderAction: { cartId: 'c', runAsync: true, orderStatus: 'Activated', orderLifeCycleType: 'MANAGED' },
  setCheckoutDeliveryMethod: { cartId: 'c', deliveryMethodId: 'd' },
  cancelCartAsyncOperation: { cartId: 'c' },
};

/** Never called: only compiled. Each @ts-expect-error fails the typecheck if the line below it compiles. */
async function compileTimeChecks(engine: CheckoutEngine, cartId: string, dynamicName: string) {
  const as = { userId: 'u' };
  // @ts-expect-error a misspelt action name
  await engine.invoke('cartToOrderActon', [{ cartId }], as);
  // @ts-expect-error a misspelt input parameter
  await engine.invoke('cartToOrderAction', [{ cartID: cartId }], as);
  // @ts-expect-error a missing required input
  await engine.invoke('setCheckoutDeliveryMethod', [{ cartId }], as);
  // @ts-expect-error a wrong input type
  await engine.invoke('cartToOrderAction', [{ cartId, runAsync: 1 }], as);
  // @ts-expect-error an option outside its documented values
  await engine.invoke('activateOrderAction', [{ cartId, orderStatus: 'Shipped' }], as);
  // @ts-expect-error inputs must be a list
  await engine.invoke('cartToOrderAction', { cartId }, as);

  const [r] = await engine.invoke('cartToOrderAction', [{ cartId, runAsync: true }], as);
  if (!r) return;
  // @ts-expect-error outputValues may be null until isSuccess is checked
  void r.outputValues.backgroundOperationId;
  if (r.isSuccess) {
    const id: string = r.outputValues.backgroundOperationId;
    // @ts-expect-error an output the action doesn't have
    void r.outputValues.requestId;
    void id;
  } else {
    const code: string = r.errors[0]!.statusCode;
    void code;
  }
  const [s] = await engine.invoke('checkoutSessionAction', [{ cartId }], as);
  if (s?.isSuccess) void (s.outputValues.requestId satisfies string);

  // Untyped forms, for names known at run time or custom flow steps' actions.
  const any: InvocationResult[] = await engine.invokeAny('creditCheckAction', [{ cartId, whatever: 1 }], as);
  const dyn: InvocationResult[] = await engine.invoke(dynamicName, [{ anything: true }], as);
  void any;
  void dyn;
}
void compileTimeChecks;

describe('typed invoke', () => {
  it('the action map names every served action, with exactly its described input parameters', () => {
    expect(Object.keys(everyInput).sort()).toEqual([...ACTIONS.keys()].sort());
    for (const [name, def] of ACTIONS) {
      expect(Object.keys(everyInput[name as ActionName]).sort(), name).toEqual(def.inputs.map((p) => p.name).sort());
    }
  });

  it('typed and untyped calls run the same action and return the same result shape, with the outputs the map declares', async () => {
    const engine = await createCheckoutEngine({ storage: ':memory:' });
    try {
      const { buyerId, cartId } = await demo.newCart(engine);
      const as = { userId: buyerId };
      const [typed] = await engine.invoke('checkoutSessionAction', [{ cartId }], as);
      expect(typed).toMatchObject({ actionName: 'checkoutSessionAction', isSuccess: true, errors: null, version: 1, httpStatus: 200 });
      expect(typed!.isSuccess && Object.keys(typed!.outputValues)).toEqual(['requestId']);
      const [again] = await engine.invokeAny('checkoutSessionAction', [{ cartId }], as);
      expect(again).toEqual(typed);
      const [refused] = await engine.invokeAny('checkoutSessionAction', [{ cartRef: cartId }], as);
      expect(refused).toMatchObject({
        isSuccess: false,
        outputValues: null,
        httpStatus: 400,
        errors: [{ statusCode: 'INVALID_INPUT', fields: ['cartRef'] }],
      });
    } finally {
      await engine.close();
    }
  });
});
