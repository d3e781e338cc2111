import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPushService, startWebhookReceiver } from '../helpers/alert-receivers.ts';
import { consoleFetch, createTestToken } from '../helpers/console.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { waitFor } from '../helpers/wait.ts';

const SECRET = 'maintenance-test-secret-0123';

// Issue 12: maintenance has a reason and an expected end, the public map shows them with
// the last reading, and a reading at 危険 during maintenance still reaches staff (it used to
// show only 点検中 and raise nothing), but never residents' pushes or the public CAP feed.
describe('maintenance: reason and end on the public API, 危険 readings still reach staff', () => {
  let k: TestKansui;
  let tech: string;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const pushOptions: { vapidPublicKey?: string } = {};
  let push: Awaited<ReturnType<typeof startPushService>>;

  beforeAll(async () => {
    [webhook, push] = await Promise.all([startWebhookReceiver(SECRET), startPushService(pushOptions)]);
    k = await startTestKansui(
      {
        ALERT_WEBHOOK_URLS: webhook.url,
        ALERT_WEBHOOK_SECRET: SECRET,
        ALERT_ALLOW_PRIVATE_TARGETS: [webhook.url, push.url].map((u) => new URL(u).host).join(','),
        PUSH_ALLOWED_HOSTS: push.url,
      },
      { sweepMs: 3_600_000, alerting: { retry: { baseDelayMs: 50, timeoutMs: 5_000 } } },
    );
    pushOptions.vapidPublicKey = ((await (await fetch(`${k.httpUrl}/api/push/vapid-public-key`)).json()) as { key: string }).key;
    tech = createTestToken(k, 'field-tech', 'technician');
  });
  afterAll(async () => {
    await k?.dispose();
    await Promise.all([webhook?.close(), push?.close()]);
  });

  const submit = async (level_cm: number) => {
    const r = await k.ingest.submit('m-1', Buffer.from(JSON.stringify({ ts: Date.now(), level_cm })));
    if (!r.ok) throw new Error(`rejected: ${r.reason}`);
  };
  const activeOf = (kind: string) => k.alerting.store.active().filter((a) => a.sensorId === 'm-1' && a.kind === kind);

  it('shows reason, expected end and the last reading publicly; a 危険 reading raises a staff alert that residents never get', async () => {
    expect((await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'm-1', name: '打田駅前アンダーパス', nameEn: 'Uchita Sta. underpass', lat: 34.27, lon: 135.39 } })).status).toBe(201);
    await submit(2);
    // A resident follows this sensor at 危険.
    const sub = await fetch(`${k.httpUrl}/api/push/subscriptions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: k.httpUrl },
      body: JSON.stringify({ subscription: push.subscribe(), sensors: ['m-1'], min_status: 'caution', lang: 'ja' }),
    });
    expect(sub.status).toBe(201);

    const until = Date.parse('2030-07-01T18:00:00+09:00');
    const patched = await consoleFetch(k, 'PATCH', '/api/sensors/m-1', { token: tech, body: { state: 'maintenance', maintenanceReason: '排水ポンプ交換', maintenanceUntil: until } });
    expect(patched.status).toBe(200);
    await submit(31.9);

    const feature = (await (await fetch(`${k.httpUrl}/api/sensors/m-1`)).json()) as { properties: Record<string, unknown> };
    expect(feature.properties).toMatchObject({ state: 'maintenance', level_cm: 31.9, maintenance: { reason: '排水ポンプ交換', until: '2030-07-01T18:00:00.000+09:00' } });

    // Staff hear of it, with words that say what to check.
    expect(activeOf('maintenance_danger')).toHaveLength(1);
    expect(activeOf('flood')).toHaveLength(0);
    const [hook] = await webhook.waitForCount(1);
    expect(hook?.text).toContain('点検中');
    expect(hook?.text).toContain('31.9 cm');
    expect(hook?.json).toMatchObject({ alert: { kind: 'maintenance_danger', severity: 'danger' } });

    // Residents do not: no push, nothing in the public CAP feed.
    const cap = await (await fetch(`${k.httpUrl}/api/alerts.cap`)).text();
    expect(cap).not.toContain('m-1');
    await k.alerting.dispatcher.idle();
    expect(push.received).toHaveLength(0);

    // One alert per episode; it ends with the water below 危険 (by the dead band) …
    await submit(33);
    expect(k.alerting.store.list({ sensorId: 'm-1', limit: 10 }).filter((a) => a.kind === 'maintenance_danger')).toHaveLength(1);
    await submit(10);
    expect(activeOf('maintenance_danger')).toHaveLength(0);
    await submit(32);
    expect(activeOf('maintenance_danger')).toHaveLength(1);
    // … or when maintenance ends, and then the sensor is judged as any other again.
    expect((await consoleFetch(k, 'PATCH', '/api/sensors/m-1', { token: tech, body: { state: 'active', maintenanceReason: null, maintenanceUntil: null } })).status).toBe(200);
    await waitFor(() => (k.registry.refresh(), k.registry.get('m-1')?.state === 'active'));
    k.alerting.sweep();
    expect(activeOf('maintenance_danger')).toHaveLength(0);
    expect(k.alerting.store.list({ sensorId: 'm-1', limit: 10 }).find((a) => a.kind === 'maintenance_danger' && a.resolvedReason === 'maintenance_ended')).toBeDefined();
    const after = (await (await fetch(`${k.httpUrl}/api/sensors/m-1`)).json()) as { properties: Record<string, unknown> };
    expect(after.properties.maintenance).toBeNull();
  });
});
