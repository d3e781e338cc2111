import nodemailer from 'nodemailer';
import type { AlertChannel } from '../../core/alerts/channel.ts';
import { describeDeliveryError, type OutboundGuard } from '../outbound.ts';

/**
 * E-mail over SMTP (nodemailer). One message carries both languages: the
 * recipient's language first, then the other, so a forwarded mail still
 * reaches someone who reads only one of them. `Message-ID` derives from the
 * notice id, so a retried send is recognisable as the same message. The SMTP
 * host is resolved and checked by the outbound guard, and nodemailer is
 * handed a socket already connected to the checked address (its `getSocket`
 * hook), so it never resolves the name itself.
 */
export function createEmailChannel(options: { smtpUrl: string; from: string; outbound: OutboundGuard; hostname?: string }): AlertChannel {
  // nodemailer cannot abort a send, so bound every SMTP wait (its defaults allow 10 min of silence).
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 15_000,
    getSocket: options.outbound.smtpGetSocket(10_000),
  } as Parameters<typeof nodemailer.createTransport>[0]);
  const domain = options.hostname ?? 'kansui.invalid';
  return {
    kind: 'email',
    async send(notice, recipient, signal) {
      const first = recipient.lang;
      const second = first === 'ja' ? 'en' : 'ja';
      const a = notice.text[first];
      const b = notice.text[second];
      const subject = first === 'ja' ? `${a.title} / ${b.title}` : `${a.title} / ${b.title}`;
      const text = `${a.body}\n\n----\n\n${b.body}\n`;
      const send = transport.sendMail({
        from: options.from,
        to: recipient.target,
        subject,
        text,
        messageId: `<${notice.noticeId.replace(/[^A-Za-z0-9.-]/g, '.')}.${recipient.id}@${domain}>`,
        headers: { 'X-Kansui-Event': notice.event, 'X-Kansui-Alert': notice.alert.id },
      });
      const aborted = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      try {
        await Promise.race([send, aborted]);
        // The server's reply text is not kept: only that it accepted.
        return { ok: true };
      } catch (err) {
        const e = err as Error & { responseCode?: number };
        // SMTP 5xx replies are permanent (RFC 5321 §4.2.1); 4xx and network errors are worth retrying; an outbound refusal stays.
        if (typeof e.responseCode === 'number') return { ok: false, status: e.responseCode, error: `SMTP ${e.responseCode}`, permanent: e.responseCode >= 500 };
        if (signal.aborted) throw signal.reason;
        const error = describeDeliveryError(err);
        return { ok: false, error, permanent: error.startsWith('outbound_refused') };
      }
    },
    async close() {
      transport.close();
    },
  };
}
