import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Generous: a 2-core CI machine synthesizes the stack and runs sandboxes in parallel forks.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // CI also keeps a JSON report, from which .ci/run prints the plain `N passed, N failed` line.
    reporters: process.env.CI
      ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]]
      : ['default'],
  },
});
