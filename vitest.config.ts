import { defineConfig } from 'vitest/config';
import { ProgressReporter } from './test/helpers/progress-reporter.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real brokers, databases and browsers: generous per-test limits, but every
    // wait inside a test has its own deadline (test/helpers/wait.ts, sse.ts).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // vitest's wait for its own shutdown (workers, servers) before it gives up.
    teardownTimeout: 20_000,
    // A hard deadline per test file (KANSUI_TEST_FILE_DEADLINE_S, default 600 s),
    // and a reporter that records which files are running, for `.ci/test-with-deadline`
    // to name them when the whole run passes its deadline (issue 16).
    setupFiles: ['test/helpers/file-deadline.ts'],
    // Two cores here: keep two files in flight so servers don't starve each other.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', new ProgressReporter()],
  },
});
