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
  {
    files: ['common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/edge/**', '**/hub/**', '**/flows/**', '**/scripts/**', '**/test/**', '**/journal/**', '**/protocol/**', '**/dashboards/**', '**/bench/**'], message: 'common is below every component: it imports none of them' }] },
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
