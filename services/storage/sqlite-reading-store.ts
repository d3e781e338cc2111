import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Reading } from '../core/reading.ts';
import type { RangePoint, RangeQuery, ReadingStore, WriteResult } from '../core/ports.ts';
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
}

/** One reading as the flat tuple the writer inserts (cheap to post to a thread). */
function toRow(r: Reading, out: unknown[]): void {
  out.push(r.sensorId, r.observedAt, r.levelCm, r.distanceMm ?? null, r.batteryV ?? null, r.rssiDbm ?? null, r.seq ?? null);
}

/** Commits on a worker thread; answers in order, one transaction per batch. */
function startWriterThread(path: string) {
  const worker = new Worker(new URL('./sqlite-writer.mjs', import.meta.url), { workerData: { path }, execArgv: [] });
  const pending = new Map<number, { resolve: (n: number) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let failed: Error | undefined;
  let closing: Promise<void> | undefined;
  worker.on('message', (m: { id?: number; written?: number; error?: string }) => {
    if (m.id === undefined) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(m.error));
    else p?.resolve(m.written as number);
  });
  const fail = (err: Error) => {
    failed ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`readings writer thread exited (${code})`)));
  return {
    healthy: () => failed === undefined,
    write(rows: unknown[]): Promise<number> {
      if (failed) return Promise.reject(failed);
      if (closing) return Promise.reject(new Error('readings store is closed'));
      const id = nextId++;
      return new Promise<number>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, rows });
      });
    },
    close(): Promise<void> {
      closing ??= (async () => {
        if (!failed) {
          const closed = new Promise<void>((resolve) => worker.on('message', (m: { type?: string }) => m.type === 'closed' && resolve()));
          worker.postMessage({ type: 'close' });
          await closed;
        }
        await worker.terminate();
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
  const writer = (options.writer ?? 'thread') === 'thread' ? startWriterThread(join(options.dataDir, file)) : undefined;

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
    async close() {
      await writer?.close();
      if (db.open) db.close();
    },
  };
}
