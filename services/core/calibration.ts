import { z } from 'zod';
import type { Sensor } from './sensor.ts';

export type DepthResult = { ok: true; levelCm: number } | { ok: false; reason: 'not_calibrated' | 'below_min_range' };

/**
 * Water depth from a downward-looking distance sensor: depth = mount height −
 * measured distance (both from the dry road or channel reference), clamped at
 * 0 because a distance a little beyond the reference is noise on a dry road,
 * not negative water. A distance below the sensor's minimum range (its blind
 * zone, from the datasheet) cannot be measured and is rejected as implausible.
 */
export function distanceToDepth(
  distanceMm: number,
  sensor: Pick<Sensor, 'mountHeightMm' | 'minRangeMm'>,
): DepthResult {
  if (sensor.mountHeightMm === undefined) return { ok: false, reason: 'not_calibrated' };
  if (sensor.minRangeMm !== undefined && distanceMm < sensor.minRangeMm) return { ok: false, reason: 'below_min_range' };
  const depthMm = Math.max(0, sensor.mountHeightMm - distanceMm);
  return { ok: true, levelCm: Math.round(depthMm) / 10 };
}

/** Why a calibration version was written: at registration, by an edit of mount height / min range, or by "set zero now". */
export const CalibrationSourceSchema = z.enum(['registered', 'edited', 'zero']);
export type CalibrationSource = z.infer<typeof CalibrationSourceSchema>;

/** One version of a sensor's calibration (which applied from when; console history, re-processing). */
export const CalibrationVersionSchema = z.object({
  version: z.number().int().positive(),
  mountHeightMm: z.number().nullable(),
  minRangeMm: z.number().nullable(),
  source: CalibrationSourceSchema,
  /** The distance reading taken as zero (source `zero`). */
  distanceMm: z.number().nullable(),
  /** Epoch ms from which readings use this calibration. */
  validFrom: z.number(),
  setBy: z.string(),
});
export type CalibrationVersion = z.infer<typeof CalibrationVersionSchema>;

/**
 * Port for calibration history (issue 16). Adapters:
 * services/storage/sqlite-calibrations.ts, memory-calibrations.ts; both pass
 * test/contract/calibrations.contract.ts. Versions are never changed.
 */
export interface CalibrationRepository {
  /** Store the sensor's next version (1, 2, … per sensor) and return its number. */
  append(sensorId: string, entry: Omit<CalibrationVersion, 'version'>): number;
  /** Newest first. */
  list(sensorId: string): CalibrationVersion[];
}
