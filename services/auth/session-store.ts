import { randomBytes } from 'node:crypto';
import type { Principal, Role } from '../core/auth.ts';
import { hashSecret } from '../storage/secrets.ts';
import { migrate, type SqliteDatabase } from '../storage/sqlite.ts';

const MIGRATIONS = [
  `CREATE TABLE sessions (
     id_hash      TEXT PRIMARY KEY,
     user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     created_at   INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     address      TEXT
   );
   CREATE INDEX sessions_user ON sessions(user_id);`,
];

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
 * Server-side sessions in kansui.db. The cookie carries 32 random bytes; only
 * their SHA-256 is stored (a leaked database does not hand out live sessions),
 * the same treatment as API tokens.
 */
export function createSessionStore(db: SqliteDatabase, now: () => number = Date.now) {
  migrate(db, 'sessions', MIGRATIONS);
  const insert = db.prepare('INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, address) VALUES (?, ?, ?, ?, ?)');
  const select = db.prepare(
    `SELECT s.id_hash, s.created_at, s.last_seen_at, u.id, u.username, u.role, u.disabled, u.password_changed_at
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
  );
  const remove = db.prepare('DELETE FROM sessions WHERE id_hash = ?');
  const touch = db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?');

  return {
    /** Start a session; returns the cookie value (shown once, never stored). */
    create(userId: number, address: string | null): string {
      const id = randomBytes(32).toString('base64url');
      const t = now();
      insert.run(hashSecret(id), userId, t, t, address);
      return id;
    },
    /** The principal of a live session, or undefined (unknown, expired, user disabled, or password changed since). */
    verify(id: string): Principal | undefined {
      if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
      const h = hashSecret(id);
      const row = select.get(h) as
        | { created_at: number; last_seen_at: number; id: number; username: string; role: Role; disabled: number; password_changed_at: number }
        | undefined;
      if (!row) return undefined;
      const t = now();
      const expired = t - row.last_seen_at > SESSION_IDLE_MS || t - row.created_at > SESSION_ABSOLUTE_MS;
      // A session from before the latest password change is dead even if its row survived.
      if (expired || row.disabled === 1 || row.created_at < row.password_changed_at) {
        remove.run(h);
        return undefined;
      }
      if (t - row.last_seen_at > TOUCH_EVERY_MS) touch.run(t, h);
      return { userId: row.id, username: row.username, role: row.role, via: 'session' };
    },
    destroy(id: string): void {
      remove.run(hashSecret(id));
    },
    destroyAllFor(userId: number): number {
      return db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId).changes;
    },
    /** Drop expired rows (called now and then; verify() already refuses them). */
    sweep(): number {
      const t = now();
      return db.prepare('DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?').run(t - SESSION_IDLE_MS, t - SESSION_ABSOLUTE_MS).changes;
    },
  };
}
export type SessionStore = ReturnType<typeof createSessionStore>;
