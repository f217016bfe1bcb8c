// ESLint flat config: @eslint/js recommended + typescript-eslint's type-aware recommended rules for
// every TypeScript file tsconfig.json compiles, the plain recommended rules for the few JavaScript
// files. `npm run lint` runs it; `npm test` runs that.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Node's globals the .js/.mjs files use (TypeScript files get theirs from @types/node). */
const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'URL', 'URLSearchParams', 'fetch', 'setTimeout', 'clearTimeout'].map((g) => [g, 'readonly']),
);

export default defineConfig(
  { ignores: ['dist/', 'coverage/', 'test-results/', '.data/', '**/*.tmp.ts', '.dependency-cruiser.cjs'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js', 'vitest.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A leading underscore marks a parameter or binding that is unused on purpose (an interface's
      // argument, a field dropped from a rest copy: `const { Id: _id, ...rest } = row`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],

      // Rules that don't fit this codebase:
      // - The code writes `!` on indexed reads on purpose (`rows[0]!`, `map.get(k)!`): the reader sees
      //   the read may miss. With noUncheckedIndexedAccess off, the rule calls each of them (~1000)
      //   unnecessary.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // - Records are schema-driven field bags (`Row = Record<string, unknown>`, tables from the object
      //   catalog at run time), so storage uses Kysely's documented dynamic form `Kysely<any>`, XState's
      //   resolveState takes a stored state value, and tests read JSON response bodies; `any` at these
      //   boundaries is the design, not an accident.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // - For the same reason a field value is `unknown`; messages and ids print it with `${v}` or
      //   `String(v)` once the object catalog says what the field holds.
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      // - Fastify plugins and route handlers are async functions by Fastify's convention, and interface
      //   methods (queues, integrations, payment gateways) are async so they return a promise and turn
      //   a throw into a rejection, with or without an await inside.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: nodeGlobals },
  },
);
