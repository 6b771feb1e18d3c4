// Lint: eslint's and typescript-eslint's recommended rules over every package, plus the type-aware
// rules about promises on TypeScript files (the code starts many promises with `void`; these rules
// make sure every other one is awaited or handled, and that no promise goes where a callback's void
// return is expected).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.turbo/**', 'test/bench/results/**', '.local/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after'] }] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // The operator console runs in the browser.
    files: ['services/broker/console/src/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.mjs', 'infra/**', 'test/scripts/**', 'test/bench/**'],
    rules: { 'no-console': 'off' },
  },
);
