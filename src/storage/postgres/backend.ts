/** The PostgreSQL backend as `openStorage` sees it: `postgres://` and `postgresql://` URLs (pg loads only then). */
import type { StorageBackend } from '../port.js';

export const backend: StorageBackend = {
  name: 'postgres',
  accepts: (location) => /^postgres(ql)?:\/\//i.test(location),
  async open(location) {
    const { openPostgres } = await import('./index.js');
    return openPostgres(location);
  },
};
