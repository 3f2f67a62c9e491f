import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['common/**/*.test.ts', 'protocol/**/*.test.ts', 'journal/**/*.test.ts', 'edge/**/*.test.ts', 'hub/**/*.test.ts', 'dashboards/**/*.test.ts', 'flows/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.ts'],
    // Its teardown fails the run if any process the tests started is still alive.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
