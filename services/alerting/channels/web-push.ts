import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import webpush from 'web-push';
import type { AlertChannel, AlertNotice, Recipient } from '../../core/alerts/channel.ts';
import { createEncryptPool } from './web-push-encrypt-pool.ts';

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
 * ./web-push-encrypt.mjs on worker threads (./web-push-encrypt-pool.ts); sent with node:http(s) over keep-alive connections
 * (measured about 4× cheaper per request than fetch here, which matters for
 * a fan-out to thousands). 404 and 410 mean the subscription is gone
 * (RFC 8030 §7.3): permanent, and the dispatcher removes the subscriber.
 */
export function createWebPushChannel(keys: VapidKeys, options: { encryptWorkers?: number } = {}): AlertChannel {
  const pool = createEncryptPool(options.encryptWorkers === undefined ? {} : { workers: options.encryptWorkers });
  // Connections are reused per push service; the dispatcher bounds how many requests are in flight.
  const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 256 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 256 }) };
  const jwtCache = new Map<string, { header: string; until: number }>();
  function authorization(endpoint: string): string {
    const audience = new URL(endpoint).origin;
    const cached = jwtCache.get(audience);
    const t = Date.now();
    if (cached && cached.until > t) return cached.header;
    const exp = Math.floor(t / 1000) + JWT_LIFETIME_S;
    const { Authorization } = webpush.getVapidHeaders(audience, keys.subject, keys.publicKey, keys.privateKey, 'aes128gcm', exp) as { Authorization: string };
    jwtCache.set(audience, { header: Authorization, until: t + JWT_REUSE_MS });
    return Authorization;
  }
  return {
    kind: 'webpush',
    async send(notice, recipient: Recipient, signal) {
      const sub = recipient.subscription;
      if (!sub) return { ok: false, error: 'recipient has no push subscription', permanent: true };
      const cipherText = await pool.encrypt(Buffer.from(pushPayload(notice, recipient.lang)), sub.keys.p256dh, sub.keys.auth);
      const headers = {
        Authorization: authorization(sub.endpoint),
        'Content-Encoding': 'aes128gcm',
        'Content-Type': 'application/octet-stream',
        TTL: String(TTL_S),
        // RFC 8030 §5.3: wake the device for danger and for new alerts.
        Urgency: notice.alert.severity === 'danger' || notice.event === 'raised' ? 'high' : 'normal',
        // RFC 8030 §5.4: a newer notice of the same alert replaces an undelivered older one (≤ 32 base64url chars).
        Topic: notice.alert.id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 32),
        'Content-Length': String(cipherText.length),
      };
      const { status, text } = await post(sub.endpoint, headers, cipherText, signal);
      if (status >= 200 && status < 300) return { ok: true, status };
      // RFC 8030 §7.3: 404/410 — the subscription is gone; 429 and 5xx are worth retrying; other 4xx are not.
      const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
      return { ok: false, status, error: `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`, permanent: !retryable };
    },
    async close() {
      agents.http.destroy();
      agents.https.destroy();
      await pool.close();
    },
  };

  function post(endpoint: string, headers: Record<string, string>, body: Buffer, signal: AbortSignal): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const url = new URL(endpoint);
      const https = url.protocol === 'https:';
      const req = (https ? httpsRequest : httpRequest)(url, { method: 'POST', headers, agent: https ? agents.https : agents.http, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          if (chunks.length < 4) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return webpush.generateVAPIDKeys();
}
