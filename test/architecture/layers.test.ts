/**
 * The floor rules bite (issue 18): `.dependency-cruiser.cjs`, the rules `npm run lint:deps` checks,
 * run over a small tree laid out like src/ in which each floor is crossed once on purpose. Every
 * crossing is reported under the rule that names both floors, and nothing else is: the allowed
 * downward imports of the same tree pass.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

/** The fixture tree: path → its imports. */
const TREE: Record<string, string[]> = {
  'src/errors.ts': [],
  'src/domain/rule.ts': ['../errors.js', '../engine/clock.js'], // domain → kernel
  'src/domain/driver.ts': ['pg'], // a database driver in the domain
  'src/domain/lonely.ts': [], // imported by nobody
  'src/machines/session.ts': ['../domain/rule.js'],
  'src/flows/interpreter.ts': ['../machines/session.js', '../actions/run.js', 'kysely'], // flows → actions, and a package it may not use
  'src/storage/port.ts': ['../domain/rule.js'],
  'src/integrations/calc.ts': ['../storage/port.js', '../engine/clock.js'], // integrations → kernel
  'src/engine/clock.ts': [],
  'src/engine/core.ts': ['../integrations/calc.js', '../machines/session.js'],
  'src/engine/cart.ts': ['./core.js', '../actions/run.js'], // kernel → actions
  'src/actions/run.ts': ['../engine/core.js'],
  'src/engine/engine.ts': ['../actions/run.js', '../inspect/view.js'], // facade → faces
  'src/inspect/view.ts': ['../engine/engine.js'], // closes a circle with the facade
  'src/http/server.ts': ['../engine/engine.js', '../inspect/view.js'],
  'src/gadgets/thing.ts': ['../errors.js'], // a folder on no floor
  'src/index.ts': ['./engine/engine.js', './http/server.js', './domain/driver.js', './flows/interpreter.js', './gadgets/thing.js'],
};

let dir: string;
let violations: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ce-layers-'));
  for (const [path, imports] of Object.entries(TREE)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), imports.map((i) => `import '${i}';\n`).join('') + 'export const x = 1;\n');
  }
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fixture', type: 'module', dependencies: { pg: '*', kysely: '*' } }));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const out = await run(join(ROOT, 'node_modules/.bin/depcruise'), ['src', '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 }).catch(
    (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }),
  );
  const result = JSON.parse(out.stdout) as { summary: { violations: { from: string; to: string; rule: { name: string } }[] } };
  // A package shows as its path under node_modules (the link resolves to the repository's).
  violations = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to.replace(/^.*node_modules\//, 'node_modules/')}`).sort();
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the floor rules (.dependency-cruiser.cjs)', () => {
  it('report each upward import under the rule naming both floors', () => {
    expect(violations).toEqual(
      expect.arrayContaining([
        'domain-must-not-import-kernel: src/domain/rule.ts → src/engine/clock.ts',
        'flows-must-not-import-actions: src/flows/interpreter.ts → src/actions/run.ts',
        'integrations-must-not-import-kernel: src/integrations/calc.ts → src/engine/clock.ts',
        'kernel-must-not-import-actions: src/engine/cart.ts → src/actions/run.ts',
        'facade-must-not-import-faces: src/engine/engine.ts → src/inspect/view.ts',
      ]),
    );
  });

  it('report nothing else: ten crossings planted, ten reported', () => {
    expect(violations).toHaveLength(10);
  });

  it('report circles, packages a pure floor may not use, orphans and folders on no floor', () => {
    expect(violations).toEqual(
      expect.arrayContaining([
        'no-circular: src/engine/engine.ts → src/inspect/view.ts',
        'domain-only-pure-deps: src/domain/driver.ts → node_modules/pg/esm/index.mjs',
        'flows-only-language-deps: src/flows/interpreter.ts → node_modules/kysely/dist/esm/index.js',
        'no-orphans: src/domain/lonely.ts → src/domain/lonely.ts',
        'module-outside-the-floors: src/gadgets/thing.ts → src/errors.ts',
      ]),
    );
  });

  it('let every downward import of the same tree through', () => {
    const allowed = ['src/actions/run.ts → src/engine/core.ts', 'src/engine/core.ts → src/integrations/calc.ts', 'src/http/server.ts → src/engine/engine.ts', 'src/machines/session.ts → src/domain/rule.ts', 'src/index.ts → src/http/server.ts'];
    for (const edge of allowed) expect(violations.filter((v) => v.endsWith(edge) && !v.startsWith('no-circular'))).toEqual([]);
  });
});
