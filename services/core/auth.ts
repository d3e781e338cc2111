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
