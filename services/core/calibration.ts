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
