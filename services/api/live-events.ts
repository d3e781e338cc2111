import type { Reading } from '../core/reading.ts';
import type { Status } from '../core/status.ts';
import { formatIso } from '../core/time.ts';
import type { Trend } from '../core/trend.ts';
import { trendFields } from './geojson.ts';

/**
 * The live stream's `reading` event (`/api/events`, docs/contract): the reading,
 * the sensor's status now and, for its newest reading, the trend as
 * /api/sensors shows it (issue 12), so a live map agrees with the API without
 * refetching. Built the same way in the single process, the core and every
 * web process (issue 15).
 */
export function readingEventData(reading: Reading, at: { status: Status | undefined; latest: boolean; trend: Trend | undefined; timeZone: string }) {
  return {
    sensor_id: reading.sensorId,
    ts: formatIso(reading.observedAt, at.timeZone),
    level_cm: reading.levelCm,
    // Status of the sensor now (an out-of-order reading does not change it).
    status: at.status,
    latest: at.latest,
    ...(at.latest && trendFields(at.trend)),
    ...(reading.batteryV !== undefined && { battery_v: reading.batteryV }),
    ...(reading.rssiDbm !== undefined && { rssi_dbm: reading.rssiDbm }),
    ...(reading.batteryPct !== undefined && { battery_pct: reading.batteryPct }),
    ...(reading.snrDb !== undefined && { snr_db: reading.snrDb }),
    ...(reading.wetCm !== undefined && { wet_cm: reading.wetCm }),
  };
}

/** The live stream's `status` event: a change the sweep found (silence → `offline`, issue 1). */
export function statusEventData(change: { sensorId: string; status: Status; previous: Status | undefined }) {
  return { sensor_id: change.sensorId, status: change.status, previous: change.previous ?? null };
}
