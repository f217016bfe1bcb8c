/**
 * A buyer account's order summaries in a store through Commerce Connect (`…/order-summaries`):
 * the OrderSummary records of the effective account whose SalesStoreId is the store. A summary of
 * another account or store answers exactly like a missing one (NOT_FOUND naming orderSummaryId).
 */
import type { CheckoutEngine } from '../engine/engine.js';
import { EngineError } from '../errors.js';
import type { Filter, Row } from '../storage/port.js';
import { idOf, type StoreContext } from './context.js';

/** Query of the list. */
export interface OrderSummaryListQuery {
  page?: number;
  pageSize?: number;
  sortOrder?: 'OrderedDateAsc' | 'OrderedDateDesc';
}

/** Connect's Order Summary output. */
export function orderSummaryOf(row: Row) {
  return {
    orderSummaryId: String(row.Id),
    accountId: (row.AccountId as string | null) ?? null,
    ownerId: (row.OwnerId as string | null) ?? null,
    orderNumber: (row.OrderNumber as string | null) ?? null,
    orderedDate: (row.OrderedDate as string | null) ?? null,
    createdDate: (row.CreatedDate as string | null) ?? null,
    status: (row.Status as string | null) ?? null,
    totalAmount: typeof row.GrandTotalAmount === 'number' ? row.GrandTotalAmount.toFixed(2) : null,
    fields: {
      OriginalOrderId: (row.OriginalOrderId as string | null) ?? null,
      GrandTotalAmount: row.GrandTotalAmount ?? null,
      TotalTaxAmount: row.TotalTaxAmount ?? null,
      OrderLifeCycleType: row.OrderLifeCycleType ?? null,
    },
  };
}

const mine = (ctx: StoreContext): Filter[] => [
  { field: 'AccountId', op: '=', value: ctx.accountId },
  { field: 'SalesStoreId', op: '=', value: ctx.webstoreId },
];

/** GET …/order-summaries: Order Summary Collection, newest ordered first unless asked otherwise. */
export async function listOrderSummaries(engine: CheckoutEngine, ctx: StoreContext, q: OrderSummaryListQuery) {
  const page = q.page ?? 0;
  const pageSize = q.pageSize ?? 25;
  const sortOrder = q.sortOrder ?? 'OrderedDateDesc';
  const direction = sortOrder === 'OrderedDateAsc' ? 'asc' : 'desc';
  const count = await engine.admin.count('OrderSummary', mine(ctx));
  const rows = await engine.admin.find('OrderSummary', {
    where: mine(ctx),
    orderBy: [
      { field: 'OrderedDate', direction, nulls: 'last' },
      { field: 'Id', direction },
    ],
    limit: pageSize,
    offset: page * pageSize,
  });
  return {
    count,
    currentPageToken: String(page),
    nextPageToken: (page + 1) * pageSize < count ? String(page + 1) : null,
    previousPageToken: page > 0 ? String(page - 1) : null,
    sortOrder,
    orderSummaries: rows.map(orderSummaryOf),
  };
}

/** GET …/order-summaries/{orderSummaryId}. */
export async function getOrderSummary(engine: CheckoutEngine, ctx: StoreContext, idInput: unknown) {
  const id = idOf('OrderSummary', idInput, 'orderSummaryId');
  const row = await engine.admin.get('OrderSummary', id);
  if (!row || row.AccountId !== ctx.accountId || row.SalesStoreId !== ctx.webstoreId)
    throw new EngineError('NOT_FOUND', `orderSummaryId: no order summary '${String(idInput)}' of this account in this store.`, [
      'orderSummaryId',
    ]);
  return orderSummaryOf(row);
}
