import type { Context, MiddlewareHandler } from 'hono';
import { redactSecrets, type AuditEntry, type AuditQuery, type AuditRecord, type AuditRepository } from '../core/audit.ts';
import type { AuthEnv } from '../auth/middleware.ts';

export type { AuditRecord };

/**
 * Append-only audit log of every change (issue 5: who, what, when,
 * before/after), kept behind the AuditRepository port (issue 16). Secrets
 * are stripped before anything reaches the repository
 * (services/core/audit.ts). No route updates or deletes entries.
 */
export function createAuditLog(repo: AuditRepository, now: () => number = Date.now) {
  const detailed = new WeakSet<Request>();
  const redacted = (v: unknown) => (v === undefined ? null : redactSecrets(v));
  function record(r: AuditRecord): void {
    const actor = r.actor === 'cli' ? { userId: null, username: 'cli' } : r.actor;
    repo.append({ at: now(), actorUserId: actor.userId, actor: actor.username, action: r.action, targetType: r.targetType, targetId: r.targetId, before: redacted(r.before), after: redacted(r.after), address: r.address ?? null });
  }
  return {
    record,
    /** Record a detailed entry for this HTTP request (so `auditWrites` does not add a generic one). */
    recordFor(request: Request, r: AuditRecord): void {
      detailed.add(request);
      record(r);
    },
    /**
     * Data coming in, not a person changing something: a network server's
     * webhook posts every uplink with its token (issue 11), which would bury
     * the people's entries under thousands of rows a day. Counted in
     * /metrics instead.
     */
    notAudited(request: Request): void {
      detailed.add(request);
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
    list(q: AuditQuery): AuditEntry[] {
      return repo.list(q);
    },
  };
}
export type AuditLog = ReturnType<typeof createAuditLog>;
