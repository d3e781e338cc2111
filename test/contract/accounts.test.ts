import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS, createSessionStore } from '../../services/auth/session-store.ts';
import { createUserStore } from '../../services/auth/user-store.ts';
import { createMemoryAccounts } from '../../services/storage/memory-accounts.ts';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteSessions, createSqliteUsers } from '../../services/storage/sqlite-accounts.ts';
import type { SqliteDatabase } from '../../services/storage/sqlite.ts';
import { describeAccountsContract } from './accounts.contract.ts';

describeAccountsContract({ name: 'memory', open: () => ({ ...createMemoryAccounts(), close: () => {} }) });

describeAccountsContract({
  name: 'sqlite',
  open: () => {
    const dir = mkdtempSync(join(tmpdir(), 'kansui-accounts-'));
    const dbs: SqliteDatabase[] = [];
    const open = () => {
      const db = openMetadataDatabase(dir);
      dbs.push(db);
      return { users: createSqliteUsers(db), sessions: createSqliteSessions(db) };
    };
    return {
      ...open(),
      reopen: open,
      close: () => {
        for (const db of dbs) db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

// The rules of sessions and tokens, now testable without a database (issue 16).
describe('sessions and tokens over the memory adapters', () => {
  function setup() {
    let t = 1_000_000;
    const now = () => t;
    const repos = createMemoryAccounts();
    const users = createUserStore(repos.users, now);
    const sessions = createSessionStore(repos.sessions, users, now);
    const sato = users.create('sato', 'technician', 'scrypt:x');
    return { users, sessions, sato, advance: (ms: number) => (t += ms) };
  }

  it('a session lives until idle or too old, and dies with a password change or when the user is disabled', () => {
    const { users, sessions, sato, advance } = setup();
    const id = sessions.create(sato.id, null);
    expect(sessions.verify(id)).toEqual({ userId: sato.id, username: 'sato', role: 'technician', via: 'session' });
    advance(SESSION_IDLE_MS + 1);
    expect(sessions.verify(id)).toBeUndefined();

    const old = sessions.create(sato.id, null);
    // Kept busy (never idle) for 12 h less 6 ms, then 7 ms more: past the absolute limit.
    for (let i = 0; i < 6; i++) (advance(SESSION_IDLE_MS - 1), expect(sessions.verify(old)).toBeDefined());
    advance(SESSION_ABSOLUTE_MS - 6 * (SESSION_IDLE_MS - 1) + 1);
    expect(sessions.verify(old)).toBeUndefined();

    const a = sessions.create(sato.id, null);
    advance(1);
    users.setPassword(sato.id, 'scrypt:new');
    expect(sessions.verify(a)).toBeUndefined();

    advance(1);
    const b = sessions.create(sato.id, null);
    users.setDisabled(sato.id, true);
    expect(sessions.verify(b)).toBeUndefined();
    expect(sessions.verify('not-a-session')).toBeUndefined();
  });

  it('a token is shown once, stands for its user until revoked, and records when it was last used', () => {
    const { users, sato, advance } = setup();
    const { id, token } = users.issueToken(sato.id, 'ci');
    expect(token).toMatch(/^ksu_[A-Za-z0-9_-]{43}$/);
    advance(5);
    expect(users.verifyToken(token)).toEqual({ userId: sato.id, username: 'sato', role: 'technician', via: 'token' });
    expect(users.listTokens(sato.id)[0]).toMatchObject({ id, name: 'ci', lastUsedAt: 1_000_005, revokedAt: null });
    expect(users.verifyToken(token.replace('ksu_', 'xyz_'))).toBeUndefined();
    expect(users.revokeToken(id)).toBe(true);
    expect(users.verifyToken(token)).toBeUndefined();
  });
});
