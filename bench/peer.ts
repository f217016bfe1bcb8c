/**
 * The peer in the same run (issue 12, item 5): the same 13-step checkout on Medusa 2's workflow
 * engine and on plain XState, in memory, from the peer benchmark project (a separate npm project
 * with its own dependencies). Its folder comes from PEER_BENCH_DIR or --peer-dir; when neither is
 * given, `../shared/peer-bench` next to this repository is used if it exists. When there is no
 * folder the section prints "peer: skipped (set PEER_BENCH_DIR)". If the folder has no
 * node_modules, `npm ci` runs there first.
 *
 * It runs the peer's own driver (`node src/bench.mjs`) for the `xstate` and `medusa-engine` engines,
 * one run, sequential (1 in flight) and concurrent (100 in flight), and reads its JSON results.
 * Our number beside it is whole checkouts/s on SQLite with one engine process from the scale
 * section (every step persisted, 6 in flight); the peer's numbers are in memory with no database.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fx, mark, mdTable, type Check, type SectionOptions, type SectionResult } from './lib.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const OUT = 'results/checkout-engine-bench.json';

/** The peer folder: --peer-dir, PEER_BENCH_DIR, or ../shared/peer-bench beside the repository if it exists. */
export function peerDir(explicit?: string): string | null {
  const given = explicit ?? process.env.PEER_BENCH_DIR;
  if (given) {
    const dir = resolve(given);
    if (!existsSync(join(dir, 'package.json')))
      throw new Error(`PEER_BENCH_DIR: ${dir} has no package.json (expected the peer benchmark project)`);
    return dir;
  }
  const beside = resolve(REPO, '..', 'shared', 'peer-bench');
  return existsSync(join(beside, 'package.json')) ? beside : null;
}

interface PeerRow {
  engine: string;
  steps: number;
  wfPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs the peer and compares it with `ours` (whole checkouts/s). */
export async function benchPeer(
  opts: SectionOptions & { ours: { perSecond: number; label: string } | null; dir?: string },
): Promise<SectionResult> {
  const dir = peerDir(opts.dir);
  if (!dir) return { text: 'peer: skipped (set PEER_BENCH_DIR)', checks: [], data: { skipped: true } };
  if (!existsSync(join(dir, 'node_modules'))) {
    opts.log(`  peer: npm ci in ${dir}`);
    const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
    if (ci.status !== 0) throw new Error(`peer: npm ci failed in ${dir} (exit ${ci.status})`);
  }
  const n = opts.quick ? 300 : 1000;
  const warmup = opts.quick ? 100 : 300;
  const args = [
    'src/bench.mjs',
    '--runs',
    '1',
    '--n',
    String(n),
    '--warmup',
    String(warmup),
    '--engines',
    'xstate,medusa-engine',
    '--modes',
    'seq,conc',
    '--out',
    OUT,
  ];
  opts.log(`  peer: node ${args.join(' ')} (in the peer folder)`);
  const run = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, MEDUSA_DISABLE_TELEMETRY: 'true' } });
  if (run.status !== 0) throw new Error(`peer: src/bench.mjs failed (exit ${run.status}): ${run.stderr.slice(-2000)}`);
  const result = JSON.parse(readFileSync(join(dir, OUT), 'utf8')) as {
    config: { concurrency: number };
    summary: Record<'seq' | 'conc', PeerRow[]>;
  };
  const rows: string[][] = [];
  const checks: Check[] = [];
  for (const mode of ['seq', 'conc'] as const) {
    for (const r of result.summary[mode]) {
      const ratio = opts.ours ? opts.ours.perSecond / r.wfPerSec : NaN;
      const isPeer = r.engine === 'medusa-engine';
      rows.push([
        `${r.engine}${isPeer ? ' (the peer)' : ' (floor)'}`,
        mode === 'seq' ? '1' : String(result.config.concurrency),
        String(r.steps),
        fx(r.wfPerSec),
        fx(r.p50Ms, 2),
        fx(r.p99Ms, 2),
        opts.ours ? fx(opts.ours.perSecond) : '—',
        opts.ours ? `${fx(ratio, 3)}×` : '—',
        isPeer ? '≥ 1×' : '',
        isPeer && opts.ours ? mark(ratio >= 1) : '',
      ]);
      if (isPeer && opts.ours)
        checks.push({ what: `whole checkouts/s ÷ Medusa engine workflows/s (${mode})`, value: ratio, target: '≥ 1', ok: ratio >= 1 });
    }
  }
  const text = `${mdTable(['peer engine (in memory)', 'in flight', 'steps', 'workflows/s', 'p50 ms', 'p99 ms', `ours: ${opts.ours?.label ?? 'not measured'} checkouts/s`, 'ours ÷ peer', 'target', ''], rows)}\n\nPeer: ${n} workflows after ${warmup} warm-up, 1 run per engine and mode (\`node src/bench.mjs\` of the peer project); ours is persisted to a database at every step, the peer's is not.`;
  return { text, checks, data: { n, warmup, ours: opts.ours, peer: result.summary } };
}
