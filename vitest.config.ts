import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `import … from 'checkout-engine'` (the package's own name, as the examples write it) resolves to src/, not dist/.
  resolve: { conditions: ['checkout-engine-source'] },
  ssr: { resolve: { conditions: ['checkout-engine-source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
