// A kansui process whose SQLite writer thread a test can kill for real (issue 10 #14).
// Exactly what services/main.ts runs (runKansui with the environment's config), with
// the store built here so the test hook sees each writer Worker: SIGUSR2 terminates
// the current writer and every one started after it, a crash loop.
import type { Worker } from 'node:worker_threads';
import { loadConfig } from '../../services/config.ts';
import { runKansui } from '../../services/run-kansui.ts';
import { createSqliteReadingStore } from '../../services/storage/sqlite-reading-store.ts';

const config = loadConfig(process.env);
let dying = false;
let current: Worker | undefined;
const store = createSqliteReadingStore({
  dataDir: config.DATA_DIR,
  writerRestarts: { maxRestarts: config.SQLITE_WRITER_MAX_RESTARTS, windowMs: config.SQLITE_WRITER_RESTART_WINDOW_S * 1000 },
  testHooks: {
    onWriterStarted(worker) {
      current = worker;
      if (dying) void worker.terminate();
    },
  },
});
process.on('SIGUSR2', () => {
  dying = true;
  void current?.terminate();
});
await runKansui(config, { store });
