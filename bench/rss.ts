/**
 * Memory after 100,000 checkout sessions (issue 12, item 4; target: growth < 100 MB per 100k).
 *
 * Setup (not measured, in this process): a SQLite file (WAL) with the demo store and buyer and
 * WARMUP + COUNT active carts — one cart seeded through the engine, the rest copies of its WebCart
 * row with fresh ids, written with raw prepared statements so that setup stays short.
 * Measured (bench/rss-child.ts, its own `node --expose-gc` process): one engine creates a checkout
 * session for every cart with `checkoutSessionAction`, IN_FLIGHT calls at a time; RSS and heap used are
 * read after a forced GC at the baseline (after WARMUP sessions) and every SAMPLE sessions.
 * Growth per 100k = (last − baseline) × 100,000 ÷ sessions created.
 *
 * Run alone: npx tsx bench/rss.ts [--quick] [--count N]   (bench/run.ts runs it as a section)
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCheckoutEngine } from '../src/engine/engine.js';
import { demoFixture } from '../src/demo/fixture.js';
import { mintId } from '../src/domain/ids.js';
import { OBJECTS } from '../src/domain/objects.js';
import type { RssReply } from './rss-child.js';
import { fx, isMain, machine, machineLine, mark, mdTable, runChild, type Check, type SectionOptions, type SectionResult } from './lib.js';

const CHILD = fileURLToPath(new URL('./rss-child.ts', import.meta.url));
const WARMUP = 1000;
const TARGET_MB = 100;
/** Calls in flight (SQLite work is synchronous; a few in flight overlap the async parts). */
const IN_FLIGHT = 8;

async function prepare(carts: number): Promise<{ dir: string; file: string; buyer: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rss-'));
  const file = join(dir, 'rss.db');
  const engine = await createCheckoutEngine({ storage: file, worker: false, recover: false });
  const ids = await engine.seed(demoFixture({ lines: 1 }));
  await engine.close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  try {
    const template = db.prepare('select * from "WebCart" where "Id" = ?').get(ids.cart) as Record<string, unknown>;
    const cols = Object.keys(template);
    const insert = db.prepare(`insert into "WebCart" (${cols.map((c) => `"${c}"`).join(', ')}) values (${cols.map(() => '?').join(', ')})`);
    const prefix = OBJECTS.get('WebCart')!.keyPrefix;
    db.transaction(() => {
      for (let i = 1; i < carts; i++) insert.run(cols.map((c) => (c === 'Id' ? mintId(prefix) : c === 'Name' ? `Cart ${i}` : template[c])));
    })();
  } finally {
    db.close();
  }
  return { dir, file, buyer: ids.buyer! };
}

/** Creates COUNT sessions in a fresh process and reports memory growth. */
export async function benchRss(opts: SectionOptions & { count?: number }): Promise<SectionResult> {
  const count = opts.count ?? (opts.quick ? 10_000 : 100_000);
  const sample = Math.max(1000, Math.floor(count / 10));
  const t0 = performance.now();
  const p = await prepare(WARMUP + count);
  opts.log(`  rss: seeded ${(WARMUP + count).toLocaleString('en-US')} carts in ${fx((performance.now() - t0) / 1000)} s`);
  let r: RssReply;
  try {
    r = await runChild<RssReply>(CHILD, [], {
      execArgv: ['--expose-gc'],
      env: {
        BENCH_STORAGE: p.file,
        BENCH_USER: p.buyer,
        BENCH_WARMUP: String(WARMUP),
        BENCH_COUNT: String(count),
        BENCH_SAMPLE: String(sample),
        BENCH_IN_FLIGHT: String(IN_FLIGHT),
      },
    });
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
  if (r.failed) opts.log(`  rss: ${r.failed} checkoutSessionAction calls failed, first: ${r.firstError}`);
  const base = r.samples[0]!;
  const last = r.samples.at(-1)!;
  const per100k = (x: number) => (x * 100_000) / last.sessions;
  const rssGrowth = per100k(last.rssMB - base.rssMB);
  const heapGrowth = per100k(last.heapUsedMB - base.heapUsedMB);
  const rate = last.sessions / (last.seconds - base.seconds);
  opts.log(
    `  rss: ${last.sessions.toLocaleString('en-US')} sessions at ${fx(rate)}/s; RSS ${fx(base.rssMB)} → ${fx(last.rssMB)} MB, heap ${fx(base.heapUsedMB)} → ${fx(last.heapUsedMB)} MB`,
  );
  const curve = mdTable(
    ['sessions', 'RSS MB', 'heap used MB', 'seconds'],
    r.samples.map((s) => [s.sessions.toLocaleString('en-US'), fx(s.rssMB), fx(s.heapUsedMB), fx(s.seconds)]),
  );
  const summary = mdTable(
    [
      'sessions',
      'sessions/s',
      'RSS baseline MB',
      'RSS end MB',
      'RSS growth per 100k MB',
      'heap growth per 100k MB',
      'failed',
      'target (RSS)',
      '',
    ],
    [
      [
        last.sessions.toLocaleString('en-US'),
        fx(rate),
        fx(base.rssMB),
        fx(last.rssMB),
        fx(rssGrowth),
        fx(heapGrowth),
        String(r.failed),
        `< ${TARGET_MB} MB`,
        mark(rssGrowth < TARGET_MB && r.failed === 0),
      ],
    ],
  );
  const note = `${r.gc ? 'Read after global.gc() (--expose-gc).' : 'global.gc unavailable: readings without a forced GC.'}${last.sessions < 100_000 ? ` Growth extrapolated from ${last.sessions.toLocaleString('en-US')} sessions.` : ''}`;
  const checks: Check[] = [
    {
      what: 'RSS growth per 100k checkout sessions (MB)',
      value: rssGrowth,
      target: `< ${TARGET_MB}`,
      ok: rssGrowth < TARGET_MB && r.failed === 0,
    },
  ];
  return {
    text: `${summary}\n\n${note}\n\n${curve}`,
    checks,
    data: {
      warmup: WARMUP,
      count,
      rssGrowthPer100kMB: rssGrowth,
      heapGrowthPer100kMB: heapGrowth,
      sessionsPerSecond: rate,
      failed: r.failed,
      gc: r.gc,
      samples: r.samples,
    },
  };
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2);
  const countArg = args.indexOf('--count');
  console.log(`machine: ${machineLine(machine())}`);
  const r = await benchRss({
    quick: args.includes('--quick'),
    count: countArg >= 0 ? Number(args[countArg + 1]) : undefined,
    log: (l) => console.log(l),
  });
  console.log(`\nmemory after checkout sessions\n${r.text}`);
}
