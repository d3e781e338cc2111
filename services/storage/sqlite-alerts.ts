import Database from 'better-sqlite3';
import type { Alert, AlertEventType, AlertKind, ResolveReason } from '../core/alerts/alert.ts';
import type { ChannelKind } from '../core/alerts/channel.ts';
import type { AlertSettings, AlertSeverity } from '../core/alerts/policy.ts';
import type { AlertEventRow, AlertRepository, DeliveryLogEntry } from '../core/alerts/repository.ts';
import { createError } from '../core/errors.ts';
import { migrate, type SqliteDatabase } from './sqlite.ts';

/**
 * The alerts module's own connection to the metadata database, with
 * `synchronous = NORMAL`: in WAL mode a commit then survives a process crash
 * but not a power cut (SQLite docs, "PRAGMA synchronous"). Measured here, a
 * FULL commit blocks the event loop for ~4 ms (p99 35 ms on this disk), which
 * is what 300 alerts raised during a storm would cost everything else in the
 * process; NORMAL costs ~0.02 ms. An alert lost to a power cut is raised again
 * by the next reading (the engine restarts from the stored active alerts).
 */
export function openAlertsConnection(shared: SqliteDatabase): SqliteDatabase {
  if (shared.memory) return shared;
  const db = new Database(shared.name);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * Migrations of the alerts module (name `alerts` in schema_migrations). The
 * partial unique index makes "one active alert per sensor and kind" a
 * database rule, not only a code path.
 */
const ALERT_MIGRATIONS = [
  `CREATE TABLE alerts (
     id TEXT PRIMARY KEY,
     sensor_id TEXT NOT NULL,
     kind TEXT NOT NULL,
     severity TEXT NOT NULL,
     peak_severity TEXT NOT NULL,
     cause TEXT NOT NULL,
     state TEXT NOT NULL,
     rising INTEGER NOT NULL DEFAULT 0,
     level_cm REAL,
     observed_at INTEGER,
     battery_v REAL,
     raised_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     acknowledged_at INTEGER,
     acknowledged_by TEXT,
     ack_note TEXT,
     resolved_at INTEGER,
     resolved_reason TEXT
   );
   CREATE UNIQUE INDEX alerts_one_active ON alerts (sensor_id, kind) WHERE state <> 'resolved';
   CREATE INDEX alerts_raised_at ON alerts (raised_at);
   CREATE TABLE alert_events (
     id INTEGER PRIMARY KEY,
     alert_id TEXT NOT NULL REFERENCES alerts (id),
     type TEXT NOT NULL,
     at INTEGER NOT NULL,
     severity TEXT NOT NULL,
     level_cm REAL,
     actor TEXT,
     note TEXT
   );
   CREATE INDEX alert_events_alert ON alert_events (alert_id);
   CREATE TABLE alert_recipients (
     id TEXT PRIMARY KEY,
     channel TEXT NOT NULL,
     target TEXT NOT NULL,
     subscription TEXT,
     sensors TEXT NOT NULL,
     min_severity TEXT NOT NULL,
     kinds TEXT NOT NULL,
     lang TEXT NOT NULL,
     source TEXT NOT NULL,
     label TEXT,
     secret TEXT,
     unsubscribe_hash TEXT,
     client TEXT,
     created_at INTEGER NOT NULL,
     created_by TEXT
   );
   CREATE UNIQUE INDEX alert_recipients_push ON alert_recipients (target) WHERE channel = 'webpush';
   CREATE UNIQUE INDEX alert_recipients_unsub ON alert_recipients (unsubscribe_hash) WHERE unsubscribe_hash IS NOT NULL;
   CREATE TABLE alert_deliveries (
     id INTEGER PRIMARY KEY,
     notice_id TEXT NOT NULL,
     alert_id TEXT NOT NULL,
     event TEXT NOT NULL,
     recipient_id TEXT NOT NULL,
     channel TEXT NOT NULL,
     target TEXT NOT NULL,
     attempt INTEGER NOT NULL,
     ok INTEGER NOT NULL,
     final INTEGER NOT NULL,
     status INTEGER,
     error TEXT,
     duration_ms REAL NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX alert_deliveries_alert ON alert_deliveries (alert_id);
   CREATE INDEX alert_deliveries_at ON alert_deliveries (at);
   CREATE TABLE alert_settings (
     sensor_id TEXT PRIMARY KEY,
     preset TEXT NOT NULL,
     standby_cm REAL,
     updated_at INTEGER NOT NULL
   );`,
  // Issue 10: the delivery log keeps a status and an error class, never the remote side's words.
  // Rows written before kept up to 200 characters of an HTTP body after "HTTP nnn: ", an SMTP
  // server's reply, or a network error's text (with the internal address and port it tried).
  `UPDATE alert_deliveries SET error = CASE
       WHEN error GLOB 'HTTP [0-9][0-9][0-9]*' THEN substr(error, 1, 8)
       WHEN channel = 'email' AND status IS NOT NULL THEN 'SMTP ' || status
       WHEN error LIKE '%ECONNREFUSED%' THEN 'connection_refused'
       WHEN error LIKE '%ENOTFOUND%' OR error LIKE '%EAI_AGAIN%' THEN 'dns_failed'
       WHEN error LIKE '%ETIMEDOUT%' OR error LIKE '%aborted%' THEN 'timeout'
       WHEN error LIKE '%ECONNRESET%' OR error LIKE '%socket hang up%' OR error LIKE '%other side closed%' THEN 'connection_reset'
       WHEN error LIKE '%certificate%' OR error LIKE '%TLS%' OR error LIKE '%SSL%' THEN 'tls_error'
       ELSE 'network_error'
     END
   WHERE error IS NOT NULL
     AND error NOT GLOB 'timed out after *'
     AND error NOT IN ('shutting down', 'no webhook secret configured', 'recipient has no push subscription');`,
];

/** Create or upgrade the alerts module's tables (alerts, timelines, recipients, deliveries, settings). */
export function migrateAlerts(db: SqliteDatabase): void {
  migrate(db, 'alerts', ALERT_MIGRATIONS);
}

type Row = Record<string, unknown>;
const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));

function toAlert(r: Row): Alert {
  return {
    id: r.id as string,
    sensorId: r.sensor_id as string,
    kind: r.kind as AlertKind,
    severity: r.severity as AlertSeverity,
    peakSeverity: r.peak_severity as AlertSeverity,
    cause: r.cause as Alert['cause'],
    state: r.state as Alert['state'],
    rising: r.rising === 1,
    levelCm: opt(r.level_cm),
    observedAt: opt(r.observed_at),
    batteryV: opt(r.battery_v),
    raisedAt: r.raised_at as number,
    updatedAt: r.updated_at as number,
    acknowledgedAt: opt(r.acknowledged_at),
    acknowledgedBy: opt(r.acknowledged_by),
    ackNote: opt(r.ack_note),
    resolvedAt: opt(r.resolved_at),
    resolvedReason: opt<ResolveReason>(r.resolved_reason),
  };
}

/**
 * Alerts, their timelines, the delivery log and per-sensor alert settings,
 * in the metadata database (DATA_DIR/kansui.db), on the alerts connection
 * (openAlertsConnection).
 *
 * Delivery-log rows are buffered and written in one transaction at most every
 * 200 ms, so a fan-out to 10,000 push subscribers does not commit once per
 * attempt. A crash loses at most those 200 ms of log rows; alerts themselves
 * are written at once.
 */
export function createSqliteAlerts(db: SqliteDatabase): AlertRepository {
  migrateAlerts(db);
  const cols =
    'id, sensor_id, kind, severity, peak_severity, cause, state, rising, level_cm, observed_at, battery_v, raised_at, updated_at, acknowledged_at, acknowledged_by, ack_note, resolved_at, resolved_reason';
  const params = (a: Alert) => [
    a.id, a.sensorId, a.kind, a.severity, a.peakSeverity, a.cause, a.state, a.rising ? 1 : 0,
    a.levelCm ?? null, a.observedAt ?? null, a.batteryV ?? null, a.raisedAt, a.updatedAt,
    a.acknowledgedAt ?? null, a.acknowledgedBy ?? null, a.ackNote ?? null, a.resolvedAt ?? null, a.resolvedReason ?? null,
  ];
  const insertAlert = db.prepare(`INSERT INTO alerts (${cols}) VALUES (${cols.split(',').map(() => '?').join(', ')})`);
  const updateAlert = db.prepare(
    `UPDATE alerts SET ${cols.split(', ').slice(1).map((c) => `${c} = ?`).join(', ')} WHERE id = ?`,
  );
  const insertEvent = db.prepare('INSERT INTO alert_events (alert_id, type, at, severity, level_cm, actor, note) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const insertDelivery = db.prepare(
    'INSERT INTO alert_deliveries (notice_id, alert_id, event, recipient_id, channel, target, attempt, ok, final, status, error, duration_ms, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );

  let pending: DeliveryLogEntry[] = [];
  let flushScheduled = false;
  let closed = false;
  const writeDeliveries = db.transaction((rows: DeliveryLogEntry[]) => {
    for (const d of rows) {
      insertDelivery.run(d.noticeId, d.alertId, d.event, d.recipientId, d.channel, d.target, d.attempt, d.ok ? 1 : 0, d.final ? 1 : 0, d.status ?? null, d.error ?? null, d.durationMs, d.at);
    }
  });
  function flushDeliveries(): void {
    flushScheduled = false;
    if (!pending.length || closed) return;
    const rows = pending;
    pending = [];
    writeDeliveries(rows);
  }

  const insertWithEvent = db.transaction((alert: Alert, event: AlertEventRow) => {
    insertAlert.run(...params(alert));
    insertEvent.run(alert.id, event.type, event.at, event.severity, event.levelCm ?? null, event.actor ?? null, event.note ?? null);
  });

  return {
    /** Write a new alert and its first timeline event atomically. */
    insert(alert, event) {
      try {
        insertWithEvent(alert, event);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw createError('conflict', `alert ${alert.id}: the id is taken or ${alert.sensorId} already has an unresolved ${alert.kind} alert`);
        }
        throw err;
      }
    },
    /** Save a changed alert and the timeline event that changed it atomically. */
    update: db.transaction((alert: Alert, event: AlertEventRow | undefined) => {
      updateAlert.run(...params(alert).slice(1), alert.id);
      if (event) insertEvent.run(alert.id, event.type, event.at, event.severity, event.levelCm ?? null, event.actor ?? null, event.note ?? null);
    }),
    get(id) {
      const r = db.prepare(`SELECT ${cols} FROM alerts WHERE id = ?`).get(id) as Row | undefined;
      return r ? toAlert(r) : undefined;
    },
    active() {
      return (db.prepare(`SELECT ${cols} FROM alerts WHERE state <> 'resolved' ORDER BY raised_at, id`).all() as Row[]).map(toAlert);
    },
    /** History: alerts overlapping [from, to] (raised before `to`, not resolved before `from`), newest first. */
    list(q) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.active) where.push("state <> 'resolved'");
      if (q.sensorId) (where.push('sensor_id = ?'), args.push(q.sensorId));
      if (q.to !== undefined) (where.push('raised_at <= ?'), args.push(q.to));
      if (q.from !== undefined) (where.push('(resolved_at IS NULL OR resolved_at >= ?)'), args.push(q.from));
      const sql = `SELECT ${cols} FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY raised_at DESC, id DESC LIMIT ?`;
      return (db.prepare(sql).all(...args, q.limit ?? 500) as Row[]).map(toAlert);
    },
    events(alertId) {
      return (db.prepare('SELECT type, at, severity, level_cm, actor, note FROM alert_events WHERE alert_id = ? ORDER BY id').all(alertId) as Row[]).map((r) => ({
        type: r.type as AlertEventType,
        at: r.at as number,
        severity: r.severity as AlertSeverity,
        levelCm: opt(r.level_cm),
        actor: opt(r.actor),
        note: opt(r.note),
      }));
    },

    logDelivery(entry) {
      if (closed) return; // an attempt aborted by shutdown, after the final flush
      pending.push(entry);
      if (!flushScheduled) {
        flushScheduled = true;
        setTimeout(flushDeliveries, 200).unref();
      }
    },
    flushDeliveries,
    /** Write what is buffered and stop logging (shutdown). */
    close() {
      flushDeliveries();
      closed = true;
    },
    deliveries(q) {
      flushDeliveries();
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.alertId) (where.push('alert_id = ?'), args.push(q.alertId));
      if (q.failedOnly) where.push('ok = 0');
      const sql = `SELECT * FROM alert_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
      return (db.prepare(sql).all(...args, q.limit ?? 200) as Row[]).map((r) => ({
        noticeId: r.notice_id as string,
        alertId: r.alert_id as string,
        event: r.event as AlertEventType,
        recipientId: r.recipient_id as string,
        channel: r.channel as ChannelKind,
        target: r.target as string,
        attempt: r.attempt as number,
        ok: r.ok === 1,
        final: r.final === 1,
        status: opt(r.status),
        error: opt(r.error),
        durationMs: r.duration_ms as number,
        at: r.at as number,
      }));
    },

    settings(sensorId) {
      const r = db.prepare('SELECT preset, standby_cm FROM alert_settings WHERE sensor_id = ?').get(sensorId) as Row | undefined;
      if (!r) return undefined;
      return { preset: r.preset as AlertSettings['preset'], ...(r.standby_cm !== null && { standbyCm: r.standby_cm as number }) };
    },
    setSettings(sensorId, s, now) {
      db.prepare(
        'INSERT INTO alert_settings (sensor_id, preset, standby_cm, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(sensor_id) DO UPDATE SET preset = excluded.preset, standby_cm = excluded.standby_cm, updated_at = excluded.updated_at',
      ).run(sensorId, s.preset, s.standbyCm ?? null, now);
    },
  };
}
