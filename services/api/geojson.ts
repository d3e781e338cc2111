import { closureToJson, type Closure } from '../core/closure.ts';
import type { Reading } from '../core/reading.ts';
import type { Sensor, Thresholds } from '../core/sensor.ts';
import { computeStatus, offlineAt } from '../core/status.ts';
import { formatIso } from '../core/time.ts';
import type { Trend } from '../core/trend.ts';

/**
 * One sensor as a GeoJSON Feature (RFC 7946 §3.2; coordinates are
 * [longitude, latitude], §3.1.1). Property names are the API's snake_case.
 */
export function toFeature(sensor: Sensor, latest: Reading | undefined, now: number, timeZone: string, closure?: Closure, trend?: Trend) {
  const status = computeStatus(sensor, latest, now);
  // Issue 12: no trend for a sensor that is 欠測 (its last readings say nothing about now).
  const live = status !== 'offline' ? trend : undefined;
  return {
    type: 'Feature' as const,
    id: sensor.id,
    geometry: { type: 'Point' as const, coordinates: [sensor.lon, sensor.lat] },
    properties: {
      name: sensor.name,
      name_en: sensor.nameEn ?? null,
      address: sensor.address ?? null,
      address_en: sensor.addressEn ?? null,
      kind: sensor.kind,
      /** Issue 12: what the level means: `road` depth above the road (cm), `river` stage above the gauge datum (shown in m). */
      site: sensor.site ?? 'road',
      // Stage sensors (issue 11): level_cm is the highest wet stage, a lower bound, not an exact depth.
      ...(sensor.stages !== undefined && { stages: [...sensor.stages] }),
      state: sensor.state,
      /** Issue 12: why a sensor is in maintenance and when it should end (null when it is not). */
      maintenance: sensor.state === 'maintenance' ? { reason: sensor.maintenanceReason ?? null, until: sensor.maintenanceUntil !== undefined ? formatIso(sensor.maintenanceUntil, timeZone) : null } : null,
      status,
      level_cm: latest?.levelCm ?? null,
      observed_at: latest ? formatIso(latest.observedAt, timeZone) : null,
      offline_at: latest ? formatIso(offlineAt(latest.observedAt, sensor.intervalS), timeZone) : null,
      battery_v: latest?.batteryV ?? null,
      rssi_dbm: latest?.rssiDbm ?? null,
      interval_s: sensor.intervalS,
      thresholds: thresholdsToJson(sensor.thresholds),
      ...trendFields(live),
      /** A road closure set by city staff (issue 13), separate from `status`; null while the road is open. */
      closure: closure ? closureToJson(closure, (ms) => formatIso(ms, timeZone), { includeBy: false }) : null,
    },
  };
}
export type SensorFeature = ReturnType<typeof toFeature>;

/**
 * Thresholds as the API shows them, in cm: `caution`, `warning`, `danger`, and for a river gauge
 * (issue 12) `standby` 水防団待機水位 and `plan_high_water` 計画高水位 only where set.
 */
export function thresholdsToJson(t: Thresholds) {
  return {
    caution: t.caution,
    warning: t.warning,
    danger: t.danger,
    ...(t.standby !== undefined && { standby: t.standby }),
    ...(t.planHighWater !== undefined && { plan_high_water: t.planHighWater }),
  };
}

/**
 * Issue 12 (services/core/trend.ts): the trend as the API shows it, in /api/sensors and in live `reading` events.
 * `trend` is the least-squares rate (null when there is not enough to say); `next_level` the level above the
 * reading while rising; `eta_s` the rounded seconds to it, only when the fit is good enough.
 */
export function trendFields(t: Trend | undefined) {
  return {
    trend: t ? { rate_cm_per_h: t.rateCmPerH, window_s: t.windowS, direction: t.direction, points: t.points } : null,
    // 計画高水位 (issue 12) in the API's snake_case, as in `thresholds.plan_high_water`.
    next_level: t?.nextLevel === 'planHighWater' ? 'plan_high_water' : (t?.nextLevel ?? null),
    eta_s: t?.etaS ?? null,
  };
}
