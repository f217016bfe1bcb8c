/**
 * Opens the storage backend a location names: `':memory:'` or a file path → SQLite;
 * `postgres://` or `postgresql://` → PostgreSQL.
 */
import { EngineError } from '../errors.js';
import type { Storage } from './port.js';
import { openSqlite } from './sqlite/index.js';

/** Opens storage for a location string. */
export async function openStorage(location: string): Promise<Storage> {
  if (typeof location !== 'string' || !location) throw new EngineError('INVALID_INPUT', 'storage must be ":memory:", a SQLite file path or a postgres:// URL.', ['storage']);
  if (/^postgres(ql)?:\/\//i.test(location)) {
    const { openPostgres } = await import('./postgres/index.js');
    return openPostgres(location);
  }
  return openSqlite(location);
}
