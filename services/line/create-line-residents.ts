import { Gauge, type Registry } from 'prom-client';
import type { Hono } from 'hono';
import { requireRole, type AuthEnv } from '../auth/middleware.ts';
import type { Alert, AlertEventType } from '../core/alerts/alert.ts';
import { AlertSeveritySchema, type AlertSettings, type AlertSeverity } from '../core/alerts/policy.ts';
import { z } from 'zod';
import { validate } from '../core/validate.ts';
import type { AuditSink } from '../core/audit.ts';
import { toLevelTrend, type LineSubscriptionRepository } from '../core/line-conversation.ts';
import type { Sensor } from '../core/sensor.ts';
import type { Trend } from '../core/trend.ts';
import type { SensorRegistry } from '../core/ports.ts';
import type { Status } from '../core/status.ts';
import type { DeliveryLogEntry } from '../core/alerts/repository.ts';
import type { OutboundGuard } from '../alerting/outbound.ts';
import { createLineApi } from './line-api.ts';
import { createLineConversation } from './line-conversation-handler.ts';
import { createLinePusher, type LineQuotaState, type LineRetry } from './line-pusher.ts';

const LineSettingsSchema = z.object({ quota_short_min_level: AlertSeveritySchema }).strict();

export interface LineResidentsOptions {
  token: string;
  channelSecret: string;
  apiBase: string;
  outbound: OutboundGuard;
  repo: LineSubscriptionRepository;
  registry: SensorRegistry;
  statusOf: (sensorId: string) => Status | undefined;
  /** Issue 12: a sensor's trend (services/core/trend.ts), the same the map and the API show. */
  trendOf?: (sensor: Sensor) => Trend | undefined;
  settingsOf: (sensorId: string) => AlertSettings;
  timeZone: string;
  baseUrl?: string;
  locationRadiusM: number;
  areas: readonly string[];
  quotaWarnShare: number;
  quotaShortMinLevel: AlertSeverity;
  quotaPollMs: number;
  retry?: Partial<LineRetry>;
  log: (entry: DeliveryLogEntry) => void;
  metricsRegistry?: Registry;
  onQuotaWarning: (q: LineQuotaState) => void;
  onError: (err: Error, context: string) => void;
  now: () => number;
  /** Detailed audit entries: PUT /api/line/settings in words (issue 14, on the staff board's audit log). */
  audit?: AuditSink;
}

/**
 * Residents on the city's LINE official account (issue 14): the signed
 * webhook and conversation, and alert pushes by multicast. State lives
 * behind the LineSubscriptionRepository port; the composition root passes
 * the adapter, the outbound guard and the alert engine's event hook.
 */
export function createLineResidents(o: LineResidentsOptions) {
  /** The admin's choice (PUT /api/line/settings), else LINE_QUOTA_SHORT_MIN_LEVEL. */
  const shortMinLevel = (): AlertSeverity => {
    const v = AlertSeveritySchema.safeParse(o.repo.getSetting('quota_short_min_level'));
    return v.success ? v.data : o.quotaShortMinLevel;
  };
  const api = createLineApi({ token: o.token, baseUrl: o.apiBase, outbound: o.outbound });
  const conversation = createLineConversation({
    repo: o.repo,
    registry: o.registry,
    api,
    channelSecret: o.channelSecret,
    statusOf: o.statusOf,
    ...(o.baseUrl && { baseUrl: o.baseUrl }),
    locationRadiusM: o.locationRadiusM,
    areas: o.areas,
    now: o.now,
    onError: o.onError,
  });
  const pusher = createLinePusher({
    trendOf: (sensorId) => {
      const sensor = o.registry.get(sensorId);
      const trend = sensor && o.trendOf?.(sensor);
      return sensor && trend ? toLevelTrend(trend, sensor.thresholds, sensor.site) : undefined;
    },
    repo: o.repo,
    registry: o.registry,
    api,
    settingsOf: o.settingsOf,
    timeZone: o.timeZone,
    ...(o.baseUrl && { baseUrl: o.baseUrl }),
    log: o.log,
    ...(o.retry && { retry: o.retry }),
    quotaWarnShare: o.quotaWarnShare,
    quotaShortMinLevel: shortMinLevel,
    quotaPollMs: o.quotaPollMs,
    onQuotaWarning: o.onQuotaWarning,
    onError: o.onError,
    now: o.now,
  });
  if (o.metricsRegistry) {
    const registers = [o.metricsRegistry];
    new Gauge({
      name: 'kansui_line_quota_messages',
      help: 'LINE monthly message quota (GET /v2/bot/message/quota); absent when unlimited or unread',
      registers,
      collect() {
        const q = pusher.quota();
        if (q.limit !== undefined) this.set(q.limit);
      },
    });
    new Gauge({
      name: 'kansui_line_quota_used_messages',
      help: 'LINE messages used this month (/quota/consumption at the last read, plus what kansui sent since)',
      registers,
      collect() {
        const q = pusher.quota();
        if (q.known) this.set(q.used);
      },
    });
    new Gauge({
      name: 'kansui_line_quota_short',
      help: '1 when LINE usage reached LINE_QUOTA_WARN_SHARE of the quota (only LINE_QUOTA_SHORT_MIN_LEVEL episodes are pushed then)',
      registers,
      collect() {
        this.set(pusher.quota().short ? 1 : 0);
      },
    });
    new Gauge({
      name: 'kansui_line_residents',
      help: 'LINE residents held, and their subscriptions',
      labelNames: ['what'],
      registers,
      collect() {
        const c = o.repo.counts();
        this.set({ what: 'users' }, c.users);
        this.set({ what: 'subscriptions' }, c.subscriptions);
      },
    });
    new Gauge({
      name: 'kansui_line_pushed',
      help: 'Residents pushed on LINE since start: messages (one per recipient, as LINE counts them) and multicast requests accepted; notices skipped while the quota was short',
      labelNames: ['what'],
      registers,
      collect() {
        const s = pusher.stats();
        this.set({ what: 'messages' }, s.messages);
        this.set({ what: 'requests' }, s.requests);
        this.set({ what: 'skipped_quota_short' }, s.skippedShort);
      },
    });
  }
  return {
    routes(app: Hono<AuthEnv>): void {
      conversation.routes(app);
      /** For the staff board: LINE's quota, residents held and what was sent (issue 14, "show both on /metrics and the staff board"). */
      app.get('/api/line/status', requireRole('staff'), (c) => {
        const q = pusher.quota();
        const counts = o.repo.counts();
        const s = pusher.stats();
        return c.json({
          quota: { limit: q.limit ?? null, used: q.known ? q.used : null, short: q.short, warn_share: o.quotaWarnShare, short_min_level: shortMinLevel() },
          residents: { users: counts.users, subscriptions: counts.subscriptions },
          pushed: { messages: s.messages, requests: s.requests, skipped_quota_short: s.skippedShort },
        });
      });
      /** The admin's choice of what residents still get while the quota is short (issue 14). */
      app.put('/api/line/settings', requireRole('admin'), async (c) => {
        const body = validate(LineSettingsSchema, await c.req.json().catch(() => undefined));
        const before = shortMinLevel();
        o.repo.putSetting('quota_short_min_level', body.quota_short_min_level, o.now());
        const principal = c.get('principal');
        if (principal) {
          o.audit?.(c.req.raw, { actor: principal, action: 'line.settings', targetType: 'line', targetId: 'quota_short_min_level', before: { quota_short_min_level: before }, after: { quota_short_min_level: body.quota_short_min_level } });
        }
        return c.json({ quota_short_min_level: shortMinLevel() });
      });
    },
    onAlertEvent: (event: AlertEventType, alert: Alert) => pusher.onAlertEvent(event, alert),
    quota: pusher.quota,
    readQuota: pusher.readQuota,
    stats: pusher.stats,
    repo: o.repo,
    /** Everything received handled and every push done (retries included). */
    async idle(): Promise<void> {
      await conversation.idle();
      await pusher.idle();
    },
    close(): void {
      pusher.close();
      api.close();
    },
  };
}
export type LineResidents = ReturnType<typeof createLineResidents>;
