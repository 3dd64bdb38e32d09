// Lint: the rules that catch real bugs in a server, chosen one by one rather than a whole preset;
// a finding is fixed, or silenced on its line with a comment saying why.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'test-output/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: { allowDefaultProject: ['vitest.config.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits or catches loses its error: in a server, an unhandled rejection.
      '@typescript-eslint/no-floating-promises': 'error',
      // An async callback where a void one is expected (an event listener, a timer) has the same fate.
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // A switch without a default must name every member of the union, so a new member is not
      // silently skipped; a switch with a default says what the rest do.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false }],
      // A check the types prove always true or false is dead code or hides a wrong type.
      // Loops written `while (true)` are deliberate.
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: 'only-allowed-literals' }],
      // Throwing an `unknown` is rethrowing what a catch received.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/no-base-to-string': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-useless-assignment': 'error',
    },
  },
  {
    // A test declares `let app: App`, sets it in beforeAll and guards it in afterAll (`app?.close()`)
    // for when beforeAll failed: the guard is right, and the type cannot say so.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unnecessary-condition': 'off' },
  },
  {
    // Queries and label matchers are user input: regexes on them go through re2js (linear time),
    // never JS RegExp, whose backtracking one hostile pattern can turn into a stalled event loop.
    files: ['src/promql/**/*.ts', 'src/tsdb/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='RegExp'], CallExpression[callee.name='RegExp']",
          message: 'JS RegExp in src/promql or src/tsdb: use re2js (RE2 semantics, linear time) for patterns.',
        },
      ],
    },
  },
);
