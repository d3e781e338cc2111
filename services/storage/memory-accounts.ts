import type { ApiTokenInfo, SessionRepository, SessionRow, User, UserRepository } from '../core/auth.ts';
import { createError } from '../core/errors.ts';

/**
 * Users, API tokens and sessions in memory (tests), passing the same
 * contract as the SQLite adapters (test/contract/accounts.contract.ts).
 * Sessions need the users (the SQLite sessions table references users).
 */
export function createMemoryAccounts(): { users: UserRepository; sessions: SessionRepository } {
  const users = new Map<number, User>();
  const tokens = new Map<number, ApiTokenInfo & { userId: number; tokenHash: string }>();
  const sessions = new Map<string, SessionRow>();
  let nextUser = 1;
  let nextToken = 1;
  const update = (id: number, patch: Partial<User>) => {
    const u = users.get(id);
    if (u) users.set(id, { ...u, ...patch });
  };
  const copy = <T extends object>(v: T | undefined): T | undefined => (v ? { ...v } : undefined);
  return {
    users: {
      create({ username, role, passwordHash, at }) {
        if ([...users.values()].some((u) => u.username === username)) throw createError('conflict', `user ${username} exists`);
        const user: User = { id: nextUser++, username, role, passwordHash, passwordChangedAt: at, disabled: false, createdAt: at };
        users.set(user.id, user);
        return { ...user };
      },
      get: (username) => copy([...users.values()].find((u) => u.username === username)),
      getById: (id) => copy(users.get(id)),
      list: () => [...users.values()].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0)).map((u) => ({ ...u })),
      setPassword: (userId, passwordHash, at) => update(userId, { passwordHash, passwordChangedAt: at }),
      setRole: (userId, role) => update(userId, { role }),
      setDisabled: (userId, disabled) => update(userId, { disabled }),
      addToken({ userId, name, tokenHash, at }) {
        if (!users.has(userId)) throw new Error(`FOREIGN KEY: no user ${userId}`);
        if ([...tokens.values()].some((t) => t.tokenHash === tokenHash)) throw new Error('UNIQUE: token hash');
        const id = nextToken++;
        tokens.set(id, { id, userId, name, tokenHash, createdAt: at, lastUsedAt: null, revokedAt: null });
        return id;
      },
      revokeToken(tokenId, at) {
        const t = tokens.get(tokenId);
        if (!t || t.revokedAt !== null) return false;
        t.revokedAt = at;
        return true;
      },
      listTokens: (userId) =>
        [...tokens.values()].filter((t) => t.userId === userId).map(({ id, name, createdAt, lastUsedAt, revokedAt }) => ({ id, name, createdAt, lastUsedAt, revokedAt })),
      findToken(tokenHash) {
        const t = [...tokens.values()].find((x) => x.tokenHash === tokenHash && x.revokedAt === null);
        const u = t && users.get(t.userId);
        return t && u && !u.disabled ? { tokenId: t.id, tokenHash: t.tokenHash, userId: u.id, username: u.username, role: u.role } : undefined;
      },
      touchToken(tokenId, at) {
        const t = tokens.get(tokenId);
        if (t) t.lastUsedAt = at;
      },
    },
    sessions: {
      insert(s) {
        if (!users.has(s.userId)) throw new Error(`FOREIGN KEY: no user ${s.userId}`);
        if (sessions.has(s.idHash)) throw new Error('UNIQUE: session id');
        sessions.set(s.idHash, { ...s });
      },
      find: (idHash) => copy(sessions.get(idHash)),
      touch(idHash, at) {
        const s = sessions.get(idHash);
        if (s) s.lastSeenAt = at;
      },
      remove: (idHash) => void sessions.delete(idHash),
      removeAllFor(userId) {
        let n = 0;
        for (const [k, s] of sessions) if (s.userId === userId) (sessions.delete(k), n++);
        return n;
      },
      removeExpired(idleBefore, createdBefore) {
        let n = 0;
        for (const [k, s] of sessions) if (s.lastSeenAt < idleBefore || s.createdAt < createdBefore) (sessions.delete(k), n++);
        return n;
      },
    },
  };
}
