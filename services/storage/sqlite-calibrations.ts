import type { CalibrationRepository, CalibrationVersion } from '../core/calibration.ts';
import { migrate, type SqliteDatabase } from './sqlite.ts';

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

/**
 * Calibration history in the metadata database (DATA_DIR/kansui.db). The
 * next version is taken and written in one transaction, so the console and
 * the CLI writing at once get 1, 2, … (the UNIQUE index keeps it so).
 */
export function createSqliteCalibrations(db: SqliteDatabase): CalibrationRepository {
  migrate(db, 'calibrations', MIGRATIONS);
  const last = db.prepare('SELECT MAX(version) AS v FROM calibrations WHERE sensor_id = ?').pluck();
  const insert = db.prepare(
    'INSERT INTO calibrations (sensor_id, version, mount_height_mm, min_range_mm, source, distance_mm, valid_from, set_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const select = db.prepare(
    `SELECT version, mount_height_mm AS mountHeightMm, min_range_mm AS minRangeMm, source, distance_mm AS distanceMm,
            valid_from AS validFrom, set_by AS setBy FROM calibrations WHERE sensor_id = ? ORDER BY version DESC`,
  );
  const append = db.transaction((sensorId: string, e: Omit<CalibrationVersion, 'version'>): number => {
    const version = ((last.get(sensorId) as number | null) ?? 0) + 1;
    insert.run(sensorId, version, e.mountHeightMm, e.minRangeMm, e.source, e.distanceMm, e.validFrom, e.setBy);
    return version;
  });
  return {
    append: (sensorId, entry) => append.immediate(sensorId, entry),
    list: (sensorId) => select.all(sensorId) as CalibrationVersion[],
  };
}
