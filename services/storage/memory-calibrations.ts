import type { CalibrationRepository, CalibrationVersion } from '../core/calibration.ts';

/** Calibration history in memory (tests); same contract as the SQLite adapter. */
export function createMemoryCalibrations(): CalibrationRepository {
  const bySensor = new Map<string, CalibrationVersion[]>();
  return {
    append(sensorId, entry) {
      const list = bySensor.get(sensorId) ?? [];
      const version = list.length + 1;
      list.push({ ...entry, version });
      bySensor.set(sensorId, list);
      return version;
    },
    list: (sensorId) => (bySensor.get(sensorId) ?? []).map((v) => ({ ...v })).reverse(),
  };
}
