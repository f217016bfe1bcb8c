/**
 * The package as a user gets it: `npm pack` ships what a user needs (dist with types and source
 * maps, the bin, README, LICENSE, CHANGELOG, docs, the scenario schema) and no tests or benchmarks;
 * installed into a fresh project it works in plain Node ESM and under `tsc --strict` (see
 * test/package/consumer.ts; Node 22 and 24: `npm run test:node-versions`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConsumer, installInto, pack, type ConsumerReport, type Packed } from './consumer.js';

const dir = mkdtempSync(join(tmpdir(), 'checkout-engine-consumer-'));
let packed: Packed;
let report: ConsumerReport;

beforeAll(async () => {
  packed = await pack(dir);
  await installInto(join(dir, 'project'), packed.tarball);
  report = await checkConsumer(join(dir, 'project'), process.execPath);
}, 240_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the packed package', () => {
  it('ships dist (ESM, .d.ts, source maps), the bin, docs and legal files, and no tests, benchmarks or TypeScript sources', () => {
    const files = packed.files;
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'src/cli/bin.mjs',
      'scenarios/scenario.schema.json',
      'docs/library.md',
    ])
      expect(files).toContain(f);
    for (const entry of ['index', 'http/index', 'scenarios/index', 'scenarios/vitest', 'cli/main']) {
      for (const ext of ['.js', '.d.ts', '.js.map']) expect(files).toContain(`dist/src/${entry}${ext}`);
    }
    expect(
      files.filter((f) => /^(test|bench|scripts|machines|examples)\//.test(f) || (f.startsWith('src/') && f !== 'src/cli/bin.mjs')),
    ).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('the library entry loads without Fastify and exports the engine and the demo helpers; the server is in checkout-engine/http', () => {
    expect(report.libraryExports).toEqual(
      expect.arrayContaining(['createCheckoutEngine', 'demo', 'demoFixture', 'demoCatalogFixture', 'formatTrajectory', 'ACTIONS']),
    );
    expect(report.libraryExports).not.toContain('startServer');
  });

  it('in plain Node ESM: demoFixture and demo.newCart carts check out completely, and the server answers a token request and a record read', () => {
    expect(report.smoke).toBe('checkouts: complete complete\nhttp: 200 Activated\n');
  });

  it('the installed checkout-engine bin runs the demo without tsx', () => {
    expect(report.cliVersionOrHelp).toMatch(/Demo store ready: cart 0a6\w{15}/);
    expect(report.cliVersionOrHelp).toMatch(/Order \w{18}: Status Activated/);
  });

  it('every example compiles under tsc --strict against the installed types and runs as JavaScript', () => {
    expect(Object.keys(report.examples)).toEqual(
      expect.arrayContaining(['readme-library', 'http-plugin', 'full-checkout', 'first-draft-order']),
    );
    for (const [name, out] of Object.entries(report.examples)) expect(out, name).toMatch(/✓/);
    expect(report.examples['readme-library']).toMatch(/✓ complete: order \w{18} Activated/);
  });
});
