/**
 * Cart Calculate on the engine (src/engine/cart-calculate.ts): the calculators a buyer action runs
 * on the demo cart, an Error-level validation stopping the chain (written, reported), a throw rolling
 * back everything of the request, and a store's own orchestrator and calculator replacing the
 * defaults; on SQLite and PostgreSQL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, type CartCalculateOrchestrator, type CartProcessor, type CheckoutEngine } from '../../src/index.js';
import { demoFixture } from '../../src/demo/fixture.js';
import { calculateCart } from '../../src/engine/cart-calculate.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';

afterAll(dropTestSchemas);

async function setup(location: string, sessionState?: string) {
  const engine = await createCheckoutEngine({ storage: location, onError: () => {} });
  const ids = await engine.seed(demoFixture(sessionState ? { sessionState } : {}));
  return { engine, ids };
}

const storage = (engine: CheckoutEngine) => engine.core.storage;
const items = async (engine: CheckoutEngine, cartId: string) =>
  storage(engine).find('CartItem', {
    where: [{ field: 'CartId', op: '=', value: cartId }],
    orderBy: [{ field: 'Name', direction: 'asc' }],
  });
const cvos = (engine: CheckoutEngine, cartId: string) =>
  storage(engine).find('CartValidationOutput', { where: [{ field: 'CartId', op: '=', value: cartId }] });

for (const backend of [BACKENDS[0]!, BACKENDS[2]!]) {
  describe(`Cart Calculate on ${backend.name}`, () => {
    it('cartItemChanged on an Active cart runs prices and promotions: a mispriced line is repriced, with a Pricing warning', async () => {
      const { engine, ids } = await setup(backend.location());
      const [line] = (await items(engine, ids.cart!)).filter((i) => i.Type === 'Product');
      const price = Number(line!.SalesPrice);
      await storage(engine).update('CartItem', String(line!.Id), { SalesPrice: price + 1 });
      const r = await calculateCart(engine, {
        cartId: ids.cart!,
        buyerActions: ['cartItemChanged'],
        details: { changedCartItemIds: [String(line!.Id)] },
      });
      expect(r.status).toBe('Completed');
      expect(r.ran).toEqual(['prices', 'promotions']);
      expect(r.validations.filter((v) => v.Type === 'Pricing')).toEqual([
        expect.objectContaining({ Level: 'Warning', Type: 'Pricing', RelatedEntityId: line!.Id, Id: expect.any(String) }),
      ]);
      // The demo promotions applied (Info rows of the promotions step), all written.
      expect(r.validations.filter((v) => v.Type === 'Promotions').map((v) => v.Level)).toEqual(['Info', 'Info']);
      expect((await cvos(engine, ids.cart!)).length).toBe(r.validations.length);
      const after = (await items(engine, ids.cart!)).find((i) => i.Id === line!.Id)!;
      expect(Number(after.SalesPrice)).toBe(price);
      const op = await engine.admin.get('BackgroundOperation', r.operationId!);
      expect(op).toMatchObject({ Name: 'Cart Calculate', Status: 'Complete' });
      // Inventory didn't run: the Active cart holds no stock.
      expect(await engine.admin.find('ProductReservation')).toEqual([]);
      await engine.close();
    });

    it('checkoutStarted on a cart in Checkout runs all six calculators and stamps the session; deliveryMethodSelected runs taxes', async () => {
      const { engine, ids } = await setup(backend.location(), 'checkoutSummary');
      const r = await engine.calculateCart({ cartId: ids.cart!, buyerActions: { checkoutStarted: true } });
      expect(r).toMatchObject({ status: 'Completed', ran: ['prices', 'promotions', 'inventory', 'shipping', 'postShipping', 'taxes'] });
      const holds = await engine.admin.find('ProductReservation');
      expect(holds.length).toBeGreaterThan(0);
      expect(holds.every((h) => h.Status === 'Held' && h.WebCartId === ids.cart)).toBe(true);
      expect((await engine.admin.find('CartDeliveryGroupMethod')).length).toBe(2);
      const session = await engine.admin.get('CartCheckoutSession', ids.session!);
      expect(Object.keys((JSON.parse(String(session!._stamps)) as { computed: object }).computed).sort()).toEqual([
        'inventory',
        'pricing',
        'promotions',
        'shipping',
        'taxes',
      ]);
      const t = await engine.calculateCart({ cartId: ids.cart!, buyerActions: ['deliveryMethodSelected'] });
      expect(t).toMatchObject({ status: 'Completed', ran: ['taxes'] });
      await engine.close();
    });

    it("an Error-level validation stops the chain: it is written and reported, later calculators don't run", async () => {
      const { engine, ids } = await setup(backend.location(), 'checkoutSummary');
      const store = ids.store!;
      engine.registerIntegration(
        'inventory',
        {
          startCartProcessAsync: (_i, cartId, data) => {
            data.addValidation({ Message: 'Out of widgets.', RelatedEntityId: cartId });
            return Promise.resolve({ status: 'SUCCESS' });
          },
        },
        { storeId: store },
      );
      const before = await engine.admin.find('CartTax');
      const r = await calculateCart(engine, { cartId: ids.cart!, buyerActions: ['checkoutStarted'] });
      expect(r.status).toBe('Errored');
      expect(r.ran).toEqual(['prices', 'promotions', 'inventory']);
      expect(r.validations.filter((v) => v.Level === 'Error')).toEqual([
        expect.objectContaining({ Level: 'Error', Type: 'Inventory', Message: 'Out of widgets.' }),
      ]);
      const rows = (await cvos(engine, ids.cart!)).filter((c) => c.Level === 'Error');
      expect(rows.map((c) => [c.Level, c.Type, c.Message, c.BackgroundOperationId])).toEqual([
        ['Error', 'Inventory', 'Out of widgets.', r.operationId],
      ]);
      expect(await engine.admin.get('BackgroundOperation', r.operationId!)).toMatchObject({ Status: 'Error', Error: 'Out of widgets.' });
      // Shipping and taxes didn't run: the cart's taxes are as seeded, no delivery options were made.
      expect(await engine.admin.find('CartTax')).toEqual(before);
      expect(await engine.admin.find('CartDeliveryGroupMethod')).toEqual([]);
      // A later run of the step replaces its Type's earlier messages.
      engine.registerIntegration('inventory', { startCartProcessAsync: () => Promise.resolve({ status: 'SUCCESS' }) }, { storeId: store });
      const again = await calculateCart(engine, { cartId: ids.cart!, buyerActions: ['checkoutStarted'] });
      expect(again.status).toBe('Completed');
      expect((await cvos(engine, ids.cart!)).filter((c) => c.Type === 'Inventory')).toEqual([]);
      await engine.close();
    });

    it('a FAILED status without an Error row reports a generic error of the step type', async () => {
      const { engine, ids } = await setup(backend.location());
      engine.registerIntegration('promotions', {
        startCartProcessAsync: () => Promise.resolve({ status: 'FAILED', message: 'Promo service down.' }),
      });
      const r = await calculateCart(engine, { cartId: ids.cart!, buyerActions: ['couponChanged'] });
      expect(r).toMatchObject({ status: 'Errored', ran: ['promotions'] });
      expect(r.validations).toEqual([expect.objectContaining({ Level: 'Error', Type: 'Promotions', Message: 'Promo service down.' })]);
      await engine.close();
    });

    it('a throw rolls back everything of the request: earlier steps’ edits, validations and the operation', async () => {
      const { engine, ids } = await setup(backend.location(), 'checkoutSummary');
      const [line] = (await items(engine, ids.cart!)).filter((i) => i.Type === 'Product');
      await storage(engine).update('CartItem', String(line!.Id), { SalesPrice: 1234.5 });
      const cart = await engine.admin.get('WebCart', ids.cart!);
      const before = await engine.admin.dump([
        'ProductReservation',
        'ProductInventory',
        'CartDeliveryGroupMethod',
        'CartTax',
        'CartValidationOutput',
        'BackgroundOperation',
      ]);
      engine.registerIntegration('taxes', {
        startCartProcessAsync: () => Promise.reject(new Error('tax service unreachable')),
      });
      const r = await calculateCart(engine, { cartId: ids.cart!, buyerActions: ['checkoutStarted'] });
      expect(r.status).toBe('Errored');
      expect(r.operationId).toBeNull();
      expect(r.error).toMatch(/taxes step: tax service unreachable/);
      expect(r.ran).toEqual(['prices', 'promotions', 'inventory', 'shipping', 'postShipping', 'taxes']);
      expect(r.validations).toEqual([expect.objectContaining({ Id: null, Level: 'Error', Type: 'SystemError' })]);
      // Pricing ran before the throw but nothing of it was written; no holds, no options, no rows.
      expect(Number((await items(engine, ids.cart!)).find((i) => i.Id === line!.Id)!.SalesPrice)).toBe(1234.5);
      expect(await engine.admin.get('WebCart', ids.cart!)).toEqual(cart);
      expect(await engine.admin.dump(Object.keys(before))).toEqual(before);
      await engine.close();
    });

    it("a store's own orchestrator and calculator replace the defaults for that store only", async () => {
      const { engine, ids } = await setup(backend.location());
      const seen: unknown[] = [];
      const orchestrator: CartCalculateOrchestrator = {
        async calculate(req) {
          seen.push(req.buyerActions.cartItemChanged, req.details.changedCartItemIds, req.cart.Status);
          await req.promotions();
          await req.taxes();
        },
      };
      const taxes: CartProcessor = {
        async startCartProcessAsync(_info, _cartId, data) {
          seen.push(data.calculation?.domain);
          const line = Object.values((await data.state()).items)[0]!;
          await data.edit((d) => {
            d.taxes = { flat: { CartItemId: line.Id, Name: 'Flat', Amount: 1, TaxType: 'Actual' } };
          });
          return { status: 'SUCCESS' };
        },
      };
      engine.registerIntegration('cartCalculate', orchestrator, { storeId: ids.store! });
      engine.registerIntegration('taxes', taxes, { storeId: ids.store! });
      const r = await calculateCart(engine, {
        cartId: ids.cart!,
        buyerActions: ['cartItemChanged'],
        details: { changedCartItemIds: ['x'] },
      });
      expect(r).toMatchObject({ status: 'Completed', ran: ['promotions', 'taxes'] });
      expect(seen).toEqual([true, ['x'], 'Active', 'taxes']);
      const taxRows = await engine.admin.find('CartTax');
      expect(taxRows.map((t) => [t.Name, Number(t.Amount)])).toEqual([['Flat', 1]]);
      expect(Number((await engine.admin.get('WebCart', ids.cart!))!.TotalTaxAmount)).toBe(1);
      await engine.close();
    });

    it('an orchestrator given as an engine option; another store keeps the default', async () => {
      const calls: string[] = [];
      const engine = await createCheckoutEngine({
        storage: backend.location(),
        onError: () => {},
        integrations: { Commerce_Domain_Cart_Calculate: { calculate: async (req) => void calls.push((await req.prices()).status) } },
      });
      const ids = await engine.seed(demoFixture());
      const r = await engine.calculateCart({ cartId: ids.cart!, buyerActions: ['couponChanged'] });
      expect(r.ran).toEqual(['prices']);
      expect(calls).toEqual(['SUCCESS']);
      await engine.close();
    });

    it('bad input and carts that can’t be calculated are refused naming the field', async () => {
      const { engine, ids } = await setup(backend.location());
      await expect(calculateCart(engine, { cartId: 'nope', buyerActions: [] })).rejects.toMatchObject({
        key: 'INVALID_ID_FIELD',
        fields: ['cartId'],
      });
      await expect(calculateCart(engine, { cartId: ids.cart!, buyerActions: ['itemChanged' as never] })).rejects.toMatchObject({
        key: 'INVALID_INPUT',
        fields: ['buyerActions'],
      });
      await storage(engine).update('WebCart', ids.cart!, { Status: 'Closed' });
      await expect(calculateCart(engine, { cartId: ids.cart!, buyerActions: ['cartItemChanged'] })).rejects.toMatchObject({
        key: 'CART_NOT_CALCULABLE',
        status: 409,
      });
      expect(() =>
        engine.registerIntegration('cartCalculate', { startCartProcessAsync: () => Promise.resolve({ status: 'SUCCESS' }) } as never),
      ).toThrow(/calculate\(request\)/);
      await engine.close();
    });
  });
}
