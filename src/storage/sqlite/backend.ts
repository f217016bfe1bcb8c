/** The SQLite backend as `openStorage` sees it: every location no other backend claims (a file path, `:memory:`). */
import type { StorageBackend } from '../port.js';

export const backend: StorageBackend = {
  name: 'sqlite',
  fallback: true,
  accepts: () => true,
  async open(location) {
    const { openSqlite } = await import('./index.js');
    return openSqlite(location);
  },
};
