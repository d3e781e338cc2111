// The readings store's writer thread (services/storage/sqlite-reading-store.ts).
// Plain JavaScript so the worker starts without the TypeScript loader.
// Each message is one batch, committed as one transaction with the same
// pragmas as the main connection (synchronous=FULL: durable when it answers).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
const insert = db.prepare(
  `INSERT OR IGNORE INTO readings (sensor_id, observed_at, level_cm, distance_mm, battery_v, rssi_dbm, seq)
   VALUES (?, ?, ?, ?, ?, ?, ?)`,
);
const FIELDS = 7;
const insertMany = db.transaction((flat) => {
  let written = 0;
  for (let i = 0; i < flat.length; i += FIELDS) {
    written += insert.run(flat[i], flat[i + 1], flat[i + 2], flat[i + 3], flat[i + 4], flat[i + 5], flat[i + 6]).changes;
  }
  return written;
});

// Tests only (workerData.testHooks): die right after the next commit, before
// answering, as a thread that crashes between COMMIT and postMessage would
// (issue 10 #14: the batch is re-sent and must be stored once).
let exitAfterCommit = false;

parentPort.on('message', (msg) => {
  if (msg.type === 'close') {
    db.close();
    parentPort.postMessage({ type: 'closed' });
    return;
  }
  if (msg.type === 'exit-after-commit') {
    if (workerData.testHooks) exitAfterCommit = true;
    return;
  }
  try {
    const written = insertMany(msg.rows);
    if (exitAfterCommit) process.exit(70);
    parentPort.postMessage({ id: msg.id, written });
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
});
