import { Agent, request } from 'undici';
import webpush from 'web-push';
import type { AlertChannel, AlertNotice, DeliveryOutcome, Recipient } from '../../core/alerts/channel.ts';
import { createEncryptPool } from './web-push-encrypt-pool.ts';
import { sealWebPush } from './web-push-encrypt.mjs';
import { createPreparedKeys, type PreparedKeysOptions } from './web-push-keys.ts';
import { describeDeliveryError, outcomeOfStatus, type OutboundGuard } from '../outbound.ts';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  /** `mailto:` or `https:` contact for the push service operator (RFC 8292 §2.1). */
  subject: string;
}

/** How long a notice is worth delivering to a phone that is offline: an hour-old flood notice is stale (RFC 8030 §5.2 TTL). */
const TTL_S = 3600;
/** VAPID JWTs may live up to 24 h (RFC 8292 §2); sign for 12 h and reuse for 1 h per push service origin. */
const JWT_LIFETIME_S = 12 * 3600;
const JWT_REUSE_MS = 3600_000;

export interface WebPushChannel extends AlertChannel {
  prepare(recipients: readonly Recipient[]): void;
  forget(recipient: Recipient): void;
  preparedCount(): number;
}

/** The small JSON a service worker shows (in the subscriber's language). RFC 8291 §4: keep under 4 KiB. */
export function pushPayload(notice: AlertNotice, lang: 'ja' | 'en'): string {
  const t = notice.text[lang];
  return JSON.stringify({
    title: t.title,
    body: t.body,
    tag: `kansui-${notice.alert.id}`,
    url: notice.url ?? null,
    event: notice.event,
    alert_id: notice.alert.id,
    sensor_id: notice.alert.sensorId,
    severity: notice.alert.severity,
    ...(notice.reminder !== undefined && { reminder: notice.reminder }),
  });
}

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption
 * (RFC 8291): VAPID JWTs signed by the `web-push` package, one per push
 * service origin and reused for an hour; payloads encrypted by
 * ./web-push-encrypt.mjs with keys prepared ahead of time for known
 * subscribers (./web-push-keys.ts) on worker threads
 * (./web-push-encrypt-pool.ts), so at alert time a push costs one AES-GCM
 * pass and a request; sent with undici's `request` over keep-alive
 * connections (per request, measured here about 0.04 ms of CPU against
 * node:http's 0.075 ms and fetch's 0.3 ms, which is most of the fan-out's
 * budget once the keys are prepared). 404 and 410 mean the subscription is gone
 * (RFC 8030 §7.3): permanent, and the dispatcher removes the subscriber.
 * Every connection goes through the outbound guard (resolved, checked, then
 * connected to the checked address); the push service's answer body is
 * never read into the delivery log.
 */
export function createWebPushChannel(keys: VapidKeys, options: { outbound: OutboundGuard; encryptWorkers?: number; prepared?: Omit<PreparedKeysOptions, 'pool'> }) {
  const pool = createEncryptPool(options.encryptWorkers === undefined ? {} : { workers: options.encryptWorkers });
  const prepared = createPreparedKeys({ pool, ...options.prepared });
  // Payloads and headers are the same for every subscriber of a notice: made once per notice and language.
  const perNotice = new WeakMap<AlertNotice, { headers: Record<string, string>; ja?: Buffer; en?: Buffer }>();
  function noticeParts(notice: AlertNotice) {
    let parts = perNotice.get(notice);
    if (!parts) {
      const headers = {
        'Content-Encoding': 'aes128gcm',
        'Content-Type': 'application/octet-stream',
        TTL: String(TTL_S),
        // RFC 8030 §5.3: wake the device for danger and for new alerts.
        Urgency: notice.alert.severity === 'danger' || notice.event === 'raised' ? 'high' : 'normal',
        // RFC 8030 §5.4: a newer notice of the same alert replaces an undelivered older one (≤ 32 base64url chars).
        Topic: notice.alert.id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 32),
      };
      perNotice.set(notice, (parts = { headers }));
    }
    return parts;
  }
  // Connections are reused per push service; the dispatcher bounds how many requests are in flight.
  const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000, connect: options.outbound.undiciConnector('webpush') });
  // Keyed by the endpoint's scheme://host:port prefix, so the hot path parses no URL.
  const jwtCache = new Map<string, { header: string; until: number }>();
  function authorization(endpoint: string): string {
    const prefix = endpoint.slice(0, endpoint.indexOf('/', endpoint.indexOf('//') + 2) >>> 0);
    const cached = jwtCache.get(prefix);
    const t = Date.now();
    if (cached && cached.until > t) return cached.header;
    const audience = new URL(endpoint).origin;
    const exp = Math.floor(t / 1000) + JWT_LIFETIME_S;
    const { Authorization } = webpush.getVapidHeaders(audience, keys.subject, keys.publicKey, keys.privateKey, 'aes128gcm', exp) as { Authorization: string };
    jwtCache.set(prefix, { header: Authorization, until: t + JWT_REUSE_MS });
    return Authorization;
  }
  const channel: WebPushChannel = {
    kind: 'webpush',
    prepare(recipients: readonly Recipient[]): void {
      prepared.warm(recipients.flatMap((r) => (r.channel === 'webpush' && r.subscription ? [r.subscription.keys] : [])));
    },
    forget(recipient: Recipient): void {
      if (recipient.subscription) prepared.forget(recipient.subscription.keys);
    },
    preparedCount: () => prepared.stats().keys,
    async send(notice: AlertNotice, recipient: Recipient, signal: AbortSignal): Promise<DeliveryOutcome> {
      const sub = recipient.subscription;
      if (!sub) return { ok: false, error: 'recipient has no push subscription', permanent: true };
      const key = prepared.take(sub.keys) ?? (await pool.prepare(sub.keys.p256dh, sub.keys.auth));
      const parts = noticeParts(notice);
      const payload = (parts[recipient.lang] ??= Buffer.from(pushPayload(notice, recipient.lang)));
      const cipherText = sealWebPush(key, payload);
      const headers = { ...parts.headers, Authorization: authorization(sub.endpoint) };
      let status: number;
      try {
        status = await post(sub.endpoint, headers, cipherText, signal);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        // Refused by the outbound policy: permanent, so the dispatcher drops the subscriber.
        const error = describeDeliveryError(err);
        return { ok: false, error, permanent: error.startsWith('outbound_refused') };
      }
      // RFC 8030 §7.3: 404/410 — the subscription is gone; 429 and 5xx are worth retrying; other 4xx are not.
      return outcomeOfStatus(status);
    },
    async close(): Promise<void> {
      prepared.close();
      await agent.close();
      await pool.close();
    },
  };
  return channel;

  async function post(endpoint: string, headers: Record<string, string>, body: Buffer, signal: AbortSignal): Promise<number> {
    const res = await request(endpoint, { method: 'POST', headers, body, signal, dispatcher: agent });
    // The body is the push service's business: read and dropped, never logged (issue 10).
    await res.body.dump({ limit: 65_536 }).catch(() => {});
    return res.statusCode;
  }
}

export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return webpush.generateVAPIDKeys();
}
