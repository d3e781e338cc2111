import type { ChannelKind, PushSubscriptionJson, Recipient } from '../core/alerts/channel.ts';
import type { AlertKind } from '../core/alerts/alert.ts';
import type { AlertSeverity } from '../core/alerts/policy.ts';
import type { RecipientRepository } from '../core/alerts/repository.ts';
import { createError } from '../core/errors.ts';
import { migrateAlerts } from './sqlite-alerts.ts';
import type { SqliteDatabase } from './sqlite.ts';

type Row = Record<string, unknown>;

function toRecipient(r: Row): Recipient {
  return {
    id: r.id as string,
    channel: r.channel as ChannelKind,
    target: r.target as string,
    ...(r.subscription ? { subscription: JSON.parse(r.subscription as string) as PushSubscriptionJson } : {}),
    sensors: JSON.parse(r.sensors as string) as string[],
    minSeverity: r.min_severity as AlertSeverity,
    kinds: JSON.parse(r.kinds as string) as AlertKind[],
    lang: r.lang as 'ja' | 'en',
    source: r.source as Recipient['source'],
    ...(r.label ? { label: r.label as string } : {}),
    ...(r.secret ? { secret: r.secret as string } : {}),
  };
}

/**
 * Stored alert recipients (staff-added, residents' push subscriptions) in the
 * alerts module's table of the metadata database.
 */
export function createSqliteRecipients(db: SqliteDatabase): RecipientRepository {
  migrateAlerts(db);
  const insert = db.prepare(
    'INSERT INTO alert_recipients (id, channel, target, subscription, sensors, min_severity, kinds, lang, source, label, secret, unsubscribe_hash, client, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  return {
    list: () => (db.prepare('SELECT * FROM alert_recipients ORDER BY created_at, id').all() as Row[]).map(toRecipient),
    add(r, extra) {
      try {
        insert.run(
          r.id, r.channel, r.target, r.subscription ? JSON.stringify(r.subscription) : null, JSON.stringify(r.sensors), r.minSeverity,
          JSON.stringify(r.kinds), r.lang, r.source, r.label ?? null, r.secret ?? null, extra.unsubscribeHash ?? null, extra.client ?? null, extra.now, extra.createdBy ?? null,
        );
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') throw createError('conflict', `recipient ${r.id}: id, push endpoint or unsubscribe token already stored`);
        throw err;
      }
    },
    remove: (id) => db.prepare('DELETE FROM alert_recipients WHERE id = ?').run(id).changes > 0,
    findPush(by) {
      const r = by.endpoint
        ? (db.prepare("SELECT * FROM alert_recipients WHERE channel = 'webpush' AND target = ?").get(by.endpoint) as Row | undefined)
        : (db.prepare('SELECT * FROM alert_recipients WHERE unsubscribe_hash = ?').get(by.unsubscribeHash ?? '') as Row | undefined);
      return r ? toRecipient(r) : undefined;
    },
  };
}
