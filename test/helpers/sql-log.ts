/** Statement counting for tests: the SQL better-sqlite3 runs in this process while a function runs. */
import Database from 'better-sqlite3';

/**
 * Runs `fn` and returns its result with the SQL text of every statement better-sqlite3 ran in this
 * process meanwhile, in order (`pragmas: false` leaves PRAGMA statements out).
 */
export async function sqlWhile<T>(fn: () => Promise<T>, opts: { pragmas?: boolean } = {}): Promise<{ result: T; sql: string[] }> {
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...a: unknown[]) => unknown>;
  probe.close();
  const keepPragmas = opts.pragmas ?? true;
  const sql: string[] = [];
  const originals = new Map<string, (...a: unknown[]) => unknown>();
  for (const m of ['run', 'all', 'get', 'iterate']) {
    const orig = proto[m]!;
    originals.set(m, orig);
    proto[m] = function (this: { source: string }, ...a: unknown[]) {
      if (keepPragmas || !/^pragma/i.test(this.source)) sql.push(this.source);
      return orig.apply(this, a);
    };
  }
  try {
    return { result: await fn(), sql };
  } finally {
    for (const [m, orig] of originals) proto[m] = orig;
  }
}
