import type { Context, Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { UsernameSchema } from '../core/auth.ts';
import { createError } from '../core/errors.ts';
import { NewPasswordSchema, PresentedPasswordSchema } from '../core/password-policy.ts';
import { requireRole, type AuthEnv } from '../auth/middleware.ts';
import { HashBusyError, hashPassword, verifyPassword } from '../auth/passwords.ts';
import { readSessionCookie, sessionCookieName } from '../auth/request-guard.ts';
import { SESSION_ABSOLUTE_MS } from '../auth/session-store.ts';
import { clientAddress, isHttps } from '../api/client-info.ts';
import { errorBody } from '../api/errors.ts';
import type { ConsoleContext } from './context.ts';
import { readJson } from './request.ts';

const LoginSchema = z.object({ username: z.string().min(1).max(64), password: PresentedPasswordSchema }).strict();
const PasswordChangeSchema = z.object({ currentPassword: PresentedPasswordSchema, newPassword: NewPasswordSchema }).strict();

/** The one answer to every failed sign-in, whether or not the user exists (OWASP Authentication Cheat Sheet). */
const LOGIN_FAILED = 'wrong username or password';

export function mountSessionRoutes(app: Hono<AuthEnv>, ctx: ConsoleContext): void {
  const { users, sessions, audit, throttle, now, trustProxy, countSignIn } = ctx;

  function startSession(c: Context<AuthEnv>, userId: number): void {
    const https = isHttps(c, trustProxy);
    // Rotate: whatever session this browser had before ends (session fixation, OWASP Session Management).
    const old = readSessionCookie(c, trustProxy);
    if (old) sessions.destroy(old);
    const id = sessions.create(userId, clientAddress(c, trustProxy));
    setCookie(c, sessionCookieName(https), id, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: https,
      path: '/',
      maxAge: SESSION_ABSOLUTE_MS / 1000,
    });
  }

  app.post('/api/session', async (c) => {
    const body = await readJson(c, LoginSchema);
    const username = body.username.trim().toLowerCase();
    const address = clientAddress(c, trustProxy);
    const keys = [`addr:${address}`, `user:${username}`];
    const wait = throttle.retryAfterMs(keys, now());
    if (wait > 0) {
      countSignIn('throttled');
      c.header('Retry-After', String(Math.ceil(wait / 1000)));
      return c.json(errorBody('too_many_requests', 'too many failed sign-ins; try again later'), 429);
    }
    const user = UsernameSchema.safeParse(username).success ? users.get(username) : undefined;
    let verified: boolean;
    try {
      verified = await verifyPassword(body.password, user?.passwordHash ?? null);
    } catch (err) {
      if (!(err instanceof HashBusyError)) throw err;
      countSignIn('busy');
      c.header('Retry-After', '5');
      throw createError('unavailable', 'too many sign-ins in progress; try again shortly');
    }
    const ok = verified && user !== undefined && !user.disabled;
    if (!ok || !user) {
      throttle.recordFailure(keys, now());
      countSignIn('failed');
      throw createError('unauthorized', LOGIN_FAILED);
    }
    throttle.clear(`user:${username}`);
    countSignIn('ok');
    sessions.sweep(); // expired rows go at the next sign-in; verify() already refuses them
    startSession(c, user.id);
    audit.recordFor(c.req.raw, { actor: { userId: user.id, username: user.username }, action: 'session.login', targetType: 'session', targetId: user.username, address });
    return c.json({ username: user.username, role: user.role });
  });

  app.get('/api/session', requireRole('staff', 'technician'), (c) => {
    const p = c.get('principal')!;
    return c.json({ username: p.username, role: p.role, via: p.via });
  });

  app.delete('/api/session', requireRole('staff', 'technician'), (c) => {
    const id = readSessionCookie(c, trustProxy);
    if (id) sessions.destroy(id);
    audit.recordFor(c.req.raw, { actor: c.get('principal')!, action: 'session.logout', targetType: 'session', targetId: c.get('principal')!.username, address: clientAddress(c, trustProxy) });
    deleteCookie(c, sessionCookieName(isHttps(c, trustProxy)), { path: '/', secure: isHttps(c, trustProxy) });
    return c.body(null, 204);
  });

  /** Change one's own password: every session of the user ends (this browser gets a fresh one). */
  app.put('/api/session/password', requireRole('staff', 'technician'), async (c) => {
    const p = c.get('principal')!;
    const body = await readJson(c, PasswordChangeSchema);
    const user = users.getById(p.userId);
    if (!user || !(await verifyPassword(body.currentPassword, user.passwordHash))) {
      throw createError('forbidden', 'current password is wrong');
    }
    users.setPassword(user.id, await hashPassword(body.newPassword));
    sessions.destroyAllFor(user.id);
    if (p.via === 'session') startSession(c, user.id);
    audit.recordFor(c.req.raw, { actor: p, action: 'user.password', targetType: 'user', targetId: user.username, address: clientAddress(c, trustProxy) });
    return c.body(null, 204);
  });
}
