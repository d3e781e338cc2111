import { NotificationPrefsSchema, type UserNotificationRepository } from '../core/user-notifications.ts';
import { migrate, type SqliteDatabase } from './sqlite.ts';

/** Staff notification preferences (issue 13) in kansui.db, one JSON document per username. */
const MIGRATIONS = [`CREATE TABLE user_notification_prefs (username TEXT PRIMARY KEY, prefs TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;`];

export function createSqliteUserNotifications(db: SqliteDatabase): UserNotificationRepository {
  migrate(db, 'user_notifications', MIGRATIONS);
  const get = db.prepare('SELECT prefs FROM user_notification_prefs WHERE username = ?').pluck();
  const put = db.prepare('INSERT INTO user_notification_prefs (username, prefs, updated_at) VALUES (?, ?, ?) ON CONFLICT(username) DO UPDATE SET prefs = excluded.prefs, updated_at = excluded.updated_at');
  const all = db.prepare('SELECT username, prefs FROM user_notification_prefs ORDER BY username');
  // Parsed on the way out too, so a row from an older version gets today's defaults.
  const parse = (json: string) => NotificationPrefsSchema.parse(JSON.parse(json));
  return {
    get(username) {
      const v = get.get(username) as string | undefined;
      return v === undefined ? undefined : parse(v);
    },
    put(username, prefs, now) {
      put.run(username, JSON.stringify(prefs), now);
    },
    all() {
      return (all.all() as { username: string; prefs: string }[]).map((r) => ({ username: r.username, prefs: parse(r.prefs) }));
    },
  };
}
