import type { Alert } from '../core/alerts/alert.ts';
import { labelLevel, type AlertSettings } from '../core/alerts/policy.ts';
import { formatIso } from '../core/time.ts';

const HEALTH_NAMES = {
  offline: { ja: '欠測', en: 'Sensor offline' },
  low_battery: { ja: '電池低下', en: 'Low battery' },
} as const;

/**
 * An alert as the API and SSE show it (snake_case, ISO times with offset).
 * Who acknowledged and their note are for signed-in staff only.
 */
export function alertToJson(a: Alert, o: { timeZone: string; settings: AlertSettings; includeAck: boolean }) {
  const iso = (ms: number | undefined) => (ms === undefined ? null : formatIso(ms, o.timeZone));
  const name = a.kind === 'flood' ? labelLevel(a.severity, o.settings) : HEALTH_NAMES[a.kind];
  return {
    id: a.id,
    sensor_id: a.sensorId,
    kind: a.kind,
    severity: a.severity,
    peak_severity: a.peakSeverity,
    level_name: name.ja,
    level_name_en: name.en,
    cause: a.cause,
    state: a.state,
    rising: a.rising,
    level_cm: a.levelCm ?? null,
    observed_at: iso(a.observedAt),
    battery_v: a.batteryV ?? null,
    raised_at: iso(a.raisedAt),
    updated_at: iso(a.updatedAt),
    acknowledged_at: iso(a.acknowledgedAt),
    ...(o.includeAck && { acknowledged_by: a.acknowledgedBy ?? null, ack_note: a.ackNote ?? null }),
    resolved_at: iso(a.resolvedAt),
    resolved_reason: a.resolvedReason ?? null,
  };
}
