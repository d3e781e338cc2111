import { z } from 'zod';
import type { Thresholds } from '../sensor.ts';
import { RIVER_STAGE_WORDS, STATUS_WORDS } from '../words.ts';

/** Flood severities an alert can carry, lowest first (the API's status words). */
export const ALERT_SEVERITIES = ['caution', 'warning', 'danger'] as const;
export const AlertSeveritySchema = z.enum(ALERT_SEVERITIES);
export type AlertSeverity = z.infer<typeof AlertSeveritySchema>;

/** A hysteresis level: a severity or `normal`. */
export type FloodLevel = 'normal' | AlertSeverity;
export const FLOOD_LEVELS: readonly FloodLevel[] = ['normal', 'caution', 'warning', 'danger'];

/** Order of levels for comparisons (`normal` 0 … `danger` 3). */
export function rankLevel(level: FloodLevel): number {
  return FLOOD_LEVELS.indexOf(level);
}

export function maxLevel(a: FloodLevel, b: FloodLevel): FloodLevel {
  return rankLevel(a) >= rankLevel(b) ? a : b;
}

/**
 * Rules that turn readings into alerts. Defaults come from the issue
 * ("Danger levels and alerts…", issue 4) and are explained where declared.
 */
export const AlertPolicySchema = z.object({
  /**
   * A level is left only when the water falls below `threshold − deadBandCm`.
   * 2 cm (issue 4): about twice the ±1 cm accuracy typical of the ultrasonic
   * level sensors used for road flooding, so sensor noise alone cannot flap.
   */
  deadBandCm: z.number().min(0).max(100).default(2),
  /**
   * …and stays there for `holdMs`. 10 min (issue 4) = one default reporting
   * interval (contract: every 10 min), so one low reading never ends an alert.
   */
  holdMs: z.number().int().min(0).max(24 * 3600_000).default(10 * 60_000),
  /** Rate-of-rise alert: a rise of `riseCm` within `riseWindowMs` (issue 4 default: 10 cm in 10 min). */
  riseCm: z.number().positive().max(1000).default(10),
  riseWindowMs: z.number().int().min(60_000).max(24 * 3600_000).default(10 * 60_000),
  /**
   * A jump of at least this much from the previous reading is held until the
   * next reading confirms it. 50 cm in one step is five times the rate-of-rise
   * alert rate and more than the whole road preset (0 → 30 cm); isolated jumps
   * that size are what false echoes (rain, debris, vehicles) look like to an
   * ultrasonic sensor.
   */
  spikeJumpCm: z.number().positive().max(2000).default(50),
  /**
   * Battery below this raises a `low_battery` alert; it clears 0.1 V above.
   * 3.3 V: the 3.6 V lithium-thionyl-chloride primary cells common in LPWA
   * sensors hold a flat ~3.6 V and fall off steeply at end of life.
   */
  lowBatteryV: z.number().min(0).max(60).default(3.3),
});
export type AlertPolicy = z.infer<typeof AlertPolicySchema>;
export const DEFAULT_ALERT_POLICY: AlertPolicy = Object.freeze(AlertPolicySchema.parse({}));

/** How named levels read in each language. */
export interface LevelLabel {
  ja: string;
  en: string;
}

/**
 * Presets for a sensor's levels. `road_underpass`: the 10 / 20 / 30 cm steps
 * of Japanese one-coin road-flood sensors. `river_channel`: the four water
 * levels MLIT names for rivers (水防法 and MLIT's 水位の種類):
 *
 * | MLIT level | 警戒レベル相当 | API status |
 * |---|---|---|
 * | 水防団待機水位 (flood-fighting standby) | — | `normal` (named, no alert) |
 * | 氾濫注意水位 (flood caution) | 2 | `caution` |
 * | 避難判断水位 (evacuation decision) | 3 | `warning` |
 * | 氾濫危険水位 (flood danger) | 4 | `danger` |
 *
 * The standby level is a call-out for flood-fighting teams, not a public
 * hazard (MLIT assigns it no 警戒レベル), so it is reported by name but
 * raises no alert; the other three map one-to-one onto 警戒レベル 2–4.
 */
export const PRESETS = {
  road_underpass: {
    labels: { caution: STATUS_WORDS.caution, warning: STATUS_WORDS.warning, danger: STATUS_WORDS.danger },
    standbyLabel: undefined,
    defaults: { caution: 10, warning: 20, danger: 30 },
    /** CAP <circle> radius around the sensor: an underpass is a point hazard. */
    radiusKm: 0.1,
  },
  river_channel: {
    labels: { caution: RIVER_STAGE_WORDS.caution, warning: RIVER_STAGE_WORDS.warning, danger: RIVER_STAGE_WORDS.danger },
    standbyLabel: RIVER_STAGE_WORDS.standby,
    /** No sensible universal default: river levels are per gauging station; these only fill the form. */
    defaults: { caution: 100, warning: 150, danger: 200 },
    /** A river stage concerns the reach around the gauge. */
    radiusKm: 1,
  },
} as const satisfies Record<
  string,
  {
    labels: Record<AlertSeverity, LevelLabel>;
    standbyLabel: LevelLabel | undefined;
    defaults: Thresholds;
    radiusKm: number;
  }
>;
export type PresetName = keyof typeof PRESETS;
export const PresetNameSchema = z.enum(['road_underpass', 'river_channel']);

/** Per-sensor alert settings kept beside the sensor's thresholds. */
export const AlertSettingsSchema = z.object({
  preset: PresetNameSchema.default('road_underpass'),
  /** River preset only: 水防団待機水位 in cm, below `caution`. */
  standbyCm: z.number().min(0).max(2000).optional(),
});
export type AlertSettings = z.infer<typeof AlertSettingsSchema>;
export const DEFAULT_ALERT_SETTINGS: AlertSettings = Object.freeze({ preset: 'road_underpass' });

/** Name of the level a severity stands for, in both languages. */
export function labelLevel(severity: AlertSeverity, settings: AlertSettings = DEFAULT_ALERT_SETTINGS): LevelLabel {
  return PRESETS[settings.preset].labels[severity];
}

/** MLIT's 計画高水位 (HWL): the design high-water level of a river's levees; above 氾濫危険水位, still `danger`. */
export const PLAN_HIGH_WATER_LABEL: LevelLabel = RIVER_STAGE_WORDS.planHighWater;

/**
 * Named level of a depth for display, including the river standby level,
 * which has no alert of its own. Undefined below every named level.
 */
export function nameDepth(levelCm: number, t: Thresholds, settings: AlertSettings = DEFAULT_ALERT_SETTINGS): LevelLabel | undefined {
  const preset = PRESETS[settings.preset];
  // Issue 12: a river gauge's own 計画高水位 and 水防団待機水位 (its thresholds) where set; the alert settings' standby otherwise.
  if (preset.standbyLabel && t.planHighWater !== undefined && levelCm >= t.planHighWater) return PLAN_HIGH_WATER_LABEL;
  if (levelCm >= t.danger) return preset.labels.danger;
  if (levelCm >= t.warning) return preset.labels.warning;
  if (levelCm >= t.caution) return preset.labels.caution;
  const standby = t.standby ?? settings.standbyCm;
  if (preset.standbyLabel && standby !== undefined && levelCm >= standby) return preset.standbyLabel;
  return undefined;
}
