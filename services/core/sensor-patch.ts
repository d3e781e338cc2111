import { z } from 'zod';
import { validate } from './validate.ts';
import { LIMITS } from './limits.ts';
import { CodecNameSchema, DevEui, JsonFieldSchema, riverNeedsThresholds, SensorInputSchema, SensorKind, SensorSite, SensorState, StagesSchema, ThresholdsSchema, type Sensor } from './sensor.ts';

const Mm = z.number().int().positive().max(LIMITS.maxDistanceMm);

/**
 * What `PATCH /api/sensors/{id}` accepts: any subset of the editable fields.
 * `null` clears an optional field. Unknown keys are refused (a typo must not
 * silently do nothing). The id and creation time never change.
 */
export const SensorPatchSchema = z
  .object({
    name: z.string().trim().min(1).max(120),
    nameEn: z.string().trim().max(120).nullable(),
    address: z.string().trim().max(200).nullable(),
    addressEn: z.string().trim().max(200).nullable(),
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    kind: SensorKind,
    // Issue 12: road (depth, cm) or river (stage above the gauge datum, m).
    site: SensorSite,
    mountHeightMm: Mm.nullable(),
    minRangeMm: z.number().int().nonnegative().max(LIMITS.maxDistanceMm).nullable(),
    thresholds: ThresholdsSchema,
    intervalS: z.number().int().min(LIMITS.minIntervalS).max(LIMITS.maxIntervalS),
    state: SensorState,
    // Issue 12: `false` makes a new sensor public before its first reading; `true` takes it off the public map again.
    commissioning: z.boolean(),
    maintenanceReason: z.string().trim().max(200).nullable(),
    maintenanceUntil: z.number().int().min(0).nullable(),
    // LoRaWAN and stage sensors (issue 11): a replaced device, a corrected codec or stages.
    devEui: DevEui.nullable(),
    codec: CodecNameSchema.nullable(),
    jsonField: JsonFieldSchema.nullable(),
    stages: StagesSchema.nullable(),
  })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: 'nothing to change' });
export type SensorPatch = z.infer<typeof SensorPatchSchema>;

/** Fields whose change is a new calibration version (services/sensors/calibration-store.ts). */
export const CALIBRATION_FIELDS = ['mountHeightMm', 'minRangeMm'] as const;

/**
 * Apply a validated patch; the result is checked with the registration rules
 * (e.g. minimum range below mount height), so an edit can never produce a
 * sensor that registration would have refused.
 */
export function applySensorPatch(sensor: Sensor, patch: SensorPatch, now: number): Sensor {
  // Issue 12: a road sensor's thresholds are not a river's levels; turning it into a river gauge needs them.
  if (patch.site === 'river' && sensor.site !== 'river' && patch.thresholds === undefined) throw riverNeedsThresholds();
  const merged: Record<string, unknown> = { ...sensor };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  const { createdAt: _c, updatedAt: _u, ...input } = merged;
  const checked = validate(SensorInputSchema, input, 'sensor');
  return {
    ...checked,
    thresholds: checked.thresholds ?? sensor.thresholds,
    kind: checked.kind ?? sensor.kind,
    createdAt: sensor.createdAt,
    updatedAt: now,
  };
}

/** Whether the calibration (mount height or minimum range) differs between two versions of a sensor. */
export function calibrationChanged(before: Sensor, after: Sensor): boolean {
  return CALIBRATION_FIELDS.some((k) => before[k] !== after[k]);
}

/**
 * "Set zero now": the dry-road distance the sensor measures right now becomes
 * its mount height (depth = mount height − distance, services/core/calibration.ts).
 * Refused when the reading is stale (older than the offline threshold of
 * 3 × interval, contract) or inside the sensor's blind zone.
 */
export function zeroCalibration(
  sensor: Sensor,
  observed: { distanceMm: number; observedAt: number } | undefined,
  now: number,
): { ok: true; mountHeightMm: number } | { ok: false; message: string } {
  if (sensor.kind !== 'distance') return { ok: false, message: 'only a distance sensor can be zeroed' };
  if (!observed) return { ok: false, message: 'no distance reading from this sensor yet' };
  const maxAgeMs = LIMITS.offlineAfterIntervals * sensor.intervalS * 1000;
  if (now - observed.observedAt > maxAgeMs) {
    return { ok: false, message: `the last distance reading is older than ${LIMITS.offlineAfterIntervals} reporting intervals` };
  }
  const mountHeightMm = Math.round(observed.distanceMm);
  if (mountHeightMm <= 0 || mountHeightMm > LIMITS.maxDistanceMm) return { ok: false, message: `distance ${observed.distanceMm} mm cannot be a mount height` };
  if (sensor.minRangeMm !== undefined && mountHeightMm <= sensor.minRangeMm) {
    return { ok: false, message: `distance ${mountHeightMm} mm is inside the minimum range ${sensor.minRangeMm} mm` };
  }
  return { ok: true, mountHeightMm };
}
