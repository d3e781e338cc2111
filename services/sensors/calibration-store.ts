import type { Sensor } from '../core/sensor.ts';
import { migrate, type SqliteDatabase } from '../storage/sqlite.ts';

const MIGRATIONS = [
  `CREATE TABLE calibrations (
     id              INTEGER PRIMARY KEY,
     sensor_id       TEXT NOT NULL,
     version         INTEGER NOT NULL,
     mount_height_mm INTEGER,
     min_range_mm    INTEGER,
     source          TEXT NOT NULL,
     distance_mm     REAL,
     valid_from      INTEGER NOT NULL,
     set_by          TEXT NOT NULL,
     UNIQUE (sensor_id, version)
   );`,
];

export type CalibrationSource = 'registered' | 'edited' | 'zero';

export interface CalibrationVersion {
  version: number;
  mountHeightMm: number | null;
  minRangeMm: number | null;
  source: CalibrationSource;
  /** The distance reading taken as zero (source `zero`). */
  distanceMm: number | null;
  /** Epoch ms from which readings use this calibration. */
  validFrom: number;
  setBy: string;
}

/**
 * Calibration history per sensor. Readings store `level_cm` computed at
 * ingest with the calibration then in force, so history keeps its meaning
 * when the calibration changes; this table says which calibration applied
 * from when (shown in the console, and kept for re-processing raw
 * `distance_mm` if ever needed).
 */
export function createCalibrationStore(db: SqliteDatabase) {
  migrate(db, 'calibrations', MIGRATIONS);
  const last = db.prepare('SELECT MAX(version) AS v FROM calibrations WHERE sensor_id = ?').pluck();
  const insert = db.prepare(
    'INSERT INTO calibrations (sensor_id, version, mount_height_mm, min_range_mm, source, distance_mm, valid_from, set_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  return {
    record(sensor: Pick<Sensor, 'id' | 'mountHeightMm' | 'minRangeMm'>, source: CalibrationSource, at: number, setBy: string, distanceMm?: number): number {
      const version = ((last.get(sensor.id) as number | null) ?? 0) + 1;
      insert.run(sensor.id, version, sensor.mountHeightMm ?? null, sensor.minRangeMm ?? null, source, distanceMm ?? null, at, setBy);
      return version;
    },
    /** Newest first. */
    list(sensorId: string): CalibrationVersion[] {
      return db
        .prepare(
          `SELECT version, mount_height_mm AS mountHeightMm, min_range_mm AS minRangeMm, source, distance_mm AS distanceMm,
                  valid_from AS validFrom, set_by AS setBy FROM calibrations WHERE sensor_id = ? ORDER BY version DESC`,
        )
        .all(sensorId) as CalibrationVersion[];
    },
  };
}
export type CalibrationStore = ReturnType<typeof createCalibrationStore>;
