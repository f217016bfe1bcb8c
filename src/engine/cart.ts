/**
 * Cart bookkeeping shared by record writes, fixtures and steps: line and header roll-ups, and
 * canceling a checkout (the session archived, its operation Canceled, the cart Active again).
 */
import { deriveCartLine, rollUpCart, sumMoney } from '../domain/money.js';
import type { EngineCore } from './core.js';
import { findActiveSession } from './facts.js';
import { applySessionEvent, type EventOrigin } from './sessions.js';
import type { Row, StorageOps } from '../storage/port.js';

/** Fills a cart line's derived totals from its prices, quantity and adjustment. */
export function withDerivedLine(item: Row): Row {
  return { ...item, ...deriveCartLine(item) };
}

/** Recomputes line tax totals and the cart header totals from the cart's lines and taxes. */
export async function recomputeCart(tx: StorageOps, cartId: string, now: Date): Promise<void> {
  const byCart = [{ field: 'CartId', op: '=' as const, value: cartId }];
  const items = await tx.find('CartItem', { where: byCart });
  const taxes = await tx.find('CartTax', { where: byCart });
  const taxByItem = new Map<string, number[]>();
  for (const t of taxes) {
    const k = String(t.CartItemId);
    (taxByItem.get(k) ?? taxByItem.set(k, []).get(k)!).push(Number(t.Amount ?? 0));
  }
  const changed = new Map<string, number>();
  for (const item of items) {
    const tax = sumMoney(taxByItem.get(String(item.Id)) ?? []);
    if (item.TotalLineTaxAmount !== tax) {
      item.TotalLineTaxAmount = tax;
      changed.set(String(item.Id), tax);
    }
  }
  if (changed.size) await tx.updateColumn('CartItem', 'TotalLineTaxAmount', changed);
  await tx.update('WebCart', cartId, { ...rollUpCart(items), LastModifiedDate: now.toISOString() });
}

/**
 * Cancels the cart's checkout: a New or Running operation becomes Canceled, the session is
 * archived (statechart CANCEL), and a cart in Checkout goes back to Active. Returns whether a
 * session was canceled.
 */
export async function cancelCheckout(core: EngineCore, tx: StorageOps, cartId: string, now: Date, origin?: EventOrigin): Promise<boolean> {
  const session = await findActiveSession(tx, cartId, true);
  if (session) {
    if (session.BackgroundOperationId) {
      await tx.updateWhere(
        'BackgroundOperation',
        [
          { field: 'Id', op: '=', value: session.BackgroundOperationId },
          { field: 'Status', op: 'in', value: ['New', 'Running'] },
        ],
        { Status: 'Canceled', FinishedAt: now.toISOString(), LastModifiedDate: now.toISOString() },
      );
    }
    const { machine } = core.flow(session._flow as string);
    await applySessionEvent(tx, machine, session, { type: 'CANCEL' }, now, {}, origin);
  }
  await tx.updateWhere(
    'WebCart',
    [
      { field: 'Id', op: '=', value: cartId },
      { field: 'Status', op: '=', value: 'Checkout' },
    ],
    { Status: 'Active', LastModifiedDate: now.toISOString() },
  );
  return !!session;
}
