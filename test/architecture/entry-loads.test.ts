/**
 * The library entry stays light (issue 18): importing `src/index.ts` and running an engine on
 * SQLite loads no server (Fastify), no PostgreSQL driver or queue (pg, pg-boss), and no inspector
 * or layout code (the inspect layer loads only for the `inspect` option). Checked in a child
 * process that records every package module it resolves (test/architecture/record-loads.mjs) and
 * every CommonJS module in its require cache.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** The packages a module URL or path belongs to (`node_modules/<name>` or `node_modules/@scope/<name>`, the innermost). */
function packageOf(url: string): string | null {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(url);
  return m ? m[1]! : null;
}

async function loadedPackages(script: string): Promise<Set<string>> {
  const probe = `
    import { createRequire } from 'node:module';
    ${script}
    const cjs = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify([...globalThis.__resolvedUrls, ...cjs]));`;
  const { stdout } = await run(
    process.execPath,
    [
      '--conditions=checkout-engine-source',
      '--import',
      'tsx',
      '--import',
      './test/architecture/record-loads.mjs',
      '--input-type=module',
      '-e',
      probe,
    ],
    { cwd: process.cwd(), env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000 },
  );
  const urls = JSON.parse(stdout.trim().split('\n').at(-1)!) as string[];
  return new Set(urls.map(packageOf).filter((p): p is string => !!p));
}

const HEAVY = ['fastify', '@fastify/websocket', 'pg', 'pg-boss', 'pg-pool', '@statelyai/inspect', 'elkjs', 'pino-pretty'];

describe('the library entry', () => {
  it('imported, with an engine on SQLite running and closed, loads no Fastify, pg, pg-boss, inspector or layout package', async () => {
    const loaded = await loadedPackages(`
      const m = await import('./src/index.ts');
      const engine = await m.createCheckoutEngine({ storage: ':memory:' });
      const { cartId, buyerId } = await m.demo.newCart(engine);
      const run = await engine.runCheckout(cartId, { userId: buyerId, answers: m.demo.answers });
      if (run.status !== 'complete') throw new Error('the checkout did not complete: ' + run.status);
      await engine.close();`);
    // The probe saw the engine's own packages, so an empty answer can't pass for a clean one.
    expect(loaded).toContain('better-sqlite3');
    expect(loaded).toContain('xstate');
    expect(HEAVY.filter((p) => loaded.has(p))).toEqual([]);
  });

  it('the probe does see a package the entry loads on demand: the inspector, for the inspect option', async () => {
    const loaded = await loadedPackages(`
      const m = await import('./src/index.ts');
      const seen = [];
      const inspector = { actor: () => seen.push('actor'), event: () => {}, snapshot: () => {} };
      const engine = await m.createCheckoutEngine({ storage: ':memory:', inspect: inspector });
      const { cartId, buyerId } = await m.demo.newCart(engine);
      const run = await engine.runCheckout(cartId, { userId: buyerId, answers: m.demo.answers });
      await engine.close();
      if (run.status !== 'complete' || !seen.length) throw new Error('the inspector saw nothing');`);
    expect(loaded).toContain('@statelyai/inspect');
    expect(loaded).not.toContain('fastify');
  });
});
