import { z } from 'zod';
import { LIMITS } from './limits.ts';

export const SensorId = z
  .string()
  .regex(LIMITS.sensorIdPattern, 'sensor id: 1–64 of A–Z a–z 0–9 _ . - (no / + #), starting with a letter or digit');

/**
 * Default thresholds in cm: 10 / 20 / 30 cm are the steps Japanese road-flood
 * (道路冠水) sensor programmes commonly report at.
 */
export const DEFAULT_THRESHOLDS = { caution: 10, warning: 20, danger: 30 } as const;
/** Contract default reporting interval: every 10 minutes. */
export const DEFAULT_INTERVAL_S = 600;

const Cm = z.number().min(LIMITS.minLevelCm).max(LIMITS.maxLevelCm);

export const ThresholdsSchema = z
  .object({ caution: Cm, warning: Cm, danger: Cm })
  .refine((t) => t.caution < t.warning && t.warning < t.danger, {
    message: 'thresholds must rise: caution < warning < danger',
  });
export type Thresholds = z.infer<typeof ThresholdsSchema>;

export const SensorKind = z.enum(['level', 'distance']);
export const SensorState = z.enum(['active', 'maintenance', 'retired']);

/** What a technician supplies to register a sensor (CLI, API, console). */
export const SensorInputSchema = z
  .object({
    id: SensorId,
    name: z.string().trim().min(1).max(120),
    nameEn: z.string().trim().max(120).optional(),
    address: z.string().trim().max(200).optional(),
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    kind: SensorKind.optional(),
    mountHeightMm: z.number().int().positive().max(LIMITS.maxDistanceMm).optional(),
    minRangeMm: z.number().int().nonnegative().max(LIMITS.maxDistanceMm).optional(),
    thresholds: ThresholdsSchema.default({ ...DEFAULT_THRESHOLDS }),
    intervalS: z.number().int().min(LIMITS.minIntervalS).max(LIMITS.maxIntervalS).default(DEFAULT_INTERVAL_S),
    state: SensorState.default('active'),
  })
  .refine((s) => s.minRangeMm === undefined || s.mountHeightMm === undefined || s.minRangeMm < s.mountHeightMm, {
    message: 'minRangeMm must be below mountHeightMm',
    path: ['minRangeMm'],
  });
export type SensorInput = z.input<typeof SensorInputSchema>;

/** A registered sensor as the rest of the service sees it. */
export const SensorSchema = z.object({
  id: SensorId,
  name: z.string(),
  nameEn: z.string().optional(),
  address: z.string().optional(),
  lat: z.number(),
  lon: z.number(),
  kind: SensorKind,
  mountHeightMm: z.number().optional(),
  minRangeMm: z.number().optional(),
  thresholds: ThresholdsSchema,
  intervalS: z.number().int(),
  state: SensorState,
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type Sensor = z.infer<typeof SensorSchema>;

/**
 * Validate registration input and fill defaults. A sensor with a mount height
 * is a distance sensor unless said otherwise.
 */
export function createSensor(input: unknown, now: number): Sensor {
  const s = SensorInputSchema.parse(input);
  return {
    ...s,
    kind: s.kind ?? (s.mountHeightMm !== undefined ? 'distance' : 'level'),
    createdAt: now,
    updatedAt: now,
  };
}
