import type { NotificationPrefs, UserNotificationRepository } from '../core/user-notifications.ts';

/** Staff notification preferences in memory (tests); same contract as the SQLite adapter. */
export function createMemoryUserNotifications(): UserNotificationRepository {
  const rows = new Map<string, NotificationPrefs>();
  const copy = (p: NotificationPrefs): NotificationPrefs => JSON.parse(JSON.stringify(p)) as NotificationPrefs;
  return {
    get: (username) => {
      const p = rows.get(username);
      return p && copy(p);
    },
    put: (username, prefs) => void rows.set(username, copy(prefs)),
    all: () => [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([username, prefs]) => ({ username, prefs: copy(prefs) })),
  };
}
