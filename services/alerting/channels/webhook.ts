import { createHmac } from 'node:crypto';
import { noticeToJson, type AlertChannel } from '../../core/alerts/channel.ts';
import { describeDeliveryError, outcomeOfStatus, type OutboundGuard } from '../outbound.ts';

/** `X-Kansui-Signature` value for a body: `sha256=` + hex HMAC-SHA256 with the recipient's secret. */
export function signWebhookBody(body: string, secret: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

/**
 * Webhook channel: a JSON POST per notice (see docs/alerts.md for the body),
 * signed over the exact body bytes so a receiver can verify it came from us
 * (`X-Kansui-Signature: sha256=<hex>`, the GitHub/Slack convention).
 * `X-Kansui-Delivery` is the notice id, the same on every retry, so
 * receivers can drop duplicates. Connections go through the outbound guard
 * (loopback, private, link-local… refused unless ALERT_ALLOW_PRIVATE_TARGETS
 * lists them); redirects are not followed and the answer's body is not kept.
 */
export function createWebhookChannel(options: { timeZone: string; outbound: OutboundGuard; defaultSecret?: string; userAgent?: string }): AlertChannel {
  const poster = options.outbound.createPoster('webhook');
  return {
    kind: 'webhook',
    async send(notice, recipient, signal) {
      const secret = recipient.secret ?? options.defaultSecret;
      if (!secret) return { ok: false, error: 'no webhook secret configured', permanent: true };
      const body = JSON.stringify(noticeToJson(notice, options.timeZone));
      try {
        const status = await poster.post(recipient.target, {
          headers: {
            'Content-Type': 'application/json; charset=utf-8',
            'User-Agent': options.userAgent ?? 'kansui-alerts/1',
            'X-Kansui-Event': notice.event,
            'X-Kansui-Delivery': notice.noticeId,
            'X-Kansui-Signature': signWebhookBody(body, secret),
          },
          body,
          signal,
        });
        return outcomeOfStatus(status);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        // A refused target stays refused until the configuration changes: no retry.
        const error = describeDeliveryError(err);
        return { ok: false, error, permanent: error.startsWith('outbound_refused') };
      }
    },
    async close() {
      poster.close();
    },
  };
}
