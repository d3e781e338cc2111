import type { Alert, AlertEventType } from '../core/alerts/alert.ts';
import { nextReminderAt, type ReminderClock, type ReminderPolicy } from '../core/alerts/reminder.ts';

export interface RemindersOptions {
  policy: ReminderPolicy;
  /** Send reminder `n` of an alert (the runner composes, logs and dispatches it). */
  remind: (alert: Alert, n: number) => void;
  /** The alert as it is now (it may have been acknowledged or resolved meanwhile). */
  current: (alertId: string) => Alert | undefined;
  now?: () => number;
  onError?: (err: Error) => void;
}

/**
 * One timer for every alert's reminders: it is set for the earliest reminder
 * due and moved whenever an alert changes, so 1,000 active alerts cost one
 * timer, and a reminder fires on time rather than at the next sweep. The
 * rules (who, when, how marked) are pure, in services/core/alerts/reminder.ts.
 */
export function createReminders(options: RemindersOptions) {
  const now = options.now ?? Date.now;
  const clocks = new Map<string, ReminderClock>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function schedule(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (closed) return;
    let next = Infinity;
    for (const [id, clock] of clocks) {
      const alert = options.current(id);
      const at = alert && nextReminderAt(alert, clock, options.policy);
      if (at === undefined) clocks.delete(id);
      else if (at < next) next = at;
    }
    if (next === Infinity) return;
    timer = setTimeout(fire, Math.max(0, next - now()));
    timer.unref();
  }

  function fire(): void {
    timer = undefined;
    const t = now();
    for (const [id, clock] of clocks) {
      const alert = options.current(id);
      const at = alert && nextReminderAt(alert, clock, options.policy);
      if (!alert || at === undefined || at > t) continue;
      clock.count++;
      clock.lastNotifiedAt = t;
      try {
        options.remind(alert, clock.count);
      } catch (err) {
        options.onError?.(err as Error);
      }
    }
    schedule();
  }

  return {
    /** Every lifecycle event of every alert: a raise or escalation starts the clock again, the rest just re-plan. */
    onEvent(event: AlertEventType, alert: Alert): void {
      if (event === 'raised' || event === 'escalated') {
        const clock = clocks.get(alert.id);
        clocks.set(alert.id, { lastNotifiedAt: now(), count: clock?.count ?? 0 });
      } else if (event === 'acknowledged' || event === 'resolved') {
        clocks.delete(alert.id);
      }
      schedule();
    },
    /**
     * Alerts active at start: unacknowledged ones are reminded one interval
     * from now (the process may have been down a while), numbered on from the
     * reminders already sent (`sentBefore`), so a notice id is never reused.
     */
    resume(alerts: readonly Alert[], sentBefore: (alertId: string) => number = () => 0): void {
      for (const a of alerts) if (a.state === 'raised') clocks.set(a.id, { lastNotifiedAt: now(), count: sentBefore(a.id) });
      schedule();
    },
    /** Reminders sent so far for an alert. */
    count: (alertId: string) => clocks.get(alertId)?.count ?? 0,
    close(): void {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
export type Reminders = ReturnType<typeof createReminders>;
