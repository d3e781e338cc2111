import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../services/core/alerts/alert.ts';
import { composeNotice, noticeToJson } from '../../services/core/alerts/channel.ts';
import { needsReminder, nextReminderAt, reminderGroup, reminderGroups, ReminderPolicySchema } from '../../services/core/alerts/reminder.ts';
import { createReminders } from '../../services/alerting/reminders.ts';

const T0 = Date.UTC(2026, 6, 1, 7, 0, 0);
const alert = (over: Partial<Alert> = {}): Alert => ({
  id: 'al_1', sensorId: 's-1', kind: 'flood', severity: 'danger', peakSeverity: 'danger', cause: 'level', state: 'raised', rising: false,
  levelCm: 33, observedAt: T0, batteryV: undefined, raisedAt: T0, updatedAt: T0, acknowledgedAt: undefined, acknowledgedBy: undefined,
  ackNote: undefined, resolvedAt: undefined, resolvedReason: undefined, ...over,
});
const sensor = { id: 's-1', name: '打田駅前アンダーパス', nameEn: 'Uchita Sta. underpass', lat: 34.27, lon: 135.39, thresholds: { caution: 10, warning: 20, danger: 30 } };

describe('reminder rules (pure)', () => {
  const policy = ReminderPolicySchema.parse({});

  it('defaults: 危険 only, every 600 s; acknowledged or lower alerts are not reminded; 0 turns it off', () => {
    expect(policy).toMatchObject({ intervalMs: 600_000, minSeverity: 'danger', groups: [] });
    expect(needsReminder(alert(), policy)).toBe(true);
    expect(needsReminder(alert({ severity: 'warning' }), policy)).toBe(false);
    expect(needsReminder(alert({ state: 'acknowledged' }), policy)).toBe(false);
    expect(needsReminder(alert({ state: 'resolved' }), policy)).toBe(false);
    expect(needsReminder(alert(), { ...policy, intervalMs: 0 })).toBe(false);
    expect(nextReminderAt(alert(), { lastNotifiedAt: T0, count: 0 }, policy)).toBe(T0 + 600_000);
    expect(nextReminderAt(alert({ severity: 'warning' }), { lastNotifiedAt: T0, count: 0 }, { ...policy, minSeverity: 'warning' })).toBe(T0 + 600_000);
  });

  it('adds the next group with each reminder, the last group after that', () => {
    const p = ReminderPolicySchema.parse({ groups: ['課長', '危機管理監'] });
    expect([1, 2, 3].map((n) => reminderGroup(n, p))).toEqual(['課長', '危機管理監', '危機管理監']);
    expect(reminderGroups(1, p)).toEqual(['課長']);
    expect(reminderGroups(5, p)).toEqual(['課長', '危機管理監']);
    expect(reminderGroup(1, policy)).toBeUndefined();
  });

  it('marks a reminder in both languages, in the title every channel shows, and in the JSON', () => {
    const n = composeNotice({ event: 'reminded', alert: alert(), sensor, timeZone: 'Asia/Tokyo', reminder: 2 });
    expect(n.text.ja.title).toBe('【再通知】【危険】打田駅前アンダーパス 33 cm');
    expect(n.text.en.title).toBe('[Reminder] [DANGER] Uchita Sta. underpass 33 cm');
    expect(n.text.ja.body.split('\n')[0]).toBe('未確認のため再通知します（2 回目）。');
    expect(n.noticeId).toBe('al_1:reminder:2');
    expect(noticeToJson(n, 'Asia/Tokyo')).toMatchObject({ event: 'reminded', reminder: 2 });
    expect(noticeToJson(composeNotice({ event: 'raised', alert: alert(), sensor, timeZone: 'Asia/Tokyo' }), 'Asia/Tokyo')).not.toHaveProperty('reminder');
  });
});

describe('reminder scheduler (fake timers)', () => {
  beforeEach(() => vi.useFakeTimers({ now: T0 }));
  afterEach(() => vi.useRealTimers());

  function setup(intervalS: number) {
    let current = alert();
    const sent: { n: number; at: number }[] = [];
    const r = createReminders({
      policy: ReminderPolicySchema.parse({ intervalMs: intervalS * 1000 }),
      remind: (_a, n) => sent.push({ n, at: Date.now() - T0 }),
      current: () => current,
    });
    return { r, sent, set: (a: Partial<Alert>) => (current = alert(a)), get current() { return current; } };
  }

  it('re-sends every interval until acknowledged', () => {
    const s = setup(600);
    s.r.onEvent('raised', s.current);
    vi.advanceTimersByTime(599_999);
    expect(s.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(s.sent).toEqual([{ n: 1, at: 600_000 }]);
    vi.advanceTimersByTime(600_000);
    expect(s.sent.map((x) => x.n)).toEqual([1, 2]);
    s.set({ state: 'acknowledged' });
    s.r.onEvent('acknowledged', s.current);
    vi.advanceTimersByTime(3_600_000);
    expect(s.sent.map((x) => x.n)).toEqual([1, 2]);
    s.r.close();
  });

  it('stops when resolved; an escalation starts the clock again; any positive number of seconds works', () => {
    const s = setup(2.5);
    s.set({ severity: 'warning' });
    s.r.onEvent('raised', s.current);
    vi.advanceTimersByTime(10_000);
    expect(s.sent).toEqual([]); // 警戒 is not reminded by default
    vi.advanceTimersByTime(1_000);
    s.set({ severity: 'danger' });
    s.r.onEvent('escalated', s.current);
    vi.advanceTimersByTime(2_499);
    expect(s.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(s.sent).toEqual([{ n: 1, at: 13_500 }]);
    s.set({ state: 'resolved' });
    s.r.onEvent('resolved', s.current);
    vi.advanceTimersByTime(60_000);
    expect(s.sent).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('after a restart, reminds one interval later and numbers on from the reminders already sent', () => {
    const sent: number[] = [];
    const r = createReminders({ policy: ReminderPolicySchema.parse({ intervalMs: 1000 }), remind: (_a, n) => sent.push(n), current: () => alert() });
    r.resume([alert(), alert({ id: 'al_acked', state: 'acknowledged' })], (id) => (id === 'al_1' ? 3 : 0));
    vi.advanceTimersByTime(999);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([4]);
    r.close();
  });

  it('one timer however many alerts are waiting', () => {
    const alerts = new Map<string, Alert>();
    const sent: string[] = [];
    const r = createReminders({ policy: ReminderPolicySchema.parse({ intervalMs: 1000 }), remind: (a) => sent.push(a.id), current: (id) => alerts.get(id) });
    for (let i = 0; i < 100; i++) {
      const a = alert({ id: `al_${i}` });
      alerts.set(a.id, a);
      r.onEvent('raised', a);
      vi.advanceTimersByTime(5);
    }
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(100);
    r.close();
  });
});
