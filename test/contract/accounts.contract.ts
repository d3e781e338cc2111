import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionRepository, UserRepository } from '../../services/core/auth.ts';
import { DomainError } from '../../services/core/errors.ts';

export interface Accounts {
  users: UserRepository;
  sessions: SessionRepository;
}
export interface OpenedAccounts extends Accounts {
  /** The same data through a new connection (durable adapters only). */
  reopen?: () => Accounts;
  close: () => void;
}

/** One contract for every UserRepository + SessionRepository adapter (issue 16). */
export function describeAccountsContract(h: { name: string; open: () => OpenedAccounts }) {
  describe(`UserRepository and SessionRepository contract: ${h.name}`, () => {
    let opened: OpenedAccounts;
    let users: UserRepository;
    let sessions: SessionRepository;
    beforeEach(() => {
      opened = h.open();
      ({ users, sessions } = opened);
    });
    afterEach(() => opened.close());

    it('creates users, finds them by name and id, lists by username; a taken name is a conflict', () => {
      const sato = users.create({ username: 'sato', role: 'admin', passwordHash: 'scrypt:x', at: 1_000 });
      const abe = users.create({ username: 'abe', role: 'staff', passwordHash: null, at: 2_000 });
      expect(sato).toEqual({ id: sato.id, username: 'sato', role: 'admin', passwordHash: 'scrypt:x', passwordChangedAt: 1_000, disabled: false, createdAt: 1_000 });
      expect(abe.id).not.toBe(sato.id);
      expect(users.get('sato')).toEqual(sato);
      expect(users.getById(abe.id)).toEqual(abe);
      expect(users.get('nobody')).toBeUndefined();
      expect(users.getById(9999)).toBeUndefined();
      expect(users.list().map((u) => u.username)).toEqual(['abe', 'sato']);
      let err: unknown;
      try {
        users.create({ username: 'sato', role: 'staff', passwordHash: null, at: 3_000 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).code).toBe('conflict');
      expect(users.get('sato')?.role).toBe('admin');
    });

    it('sets password (and when), role and disabled', () => {
      const u = users.create({ username: 'sato', role: 'staff', passwordHash: null, at: 1_000 });
      users.setPassword(u.id, 'scrypt:new', 5_000);
      users.setRole(u.id, 'technician');
      users.setDisabled(u.id, true);
      expect(users.getById(u.id)).toEqual({ ...u, passwordHash: 'scrypt:new', passwordChangedAt: 5_000, role: 'technician', disabled: true });
      users.setDisabled(u.id, false);
      expect(users.get('sato')?.disabled).toBe(false);
    });

    it('keeps tokens by hash: finds a live one with its user, lists, touches and revokes once', () => {
      const u = users.create({ username: 'sato', role: 'technician', passwordHash: null, at: 1_000 });
      const t1 = users.addToken({ userId: u.id, name: 'ci', tokenHash: 'sha256:1', at: 2_000 });
      const t2 = users.addToken({ userId: u.id, name: 'gis', tokenHash: 'sha256:2', at: 3_000 });
      expect(t2).toBeGreaterThan(t1);
      expect(users.findToken('sha256:1')).toEqual({ tokenId: t1, tokenHash: 'sha256:1', userId: u.id, username: 'sato', role: 'technician' });
      expect(users.findToken('sha256:nope')).toBeUndefined();
      users.touchToken(t1, 4_000);
      expect(users.revokeToken(t2, 5_000)).toBe(true);
      expect(users.revokeToken(t2, 6_000)).toBe(false);
      expect(users.revokeToken(9999, 6_000)).toBe(false);
      expect(users.findToken('sha256:2')).toBeUndefined();
      expect(users.listTokens(u.id)).toEqual([
        { id: t1, name: 'ci', createdAt: 2_000, lastUsedAt: 4_000, revokedAt: null },
        { id: t2, name: 'gis', createdAt: 3_000, lastUsedAt: null, revokedAt: 5_000 },
      ]);
      expect(users.listTokens(9999)).toEqual([]);
    });

    it('finds no token of a disabled user, and finds it again when re-enabled', () => {
      const u = users.create({ username: 'sato', role: 'staff', passwordHash: null, at: 1_000 });
      users.addToken({ userId: u.id, name: 'x', tokenHash: 'sha256:x', at: 1_000 });
      users.setDisabled(u.id, true);
      expect(users.findToken('sha256:x')).toBeUndefined();
      users.setDisabled(u.id, false);
      expect(users.findToken('sha256:x')?.userId).toBe(u.id);
    });

    it('a user changed through the repository is not changed in an object read before', () => {
      const u = users.create({ username: 'sato', role: 'staff', passwordHash: null, at: 1_000 });
      const before = users.getById(u.id);
      users.setRole(u.id, 'admin');
      expect(before?.role).toBe('staff');
    });

    it('keeps sessions by id hash: find, touch, remove one, all of a user, and the expired', () => {
      const a = users.create({ username: 'a1', role: 'staff', passwordHash: null, at: 0 });
      const b = users.create({ username: 'b1', role: 'staff', passwordHash: null, at: 0 });
      sessions.insert({ idHash: 'h1', userId: a.id, createdAt: 1_000, lastSeenAt: 1_000, address: '192.0.2.1' });
      sessions.insert({ idHash: 'h2', userId: a.id, createdAt: 2_000, lastSeenAt: 2_000, address: null });
      sessions.insert({ idHash: 'h3', userId: b.id, createdAt: 3_000, lastSeenAt: 3_000, address: null });
      expect(sessions.find('h1')).toEqual({ idHash: 'h1', userId: a.id, createdAt: 1_000, lastSeenAt: 1_000, address: '192.0.2.1' });
      expect(sessions.find('nope')).toBeUndefined();
      sessions.touch('h1', 9_000);
      expect(sessions.find('h1')?.lastSeenAt).toBe(9_000);
      sessions.remove('h1');
      expect(sessions.find('h1')).toBeUndefined();
      expect(sessions.removeAllFor(a.id)).toBe(1);
      expect(sessions.find('h2')).toBeUndefined();
      expect(sessions.find('h3')).toBeDefined();
      sessions.insert({ idHash: 'h4', userId: b.id, createdAt: 500, lastSeenAt: 8_000, address: null });
      sessions.insert({ idHash: 'h5', userId: b.id, createdAt: 5_000, lastSeenAt: 8_000, address: null });
      // h3 idle (seen before 4000), h4 too old (created before 1000), h5 live.
      expect(sessions.removeExpired(4_000, 1_000)).toBe(2);
      expect(sessions.find('h5')).toBeDefined();
      expect(sessions.find('h3')).toBeUndefined();
      expect(sessions.find('h4')).toBeUndefined();
    });

    it('refuses a session for a user who does not exist', () => {
      expect(() => sessions.insert({ idHash: 'h', userId: 4242, createdAt: 0, lastSeenAt: 0, address: null })).toThrow();
    });

    it('keeps users, tokens and sessions for a new connection', (ctx) => {
      if (!opened.reopen) return ctx.skip();
      const u = users.create({ username: 'sato', role: 'admin', passwordHash: 'scrypt:x', at: 1_000 });
      const t = users.addToken({ userId: u.id, name: 'ci', tokenHash: 'sha256:1', at: 2_000 });
      sessions.insert({ idHash: 'h1', userId: u.id, createdAt: 1_000, lastSeenAt: 1_000, address: null });
      const again = opened.reopen();
      expect(again.users.get('sato')).toEqual(u);
      expect(again.users.findToken('sha256:1')?.tokenId).toBe(t);
      expect(again.sessions.find('h1')?.userId).toBe(u.id);
    });
  });
}
