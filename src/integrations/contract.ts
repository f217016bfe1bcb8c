/**
 * The calculator contract, modelled on Salesforce's `sfdc_checkout.AsyncCartProcessor`: an
 * integration gets `startCartProcessAsync(integrationInfo, cartId, data)` and resolves to
 * `{ status: 'SUCCESS' | 'FAILED' }`. It reads the cart through `data` and writes CartValidationOutput,
 * CartTax, CartDeliveryGroupMethod rows and prices through it too — best by editing the cart's
 * draft (`data.state()`, `data.edit(draft => …)`, immer). Writes are staged, not applied:
 * the engine applies them in the one transaction that completes the step, so a failing, throwing or
 * timed-out integration leaves no half-written cart behind.
 */
import type { Row } from '../storage/port.js';
import type { CartDraft, CartState } from './cart-draft.js';

export type { CartDraft, CartState, RowsById } from './cart-draft.js';

/** Mirrors `sfdc_checkout.IntegrationInfo`. */
export interface IntegrationInfo {
  /** The integration's registered name (e.g. `inventory`, or a custom step's action name). */
  readonly integrationId: string;
  /** The BackgroundOperation id of the step (Salesforce's `jobId`). */
  readonly jobId: string;
  readonly siteLanguage: string;
}

/** Mirrors `sfdc_checkout.IntegrationStatus`; `message` is used when a FAILED result wrote no Error row. */
export interface IntegrationStatus {
  readonly status: 'SUCCESS' | 'FAILED';
  readonly message?: string;
}

/** A CartValidationOutput an integration reports; Type defaults to the step's type, Level to Error. */
export interface IntegrationValidation {
  Level?: 'Info' | 'Warning' | 'Error';
  Type?: string;
  Message: string;
  RelatedEntityId?: string | null;
}

/** A simple equality filter for reads: field → value (an array means "one of"). */
export type Match = Record<string, unknown>;

/** One staged write, applied at commit. */
export type StagedWrite =
  | { op: 'insert'; object: string; fields: Row }
  | { op: 'update'; object: string; id: string; fields: Row; expect?: Match }
  | { op: 'delete'; object: string; ids: string[] }
  | { op: 'reserve'; object: 'ProductInventory'; id: string; quantity: number; sku?: string; relatedEntityId?: string };

/** What an integration sees: read access to the store's records and staged writes for its cart. */
export interface CartDataApi {
  /** Aborted when the step times out; long-running integrations should stop. */
  readonly signal: AbortSignal;
  /** The engine clock's time when the step started. */
  readonly now: Date;
  /**
   * Set when the calculator runs inside a Cart Calculate request (src/integrations/cart-calculate.ts):
   * its domain, the request's buyer actions (flags by name) and the CartItems the buyer changed
   * (e.g. to reprice only those). Undefined for a Flow core action's step.
   */
  readonly calculation?: {
    readonly domain: string;
    readonly buyerActions: Readonly<Record<string, boolean>>;
    readonly changedCartItemIds: readonly string[];
  };
  /** The cart (WebCart row, public fields). */
  readonly cart: Row;
  /**
   * The step's cart — WebCart, CartItem, CartDeliveryGroup, CartTax and CartDeliveryGroupMethod
   * rows, each collection keyed by Id — read once per step (one read per table) and frozen;
   * after `edit` it is the edited state.
   */
  state(): Promise<CartState>;
  /**
   * Edits the cart: `recipe` mutates an immer draft of `state()` (synchronously). The engine
   * checks the edit's patches as it checks staged writes (which objects and fields integrations
   * may write, the field schemas, new rows pointing into the cart) — a refused edit throws and
   * changes nothing — and at commit writes only the fields the patches named, in batched
   * statements. New rows go under any key that isn't an Id (the engine assigns the Id);
   * `delete draft.taxes[id]` deletes; `draft.taxes = {}` replaces them all. Returns the new state.
   */
  edit(recipe: (draft: CartDraft) => void): Promise<CartState>;
  /** The cart's lines (Product and Charge CartItems), as `state()` holds them (copies). */
  items(): Promise<Row[]>;
  /** The cart's delivery groups, as `state()` holds them (copies). */
  deliveryGroups(): Promise<Row[]>;
  /** Reads any object's records with equality filters (e.g. `find('PricebookEntry', { Product2Id: [...] })`). */
  find(object: string, match?: Match): Promise<Row[]>;
  /** Reports a CartValidationOutput (kept on SUCCESS as Info/Warning, and explains a FAILED result). */
  addValidation(v: IntegrationValidation): void;
  /** Stages a new record (CartTax, CartDeliveryGroupMethod); the same as adding it to the draft. */
  insert(object: string, fields: Row): void;
  /** Stages an update; with `expect`, applied only if those fields still hold (else the step fails). */
  update(object: string, id: string, fields: Row, expect?: Match): void;
  /** Stages deletions (CartTax, CartDeliveryGroupMethod of this cart). */
  delete(object: string, ids: string[]): void;
  /**
   * Stages a stock reservation: at commit the cart holds `quantity` of the ProductInventory row
   * (calls for one row in a run add up), recorded as a ProductReservation of the cart.
   * QuantityReserved moves by the difference from what the cart already held, if the unreserved
   * stock (QuantityAvailable − QuantityReserved, re-read in the commit transaction, so concurrent
   * checkouts of one product serialize) covers it; else the step fails with an Inventory validation
   * naming the SKU. A re-run sets the hold, never adds to it; an inventory step's run releases the
   * holds it no longer asks for.
   */
  reserve(inventoryId: string, quantity: number, info?: { sku?: string; relatedEntityId?: string }): void;
}

/** A calculator: the engine's defaults and a store's own integrations implement this. */
export interface CartProcessor {
  startCartProcessAsync(info: IntegrationInfo, cartId: string, data: CartDataApi): Promise<IntegrationStatus>;
}

/** The built-in calculator steps and the action that runs each. */
export const CALCULATOR_ACTIONS = {
  inventory: 'checkCartInventoryAction',
  pricing: 'priceCart',
  promotions: 'calcCartPromotionsAction',
  shipping: 'calcCartShipmentAction',
  taxes: 'calcCartTaxesAction',
} as const;

/** Name of a built-in calculator. */
export type CalculatorName = keyof typeof CALCULATOR_ACTIONS;
