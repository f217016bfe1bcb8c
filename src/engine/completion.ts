/**
 * The completion invariants' facts loader and enforcement (src/domain/completion-invariants.ts;
 * docs/guarantees.md "Completion invariants"). The facts are read in the action's transaction with a
 * fixed number of statements (lines, groups, taxes, stock rows, holds, order, store — never one per
 * line). `checkCompletion` refuses an action call up front (an EngineError: the transaction rolls
 * back, nothing stored changes); `checkCompletionAtCommit` re-checks in a step's commit transaction
 * when it isn't the claim's (runAsync: true, or a step that computed outside it), failing the step
 * (StepFailed: operation Error, CartValidationOutput) if the facts changed meanwhile.
 */
import { EngineError } from '../errors.js';
import {
  COMPUTATION_ACTIONS,
  computationOf,
  firstBrokenInvariant,
  parseStamps,
  stampComputation,
  type Computation,
  type CompletionFacts,
  type CompletionPoint,
  type CompletionStamps,
} from '../domain/completion-invariants.js';
import type { EngineCore } from './core.js';
import { StepFailed } from './core.js';
import type { MultiRead, OrderBy, Row, StorageOps } from '../storage/port.js';

/** The computations a flow makes as steps. */
export function flowComputations(core: EngineCore, flowId: unknown): Computation[] {
  const { flow } = core.flow(typeof flowId === 'string' ? flowId : 'default');
  return (Object.keys(COMPUTATION_ACTIONS) as Computation[]).filter((c) => flow.byAction.has(COMPUTATION_ACTIONS[c]));
}

/**
 * The computations a session's checkout made: its flow's steps, and those a stand-in of the
 * store's own code made in the call (src/engine/flow-standins.ts: B2BSyncPricing … stamp the
 * session like a step). Each must still be current at Cart to Order and activation.
 */
export function sessionComputations(core: EngineCore, session: Row): Computation[] {
  const stamped = parseStamps(session._stamps).computed ?? {};
  const steps = flowComputations(core, session._flow);
  return (Object.keys(COMPUTATION_ACTIONS) as Computation[]).filter((c) => steps.includes(c) || stamped[c] !== undefined);
}

/** The order a step's cart draft reads the cart's rows in (src/integrations/data-api.ts). */
const DRAFT_ORDER: readonly OrderBy[] = [
  { field: 'CreatedDate', direction: 'asc' },
  { field: 'Id', direction: 'asc' },
];

/**
 * The cart's lines, groups and taxes (three statements). `inDraftOrder`: in the order of the step's
 * cart draft, the very reads it made — a transaction that hasn't written those tables since finds
 * them again without a statement (`FoundRows`, src/storage/crud.ts).
 */
export async function cartRows(
  tx: StorageOps,
  cartId: string,
  inDraftOrder = false,
): Promise<{ items: Row[]; groups: Row[]; taxes: Row[] }> {
  const byCart = [{ field: 'CartId', op: '=' as const, value: cartId }];
  const order = inDraftOrder ? { orderBy: DRAFT_ORDER } : {};
  const [items, groups, taxes] = await tx.findAll([
    { object: 'CartItem', where: byCart, ...order },
    { object: 'CartDeliveryGroup', where: byCart, ...order },
    { object: 'CartTax', where: byCart, ...order },
  ]);
  return { items: items!, groups: groups!, taxes: taxes! };
}

/** What the completion facts read after the cart's rows. */
interface StockReads {
  inventories: Row[];
  order: Row | null;
  orderItems: Row[] | null;
  productRows: Row[];
  holds: Row[];
}

/**
 * The completion facts' reads after the cart's rows where the backend batches statements: the
 * reads that don't depend on one another in one findAll (one round trip): the stock, the holds, and
 * at activation the order and its lines (the lines' products are read after them, with the
 * cart's); without an order to read, the products' rows go in it too. What a read found is used
 * only where it was needed (holds with stock, lines of an order that exists): as read one by one.
 */
async function readTogether(
  tx: StorageOps,
  point: CompletionPoint,
  cartId: string,
  products: string[],
  orderId: string | null,
): Promise<StockReads> {
  const ofOrder = point === 'activate' && orderId !== null;
  const reads: MultiRead[] = [];
  const at = (read: MultiRead) => reads.push(read) - 1;
  const stockAt = products.length ? at({ object: 'ProductInventory', where: [{ field: 'Product2Id', op: 'in', value: products }] }) : -1;
  const holdsAt = products.length
    ? at({
        object: 'ProductReservation',
        where: [
          { field: 'WebCartId', op: '=', value: cartId },
          { field: 'Status', op: 'in', value: ['Held', 'Ordered'] },
        ],
      })
    : -1;
  const orderAt = ofOrder ? at({ object: 'Order', where: [{ field: 'Id', op: '=', value: orderId }] }) : -1;
  const linesAt = ofOrder ? at({ object: 'OrderItem', where: [{ field: 'OrderId', op: '=', value: orderId }] }) : -1;
  const productsAt = !ofOrder && products.length ? at({ object: 'Product2', where: [{ field: 'Id', op: 'in', value: products }] }) : -1;
  const found =
    reads.length > 1 ? await tx.findAll(reads) : reads.length ? [await tx.find(reads[0]!.object, { where: reads[0]!.where })] : [];
  const inventories = stockAt >= 0 ? found[stockAt]! : [];
  const order = orderAt >= 0 ? (found[orderAt]![0] ?? null) : null;
  const orderItems = order ? found[linesAt]! : null;
  for (const l of orderItems ?? []) if (typeof l.Product2Id === 'string' && !products.includes(l.Product2Id)) products.push(l.Product2Id);
  const productRows =
    productsAt >= 0
      ? found[productsAt]!
      : products.length
        ? await tx.find('Product2', { where: [{ field: 'Id', op: 'in', value: products }] })
        : [];
  const holds = inventories.length ? found[holdsAt]!.filter((h) => h.Status === 'Held' || (orderId !== null && h.OrderId === orderId)) : [];
  return { inventories, order, orderItems, productRows, holds };
}

/** The completion facts' reads after the cart's rows, one after the other (each only where needed). */
async function readOneByOne(
  tx: StorageOps,
  point: CompletionPoint,
  cartId: string,
  products: string[],
  orderId: string | null,
): Promise<StockReads> {
  const inventories = products.length
    ? await tx.find('ProductInventory', { where: [{ field: 'Product2Id', op: 'in', value: products }] })
    : [];
  const order = point === 'activate' && orderId ? ((await tx.get('Order', orderId)) ?? null) : null;
  const orderItems = order ? await tx.find('OrderItem', { where: [{ field: 'OrderId', op: '=', value: order.Id }] }) : null;
  for (const l of orderItems ?? []) if (typeof l.Product2Id === 'string' && !products.includes(l.Product2Id)) products.push(l.Product2Id);
  const productRows = products.length ? await tx.find('Product2', { where: [{ field: 'Id', op: 'in', value: products }] }) : [];
  const holds = inventories.length
    ? (
        await tx.find('ProductReservation', {
          where: [
            { field: 'WebCartId', op: '=', value: cartId },
            { field: 'Status', op: 'in', value: ['Held', 'Ordered'] },
          ],
        })
      ).filter((h) => h.Status === 'Held' || (orderId !== null && h.OrderId === orderId))
    : [];
  return { inventories, order, orderItems, productRows, holds };
}

/** The facts of the invariants for a session at `point`, read in `tx`. `store`: the cart's store row when already read. */
export async function loadCompletionFacts(
  core: EngineCore,
  tx: StorageOps,
  point: CompletionPoint,
  session: Row,
  store?: Row | null,
): Promise<CompletionFacts> {
  const cartId = String(session.WebCartId);
  const { items, groups, taxes } = await cartRows(tx, cartId);
  const products = [
    ...new Set(items.filter((i) => i.Type !== 'Charge' && typeof i.Product2Id === 'string').map((i) => String(i.Product2Id))),
  ];
  const orderId = typeof session.OrderId === 'string' ? session.OrderId : null;
  const { inventories, order, orderItems, productRows, holds } = core.storage.adapter.batchesWrites
    ? await readTogether(tx, point, cartId, products, orderId)
    : await readOneByOne(tx, point, cartId, products, orderId);
  const storeRow = store === undefined ? await storeOf(tx, cartId) : store;
  const facts: CompletionFacts = {
    point,
    cartId,
    items,
    groups,
    taxes,
    flowComputes: sessionComputations(core, session),
    stamps: parseStamps(session._stamps),
    order,
    paymentRequiredAtZero: storeRow?.CheckoutPaymentRequiredAtZero === true,
    orderItems,
    products: new Map(productRows.map((p) => [String(p.Id), p])),
    inventories,
    holds,
  };
  return facts;
}

async function storeOf(tx: StorageOps, cartId: string): Promise<Row | null> {
  const cart = await tx.get('WebCart', cartId);
  return cart ? ((await tx.get('WebStore', String(cart.WebStoreId))) ?? null) : null;
}

/** Refuses the call when an invariant checked at `point` fails: its own error, naming the invariant. */
export async function checkCompletion(
  core: EngineCore,
  tx: StorageOps,
  point: CompletionPoint,
  session: Row,
  store?: Row | null,
): Promise<CompletionFacts> {
  const facts = await loadCompletionFacts(core, tx, point, session, store);
  const broken = firstBrokenInvariant(facts);
  if (broken) throw new EngineError(broken.invariant.error, `[${broken.invariant.id}] ${broken.problem.detail}`, ['cartId']);
  return facts;
}

/**
 * In a step's commit: the facts as they stand now. When the step commits in the transaction that
 * claimed it, the claim's check holds and its facts (`claimed`: the step context's
 * `completionFacts`) are reused; otherwise they are read and checked again, and a broken invariant
 * fails the step with its message.
 */
export async function checkCompletionAtCommit(
  core: EngineCore,
  tx: StorageOps,
  point: CompletionPoint,
  session: Row,
  claimed: CompletionFacts | undefined,
): Promise<CompletionFacts> {
  const cartId = String(session.WebCartId);
  if (claimed) return claimed;
  try {
    return await checkCompletion(core, tx, point, session);
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    throw new StepFailed(e.message, [{ Type: 'Other', Message: e.message, RelatedEntityId: cartId }]);
  }
}

/** The session's stamps after the step `action` committed on the cart as it stands in `tx` (null: the action computes nothing). */
export async function stampsAfterStep(tx: StorageOps, session: Row, action: string | undefined, now: Date): Promise<string | null> {
  const c = computationOf(action);
  if (!c) return null;
  // The stamp's digests don't depend on the rows' order (computationDigest sorts them by Id).
  const { items, groups, taxes } = await cartRows(tx, String(session.WebCartId), true);
  return JSON.stringify(stampComputation(parseStamps(session._stamps), c, now.toISOString(), items, groups, taxes));
}

/** The session's stamps with every computation of `computations` stamped on the cart as it stands (a seeded session). */
export function stampsFor(
  stamps: CompletionStamps,
  computations: readonly Computation[],
  at: string,
  rows: { items: Row[]; groups: Row[]; taxes: Row[] },
): CompletionStamps {
  return computations.reduce((s, c) => stampComputation(s, c, at, rows.items, rows.groups, rows.taxes), stamps);
}
