import { z } from 'zod';
import type { Alert } from './alerts/alert.ts';
import { PushSubscriptionSchema, SensorSelectionSchema, wantsNotice, type Recipient } from './alerts/channel.ts';
import { AlertSeveritySchema } from './alerts/policy.ts';

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24 h)');

/** Quiet hours in the city's time: from `start` to `end`, across midnight when `end` is earlier. 危険 is sent anyway. */
export const QuietHoursSchema = z
  .object({ start: HHMM, end: HHMM })
  .strict()
  .refine((q) => q.start !== q.end, { message: 'start and end must differ', path: ['end'] });
export type QuietHours = z.infer<typeof QuietHoursSchema>;

/**
 * One staff member's notification choices (issue 13): channels (an e-mail
 * address, a LINE user id, this browser's Web Push subscription), which
 * sensors or areas, the lowest severity, quiet hours that 危険 overrides.
 */
export const NotificationPrefsSchema = z
  .object({
    email: z.email().max(254).nullable().default(null),
    line: z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'a LINE user id').nullable().default(null),
    webpush: PushSubscriptionSchema.nullable().default(null),
    /** Sensor ids, or `['*']`: every sensor (only those in `areas` when areas are given). */
    sensors: SensorSelectionSchema.default(['*']),
    /** Place names matched against each sensor's address (e.g. `打田`, `粉河`). */
    areas: z.array(z.string().trim().min(1).max(60)).max(50).default([]),
    min_severity: AlertSeveritySchema.default('warning'),
    quiet_hours: QuietHoursSchema.nullable().default(null),
    lang: z.enum(['ja', 'en']).default('ja'),
  })
  .strict();
export type NotificationPrefs = z.infer<typeof NotificationPrefsSchema>;
export const DEFAULT_NOTIFICATION_PREFS: NotificationPrefs = Object.freeze(NotificationPrefsSchema.parse({}));

/** Port: preferences per username. Adapters: SQLite (services/storage/sqlite-user-notifications.ts), memory (tests). */
export interface UserNotificationRepository {
  get(username: string): NotificationPrefs | undefined;
  put(username: string, prefs: NotificationPrefs, now: number): void;
  all(): { username: string; prefs: NotificationPrefs }[];
}

const clocks = new Map<string, Intl.DateTimeFormat>();
function minutesOfDay(ms: number, timeZone: string): number {
  let f = clocks.get(timeZone);
  if (!f) clocks.set(timeZone, (f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })));
  const [h, m] = f.format(ms).split(':').map(Number) as [number, number];
  return h * 60 + m;
}
const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether `ms` falls in the quiet hours (start inclusive, end exclusive), in `timeZone`. */
export function inQuietHours(ms: number, q: QuietHours, timeZone: string): boolean {
  const t = minutesOfDay(ms, timeZone);
  const start = toMinutes(q.start);
  const end = toMinutes(q.end);
  return start < end ? t >= start && t < end : t >= start || t < end;
}

/**
 * Whether a notice goes to a recipient now: what it follows (sensors,
 * areas, kinds, severity) and, for staff with quiet hours, not during them —
 * unless the alert is 危険, which always goes (issue 13).
 */
export function shouldNotify(
  r: Pick<Recipient, 'sensors' | 'minSeverity' | 'kinds' | 'areas' | 'quietHours'>,
  alert: Pick<Alert, 'sensorId' | 'kind' | 'peakSeverity' | 'severity'>,
  sensor: { address?: string | undefined } | undefined,
  now: number,
  timeZone: string,
): boolean {
  if (!wantsNotice(r, alert, sensor)) return false;
  if (r.quietHours && alert.severity !== 'danger' && inQuietHours(now, r.quietHours, timeZone)) return false;
  return true;
}

/** The recipients one user's preferences make (one per channel chosen), labelled `user:<name>`. */
export function prefsToRecipients(username: string, p: NotificationPrefs): Recipient[] {
  const common = {
    sensors: p.sensors,
    minSeverity: p.min_severity,
    kinds: ['flood', 'offline', 'low_battery', 'sensor_fault'] as Recipient['kinds'],
    lang: p.lang,
    source: 'user' as const,
    label: `user:${username}`,
    ...(p.areas.length && { areas: p.areas }),
    ...(p.quiet_hours && { quietHours: p.quiet_hours }),
  };
  const out: Recipient[] = [];
  if (p.email) out.push({ ...common, id: `user:${username}:email`, channel: 'email', target: p.email });
  if (p.line) out.push({ ...common, id: `user:${username}:line`, channel: 'line', target: p.line });
  if (p.webpush) out.push({ ...common, id: `user:${username}:webpush`, channel: 'webpush', target: p.webpush.endpoint, subscription: p.webpush });
  return out;
}
