import type { Alert } from '../core/alerts/alert.ts';
import { alertFields } from '../core/alerts/channel.ts';
import { labelLevel, type AlertSettings } from '../core/alerts/policy.ts';
import { formatIso } from '../core/time.ts';
import { ALERT_KIND_WORDS } from '../core/words.ts';


/**
 * An alert as the API and SSE show it (snake_case, ISO times with offset).
 * Who acknowledged and their note are for signed-in staff only.
 */
export function alertToJson(a: Alert, o: { timeZone: string; settings: AlertSettings; includeAck: boolean }) {
  const name = a.kind === 'flood' ? labelLevel(a.severity, o.settings) : ALERT_KIND_WORDS[a.kind];
  return {
    ...alertFields(a, name, o.timeZone),
    acknowledged_at: a.acknowledgedAt === undefined ? null : formatIso(a.acknowledgedAt, o.timeZone),
    ...(o.includeAck && { acknowledged_by: a.acknowledgedBy ?? null, ack_note: a.ackNote ?? null }),
  };
}
