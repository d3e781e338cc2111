import type { Context, Hono, MiddlewareHandler } from 'hono';
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AckBodySchema, AlertKindSchema } from '../core/alerts/alert.ts';
import type { AuditSink } from '../core/audit.ts';
import type { Closure } from '../core/closure.ts';
import { PushSubscriptionSchema, RecipientInputSchema, SensorSelectionSchema, type Recipient } from '../core/alerts/channel.ts';
import { AlertSeveritySchema, PRESETS, PresetNameSchema, rankLevel } from '../core/alerts/policy.ts';
import { createError } from '../core/errors.ts';
import { checkPushEndpoint, checkTargetUrl, DEFAULT_PUSH_HOSTS, parsePushHosts, type AllowRule, type PushHostRule } from '../core/outbound-policy.ts';
import type { SensorRegistry } from '../core/ports.ts';
import { ThresholdsSchema } from '../core/sensor.ts';
import { applySensorPatch } from '../core/sensor-patch.ts';
import { formatIso } from '../core/time.ts';
import { createRateLimiter } from '../core/token-bucket.ts';
import { TimeParamSchema, validate } from '../core/validate.ts';
import { requireRole, type AuthEnv } from '../auth/middleware.ts';
import { addressBucket, clientAddress, publicBaseUrl, requestOrigin, type ClientInfoOptions } from '../api/client-info.ts';
import { errorBody } from '../api/errors.ts';
import { alertToJson } from './alert-json.ts';
import type { Alerting } from './create-alerting.ts';
import { describeTarget } from './dispatcher.ts';
import { FEED_KEEPS_RESOLVED_MS, renderActiveCap, renderAlertCap, renderAtom, type FeedContext } from './feeds.ts';

export interface AlertRoutesDeps {
  alerting: Alerting;
  registry: SensorRegistry;
  timeZone: string;
  now?: () => number;
  /** Web Push public key (base64url) when push is configured. */
  vapidPublicKey?: string;
  /** Resident subscription writes allowed per client address per minute. */
  pushWritesPerMinute?: number;
  /** TRUST_PROXY and PUBLIC_URL: client address for rate limits, origin for feed links (default: the TCP peer and the request URL). */
  clientInfo?: ClientInfoOptions;
  /** ALERT_ALLOW_PRIVATE_TARGETS and PUSH_ALLOWED_HOSTS, checked at input time (default: public addresses, the known push services). */
  targetPolicy?: { rules: readonly AllowRule[]; pushHosts: readonly PushHostRule[] };
  /** PUSH_MAX_SUBSCRIPTIONS: residents' subscriptions held at most (default 100,000). */
  pushMaxSubscriptions?: number;
  /** Told when a resident's subscription is refused: its endpoint (`target`) or the cap (`cap`). */
  onPushRefused?: (reason: 'target' | 'cap') => void;
  /** Detailed audit entries (issue 13: an acknowledgement in words, not `http.write`). */
  audit?: AuditSink;
  /** Road closures set by staff (issue 13), shown in CAP and Atom as the city's decision. */
  closures?: { openFor: (sensorId: string) => Closure | undefined; open: () => Closure[] };
}

/** A push endpoint as stored: normalised so one browser subscription is one row however it is spelled. */
function normaliseEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.hash = '';
    return url.href;
  } catch {
    return endpoint;
  }
}

const AlertsQuery = z
  .object({
    active: z.enum(['true', 'false']).optional(),
    from: TimeParamSchema.optional(),
    to: TimeParamSchema.optional(),
    sensor: z.string().max(64).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
    /** History filters (issue 13): peak severity at least this, one kind, acknowledged by this user (staff only). */
    severity: AlertSeveritySchema.optional(),
    kind: AlertKindSchema.optional(),
    acknowledged_by: z.string().max(64).optional(),
  })
  .strict();

const DeliveriesQuery = z
  .object({
    alert: z.string().max(64).optional(),
    failed: z.enum(['true', 'false']).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
  })
  .strict();

/** The browser contract (docs/alerts.md): what the public map posts to subscribe. */
const PushSubscribeSchema = z
  .object({
    subscription: PushSubscriptionSchema,
    sensors: SensorSelectionSchema,
    min_status: AlertSeveritySchema.default('warning'),
    lang: z.enum(['ja', 'en']).default('ja'),
  })
  .strict();

const PushUnsubscribeSchema = z.union([
  z.object({ endpoint: z.string().min(1).max(2048) }).strict(),
  z.object({ unsubscribe_token: z.string().min(16).max(128) }).strict(),
]);

const SettingsSchema = z
  .object({
    preset: PresetNameSchema,
    thresholds: ThresholdsSchema.optional(),
    standby_cm: z.number().min(0).max(2000).nullable().optional(),
  })
  .strict();

async function jsonBody(c: Context): Promise<unknown> {
  if (!/^application\/json\b/i.test(c.req.header('Content-Type') ?? '')) {
    throw createError('invalid_input', 'send the body as application/json', { param: 'body' });
  }
  try {
    return await c.req.json();
  } catch {
    throw createError('invalid_input', 'body: malformed JSON', { param: 'body' });
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Same-origin only for the public (no account) write endpoints, so another
 * site cannot subscribe or unsubscribe a visitor's browser (CSRF): an
 * `Origin` that is not ours, or `Sec-Fetch-Site` saying cross-site, is
 * refused. Requests without either header are not from a browser page.
 */
function sameOriginOnly(trustProxy: boolean): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const origin = c.req.header('Origin');
    if (origin !== undefined) {
      let ok = false;
      try {
        ok = new URL(origin).origin === requestOrigin(c, trustProxy);
      } catch {
        ok = false;
      }
      if (!ok) return c.json(errorBody('forbidden', 'cross-origin request refused'), 403);
    }
    const site = c.req.header('Sec-Fetch-Site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      return c.json(errorBody('forbidden', 'cross-site request refused'), 403);
    }
    await next();
  };
}

/** Token bucket per client address: `perMinute` writes, refilled continuously. */
function rateLimit(perMinute: number, addressOf: (c: Context) => string, now: () => number): MiddlewareHandler<AuthEnv> {
  // At most 50,000 addresses are remembered, least recently used dropped first:
  // spraying addresses costs bounded memory and resets no-one else's bucket.
  const limiter = createRateLimiter({ ratePerMin: perMinute, burst: perMinute, maxKeys: 50_000 });
  return async (c, next) => {
    const key = addressOf(c);
    const t = now();
    if (!limiter.take(key, t)) {
      c.header('Retry-After', String(Math.max(1, Math.ceil(limiter.waitMs(key, t) / 1000))));
      return c.json(errorBody('rate_limited', 'too many subscription changes from this address; try again shortly'), 429);
    }
    await next();
  };
}

function publicRecipient(r: Recipient) {
  return {
    id: r.id,
    channel: r.channel,
    target: describeTarget(r),
    sensors: r.sensors,
    min_severity: r.minSeverity,
    kinds: r.kinds,
    lang: r.lang,
    source: r.source,
    label: r.label ?? null,
  };
}

/**
 * HTTP routes of the alerting module: alert history and acknowledgement,
 * CAP and Atom feeds, delivery log, recipients, per-sensor alert settings,
 * and the residents' Web Push subscription API. Mounted through `routes`.
 */
export function alertRoutes(deps: AlertRoutesDeps): (app: Hono<AuthEnv>) => void {
  const now = deps.now ?? Date.now;
  const { alerting, registry } = deps;
  const json = (a: Parameters<typeof alertToJson>[0], includeAck: boolean) =>
    alertToJson(a, { timeZone: deps.timeZone, settings: alerting.settingsOf(a.sensorId), includeAck });
  const clientInfo = deps.clientInfo ?? { trustProxy: false };
  const targetPolicy = deps.targetPolicy ?? { rules: [], pushHosts: (parsePushHosts(DEFAULT_PUSH_HOSTS) as { rules: PushHostRule[] }).rules };
  const pushMax = deps.pushMaxSubscriptions ?? 100_000;
  const addressOf = (c: Context) => clientAddress(c, clientInfo.trustProxy);
  const feedContext = (c: Context): FeedContext => ({
    baseUrl: publicBaseUrl(c, clientInfo),
    timeZone: deps.timeZone,
    now: now(),
    sensorOf: (id) => registry.get(id),
    settingsOf: alerting.settingsOf,
    ...(deps.closures && { closureOf: deps.closures.openFor, closures: deps.closures.open }),
  });
  // Active alerts and those resolved lately, so a feed reader sees each alert's Cancel.
  const feedAlerts = () => [
    ...alerting.store.active(),
    ...alerting.store.list({ from: now() - FEED_KEEPS_RESOLVED_MS, limit: 1000 }).filter((a) => a.state === 'resolved'),
  ];
  const sensorOrThrow = (id: string) => {
    const s = registry.get(id) ?? (registry.refresh() ? registry.get(id) : undefined);
    if (!s) throw createError('not_found', `unknown sensor ${id}`);
    return s;
  };

  return (app) => {
    app.get('/api/alerts', (c) => {
      const q = validate(AlertsQuery, c.req.query(), 'query');
      if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw createError('invalid_input', 'from: must not be after to', { param: 'from' });
      const staff = c.get('principal') !== undefined;
      if (q.acknowledged_by !== undefined && !staff) throw createError('unauthorized', 'acknowledged_by: sign in to filter by who acknowledged');
      const filtered = q.severity !== undefined || q.kind !== undefined || q.acknowledged_by !== undefined;
      const limit = q.limit ?? 500;
      // Filters on top of the store's query: read more rows, then keep the matching ones up to the limit.
      const alerts = alerting.store
        .list({
          active: q.active === 'true',
          ...(q.from !== undefined && { from: q.from }),
          ...(q.to !== undefined && { to: q.to }),
          ...(q.sensor && { sensorId: q.sensor }),
          limit: filtered ? 10_000 : limit,
        })
        .filter((a) => (q.severity === undefined || rankLevel(a.peakSeverity) >= rankLevel(q.severity)) && (q.kind === undefined || a.kind === q.kind) && (q.acknowledged_by === undefined || a.acknowledgedBy === q.acknowledged_by))
        .slice(0, limit);
      c.header('Cache-Control', 'no-cache');
      return c.json({ alerts: alerts.map((a) => json(a, staff)) });
    });

    app.get('/api/alerts.cap', (c) => {
      c.header('Content-Type', 'application/cap+xml; charset=utf-8');
      c.header('Cache-Control', 'no-cache');
      return c.body(renderActiveCap(alerting.store.active(), feedContext(c)));
    });

    app.get('/api/alerts.atom', (c) => {
      c.header('Content-Type', 'application/atom+xml; charset=utf-8');
      c.header('Cache-Control', 'no-cache');
      return c.body(renderAtom(feedAlerts(), feedContext(c)));
    });

    app.get('/api/alerts/:id/cap', (c) => {
      const alert = alerting.store.get(c.req.param('id'));
      if (!alert || alert.kind !== 'flood') throw createError('not_found', `unknown alert ${c.req.param('id')}`);
      c.header('Content-Type', 'application/cap+xml; charset=utf-8');
      return c.body(renderAlertCap(alert, alerting.store.events(alert.id), feedContext(c)));
    });

    app.get('/api/alerts/:id', (c) => {
      const alert = alerting.store.get(c.req.param('id'));
      if (!alert) throw createError('not_found', `unknown alert ${c.req.param('id')}`);
      const staff = c.get('principal') !== undefined;
      return c.json({
        ...json(alert, staff),
        timeline: alerting.store.events(alert.id).map((e) => ({
          type: e.type,
          at: formatIso(e.at, deps.timeZone),
          severity: e.severity,
          level_cm: e.levelCm ?? null,
          ...(staff && { actor: e.actor ?? null, note: e.note ?? null }),
        })),
      });
    });

    app.post('/api/alerts/:id/ack', requireRole('staff'), async (c) => {
      const raw = c.req.header('Content-Length') === '0' ? {} : await jsonBody(c);
      const body = validate(AckBodySchema, raw);
      const principal = c.get('principal');
      const alert = alerting.acknowledge(c.req.param('id'), principal?.username ?? '?', body.note || undefined);
      const view = json(alert, true);
      if (principal) {
        deps.audit?.(c.req.raw, {
          actor: principal,
          action: 'alert.acknowledge',
          targetType: 'alert',
          targetId: alert.id,
          after: { sensor_id: alert.sensorId, sensor_name: registry.get(alert.sensorId)?.name ?? alert.sensorId, kind: alert.kind, severity: alert.severity, level_name: view.level_name, level_cm: alert.levelCm ?? null, note: alert.ackNote ?? null },
          address: addressOf(c),
        });
      }
      return c.json(view);
    });

    app.get('/api/alert-deliveries', requireRole('staff'), (c) => {
      const q = validate(DeliveriesQuery, c.req.query(), 'query');
      const rows = alerting.store.deliveries({ ...(q.alert && { alertId: q.alert }), failedOnly: q.failed === 'true', limit: q.limit ?? 200 });
      return c.json({
        deliveries: rows.map((d) => ({
          notice_id: d.noticeId,
          alert_id: d.alertId,
          event: d.event,
          recipient_id: d.recipientId,
          channel: d.channel,
          target: d.target,
          attempt: d.attempt,
          ok: d.ok,
          final: d.final,
          status: d.status ?? null,
          error: d.error ?? null,
          duration_ms: d.durationMs,
          at: formatIso(d.at, deps.timeZone),
        })),
      });
    });

    app.get('/api/alert-recipients', requireRole('staff'), (c) => {
      const all = alerting.recipients();
      const residents = all.filter((r) => r.source === 'resident').length;
      return c.json({ recipients: all.filter((r) => r.source !== 'resident').map(publicRecipient), resident_push_subscriptions: residents });
    });

    app.post('/api/alert-recipients', requireRole('staff'), async (c) => {
      const input = validate(RecipientInputSchema, await jsonBody(c));
      if (input.channel === 'webhook') {
        // Issue 10 (SSRF): the outbound policy, at input time; the connect-time guard is the real one (DNS may change).
        const check = checkTargetUrl(input.target, { rules: targetPolicy.rules, schemes: ['http:', 'https:'] });
        if (!check.ok) throw createError('invalid_input', `target: ${check.reason}`, { param: 'target' });
        input.target = check.href;
      }
      if (input.sensors[0] !== '*') for (const id of input.sensors) sensorOrThrow(id);
      const secret = input.channel === 'webhook' ? randomBytes(24).toString('base64url') : undefined;
      const r: Recipient = {
        id: `rc_${randomBytes(8).toString('hex')}`,
        channel: input.channel,
        target: input.target,
        sensors: input.sensors,
        minSeverity: input.min_severity,
        kinds: input.kinds,
        lang: input.lang,
        source: 'api',
        ...(input.label && { label: input.label }),
        ...(secret && { secret }),
      };
      alerting.addRecipient(r, { createdBy: c.get('principal')?.username });
      const who = c.get('principal');
      if (who) deps.audit?.(c.req.raw, { actor: who, action: 'alert.recipient.add', targetType: 'route', targetId: r.id, after: { channel: r.channel, target: describeTarget(r), label: r.label ?? null, sensors: r.sensors, min_severity: r.minSeverity }, address: addressOf(c) });
      // The webhook secret is shown once, here; the receiver needs it to check X-Kansui-Signature.
      return c.json({ ...publicRecipient(r), ...(secret && { secret }) }, 201);
    });

    app.delete('/api/alert-recipients/:id', requireRole('staff'), (c) => {
      const id = c.req.param('id');
      const r = alerting.recipients().find((x) => x.id === id);
      if (!r) throw createError('not_found', `unknown recipient ${id}`);
      if (r.source === 'env') throw createError('conflict', `recipient ${id} comes from the environment; change the configuration instead`);
      if (r.source === 'user') throw createError('conflict', `recipient ${id} is a staff member's own notification preference; change it there (PUT /api/users/{username}/notifications)`);
      alerting.removeRecipient(id);
      const who = c.get('principal');
      if (who) deps.audit?.(c.req.raw, { actor: who, action: 'alert.recipient.remove', targetType: 'route', targetId: id, before: { channel: r.channel, target: describeTarget(r), label: r.label ?? null }, address: addressOf(c) });
      return c.body(null, 204);
    });

    app.get('/api/alert-presets', (c) => c.json({ presets: PRESETS }));

    app.get('/api/sensors/:id/alert-settings', (c) => {
      const sensor = sensorOrThrow(c.req.param('id'));
      const s = alerting.settingsOf(sensor.id);
      const labels = PRESETS[s.preset].labels;
      return c.json({
        sensor_id: sensor.id,
        preset: s.preset,
        thresholds: sensor.thresholds,
        standby_cm: s.standbyCm ?? null,
        level_names: labels,
        policy: { dead_band_cm: alerting.policy.deadBandCm, hold_s: alerting.policy.holdMs / 1000, rise_cm: alerting.policy.riseCm, rise_window_s: alerting.policy.riseWindowMs / 1000 },
      });
    });

    app.put('/api/sensors/:id/alert-settings', requireRole('technician'), async (c) => {
      const sensor = sensorOrThrow(c.req.param('id'));
      const body = validate(SettingsSchema, await jsonBody(c));
      const thresholds = body.thresholds ?? sensor.thresholds;
      if (body.standby_cm !== undefined && body.standby_cm !== null) {
        if (body.preset !== 'river_channel') throw createError('invalid_input', 'standby_cm: only the river_channel preset has a standby level', { param: 'standby_cm' });
        if (body.standby_cm >= thresholds.caution) throw createError('invalid_input', 'standby_cm: must be below the caution threshold', { param: 'standby_cm' });
      }
      const beforePreset = alerting.settingsOf(sensor.id).preset;
      // Checked as a sensor edit is (issue 12: the site's range; 水防団待機水位 and 計画高水位 only on a river gauge).
      if (body.thresholds) registry.update(sensor.id, { thresholds: applySensorPatch(sensor, { thresholds: body.thresholds }, now()).thresholds, updatedAt: now() });
      alerting.setSettings(sensor.id, { preset: body.preset, ...(body.standby_cm != null && { standbyCm: body.standby_cm }) });
      const who = c.get('principal');
      if (who) deps.audit?.(c.req.raw, { actor: who, action: 'alert.settings', targetType: 'sensor', targetId: sensor.id, before: { preset: beforePreset, thresholds: sensor.thresholds }, after: { sensor_name: sensor.name, preset: body.preset, thresholds, standby_cm: body.standby_cm ?? null }, address: addressOf(c) });
      return c.json({ sensor_id: sensor.id, preset: body.preset, thresholds, standby_cm: body.standby_cm ?? null });
    });

    // Residents' Web Push subscriptions: no account, same-origin only, rate-limited per address.
    app.get('/api/push/vapid-public-key', (c) => {
      if (!deps.vapidPublicKey) throw createError('not_found', 'Web Push is not configured on this server');
      c.header('Cache-Control', 'public, max-age=3600');
      return c.json({ key: deps.vapidPublicKey });
    });

    const guard = [sameOriginOnly(clientInfo.trustProxy), rateLimit(deps.pushWritesPerMinute ?? 10, (c) => addressBucket(addressOf(c)), now)] as const;

    app.post('/api/push/subscriptions', ...guard, async (c) => {
      if (!deps.vapidPublicKey) throw createError('not_found', 'Web Push is not configured on this server');
      const body = validate(PushSubscribeSchema, await jsonBody(c));
      // Issue 10 (SSRF): https, a known push service (PUSH_ALLOWED_HOSTS), and the outbound policy.
      const check = checkPushEndpoint(body.subscription.endpoint, targetPolicy);
      if (!check.ok) {
        deps.onPushRefused?.('target');
        throw createError('invalid_input', `subscription.endpoint: ${check.reason}`, { param: 'subscription.endpoint' });
      }
      const subscription = { ...body.subscription, endpoint: check.href };
      if (body.sensors[0] !== '*') for (const id of body.sensors) sensorOrThrow(id);
      // Re-subscribing the same browser replaces its old choice (one row per endpoint).
      const existing = alerting.recipientStore.findPush({ endpoint: subscription.endpoint });
      if (!existing && alerting.residentCount() >= pushMax) {
        deps.onPushRefused?.('cap');
        return c.json(errorBody('subscriptions_full', 'this server holds as many push subscriptions as it may; try again later'), 503);
      }
      if (existing) alerting.removeRecipient(existing.id);
      const token = randomBytes(24).toString('base64url');
      const r: Recipient = {
        id: `ps_${randomBytes(8).toString('hex')}`,
        channel: 'webpush',
        target: subscription.endpoint,
        subscription,
        sensors: body.sensors,
        minSeverity: body.min_status,
        kinds: ['flood'],
        lang: body.lang,
        source: 'resident',
      };
      alerting.addRecipient(r, { unsubscribeHash: hashToken(token), client: addressOf(c) });
      return c.json({ id: r.id, unsubscribe_token: token }, 201);
    });

    app.delete('/api/push/subscriptions', ...guard, async (c) => {
      const body = validate(PushUnsubscribeSchema, await jsonBody(c));
      const r = 'endpoint' in body
          ? (alerting.recipientStore.findPush({ endpoint: normaliseEndpoint(body.endpoint) }) ?? alerting.recipientStore.findPush({ endpoint: body.endpoint })) : alerting.recipientStore.findPush({ unsubscribeHash: hashToken(body.unsubscribe_token) });
      // 204 either way: the browser's goal (no more pushes) holds, and it reveals nothing about others.
      if (r) alerting.removeRecipient(r.id);
      return c.body(null, 204);
    });
  };
}
