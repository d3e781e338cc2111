import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateVapidKeys } from '../../services/alerting/channels/web-push.ts';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startLineReceiver, startPushService, startSmtpReceiver, startWebhookReceiver } from '../helpers/alert-receivers.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { openSse } from '../helpers/sse.ts';
import { waitFor } from '../helpers/wait.ts';

const SECRET = 'webhook-secret-for-e2e-tests';
const LINE_TOKEN = 'line-channel-access-token-e2e';
const LINE_USER = 'U0123456789abcdef0123456789abcdef';
const MIN = 60_000;

describe('alerts end to end: simulated sensor → MQTT → ingest → alert engine → every channel', () => {
  let k: TestKansui;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let line: Awaited<ReturnType<typeof startLineReceiver>>;
  let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
  let push: Awaited<ReturnType<typeof startPushService>>;
  let staffToken: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    const vapid = generateVapidKeys();
    [webhook, line, smtp, push] = await Promise.all([
      startWebhookReceiver(SECRET),
      startLineReceiver(LINE_TOKEN),
      startSmtpReceiver(),
      startPushService({ vapidPublicKey: vapid.publicKey }),
    ]);
    k = await startTestKansui(
      {
        ALERT_WEBHOOK_URLS: webhook.url,
        ALERT_WEBHOOK_SECRET: SECRET,
        LINE_CHANNEL_TOKEN: LINE_TOKEN,
        LINE_TO: LINE_USER,
        LINE_API_BASE: line.baseUrl,
        SMTP_URL: smtp.url,
        ALERT_EMAIL_TO: 'bousai@city.test',
        ALERT_EMAIL_FROM: 'kansui <alerts@kansui.test>',
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        VAPID_SUBJECT: 'mailto:bousai@city.test',
        // Every receiver is on loopback: listed as an operator lists internal targets, the push service as an http relay (issue 10).
        ALERT_ALLOW_PRIVATE_TARGETS: [webhook.url, line.baseUrl, smtp.url, push.url].map((u) => new URL(u).host).join(','),
        PUSH_ALLOWED_HOSTS: push.url,
      },
      { sweepMs: 100, alerting: { retry: { baseDelayMs: 50, timeoutMs: 5_000 } } },
    );
    const staff = k.users.create('tanaka', 'staff', null);
    staffToken = k.users.issueToken(staff.id).token;
  });

  afterAll(async () => {
    for (const c of clients) await c.endAsync().catch(() => {});
    await k?.dispose();
    await Promise.all([webhook?.close(), line?.close(), smtp?.close(), push?.close()]);
  });

  async function sensor(id: string, extra: Record<string, unknown> = {}) {
    const p = registerSensor(k.registry, { id, name: `${id} アンダーパス`, nameEn: `${id} underpass`, lat: 34.27, lon: 135.39, ...extra }, Date.now());
    const client = await connectMqtt(k.mqttUrl!, { username: p.mqtt.username, password: p.mqtt.password });
    clients.push(client);
    return client;
  }

  /** Publish levels `stepMs` apart in device time from `start`. */
  async function publishAt(client: MqttClient, id: string, start: number, levels: number[], stepMs = 10 * MIN) {
    for (const [i, level_cm] of levels.entries()) await publishReading(client, id, { ts: start + i * stepMs, level_cm });
  }
  /** Publish levels `stepMs` apart in device time, the last one now. */
  async function publishSeries(client: MqttClient, id: string, levels: number[], stepMs = 10 * MIN) {
    await publishAt(client, id, Date.now() - (levels.length - 1) * stepMs, levels, stepMs);
  }

  const ofSensor = (id: string) => (r: { json?: any }) => r.json?.alert?.sensor_id === id || r.json?.sensor_id === id;

  it('rising and falling water yields exactly raised → escalated → escalated → resolved on every channel, for one alert', async () => {
    const sse = openSse(`${k.httpUrl}/api/events`);
    // Hourly reporting: readings back-dated 90 min are not yet `offline` (3 × interval).
    const client = await sensor('rise-01', { intervalS: 3600 });
    const sub = push.subscribe();
    const res = await fetch(`${k.httpUrl}/api/push/subscriptions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: k.httpUrl },
      body: JSON.stringify({ subscription: sub, sensors: ['rise-01'], min_status: 'caution', lang: 'ja' }),
    });
    expect(res.status).toBe(201);
    // The subscription's first two encryption keys are prepared in the background (RFC 8291 key agreement ahead of
    // need); the first two pushes use them, the next two prepare their own before the refill: both paths are decrypted below.
    await waitFor(async () => (await (await fetch(`${k.httpUrl}/metrics`)).text()).includes('kansui_alert_prepared{channel="webpush"} 2'), { what: 'prepared push keys' });

    // 0 → 31 cm and back: caution at 12, warning at 22 (also rising 10 cm/10 min), danger at 31,
    // 29 stays inside the dead band, 25 and 24 ease to warning after the hold, 5 and 4 resolve.
    const start = Date.now() - 9 * 10 * MIN;
    await publishAt(client, 'rise-01', start, [0, 4, 12, 22, 31]);
    const active = await (await fetch(`${k.httpUrl}/api/alerts?active=true&sensor=rise-01`)).json();
    expect(active.alerts).toHaveLength(1);
    const alertId = active.alerts[0].id as string;
    expect(active.alerts[0]).toMatchObject({ severity: 'danger', level_name: '危険', level_cm: 31, state: 'raised' });

    const ack = await fetch(`${k.httpUrl}/api/alerts/${alertId}/ack`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${staffToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ note: '通行止め手配済み' }),
    });
    expect(ack.status).toBe(200);
    expect(await ack.json()).toMatchObject({ state: 'acknowledged', acknowledged_by: 'tanaka', ack_note: '通行止め手配済み' });

    await publishAt(client, 'rise-01', start + 5 * 10 * MIN, [29, 25, 24, 5, 4]);
    await k.alerting.idle();

    const expected = ['raised', 'escalated', 'escalated', 'resolved'];
    const hooks = webhook.received.filter(ofSensor('rise-01'));
    expect(hooks.map((h) => h.json.event)).toEqual(expected);
    expect(hooks.map((h) => h.json.alert.severity)).toEqual(['caution', 'warning', 'danger', 'warning']);
    expect(hooks.map((h) => h.json.alert.level_name)).toEqual(['注意', '警戒', '危険', '警戒']);
    expect(hooks.map((h) => h.json.alert.level_cm)).toEqual([12, 22, 31, 4]);
    expect(new Set(hooks.map((h) => h.json.alert.id))).toEqual(new Set([alertId]));
    expect(hooks[3]!.json.alert).toMatchObject({ peak_severity: 'danger', state: 'resolved', resolved_reason: 'level_normal' });
    expect(webhook.rejected()).toBe(0);

    const lines = line.received.filter((r) => r.text.includes('rise-01'));
    expect(lines.map((r) => r.text.slice(0, 4))).toEqual(['【注意】', '【警戒】', '【危険】', '【解除】']);
    expect(lines.every((r) => r.json.to === LINE_USER)).toBe(true);

    const mails = smtp.received.filter((r) => r.text.includes('rise-01'));
    expect(mails.map((m) => m.text.slice(0, 4))).toEqual(['【注意】', '【警戒】', '【危険】', '【解除】']);
    expect(mails[2]!.text).toContain('[DANGER] rise-01 underpass 31 cm');
    expect(mails[2]!.text).toContain('rise-01 アンダーパス の水位が危険に上がりました');
    expect(mails.every((m) => m.headers['envelope-to'] === 'bousai@city.test')).toBe(true);

    const pushes = push.received.filter(ofSensor('rise-01'));
    expect(pushes.map((p) => p.json.event)).toEqual(expected);
    expect(pushes.map((p) => p.json.title.slice(0, 4))).toEqual(['【注意】', '【警戒】', '【危険】', '【解除】']);
    expect(push.failures()).toBe(0);

    // Every attempt is in the staff-visible delivery log: 4 notices × 4 channels, all delivered first time.
    const log = await (await fetch(`${k.httpUrl}/api/alert-deliveries?alert=${alertId}`, { headers: { Authorization: `Bearer ${staffToken}` } })).json();
    expect(log.deliveries).toHaveLength(16);
    expect(log.deliveries.every((d: any) => d.ok && d.final && d.attempt === 1)).toBe(true);
    expect(new Set(log.deliveries.map((d: any) => d.channel))).toEqual(new Set(['webhook', 'line', 'email', 'webpush']));

    // One alert for the episode, its whole story on the timeline; SSE saw every change.
    const detail = await (await fetch(`${k.httpUrl}/api/alerts/${alertId}`, { headers: { Authorization: `Bearer ${staffToken}` } })).json();
    expect(detail.timeline.map((e: any) => e.type)).toEqual(['raised', 'escalated', 'escalated', 'acknowledged', 'updated', 'eased', 'resolved']);
    expect(detail.timeline[3]).toMatchObject({ actor: 'tanaka', note: '通行止め手配済み' });
    const history = await (await fetch(`${k.httpUrl}/api/alerts?sensor=rise-01`)).json();
    expect(history.alerts).toHaveLength(1);
    await sse.waitFor((e) => e.event === 'alert' && JSON.parse(e.data).event === 'resolved' && JSON.parse(e.data).sensor_id === 'rise-01');
    const sseEvents = sse.events.filter((e) => e.event === 'alert').map((e) => JSON.parse(e.data)).filter((d) => d.sensor_id === 'rise-01');
    expect(sseEvents.map((d) => d.event)).toEqual(['raised', 'escalated', 'escalated', 'acknowledged', 'updated', 'eased', 'resolved']);
    expect(sseEvents[0]).not.toHaveProperty('acknowledged_by');
    await sse.close();
  });

  it('water hovering at a threshold raises one alert, not many', async () => {
    const client = await sensor('hover-01', { intervalS: 3600 });
    // Around the 10 cm caution line, every 5 minutes for an hour; never below 10 − 2 cm.
    await publishSeries(client, 'hover-01', [0, 3, 10.2, 9.1, 10.8, 9.4, 8.6, 10.1, 9.9, 8.3, 10.5, 9.2, 11, 9.6], 5 * MIN);
    await k.alerting.idle();
    const hooks = webhook.received.filter(ofSensor('hover-01'));
    expect(hooks.map((h) => h.json.event)).toEqual(['raised']);
    const alerts = await (await fetch(`${k.httpUrl}/api/alerts?sensor=hover-01`)).json();
    expect(alerts.alerts).toHaveLength(1);
    expect(alerts.alerts[0]).toMatchObject({ severity: 'caution', state: 'raised' });
  });

  it('a silent sensor raises offline after 3 × its interval, resolved by its next reading', async () => {
    const client = await sensor('quiet-01', { intervalS: 10 });
    await publishReading(client, 'quiet-01', { ts: Date.now() - 31_000, level_cm: 1 });
    const raised = await waitFor(() => webhook.received.find((r) => ofSensor('quiet-01')(r) && r.json.alert.kind === 'offline'), { what: 'offline alert' });
    expect(raised.json).toMatchObject({ event: 'raised', alert: { kind: 'offline', severity: 'caution', level_name: '欠測' } });
    await publishReading(client, 'quiet-01', { level_cm: 1 });
    await k.alerting.idle();
    const events = webhook.received.filter(ofSensor('quiet-01')).map((r) => `${r.json.alert.kind}:${r.json.event}`);
    expect(events).toEqual(['offline:raised', 'offline:resolved']);
    const a = (await (await fetch(`${k.httpUrl}/api/alerts?sensor=quiet-01`)).json()).alerts[0];
    expect(a).toMatchObject({ state: 'resolved', resolved_reason: 'reading_received' });
  });

  it('low battery raises a staff alert once and clears after the battery is replaced; a single implausible jump raises nothing', async () => {
    const client = await sensor('batt-01', { intervalS: 3600 });
    const t0 = Date.now() - 40 * MIN;
    const levels = [2, 2, 85, 3, 3];
    const volts = [3.6, 3.25, 3.28, 3.31, 3.6];
    for (let i = 0; i < levels.length; i++) await publishReading(client, 'batt-01', { ts: t0 + i * 10 * MIN, level_cm: levels[i], battery_v: volts[i] });
    await k.alerting.idle();
    const events = webhook.received.filter(ofSensor('batt-01')).map((r) => `${r.json.alert.kind}:${r.json.event}`);
    // 85 cm between two 2–3 cm readings is held, then discarded: no flood alert.
    expect(events).toEqual(['low_battery:raised', 'low_battery:resolved']);
    const a = (await (await fetch(`${k.httpUrl}/api/alerts?sensor=batt-01`)).json()).alerts[0];
    expect(a).toMatchObject({ kind: 'low_battery', state: 'resolved', resolved_reason: 'battery_ok', battery_v: 3.25 });
  });

  it('maintenance mode suppresses flood alerts (a 危険 reading still reaches staff, issue 12), and putting a sensor into maintenance resolves its active alert', async () => {
    const client = await sensor('maint-01', { state: 'maintenance' });
    await publishSeries(client, 'maint-01', [0, 35, 40]);
    await k.alerting.idle();
    // No flood alert and no resident push; staff get one maintenance_danger alert for the episode, to check the work or the water.
    expect(webhook.received.filter(ofSensor('maint-01')).map((r) => [r.json.event, r.json.alert.kind])).toEqual([['raised', 'maintenance_danger']]);
    expect((await (await fetch(`${k.httpUrl}/api/alerts?sensor=maint-01`)).json()).alerts.map((a: { kind: string }) => a.kind)).toEqual(['maintenance_danger']);

    const other = await sensor('maint-02');
    await publishSeries(other, 'maint-02', [0, 25]);
    k.registry.update('maint-02', { state: 'maintenance', updatedAt: Date.now() });
    const done = await waitFor(async () => {
      const a = (await (await fetch(`${k.httpUrl}/api/alerts?sensor=maint-02`)).json()).alerts[0];
      return a?.state === 'resolved' ? a : undefined;
    }, { what: 'maintenance resolution' });
    expect(done).toMatchObject({ resolved_reason: 'maintenance', peak_severity: 'warning' });
    await k.alerting.idle();
    expect(webhook.received.filter(ofSensor('maint-02')).map((r) => r.json.event)).toEqual(['raised', 'resolved']);
  });
});
