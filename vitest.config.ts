import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real brokers, databases and browsers: generous per-test limits, but every
    // wait inside a test has its own deadline (test/helpers/wait.ts).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores here: keep two files in flight so servers don't starve each other.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
