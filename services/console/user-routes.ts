import type { Hono } from 'hono';
import { z } from 'zod';
import { AuditQuerySchema } from '../core/audit.ts';
import { describeAudit } from '../core/audit-words.ts';
import { RoleSchema, UsernameSchema } from '../core/auth.ts';
import { createError } from '../core/errors.ts';
import { NewPasswordSchema } from '../core/password-policy.ts';
import { requireRole, type AuthEnv } from '../auth/middleware.ts';
import { hashPassword } from '../auth/passwords.ts';
import type { User } from '../auth/user-store.ts';
import { clientAddress } from '../api/client-info.ts';
import type { ConsoleContext } from './context.ts';
import { readJson, validate } from './request.ts';

const NewUserSchema = z.object({ username: UsernameSchema, role: RoleSchema, password: NewPasswordSchema }).strict();
const UserPatchSchema = z
  .object({ role: RoleSchema, disabled: z.boolean(), password: NewPasswordSchema })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: 'nothing to change' });
const NewTokenSchema = z.object({ name: z.string().trim().min(1).max(80).default('api') }).strict();
const Id = z.coerce.number().int().positive();

/** What the API shows of a user: never the hash. */
function publicUser(u: User) {
  return { id: u.id, username: u.username, role: u.role, disabled: u.disabled, createdAt: u.createdAt, passwordChangedAt: u.passwordChangedAt };
}

/** Users, API tokens and the audit log: admin only (issue 5). */
export function mountUserRoutes(app: Hono<AuthEnv>, ctx: ConsoleContext): void {
  const { users, sessions, audit, trustProxy } = ctx;
  const admin = requireRole('admin');

  function findUser(idParam: string): User {
    const id = validate(Id, idParam);
    const user = users.getById(id);
    if (!user) throw createError('not_found', `unknown user ${id}`);
    return user;
  }
  function activeAdmins(): number {
    return users.list().filter((u) => u.role === 'admin' && !u.disabled).length;
  }

  app.get('/api/users', admin, (c) => c.json({ users: users.list().map(publicUser) }));

  app.post('/api/users', admin, async (c) => {
    const body = await readJson(c, NewUserSchema);
    const user = users.create(body.username, body.role, await hashPassword(body.password));
    audit.recordFor(c.req.raw, { actor: c.get('principal')!, action: 'user.create', targetType: 'user', targetId: user.username, after: publicUser(user), address: clientAddress(c, trustProxy) });
    return c.json(publicUser(user), 201);
  });

  app.patch('/api/users/:id', admin, async (c) => {
    const before = findUser(c.req.param('id'));
    const patch = await readJson(c, UserPatchSchema);
    const demotes = (patch.role !== undefined && patch.role !== 'admin') || patch.disabled === true;
    if (before.role === 'admin' && !before.disabled && demotes && activeAdmins() <= 1) {
      throw createError('conflict', 'the last active admin cannot be demoted or disabled');
    }
    if (patch.role !== undefined) users.setRole(before.id, patch.role);
    if (patch.disabled !== undefined) users.setDisabled(before.id, patch.disabled);
    if (patch.password !== undefined) users.setPassword(before.id, await hashPassword(patch.password));
    // New role, disabled, or reset password: sessions issued under the old state end now.
    sessions.destroyAllFor(before.id);
    const after = users.getById(before.id) as User;
    audit.recordFor(c.req.raw, {
      actor: c.get('principal')!,
      action: patch.password !== undefined && patch.role === undefined && patch.disabled === undefined ? 'user.password' : 'user.update',
      targetType: 'user',
      targetId: before.username,
      before: publicUser(before),
      after: { ...publicUser(after), ...(patch.password !== undefined && { passwordReset: true }) },
      address: clientAddress(c, trustProxy),
    });
    return c.json(publicUser(after));
  });

  app.get('/api/users/:id/tokens', admin, (c) => c.json({ tokens: users.listTokens(findUser(c.req.param('id')).id) }));

  app.post('/api/users/:id/tokens', admin, async (c) => {
    const user = findUser(c.req.param('id'));
    const body = await readJson(c, NewTokenSchema);
    const { id, token } = users.issueToken(user.id, body.name);
    audit.recordFor(c.req.raw, { actor: c.get('principal')!, action: 'token.create', targetType: 'token', targetId: String(id), after: { user: user.username, name: body.name }, address: clientAddress(c, trustProxy) });
    return c.json({ id, name: body.name, username: user.username, role: user.role, token }, 201);
  });

  app.delete('/api/tokens/:id', admin, (c) => {
    const id = validate(Id, c.req.param('id'));
    if (!users.revokeToken(id)) throw createError('not_found', `no active token ${id}`);
    audit.recordFor(c.req.raw, { actor: c.get('principal')!, action: 'token.revoke', targetType: 'token', targetId: String(id), address: clientAddress(c, trustProxy) });
    return c.body(null, 204);
  });

  app.get('/api/audit', admin, (c) => {
    const q = validate(AuditQuerySchema, c.req.query());
    // Each entry also said in words (issue 13), for the console and for reading an export.
    return c.json({ entries: audit.list(q).map((e) => ({ ...e, words: describeAudit(e, ctx.timeZone) })) });
  });
}
