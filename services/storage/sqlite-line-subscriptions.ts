import type { AlertSeverity } from '../core/alerts/policy.ts';
import type { LineLang, LineSubscriber, LineSubscriptionRepository } from '../core/line-conversation.ts';
import { LINE_EVENT_KEEP_MS } from './memory-line-subscriptions.ts';
import { migrate, type SqliteDatabase } from './sqlite.ts';

/**
 * Residents' LINE subscriptions in the metadata database (kansui.db), on the
 * connection the composition root opened (issue 16: no feature opens its
 * own). Only the LINE user id, language and choices are stored, never the
 * profile (issue 14). A user's subscriptions go with the user (ON DELETE CASCADE).
 */
const MIGRATIONS = [
  `CREATE TABLE line_users (user_id TEXT PRIMARY KEY, lang TEXT NOT NULL CHECK (lang IN ('ja','en')), created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
   CREATE TABLE line_subscriptions (
     user_id TEXT NOT NULL REFERENCES line_users(user_id) ON DELETE CASCADE,
     sensor_id TEXT NOT NULL,
     min_level TEXT NOT NULL CHECK (min_level IN ('caution','warning','danger')),
     created_at INTEGER NOT NULL,
     PRIMARY KEY (user_id, sensor_id)
   ) WITHOUT ROWID;
   CREATE INDEX line_subscriptions_sensor ON line_subscriptions (sensor_id, user_id);
   CREATE TABLE line_webhook_events (event_id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE INDEX line_webhook_events_at ON line_webhook_events (at);`,
  `CREATE TABLE line_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;`,
];

export function createSqliteLineSubscriptions(db: SqliteDatabase): LineSubscriptionRepository {
  migrate(db, 'line', MIGRATIONS);
  const q = {
    saveUser: db.prepare(
      'INSERT INTO line_users (user_id, lang, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at',
    ),
    ensureUser: db.prepare("INSERT OR IGNORE INTO line_users (user_id, lang, created_at, updated_at) VALUES (?, 'ja', ?, ?)"),
    lang: db.prepare('SELECT lang FROM line_users WHERE user_id = ?').pluck(),
    subscribe: db.prepare(
      'INSERT INTO line_subscriptions (user_id, sensor_id, min_level, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(user_id, sensor_id) DO UPDATE SET min_level = excluded.min_level',
    ),
    unsubscribe: db.prepare('DELETE FROM line_subscriptions WHERE user_id = ? AND sensor_id = ?'),
    unsubscribeAll: db.prepare('DELETE FROM line_subscriptions WHERE user_id = ?'),
    of: db.prepare('SELECT sensor_id, min_level FROM line_subscriptions WHERE user_id = ? ORDER BY sensor_id'),
    subscribers: db.prepare(
      'SELECT s.user_id, s.min_level, u.lang FROM line_subscriptions s JOIN line_users u USING (user_id) WHERE s.sensor_id = ? ORDER BY s.user_id',
    ),
    forget: db.prepare('DELETE FROM line_users WHERE user_id = ?'),
    prune: db.prepare('DELETE FROM line_webhook_events WHERE at < ?'),
    claim: db.prepare('INSERT OR IGNORE INTO line_webhook_events (event_id, at) VALUES (?, ?)'),
    users: db.prepare('SELECT count(*) FROM line_users').pluck(),
    getSetting: db.prepare('SELECT value FROM line_settings WHERE key = ?').pluck(),
    putSetting: db.prepare('INSERT INTO line_settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at'),
    popular: db.prepare('SELECT sensor_id, count(*) AS n FROM line_subscriptions GROUP BY sensor_id ORDER BY n DESC, sensor_id LIMIT ?'),
    subs: db.prepare('SELECT count(*) FROM line_subscriptions').pluck(),
  };
  const subscribeTx = db.transaction((userId: string, sensorId: string, level: AlertSeverity, now: number) => {
    q.ensureUser.run(userId, now, now);
    q.subscribe.run(userId, sensorId, level, now);
  });
  const forgetTx = db.transaction((userId: string) => {
    q.unsubscribeAll.run(userId);
    q.forget.run(userId);
  });
  return {
    saveUser(userId, lang, now) {
      q.saveUser.run(userId, lang, now, now);
    },
    langOf: (userId) => q.lang.get(userId) as LineLang | undefined,
    subscribe(sub, now) {
      subscribeTx(sub.userId, sub.sensorId, sub.minLevel, now);
    },
    unsubscribe: (userId, sensorId) => q.unsubscribe.run(userId, sensorId).changes > 0,
    unsubscribeAll: (userId) => q.unsubscribeAll.run(userId).changes,
    subscriptionsOf(userId) {
      return (q.of.all(userId) as { sensor_id: string; min_level: AlertSeverity }[]).map((r) => ({ userId, sensorId: r.sensor_id, minLevel: r.min_level }));
    },
    subscribersOf(sensorId): LineSubscriber[] {
      return (q.subscribers.all(sensorId) as { user_id: string; min_level: AlertSeverity; lang: LineLang }[]).map((r) => ({ userId: r.user_id, minLevel: r.min_level, lang: r.lang }));
    },
    forgetUser(userId) {
      forgetTx(userId);
    },
    claimEvent(id, now, keepMs = LINE_EVENT_KEEP_MS) {
      q.prune.run(now - keepMs);
      return q.claim.run(id, now).changes > 0;
    },
    getSetting: (key) => q.getSetting.get(key) as string | undefined,
    putSetting(key, value, now) {
      q.putSetting.run(key, value, now);
    },
    popularSensors: (limit) => (q.popular.all(limit) as { sensor_id: string; n: number }[]).map((r) => ({ sensorId: r.sensor_id, subscribers: r.n })),
    counts: () => ({ users: q.users.get() as number, subscriptions: q.subs.get() as number }),
  };
}
