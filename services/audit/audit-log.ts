import type { Context, MiddlewareHandler } from 'hono';
import { redactSecrets, type AuditAction, type AuditEntry } from '../core/audit.ts';
import type { Principal } from '../core/auth.ts';
import type { AuthEnv } from '../auth/middleware.ts';
import { migrate, type SqliteDatabase } from '../storage/sqlite.ts';

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

export interface AuditRecord {
  actor: Pick<Principal, 'userId' | 'username'> | 'cli';
  action: AuditAction;
  targetType: AuditEntry['targetType'];
  targetId: string;
  before?: unknown;
  after?: unknown;
  address?: string | null;
}

/**
 * Append-only audit log of every change (issue 5: who, what, when,
 * before/after) in kansui.db. Secrets are stripped before writing
 * (services/core/audit.ts). No route updates or deletes rows.
 */
export function createAuditLog(db: SqliteDatabase, now: () => number = Date.now) {
  migrate(db, 'audit', MIGRATIONS);
  const insert = db.prepare(
    'INSERT INTO audit_log (at, actor_user_id, actor, action, target_type, target_id, before, after, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(redactSecrets(v)));
  const detailed = new WeakSet<Request>();
  function record(r: AuditRecord): void {
    const actor = r.actor === 'cli' ? { userId: null, username: 'cli' } : r.actor;
    insert.run(now(), actor.userId, actor.username, r.action, r.targetType, r.targetId, json(r.before), json(r.after), r.address ?? null);
  }
  return {
    record,
    /** Record a detailed entry for this HTTP request (so `auditWrites` does not add a generic one). */
    recordFor(request: Request, r: AuditRecord): void {
      detailed.add(request);
      record(r);
    },
    /**
     * Middleware: every successful state-changing request by a signed-in
     * caller that its route did not record in detail gets a generic
     * `http.write` entry, so routes of other modules are audited too.
     */
    auditWrites(address: (c: Context<AuthEnv>) => string): MiddlewareHandler<AuthEnv> {
      return async (c, next) => {
        await next();
        if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return;
        const principal = c.get('principal');
        if (!principal || c.res.status >= 400 || detailed.has(c.req.raw)) return;
        record({ actor: principal, action: 'http.write', targetType: 'route', targetId: `${c.req.method} ${c.req.path}`, after: { status: c.res.status }, address: address(c) });
      };
    },
    /** Newest first; `before` pages by id. */
    list(q: { limit: number; before?: number | undefined; target?: string | undefined }): AuditEntry[] {
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
export type AuditLog = ReturnType<typeof createAuditLog>;
