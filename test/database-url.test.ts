/**
 * The test suite (and the scripts and benchmarks built on it) runs against any PostgreSQL server
 * TEST_DATABASE_URL names: no file but test/helpers/backends.ts (PG_URL) writes a database URL as
 * a string literal. A quoted postgres:// URL with a literal host is what this catches; URLs built
 * from variables (`postgres://…:${port}/…`, the private cluster of the restart test) and prose in
 * comments are not.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const ALLOWED = new Set(['test/helpers/backends.ts']);

/** A quoted literal that is a whole postgres URL with a host: 'postgres://user@host:5432/db'. */
const HARD_CODED_URL = /(['"`])postgres(?:ql)?:\/\/(?:[^'"`$\s@/]*@)?[\w.-]+(?::\d+)?(?:\/[^'"`$\s]*)?\1/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(p);
    return /\.(ts|mts|mjs|js)$/.test(e.name) ? [p] : [];
  });
}

/** `file:line: text` of every hard-coded URL outside comments. */
function hardCodedUrls(file: string, text: string): string[] {
  return text
    .split('\n')
    .map((line, i) => ({ line, n: i + 1 }))
    .filter(({ line }) => !/^\s*(\/\/|\*|\/\*)/.test(line) && HARD_CODED_URL.test(line))
    .map(({ line, n }) => `${file}:${n}: ${line.trim()}`);
}

describe('database URLs in tests', () => {
  it('the detector flags a quoted URL and leaves variables, placeholders and comments alone', () => {
    const flagged = (line: string) => hardCodedUrls('x.ts', line).length;
    const pg = 'postgres:/' + '/'; // split, so this file's own samples aren't hard-coded URLs
    expect(flagged(`const url = '${pg}127.0.0.1:5432/test';`)).toBe(1);
    expect(flagged(`expect(out).toContain("${pg.replace(':', 'ql:')}postgres@db.example/app")`)).toBe(1);
    expect(flagged('const u = `' + pg + 'postgres@localhost/test`;')).toBe(1);
    expect(flagged('return `postgres://postgres@127.0.0.1:${this.port}/postgres`;')).toBe(0);
    expect(flagged(`const u = process.env.TEST_DATABASE_URL;`)).toBe(0);
    expect(flagged(`  --db 'postgres://…'`)).toBe(0);
    expect(flagged(` * default postgres://postgres@127.0.0.1:5432/test`)).toBe(0);
  });

  it('only test/helpers/backends.ts holds the default; every other file reads PG_URL (TEST_DATABASE_URL)', () => {
    const found = ['test', 'scripts', 'bench']
      .flatMap((d) => sources(join(ROOT, d)))
      .map((f) => relative(ROOT, f).split('\\').join('/'))
      .filter((f) => !ALLOWED.has(f))
      .flatMap((f) => hardCodedUrls(f, readFileSync(join(ROOT, f), 'utf8')));
    expect(found, 'use PG_URL or freshPgUrl() from test/helpers/backends.ts').toEqual([]);
    expect(hardCodedUrls('test/helpers/backends.ts', readFileSync(join(ROOT, 'test/helpers/backends.ts'), 'utf8'))).toHaveLength(1);
  });
});
