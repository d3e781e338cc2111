import type { Reading } from '../../core/reading.ts';
import type { RangePoint } from '../../core/ports.ts';
import { migrate, openDatabase, type SqliteDatabase } from '../sqlite.ts';

const MIGRATIONS = [
  // Readings waiting for InfluxDB, in arrival order (id). AUTOINCREMENT so an
  // id is never reused: the drainer deletes "id <= last sent" safely.
  `CREATE TABLE spool (
     id          INTEGER PRIMARY KEY AUTOINCREMENT,
     sensor_id   TEXT    NOT NULL,
     observed_at INTEGER NOT NULL,
     level_cm    REAL    NOT NULL,
     distance_mm REAL,
     battery_v   REAL,
     rssi_dbm    REAL,
     seq         INTEGER,
     spooled_at  INTEGER NOT NULL
   );
   CREATE INDEX spool_sensor_time ON spool (sensor_id, observed_at);
   -- Lines InfluxDB refused one by one (HTTP 400): kept, never retried automatically.
   CREATE TABLE quarantine (
     id             INTEGER PRIMARY KEY,
     line           TEXT    NOT NULL UNIQUE,
     error          TEXT    NOT NULL,
     quarantined_at INTEGER NOT NULL
   );`,
];

export interface SpoolRow {
  id: number;
  reading: Reading;
}

export interface QuarantinedLine {
  line: string;
  error: string;
  quarantinedAt: number;
}

export interface Spool {
  /** Append readings in one transaction; durable (fsynced, synchronous=FULL) when it returns. */
  append(readings: readonly Reading[], now: number): void;
  /** The oldest `limit` rows, in arrival order. */
  head(limit: number): SpoolRow[];
  /** Remove every row up to and including `id` (the drainer sent them). */
  removeThrough(id: number): void;
  depth(): number;
  /** When the oldest row was spooled (epoch ms), or undefined when empty. */
  oldestSpooledAt(): number | undefined;
  quarantine(line: string, error: string, now: number): boolean;
  quarantined(): QuarantinedLine[];
  quarantineCount(): number;
  /** Spooled readings of one sensor in a time range (merged into range queries). */
  range(sensorId: string, from: number, to: number): RangePoint[];
  /** Newest spooled reading per sensor. */
  latest(): Map<string, Reading>;
  close(): void;
}

function toReading(row: Record<string, number | string | null>): Reading {
  const r: Reading = { sensorId: row.sensor_id as string, observedAt: row.observed_at as number, levelCm: row.level_cm as number };
  if (row.distance_mm !== null) r.distanceMm = row.distance_mm as number;
  if (row.battery_v !== null) r.batteryV = row.battery_v as number;
  if (row.rssi_dbm !== null) r.rssiDbm = row.rssi_dbm as number;
  if (row.seq !== null) r.seq = row.seq as number;
  return r;
}

/**
 * The local on-disk spool of the InfluxDB store: a SQLite file in DATA_DIR
 * (WAL, synchronous=FULL, see services/storage/sqlite.ts). One append is one
 * transaction, one fsync: the ingest's group commit makes that one fsync per
 * batch, not per reading.
 */
export function openSpool(dataDir: string, file = 'influx-spool.db'): Spool {
  const db: SqliteDatabase = openDatabase(dataDir, file);
  migrate(db, 'influx-spool', MIGRATIONS);
  const insert = db.prepare(
    `INSERT INTO spool (sensor_id, observed_at, level_cm, distance_mm, battery_v, rssi_dbm, seq, spooled_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const appendMany = db.transaction((rows: readonly Reading[], now: number) => {
    for (const r of rows) {
      insert.run(r.sensorId, r.observedAt, r.levelCm, r.distanceMm ?? null, r.batteryV ?? null, r.rssiDbm ?? null, r.seq ?? null, now);
    }
  });
  const selectHead = db.prepare('SELECT * FROM spool ORDER BY id LIMIT ?');
  const deleteThrough = db.prepare('DELETE FROM spool WHERE id <= ?');
  const selectOldest = db.prepare('SELECT spooled_at FROM spool ORDER BY id LIMIT 1').pluck();
  const insertQuarantine = db.prepare('INSERT OR IGNORE INTO quarantine (line, error, quarantined_at) VALUES (?, ?, ?)');
  const selectQuarantine = db.prepare('SELECT line, error, quarantined_at AS quarantinedAt FROM quarantine ORDER BY id');
  const countQuarantine = db.prepare('SELECT COUNT(*) FROM quarantine').pluck();
  const selectRange = db.prepare(
    `SELECT observed_at AS observedAt, MAX(level_cm) AS levelCm FROM spool
     WHERE sensor_id = ? AND observed_at BETWEEN ? AND ? GROUP BY observed_at ORDER BY observed_at`,
  );
  const selectLatest = db.prepare(
    `SELECT s.* FROM spool AS s
     JOIN (SELECT sensor_id, MAX(observed_at) AS m FROM spool GROUP BY sensor_id) AS l
       ON s.sensor_id = l.sensor_id AND s.observed_at = l.m`,
  );
  let depth = db.prepare('SELECT COUNT(*) FROM spool').pluck().get() as number;
  let quarantinedCount = countQuarantine.get() as number;

  return {
    append(readings, now) {
      if (readings.length === 0) return;
      appendMany(readings, now);
      depth += readings.length;
    },
    head(limit) {
      const rows = (selectHead.all(limit) as Record<string, number | string | null>[]).map((row) => ({ id: row.id as number, reading: toReading(row) }));
      if (rows.length === 0) depth = 0; // never let a miscount keep the drainer spinning
      return rows;
    },
    removeThrough(id) {
      depth -= deleteThrough.run(id).changes;
    },
    depth: () => depth,
    oldestSpooledAt() {
      return depth === 0 ? undefined : ((selectOldest.get() as number | undefined) ?? undefined);
    },
    quarantine(line, error, now) {
      const added = insertQuarantine.run(line, error.slice(0, 2000), now).changes > 0;
      if (added) quarantinedCount++;
      return added;
    },
    quarantined: () => selectQuarantine.all() as QuarantinedLine[],
    quarantineCount: () => quarantinedCount,
    range: (sensorId, from, to) => (depth === 0 ? [] : (selectRange.all(sensorId, from, to) as RangePoint[])),
    latest() {
      const out = new Map<string, Reading>();
      if (depth === 0) return out;
      for (const row of selectLatest.all() as Record<string, number | string | null>[]) out.set(row.sensor_id as string, toReading(row));
      return out;
    },
    close() {
      if (db.open) db.close();
    },
  };
}
