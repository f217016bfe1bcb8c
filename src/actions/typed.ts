/**
 * The typed face of the standard actions: for each action name, the inputs it takes and the
 * outputs it returns, so `engine.invoke('cartToOrderAction', [{ cartId }], as)` is checked by the
 * compiler (a misspelt action name or input parameter doesn't compile) and its result narrows on
 * `isSuccess`. test/actions/typed-invoke.test.ts checks this map against the described params of
 * ACTIONS, so the two can't drift apart.
 */

/** One error of an action result. */
export interface ActionError {
  statusCode: string;
  message: string;
  fields: string[];
}

/** A successful result: `outputValues` are the action's outputs. */
export interface ActionSuccess<O = Record<string, unknown>> {
  actionName: string;
  errors: null;
  isSuccess: true;
  outputValues: O;
  version: 1;
  /** 200 on success. */
  httpStatus: 200;
}

/** A failed result: `errors` says why, `outputValues` is null. */
export interface ActionFailure {
  actionName: string;
  errors: ActionError[];
  isSuccess: false;
  outputValues: null;
  version: 1;
  /** The documented status of the error (400, 401, 404, 409, 500, …). */
  httpStatus: number;
}

/**
 * The result of one input, as Salesforce's invocable-action REST API returns it, plus `httpStatus`.
 * Check `isSuccess` to narrow it: on success `outputValues` is non-null.
 */
export type InvocationResult<O = Record<string, unknown>> = ActionSuccess<O> | ActionFailure;

/** Inputs of the async step actions (cartId and, except authorizePaymentAction, runAsync). */
type AsyncStepInputs = {
  /** The cart in checkout (15 or 18 characters). */
  cartId: string;
  /** Run the operation in the background and return at once (default false: wait for it); also "true" / "false" as Flow sends them. */
  runAsync?: boolean | 'true' | 'false';
};

/** Outputs of the async step actions. */
type AsyncStepOutputs = {
  /** The BackgroundOperation tracking the step. */
  backgroundOperationId: string;
};

/** The inputs and outputs of a state-claim action. */
type ClaimAction = {
  inputs: { checkoutSessionId: string; expCurrentState: string; nextState: string };
  outputs: { requestId: string };
};

/** Every standard action: its inputs and outputs (Salesforce's names and types). */
export interface CheckoutActions {
  checkoutSessionAction: { inputs: { cartId: string; initialState?: string }; outputs: { requestId: string } };
  updateCheckoutSessionStateAction: ClaimAction;
  updateCheckoutSessionAction: ClaimAction;
  checkCartInventoryAction: { inputs: AsyncStepInputs; outputs: AsyncStepOutputs };
  priceCart: { inputs: AsyncStepInputs; outputs: AsyncStepOutputs };
  calcCartPromotionsAction: { inputs: AsyncStepInputs; outputs: AsyncStepOutputs };
  calcCartShipmentAction: { inputs: AsyncStepInputs; outputs: AsyncStepOutputs };
  calcCartTaxesAction: { inputs: AsyncStepInputs; outputs: AsyncStepOutputs };
  cartToOrderAction: { inputs: AsyncStepInputs; outputs: AsyncStepOutputs };
  authorizePaymentAction: { inputs: { cartId: string }; outputs: AsyncStepOutputs };
  activateOrderAction: {
    inputs: AsyncStepInputs & { orderStatus?: 'Activated' | 'Draft'; orderLifeCycleType?: 'MANAGED' | 'UNMANAGED' };
    outputs: AsyncStepOutputs;
  };
  setCheckoutDeliveryMethod: { inputs: { cartId: string; deliveryMethodId: string }; outputs: Record<string, never> };
  cancelCartAsyncOperation: { inputs: { cartId: string }; outputs: { backgroundOperationId: string | null } };
}

/** The name of a standard action. */
export type ActionName = keyof CheckoutActions;
/** One input of action `A`. */
export type ActionInput<A extends ActionName> = CheckoutActions[A]['inputs'];
/** The outputs of action `A` on success. */
export type ActionOutput<A extends ActionName> = CheckoutActions[A]['outputs'];
/** The result of one input of action `A`. */
export type ActionResult<A extends ActionName> = InvocationResult<ActionOutput<A>>;

/**
 * What `engine.invoke` accepts as the action name `N`: a standard action's name, or any `string`
 * when the name is only known at run time (then inputs and results are untyped). A string literal
 * that names no standard action doesn't compile; call `engine.invokeAny` for a custom flow step's
 * action or a name you want checked at run time only.
 */
export type InvokeName<N extends string> = N extends ActionName ? N : string extends N ? N : ActionName;
/** The inputs `engine.invoke` accepts for the name `N`. */
export type InvokeInputs<N extends string> = N extends ActionName ? readonly ActionInput<N>[] : unknown;
/** The results `engine.invoke` returns for the name `N`. */
export type InvokeResult<N extends string> = N extends ActionName ? ActionResult<N> : InvocationResult;
