import { z } from 'zod';

/**
 * Roles (issue: console): `admin` manages users and everything; `technician`
 * manages sensors; `staff` handles alerts and reads everything.
 */
export const RoleSchema = z.enum(['admin', 'technician', 'staff']);
export type Role = z.infer<typeof RoleSchema>;

export const UsernameSchema = z.string().regex(/^[a-z0-9][a-z0-9_.-]{1,31}$/, 'username: 2–32 of a–z 0–9 _ . -');

/** Who is asking, once authenticated. */
export interface Principal {
  userId: number;
  username: string;
  role: Role;
  via: 'session' | 'token';
}

/** Whether `role` may do what `allowed` roles may; admin may do everything. */
export function hasRole(role: Role, allowed: readonly Role[]): boolean {
  return role === 'admin' || allowed.includes(role);
}

/** A user as stored (issue 5); the password is a hash from services/auth/passwords.ts, or null (cannot sign in). */
export const UserSchema = z.object({
  id: z.number().int(),
  username: z.string(),
  role: RoleSchema,
  passwordHash: z.string().nullable(),
  /** Epoch ms; sessions started before it are dead. */
  passwordChangedAt: z.number(),
  disabled: z.boolean(),
  createdAt: z.number(),
});
export type User = z.infer<typeof UserSchema>;

/** A personal API token as listed (never its hash). */
export const ApiTokenInfoSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  createdAt: z.number(),
  lastUsedAt: z.number().nullable(),
  revokedAt: z.number().nullable(),
});
export type ApiTokenInfo = z.infer<typeof ApiTokenInfoSchema>;

/** A live token found by its hash, with its owner. */
export const ApiTokenMatchSchema = z.object({
  tokenId: z.number().int(),
  tokenHash: z.string(),
  userId: z.number().int(),
  username: z.string(),
  role: RoleSchema,
});
export type ApiTokenMatch = z.infer<typeof ApiTokenMatchSchema>;

/** A server-side session row: only the hash of the cookie value is stored. */
export const SessionRowSchema = z.object({
  idHash: z.string(),
  userId: z.number().int(),
  createdAt: z.number(),
  lastSeenAt: z.number(),
  address: z.string().nullable(),
});
export type SessionRow = z.infer<typeof SessionRowSchema>;

/**
 * Port for users and their API tokens (issue 16). Adapters:
 * services/storage/sqlite-accounts.ts, memory-accounts.ts; both pass
 * test/contract/accounts.contract.ts. Stores hashes only; hashing and
 * token generation are the caller's (services/auth/).
 */
export interface UserRepository {
  /** Throws DomainError `conflict` when the username is taken. */
  create(user: { username: string; role: Role; passwordHash: string | null; at: number }): User;
  get(username: string): User | undefined;
  getById(id: number): User | undefined;
  /** Sorted by username. */
  list(): User[];
  setPassword(userId: number, passwordHash: string, at: number): void;
  setRole(userId: number, role: Role): void;
  setDisabled(userId: number, disabled: boolean): void;
  /** Returns the new token's id. */
  addToken(token: { userId: number; name: string; tokenHash: string; at: number }): number;
  /** False when unknown or already revoked. */
  revokeToken(tokenId: number, at: number): boolean;
  /** A user's tokens, oldest first, revoked ones included. */
  listTokens(userId: number): ApiTokenInfo[];
  /** The unrevoked token with this hash whose user is not disabled. */
  findToken(tokenHash: string): ApiTokenMatch | undefined;
  touchToken(tokenId: number, at: number): void;
}

/** Port for server-side sessions (issue 16); same adapters and suite as UserRepository. */
export interface SessionRepository {
  insert(session: SessionRow): void;
  find(idHash: string): SessionRow | undefined;
  touch(idHash: string, at: number): void;
  remove(idHash: string): void;
  /** Returns how many were removed. */
  removeAllFor(userId: number): number;
  /** Remove sessions last seen before `idleBefore` or created before `createdBefore`; returns how many. */
  removeExpired(idleBefore: number, createdBefore: number): number;
}
