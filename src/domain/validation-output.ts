/**
 * CartValidationOutput rows (spec §1): what a step tells the buyer, one row per message, tied to the
 * cart and the background operation that wrote it. Written by a failing step (src/engine/steps.ts)
 * and by an integration's staged validations (src/integrations/data-api.ts), both through here.
 */

/** One message of a step, as an integration or a failure states it. */
export interface ValidationMessage {
  readonly Level?: 'Info' | 'Warning' | 'Error';
  readonly Type?: string;
  readonly Message: string;
  readonly RelatedEntityId?: string | null;
}

/** Where the rows belong: the cart, the operation, the step's Type, and how ids and time are made. */
export interface ValidationSource {
  readonly cartId: string;
  readonly operationId: string;
  /** The Type of a message that names none (the step's: Inventory, Pricing, …). */
  readonly type: string;
  readonly now: Date;
  readonly mint: () => string;
}

/** The CartValidationOutput rows for `messages` (Level Error when unset; Message cut to 255 characters). */
export function validationOutputRows(source: ValidationSource, messages: readonly ValidationMessage[]): Record<string, unknown>[] {
  const stamp = source.now.toISOString();
  return messages.map((v) => ({
    Id: source.mint(),
    CreatedDate: stamp,
    LastModifiedDate: stamp,
    CartId: source.cartId,
    BackgroundOperationId: source.operationId,
    Name: `${source.cartId}:${source.operationId}`,
    Level: v.Level ?? 'Error',
    Type: v.Type ?? source.type,
    Message: v.Message.slice(0, 255),
    RelatedEntityId: v.RelatedEntityId ?? null,
    RelatedEntityPrefix: v.RelatedEntityId ? String(v.RelatedEntityId).slice(0, 3) : null,
    IsDismissed: false,
  }));
}
