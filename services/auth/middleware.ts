import type { MiddlewareHandler } from 'hono';
import { hasRole, type Principal, type Role } from '../core/auth.ts';
import { createError } from '../core/errors.ts';

/** Hono env carrying who is asking (set by `authenticate`, read by `requireRole`). */
export type AuthEnv = { Variables: { principal: Principal | undefined } };

/** Ways to recognise a caller, tried in order (bearer token, session cookie, …). */
export type Authenticator = (c: Parameters<MiddlewareHandler<AuthEnv>>[0]) => Principal | undefined | Promise<Principal | undefined>;

/** A bearer-token authenticator (`Authorization: Bearer ksu_…`, RFC 6750 §2.1). */
export function bearerAuthenticator(verify: (token: string) => Principal | undefined): Authenticator {
  return (c) => {
    const header = c.req.header('Authorization');
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    return match ? verify(match[1] as string) : undefined;
  };
}

/** Sets `c.var.principal` from the first authenticator that recognises the caller. Never rejects by itself. */
export function authenticate(authenticators: readonly Authenticator[]): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    let principal: Principal | undefined;
    for (const a of authenticators) {
      principal = await a(c);
      if (principal) break;
    }
    c.set('principal', principal);
    await next();
  };
}

/**
 * Guard for a route: 401 when nobody is signed in, 403 when the role may not.
 * @example app.post('/api/sensors', requireRole('technician'), handler)
 */
export function requireRole(...roles: Role[]): MiddlewareHandler<AuthEnv> & { readonly roles: readonly Role[] } {
  const guard: MiddlewareHandler<AuthEnv> = async (c, next) => {
    const principal = c.get('principal');
    if (!principal) throw createError('unauthorized', 'sign in or send an API token');
    if (!hasRole(principal.role, roles)) throw createError('forbidden', `role ${principal.role} may not do this`);
    await next();
  };
  // The roles stay readable on the handler so the authorization matrix test
  // (test/integration/authz-matrix.test.ts) can find every route's guard in app.routes.
  return Object.assign(guard, { roles: Object.freeze([...roles]) });
}
