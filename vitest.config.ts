import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Worker threads (OTLP decoding) load their module with node's own loader: these hooks let it
    // run the TypeScript sources, as tests that spawn src/main.ts do.
    execArgv: ['--import', './test/support/ts-register.mjs'],
    // The JSON report lets .ci/run print one plain "N passed, N failed, N skipped" line.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/vitest.json' },
  },
});
