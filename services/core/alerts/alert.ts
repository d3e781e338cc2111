import { z } from 'zod';
import type { Sensor } from '../sensor.ts';
import { AlertSeveritySchema, rankLevel, type AlertSeverity, type FloodLevel } from './policy.ts';

/** What an alert is about. One active alert of each kind per sensor at most. */
/** `sensor_fault`: the device says its measurement is not the water (tilted, no target; issue 11). */
/** `maintenance_danger`: a 危険 reading from a sensor in maintenance (issue 12): staff only, never residents or public feeds. */
export const AlertKindSchema = z.enum(['flood', 'offline', 'low_battery', 'sensor_fault', 'maintenance_danger']);
export type AlertKind = z.infer<typeof AlertKindSchema>;

/** Lifecycle: raised → acknowledged → resolved (acknowledging is optional; escalation re-raises). */
export const AlertStateSchema = z.enum(['raised', 'acknowledged', 'resolved']);
export type AlertState = z.infer<typeof AlertStateSchema>;

export const ResolveReasonSchema = z.enum(['level_normal', 'reading_received', 'battery_ok', 'maintenance', 'sensor_retired', 'sensor_ok', 'maintenance_ended']);
export type ResolveReason = z.infer<typeof ResolveReasonSchema>;

/** Why a flood alert is at its severity: the level reached, or a fast rise below `caution`. */
export const AlertCauseSchema = z.enum(['level', 'rate_of_rise', 'offline', 'low_battery', 'tilt', 'no_target']);
export type AlertCause = z.infer<typeof AlertCauseSchema>;

export interface Alert {
  id: string;
  sensorId: string;
  kind: AlertKind;
  /** Current severity. */
  severity: AlertSeverity;
  /** Highest severity this episode reached. */
  peakSeverity: AlertSeverity;
  cause: AlertCause;
  state: AlertState;
  /** The water is rising at least at the rate-of-rise rate. */
  rising: boolean;
  /** The reading that last changed the alert. */
  levelCm: number | undefined;
  observedAt: number | undefined;
  batteryV: number | undefined;
  raisedAt: number;
  updatedAt: number;
  acknowledgedAt: number | undefined;
  acknowledgedBy: string | undefined;
  ackNote: string | undefined;
  resolvedAt: number | undefined;
  resolvedReason: ResolveReason | undefined;
}

/** Lifecycle events: each is persisted in the alert's timeline and published as SSE `alert`. */
export type AlertEventType = 'raised' | 'escalated' | 'eased' | 'updated' | 'acknowledged' | 'resolved' | 'reminded';

/** Events that are pushed to people (channels); the others only reach the console and map. `reminded` goes to staff only (services/core/alerts/reminder.ts). */
export const NOTIFIED_EVENTS: ReadonlySet<AlertEventType> = new Set(['raised', 'escalated', 'resolved']);

/** One change the runner must apply. */
export type AlertTransition =
  | { type: 'raise'; kind: AlertKind; severity: AlertSeverity; cause: AlertCause }
  | { type: 'change'; alertId: string; severity: AlertSeverity; cause: AlertCause; rising: boolean }
  | { type: 'resolve'; alertId: string; reason: ResolveReason };

/** Active alerts of one sensor, by kind. */
export type ActiveAlerts = Partial<Record<AlertKind, Pick<Alert, 'id' | 'severity' | 'cause' | 'rising'>>>;

/**
 * Decide what the flood alert of a sensor must do given the engine's
 * effective level: raise one when there is none, change it (escalate or
 * ease) when the severity moved, resolve it when the level is back to normal.
 * One alert per episode: nothing here ever raises a second flood alert while
 * one is active.
 */
export function planFloodAlert(
  active: ActiveAlerts['flood'],
  effective: FloodLevel,
  cause: AlertCause,
  rising: boolean,
): AlertTransition | undefined {
  if (effective === 'normal') return active ? { type: 'resolve', alertId: active.id, reason: 'level_normal' } : undefined;
  const severity = effective as AlertSeverity;
  if (!active) return { type: 'raise', kind: 'flood', severity, cause };
  if (active.severity !== severity || active.rising !== rising || active.cause !== cause) {
    return { type: 'change', alertId: active.id, severity, cause, rising };
  }
  return undefined;
}

/** The event type a severity change is, for the timeline and notifications. */
export function classifyChange(from: AlertSeverity, to: AlertSeverity): AlertEventType {
  const d = rankLevel(to) - rankLevel(from);
  return d > 0 ? 'escalated' : d < 0 ? 'eased' : 'updated';
}

/** Severity of the non-flood kinds: staff need to see them, residents do not subscribe to them. */
export const HEALTH_SEVERITY: Record<Exclude<AlertKind, 'flood'>, AlertSeverity> = {
  offline: 'caution',
  low_battery: 'caution',
  sensor_fault: 'caution',
  maintenance_danger: 'danger',
};

/** Acknowledge an active alert. Pure: returns the new alert or a reason it cannot be done. */
export function acknowledgeAlert(
  alert: Alert,
  by: string,
  note: string | undefined,
  now: number,
): { ok: true; alert: Alert } | { ok: false; reason: string } {
  if (alert.state === 'resolved') return { ok: false, reason: `alert ${alert.id} is already resolved` };
  if (alert.state === 'acknowledged') return { ok: false, reason: `alert ${alert.id} was already acknowledged by ${alert.acknowledgedBy}` };
  return { ok: true, alert: { ...alert, state: 'acknowledged', acknowledgedAt: now, acknowledgedBy: by, ackNote: note, updatedAt: now } };
}

/** Minimal sensor facts for messages and feeds. */
export type AlertSensor = Pick<Sensor, 'id' | 'name' | 'nameEn' | 'lat' | 'lon' | 'thresholds'> & Partial<Pick<Sensor, 'site'>>;

export const AckBodySchema = z.object({ note: z.string().trim().max(1000).optional() }).strict();

export { AlertSeveritySchema };
