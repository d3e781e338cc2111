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
import type { User } from '../auth/user-store.ts';
import { addressBucket, clientAddress, isHttps } from '../api/client-info.ts';
import { errorBody } from '../api/errors.ts';
import type { ConsoleContext } from './context.ts';
import { readJson } from './request.ts';

const LoginSchema = z.object({ username: z.string().min(1).max(64), password: PresentedPasswordSchema }).strict();
const PasswordChangeSchema = z.object({ currentPassword: PresentedPasswordSchema, newPassword: NewPasswordSchema }).strict();

/** The one answer to every failed sign-in, whether or not the user exists (OWASP Authentication Cheat Sheet). */
const LOGIN_FAILED = 'wrong username or password';

export function mountSessionRoutes(app: Hono<AuthEnv>, ctx: ConsoleContext): void {
  const { users, sessions, audit, throttle, now, trustProxy, reportSignIn, maxHashesPerAddress } = ctx;

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

  /** 429 with Retry-After; one body for every username, so it tells nothing about which accounts exist. */
  function tooMany(c: Context<AuthEnv>, retryAfterMs: number, message: string) {
    c.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    return c.json(errorBody('too_many_requests', message), 429);
  }

  /**
   * Check a presented password (issue 10, items 8-10). The throttle counts
   * the attempt before the hash, so parallel requests cannot all be
   * evaluated, and limits it by (username, address), by address and by
   * username (services/core/login-throttle.ts); the hash waits in a queue
   * that is fair per address (services/auth/hash-queue.ts). Returns the
   * user when the password is right, `false` when it is not, or the
   * response that refuses the attempt (429, or 503 by throwing).
   */
  async function checkPassword(c: Context<AuthEnv>, username: string, password: string): Promise<User | false | Response> {
    const address = clientAddress(c, trustProxy);
    const source = addressBucket(address);
    const user = UsernameSchema.safeParse(username).success ? users.get(username) : undefined;
    const who = { username, userExists: user !== undefined, address };
    const admission = throttle.admit({ username, source }, now());
    if (!admission.ok) {
      reportSignIn({ result: 'throttled', reason: admission.scope, ...who });
      return tooMany(c, admission.retryAfterMs, 'too many failed sign-ins; try again later');
    }
    const { ticket } = admission;
    let verified: boolean;
    try {
      verified = await verifyPassword(password, user?.passwordHash ?? null, { source, maxPerSource: maxHashesPerAddress });
    } catch (err) {
      ticket.cancelled(); // never evaluated: it does not count
      if (!(err instanceof HashBusyError)) throw err;
      if (err.scope === 'source') {
        reportSignIn({ result: 'throttled', reason: 'hash_queue', ...who });
        return tooMany(c, 1000, 'too many sign-ins in progress from your address; try again shortly');
      }
      reportSignIn({ result: 'busy', ...who });
      c.header('Retry-After', '5');
      throw createError('unavailable', 'too many sign-ins in progress; try again shortly');
    }
    if (!verified || !user || user.disabled) {
      reportSignIn({ result: 'failed', reached: ticket.failed(), slowLane: admission.slowLane, ...who });
      return false;
    }
    ticket.succeeded(now());
    return user;
  }

  app.post('/api/session', async (c) => {
    const body = await readJson(c, LoginSchema);
    const username = body.username.trim().toLowerCase();
    const user = await checkPassword(c, username, body.password);
    if (user instanceof Response) return user;
    if (!user) throw createError('unauthorized', LOGIN_FAILED);
    const address = clientAddress(c, trustProxy);
    reportSignIn({ result: 'ok', username, userExists: true, address });
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
    const current = users.getById(p.userId);
    // Throttled like a sign-in: a stolen session must not become a way to guess the password.
    const user = current ? await checkPassword(c, current.username, body.currentPassword) : false;
    if (user instanceof Response) return user;
    if (!user || user.id !== p.userId) throw createError('forbidden', 'current password is wrong');
    users.setPassword(user.id, await hashPassword(body.newPassword));
    sessions.destroyAllFor(user.id);
    if (p.via === 'session') startSession(c, user.id);
    audit.recordFor(c.req.raw, { actor: p, action: 'user.password', targetType: 'user', targetId: user.username, address: clientAddress(c, trustProxy) });
    return c.body(null, 204);
  });
}
