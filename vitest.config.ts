import { defineConfig } from 'vitest/config';
import { testFilesOf } from './testkit/test-projects.ts';

// Two projects (testkit/test-projects.ts decides which test is which): `unit` — pure, fast, no server and no
// child process — and `system` — the tests that start real servers and processes. `npm test` runs both,
// `npm run test:unit` / `npm run test:system` one.
const settings = { testTimeout: 60_000, hookTimeout: 60_000, pool: 'forks' } as const;
const root = import.meta.dirname;

export default defineConfig({
  test: {
    projects: [
      { test: { ...settings, name: 'unit', include: testFilesOf('unit', root) } },
      { test: { ...settings, name: 'system', include: testFilesOf('system', root) } },
    ],
    // Its teardown fails the run if any process the tests started is still alive (set here, not in a
    // project: it runs once for the whole run, whichever projects run).
    globalSetup: ['testkit/global-setup.ts'],
    maxWorkers: 2,
    reporters: ['default'],
  },
});
