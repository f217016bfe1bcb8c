/**
 * The README's promises: the two commands, generated tables and diagrams that match the code (in the
 * README and the docs pages), and documentation that stands alone: every link stays inside the
 * repository and points at a file that exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GENERATED_PAGES, renderReadme } from '../scripts/readme-tables.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (page: string) => readFileSync(join(root, page), 'utf8');
const readme = read('README.md');
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('README', () => {
  it('gives the two set-up commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });

  it.each(GENERATED_PAGES)('%s: every generated block matches the code (run npx tsx scripts/readme-tables.ts)', (page) => {
    const text = read(page);
    expect(text).toContain(':start -->');
    expect(text).toBe(renderReadme(text));
  });

  it('stays short: the reference lives in docs/, one page per topic, each listed in the map', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(150);
    for (const page of pages.filter((p) => p !== 'README.md')) expect(readme, page).toContain(`(${page})`);
  });

  it('its library example is examples/readme-library.ts, which the tests compile under --strict and run', () => {
    const example = read('examples/readme-library.ts');
    const block = /## Library\n\n```ts\n([\s\S]*?)```/.exec(readme);
    expect(block, 'README has a Library code block').not.toBeNull();
    expect(example).toContain(block![1]!.trim());
    expect(block![1]!.trim().split('\n').length).toBeLessThanOrEqual(15);
  });

  it.each(pages)('%s links only inside the repository, to files that exist', (page) => {
    const text = read(page).replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      expect(target, `${page} → ${target}`).not.toMatch(/^(https?:|\/\/|mailto:)/);
      const file = target!.split('#')[0]!;
      if (!file) continue;
      const path = resolve(dirname(join(root, page)), file);
      expect(path.startsWith(root + '/'), `${page} → ${target} leaves the repository`).toBe(true);
      expect(existsSync(path), `${page} → ${target} does not exist`).toBe(true);
    }
  });
});
