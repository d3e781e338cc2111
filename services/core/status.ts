import { LIMITS } from './limits.ts';
import type { Sensor, Thresholds } from './sensor.ts';

/** API values; the UI shows 平常 / 注意 / 警戒 / 危険 / 欠測 beside them. */
export const STATUSES = ['normal', 'caution', 'warning', 'danger', 'offline'] as const;
export type Status = (typeof STATUSES)[number];

/** Severity order for sorting and "minimum severity" filters; offline sorts with warning so it is not missed. */
export const SEVERITY: Record<Status, number> = { normal: 0, caution: 1, offline: 2, warning: 3, danger: 4 };

/** Plain threshold level of a depth, without hysteresis (the alert engine adds that). */
export function classifyLevel(levelCm: number, t: Thresholds): Exclude<Status, 'offline'> {
  if (levelCm >= t.danger) return 'danger';
  if (levelCm >= t.warning) return 'warning';
  if (levelCm >= t.caution) return 'caution';
  return 'normal';
}

/** When a sensor that last reported at `observedAt` goes offline (ms epoch). */
export function offlineAt(observedAt: number, intervalS: number): number {
  return observedAt + LIMITS.offlineAfterIntervals * intervalS * 1000;
}

/**
 * Status shown on the map and in the API: `offline` when nothing arrived for
 * 3 × the reporting interval (contract), else the threshold level.
 */
export function computeStatus(
  sensor: Pick<Sensor, 'thresholds' | 'intervalS'>,
  latest: { levelCm: number; observedAt: number } | undefined,
  now: number,
): Status {
  if (!latest || now >= offlineAt(latest.observedAt, sensor.intervalS)) return 'offline';
  return classifyLevel(latest.levelCm, sensor.thresholds);
}
