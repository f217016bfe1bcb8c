/**
 * checkoutSessionAction (get-or-create) and updateCheckoutSessionStateAction (the compare-and-set
 * claim, under both names) with their error tables, on SQLite and PostgreSQL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, mintId } from '../../src/index.js';
import { demoFixture } from '../../src/demo/fixture.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';
import { errorOf } from '../helpers/engine.js';

afterAll(dropTestSchemas);

for (const backend of [BACKENDS[0]!, BACKENDS[2]!]) {
  describe(`session actions on ${backend.name}`, () => {
    it('checkoutSessionAction creates one session at Start, moves the cart to Checkout, and returns it again', async () => {
      const engine = await createCheckoutEngine({ storage: backend.location() });
      const ids = await engine.seed(demoFixture());
      const as = { userId: ids.buyer! };
      const [first] = await engine.invoke('checkoutSessionAction', [{ cartId: ids.cart, initialState: 'Start' }], as);
      expect(first).toMatchObject({ isSuccess: true, httpStatus: 200 });
      const id = first!.outputValues!.requestId as string;
      expect(await engine.getRecord('CartCheckoutSession', id)).toMatchObject({
        WebCartId: ids.cart,
        State: 'Start',
        NextState: null,
        IsProcessing: false,
        IsArchived: false,
        IsError: false,
      });
      expect((await engine.getRecord('WebCart', ids.cart!)).Status).toBe('Checkout');
      const [again] = await engine.invoke('checkoutSessionAction', [{ cartId: ids.cart }], as);
      expect(again!.outputValues!.requestId).toBe(id);
      await engine.close();
    });

    it('checkoutSessionAction refuses bad carts, callers and states with the template errors', async () => {
      const engine = await createCheckoutEngine({ storage: backend.location() });
      const f = demoFixture();
      f.WebCart!.push({ ref: 'closed', Name: 'Done', WebStoreId: '@store', AccountId: '@acme', OwnerId: '@buyer', Status: 'Closed' });
      const ids = await engine.seed(f);
      const call = async (input: Record<string, unknown>, userId = ids.buyer!) =>
        (await engine.invokeAny('checkoutSessionAction', [input], { userId }))[0];
      expect(errorOf(await call({ cartId: 'nope' }))).toMatchObject({ code: 'UNKNOWN_EXCEPTION', status: 500, fields: ['cartId'] });
      // Another account's cart the outsider can't see answers as a missing one (requirement 1).
      expect(errorOf(await call({ cartId: ids.cart }, ids.outsider))).toMatchObject({ code: 'UNKNOWN_EXCEPTION', status: 500 });
      expect(errorOf(await call({ cartId: ids.closed }))).toMatchObject({ code: 'INVALID_OPERATION', status: 403 });
      expect(errorOf(await call({ cartId: ids.cart, initialState: 'Cart To Order' }))).toMatchObject({
        code: 'INVALID_INPUT',
        status: 400,
        fields: ['initialState'],
      });
      expect(errorOf(await call({ cartId: ids.cart, initialState: 'Nowhere' }))).toMatchObject({
        code: 'INVALID_INPUT',
        fields: ['initialState'],
      });
      expect((await engine.getRecord('WebCart', ids.cart!)).Status).toBe('Active');
      await engine.updateRecord('WebStore', ids.store!, { CheckoutTimeToLive: 0 }, { userId: ids.admin! });
      const disabled = errorOf(await call({ cartId: ids.cart }));
      expect(disabled).toMatchObject({ code: 'INVALID_OPERATION', status: 403 });
      expect(disabled.message).toMatch(/disabled/);
      await engine.close();
    });

    for (const name of ['updateCheckoutSessionStateAction', 'updateCheckoutSessionAction']) {
      it(`${name}: claims when the expected state matches; its errors follow the Help table`, async () => {
        const engine = await createCheckoutEngine({ storage: backend.location() });
        const ids = await engine.seed(demoFixture({ sessionState: 'checkoutSummary' }));
        const { plain, colleague } = await engine.seed({
          User: [
            { ref: 'plain', Username: 'plain@acme.example', AccountId: '@acme', Permissions: [] },
            { ref: 'colleague', Username: 'colleague@acme.example', AccountId: '@acme', Permissions: ['B2BCommerceIntegrator'] },
          ],
          // Both see the cart (Read shares): what refuses them is the permission, then the missing edit access.
          WebCartShare: [
            { ParentId: ids.cart!, UserOrGroupId: '@plain', AccessLevel: 'Read' },
            { ParentId: ids.cart!, UserOrGroupId: '@colleague', AccessLevel: 'Read' },
          ],
        });
        const claim = async (input: Record<string, unknown>, userId = ids.buyer!) => (await engine.invoke(name, [input], { userId }))[0];
        const good = { checkoutSessionId: ids.session, expCurrentState: 'checkoutSummary', nextState: 'cartToOrder' };
        expect(errorOf(await claim({ ...good, checkoutSessionId: mintId('2z9') }))).toMatchObject({
          code: 'UNKNOWN_EXCEPTION',
          status: 403,
          fields: ['checkoutSessionId'],
        });
        expect(errorOf(await claim({ ...good, checkoutSessionId: 'garbage' }))).toMatchObject({ code: 'UNKNOWN_EXCEPTION', status: 403 });
        expect(errorOf(await claim(good, plain))).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
        expect(errorOf(await claim(good, colleague))).toMatchObject({ code: 'INSUFFICIENT_ACCESS_OR_READONLY', status: 400 });
        // Another account's session answers exactly as an unknown one.
        expect(errorOf(await claim(good, ids.outsider))).toMatchObject({
          code: 'UNKNOWN_EXCEPTION',
          status: 403,
          fields: ['checkoutSessionId'],
        });
        expect(errorOf(await claim({ ...good, expCurrentState: 'taxes' }))).toMatchObject({ code: 'INVALID_OPERATION', status: 409 });
        expect(errorOf(await claim({ ...good, nextState: 'activateOrder' }))).toMatchObject({ code: 'INVALID_OPERATION', status: 409 });
        expect(errorOf(await claim({ ...good, nextState: 'somewhere' }))).toMatchObject({
          code: 'INVALID_INPUT',
          status: 400,
          fields: ['nextState'],
        });
        expect(errorOf(await claim({ checkoutSessionId: ids.session }))).toMatchObject({
          code: 'REQUIRED_FIELD_MISSING',
          fields: ['expCurrentState', 'nextState'],
        });
        expect(await engine.getRecord('CartCheckoutSession', ids.session!)).toMatchObject({
          State: 'checkoutSummary',
          NextState: null,
          IsProcessing: false,
        });
        const [ok] = await engine.invoke(name, [{ ...good, expCurrentState: 'Checkout Summary', nextState: 'Cart To Order' }], {
          userId: ids.buyer!,
        });
        expect(ok).toMatchObject({ isSuccess: true, outputValues: { requestId: ids.session } });
        expect(await engine.getRecord('CartCheckoutSession', ids.session!)).toMatchObject({
          State: 'checkoutSummary',
          NextState: 'Cart To Order',
          IsProcessing: true,
        });
        expect(errorOf(await claim(good))).toMatchObject({ code: 'INVALID_OPERATION', status: 409 });
        await engine.close();
      });
    }
  });
}
