import nodemailer from 'nodemailer';
import type { AlertChannel } from '../../core/alerts/channel.ts';

/**
 * E-mail over SMTP (nodemailer). One message carries both languages: the
 * recipient's language first, then the other, so a forwarded mail still
 * reaches someone who reads only one of them. `Message-ID` derives from the
 * notice id, so a retried send is recognisable as the same message.
 */
export function createEmailChannel(options: { smtpUrl: string; from: string; hostname?: string }): AlertChannel {
  // nodemailer cannot abort a send, so bound every SMTP wait (its defaults allow 10 min of silence).
  const transport = nodemailer.createTransport({ url: options.smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 15_000 });
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
        const info = await Promise.race([send, aborted]);
        return { ok: true, detail: String(info.response ?? '') };
      } catch (err) {
        const e = err as Error & { responseCode?: number };
        // SMTP 5xx replies are permanent (RFC 5321 §4.2.1); 4xx and network errors are worth retrying.
        const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
        return { ok: false, error: e.message, permanent, ...(e.responseCode !== undefined && { status: e.responseCode }) };
      }
    },
    async close() {
      transport.close();
    },
  };
}
