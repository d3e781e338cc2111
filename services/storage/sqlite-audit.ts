import type { AuditAction, AuditEntry, AuditRepository } from '../core/audit.ts';
import { migrate, type SqliteDatabase } from './sqlite.ts';

const MIGRATIONS = [
  `CREATE TABLE audit_log (
     id            INTEGER PRIMARY KEY,
     at            INTEGER NOT NULL,
     actor_user_id INTEGER,
     actor         TEXT NOT NULL,
     action        TEXT NOT NULL,
     target_type   TEXT NOT NULL,
     target_id     TEXT NOT NULL,
     before        TEXT,
     after         TEXT,
     address       TEXT
   );
   CREATE INDEX audit_log_target ON audit_log(target_type, target_id, id);`,
];

/** The audit log in the metadata database (DATA_DIR/kansui.db), append-only. */
export function createSqliteAudit(db: SqliteDatabase): AuditRepository {
  migrate(db, 'audit', MIGRATIONS);
  const insert = db.prepare(
    'INSERT INTO audit_log (at, actor_user_id, actor, action, target_type, target_id, before, after, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
  return {
    append(e) {
      return Number(insert.run(e.at, e.actorUserId, e.actor, e.action, e.targetType, e.targetId, json(e.before), json(e.after), e.address).lastInsertRowid);
    },
    list(q) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (q.before !== undefined) (where.push('id < ?'), args.push(q.before));
      if (q.target !== undefined) (where.push('target_id = ?'), args.push(q.target));
      const rows = db
        .prepare(`SELECT * FROM audit_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`)
        .all(...args, q.limit) as Record<string, unknown>[];
      return rows.map((r) => ({
        id: r.id as number,
        at: r.at as number,
        actorUserId: (r.actor_user_id as number | null) ?? null,
        actor: r.actor as string,
        action: r.action as AuditAction,
        targetType: r.target_type as AuditEntry['targetType'],
        targetId: r.target_id as string,
        before: r.before ? JSON.parse(r.before as string) : null,
        after: r.after ? JSON.parse(r.after as string) : null,
        address: (r.address as string | null) ?? null,
      }));
    },
  };
}
