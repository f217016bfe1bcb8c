/**
 * The floor rules bite (issue 18): `.dependency-cruiser.cjs`, the rules `npm run lint:deps` checks,
 * run over a small tree laid out like src/ (the paths below are under its src folder) in which each
 * floor is crossed once on purpose. Every crossing is reported under the rule that names both
 * floors, and nothing else is: the allowed downward imports of the same tree pass.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

/** The fixture tree: path under the fixture's src folder → its imports. */
const TREE: Record<string, string[]> = {
  'errors.ts': [],
  'domain/rule.ts': ['../errors.js', '../engine/clock.js'], // domain → kernel
  'domain/driver.ts': ['pg'], // a database driver in the domain
  'domain/lonely.ts': [], // imported by nobody
  'machines/session.ts': ['../domain/rule.js'],
  'flows/interpreter.ts': ['../machines/session.js', '../actions/run.js', 'kysely'], // flows → actions, and a package it may not use
  'storage/port.ts': ['../domain/rule.js'],
  'integrations/calc.ts': ['../storage/port.js', '../engine/clock.js'], // integrations → kernel
  'engine/clock.ts': [],
  'engine/core.ts': ['../integrations/calc.js', '../machines/session.js'],
  'engine/cart.ts': ['./core.js', '../actions/run.js'], // kernel → actions
  'actions/run.ts': ['../engine/core.js'],
  'engine/engine.ts': ['../actions/run.js', '../inspect/view.js'], // facade → faces
  'inspect/view.ts': ['../engine/engine.js'], // closes a circle with the facade
  'http/server.ts': ['../engine/engine.js', '../inspect/view.js'],
  'gadgets/thing.ts': ['../errors.js'], // a folder on no floor
  'index.ts': ['./engine/engine.js', './http/server.js', './domain/driver.js', './flows/interpreter.js', './gadgets/thing.js'],
};

let dir: string;
let violations: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ce-layers-'));
  for (const [path, imports] of Object.entries(TREE)) {
    mkdirSync(dirname(join(dir, 'src', path)), { recursive: true });
    writeFileSync(join(dir, 'src', path), imports.map((i) => `import '${i}';\n`).join('') + 'export const x = 1;\n');
  }
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }),
  );
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fixture', type: 'module', dependencies: { pg: '*', kysely: '*' } }));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const out = await run(
    join(ROOT, 'node_modules/.bin/depcruise'),
    ['src', '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json'],
    { cwd: dir, maxBuffer: 16 * 1024 * 1024 },
  ).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  const result = JSON.parse(out.stdout) as { summary: { violations: { from: string; to: string; rule: { name: string } }[] } };
  // A package shows as its path under node_modules (the link resolves to the repository's).
  const under = (path: string) => path.replace(/^src\//, '').replace(/^.*node_modules\//, 'node_modules/');
  violations = result.summary.violations.map((v) => `${v.rule.name}: ${under(v.from)} → ${under(v.to)}`).sort();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the floor rules (.dependency-cruiser.cjs)', () => {
  it('report each upward import under the rule naming both floors', () => {
    expect(violations).toEqual(
      expect.arrayContaining([
        'domain-must-not-import-kernel: domain/rule.ts → engine/clock.ts',
        'flows-must-not-import-actions: flows/interpreter.ts → actions/run.ts',
        'integrations-must-not-import-kernel: integrations/calc.ts → engine/clock.ts',
        'kernel-must-not-import-actions: engine/cart.ts → actions/run.ts',
        'facade-must-not-import-faces: engine/engine.ts → inspect/view.ts',
      ]),
    );
  });

  it('report nothing else: ten crossings planted, ten reported', () => {
    expect(violations).toHaveLength(10);
  });

  it('report circles, packages a pure floor may not use, orphans and folders on no floor', () => {
    expect(violations).toEqual(
      expect.arrayContaining([
        'no-circular: engine/engine.ts → inspect/view.ts',
        'domain-only-pure-deps: domain/driver.ts → node_modules/pg/esm/index.mjs',
        'flows-only-language-deps: flows/interpreter.ts → node_modules/kysely/dist/esm/index.js',
        'no-orphans: domain/lonely.ts → domain/lonely.ts',
        'module-outside-the-floors: gadgets/thing.ts → errors.ts',
      ]),
    );
  });

  it('let every downward import of the same tree through', () => {
    const allowed = [
      'actions/run.ts → engine/core.ts',
      'engine/core.ts → integrations/calc.ts',
      'http/server.ts → engine/engine.ts',
      'machines/session.ts → domain/rule.ts',
      'index.ts → http/server.ts',
    ];
    for (const edge of allowed) expect(violations.filter((v) => v.endsWith(edge) && !v.startsWith('no-circular'))).toEqual([]);
  });
});
