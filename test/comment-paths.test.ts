/**
 * Comments and docs point at files that exist: every repository path a file under src,
 * test or docs names (a path starting with one of those folders, `../` prefixes allowed; a `.js`
 * name may stand for its `.ts` source; globs are skipped) must exist, so a rename or a deleted
 * module can't leave stale pointers behind.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOTS = ['src', 'test', 'docs'];
const TEXT = /\.(ts|mts|mjs|js|md|yaml|yml|json)$/;
/** A repository path: one of the ROOTS, then path segments; not part of a longer word, URL or package name. */
const PATH = new RegExp(String.raw`(?<![\w./@:$-])((?:\.\./)*(?:${ROOTS.join('|')})/[\w./*-]*\w)`, 'g');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    return statSync(path).isDirectory() ? filesUnder(path) : TEXT.test(name) ? [path] : [];
  });
}

/** Whether a named path exists (from the repository root), its `.js` read as `.ts`. */
function exists(named: string): boolean {
  const path = named.replace(/^(\.\.\/)+/, '');
  return existsSync(path) || (path.endsWith('.js') && existsSync(`${path.slice(0, -3)}.ts`));
}

/** The paths a text names that don't exist, as `file:line path`. */
export function stalePaths(file: string, text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, k) => {
    for (const m of line.matchAll(PATH)) if (!m[1]!.includes('*') && !exists(m[1]!)) out.push(`${file}:${k + 1} ${m[1]}`);
  });
  return out;
}

describe('paths named in comments and docs', () => {
  it('finds a path that does not exist, and accepts ones that do', () => {
    const missing = ['src', 'engine', 'no-such-module.ts'].join('/');
    expect(stalePaths('x.ts', `// see ${missing}`)).toEqual([`x.ts:1 ${missing}`]);
    expect(stalePaths('x.ts', `/** see ../../${missing} */`)).toEqual([`x.ts:1 ../../${missing}`]);
    expect(stalePaths('x.md', 'See `src/engine/engine.ts`, docs/library.md, src/domain/flow.js, test/flow/ and src/**/*.ts.')).toEqual([]);
  });

  it('every src/, test/ and docs/ path named under those folders exists', () => {
    const files = ROOTS.flatMap(filesUnder);
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap((f) => stalePaths(f, readFileSync(f, 'utf8')))).toEqual([]);
  });
});
