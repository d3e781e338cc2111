import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import type { HubEvent } from '../../services/api/event-hub.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { lineEvent, lineUserId, postWebhook, startLineApiServer, type LineApiServer } from '../helpers/line-api-server.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { waitFor } from '../helpers/wait.ts';
import { createTestToken } from '../helpers/console.ts';

/**
 * Issue 14, cost and quota: LINE's quota and consumption on /metrics, a staff
 * warning at LINE_QUOTA_WARN_SHARE, and the admin's choice of what residents
 * get while the quota is short (LINE_QUOTA_SHORT_MIN_LEVEL, here 危険 only).
 * Also: the residents' LINE calls go through the alert channels' outbound policy.
 */
const SECRET = 'quota-channel-secret-0123456789';
const TOKEN = 'quota-channel-access-token';
let line: LineApiServer;
let k: TestKansui;
let mqtt: MqttClient;
let password: string;
const warnings: HubEvent[] = [];
/** Flood episodes ended, counted from the SSE hub's `alert` events. */
let resolved = 0;

beforeAll(async () => {
  line = await startLineApiServer(TOKEN);
  line.quota.value = 100;
  line.quota.totalUsage = 10;
  k = await startTestKansui({
    LINE_CHANNEL_TOKEN: TOKEN,
    LINE_CHANNEL_SECRET: SECRET,
    LINE_API_BASE: line.baseUrl,
    ALERT_ALLOW_PRIVATE_TARGETS: `127.0.0.1:${line.port}`,
    ALERT_HOLD_S: '0',
    LINE_QUOTA_WARN_SHARE: '0.8',
    LINE_QUOTA_SHORT_MIN_LEVEL: 'danger',
  });
  password = registerSensor(k.registry, { id: 'kinokawa-01', name: '打田駅前アンダーパス', lat: 34.2711, lon: 135.3952 }, Date.now()).mqtt.password;
  await k.line?.idle();
  k.hub.subscribe((e) => {
    if (e.event === 'line_quota') warnings.push(e);
    if (e.event === 'alert' && (JSON.parse(e.data) as { event: string }).event === 'resolved') resolved++;
  });
  const events = [1, 2].flatMap((i) => [lineEvent(line, lineUserId(i), { type: 'follow' }), lineEvent(line, lineUserId(i), { type: 'message', message: { id: '1', type: 'text', text: '登録 打田駅前アンダーパス 注意' } })]);
  expect((await postWebhook(`${k.httpUrl}/api/line/webhook`, SECRET, events)).status).toBe(200);
  await k.line?.idle();
  mqtt = await connectMqtt(k.mqttUrl as string, { username: 'kinokawa-01', password });
}, 30_000);

afterAll(async () => {
  await mqtt?.endAsync(true).catch(() => undefined);
  await k?.dispose();
  await line?.close();
});

let ts = Date.now() - 60 * 60_000;
async function storm(levels: number[]) {
  const ended = resolved + 1;
  for (const level of levels) await publishReading(mqtt, 'kinokawa-01', { ts: (ts += 60_000), level_cm: level });
  // The alert engine runs after the commit; wait until this episode has ended, then for the pushes.
  await waitFor(() => resolved >= ended, { what: 'episode resolved' });
  await k.line?.idle();
}

describe('LINE quota', () => {
  it('with room in the quota, every level the residents chose is pushed', async () => {
    await storm([5, 12, 22, 2]);
    expect(line.multicasts.map((c) => c.json.messages[0].text.split('\n')[0])).toEqual(['【注意】打田駅前アンダーパス 12 cm', '【警戒】打田駅前アンダーパス 22 cm', '【解除】打田駅前アンダーパス（冠水）']);
    expect(line.quota.totalUsage).toBe(10 + 3 * 2);
    expect(warnings).toEqual([]);
  });

  it('at the warning share: staff are told, /metrics shows it, and only episodes reaching 危険 are pushed', async () => {
    line.quota.totalUsage = 85;
    await k.line?.readQuota();
    expect(warnings.map((w) => JSON.parse(w.data))).toEqual([{ limit: 100, used: 85, share: 0.8, short_min_level: 'danger' }]);
    const metrics = await (await fetch(`${k.httpUrl}/metrics`)).text();
    expect(metrics).toContain('kansui_line_quota_messages 100');
    expect(metrics).toContain('kansui_line_quota_used_messages 85');
    expect(metrics).toContain('kansui_line_quota_short 1');
    // The same for the staff board, staff only.
    expect((await fetch(`${k.httpUrl}/api/line/status`)).status).toBe(401);
    const staff = createTestToken(k, 'line-staff', 'staff');
    const status = await (await fetch(`${k.httpUrl}/api/line/status`, { headers: { Authorization: `Bearer ${staff}` } })).json();
    expect(status).toEqual({
      quota: { limit: 100, used: 85, short: true, warn_share: 0.8, short_min_level: 'danger' },
      residents: { users: 2, subscriptions: 2 },
      pushed: { messages: 6, requests: 3, skipped_quota_short: 0 },
    });

    const before = line.multicasts.length;
    await storm([5, 12, 22, 2]); // peaks at 警戒: nothing
    expect(line.multicasts.length).toBe(before);
    await storm([5, 12, 22, 32, 2]); // reaches 危険: that step and the all clear
    expect(line.multicasts.slice(before).map((c) => c.json.messages[0].text.split('\n')[0])).toEqual(['【危険】打田駅前アンダーパス 32 cm', '【解除】打田駅前アンダーパス（冠水）']);
    expect(k.line?.stats().skippedShort).toBe(3 + 2);
  });

  it('an admin chooses what is sent while short (PUT /api/line/settings): 警戒 and above', async () => {
    const put = (token: string, body: unknown) =>
      fetch(`${k.httpUrl}/api/line/settings`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    expect((await put(createTestToken(k, 'line-staff-2', 'staff'), { quota_short_min_level: 'warning' })).status).toBe(403);
    const admin = createTestToken(k, 'line-admin', 'admin');
    expect((await put(admin, { quota_short_min_level: 'extreme' })).status).toBe(400);
    const res = await put(admin, { quota_short_min_level: 'warning' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ quota_short_min_level: 'warning' });
    // Audited in words (issue 13's board), not as a generic http.write.
    const audit = (await (await fetch(`${k.httpUrl}/api/audit?limit=5`, { headers: { Authorization: `Bearer ${admin}` } })).json()) as { entries: { action: string; words: { en: string } }[] };
    expect(audit.entries[0]?.action).toBe('line.settings');
    expect(audit.entries[0]?.words.en).toMatch(/^line-admin set what LINE residents get while the quota is short to warning and above \(was danger\) at \d\d:\d\d$/);
    const before = line.multicasts.length;
    await storm([5, 12, 22, 2]); // peaks at 警戒: now pushed, 注意 still not
    expect(line.multicasts.slice(before).map((c) => c.json.messages[0].text.split('\n')[0])).toEqual(['【警戒】打田駅前アンダーパス 22 cm', '【解除】打田駅前アンダーパス（冠水）']);
  });
});

describe('welcome without LINE_AREAS', () => {
  it('offers the sensors most residents follow as buttons', async () => {
    const ev = lineEvent(line, lineUserId(7), { type: 'follow' });
    expect((await postWebhook(`${k.httpUrl}/api/line/webhook`, SECRET, [ev])).status).toBe(200);
    await k.line?.idle();
    const welcome = line.replies.get(ev.replyToken as string)?.[0];
    expect(welcome.quickReply.items.map((i: { action: { label: string } }) => i.action.label)).toEqual(['現在地の近く', '打田駅前アンダーパス']);
  });
});

describe('outbound policy', () => {
  it('a LINE_API_BASE name resolving to a loopback address not allowed is refused at connect time', async () => {
    const refusing = await startTestKansui(
      { LINE_CHANNEL_TOKEN: TOKEN, LINE_CHANNEL_SECRET: SECRET, LINE_API_BASE: `http://line.test:${line.port}` },
      { outboundLookup: async () => [{ address: '127.0.0.1', family: 4 }] },
    );
    try {
      const calls = line.calls.length;
      expect((await postWebhook(`${refusing.httpUrl}/api/line/webhook`, SECRET, [lineEvent(line, lineUserId(9), { type: 'follow' })])).status).toBe(200);
      await refusing.line?.idle();
      expect(line.calls.length).toBe(calls);
      const metrics = await (await fetch(`${refusing.httpUrl}/metrics`)).text();
      expect(metrics).toMatch(/kansui_alert_outbound_refused_total\{channel="line",class="loopback"\} [1-9]/);
    } finally {
      await refusing.dispose();
    }
  });
});
