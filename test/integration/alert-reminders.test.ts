import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startLineReceiver, startSmtpReceiver, startWebhookReceiver } from '../helpers/alert-receivers.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { waitFor } from '../helpers/wait.ts';

const SECRET = 'reminder-webhook-secret-0123456789';
const LINE_TOKEN = 'reminder-line-token';
const CHIEF_SECRET = 'chief-webhook-secret-0123456789';

/**
 * Issue 13: a 危険 alert nobody acknowledges is sent again every
 * ALERT_REMIND_S (1 s here) to the staff channels, marked as a reminder in
 * each, reaching the next group (ALERT_REMIND_GROUPS) from the first
 * reminder on, until someone acknowledges it.
 */
describe('reminders of an unacknowledged danger alert over real channels', () => {
  let k: TestKansui;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let chief: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let line: Awaited<ReturnType<typeof startLineReceiver>>;
  let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
  let staff: string;

  beforeAll(async () => {
    [webhook, chief, line, smtp] = await Promise.all([startWebhookReceiver(SECRET), startWebhookReceiver(CHIEF_SECRET), startLineReceiver(LINE_TOKEN), startSmtpReceiver()]);
    k = await startTestKansui(
      {
        ALERT_WEBHOOK_URLS: webhook.url,
        ALERT_WEBHOOK_SECRET: SECRET,
        LINE_CHANNEL_TOKEN: LINE_TOKEN,
        LINE_TO: 'Ustaffgroup0001',
        LINE_API_BASE: line.baseUrl,
        SMTP_URL: smtp.url,
        ALERT_EMAIL_TO: 'bousai@city.test',
        ALERT_ALLOW_PRIVATE_TARGETS: [webhook.url, chief.url, line.baseUrl, smtp.url].map((u) => new URL(u).host).join(','),
        ALERT_REMIND_S: '1',
        ALERT_REMIND_GROUPS: '課長',
      },
      { sweepMs: 60_000, alerting: { retry: { baseDelayMs: 50, timeoutMs: 5_000 } } },
    );
    staff = k.users.issueToken(k.users.create('sato', 'staff', null).id).token;
    registerSensor(k.registry, { id: 'rm-01', name: '打田駅前アンダーパス', lat: 34.27, lon: 135.39, intervalS: 3600 }, Date.now());
    registerSensor(k.registry, { id: 'rm-other', name: '別の場所', lat: 34.28, lon: 135.4, intervalS: 3600 }, Date.now());
    // The chief follows another sensor only: they hear about rm-01 only as the next group of a reminder.
    k.alerting.addRecipient({ id: 'rc_chief', channel: 'webhook', target: chief.url, sensors: ['rm-other'], minSeverity: 'caution', kinds: ['flood'], lang: 'ja', source: 'api', label: '課長', secret: CHIEF_SECRET }, {});
  }, 30_000);

  afterAll(async () => {
    await k?.dispose();
    await Promise.all([webhook?.close(), chief?.close(), line?.close(), smtp?.close()]);
  });

  it('re-sends, marked, to every staff channel and the next group, until acknowledged', async () => {
    const t0 = Date.now() - 5 * 60_000;
    await k.ingest.submit('rm-01', Buffer.from(JSON.stringify({ ts: t0, level_cm: 5 })));
    await k.ingest.submit('rm-01', Buffer.from(JSON.stringify({ ts: t0 + 60_000, level_cm: 33 })));
    await k.ingest.submit('rm-01', Buffer.from(JSON.stringify({ ts: t0 + 120_000, level_cm: 34 })));
    const alert = await waitFor(() => k.alerting.store.active().find((a) => a.sensorId === 'rm-01' && a.severity === 'danger'), { timeoutMs: 10_000, what: 'a danger alert' });

    const reminders = (r: { received: { text: string }[] }) => r.received.filter((x) => x.text.includes('再通知') || x.text.includes('[Reminder]'));
    await waitFor(() => reminders(webhook).length >= 2 && reminders(line).length >= 2 && reminders(smtp).length >= 2 && reminders(chief).length >= 2, { timeoutMs: 15_000, intervalMs: 50, what: 'two reminders in every channel' });

    const hook = webhook.received.filter((x) => x.json?.alert?.id === alert.id);
    expect(hook[0]?.json).toMatchObject({ event: 'raised' });
    expect(hook.find((x) => x.json.event === 'reminded')?.json).toMatchObject({ reminder: 1, text: { ja: { title: expect.stringMatching(/^【再通知】【危険】打田駅前アンダーパス/) } } });
    expect(reminders(line)[0]?.text).toMatch(/【再通知】/);
    expect(reminders(smtp)[0]?.text).toMatch(/【再通知】|\[Reminder\]/);
    // The chief got reminders only, never the original raise.
    expect(chief.received.every((x) => x.json.event === 'reminded')).toBe(true);
    // At about the interval apart (1 s; the machine may be loaded, so generous bounds).
    const times = hook.filter((x) => x.json.event === 'reminded').map((x) => x.at);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(800);

    const ack = await fetch(`${k.httpUrl}/api/alerts/${alert.id}/ack`, { method: 'POST', headers: { Authorization: `Bearer ${staff}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ note: '現地確認に向かう' }) });
    expect(ack.status).toBe(200);
    await k.alerting.idle();
    const after = reminders(webhook).length;
    // Three intervals with nothing more: an observation window, not a synchronisation.
    await new Promise((r) => setTimeout(r, 3_000));
    await k.alerting.idle();
    expect(reminders(webhook).length).toBe(after);
    const timeline = k.alerting.store.events(alert.id).map((e) => e.type);
    expect(timeline.filter((t) => t === 'reminded').length).toBeGreaterThanOrEqual(2);
    expect(timeline.at(-1)).toBe('acknowledged');
    // Every reminder attempt is in the delivery log under its own event.
    const log = k.alerting.store.deliveries({ alertId: alert.id, limit: 1000 });
    expect(new Set(log.filter((d) => d.event === 'reminded').map((d) => d.channel))).toEqual(new Set(['webhook', 'line', 'email']));
  }, 40_000);
});
