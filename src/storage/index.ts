/**
 * Opens the storage backend a location names. Backends are the folders next to this file
 * (src/storage/<name>/), each exporting `backend` (a `StorageBackend`) from its `backend.ts`: the
 * first that accepts the location opens it, else the fallback one — `':memory:'` or a file path →
 * SQLite; `postgres://` or `postgresql://` → PostgreSQL. A new backend is a new folder; nothing
 * here changes.
 */
import { readdirSync } from 'node:fs';
import { EngineError } from '../errors.js';
import type { Storage, StorageBackend } from './port.js';

let found: Promise<StorageBackend[]> | undefined;

/** Every backend folder's descriptor, by folder name (read once). */
export function storageBackends(): Promise<StorageBackend[]> {
  found ??= (async () => {
    const folders = readdirSync(new URL('./', import.meta.url), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    const backends: StorageBackend[] = [];
    for (const folder of folders) {
      const specifier = `./${folder}/backend.js`; // resolved at run time (Node, tsx and vitest map .js to .ts in a source checkout)
      const mod = (await import(/* @vite-ignore */ specifier)) as { backend?: StorageBackend };
      if (!mod.backend || mod.backend.name !== folder)
        throw new Error(`src/storage/${folder}/backend.ts must export a backend named '${folder}'`);
      backends.push(mod.backend);
    }
    if (backends.filter((b) => b.fallback).length > 1) throw new Error('at most one storage backend may be the fallback');
    return backends;
  })();
  return found;
}

/** Opens storage for a location string. */
export async function openStorage(location: string): Promise<Storage> {
  if (typeof location !== 'string' || !location)
    throw new EngineError('INVALID_INPUT', 'storage must be ":memory:", a SQLite file path or a postgres:// URL.', ['storage']);
  const backends = await storageBackends();
  const backend = backends.find((b) => !b.fallback && b.accepts(location)) ?? backends.find((b) => b.fallback && b.accepts(location));
  if (!backend) throw new EngineError('INVALID_INPUT', `No storage backend opens '${location}'.`, ['storage']);
  return backend.open(location);
}
