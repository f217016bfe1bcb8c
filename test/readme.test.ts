/** The README's promises: the two commands, and generated tables that match the code. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderReadme } from '../scripts/readme-tables.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('gives the two set-up commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
  it('lists every error and key prefix as the code declares them (run npx tsx scripts/readme-tables.ts)', () => {
    expect(readme).toBe(renderReadme(readme));
  });
});
