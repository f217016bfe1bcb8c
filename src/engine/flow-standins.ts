/**
 * Stand-ins for what a store's checkout flow calls outside the flow files (docs/flows.md
 * "Stand-ins"): the Apex invocables the Salesforce quickstart templates call (B2BSyncCheckInventory,
 * B2BSyncPricing, B2BSyncDelivery, B2BSyncTax, B2BAuthorizeTokenizedPayment), the payment screen
 * components that write the cart themselves (c:paymentMethod, forceCommunity:commercePayment) and
 * the managed subflows no org can retrieve (sfdc_checkout__CartToOrder, sfdc_checkout__ActivateOrder,
 * sfdc_checkout__Error), written here as Flow metadata in the project's own words.
 *
 * The Apex stand-ins run the engine's own calculators (src/integrations) on the cart synchronously,
 * in the call, and record what the engine's step would record: the calculator's writes, the stock
 * holds of the inventory check, and the session's stamp of the computation (completion invariant
 * `computations-current`, which then checks that computation at Cart to Order whatever the flow).
 * A failing calculator throws its message, as the quickstart's Apex throws, and changes nothing.
 * Every record they touch is reached with the caller's sharing: another account's cart is unknown.
 */
import { EngineError } from '../errors.js';
import type { FlowData, RecordAccessMode } from '../flows/contract.js';
import { COMPUTATION_ACTIONS, type Computation } from '../domain/completion-invariants.js';
import { parseId } from '../domain/ids.js';
import { OBJECTS } from '../domain/objects.js';
import { authorizePaymentService } from '../actions/authorize-payment.js';
import { calculatorStepService } from './calculator-step.js';
import type { IntegrationRegistry } from '../integrations/registry.js';
import { StepFailed, type EngineCore, type StepContext, type StepService } from './core.js';
import { stampsAfterStep } from './completion.js';
import { findActiveSession, type Caller } from './facts.js';
import type { RecordService } from './record-service.js';
import type { Row } from '../storage/port.js';

/** What an Apex or component stand-in runs with. */
export interface ApexContext {
  /** The engine's core (storage, clock, id minting, flows). */
  readonly core: EngineCore;
  /** The user the interview runs as (the buyer who started it). */
  readonly caller: Caller;
  /** The record layer with its run modes. */
  readonly records: RecordService;
  /** The engine's calculators and payment gateway. */
  readonly integrations: IntegrationRegistry;
  /**
   * The record access mode the stand-in's own record work uses. The quickstart classes are
   * `with sharing` (the interview host passes `systemWithSharing`); `user` keeps every buyer rule.
   */
  readonly mode: RecordAccessMode;
}

/** An Apex invocable's stand-in: the flow's single inputs in (the host applies the bulk contract), its outputs by name. */
export type ApexStandIn = (inputs: Record<string, FlowData>, ctx: ApexContext) => Promise<Record<string, FlowData>>;

/**
 * A screen component's stand-in, called on NEXT/FINISH with its resolved inputs and the buyer's
 * answers; returns the component's outputs (FlowHost.runComponent).
 */
export type ComponentStandIn = (
  inputs: Record<string, FlowData>,
  answers: Record<string, FlowData>,
  ctx: ApexContext,
) => Promise<Record<string, FlowData>>;

const CART_PREFIX = OBJECTS.get('WebCart')!.keyPrefix;
const ADDRESS_PREFIX = OBJECTS.get('ContactPointAddress')!.keyPrefix;

/** The one cart id an input names (a single id, or a list of one as the bulk contract passes it). */
function cartIdOf(value: FlowData | undefined, input: string): string {
  const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
  const p = parseId(v, [CART_PREFIX]);
  if (!p.ok) throw new EngineError('INVALID_INPUT', `${input}: ${p.message}`, [input]);
  return p.id;
}

/** The cart as the caller reaches it with sharing (NOT_FOUND for another account's cart, as for a missing one). */
async function reachCart(ctx: ApexContext, cartId: string): Promise<Row> {
  const mode = ctx.mode === 'system' ? 'systemWithSharing' : ctx.mode;
  return (await ctx.records.get('WebCart', cartId, ctx.caller, { mode })) as unknown as Row;
}

/** A step context for running a step service in the call (the operation is this Apex call's). */
function callContext(ctx: ApexContext, cartId: string, session: Row | null, operationId: string, step: string, now: Date): StepContext {
  return {
    core: ctx.core,
    integrations: ctx.integrations,
    operation: { Id: operationId, _cartId: cartId, _step: step },
    session: session ?? { WebCartId: cartId },
    cartId,
    now,
    signal: new AbortController().signal,
  };
}

/** The BackgroundOperation row that records an Apex stand-in's run (Complete: it ran in the call). */
function apexOperation(id: string, className: string, cartId: string, sessionId: string | null, now: Date): Row {
  const stamp = now.toISOString();
  return {
    Id: id,
    CreatedDate: stamp,
    LastModifiedDate: stamp,
    Name: `${className} ${cartId}`,
    Status: 'Complete',
    Error: null,
    SubmittedAt: stamp,
    StartedAt: stamp,
    FinishedAt: stamp,
    RetryCount: 0,
    Timeout: null,
    _step: `apex:${className}`,
    _sessionId: sessionId,
    _cartId: cartId,
    _input: JSON.stringify({ cartId }),
    _leaseUntil: null,
    _version: 1,
  };
}

/** Refuses a cart the calculators can't run on now: Closed, or a step of its checkout in flight. */
function checkRunnable(cart: Row, session: Row | null): void {
  if (cart.Status === 'Closed') throw new EngineError('RECORD_LOCKED', `Cart ${String(cart.Id)} is Closed.`, ['cartIds']);
  if (session?.IsProcessing === true)
    throw new EngineError('ALREADY_IN_PROCESS', `A step of the cart's checkout is running (NextState '${String(session.NextState)}').`, [
      'cartIds',
    ]);
}

/**
 * The stand-in of a synchronous calculator class: runs the engine's calculator for `computation`
 * on the cart now, then commits its writes (and holds), its operation record and the session's
 * stamp in one transaction. A failure throws the calculator's message; nothing is written.
 */
function syncCalculator(className: string, computation: Computation, integration: string, validationType: string): ApexStandIn {
  const service: StepService = calculatorStepService(integration, validationType);
  const action = COMPUTATION_ACTIONS[computation];
  return async (inputs, ctx) => {
    const cartId = cartIdOf(inputs.cartIds, 'cartIds');
    const cart = await reachCart(ctx, cartId);
    const now = ctx.core.now();
    const operationId = ctx.core.mint('BackgroundOperation');
    const seen = await findActiveSession(ctx.core.storage, cartId);
    checkRunnable(cart, seen);
    let computed: unknown;
    try {
      computed = await service.compute!(callContext(ctx, cartId, seen, operationId, computation, now));
    } catch (e) {
      if (e instanceof StepFailed) throw new Error(e.message, { cause: e });
      throw e;
    }
    await ctx.core.atomically(async (tx) => {
      const session = await findActiveSession(tx, cartId, true);
      checkRunnable((await tx.get('WebCart', cartId))!, session);
      await service.commit(callContext(ctx, cartId, session, operationId, computation, now), tx, computed);
      await tx.insert('BackgroundOperation', [apexOperation(operationId, className, cartId, session ? String(session.Id) : null, now)]);
      if (session) {
        const stamps = await stampsAfterStep(tx, session, action, now);
        if (stamps !== null) await tx.update('CartCheckoutSession', String(session.Id), { _stamps: stamps });
      }
    });
    return {};
  };
}

/**
 * B2BAuthorizeTokenizedPayment(cartId): authorizes the cart's payment method for the session's draft
 * order through the payment integration (as authorizePaymentAction does) and records the
 * authorization on the order and the session (completion invariant `payment-settled`). The
 * quickstart class catches the failure and returns its text: `output` is the error text, or null.
 */
const authorizeTokenizedPayment: ApexStandIn = async (inputs, ctx) => {
  const cartId = cartIdOf(inputs.cartId, 'cartId');
  const cart = await reachCart(ctx, cartId);
  const session = await findActiveSession(ctx.core.storage, cartId);
  if (!session) return { output: 'There is no checkout session for this cart.' };
  if (cart.Status === 'Closed') return { output: `Cart ${cartId} is Closed.` };
  const now = ctx.core.now();
  const operationId = ctx.core.mint('BackgroundOperation');
  try {
    const computed = await authorizePaymentService.compute!(callContext(ctx, cartId, session, operationId, 'authorizePayment', now));
    await ctx.core.atomically(async (tx) => {
      const current = await tx.get('CartCheckoutSession', String(session.Id), { forUpdate: true });
      if (!current || current.OrderId !== session.OrderId)
        throw new StepFailed('The checkout changed while the payment was authorized; try again.');
      const result = await authorizePaymentService.commit(
        callContext(ctx, cartId, current, operationId, 'authorizePayment', now),
        tx,
        computed,
      );
      await tx.insert('BackgroundOperation', [apexOperation(operationId, 'B2BAuthorizeTokenizedPayment', cartId, String(current.Id), now)]);
      const stamps = result.sessionFields?._stamps;
      if (typeof stamps === 'string') await tx.update('CartCheckoutSession', String(current.Id), { _stamps: stamps });
    });
  } catch (e) {
    if (e instanceof StepFailed) return { output: e.message };
    throw e;
  }
  return { output: null };
};

/** The built-in Apex stand-ins, by class name. */
export const builtinApex: Readonly<Record<string, ApexStandIn>> = {
  B2BSyncCheckInventory: syncCalculator('B2BSyncCheckInventory', 'inventory', 'inventory', 'Inventory'),
  B2BSyncPricing: syncCalculator('B2BSyncPricing', 'pricing', 'pricing', 'Pricing'),
  B2BSyncDelivery: syncCalculator('B2BSyncDelivery', 'shipping', 'shipping', 'Shipping'),
  B2BSyncTax: syncCalculator('B2BSyncTax', 'taxes', 'taxes', 'Taxes'),
  B2BAuthorizeTokenizedPayment: authorizeTokenizedPayment,
};

// ── Components ────────────────────────────────────────────────────────────────────────────────

const text = (v: FlowData | undefined): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/**
 * The payment component (c:paymentMethod, forceCommunity:commercePayment): the buyer's answer
 * `{ paymentType: 'PurchaseOrder', purchaseOrderNumber }` or `{ paymentType: 'CardPayment', token }`
 * (a token of the payment gateway), with an optional `billingAddressId` (a ContactPointAddress of the
 * buyer's account), is written to the cart as the component's controller does: the PO number or the
 * payment method (the other one cleared) and the billing address copied from the saved address.
 * Every write goes through the record layer with the buyer's sharing.
 */
const paymentComponent: ComponentStandIn = async (inputs, answers, ctx) => {
  const cartId = cartIdOf(inputs.cartId, 'cartId');
  const type = answers.paymentType;
  const fields: Record<string, unknown> = {};
  if (type === 'PurchaseOrder') {
    Object.assign(fields, { PoNumber: text(answers.purchaseOrderNumber), PaymentMethodId: null });
  } else if (type === 'CardPayment') {
    const token = text(answers.token);
    if (!token) throw new EngineError('REQUIRED_FIELD_MISSING', '[token]: a card payment needs the payment gateway token.', ['token']);
    Object.assign(fields, { PaymentMethodId: token, PoNumber: null });
  } else {
    throw new EngineError('INVALID_INPUT', `paymentType must be 'PurchaseOrder' or 'CardPayment', not ${JSON.stringify(type ?? null)}.`, [
      'paymentType',
    ]);
  }
  const billing = answers.billingAddressId;
  if (billing !== undefined && billing !== null && billing !== '') {
    const p = parseId(billing, [ADDRESS_PREFIX]);
    if (!p.ok) throw new EngineError('INVALID_INPUT', `billingAddressId: ${p.message}`, ['billingAddressId']);
    // The buyer's own account's address only: another account's answers NOT_FOUND.
    const a = (await ctx.records.get('ContactPointAddress', p.id, ctx.caller, {
      mode: ctx.mode === 'system' ? 'systemWithSharing' : ctx.mode,
    })) as unknown as Row;
    Object.assign(fields, {
      BillingStreet: a.Street ?? null,
      BillingCity: a.City ?? null,
      BillingState: a.State ?? null,
      BillingPostalCode: a.PostalCode ?? null,
      BillingCountry: a.Country ?? null,
      BillingLatitude: a.Latitude ?? null,
      BillingLongitude: a.Longitude ?? null,
      BillingGeocodeAccuracy: a.GeocodeAccuracy ?? null,
    });
  }
  await ctx.records.update('WebCart', cartId, fields, ctx.caller, { mode: ctx.mode === 'system' ? 'systemWithSharing' : ctx.mode });
  return { ...answers };
};

/** What the buyer answers a payment component (read by its stand-in beyond the flow's outputs). */
const PAYMENT_ANSWERS = ['paymentType', 'purchaseOrderNumber', 'token', 'billingAddressId'] as const;

/** The answers each built-in component stand-in reads beyond the outputs the flow declares. */
export const builtinComponentAnswers: Readonly<Record<string, readonly string[]>> = {
  'c:paymentMethod': PAYMENT_ANSWERS,
  'forceCommunity:commercePayment': PAYMENT_ANSWERS,
};

/** The built-in component stand-ins, by extension name. */
export const builtinComponents: Readonly<Record<string, ComponentStandIn>> = {
  'c:paymentMethod': paymentComponent,
  'forceCommunity:commercePayment': paymentComponent,
};

// ── Which built-in session flow an interview's template follows ───────────────────────────────────

/**
 * The built-in session flow (src/domain/flow.ts) of a Salesforce template's top flow, by flow API
 * name: the checkout session an interview of it creates follows that flow's convention (passed as
 * `sessionFlow` to checkoutSessionAction). Null for a flow of another shape (the store's own flow).
 */
export function sessionFlowOf(flowApiName: string): string | null {
  return TEMPLATE_SESSION_FLOWS[flowApiName] ?? null;
}

const TEMPLATE_SESSION_FLOWS: Readonly<Record<string, string>> = {
  Checkout_Main_Checkout: 'salesforce-main-checkout',
  Checkout_Main_with_Salesforce_Pricing_and_Promotions: 'salesforce-main',
  Reentrant_Checkout: 'salesforce-reentrant',
};

// ── Managed subflows ──────────────────────────────────────────────────────────────────────────────

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<Flow xmlns="http://soap.sforce.com/2006/04/metadata">';
const FOOTER = '</Flow>\n';

const variable = (name: string, dataType: string, input: boolean, output: boolean, objectType?: string) =>
  `    <variables>
        <name>${name}</name>
        <dataType>${dataType}</dataType>
        <isCollection>false</isCollection>
        <isInput>${input}</isInput>
        <isOutput>${output}</isOutput>${objectType ? `\n        <objectType>${objectType}</objectType>` : ''}
    </variables>`;

const errorSubflowCall = (name: string) => `    <subflows>
        <name>${name}</name>
        <label>Show the error</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <flowName>sfdc_checkout__Error</flowName>
        <inputAssignments>
            <name>cartId</name>
            <value>
                <elementReference>cartId</elementReference>
            </value>
        </inputAssignments>
        <inputAssignments>
            <name>ErrorMessage</name>
            <value>
                <elementReference>$Flow.FaultMessage</elementReference>
            </value>
        </inputAssignments>
    </subflows>`;

/**
 * A managed async step subflow: the session id from `checkoutSessionId` or the `checkoutSession`
 * record; when the caller names `currentState` and `nextState`, the compare-and-set claim; then the
 * action with `runAsync` true, its operation id as `requestOutput`. A fault shows sfdc_checkout__Error.
 */
function managedStepFlow(label: string, action: string, extraInputs: string, requestOutput: string): string {
  return `${HEADER}
    <actionCalls>
        <name>Run_Action</name>
        <label>${label}</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <actionName>${action}</actionName>
        <actionType>${action}</actionType>
        <faultConnector>
            <targetReference>Show_Error</targetReference>
        </faultConnector>
        <flowTransactionModel>CurrentTransaction</flowTransactionModel>
        <inputParameters>
            <name>cartId</name>
            <value>
                <elementReference>cartId</elementReference>
            </value>
        </inputParameters>${extraInputs}
        <inputParameters>
            <name>runAsync</name>
            <value>
                <booleanValue>true</booleanValue>
            </value>
        </inputParameters>
        <outputParameters>
            <assignToReference>${requestOutput}</assignToReference>
            <name>backgroundOperationId</name>
        </outputParameters>
    </actionCalls>
    <actionCalls>
        <name>Claim_Next_State</name>
        <label>Claim the next state</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <actionName>updateCheckoutSessionStateAction</actionName>
        <actionType>updateCheckoutSessionStateAction</actionType>
        <connector>
            <targetReference>Run_Action</targetReference>
        </connector>
        <faultConnector>
            <targetReference>Show_Error</targetReference>
        </faultConnector>
        <flowTransactionModel>CurrentTransaction</flowTransactionModel>
        <inputParameters>
            <name>checkoutSessionId</name>
            <value>
                <elementReference>sessionId</elementReference>
            </value>
        </inputParameters>
        <inputParameters>
            <name>expCurrentState</name>
            <value>
                <elementReference>currentState</elementReference>
            </value>
        </inputParameters>
        <inputParameters>
            <name>nextState</name>
            <value>
                <elementReference>nextState</elementReference>
            </value>
        </inputParameters>
    </actionCalls>
    <apiVersion>52.0</apiVersion>
    <assignments>
        <name>Session_From_Record</name>
        <label>Session id from the session record</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <assignmentItems>
            <assignToReference>sessionId</assignToReference>
            <operator>Assign</operator>
            <value>
                <elementReference>checkoutSession.Id</elementReference>
            </value>
        </assignmentItems>
        <connector>
            <targetReference>Claims_A_State</targetReference>
        </connector>
    </assignments>
    <assignments>
        <name>Session_From_Id</name>
        <label>Session id as given</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <assignmentItems>
            <assignToReference>sessionId</assignToReference>
            <operator>Assign</operator>
            <value>
                <elementReference>checkoutSessionId</elementReference>
            </value>
        </assignmentItems>
        <connector>
            <targetReference>Claims_A_State</targetReference>
        </connector>
    </assignments>
    <decisions>
        <name>Claims_A_State</name>
        <label>Does the caller claim a state?</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <defaultConnector>
            <targetReference>Run_Action</targetReference>
        </defaultConnector>
        <defaultConnectorLabel>No claim</defaultConnectorLabel>
        <rules>
            <name>Claim</name>
            <conditionLogic>and</conditionLogic>
            <conditions>
                <leftValueReference>nextState</leftValueReference>
                <operator>IsNull</operator>
                <rightValue>
                    <booleanValue>false</booleanValue>
                </rightValue>
            </conditions>
            <conditions>
                <leftValueReference>currentState</leftValueReference>
                <operator>IsNull</operator>
                <rightValue>
                    <booleanValue>false</booleanValue>
                </rightValue>
            </conditions>
            <connector>
                <targetReference>Claim_Next_State</targetReference>
            </connector>
            <label>Claim</label>
        </rules>
    </decisions>
    <decisions>
        <name>Which_Session</name>
        <label>Which session input was given?</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <defaultConnector>
            <targetReference>Session_From_Record</targetReference>
        </defaultConnector>
        <defaultConnectorLabel>The session record</defaultConnectorLabel>
        <rules>
            <name>Session_Id_Given</name>
            <conditionLogic>and</conditionLogic>
            <conditions>
                <leftValueReference>checkoutSessionId</leftValueReference>
                <operator>IsNull</operator>
                <rightValue>
                    <booleanValue>false</booleanValue>
                </rightValue>
            </conditions>
            <connector>
                <targetReference>Session_From_Id</targetReference>
            </connector>
            <label>Session id given</label>
        </rules>
    </decisions>
    <description>Checkout Engine's built-in stand-in for the managed subflow of the same name: claims the next state when asked, then runs ${action} in the background.</description>
    <interviewLabel>${label} {!$Flow.CurrentDateTime}</interviewLabel>
    <label>${label} (built-in)</label>
    <processType>CheckoutFlow</processType>
    <start>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <connector>
            <targetReference>Which_Session</targetReference>
        </connector>
    </start>
    <status>Active</status>
${errorSubflowCall('Show_Error')}
${variable('cartId', 'String', true, false)}
${variable('checkoutSession', 'SObject', true, false, 'CartCheckoutSession')}
${variable('checkoutSessionId', 'String', true, false)}
${variable('currentState', 'String', true, true)}
${variable('nextState', 'String', true, true)}
${variable(requestOutput, 'String', false, true)}
${variable('sessionId', 'String', false, false)}
${FOOTER}`;
}

/**
 * sfdc_checkout__Error: a refresh request shows the out-of-date message; an ErrorMessage shows it
 * with the cancel-checkout button; otherwise the cart's error-level CartValidationOutput messages.
 */
const ERROR_FLOW = `${HEADER}
    <apiVersion>52.0</apiVersion>
    <assignments>
        <name>Add_Message</name>
        <label>Add the message</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <assignmentItems>
            <assignToReference>messages</assignToReference>
            <operator>Add</operator>
            <value>
                <elementReference>Each_Output.Message</elementReference>
            </value>
        </assignmentItems>
        <assignmentItems>
            <assignToReference>messages</assignToReference>
            <operator>Add</operator>
            <value>
                <stringValue> </stringValue>
            </value>
        </assignmentItems>
        <connector>
            <targetReference>Each_Output</targetReference>
        </connector>
    </assignments>
    <decisions>
        <name>What_To_Show</name>
        <label>What to show</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <defaultConnector>
            <targetReference>Get_Validation_Outputs</targetReference>
        </defaultConnector>
        <defaultConnectorLabel>The cart's messages</defaultConnectorLabel>
        <rules>
            <name>Refresh</name>
            <conditionLogic>and</conditionLogic>
            <conditions>
                <leftValueReference>refreshPage</leftValueReference>
                <operator>EqualTo</operator>
                <rightValue>
                    <booleanValue>true</booleanValue>
                </rightValue>
            </conditions>
            <connector>
                <targetReference>Refresh_Screen</targetReference>
            </connector>
            <label>Refresh</label>
        </rules>
        <rules>
            <name>Message_Given</name>
            <conditionLogic>and</conditionLogic>
            <conditions>
                <leftValueReference>ErrorMessage</leftValueReference>
                <operator>IsNull</operator>
                <rightValue>
                    <booleanValue>false</booleanValue>
                </rightValue>
            </conditions>
            <connector>
                <targetReference>Error_Screen</targetReference>
            </connector>
            <label>Message given</label>
        </rules>
    </decisions>
    <description>Checkout Engine's built-in stand-in for the managed error subflow: shows what went wrong and offers to cancel the checkout.</description>
    <interviewLabel>Checkout error {!$Flow.CurrentDateTime}</interviewLabel>
    <label>Checkout error (built-in)</label>
    <loops>
        <name>Each_Output</name>
        <label>Each message</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <collectionReference>validationOutputs</collectionReference>
        <iterationOrder>Asc</iterationOrder>
        <nextValueConnector>
            <targetReference>Add_Message</targetReference>
        </nextValueConnector>
        <noMoreValuesConnector>
            <targetReference>Messages_Screen</targetReference>
        </noMoreValuesConnector>
    </loops>
    <processType>CheckoutFlow</processType>
    <recordLookups>
        <name>Get_Validation_Outputs</name>
        <label>Get the cart's messages</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <assignNullValuesIfNoRecordsFound>false</assignNullValuesIfNoRecordsFound>
        <connector>
            <targetReference>Each_Output</targetReference>
        </connector>
        <filterLogic>and</filterLogic>
        <filters>
            <field>CartId</field>
            <operator>EqualTo</operator>
            <value>
                <elementReference>cartId</elementReference>
            </value>
        </filters>
        <filters>
            <field>Level</field>
            <operator>EqualTo</operator>
            <value>
                <stringValue>Error</stringValue>
            </value>
        </filters>
        <getFirstRecordOnly>false</getFirstRecordOnly>
        <object>CartValidationOutput</object>
        <outputReference>validationOutputs</outputReference>
        <queriedFields>Id</queriedFields>
        <queriedFields>Message</queriedFields>
    </recordLookups>
    <screens>
        <name>Error_Screen</name>
        <label>Something went wrong</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <allowBack>false</allowBack>
        <allowFinish>true</allowFinish>
        <allowPause>false</allowPause>
        <fields>
            <name>Error_Text</name>
            <fieldText>&lt;p&gt;Something went wrong with this checkout. Cancel it and try again.&lt;/p&gt;&lt;p&gt;{!ErrorMessage}&lt;/p&gt;</fieldText>
            <fieldType>DisplayText</fieldType>
        </fields>
        <fields>
            <name>Cancel_Checkout</name>
            <extensionName>forceCommunity:cancelCheckoutButton</extensionName>
            <fieldType>ComponentInstance</fieldType>
            <inputParameters>
                <name>cartId</name>
                <value>
                    <elementReference>cartId</elementReference>
                </value>
            </inputParameters>
            <inputsOnNextNavToAssocScrn>UseStoredValues</inputsOnNextNavToAssocScrn>
            <isRequired>true</isRequired>
            <storeOutputAutomatically>true</storeOutputAutomatically>
        </fields>
        <showFooter>false</showFooter>
        <showHeader>false</showHeader>
    </screens>
    <screens>
        <name>Messages_Screen</name>
        <label>The cart's messages</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <allowBack>false</allowBack>
        <allowFinish>true</allowFinish>
        <allowPause>false</allowPause>
        <fields>
            <name>Messages_Text</name>
            <fieldText>&lt;p&gt;This checkout can't go on: {!messages}&lt;/p&gt;</fieldText>
            <fieldType>DisplayText</fieldType>
        </fields>
        <showFooter>false</showFooter>
        <showHeader>false</showHeader>
    </screens>
    <screens>
        <name>Refresh_Screen</name>
        <label>Out of date</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <allowBack>false</allowBack>
        <allowFinish>true</allowFinish>
        <allowPause>false</allowPause>
        <fields>
            <name>Refresh_Text</name>
            <fieldText>&lt;p&gt;This checkout is out of date, please refresh the page.&lt;/p&gt;</fieldText>
            <fieldType>DisplayText</fieldType>
        </fields>
        <showFooter>false</showFooter>
        <showHeader>false</showHeader>
    </screens>
    <start>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <connector>
            <targetReference>What_To_Show</targetReference>
        </connector>
    </start>
    <status>Active</status>
${variable('cartId', 'String', true, false)}
${variable('ErrorMessage', 'String', true, false)}
    <variables>
        <name>messages</name>
        <dataType>String</dataType>
        <isCollection>false</isCollection>
        <isInput>false</isInput>
        <isOutput>false</isOutput>
    </variables>
    <variables>
        <name>refreshPage</name>
        <dataType>Boolean</dataType>
        <isCollection>false</isCollection>
        <isInput>true</isInput>
        <isOutput>false</isOutput>
        <value>
            <booleanValue>false</booleanValue>
        </value>
    </variables>
    <variables>
        <name>validationOutputs</name>
        <dataType>SObject</dataType>
        <isCollection>true</isCollection>
        <isInput>false</isInput>
        <isOutput>false</isOutput>
        <objectType>CartValidationOutput</objectType>
    </variables>
${FOOTER}`;

const ACTIVATE_INPUTS = `
        <inputParameters>
            <name>orderStatus</name>
            <value>
                <stringValue>Activated</stringValue>
            </value>
        </inputParameters>
        <inputParameters>
            <name>orderLifeCycleType</name>
            <value>
                <stringValue>UNMANAGED</stringValue>
            </value>
        </inputParameters>`;

/**
 * The managed subflows, by API name, as Flow metadata XML. Inputs as the templates pass them at
 * their call sites: `cartId`, the session as `checkoutSessionId` or the `checkoutSession` record,
 * `currentState` and `nextState` (CartToOrder, ActivateOrder); `cartId`, `ErrorMessage`,
 * `refreshPage` (Error). Outputs: `cartToOrderRequestId`, `activateOrderRequestId`.
 */
export const builtinSubflows: Readonly<Record<string, string>> = {
  sfdc_checkout__CartToOrder: managedStepFlow('Cart To Order', 'cartToOrderAction', '', 'cartToOrderRequestId'),
  sfdc_checkout__ActivateOrder: managedStepFlow('Activate Order', 'activateOrderAction', ACTIVATE_INPUTS, 'activateOrderRequestId'),
  sfdc_checkout__Error: ERROR_FLOW,
};
