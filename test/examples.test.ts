/**
 * Every example listed in examples/README.md runs to completion (exit code 0) and prints its story.
 * Examples import only the package's public name ('checkout-engine'); here it resolves to src/
 * through the package's `checkout-engine-source` export condition (test/package/consumer.test.ts
 * runs them again against the packed tarball).
 */
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
    expect(listed).toContain('readme-library.ts');
  });

  it('import nothing but the public package (no relative imports into src/)', () => {
    for (const file of listed) {
      const imports = [...readFileSync(`${root}/examples/${file}`, 'utf8').matchAll(/^import [^;]* from '([^']+)';$/gm)].map((m) => m[1]!);
      expect(imports.length, file).toBeGreaterThan(0);
      for (const spec of imports) expect(spec, `${file} imports ${spec}`).toMatch(/^(checkout-engine(\/[a-z]+)?|node:.*|fastify)$/);
    }
  });

  for (const file of listed) {
    it(`${file} runs`, async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=checkout-engine-source', '--import', 'tsx', `examples/${file}`],
        { cwd: root, timeout: 120_000 },
      );
      expect(stdout).toMatch(/✓/);
    }, 180_000);
  }
});
