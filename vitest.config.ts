import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files that take long for their size, started first. Without a results cache (a fresh clone,
 * as in CI) vitest starts the largest files first, and these small files, spawning processes or
 * building the package, came last: one worker ran on alone at the end while the other sat idle.
 * Longest first keeps both workers busy to the end. (With a cache vitest already orders by the
 * last run's durations; this list only lifts these files above that order.)
 */
const SLOW_FIRST = [
  'test/package/consumer.test.ts',
  'test/reliability/kill.test.ts',
  'test/reliability/soak.test.ts',
  'test/examples.test.ts',
  'test/scale/contention.test.ts',
  'test/scale/queue.test.ts',
  'test/architecture/entry-loads.test.ts',
];

class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((p) => f.moduleId.endsWith(p));
      return i < 0 ? SLOW_FIRST.length : i;
    };
    const sorted = await super.sort(files);
    return sorted
      .map((f, i) => ({ f, i, r: rank(f) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map((x) => x.f);
  }
}

export default defineConfig({
  // `import … from 'checkout-engine'` (the package's own name, as the examples write it) resolves to src/, not dist/.
  resolve: { conditions: ['checkout-engine-source'] },
  ssr: { resolve: { conditions: ['checkout-engine-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    // Salesforce's own quickstart flows aren't the project's to ship: that check runs only when a local
    // copy is named (QUICKSTART_DIR=/path/to/flows npx vitest run test/flows/quickstart.test.ts).
    exclude: ['**/node_modules/**', ...(process.env.QUICKSTART_DIR ? [] : ['test/flows/quickstart.test.ts'])],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time: most of a file's time is waiting on SQLite, PostgreSQL or a child
    // process, so two workers on a 2-core machine roughly halve the run (vitest's default is cores − 1).
    maxWorkers: 2,
    globalSetup: ['test/helpers/global-setup.ts'],
    sequence: { sequencer: SlowFirstSequencer },
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
