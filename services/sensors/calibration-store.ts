import type { CalibrationRepository, CalibrationSource, CalibrationVersion } from '../core/calibration.ts';
import type { Sensor } from '../core/sensor.ts';

export type { CalibrationSource, CalibrationVersion } from '../core/calibration.ts';

/**
 * Calibration history per sensor, over the CalibrationRepository port
 * (issue 16). Readings store `level_cm` computed at ingest with the
 * calibration then in force, so history keeps its meaning when the
 * calibration changes; the history says which calibration applied from when
 * (shown in the console, and kept for re-processing raw `distance_mm` if
 * ever needed).
 */
export function createCalibrationStore(repo: CalibrationRepository) {
  return {
    record(sensor: Pick<Sensor, 'id' | 'mountHeightMm' | 'minRangeMm'>, source: CalibrationSource, at: number, setBy: string, distanceMm?: number): number {
      return repo.append(sensor.id, { mountHeightMm: sensor.mountHeightMm ?? null, minRangeMm: sensor.minRangeMm ?? null, source, distanceMm: distanceMm ?? null, validFrom: at, setBy });
    },
    /** Newest first. */
    list: (sensorId: string): CalibrationVersion[] => repo.list(sensorId),
  };
}
export type CalibrationStore = ReturnType<typeof createCalibrationStore>;
