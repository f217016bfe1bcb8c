/**
 * The consumer check shared by test/package/consumer.test.ts (this Node) and
 * scripts/node-versions.ts (Node 22 and 24): `npm pack` the package, install the tarball into a
 * fresh project, and there — without tsx or anything else of this repository — import the
 * library in plain Node ESM (proving it loads no Fastify), run whole checkouts on the demo data,
 * start the server for one request, run the CLI from node_modules/.bin, and compile every example
 * under `tsc --strict` and run the compiled JavaScript.
 *
 * The install is what `npm install <tarball>` lays out — the tarball's `package/` unpacked as
 * node_modules/checkout-engine, its bin linked — with each declared dependency linked to this
 * repository's installed copy (no registry round trip, no native build: better-sqlite3's compiled
 * binary is reused; for another Node ABI the caller passes a copy built for it). Only declared
 * dependencies are linked, so an import of an undeclared package fails here as it would for a user.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FILES = join(ROOT, 'test/package/consumer-files');

/** What `npm pack --json` reports. */
export interface Packed {
  tarball: string;
  files: string[];
}

/** Packs the package (prepack builds dist/) into `dir`. */
export async function pack(dir: string): Promise<Packed> {
  const { stdout } = await run('npm', ['pack', '--pack-destination', dir, '--json', '--silent'], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 180_000,
  });
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(dir, info!.filename), files: info!.files.map((f) => f.path) };
}

/**
 * A fresh project in `dir` with the tarball installed. `betterSqlite3` is a better-sqlite3 package
 * directory to copy in (one built for another Node ABI); by default the repository's is linked.
 */
export async function installInto(dir: string, tarball: string, opts: { betterSqlite3?: string } = {}): Promise<void> {
  const nm = join(dir, 'node_modules');
  const pkgDir = join(nm, 'checkout-engine');
  mkdirSync(pkgDir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { 'checkout-engine': `file:${tarball}` } }, null, 2),
  );
  await run('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    bin: Record<string, string>;
  };
  const repoModules = realpathSync(join(ROOT, 'node_modules'));
  const link = (name: string) => {
    const at = join(nm, name);
    mkdirSync(dirname(at), { recursive: true });
    symlinkSync(join(repoModules, name), at, 'dir');
  };
  for (const name of Object.keys(manifest.dependencies)) {
    if (name === 'better-sqlite3' && opts.betterSqlite3) {
      cpSync(opts.betterSqlite3, join(nm, name), { recursive: true, dereference: true });
      // Its own runtime dependencies, as npm would hoist them.
      for (const dep of Object.keys(
        (JSON.parse(readFileSync(join(nm, name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {},
      ))
        link(dep);
      link('file-uri-to-path');
    } else {
      link(name);
    }
  }
  // What a TypeScript user installs next to it.
  link('@types/node');
  mkdirSync(join(nm, '.bin'), { recursive: true });
  for (const [bin, target] of Object.entries(manifest.bin)) symlinkSync(join('..', 'checkout-engine', target), join(nm, '.bin', bin));
  // The examples (they import only 'checkout-engine' and fastify) and the plain-ESM checks.
  mkdirSync(join(dir, 'examples'), { recursive: true });
  for (const f of readdirSync(join(ROOT, 'examples'))) if (f.endsWith('.ts')) cpSync(join(ROOT, 'examples', f), join(dir, 'examples', f));
  for (const f of readdirSync(FILES)) cpSync(join(FILES, f), join(dir, f));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          outDir: 'out',
          rootDir: 'examples',
          types: ['node'],
          skipLibCheck: true,
        },
        include: ['examples'],
      },
      null,
      2,
    ),
  );
}

/** What the consumer checks printed. */
export interface ConsumerReport {
  nodeVersion: string;
  /** The library entry's export names, imported with Fastify forbidden. */
  libraryExports: string[];
  smoke: string;
  cliVersionOrHelp: string;
  /** Each example's output, compiled under --strict and run as JavaScript. */
  examples: Record<string, string>;
}

/** Runs the consumer checks in `dir` with the Node binary `node`. Throws (with the output) on any failure. */
export async function checkConsumer(dir: string, node: string): Promise<ConsumerReport> {
  const env = { ...process.env, NODE_OPTIONS: '' };
  const opts = { cwd: dir, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 };
  // The checks are independent processes: they run side by side (the examples once tsc compiled them).
  const listed = [...readFileSync(join(ROOT, 'examples/README.md'), 'utf8').matchAll(/^- `([\w-]+)\.ts`/gm)].map((m) => m[1]!);
  const compiledExamples = async (): Promise<Record<string, string>> => {
    await run(node, [join(realpathSync(join(ROOT, 'node_modules')), 'typescript/bin/tsc'), '-p', 'tsconfig.json'], opts).catch(
      (e: { stdout?: string; message: string }) => {
        throw new Error(`tsc --strict failed on the examples:\n${e.stdout ?? e.message}`);
      },
    );
    const outs = await Promise.all(listed.map(async (name) => (await run(node, [`out/${name}.js`], opts)).stdout));
    return Object.fromEntries(listed.map((name, i) => [name, outs[i]!]));
  };
  const [version, lib, smoke, cli, examples] = await Promise.all([
    run(node, ['--version'], opts),
    run(
      node,
      [
        '--import',
        './no-fastify.mjs',
        '--input-type=module',
        '-e',
        "const m = await import('checkout-engine'); console.log(JSON.stringify(Object.keys(m).sort()))",
      ],
      opts,
    ),
    run(node, ['smoke.mjs'], opts),
    run(node, ['node_modules/.bin/checkout-engine', 'demo'], opts),
    compiledExamples(),
  ]);
  const nodeVersion = version.stdout.trim();
  return { nodeVersion, libraryExports: JSON.parse(lib.stdout) as string[], smoke: smoke.stdout, cliVersionOrHelp: cli.stdout, examples };
}
