import { randomBytes } from 'node:crypto';
import type { Principal, Role } from '../core/auth.ts';
import { createError } from '../core/errors.ts';
import { hashSecret, verifySecret } from '../storage/secrets.ts';
import { migrate, type SqliteDatabase } from '../storage/sqlite.ts';

const MIGRATIONS = [
  `CREATE TABLE users (
     id                  INTEGER PRIMARY KEY,
     username            TEXT NOT NULL UNIQUE,
     role                TEXT NOT NULL,
     password_hash       TEXT,
     password_changed_at INTEGER NOT NULL,
     disabled            INTEGER NOT NULL DEFAULT 0,
     created_at          INTEGER NOT NULL
   );
   CREATE TABLE api_tokens (
     id           INTEGER PRIMARY KEY,
     user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     name         TEXT NOT NULL,
     token_hash   TEXT NOT NULL UNIQUE,
     created_at   INTEGER NOT NULL,
     last_used_at INTEGER,
     revoked_at   INTEGER
   );`,
];

export interface User {
  id: number;
  username: string;
  role: Role;
  passwordHash: string | null;
  passwordChangedAt: number;
  disabled: boolean;
  createdAt: number;
}

/** API tokens: `ksu_` + 32 random bytes; stored as a SHA-256 hash (high-entropy, like sensor passwords). */
const TOKEN_PREFIX = 'ksu_';

/**
 * Users and personal API tokens in the metadata database. Password hashing
 * for humans is the caller's (services/auth/passwords.ts); this stores hashes.
 */
export function createUserStore(db: SqliteDatabase, now: () => number = Date.now) {
  migrate(db, 'users', MIGRATIONS);
  const toUser = (r: Record<string, unknown> | undefined): User | undefined =>
    r && {
      id: r.id as number,
      username: r.username as string,
      role: r.role as Role,
      passwordHash: (r.password_hash as string | null) ?? null,
      passwordChangedAt: r.password_changed_at as number,
      disabled: r.disabled === 1,
      createdAt: r.created_at as number,
    };
  const byName = db.prepare('SELECT * FROM users WHERE username = ?');
  const byId = db.prepare('SELECT * FROM users WHERE id = ?');

  return {
    create(username: string, role: Role, passwordHash: string | null): User {
      const t = now();
      try {
        const { lastInsertRowid } = db
          .prepare('INSERT INTO users (username, role, password_hash, password_changed_at, created_at) VALUES (?, ?, ?, ?, ?)')
          .run(username, role, passwordHash, t, t);
        return toUser(byId.get(lastInsertRowid) as Record<string, unknown>) as User;
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw createError('conflict', `user ${username} exists`);
        throw err;
      }
    },
    get: (username: string) => toUser(byName.get(username) as Record<string, unknown> | undefined),
    getById: (id: number) => toUser(byId.get(id) as Record<string, unknown> | undefined),
    list: () => (db.prepare('SELECT * FROM users ORDER BY username').all() as Record<string, unknown>[]).map((r) => toUser(r) as User),
    setPassword(userId: number, passwordHash: string): void {
      db.prepare('UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?').run(passwordHash, now(), userId);
    },
    setRole(userId: number, role: Role): void {
      db.prepare('UPDATE users SET role = ? WHERE id = ?').run(role, userId);
    },
    setDisabled(userId: number, disabled: boolean): void {
      db.prepare('UPDATE users SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, userId);
    },
    /** Issue a personal API token; the token is returned once, only its hash is kept. */
    issueToken(userId: number, name = 'api'): { id: number; token: string } {
      const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
      const { lastInsertRowid } = db
        .prepare('INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)')
        .run(userId, name, hashSecret(token), now());
      return { id: Number(lastInsertRowid), token };
    },
    revokeToken(tokenId: number): boolean {
      return db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now(), tokenId).changes > 0;
    },
    listTokens(userId: number) {
      return db
        .prepare('SELECT id, name, created_at AS createdAt, last_used_at AS lastUsedAt, revoked_at AS revokedAt FROM api_tokens WHERE user_id = ? ORDER BY id')
        .all(userId) as { id: number; name: string; createdAt: number; lastUsedAt: number | null; revokedAt: number | null }[];
    },
    /** The principal a bearer token stands for, or undefined (unknown, revoked, or user disabled). */
    verifyToken(token: string): Principal | undefined {
      if (!token.startsWith(TOKEN_PREFIX)) return undefined;
      const hash = hashSecret(token);
      const row = db
        .prepare(
          `SELECT t.id AS tokenId, t.token_hash AS h, u.id, u.username, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
           WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.disabled = 0`,
        )
        .get(hash) as { tokenId: number; h: string; id: number; username: string; role: Role } | undefined;
      if (!row || !verifySecret(token, row.h)) return undefined;
      db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now(), row.tokenId);
      return { userId: row.id, username: row.username, role: row.role, via: 'token' };
    },
  };
}
export type UserStore = ReturnType<typeof createUserStore>;
