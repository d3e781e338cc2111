import { createHash } from 'node:crypto';
import type { AlertChannel } from '../../core/alerts/channel.ts';
import { describeDeliveryError, outcomeOfStatus, type OutboundGuard } from '../outbound.ts';

/** LINE text messages are capped at 5,000 characters (Messaging API reference, "Text message"). */
const LINE_TEXT_MAX = 5000;

/** A stable UUID-shaped retry key for a (notice, recipient) pair, so every retry of one delivery carries the same key. */
function retryKey(noticeId: string, recipientId: string): string {
  const h = createHash('sha256').update(`${noticeId}|${recipientId}`).digest('hex');
  // RFC 9562 layout with version 4 / variant bits set, as LINE requires a UUID.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * LINE Messaging API push (`POST {base}/v2/bot/message/push`, bearer channel
 * access token). LINE Notify was shut down on 31 March 2025 and is not used.
 * `X-Line-Retry-Key` makes retries idempotent: LINE answers 409 to a key it
 * already accepted, which therefore counts as delivered. The API host goes
 * through the outbound guard like every channel (LINE_API_BASE pointed at an
 * internal address is refused unless ALERT_ALLOW_PRIVATE_TARGETS lists it).
 */
export function createLineChannel(options: { token: string; outbound: OutboundGuard; baseUrl?: string }): AlertChannel {
  const base = (options.baseUrl ?? 'https://api.line.me').replace(/\/$/, '');
  const poster = options.outbound.createPoster('line');
  return {
    kind: 'line',
    async send(notice, recipient, signal) {
      const t = notice.text[recipient.lang];
      const text = `${t.title}\n${t.body}`.slice(0, LINE_TEXT_MAX);
      let status: number;
      try {
        status = await poster.post(`${base}/v2/bot/message/push`, {
          headers: {
            Authorization: `Bearer ${options.token}`,
            'Content-Type': 'application/json',
            'X-Line-Retry-Key': retryKey(notice.noticeId, recipient.id),
          },
          body: JSON.stringify({ to: recipient.target, messages: [{ type: 'text', text }] }),
          signal,
        });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        const error = describeDeliveryError(err);
        return { ok: false, error, permanent: error.startsWith('outbound_refused') };
      }
      if (status === 409) return { ok: true, status: 409, detail: 'already accepted (retry key)' };
      return outcomeOfStatus(status);
    },
    async close() {
      poster.close();
    },
  };
}
