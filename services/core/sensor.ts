import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { CODEC_NAMES } from './codecs/index.ts';
import { createError } from './errors.ts';

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

/** Any level a threshold may have (river stages included); road thresholds are narrowed to 0–2000 cm below. */
const Cm = z.number().min(LIMITS.minRiverStageCm).max(LIMITS.maxRiverStageCm);

/**
 * What a sensor measures (issue 12): `road`, water depth above the road (cm,
 * 注意/警戒/危険); `river`, a river stage above the gauge datum (m, MLIT's
 * 氾濫注意水位 / 避難判断水位 / 氾濫危険水位 as caution / warning / danger;
 * docs/alerts.md). Absent means road (every sensor before issue 12).
 */
export const SensorSite = z.enum(['road', 'river']);
export type SensorSiteType = z.infer<typeof SensorSite>;

/** The range a reading or threshold of this site may have (services/core/limits.ts). */
export function levelRangeOf(site: SensorSiteType | undefined): { minCm: number; maxCm: number } {
  return site === 'river' ? { minCm: LIMITS.minRiverStageCm, maxCm: LIMITS.maxRiverStageCm } : { minCm: LIMITS.minLevelCm, maxCm: LIMITS.maxLevelCm };
}

/**
 * The levels a status is judged by, in cm. A river gauge (issue 12) may also
 * carry the two MLIT levels that are not one of the three statuses, where the
 * river administrator has set them for its station (川の防災情報 lists both per
 * 観測所): `standby` 水防団待機水位, below `caution` (flood-fighting teams stand
 * by; no public alert), and `planHighWater` 計画高水位, above `danger` (the
 * design high-water level the levees are built for; still `danger`, named as
 * such in the panel, the legend and alerts).
 */
export const ThresholdsSchema = z
  .object({ caution: Cm, warning: Cm, danger: Cm, standby: Cm.optional(), planHighWater: Cm.optional() })
  .refine((t) => t.caution < t.warning && t.warning < t.danger, {
    message: 'thresholds must rise: caution < warning < danger',
  })
  .refine((t) => t.standby === undefined || t.standby < t.caution, { message: 'standby (水防団待機水位) must be below caution', path: ['standby'] })
  .refine((t) => t.planHighWater === undefined || t.planHighWater > t.danger, { message: 'planHighWater (計画高水位) must be above danger', path: ['planHighWater'] });
export type Thresholds = z.infer<typeof ThresholdsSchema>;

/**
 * `level` reports depth, `distance` a distance turned into depth by its
 * calibration, `stage` which fixed heights are wet (Japanese road-flood
 * stage sensors, e.g. MLIT's at 10 / 20 / 30 cm; issue 11).
 */
export const SensorKind = z.enum(['level', 'distance', 'stage']);

/**
 * LoRaWAN DevEUI: 16 hex digits (LoRaWAN 1.0.x §6.2.1, EUI-64), matched
 * case-insensitively, stored in upper case as TTN and ChirpStack print it.
 */
export const DevEui = z
  .string()
  .trim()
  .regex(/^[0-9A-Fa-f]{16}$/, 'dev_eui: 16 hex digits')
  .transform((s) => s.toUpperCase());
export const CodecNameSchema = z.enum(CODEC_NAMES);
/** For the `json` codec: which field of the network server's decoded object holds the measurement. */
export const JsonFieldSchema = z.object({
  quantity: z.enum(['distance_mm', 'level_cm', 'wet_cm']),
  path: z.string().trim().min(1).max(120),
});
/** Detection heights of a stage sensor in cm, rising: at most 8 (issue 11: 10,20,30 or 5,15). */
export const StagesSchema = z
  .array(z.number().positive().max(LIMITS.maxLevelCm))
  .min(1)
  .max(8)
  .refine((a) => a.every((v, i) => i === 0 || v > (a[i - 1] as number)), { message: 'stages must rise, e.g. 10,20,30' });
export const SensorState = z.enum(['active', 'maintenance', 'retired']);

const RIVER_NEEDS_THRESHOLDS =
  'a river gauge needs its station\'s levels in cm (caution 氾濫注意水位, warning 避難判断水位, danger 氾濫危険水位; standby 水防団待機水位 and planHighWater 計画高水位 where set): a road\'s 10/20/30 cm mean nothing for a river stage';

/** What a technician supplies to register a sensor (CLI, API, console). */
export const SensorInputSchema = z
  .object({
    id: SensorId,
    name: z.string().trim().min(1).max(120),
    nameEn: z.string().trim().max(120).optional(),
    address: z.string().trim().max(200).optional(),
    /** Issue 12: the address in English for the map's English view (e.g. `1234 Uchita, Kinokawa`). */
    addressEn: z.string().trim().max(200).optional(),
    lat: z.number().min(-90).max(90),
    lon: z.number().min(-180).max(180),
    kind: SensorKind.optional(),
    site: SensorSite.optional(),
    mountHeightMm: z.number().int().positive().max(LIMITS.maxDistanceMm).optional(),
    minRangeMm: z.number().int().nonnegative().max(LIMITS.maxDistanceMm).optional(),
    /** Absent: a road sensor gets DEFAULT_THRESHOLDS (a stage sensor its stages); a river gauge is refused (riverNeedsThresholds). */
    thresholds: ThresholdsSchema.optional(),
    intervalS: z.number().int().min(LIMITS.minIntervalS).max(LIMITS.maxIntervalS).default(DEFAULT_INTERVAL_S),
    state: SensorState.default('active'),
    devEui: DevEui.optional(),
    codec: CodecNameSchema.optional(),
    jsonField: JsonFieldSchema.optional(),
    stages: StagesSchema.optional(),
    /** Issue 12: registered but not public yet; cleared by its first valid reading or by a technician (`commissioning: false`). */
    commissioning: z.boolean().optional(),
    /** Issue 12: why the sensor is in maintenance and when it should end (ms epoch); residents see both with the last reading. */
    maintenanceReason: z.string().trim().max(200).optional(),
    maintenanceUntil: z.number().int().min(0).optional(),
  })
  .refine((s) => (s.kind === 'stage') === (s.stages !== undefined), {
    message: 'a stage sensor needs its stages (e.g. 10,20,30), and only a stage sensor has them',
    path: ['stages'],
  })
  .refine((s) => s.site !== 'river' || s.thresholds !== undefined, { message: RIVER_NEEDS_THRESHOLDS, path: ['thresholds'] })
  .refine(
    (s) => {
      const r = levelRangeOf(s.site);
      return !s.thresholds || [s.thresholds.caution, s.thresholds.warning, s.thresholds.danger].every((v) => v >= r.minCm && v <= r.maxCm);
    },
    { message: 'thresholds outside the site\'s range: road 0–2000 cm, river −1000–5000 cm', path: ['thresholds'] },
  )
  .refine((s) => s.site === 'river' || (s.thresholds?.standby === undefined && s.thresholds?.planHighWater === undefined), {
    message: 'only a river gauge (site: river) has standby (水防団待機水位) and planHighWater (計画高水位)',
    path: ['thresholds'],
  })
  .refine((s) => s.codec === undefined || s.devEui !== undefined, { message: 'a codec is for a LoRaWAN device: give its dev_eui', path: ['codec'] })
  .refine((s) => (s.codec === 'json') === (s.jsonField !== undefined), {
    message: 'the json codec needs jsonField (which field holds distance_mm or level_cm), and only it',
    path: ['jsonField'],
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
  addressEn: z.string().optional(),
  lat: z.number(),
  lon: z.number(),
  kind: SensorKind,
  site: SensorSite.optional(),
  mountHeightMm: z.number().optional(),
  minRangeMm: z.number().optional(),
  thresholds: ThresholdsSchema,
  intervalS: z.number().int(),
  state: SensorState,
  devEui: z.string().optional(),
  codec: CodecNameSchema.optional(),
  jsonField: JsonFieldSchema.optional(),
  stages: z.array(z.number()).optional(),
  commissioning: z.boolean().optional(),
  maintenanceReason: z.string().optional(),
  maintenanceUntil: z.number().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type Sensor = z.infer<typeof SensorSchema>;

/**
 * Whether residents may see a sensor (issue 12): a new registration stays off
 * the public map and API until its first valid reading or a technician's
 * `commissioning: false`, so an unfinished installation never shows as 欠測.
 */
export function isPublicSensor(sensor: Pick<Sensor, 'commissioning'>): boolean {
  return sensor.commissioning !== true;
}

/**
 * A stage sensor's default thresholds are its own stages (issue 11): with
 * MLIT's 10 / 20 / 30 cm the levels are 注意 10, 警戒 20, 危険 30; with fewer
 * stages the levels above the highest stage sit just above it (a 5 / 15 cm
 * sensor cannot tell 危険, so 危険 is 16 cm: never reached, never guessed).
 */
export function thresholdsFromStages(stages: readonly number[]): Thresholds {
  const [a = 10, b = a + 1, c = b + 1] = stages;
  return { caution: a, warning: b, danger: c };
}

/**
 * Issue 12: a river gauge has no default levels. The road's 10 / 20 / 30 cm
 * mean nothing for a stage above a gauge datum (a river at 0.30 m may be at its
 * lowest), and MLIT's levels are set per station by the river administrator,
 * so a gauge registered without them would show residents 危険 at a dry-season
 * stage. Registration (and a PATCH that turns a road sensor into a river gauge)
 * is refused until the station's levels are given.
 */
export function riverNeedsThresholds() {
  return createError('invalid_input', `thresholds: ${RIVER_NEEDS_THRESHOLDS}`, { param: 'thresholds' });
}

/**
 * Validate registration input and fill defaults. A sensor with a mount height
 * (or a distance codec) is a distance sensor unless said otherwise.
 */
export function createSensor(input: unknown, now: number): Sensor {
  const s = SensorInputSchema.parse(input);
  return {
    ...s,
    thresholds: s.thresholds ?? (s.stages !== undefined ? thresholdsFromStages(s.stages) : { ...DEFAULT_THRESHOLDS }),
    // A LoRaWAN device whose codec yields a distance is a distance sensor even before it is calibrated,
    // so "set zero now" works on its first uplinks (issue 11).
    kind: s.kind ?? (s.mountHeightMm !== undefined || (s.codec !== undefined && s.codec !== 'json') || s.jsonField?.quantity === 'distance_mm' ? 'distance' : 'level'),
    createdAt: now,
    updatedAt: now,
  };
}
