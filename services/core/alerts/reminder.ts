import { z } from 'zod';
import type { Alert } from './alert.ts';
import { AlertSeveritySchema, rankLevel } from './policy.ts';

/**
 * Reminders (issue 13): an alert nobody has acknowledged is sent again after
 * `intervalMs`, and again every `intervalMs`, until someone acknowledges it
 * or it resolves. Reminder n also goes to the recipients labelled
 * `groups[n - 1]` (the last group for later ones): the "next group" a
 * disaster-response office escalates to when the duty officer does not answer.
 */
export const ReminderPolicySchema = z.object({
  /**
   * 0 turns reminders off. Default 600 s (issue 13): 10 minutes is one
   * default reporting interval (docs/contract.md), so a reminder never
   * repeats news a fresh reading has not had the chance to change.
   */
  intervalMs: z.number().int().min(0).max(24 * 3600_000).default(600_000),
  /** Lowest severity reminded (default 危険: the level at which a road must not be entered). */
  minSeverity: AlertSeveritySchema.default('danger'),
  /** Recipient labels to add, one per reminder in order. */
  groups: z.array(z.string().min(1).max(120)).max(20).default([]),
});
export type ReminderPolicy = z.infer<typeof ReminderPolicySchema>;
export const DEFAULT_REMINDER_POLICY: ReminderPolicy = Object.freeze(ReminderPolicySchema.parse({}));

/** When the alert's people were last told about it (raised, escalated, or the last reminder), and how many reminders so far. */
export interface ReminderClock {
  lastNotifiedAt: number;
  count: number;
}

/** Whether an alert is one that gets reminders at all: unacknowledged, active, severe enough. */
export function needsReminder(alert: Pick<Alert, 'state' | 'severity'>, policy: ReminderPolicy): boolean {
  return policy.intervalMs > 0 && alert.state === 'raised' && rankLevel(alert.severity) >= rankLevel(policy.minSeverity);
}

/** When the next reminder of an alert is due, or undefined when none will be. */
export function nextReminderAt(alert: Pick<Alert, 'state' | 'severity'>, clock: ReminderClock, policy: ReminderPolicy): number | undefined {
  return needsReminder(alert, policy) ? clock.lastNotifiedAt + policy.intervalMs : undefined;
}

/** The group added by reminder `n` (1-based), if any. */
export function reminderGroup(n: number, policy: ReminderPolicy): string | undefined {
  if (!policy.groups.length || n < 1) return undefined;
  return policy.groups[Math.min(n, policy.groups.length) - 1];
}

/** Every group reminded so far, up to and including reminder `n`. */
export function reminderGroups(n: number, policy: ReminderPolicy): string[] {
  return policy.groups.slice(0, Math.min(n, policy.groups.length));
}

/** How a reminder is marked in every channel: a title prefix and a first line. */
export function markReminder(text: { ja: { title: string; body: string }; en: { title: string; body: string } }, n: number) {
  return {
    ja: { title: `【再通知】${text.ja.title}`, body: `未確認のため再通知します（${n} 回目）。\n${text.ja.body}` },
    en: { title: `[Reminder] ${text.en.title}`, body: `Not acknowledged yet: reminder ${n}.\n${text.en.body}` },
  };
}
