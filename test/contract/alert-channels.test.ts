import { createEmailChannel } from '../../services/alerting/channels/email.ts';
import { createLineChannel } from '../../services/alerting/channels/line.ts';
import { createWebhookChannel } from '../../services/alerting/channels/webhook.ts';
import { createWebPushChannel, generateVapidKeys } from '../../services/alerting/channels/web-push.ts';
import { createOutboundGuard } from '../../services/alerting/outbound.ts';
import type { Recipient } from '../../services/core/alerts/channel.ts';
import { parseAllowList, type AllowRule } from '../../services/core/outbound-policy.ts';
import { startLineReceiver, startPushService, startSmtpReceiver, startWebhookReceiver } from '../helpers/alert-receivers.ts';
import { describeAlertChannelContract } from './alert-channel.contract.ts';

/** The receivers listen on loopback: these channels are allowed there, as an operator would list an internal target (ALERT_ALLOW_PRIVATE_TARGETS). */
const loopbackAllowed = createOutboundGuard({ rules: (parseAllowList('127.0.0.0/8') as { rules: AllowRule[] }).rules });
/** The default policy: nothing but public addresses. */
const publicOnly = createOutboundGuard({ rules: [] });

const common = { sensors: ['*'], minSeverity: 'caution' as const, kinds: ['flood' as const], source: 'api' as const };

describeAlertChannelContract('webhook (HMAC-signed JSON POST)', async () => {
  const receiver = await startWebhookReceiver('s3cret-for-tests');
  return {
    channel: createWebhookChannel({ timeZone: 'Asia/Tokyo', defaultSecret: 's3cret-for-tests', outbound: loopbackAllowed }),
    refusedChannel: () => createWebhookChannel({ timeZone: 'Asia/Tokyo', defaultSecret: 's3cret-for-tests', outbound: publicOnly }),
    recipient: (lang = 'ja'): Recipient => ({ ...common, id: 'r-webhook', channel: 'webhook', target: receiver.url, lang }),
    receiver,
    permanentFault: { times: 1, status: 400 },
    transientFault: { times: 1, status: 503 },
    close: () => receiver.close(),
  };
});

describeAlertChannelContract('LINE Messaging API push', async () => {
  const receiver = await startLineReceiver('line-token-abc');
  return {
    channel: createLineChannel({ token: 'line-token-abc', baseUrl: receiver.baseUrl, outbound: loopbackAllowed }),
    refusedChannel: () => createLineChannel({ token: 'line-token-abc', baseUrl: receiver.baseUrl, outbound: publicOnly }),
    recipient: (lang = 'ja'): Recipient => ({ ...common, id: `r-line-${lang}`, channel: 'line', target: 'U4af4980629aaaaaaaaaaaaaaaaaaaaaa', lang }),
    receiver,
    permanentFault: { times: 1, status: 400 },
    transientFault: { times: 1, status: 500 },
    close: () => receiver.close(),
  };
});

describeAlertChannelContract('e-mail over SMTP', async () => {
  const receiver = await startSmtpReceiver();
  const channel = createEmailChannel({ smtpUrl: receiver.url, from: 'kansui <alerts@kansui.test>', outbound: loopbackAllowed });
  return {
    channel,
    refusedChannel: () => createEmailChannel({ smtpUrl: receiver.url, from: 'kansui <alerts@kansui.test>', outbound: publicOnly }),
    recipient: (lang = 'ja'): Recipient => ({ ...common, id: `r-mail-${lang}`, channel: 'email', target: 'bousai@city.test', lang }),
    receiver,
    permanentFault: { times: 1, status: 550 },
    transientFault: { times: 1, status: 451 },
    close: async () => {
      await channel.close?.();
      await receiver.close();
    },
  };
});

describeAlertChannelContract('Web Push (VAPID, aes128gcm decrypted by the test push service)', async () => {
  const vapid = generateVapidKeys();
  const receiver = await startPushService({ vapidPublicKey: vapid.publicKey });
  const sub = receiver.subscribe();
  const channel = createWebPushChannel({ ...vapid, subject: 'mailto:bousai@city.test' }, { outbound: loopbackAllowed });
  return {
    channel,
    refusedChannel: () => createWebPushChannel({ ...vapid, subject: 'mailto:bousai@city.test' }, { outbound: publicOnly, encryptWorkers: 0 }),
    recipient: (lang = 'ja'): Recipient => ({ ...common, id: 'r-push', channel: 'webpush', target: sub.endpoint, subscription: sub, lang, source: 'resident' }),
    receiver,
    permanentFault: { times: 1, status: 410 },
    transientFault: { times: 1, status: 503 },
    close: async () => {
      await channel.close?.();
      await receiver.close();
    },
  };
});
