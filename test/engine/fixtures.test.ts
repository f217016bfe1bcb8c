/**
 * Fixtures (spec §1): refs and @references, explicit ids in 15 or 18 characters, YAML or JSON,
 * all-or-nothing loading, and errors that name the record and the field.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine } from '../../src/index.js';
import { checksumSuffix, mintId } from '../../src/domain/ids.js';
import { BACKENDS, dropTestSchemas } from '../helpers/backends.js';

afterAll(dropTestSchemas);

for (const backend of [BACKENDS[0]!, BACKENDS[2]!]) {
  describe(`fixtures on ${backend.name}`, () => {
    it('loads refs, @references and explicit ids (15 or 18 chars) and returns the handle map', async () => {
      const engine = await createCheckoutEngine({ storage: backend.location() });
      const id15 = mintId('001').slice(0, 15);
      const handles = await engine.seed({
        Account: [
          { ref: 'acme', Name: 'Acme' },
          { Id: id15, Name: 'Initech' },
        ],
        User: [{ ref: 'u', Username: 'u@acme.example', AccountId: '@acme', Permissions: ['B2BCommerceIntegrator'], Password: 'pw-123456' }],
      });
      expect(Object.keys(handles)).toEqual(['acme', 'u']);
      expect(handles.acme).toMatch(/^001[A-Za-z0-9]{15}$/);
      expect((await engine.getRecord('Account', id15)).Id).toBe(id15 + checksumSuffix(id15));
      const user = await engine.getRecord('User', handles.u!);
      expect(user).toMatchObject({ AccountId: handles.acme, IsActive: true, Permissions: ['B2BCommerceIntegrator'] });
      expect(user).not.toHaveProperty('Password');
      // A later fixture can point at handles of an earlier one.
      const more = await engine.seed(
        'WebStore:\n  - ref: store\n    Name: YAML Store\nWebCart:\n  - ref: cart\n    Name: C\n    WebStoreId: "@store"\n    AccountId: "@acme"\n',
      );
      expect((await engine.getRecord('WebCart', more.cart!)).AccountId).toBe(handles.acme);
      await engine.close();
    });

    it.each([
      ['an unknown object type', { Widget: [{}] }, /Widget: unknown object type 'Widget'/, []],
      ['a list that is not a list', { Account: { Name: 'x' } }, /Account: must be a list/, []],
      [
        'an unknown field',
        { Account: [{ ref: 'a', Name: 'A', Colour: 'red' }] },
        /Account\[0\] \(ref 'a'\): .*No such column 'Colour'/,
        ['Colour'],
      ],
      [
        'a missing required field',
        { Account: [{ ref: 'a' }] },
        /Account\[0\] \(ref 'a'\): Required fields are missing: \[Name\] on Account/,
        ['Name'],
      ],
      [
        'a bad picklist value',
        { BuyerAccount: [{ BuyerId: '@a', BuyerStatus: 'Enabled' }], Account: [{ ref: 'a', Name: 'A' }] },
        /BuyerAccount\[0\]: .*BuyerStatus: must be one of: Active, Inactive, On Hold, Pending/,
        ['BuyerStatus'],
      ],
      [
        'a wrong type',
        { WebStore: [{ Name: 'S', CheckoutTimeToLive: 'soon' }] },
        /WebStore\[0\]: .*CheckoutTimeToLive: must be a whole number/,
        ['CheckoutTimeToLive'],
      ],
      [
        'an unknown @reference',
        { User: [{ Username: 'x@y.z', AccountId: '@nobody' }] },
        /User\[0\]: AccountId: unknown reference '@nobody'/,
        ['AccountId'],
      ],
      [
        'a reference to a missing record',
        { User: [{ Username: 'x@y.z', AccountId: mintId('001') }] },
        /User\[0\]: AccountId: no Account with id 001/,
        ['AccountId'],
      ],
      [
        'an id of the wrong object',
        { Account: [{ Id: mintId('005'), Name: 'A' }] },
        /Account\[0\]: Id: .*expected an id starting with 001/,
        ['Id'],
      ],
      ['an id with a bad checksum', { Account: [{ Id: '001000000000001ZZZ', Name: 'A' }] }, /Account\[0\]: Id: .*suffix/, ['Id']],
      [
        'a reference field holding the wrong kind of id',
        { User: [{ Username: 'x@y.z', AccountId: mintId('0a6') }] },
        /User\[0\]: .*AccountId/,
        ['AccountId'],
      ],
      [
        'a handle used twice',
        {
          Account: [
            { ref: 'a', Name: 'A' },
            { ref: 'a', Name: 'B' },
          ],
        },
        /Account\[1\] \(ref 'a'\): the handle 'a' is used twice/,
        ['ref'],
      ],
      ['text that is neither JSON nor YAML', '{ Account: [', /not valid JSON or YAML/, []],
    ])('refuses %s, naming the record and field', async (_, fixture, message, fields) => {
      const engine = await createCheckoutEngine({ storage: backend.location() });
      const err = await engine.seed(fixture).catch((e) => e);
      expect(err).toMatchObject({ code: 'INVALID_FIXTURE', status: 400, fields });
      expect(err.message).toMatch(message);
      await engine.close();
    });

    it('is all-or-nothing: one bad record leaves no record of the fixture behind', async () => {
      const engine = await createCheckoutEngine({ storage: backend.location() });
      const { admin } = await engine.seed({ User: [{ ref: 'admin', Username: 'admin@x.example', Permissions: ['ModifyAllData'] }] });
      const bad = {
        Account: [{ ref: 'a', Name: 'A' }],
        User: [
          { Username: 'one@x.example', AccountId: '@a' },
          { Username: 'admin@x.example' }, // duplicate Username: fails at insert time
        ],
      };
      await expect(engine.seed(bad)).rejects.toMatchObject({ code: 'INVALID_FIXTURE' });
      expect((await engine.query('SELECT COUNT() FROM Account', { userId: admin! })).totalSize).toBe(0);
      expect((await engine.query('SELECT COUNT() FROM User', { userId: admin! })).totalSize).toBe(1);
      await engine.close();
    });
  });
}
