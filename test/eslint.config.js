// ESLint for memtop's TypeScript (source/ and test/), run by `npm test` as `npm run lint`. It lives
// in test/ because the project's top level is fixed; basePath points it at the checkout.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  {basePath: '..'},
  {ignores: ['dist/**', 'node_modules/**', 'test/fixtures/bin/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['source/**/*.{ts,tsx}', 'test/**/*.{ts,tsx}'],
    linterOptions: {reportUnusedDisableDirectives: 'error'},
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none'}],
      '@typescript-eslint/consistent-type-imports': ['error', {fixStyle: 'inline-type-imports'}],
      'eslint-comments/no-unlimited-disable': 'off',
      eqeqeq: ['error', 'always'],
      'no-console': ['error', {allow: ['error']}],
      'prefer-const': 'error',
    },
  },
  {
    // The rules of hooks: hooks called unconditionally and in order, effects listing what they read.
    files: ['source/**/*.{ts,tsx}', 'test/**/*.tsx'],
    plugins: {'react-hooks': reactHooks},
    rules: {'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error'},
  },
  {
    // Tests send control characters and escape sequences on purpose, and look for them in output.
    files: ['test/**'],
    rules: {'no-control-regex': 'off'},
  },
  {
    // The bench and the fixture recorder print their figures.
    files: ['test/bench/**', 'test/fixtures/**'],
    rules: {'no-console': 'off'},
  },
);
