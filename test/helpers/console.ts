import type { Role } from '../../services/core/auth.ts';
import { hashPassword } from '../../services/auth/passwords.ts';
import type { TestKansui } from './kansui.ts';

/** A password long enough for the policy (NIST SP 800-63B-4: ≥ 15 characters). */
export const TEST_PASSWORD = 'correct horse battery staple';

/** One scrypt hash of TEST_PASSWORD per test file (each costs ~0.65 s; salts need not differ between test users). */
let testPasswordHash: Promise<string> | undefined;

/** Create a user directly in the store. */
export async function createTestUser(k: TestKansui, username: string, role: Role, password = TEST_PASSWORD) {
  const hash = password === TEST_PASSWORD ? await (testPasswordHash ??= hashPassword(TEST_PASSWORD)) : await hashPassword(password);
  return k.users.create(username, role, hash);
}

/** A bearer token for a fresh user with `role` (no scrypt: the user has no password). */
export function createTestToken(k: TestKansui, username: string, role: Role): string {
  const user = k.users.create(username, role, null);
  return k.users.issueToken(user.id, 'test').token;
}

/** Sign in like the console does; returns the `name=value` cookie pair to send back. */
export async function signIn(k: TestKansui, username: string, password = TEST_PASSWORD, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${k.httpUrl}/api/session`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: k.httpUrl, ...headers },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in as ${username}: HTTP ${res.status} ${await res.text()}`);
  const cookie = res.headers.get('set-cookie');
  if (!cookie) throw new Error('no session cookie');
  return cookie.split(';')[0] as string;
}

/** A same-origin JSON request as a browser would send it. */
export function consoleFetch(k: TestKansui, method: string, path: string, opts: { cookie?: string; token?: string; body?: unknown; origin?: string | null } = {}) {
  const headers: Record<string, string> = {};
  if (opts.origin !== null) headers.Origin = opts.origin ?? k.httpUrl;
  if (opts.cookie) headers.Cookie = opts.cookie;
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(`${k.httpUrl}${path}`, { method, headers, ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }) });
}
