import type { LineLang, LineSubscription, LineSubscriptionRepository } from '../core/line-conversation.ts';

/** Default time a webhook event id is remembered: LINE redelivers for a limited time; a day covers it with room. */
export const LINE_EVENT_KEEP_MS = 24 * 60 * 60 * 1000;

/** In-memory LineSubscriptionRepository (tests, and a service run without a data folder). */
export function createMemoryLineSubscriptions(): LineSubscriptionRepository {
  const users = new Map<string, LineLang>();
  /** userId → sensorId → subscription */
  const subs = new Map<string, Map<string, LineSubscription>>();
  const events = new Map<string, number>();
  const settings = new Map<string, string>();
  return {
    saveUser(userId, lang) {
      users.set(userId, lang);
    },
    langOf: (userId) => users.get(userId),
    subscribe(sub) {
      if (!users.has(sub.userId)) users.set(sub.userId, 'ja');
      let m = subs.get(sub.userId);
      if (!m) subs.set(sub.userId, (m = new Map()));
      m.set(sub.sensorId, { ...sub });
    },
    unsubscribe(userId, sensorId) {
      return subs.get(userId)?.delete(sensorId) ?? false;
    },
    unsubscribeAll(userId) {
      const n = subs.get(userId)?.size ?? 0;
      subs.delete(userId);
      return n;
    },
    subscriptionsOf(userId) {
      return [...(subs.get(userId)?.values() ?? [])].map((s) => ({ ...s })).sort((a, b) => a.sensorId.localeCompare(b.sensorId));
    },
    subscribersOf(sensorId) {
      const out = [];
      for (const [userId, m] of subs) {
        const s = m.get(sensorId);
        if (s) out.push({ userId, minLevel: s.minLevel, lang: users.get(userId) ?? 'ja' });
      }
      return out.sort((a, b) => a.userId.localeCompare(b.userId));
    },
    forgetUser(userId) {
      users.delete(userId);
      subs.delete(userId);
    },
    claimEvent(id, now, keepMs = LINE_EVENT_KEEP_MS) {
      for (const [k, at] of events) if (at < now - keepMs) events.delete(k);
      if (events.has(id)) return false;
      events.set(id, now);
      return true;
    },
    getSetting: (key) => settings.get(key),
    putSetting(key, value) {
      settings.set(key, value);
    },
    popularSensors(limit) {
      const n = new Map<string, number>();
      for (const m of subs.values()) for (const id of m.keys()) n.set(id, (n.get(id) ?? 0) + 1);
      return [...n]
        .map(([sensorId, subscribers]) => ({ sensorId, subscribers }))
        .sort((a, b) => b.subscribers - a.subscribers || a.sensorId.localeCompare(b.sensorId))
        .slice(0, limit);
    },
    counts() {
      let n = 0;
      for (const m of subs.values()) n += m.size;
      return { users: users.size, subscriptions: n };
    },
  };
}
