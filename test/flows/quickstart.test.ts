/**
 * Salesforce's public quickstart checkout flows, fetched outside the repository into $QUICKSTART_DIR/<folder>
 * (they are not the project's to commit). Every file there must parse and load with a registry of the
 * engine's core actions, the quickstart's Apex classes and components, and minimal stand-ins for the
 * managed subflows; the re-entrant template then runs to its first screen. Runs only when QUICKSTART_DIR names that copy (vitest.config.ts).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatIssue, loadFlowSources, parseFlowXml } from '../../src/flows/load.js';
import type { FlowDefinition } from '../../src/flows/metadata.js';
import { createFlowRuntime } from '../../src/flows/runtime.js';
import { interviewExecutor } from '../../src/engine/interview-machines.js';
import { MemoryHost } from './memory-host.js';

const QS = process.env.QUICKSTART_DIR ?? '/tmp/qs';
const folders = existsSync(QS)
  ? readdirSync(QS).filter((f) => statSync(join(QS, f)).isDirectory() && readdirSync(join(QS, f)).some((x) => x.endsWith('.flow')))
  : [];

export const QUICKSTART_REGISTRY = {
  coreActions: new Set([
    'priceCart',
    'checkCartInventoryAction',
    'calcCartShipmentAction',
    'calcCartTaxesAction',
    'calcCartPromotionsAction',
    'cartToOrderAction',
    'activateOrderAction',
    'checkoutSessionAction',
    'updateCheckoutSessionStateAction',
    'cancelCartAsyncOperation',
    'setCheckoutDeliveryMethod',
    'authorizePaymentAction',
  ]),
  apex: new Set(['B2BSyncCheckInventory', 'B2BSyncPricing', 'B2BSyncDelivery', 'B2BSyncTax', 'B2BAuthorizeTokenizedPayment']),
  components: new Set([
    'forceCommunity:commerceDelivery',
    'commerce_checkout:deliveryMethod',
    'forceCommunity:cancelCheckoutButton',
    'forceCommunity:commerceCheckoutSummary',
    'forceCommunity:commercePayment',
    'c:paymentMethod',
    'c:navigationButtons',
  ]),
};

/** Minimal managed subflows for loading only: their inputs as the call sites use them (the engine's stand-ins are real). */
function managed(name: string, inputs: Array<[string, string, string?]>): FlowDefinition {
  const vars = inputs
    .map(
      ([n, type, obj]) =>
        `<variables><name>${n}</name><dataType>${type}</dataType><isInput>true</isInput><isOutput>true</isOutput>${obj ? `<objectType>${obj}</objectType>` : ''}</variables>`,
    )
    .join('');
  const { definition, issues } = parseFlowXml(
    `<Flow><label>${name}</label><processType>CheckoutFlow</processType>${vars}</Flow>`,
    `builtin:${name}`,
    name,
  );
  expect(issues).toEqual([]);
  return definition!;
}
const text = (n: string): [string, string] => [n, 'String'];
export const MANAGED_FOR_LOADING = [
  managed('sfdc_checkout__CartToOrder', [text('cartId'), text('checkoutSessionId'), text('currentState'), text('nextState')]),
  managed('sfdc_checkout__ActivateOrder', [
    text('cartId'),
    ['checkoutSession', 'SObject', 'CartCheckoutSession'],
    text('currentState'),
    text('nextState'),
    text('checkoutSessionId'),
  ]),
  managed('sfdc_checkout__Error', [
    text('cartId'),
    text('ErrorMessage'),
    text('currentState'),
    text('nextState'),
    ['refreshPage', 'Boolean'],
  ]),
];

describe.skipIf(folders.length === 0)('Salesforce quickstart flows (/tmp/qs)', () => {
  it.each(folders)('%s: every file parses and loads', async (folder) => {
    const dir = join(QS, folder);
    const files = readdirSync(dir).filter((f) => f.endsWith('.flow'));
    const { definitions, issues } = await loadFlowSources([dir], QUICKSTART_REGISTRY, MANAGED_FOR_LOADING);
    expect(issues.map(formatIssue)).toEqual([]);
    expect(definitions.length).toBe(files.length + MANAGED_FOR_LOADING.length);
  });

  it.skipIf(!folders.includes('checkout-reentrant'))(
    'the re-entrant template runs: shipping address screen, then each asynchronous step waits until its job ends, up to the delivery method screen',
    async () => {
      const { definitions } = await loadFlowSources([join(QS, 'checkout-reentrant')], QUICKSTART_REGISTRY, MANAGED_FOR_LOADING);
      const host = new MemoryHost();
      const cartId = host.insert('WebCart', { Status: 'Checkout' });
      host.actions.set('checkoutSessionAction', (inputs) => {
        const existing = [...(host.tables.get('CartCheckoutSession')?.values() ?? [])].find((s) => s.WebCartId === inputs.cartId);
        return {
          requestId: existing
            ? existing.Id
            : host.insert('CartCheckoutSession', {
                WebCartId: String(inputs.cartId),
                Name: 'Checkout',
                State: String(inputs.initialState),
                NextState: null,
                IsProcessing: false,
                OrderId: null,
                IsError: false,
              }),
        };
      });
      const runtime = createFlowRuntime(definitions, { executor: interviewExecutor });
      const s = await runtime.start('Reentrant_Checkout', { cartId }, host);
      expect(s.view).toMatchObject({
        status: 'Paused',
        currentElement: 'ShippingAddressScreen',
        stack: ['Reentrant_Checkout', 'Reentrant_Subflow_Shipping_Address'],
      });
      expect(s.view.screen!.fields[0]).toMatchObject({
        extensionName: 'forceCommunity:commerceDelivery',
        outputNames: ['contactPointAddressId', 'shippingInstructions'],
      });
      // Session queries ran with sharing kept (the template's SystemModeWithSharing, inherited by DefaultMode subflows).
      expect(host.calls.filter((c) => c.kind === 'query').every((c) => c.mode === 'systemWithSharing')).toBe(true);

      // The asynchronous steps: each action marks the session processing; the wait screen holds until the job ends.
      const session = () => [...host.tables.get('CartCheckoutSession')!.values()][0];
      const setSession = (patch: Record<string, string | boolean | null>) =>
        host.tables.get('CartCheckoutSession')!.set(String(session().Id), { ...session(), ...patch });
      host.actions.set('updateCheckoutSessionStateAction', (i) => (setSession({ NextState: String(i.nextState) }), {}));
      for (const a of [
        'checkCartInventoryAction',
        'priceCart',
        'calcCartPromotionsAction',
        'calcCartShipmentAction',
        'calcCartTaxesAction',
      ])
        host.actions.set(a, () => (setSession({ IsProcessing: true }), { backgroundOperationId: `job-${a}` }));
      const finishJob = () => setSession({ State: String(session().NextState), IsProcessing: false });
      const addressId = host.insert('ContactPointAddress', {
        City: 'Oakland',
        Country: 'US',
        Street: '500 Harbor Way',
        State: 'CA',
        PostalCode: '94607',
        Name: 'Dock',
      });
      const groupId = host.insert('CartDeliveryGroup', { CartId: cartId });

      let state = await runtime.navigate(
        s,
        { action: 'NEXT', answers: { shippingAddress: { contactPointAddressId: addressId, shippingInstructions: 'Ring twice' } } },
        host,
      );
      expect(host.get('CartDeliveryGroup', groupId)).toMatchObject({
        DeliverToCity: 'Oakland',
        DeliverToStreet: '500 Harbor Way',
        ShippingInstructions: 'Ring twice',
      });
      expect(state.view).toMatchObject({ status: 'Waiting', currentElement: 'Wait_Screen', stack: ['Reentrant_Checkout'] });
      expect(session()).toMatchObject({ State: 'Inventory', NextState: 'Confirm Price', IsProcessing: true });
      const visited: string[] = [];
      while (state.view.status === 'Waiting') {
        expect((await runtime.resume(state, host)).view.status).toBe('Waiting'); // still processing: nothing moves
        visited.push(String(session().State));
        finishJob();
        state = await runtime.resume(state, host);
      }
      expect(visited).toEqual(['Inventory', 'Confirm Price', 'Calculate Promotions', 'Shipping Cost']);
      expect(state.view).toMatchObject({
        status: 'Paused',
        currentElement: 'Delivery_Method_Screen',
        stack: ['Reentrant_Checkout', 'Reentrant_Subflow_Delivery_Method'],
      });
      expect(state.view.screen!.availableActions).toEqual(['NEXT']);
    },
  );

  it.skipIf(!folders.includes('checkout-main'))(
    'the main template runs its synchronous steps between screens; its navigation buttons lead back',
    async () => {
      const { definitions } = await loadFlowSources([join(QS, 'checkout-main')], QUICKSTART_REGISTRY, MANAGED_FOR_LOADING);
      const host = new MemoryHost();
      const cartId = host.insert('WebCart', { Status: 'Active', PaymentMethodId: null, GrandTotalAmount: 0 });
      host.actions.set('cancelCartAsyncOperation', () => ({}));
      host.actions.set('checkoutSessionAction', (i) => {
        host.tables.set('WebCart', new Map([[cartId, { ...host.get('WebCart', cartId)!, Status: 'Checkout' }]]));
        return {
          requestId: host.insert('CartCheckoutSession', { WebCartId: String(i.cartId), State: 'Start', IsArchived: false, IsError: false }),
        };
      });
      for (const a of ['B2BSyncCheckInventory', 'B2BSyncPricing', 'B2BSyncDelivery', 'B2BSyncTax']) host.actions.set(a, () => ({}));
      host.actions.set('setCheckoutDeliveryMethod', () => ({}));
      const addressId = host.insert('ContactPointAddress', { City: 'Oakland', Name: 'Dock' });
      const groupId = host.insert('CartDeliveryGroup', { CartId: cartId });
      const runtime = createFlowRuntime(definitions, { executor: interviewExecutor });

      let s = await runtime.start('Checkout_Main_Checkout', { cartId }, host);
      expect(s.view).toMatchObject({ status: 'Paused', currentElement: 'Shipping_Options' });
      expect(s.view.screen!.availableActions).toEqual(['NEXT']);
      s = await runtime.navigate(
        s,
        { action: 'NEXT', answers: { Shipping: { contactPointAddressId: addressId, shippingInstructions: 'Gate 4' } } },
        host,
      );
      expect(host.get('CartDeliveryGroup', groupId)).toMatchObject({
        DeliverToCity: 'Oakland',
        DeliverToName: 'Dock',
        ShippingInstructions: 'Gate 4',
      });
      expect(host.calls.filter((c) => c.kind === 'apex').map((c) => [c.name, c.inputs])).toEqual([
        ['B2BSyncCheckInventory', { cartIds: cartId }],
        ['B2BSyncPricing', { cartIds: cartId }],
        ['B2BSyncDelivery', { cartIds: cartId }],
      ]);
      expect(s.view).toMatchObject({ currentElement: 'Delivery_Method_Screen' });
      expect(s.view.screen!.fields.map((f) => [f.name, f.outputNames])).toEqual([
        ['DeliveryMethod', ['orderDeliveryMethodId']],
        ['NavButtons', ['selectedAction']],
      ]);
      // The navigation buttons component answers BACK: the flow's own decision returns to the shipping screen.
      const back = await runtime.navigate(
        s,
        { action: 'NEXT', answers: { DeliveryMethod: { orderDeliveryMethodId: 'x' }, NavButtons: { selectedAction: 'BACK' } } },
        host,
      );
      expect(back.view.currentElement).toBe('Shipping_Options');
      // The screen's own BACK (allowBack, an earlier screen) redisplays Shipping_Options with the values it had.
      const screenBack = await runtime.navigate(s, { action: 'BACK' }, host);
      expect(screenBack.view.currentElement).toBe('Shipping_Options');
      expect(screenBack.view.screen!.fields[0].inputs).toMatchObject({ contactPointAddressId: addressId, shippingInstructions: 'Gate 4' });
      s = await runtime.navigate(
        s,
        {
          action: 'NEXT',
          answers: { DeliveryMethod: { orderDeliveryMethodId: '2Dm000000000001AAA' }, NavButtons: { selectedAction: 'NEXT' } },
        },
        host,
      );
      expect(host.calls.find((c) => c.name === 'setCheckoutDeliveryMethod')!.inputs).toEqual({
        cartId,
        deliveryMethodId: '2Dm000000000001AAA',
      });
      expect(s.view).toMatchObject({ status: 'Paused', currentElement: 'Payment_And_Billing_Address' });
    },
  );
});
