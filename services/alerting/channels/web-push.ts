import { Agent, request } from 'undici';
import webpush from 'web-push';
import type { AlertChannel, AlertNotice, DeliveryOutcome, Recipient } from '../../core/alerts/channel.ts';
import { createEncryptPool } from './web-push-encrypt-pool.ts';
import { sealWebPush } from './web-push-encrypt.mjs';
import { createPreparedKeys, type PreparedKeysOptions } from './web-push-keys.ts';

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
 */
export function createWebPushChannel(keys: VapidKeys, options: { encryptWorkers?: number; prepared?: Omit<PreparedKeysOptions, 'pool'> } = {}) {
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
  const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });
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
      const { status, text } = await post(sub.endpoint, headers, cipherText, signal);
      if (status >= 200 && status < 300) return { ok: true, status };
      // RFC 8030 §7.3: 404/410 — the subscription is gone; 429 and 5xx are worth retrying; other 4xx are not.
      const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
      return { ok: false, status, error: `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`, permanent: !retryable };
    },
    async close(): Promise<void> {
      prepared.close();
      await agent.close();
      await pool.close();
    },
  };
  return channel;

  async function post(endpoint: string, headers: Record<string, string>, body: Buffer, signal: AbortSignal): Promise<{ status: number; text: string }> {
    const res = await request(endpoint, { method: 'POST', headers, body, signal, dispatcher: agent });
    // The body is a short status text at most; keep the first bytes for the delivery log.
    const text = res.statusCode >= 300 ? (await res.body.text()).slice(0, 400) : (await res.body.dump(), '');
    return { status: res.statusCode, text };
  }
}

export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return webpush.generateVAPIDKeys();
}
