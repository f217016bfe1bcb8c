/**
 * `engine.admin`: the operator's read-only view of the stored rows, as someone with the database
 * would see them. It bypasses sharing and field access (no caller: nothing is filtered or
 * redacted) and shows the engine's `_` columns (e.g. `_flow`, `_step`), so it is for operators,
 * tests and scenario checks — never for anything that answers a buyer. It writes nothing.
 *
 * It reads the record objects (src/domain/objects.ts OBJECTS) and the engine-internal tables
 * holding no secret (the session history, access tokens by hash, login throttles); `EngineSetting`
 * (which holds the token-signing key) is not readable through it.
 */
import { EngineError } from '../errors.js';
import { INTERNAL_OBJECTS, OBJECTS } from '../domain/objects.js';
import type { Filter, FindOptions, Row, StorageOps, TextQuery, TextSearchResult } from '../storage/port.js';

/** Internal tables `engine.admin` refuses: they hold secrets. */
const SECRET_OBJECTS: ReadonlySet<string> = new Set(['EngineSetting']);

/** What `admin.find` takes: filters (AND), sort, paging; no row locks. */
export type AdminQuery = Omit<FindOptions, 'forUpdate'>;

/** The operator's read API (see the module comment). */
export interface EngineAdmin {
  /** Stored rows of `type` matching `query` (every row without one), `_` columns included. */
  find(type: string, query?: AdminQuery): Promise<Row[]>;
  /** The stored row of `type` with this Id, or undefined. */
  get(type: string, id: string): Promise<Row | undefined>;
  /** How many stored rows of `type` match `where`. */
  count(type: string, where?: readonly Filter[]): Promise<number>;
  /** A page of ids of `type` matching a full-text query (objects with a full-text index: Product2), and the total. */
  textSearch(type: string, query: TextQuery): Promise<TextSearchResult>;
  /**
   * Every stored row of each of `types` (default: every record object), sorted by Id, keyed by
   * type — e.g. to assert a refused call changed no stored byte.
   */
  dump(types?: readonly string[]): Promise<Record<string, Row[]>>;
}

/** An object type the admin view reads, or INVALID_TYPE naming `type`. */
function readable(type: unknown): string {
  if (typeof type === 'string' && (OBJECTS.has(type) || (INTERNAL_OBJECTS.has(type) && !SECRET_OBJECTS.has(type)))) return type;
  throw new EngineError('INVALID_TYPE', `'${String(type)}' is not an object the admin view reads.`, ['type']);
}

/** The admin view over a storage (reads go straight to it, outside any transaction). */
export function createAdmin(storage: () => StorageOps): EngineAdmin {
  return {
    async find(type, query = {}) {
      const { where, orderBy, limit, offset } = query;
      return storage().find(readable(type), { where, orderBy, limit, offset });
    },
    async get(type, id) {
      return storage().get(readable(type), String(id));
    },
    async count(type, where) {
      return storage().count(readable(type), where);
    },
    async textSearch(type, query) {
      return storage().textSearch(readable(type), query);
    },
    async dump(types) {
      const names = types ? types.map(readable) : [...OBJECTS.keys()];
      const out: Record<string, Row[]> = {};
      for (const t of names) out[t] = (await storage().find(t, {})).sort((a, b) => String(a.Id).localeCompare(String(b.Id)));
      return out;
    },
  };
}
