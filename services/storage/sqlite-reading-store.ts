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
}

/**
 * The default ReadingStore: one SQLite file, primary key (sensor, observedAt)
 * so a duplicate delivery is ignored (`INSERT OR IGNORE`). A batch is one
 * transaction, so it is durable as a whole when `write` resolves.
 */
export function createSqliteReadingStore(options: SqliteReadingStoreOptions): ReadingStore {
  const db: SqliteDatabase = openDatabase(options.dataDir, options.file ?? 'readings.db');
  migrate(db, 'readings', MIGRATIONS);

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
      const written = insertMany(readings);
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
      return db.open;
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
