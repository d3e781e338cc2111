import { randomBytes } from 'node:crypto';
import type { Principal, SessionRepository, User } from '../core/auth.ts';
import { hashSecret } from '../storage/secrets.ts';

/**
 * Session lifetimes. OWASP Session Management Cheat Sheet: idle timeouts of
 * 15–30 min for high-value applications, absolute timeouts of 4–8 h for
 * all-day use. Staff watch the console through a whole storm shift, so an
 * idle timeout of 2 h and an absolute one of 12 h (one shift); a password
 * change ends every session of that user at once.
 */
export const SESSION_IDLE_MS = 2 * 3600_000;
export const SESSION_ABSOLUTE_MS = 12 * 3600_000;
/** Writing last_seen_at on every request would make every GET a disk write; once a minute is precise enough for a 2 h timeout. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Server-side sessions, over the SessionRepository port (issue 16). The
 * cookie carries 32 random bytes; only their SHA-256 is stored (a leaked
 * database does not hand out live sessions), the same treatment as API
 * tokens. The user is read fresh on every check, so disabling a user or
 * changing their password ends their sessions at once.
 */
export function createSessionStore(repo: SessionRepository, users: { getById(id: number): User | undefined }, now: () => number = Date.now) {
  return {
    /** Start a session; returns the cookie value (shown once, never stored). */
    create(userId: number, address: string | null): string {
      const id = randomBytes(32).toString('base64url');
      const t = now();
      repo.insert({ idHash: hashSecret(id), userId, createdAt: t, lastSeenAt: t, address });
      return id;
    },
    /** The principal of a live session, or undefined (unknown, expired, user disabled, or password changed since). */
    verify(id: string): Principal | undefined {
      if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
      const h = hashSecret(id);
      const session = repo.find(h);
      if (!session) return undefined;
      const user = users.getById(session.userId);
      const t = now();
      const expired = t - session.lastSeenAt > SESSION_IDLE_MS || t - session.createdAt > SESSION_ABSOLUTE_MS;
      // A session from before the latest password change is dead even if its row survived.
      if (!user || expired || user.disabled || session.createdAt < user.passwordChangedAt) {
        repo.remove(h);
        return undefined;
      }
      if (t - session.lastSeenAt > TOUCH_EVERY_MS) repo.touch(h, t);
      return { userId: user.id, username: user.username, role: user.role, via: 'session' };
    },
    destroy(id: string): void {
      repo.remove(hashSecret(id));
    },
    destroyAllFor(userId: number): number {
      return repo.removeAllFor(userId);
    },
    /** Drop expired rows (called now and then; verify() already refuses them). */
    sweep(): number {
      const t = now();
      return repo.removeExpired(t - SESSION_IDLE_MS, t - SESSION_ABSOLUTE_MS);
    },
  };
}
export type SessionStore = ReturnType<typeof createSessionStore>;
