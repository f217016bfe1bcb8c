/**
 * Child processes of the tests compiled once per run. Tests that start engine processes (the crash
 * child of test/engine/exactly-once.test.ts, the fault child of test/reliability/faults.ts, the
 * engine child of test/scale/processes.ts, the soak's server of scripts/soak/run.ts) used to start each one under tsx, which compiles every
 * source file again in every child. The global setup (`buildChildren`) compiles the sources once
 * with esbuild, file by file (no bundling: each `.ts` becomes the `.js` its imports already name),
 * into a temp folder mirroring the repository, with a `node_modules` link to the repository's and
 * a package.json making it ES modules; `childEntry` points a fork at the built file.
 *
 * Outside vitest (scripts/faults.ts, the soak, bench) there is no build, and a child runs its
 * `.ts` under tsx as before. The build reflects the sources as they were when the run started.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Environment variable naming the build folder (set by the global setup, read in test workers). */
const BUILD_ENV = 'CHECKOUT_ENGINE_TEST_CHILD_BUILD';

/** The repository's root. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What children import: the sources, the test helpers next to the child entries, the soak's server (scripts/soak/). */
const FOLDERS = ['src', 'test', 'scripts'];

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) tsFiles(path, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * Global setup: compiles every `.ts` of src/, test/ and scripts/ to JS in a new temp folder and tells the
 * test workers where (`childEntry`). Returns the folder (removed by `removeChildren`).
 */
export async function buildChildren(): Promise<string> {
  const { build } = await import('esbuild');
  const out = mkdtempSync(join(tmpdir(), 'checkout-engine-children-'));
  await build({
    entryPoints: FOLDERS.flatMap((f) => tsFiles(join(ROOT, f))),
    outbase: ROOT,
    outdir: out,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
  });
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
  process.env[BUILD_ENV] = out;
  return out;
}

/** Removes the build folder of this run. */
export function removeChildren(): void {
  const out = process.env[BUILD_ENV];
  if (out) rmSync(out, { recursive: true, force: true });
}

/**
 * How to fork the child whose entry is `tsPath` (a `.ts` file of the repository): the built file
 * with no loader in a vitest run, else the `.ts` file under tsx.
 */
export function childEntry(tsPath: string): { file: string; execArgv: string[] } {
  const out = process.env[BUILD_ENV];
  if (out) {
    const built = join(out, relative(ROOT, tsPath)).replace(/\.ts$/, '.js');
    if (existsSync(built)) return { file: built, execArgv: [] };
  }
  return { file: tsPath, execArgv: ['--import', 'tsx'] };
}
