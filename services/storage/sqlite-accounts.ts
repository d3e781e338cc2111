import type { ApiTokenInfo, ApiTokenMatch, Role, SessionRepository, SessionRow, User, UserRepository } from '../core/auth.ts';
import { createError } from '../core/errors.ts';
import { migrate, type SqliteDatabase } from './sqlite.ts';

const USER_MIGRATIONS = [
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

const SESSION_MIGRATIONS = [
  `CREATE TABLE sessions (
     id_hash      TEXT PRIMARY KEY,
     user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     created_at   INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     address      TEXT
   );
   CREATE INDEX sessions_user ON sessions(user_id);`,
];

function toUser(r: Record<string, unknown> | undefined): User | undefined {
  return (
    r && {
      id: r.id as number,
      username: r.username as string,
      role: r.role as Role,
      passwordHash: (r.password_hash as string | null) ?? null,
      passwordChangedAt: r.password_changed_at as number,
      disabled: r.disabled === 1,
      createdAt: r.created_at as number,
    }
  );
}

/** Users and personal API tokens in the metadata database (DATA_DIR/kansui.db). */
export function createSqliteUsers(db: SqliteDatabase): UserRepository {
  migrate(db, 'users', USER_MIGRATIONS);
  const byName = db.prepare('SELECT * FROM users WHERE username = ?');
  const byId = db.prepare('SELECT * FROM users WHERE id = ?');
  const all = db.prepare('SELECT * FROM users ORDER BY username');
  const insertUser = db.prepare('INSERT INTO users (username, role, password_hash, password_changed_at, created_at) VALUES (?, ?, ?, ?, ?)');
  const insertToken = db.prepare('INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)');
  const tokensOf = db.prepare('SELECT id, name, created_at AS createdAt, last_used_at AS lastUsedAt, revoked_at AS revokedAt FROM api_tokens WHERE user_id = ? ORDER BY id');
  const tokenByHash = db.prepare(
    `SELECT t.id AS tokenId, t.token_hash AS tokenHash, u.id AS userId, u.username, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.disabled = 0`,
  );
  return {
    create({ username, role, passwordHash, at }) {
      try {
        const { lastInsertRowid } = insertUser.run(username, role, passwordHash, at, at);
        return toUser(byId.get(lastInsertRowid) as Record<string, unknown>) as User;
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw createError('conflict', `user ${username} exists`);
        throw err;
      }
    },
    get: (username) => toUser(byName.get(username) as Record<string, unknown> | undefined),
    getById: (id) => toUser(byId.get(id) as Record<string, unknown> | undefined),
    list: () => (all.all() as Record<string, unknown>[]).map((r) => toUser(r) as User),
    setPassword(userId, passwordHash, at) {
      db.prepare('UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?').run(passwordHash, at, userId);
    },
    setRole(userId, role) {
      db.prepare('UPDATE users SET role = ? WHERE id = ?').run(role, userId);
    },
    setDisabled(userId, disabled) {
      db.prepare('UPDATE users SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, userId);
    },
    addToken({ userId, name, tokenHash, at }) {
      return Number(insertToken.run(userId, name, tokenHash, at).lastInsertRowid);
    },
    revokeToken(tokenId, at) {
      return db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, tokenId).changes > 0;
    },
    listTokens: (userId) => tokensOf.all(userId) as ApiTokenInfo[],
    findToken: (tokenHash) => tokenByHash.get(tokenHash) as ApiTokenMatch | undefined,
    touchToken(tokenId, at) {
      db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(at, tokenId);
    },
  };
}

/** Server-side sessions in the metadata database; needs the users table (createSqliteUsers migrates it). */
export function createSqliteSessions(db: SqliteDatabase): SessionRepository {
  migrate(db, 'users', USER_MIGRATIONS);
  migrate(db, 'sessions', SESSION_MIGRATIONS);
  const insert = db.prepare('INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, address) VALUES (?, ?, ?, ?, ?)');
  const select = db.prepare('SELECT id_hash AS idHash, user_id AS userId, created_at AS createdAt, last_seen_at AS lastSeenAt, address FROM sessions WHERE id_hash = ?');
  const remove = db.prepare('DELETE FROM sessions WHERE id_hash = ?');
  const touch = db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?');
  return {
    insert: (s) => void insert.run(s.idHash, s.userId, s.createdAt, s.lastSeenAt, s.address),
    find: (idHash) => select.get(idHash) as SessionRow | undefined,
    touch: (idHash, at) => void touch.run(at, idHash),
    remove: (idHash) => void remove.run(idHash),
    removeAllFor: (userId) => db.prepare('DELETE FROM sessions WHERE user_id = ?').run(userId).changes,
    removeExpired: (idleBefore, createdBefore) => db.prepare('DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?').run(idleBefore, createdBefore).changes,
  };
}
