/** Every example listed in examples/README.md runs to completion (exit code 0) and prints its story. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const listed = [...readFileSync(`${root}/examples/README.md`, 'utf8').matchAll(/^- `([\w-]+\.ts)`/gm)].map((m) => m[1]!);

describe('examples', () => {
  it('are listed in examples/README.md', () => {
    expect(listed).toContain('first-draft-order.ts');
  });

  for (const file of listed) {
    it(`${file} runs`, async () => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', `examples/${file}`], { cwd: root, timeout: 120_000 });
      expect(stdout).toMatch(/✓/);
    }, 180_000);
  }
});
