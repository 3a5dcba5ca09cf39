// ESLint: typescript-eslint's recommended rules, plus the layering rules of DESIGN section 3:
// only src/config reads process.env; the domain imports nothing but itself and never reads the clock;
// ports import no SDK and no adapter.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' },
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only src/config reads process.env.' },
      ],
    },
  },
  {
    // The orchestrator replays: only context.df may give it time, ids and I/O.
    files: ['src/orchestration/job-orchestrator.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'Use context.df.currentUtcDateTime in an orchestrator.',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Use context.df.currentUtcDateTime in an orchestrator.',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'Use context.df.newGuid in an orchestrator.',
        },
        { selector: 'AwaitExpression', message: 'Orchestrators yield tasks; they never await.' },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/ledger/**', '**/messaging/**', '**/usecases/**', '@azure/*', 'node:*'],
              message: 'The orchestrator does I/O only through activities.',
            },
          ],
        },
      ],
    },
  },
  {
    // Ports speak the domain: no SDK, and no adapter or use case behind them.
    files: ['src/ports/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@azure/*',
                'durable-functions',
                '**/functions/**',
                '**/http/**',
                '**/bus/**',
                '**/usecases/**',
                '**/ledger/**',
                '**/messaging/**',
                '**/orchestration/**',
              ],
              message: 'A port depends on the domain and the contracts only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@azure/*',
                'durable-functions',
                '**/functions/**',
                '**/devhost/**',
                '**/ledger/**',
                '**/http/**',
                '**/bus/**',
                '**/usecases/**',
                '**/ports/**',
                '**/contracts/**',
                '**/config/**',
                '**/messaging/**',
                '**/orchestration/**',
              ],
              message: 'The domain stays pure: it imports nothing of Lucius but itself.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
          message: 'Time is an argument in the domain.',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Time is an argument in the domain.',
        },
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'The domain is deterministic.',
        },
      ],
    },
  },
);
