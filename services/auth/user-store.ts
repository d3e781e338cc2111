import { randomBytes } from 'node:crypto';
import type { Principal, Role, User, UserRepository } from '../core/auth.ts';
import { hashSecret, verifySecret } from '../storage/secrets.ts';

export type { User } from '../core/auth.ts';

/** API tokens: `ksu_` + 32 random bytes; stored as a SHA-256 hash (high-entropy, like sensor passwords). */
const TOKEN_PREFIX = 'ksu_';

/**
 * Users and personal API tokens, over the UserRepository port (issue 16).
 * Password hashing for humans is the caller's (services/auth/passwords.ts);
 * this issues tokens, keeps only their hashes and verifies them.
 */
export function createUserStore(repo: UserRepository, now: () => number = Date.now) {
  return {
    create: (username: string, role: Role, passwordHash: string | null): User => repo.create({ username, role, passwordHash, at: now() }),
    get: (username: string) => repo.get(username),
    getById: (id: number) => repo.getById(id),
    list: () => repo.list(),
    setPassword(userId: number, passwordHash: string): void {
      repo.setPassword(userId, passwordHash, now());
    },
    setRole(userId: number, role: Role): void {
      repo.setRole(userId, role);
    },
    setDisabled(userId: number, disabled: boolean): void {
      repo.setDisabled(userId, disabled);
    },
    /** Issue a personal API token; the token is returned once, only its hash is kept. */
    issueToken(userId: number, name = 'api'): { id: number; token: string } {
      const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
      return { id: repo.addToken({ userId, name, tokenHash: hashSecret(token), at: now() }), token };
    },
    revokeToken: (tokenId: number): boolean => repo.revokeToken(tokenId, now()),
    listTokens: (userId: number) => repo.listTokens(userId),
    /** The principal a bearer token stands for, or undefined (unknown, revoked, or user disabled). */
    verifyToken(token: string): Principal | undefined {
      if (!token.startsWith(TOKEN_PREFIX)) return undefined;
      const match = repo.findToken(hashSecret(token));
      if (!match || !verifySecret(token, match.tokenHash)) return undefined;
      repo.touchToken(match.tokenId, now());
      return { userId: match.userId, username: match.username, role: match.role, via: 'token' };
    },
  };
}
export type UserStore = ReturnType<typeof createUserStore>;
