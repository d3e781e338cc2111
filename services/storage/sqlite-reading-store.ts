import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Reading } from '../core/reading.ts';
import type { RangePoint, RangeQuery, ReadingStore, ReadingStoreEvent, WriteResult } from '../core/ports.ts';
import { migrate, openDatabase, type SqliteDatabase } from './sqlite.ts';

const MIGRATIONS = [
  `CREATE TABLE readings (
     sensor_id   TEXT    NOT NULL,
     observed_at INTEGER NOT NULL,
     level_cm    REAL    NOT NULL,
     distance_mm REAL,
     battery_v   REAL,
     rssi_dbm    REAL,
     seq         INTEGER,
     PRIMARY KEY (sensor_id, observed_at)
   ) WITHOUT ROWID;`,
];

export interface SqliteReadingStoreOptions {
  dataDir: string;
  /** File name inside dataDir; readings live apart from metadata so the two never contend for one write lock. */
  file?: string;
  /**
   * Where commits run. `thread` (default): a worker thread, so the insert work
   * and each commit's fsync stay off the event loop that runs the broker and
   * the ingest (bench: pipeline). `inline`: on the calling thread.
   */
  writer?: 'thread' | 'inline';
  /** When the writer thread dies: respawns allowed per window (default DEFAULT_WRITER_RESTARTS). */
  writerRestarts?: WriterRestartPolicy;
  /** Tests only: see each writer thread as it starts, to kill it. */
  testHooks?: WriterTestHooks;
}

/** One reading as the flat tuple the writer inserts (cheap to post to a thread). */
function toRow(r: Reading, out: unknown[]): void {
  out.push(r.sensorId, r.observedAt, r.levelCm, r.distanceMm ?? null, r.batteryV ?? null, r.rssiDbm ?? null, r.seq ?? null);
}

/**
 * How often the writer thread may die before the store gives up (issue 10 #14).
 * A thread that dies now and then (a native crash, an OOM in the thread) is
 * respawned and its unanswered batches re-sent; one that keeps dying means
 * something is wrong that a fresh process might fix and a supervisor should
 * see, so the store reports `writer-failed` and the host exits non-zero.
 */
export interface WriterRestartPolicy {
  /** Respawns allowed within `windowMs`; one more death inside the window is fatal. */
  maxRestarts: number;
  windowMs: number;
}

/** Five deaths a minute: a crash loop shows within seconds, an occasional death is survived. */
export const DEFAULT_WRITER_RESTARTS: WriterRestartPolicy = { maxRestarts: 5, windowMs: 60_000 };

/** Test hooks: each writer Worker as it starts, so a test can kill it for real (`terminate()`). */
export interface WriterTestHooks {
  onWriterStarted(worker: Worker): void;
}

/**
 * Commits on a worker thread; answers in order, one transaction per batch.
 * If the thread dies, a new one is started and every batch that had no answer
 * is sent again in order. A batch committed whose answer was lost is then
 * inserted twice, which the primary key (sensor, observedAt) and `INSERT OR
 * IGNORE` make harmless: each reading is stored once, and that batch reports
 * its readings as duplicates.
 */
function startWriterThread(path: string, policy: WriterRestartPolicy, emit: (e: ReadingStoreEvent) => void, hooks?: WriterTestHooks) {
  const inflight = new Map<number, { rows: unknown[]; resolve: (n: number) => void; reject: (e: Error) => void }>();
  const deaths: number[] = [];
  let nextId = 1;
  let failed: Error | undefined;
  let lastError: Error | undefined;
  let closing: Promise<void> | undefined;
  let worker: Worker;

  const spawn = () => {
    const w = new Worker(new URL('./sqlite-writer.mjs', import.meta.url), { workerData: { path, testHooks: hooks !== undefined }, execArgv: [] });
    worker = w;
    w.on('message', (m: { id?: number; written?: number; error?: string }) => {
      if (m.id === undefined) return;
      const p = inflight.get(m.id);
      inflight.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.written as number);
    });
    w.on('error', (err) => (lastError = err));
    w.on('exit', (code) => onExit(w, code));
    hooks?.onWriterStarted(w);
    for (const [id, batch] of inflight) w.postMessage({ id, rows: batch.rows });
  };

  const onExit = (w: Worker, code: number) => {
    if (w !== worker || closing || failed) return;
    const now = Date.now();
    while (deaths.length > 0 && (deaths[0] as number) <= now - policy.windowMs) deaths.shift();
    deaths.push(now);
    if (deaths.length > policy.maxRestarts) {
      failed = new Error(`readings writer thread exited (${code}) ${deaths.length} times in ${policy.windowMs / 1000} s`, { cause: lastError });
      for (const p of inflight.values()) p.reject(failed);
      inflight.clear();
      emit({ type: 'writer-failed', exitCode: code, restartsInWindow: deaths.length - 1, windowS: policy.windowMs / 1000, error: failed });
      return;
    }
    const resent = inflight.size;
    spawn();
    emit({ type: 'writer-restarted', exitCode: code, restartsInWindow: deaths.length, resent });
  };

  spawn();
  return {
    healthy: () => failed === undefined && closing === undefined,
    write(rows: unknown[]): Promise<number> {
      if (failed) return Promise.reject(failed);
      if (closing) return Promise.reject(new Error('readings store is closed'));
      const id = nextId++;
      return new Promise<number>((resolve, reject) => {
        inflight.set(id, { rows, resolve, reject });
        worker.postMessage({ id, rows });
      });
    },
    close(): Promise<void> {
      closing ??= (async () => {
        const w = worker;
        if (!failed) {
          // Batches already posted are committed first (the thread answers in order); a thread that dies meanwhile ends the wait too.
          const closed = new Promise<void>((resolve) => {
            w.on('message', (m: { type?: string }) => m.type === 'closed' && resolve());
            w.once('exit', () => resolve());
          });
          w.postMessage({ type: 'close' });
          await closed;
        }
        const left = new Error('readings store is closed');
        for (const p of inflight.values()) p.reject(left);
        inflight.clear();
        await w.terminate();
      })();
      return closing;
    },
  };
}

/**
 * The default ReadingStore: one SQLite file, primary key (sensor, observedAt)
 * so a duplicate delivery is ignored (`INSERT OR IGNORE`). A batch is one
 * transaction, so it is durable as a whole when `write` resolves.
 */
export function createSqliteReadingStore(options: SqliteReadingStoreOptions): ReadingStore {
  const file = options.file ?? 'readings.db';
  const db: SqliteDatabase = openDatabase(options.dataDir, file);
  migrate(db, 'readings', MIGRATIONS);
  // Reads stay on this connection (WAL: readers never wait for the writer).
  const listeners = new Set<(e: ReadingStoreEvent) => void>();
  const emit = (e: ReadingStoreEvent) => {
    for (const l of listeners) l(e);
  };
  const writer =
    (options.writer ?? 'thread') === 'thread'
      ? startWriterThread(join(options.dataDir, file), options.writerRestarts ?? DEFAULT_WRITER_RESTARTS, emit, options.testHooks)
      : undefined;

  const insert = db.prepare(
    `INSERT OR IGNORE INTO readings (sensor_id, observed_at, level_cm, distance_mm, battery_v, rssi_dbm, seq)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertMany = db.transaction((rows: readonly Reading[]) => {
    let written = 0;
    for (const r of rows) {
      written += insert.run(
        r.sensorId,
        r.observedAt,
        r.levelCm,
        r.distanceMm ?? null,
        r.batteryV ?? null,
        r.rssiDbm ?? null,
        r.seq ?? null,
      ).changes;
    }
    return written;
  });
  const selectRange = db.prepare(
    `SELECT observed_at AS observedAt, level_cm AS levelCm FROM readings
     WHERE sensor_id = ? AND observed_at BETWEEN ? AND ? ORDER BY observed_at LIMIT ?`,
  );
  const selectBuckets = db.prepare(
    `SELECT (observed_at - ((observed_at % ?) + ?) % ?) AS observedAt, MAX(level_cm) AS levelCm FROM readings
     WHERE sensor_id = ? AND observed_at BETWEEN ? AND ? GROUP BY 1 ORDER BY 1 LIMIT ?`,
  );
  // The newest row per sensor straight off the primary-key index: one seek per sensor.
  const selectLatest = db.prepare(
    `SELECT r.sensor_id AS sensorId, r.observed_at AS observedAt, r.level_cm AS levelCm,
            r.distance_mm AS distanceMm, r.battery_v AS batteryV, r.rssi_dbm AS rssiDbm, r.seq AS seq
     FROM (SELECT sensor_id, MAX(observed_at) AS m FROM readings GROUP BY sensor_id) AS l
     JOIN readings AS r ON r.sensor_id = l.sensor_id AND r.observed_at = l.m`,
  );

  return {
    kind: 'sqlite',
    async write(readings): Promise<WriteResult> {
      if (readings.length === 0) return { written: 0, duplicates: 0 };
      let written: number;
      if (writer) {
        const rows: unknown[] = [];
        for (const r of readings) toRow(r, rows);
        written = await writer.write(rows);
      } else {
        written = insertMany(readings);
      }
      return { written, duplicates: readings.length - written };
    },
    async range(q: RangeQuery): Promise<RangePoint[]> {
      const limit = q.limit ?? 100_000;
      if (q.bucketMs) {
        // Buckets aligned to the epoch (JS % keeps the sign, so normalise for negatives).
        return selectBuckets.all(q.bucketMs, q.bucketMs, q.bucketMs, q.sensorId, q.from, q.to, limit) as RangePoint[];
      }
      return selectRange.all(q.sensorId, q.from, q.to, limit) as RangePoint[];
    },
    async latest() {
      const out = new Map<string, Reading>();
      for (const row of selectLatest.all() as Record<string, number | string | null>[]) {
        const r: Reading = {
          sensorId: row.sensorId as string,
          observedAt: row.observedAt as number,
          levelCm: row.levelCm as number,
        };
        if (row.distanceMm !== null) r.distanceMm = row.distanceMm as number;
        if (row.batteryV !== null) r.batteryV = row.batteryV as number;
        if (row.rssiDbm !== null) r.rssiDbm = row.rssiDbm as number;
        if (row.seq !== null) r.seq = row.seq as number;
        out.set(r.sensorId, r);
      }
      return out;
    },
    async healthy() {
      return db.open && (writer?.healthy() ?? true);
    },
    watch(listener) {
      listeners.add(listener);
    },
    async close() {
      await writer?.close();
      if (db.open) db.close();
    },
  };
}
