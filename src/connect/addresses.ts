/**
 * A buyer account's addresses through Commerce Connect (`…/accounts/{accountId}/addresses`): the
 * account's ContactPointAddress records in Connect's Address shape.
 *
 * The path's account must be the request's effective account (`StoreContext.accountId`); any other
 * account, and an address of another account, answers exactly like a missing one (NOT_FOUND), so
 * the API tells nothing about other accounts. Writes go through the record API as the caller, so
 * the record rules (who writes ContactPointAddress, field checks) apply as they do to a record
 * write. One default address per type and account: making an address the default clears the flag
 * on the account's other addresses of its type.
 */
import type { CheckoutEngine } from '../engine/engine.js';
import { EngineError } from '../errors.js';
import type { Filter, Row } from '../storage/port.js';
import { idOf, type StoreContext } from './context.js';

/** Address Input (the Connect body of a create or an update). */
export interface AddressInput {
  name?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  companyName?: string | null;
  street?: string | null;
  city?: string | null;
  region?: string | null;
  country?: string | null;
  postalCode?: string | null;
  /** A region code (e.g. CA); without it a short `region` is taken as the code. */
  regionCode?: string | null;
  /** A two-letter country code; without it a two-letter `country` is taken as the code. */
  countryCode?: string | null;
  addressType?: 'Shipping' | 'Billing';
  isDefault?: boolean;
}

/** Query of the address list. */
export interface AddressListQuery {
  addressType?: 'Shipping' | 'Billing';
  defaultOnly?: boolean;
  page?: number;
  pageSize?: number;
  sortOrder?: 'CreatedDateAsc' | 'CreatedDateDesc' | 'NameAsc' | 'NameDesc';
}

/** Connect's Address output of a ContactPointAddress row. */
export function addressOf(row: Row) {
  return {
    addressId: String(row.Id),
    addressType: (row.AddressType as string | null) ?? null,
    name: (row.Name as string | null) ?? null,
    firstName: null,
    lastName: null,
    companyName: null,
    street: (row.Street as string | null) ?? null,
    city: (row.City as string | null) ?? null,
    region: (row.StateCode as string | null) ?? (row.State as string | null) ?? null,
    country: (row.CountryCode as string | null) ?? (row.Country as string | null) ?? null,
    postalCode: (row.PostalCode as string | null) ?? null,
    isDefault: row.IsDefault === true,
  };
}

/** The path's account: the effective account, or NOT_FOUND naming accountId (never saying whether it exists). */
function ownAccount(ctx: StoreContext, accountIdInput: unknown): string {
  const id = idOf('Account', accountIdInput, 'accountId');
  if (id !== ctx.accountId)
    throw new EngineError('NOT_FOUND', `accountId: no account '${String(accountIdInput)}' this user can act for.`, ['accountId']);
  return id;
}

/** An address of the account, or NOT_FOUND naming addressId (another account's answers the same). */
async function ownAddress(engine: CheckoutEngine, accountId: string, addressIdInput: unknown): Promise<Row> {
  const id = idOf('ContactPointAddress', addressIdInput, 'addressId');
  const row = await engine.admin.get('ContactPointAddress', id);
  if (!row || row.ParentId !== accountId)
    throw new EngineError('NOT_FOUND', `addressId: no address '${String(addressIdInput)}' of this account.`, ['addressId']);
  return row;
}

/** ContactPointAddress fields of an Address Input (only what it names). */
function recordFields(input: AddressInput): Row {
  const out: Row = {};
  const person = [input.firstName, input.lastName].filter((s) => typeof s === 'string' && s.trim()).join(' ');
  const name = input.name ?? (person || input.companyName || undefined);
  if (name !== undefined) out.Name = name;
  if (input.street !== undefined) out.Street = input.street;
  if (input.city !== undefined) out.City = input.city;
  if (input.postalCode !== undefined) out.PostalCode = input.postalCode;
  if (input.region !== undefined) {
    out.State = input.region;
    out.StateCode = typeof input.region === 'string' && /^[A-Za-z0-9]{1,3}$/.test(input.region) ? input.region.toUpperCase() : null;
  }
  if (input.country !== undefined) {
    out.Country = input.country;
    out.CountryCode = typeof input.country === 'string' && /^[A-Za-z]{2}$/.test(input.country) ? input.country.toUpperCase() : null;
  }
  if (input.regionCode !== undefined) out.StateCode = input.regionCode;
  if (input.countryCode !== undefined) out.CountryCode = input.countryCode;
  if (input.addressType !== undefined) out.AddressType = input.addressType;
  if (input.isDefault !== undefined) out.IsDefault = input.isDefault;
  return out;
}

/** Clears IsDefault on the account's other addresses of `type` (as the caller). */
async function clearOtherDefaults(engine: CheckoutEngine, ctx: StoreContext, keep: string, type: unknown): Promise<void> {
  const where: Filter[] = [
    { field: 'ParentId', op: '=', value: ctx.accountId },
    { field: 'IsDefault', op: '=', value: true },
    { field: 'Id', op: '!=', value: keep },
  ];
  where.push(
    type === null || type === undefined ? { field: 'AddressType', op: 'is null' } : { field: 'AddressType', op: '=', value: type },
  );
  for (const other of await engine.admin.find('ContactPointAddress', { where })) {
    await engine.updateRecordAs(ctx.caller, 'ContactPointAddress', String(other.Id), { IsDefault: false });
  }
}

/** GET …/accounts/{accountId}/addresses: Address Collection, paged by page number tokens. */
export async function listAddresses(engine: CheckoutEngine, ctx: StoreContext, accountIdInput: unknown, q: AddressListQuery) {
  const accountId = ownAccount(ctx, accountIdInput);
  const page = q.page ?? 0;
  const pageSize = q.pageSize ?? 25;
  const where: Filter[] = [{ field: 'ParentId', op: '=', value: accountId }];
  if (q.addressType) where.push({ field: 'AddressType', op: '=', value: q.addressType });
  if (q.defaultOnly) where.push({ field: 'IsDefault', op: '=', value: true });
  const sort = q.sortOrder ?? 'CreatedDateDesc';
  const field = sort.startsWith('Name') ? 'Name' : 'CreatedDate';
  const direction = sort.endsWith('Asc') ? 'asc' : 'desc';
  const count = await engine.admin.count('ContactPointAddress', where);
  const rows = await engine.admin.find('ContactPointAddress', {
    where,
    orderBy: [
      { field: 'IsDefault', direction: 'desc' },
      { field, direction },
      { field: 'Id', direction },
    ],
    limit: pageSize,
    offset: page * pageSize,
  });
  const more = (page + 1) * pageSize < count;
  return {
    count,
    currentPageToken: String(page),
    nextPageToken: more ? String(page + 1) : null,
    previousPageToken: page > 0 ? String(page - 1) : null,
    items: rows.map(addressOf),
  };
}

/** POST …/accounts/{accountId}/addresses: creates the address (201). */
export async function createAddress(engine: CheckoutEngine, ctx: StoreContext, accountIdInput: unknown, input: AddressInput) {
  const accountId = ownAccount(ctx, accountIdInput);
  if (!input.addressType)
    throw new EngineError('REQUIRED_FIELD_MISSING', 'Required fields are missing: addressType (Shipping or Billing).', ['addressType']);
  const fields = recordFields(input);
  if (fields.Name === undefined || fields.Name === null || String(fields.Name).trim() === '')
    throw new EngineError('REQUIRED_FIELD_MISSING', 'Required fields are missing: name (or firstName and lastName).', ['name']);
  const { id } = await engine.createRecordAs(ctx.caller, 'ContactPointAddress', { ...fields, ParentId: accountId });
  if (input.isDefault === true) await clearOtherDefaults(engine, ctx, id, input.addressType);
  return addressOf((await engine.admin.get('ContactPointAddress', id))!);
}

/** PATCH …/accounts/{accountId}/addresses/{addressId}: updates what the body names. */
export async function updateAddress(
  engine: CheckoutEngine,
  ctx: StoreContext,
  accountIdInput: unknown,
  addressIdInput: unknown,
  input: AddressInput,
) {
  const accountId = ownAccount(ctx, accountIdInput);
  const row = await ownAddress(engine, accountId, addressIdInput);
  const fields = recordFields(input);
  if ('Name' in fields && (fields.Name === null || String(fields.Name).trim() === ''))
    throw new EngineError('REQUIRED_FIELD_MISSING', 'Required fields are missing: name.', ['name']);
  if (Object.keys(fields).length) await engine.updateRecordAs(ctx.caller, 'ContactPointAddress', String(row.Id), fields);
  const after = (await engine.admin.get('ContactPointAddress', String(row.Id)))!;
  if (after.IsDefault === true && (input.isDefault === true || input.addressType !== undefined))
    await clearOtherDefaults(engine, ctx, String(row.Id), after.AddressType);
  return addressOf(after);
}

/** DELETE …/accounts/{accountId}/addresses/{addressId} (204). */
export async function deleteAddress(engine: CheckoutEngine, ctx: StoreContext, accountIdInput: unknown, addressIdInput: unknown) {
  const accountId = ownAccount(ctx, accountIdInput);
  const row = await ownAddress(engine, accountId, addressIdInput);
  await engine.deleteRecordAs(ctx.caller, 'ContactPointAddress', String(row.Id));
}

/** An address of the account (GET …/addresses/{addressId}). */
export async function getAddress(engine: CheckoutEngine, ctx: StoreContext, accountIdInput: unknown, addressIdInput: unknown) {
  return addressOf(await ownAddress(engine, ownAccount(ctx, accountIdInput), addressIdInput));
}
