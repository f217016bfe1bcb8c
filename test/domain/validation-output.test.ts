/** CartValidationOutput rows as a failing step and an integration write them (src/domain/validation-output.ts). */
import { describe, expect, it } from 'vitest';
import { validationOutputRows } from '../../src/domain/validation-output.js';

describe('validationOutputRows', () => {
  it('ties each message to the cart and operation; Level Error and the step Type when unset; Message cut to 255', () => {
    let n = 0;
    const rows = validationOutputRows(
      { cartId: '0a6A', operationId: '0YbB', type: 'Pricing', now: new Date('2026-12-03T10:00:00Z'), mint: () => `id${n++}` },
      [{ Message: 'x'.repeat(300) }, { Level: 'Warning', Type: 'Inventory', Message: 'Low stock', RelatedEntityId: '0a9C' }],
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      Id: 'id0',
      CartId: '0a6A',
      BackgroundOperationId: '0YbB',
      Name: '0a6A:0YbB',
      Level: 'Error',
      Type: 'Pricing',
      RelatedEntityId: null,
      RelatedEntityPrefix: null,
      IsDismissed: false,
      CreatedDate: '2026-12-03T10:00:00.000Z',
    });
    expect(String(rows[0]!.Message)).toHaveLength(255);
    expect(rows[1]).toMatchObject({
      Id: 'id1',
      Level: 'Warning',
      Type: 'Inventory',
      Message: 'Low stock',
      RelatedEntityId: '0a9C',
      RelatedEntityPrefix: '0a9',
    });
  });
});
