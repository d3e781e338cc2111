import type { Context, Hono } from 'hono';
import type { Recipient } from '../core/alerts/channel.ts';
import type { AuditSink } from '../core/audit.ts';
import type { Principal } from '../core/auth.ts';
import { createError } from '../core/errors.ts';
import { checkPushEndpoint, type AllowRule, type PushHostRule } from '../core/outbound-policy.ts';
import type { SensorRegistry } from '../core/ports.ts';
import { DEFAULT_NOTIFICATION_PREFS, NotificationPrefsSchema, prefsToRecipients, type NotificationPrefs, type UserNotificationRepository } from '../core/user-notifications.ts';
import { validate } from '../core/validate.ts';
import { requireRole, type AuthEnv } from '../auth/middleware.ts';

export interface NotificationsDeps {
  repo: UserNotificationRepository;
  registry: SensorRegistry;
  /** Who exists and who is disabled (a disabled user gets nothing). */
  userOf: (username: string) => { disabled: boolean } | undefined;
  users: () => { username: string; role: string; disabled: boolean }[];
  /** Hands a user's recipients to the alert runner (replacing theirs). */
  apply: (username: string, recipients: readonly Recipient[]) => void;
  /** Channels configured on this server: a preference for one that is not is refused. */
  channels: { email: boolean; line: boolean; webpush: boolean };
  pushPolicy: { rules: readonly AllowRule[]; pushHosts: readonly PushHostRule[] };
  audit?: AuditSink;
  addressOf?: (c: Context<AuthEnv>) => string;
  now?: () => number;
  /** How often disabled/enabled users are re-checked (ms). */
  recheckMs?: number;
}

/** What the API shows of preferences: a push subscription only as "this browser is subscribed" and its origin. */
function publicPrefs(p: NotificationPrefs) {
  const { webpush, ...rest } = p;
  let origin: string | null = null;
  try {
    origin = webpush ? new URL(webpush.endpoint).origin : null;
  } catch {
    origin = null;
  }
  return { ...rest, webpush: webpush ? { subscribed: true, origin } : null };
}

/**
 * Staff notification preferences (issue 13): each signed-in member of
 * staff chooses channels, sensors or areas, minimum severity and quiet hours
 * (`GET`/`PUT /api/me/notifications`); admins see and set everyone's
 * (`GET /api/users/notifications`, `PUT /api/users/{username}/notifications`).
 * Stored behind a port; applied to the alert runner as recipients.
 */
export function createNotifications(deps: NotificationsDeps) {
  const now = deps.now ?? Date.now;
  const disabledSeen = new Map<string, boolean>();

  function applyUser(username: string, prefs: NotificationPrefs | undefined): void {
    const user = deps.userOf(username);
    disabledSeen.set(username, user?.disabled ?? true);
    deps.apply(username, prefs && user && !user.disabled ? prefsToRecipients(username, prefs) : []);
  }
  for (const { username, prefs } of deps.repo.all()) applyUser(username, prefs);
  const timer = setInterval(() => {
    for (const [username, was] of disabledSeen) {
      const user = deps.userOf(username);
      if ((user?.disabled ?? true) !== was) applyUser(username, deps.repo.get(username));
    }
  }, deps.recheckMs ?? 30_000);
  timer.unref();

  /** The body replaces the preferences, except a push subscription, which is kept when `webpush` is left out (it lives in one browser; an admin cannot send it). */
  async function readPrefs(c: Context<AuthEnv>, username: string): Promise<NotificationPrefs> {
    const raw = await c.req.json().catch(() => {
      throw createError('invalid_input', 'body: malformed JSON', { param: 'body' });
    });
    const p = validate(NotificationPrefsSchema, raw);
    if (raw && typeof raw === 'object' && !('webpush' in raw)) p.webpush = deps.repo.get(username)?.webpush ?? null;
    if (p.email && !deps.channels.email) throw createError('invalid_input', 'email: e-mail is not configured on this server (SMTP_URL)', { param: 'email' });
    if (p.line && !deps.channels.line) throw createError('invalid_input', 'line: LINE is not configured on this server (LINE_CHANNEL_TOKEN)', { param: 'line' });
    if (p.webpush) {
      if (!deps.channels.webpush) throw createError('invalid_input', 'webpush: Web Push is not configured on this server (VAPID_*)', { param: 'webpush' });
      const check = checkPushEndpoint(p.webpush.endpoint, deps.pushPolicy);
      if (!check.ok) throw createError('invalid_input', `webpush: ${check.reason}`, { param: 'webpush' });
    }
    if (p.sensors[0] !== '*') for (const id of p.sensors) if (!deps.registry.get(id)) throw createError('invalid_input', `sensors: unknown sensor ${id}`, { param: 'sensors' });
    return p;
  }

  function save(c: Context<AuthEnv>, username: string, prefs: NotificationPrefs) {
    const before = deps.repo.get(username);
    deps.repo.put(username, prefs, now());
    applyUser(username, prefs);
    const principal = c.get('principal') as Principal;
    deps.audit?.(c.req.raw, {
      actor: principal,
      action: 'user.notifications',
      targetType: 'user',
      targetId: username,
      ...(before && { before: publicPrefs(before) }),
      after: publicPrefs(prefs),
      address: deps.addressOf?.(c) ?? null,
    });
    return publicPrefs(prefs);
  }

  return {
    /** The push service said this user's subscription is gone (404/410): forget it, keep the rest of their choices. */
    forgetPush(username: string): void {
      const prefs = deps.repo.get(username);
      if (!prefs?.webpush) return;
      const next = { ...prefs, webpush: null };
      deps.repo.put(username, next, now());
      applyUser(username, next);
    },
    routes(app: Hono<AuthEnv>): void {
      const anyStaff = requireRole('staff', 'technician');
      // Personal data: never kept by a shared cache in front (issue 15).
      app.use('/api/me/notifications', async (c, next) => {
        await next();
        c.header('Cache-Control', 'private, no-store');
      });
      app.use('/api/users/notifications', async (c, next) => {
        await next();
        c.header('Cache-Control', 'private, no-store');
      });
      app.get('/api/me/notifications', anyStaff, (c) => {
        const me = (c.get('principal') as Principal).username;
        return c.json({ username: me, prefs: publicPrefs(deps.repo.get(me) ?? DEFAULT_NOTIFICATION_PREFS), channels: deps.channels });
      });
      app.put('/api/me/notifications', anyStaff, async (c) => {
        const me = (c.get('principal') as Principal).username;
        return c.json({ username: me, prefs: save(c, me, await readPrefs(c, me)) });
      });
      app.get('/api/users/notifications', requireRole('admin'), (c) => {
        const stored = new Map(deps.repo.all().map((x) => [x.username, x.prefs]));
        return c.json({
          channels: deps.channels,
          users: deps.users().map((u) => ({ username: u.username, role: u.role, disabled: u.disabled, custom: stored.has(u.username), prefs: publicPrefs(stored.get(u.username) ?? DEFAULT_NOTIFICATION_PREFS) })),
        });
      });
      app.put('/api/users/:username/notifications', requireRole('admin'), async (c) => {
        const username = c.req.param('username');
        if (!deps.userOf(username)) throw createError('not_found', `unknown user ${username}`);
        return c.json({ username, prefs: save(c, username, await readPrefs(c, username)) });
      });
    },
    close(): void {
      clearInterval(timer);
    },
  };
}
