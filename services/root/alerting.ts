import type { AlertChannel, Recipient } from '../core/alerts/channel.ts';
import { AlertPolicySchema } from '../core/alerts/policy.ts';
import { ReminderPolicySchema } from '../core/alerts/reminder.ts';
import { readPublicUrl, type Config } from '../config.ts';
import { createLineChannel } from '../alerting/channels/line.ts';
import { createWebhookChannel } from '../alerting/channels/webhook.ts';
import { createAlerting, type AlertingOptions } from '../alerting/create-alerting.ts';
import { createOutboundGuard, type HostLookup, type OutboundGuard, type OutboundRefusal } from '../alerting/outbound.ts';

const ALL_KINDS: Recipient['kinds'] = ['flood', 'offline', 'low_battery', 'sensor_fault'];

/**
 * Channels and read-only recipients from the environment (ALERT_WEBHOOK_URLS,
 * LINE_CHANNEL_TOKEN + LINE_TO, SMTP_URL + ALERT_EMAIL_TO, VAPID_*), and the
 * alert policy from ALERT_DEAD_BAND_CM etc. The webhook channel always exists
 * because staff can add webhooks through the API with their own secret.
 * E-mail and Web Push are imported only when configured: nodemailer and
 * undici with web-push are about 7 MB of heap a service without them need
 * not carry (issue 2's memory budget). Every channel connects through one
 * outbound guard (ALERT_ALLOW_PRIVATE_TARGETS; issue 10).
 */
export async function channelsFromConfig(config: Config, timeZone: string, outbound: OutboundGuard): Promise<{ channels: AlertChannel[]; recipients: Recipient[]; vapidPublicKey?: string }> {
  const channels: AlertChannel[] = [createWebhookChannel({ timeZone, outbound, ...(config.ALERT_WEBHOOK_SECRET && { defaultSecret: config.ALERT_WEBHOOK_SECRET }) })];
  const recipients: Recipient[] = [];
  const common = { sensors: ['*'], minSeverity: config.ALERT_MIN_SEVERITY, kinds: ALL_KINDS, lang: 'ja' as const, source: 'env' as const };
  config.ALERT_WEBHOOK_URLS?.forEach((url, i) => recipients.push({ ...common, id: `env-webhook-${i + 1}`, channel: 'webhook', target: url }));
  if (config.LINE_CHANNEL_TOKEN) {
    channels.push(createLineChannel({ token: config.LINE_CHANNEL_TOKEN, outbound, baseUrl: config.LINE_API_BASE }));
    config.LINE_TO?.forEach((to, i) => recipients.push({ ...common, id: `env-line-${i + 1}`, channel: 'line', target: to }));
  }
  if (config.SMTP_URL) {
    const { createEmailChannel } = await import('../alerting/channels/email.ts');
    const publicUrl = readPublicUrl(config);
    const hostname = publicUrl ? new URL(publicUrl).hostname : undefined;
    channels.push(createEmailChannel({ smtpUrl: config.SMTP_URL, from: config.ALERT_EMAIL_FROM, outbound, ...(hostname && { hostname }) }));
    config.ALERT_EMAIL_TO?.forEach((to, i) => recipients.push({ ...common, id: `env-email-${i + 1}`, channel: 'email', target: to }));
  }
  if (config.VAPID_PUBLIC_KEY && config.VAPID_PRIVATE_KEY) {
    const { createWebPushChannel } = await import('../alerting/channels/web-push.ts');
    channels.push(createWebPushChannel({ publicKey: config.VAPID_PUBLIC_KEY, privateKey: config.VAPID_PRIVATE_KEY, subject: config.VAPID_SUBJECT }, { outbound }));
    return { channels, recipients, vapidPublicKey: config.VAPID_PUBLIC_KEY };
  }
  return { channels, recipients };
}

/**
 * The alert runner wired from config; `overrides` lets tests shorten retries,
 * `lookup` lets them make a name resolve to an address of their choosing.
 */
export async function createAlertingFromConfig(
  config: Config,
  deps: Omit<AlertingOptions, 'channels' | 'envRecipients' | 'policy'> & {
    overrides?: Partial<AlertingOptions>;
    lookup?: HostLookup;
    onOutboundRefused?: (refusal: OutboundRefusal) => void;
  },
) {
  const { overrides, lookup, onOutboundRefused, ...rest } = deps;
  const outbound = createOutboundGuard({ rules: config.ALERT_ALLOW_PRIVATE_TARGETS, ...(lookup && { lookup }), ...(onOutboundRefused && { onRefused: onOutboundRefused }) });
  const { channels, recipients, vapidPublicKey } = await channelsFromConfig(config, deps.timeZone, outbound);
  const policy = AlertPolicySchema.parse({
    deadBandCm: config.ALERT_DEAD_BAND_CM,
    holdMs: config.ALERT_HOLD_S * 1000,
    riseCm: config.ALERT_RISE_CM,
    riseWindowMs: config.ALERT_RISE_WINDOW_S * 1000,
  });
  const publicUrl = readPublicUrl(config);
  const alerting = createAlerting({
    ...rest,
    channels,
    envRecipients: recipients,
    policy,
    // A read-only view (web role, issue 15) reminds nobody: the core does, once.
    reminders: ReminderPolicySchema.parse({ intervalMs: deps.passive ? 0 : Math.round(config.ALERT_REMIND_S * 1000), minSeverity: config.ALERT_REMIND_MIN_SEVERITY, groups: config.ALERT_REMIND_GROUPS }),
    ...(publicUrl && { baseUrl: publicUrl }),
    ...overrides,
  });
  /** What the API checks staff and resident targets against at input time (the same rules the guard applies at connect time). */
  const targetPolicy = { rules: config.ALERT_ALLOW_PRIVATE_TARGETS, pushHosts: config.PUSH_ALLOWED_HOSTS };
  return { alerting, vapidPublicKey, targetPolicy };
}
