import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startWebhookReceiver } from '../helpers/alert-receivers.ts';
import { makeTempDir, startTestKansui, type TestKansui } from '../helpers/kansui.ts';

const SECRET = 'restart-test-webhook-secret';
const MIN = 60_000;

describe('alerts survive a restart', () => {
  const temp = makeTempDir('kansui-alert-restart-');
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let k: TestKansui | undefined;
  beforeAll(async () => {
    webhook = await startWebhookReceiver(SECRET);
  });
  afterAll(async () => {
    await k?.stop();
    await webhook?.close();
    temp.remove();
  });

  // The receiver is on loopback: listed as an operator lists an internal webhook (issue 10).
  const env = () => ({ ALERT_WEBHOOK_URLS: webhook.url, ALERT_WEBHOOK_SECRET: SECRET, ALERT_ALLOW_PRIVATE_TARGETS: new URL(webhook.url).host });
  const submit = (kk: TestKansui, ts: number, level_cm: number) => kk.ingest.submit('rs-01', Buffer.from(JSON.stringify({ ts, level_cm })));

  it('the active alert and its level carry over: the episode continues as the same alert, not a new one', async () => {
    const t0 = Date.now() - 60 * MIN;
    k = await startTestKansui(env(), { dataDir: temp.dir, sweepMs: 60_000 });
    registerSensor(k.registry, { id: 'rs-01', name: '再起動テスト', lat: 34.27, lon: 135.39, intervalS: 3600 }, Date.now());
    await submit(k, t0, 0);
    await submit(k, t0 + 10 * MIN, 25);
    await k.alerting.idle();
    await k.stop();

    k = await startTestKansui(env(), { dataDir: temp.dir, sweepMs: 60_000 });
    await submit(k, t0 + 20 * MIN, 24); // still warning: nothing new
    await submit(k, t0 + 30 * MIN, 31); // danger: the same alert escalates
    await submit(k, t0 + 40 * MIN, 2);
    await submit(k, t0 + 50 * MIN, 1); // below 8 cm for the 10-min hold: resolved
    await k.alerting.idle();

    const hooks = webhook.received.map((r) => r.json);
    expect(hooks.map((h) => `${h.event}:${h.alert.severity}`)).toEqual(['raised:warning', 'escalated:danger', 'resolved:danger']);
    expect(new Set(hooks.map((h) => h.alert.id)).size).toBe(1);
    const all = (await (await fetch(`${k.httpUrl}/api/alerts?sensor=rs-01`)).json()).alerts;
    expect(all).toHaveLength(1);
    const metrics = await (await fetch(`${k.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/kansui_alert_events_total\{event="escalated",kind="flood",severity="danger"\} 1/);
    expect(metrics).toMatch(/kansui_alert_delivery_attempts_total\{channel="webhook",outcome="ok"\} 2/);
  });
});
