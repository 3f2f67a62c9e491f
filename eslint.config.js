// Lint: typescript-eslint strict rules, plus the boundary between edge and hub.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.demo/**', '.scratch/**', 'coverage/**', 'dashboards/generated/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-exports': ['error', { restrictDefaultExports: { direct: true, named: true, defaultFrom: true, namedFrom: true, namespaceFrom: true } }],
    },
  },
  { files: ['vitest.config.ts'], rules: { 'no-restricted-exports': 'off' } },
  {
    files: ['edge/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/hub/**', '../hub/*'], message: 'edge must not import hub: share through protocol/' }] }] },
  },
  {
    files: ['hub/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/edge/**', '../edge/*'], message: 'hub must not import edge: share through protocol/' }] }] },
  },
  {
    files: ['journal/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/hub/**', '**/edge/**', '**/protocol/**'], message: 'journal is a plain log: it knows neither side nor the protocol' }] }] },
  },
  // Test-only code lives in testkit/ and never ships: production folders do not import it. (The typescript-eslint
  // twin of no-restricted-imports, so that these two rules add to the folder rules around them instead of replacing them.)
  {
    files: ['protocol/**/*.ts', 'journal/**/*.ts', 'edge/**/*.ts', 'hub/**/*.ts', 'flows/**/*.ts', 'common/**/*.ts', 'dashboards/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/testkit', '**/testkit/**', '**/test/**'], message: 'testkit/ and test/ are test-only: production code never imports them' }] }] },
  },
  // Tests take their helpers from testkit/ alone (it re-exports what they need of scripts/lib: free ports,
  // influxd, guarded child processes, the mail sink…); scripts/ and bench/ use scripts/lib themselves.
  {
    files: ['**/*.test.ts', '**/*.fixture.ts', 'test/**/*.ts'],
    ignores: ['scripts/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/scripts/lib', '**/scripts/lib/**'], message: 'tests import their helpers from testkit/ (add a re-export there)' },
            { group: ['**/test/**'], message: 'test/ holds tests only: shared test helpers live in testkit/' },
          ],
        },
      ],
    },
  },
  {
    files: ['protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:fs', 'node:net', 'node:http', 'node:child_process', 'fs', 'net', 'http', 'mqtt', 'aedes', 'influx'],
          patterns: [{ group: ['**/hub/**', '**/edge/**'], message: 'protocol has no I/O and imports neither side' }],
        },
      ],
    },
  },
);
