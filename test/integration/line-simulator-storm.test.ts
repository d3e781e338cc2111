import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator } from '../../firmware-sim/simulator.ts';
import type { AlertSeverity } from '../../services/core/alerts/policy.ts';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { lineEvent, lineUserId, postWebhook, startLineApiServer, type LineApiServer } from '../helpers/line-api-server.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * Issue 14 with the simulator's storm (firmware-sim heavy-rain, NRCS
 * hydrograph, noise on): whatever steps the alert engine takes, each
 * resident gets exactly one LINE message per notified step their level asks
 * for, in order, and nothing for the noise.
 */
const SECRET = 'sim-channel-secret-0123456789ab';
const TOKEN = 'sim-channel-access-token';
const N = 30;
const RANK: Record<AlertSeverity, number> = { caution: 1, warning: 2, danger: 3 };
const LEVELS: AlertSeverity[] = ['caution', 'warning', 'danger'];
let line: LineApiServer;
let k: TestKansui;
/** Flood steps the engine announced on the SSE hub, in order. */
const steps: { event: string; severity: AlertSeverity; peak: AlertSeverity }[] = [];

beforeAll(async () => {
  line = await startLineApiServer(TOKEN);
  k = await startTestKansui({
    LINE_CHANNEL_TOKEN: TOKEN,
    LINE_CHANNEL_SECRET: SECRET,
    LINE_API_BASE: line.baseUrl,
    ALERT_ALLOW_PRIVATE_TARGETS: `127.0.0.1:${line.port}`,
    ALERT_HOLD_S: '0',
  });
  k.hub.subscribe((e) => {
    if (e.event !== 'alert') return;
    const a = JSON.parse(e.data) as { event: string; kind: string; severity: AlertSeverity; peak_severity: AlertSeverity };
    if (a.kind === 'flood' && ['raised', 'escalated', 'resolved'].includes(a.event)) steps.push({ event: a.event, severity: a.severity, peak: a.peak_severity });
  });
  await k.line?.idle();
}, 30_000);

afterAll(async () => {
  await k?.dispose();
  await line?.close();
});

describe('LINE residents and the simulator’s heavy rain', () => {
  it('one message per notified step for each resident, as their level asks', async () => {
    const { mqtt } = registerSensor(k.registry, { id: 'sim-01', name: '粉河駅東アンダーパス', lat: 34.28, lon: 135.41 }, Date.now());
    const events = [];
    for (let i = 0; i < N; i++) {
      const u = lineUserId(0x5000 + i);
      events.push(lineEvent(line, u, { type: 'follow' }), lineEvent(line, u, { type: 'message', message: { id: String(i), type: 'text', text: `登録 粉河駅東アンダーパス ${['注意', '警戒', '危険'][i % 3]}` } }));
    }
    expect((await postWebhook(`${k.httpUrl}/api/line/webhook`, SECRET, events)).status).toBe(200);
    await k.line?.idle();
    const before = new Map([...line.inbox].map(([u, m]) => [u, m.length]));

    // 45 cm peak an hour into the storm, played 1,200 times faster: about 10 s from dry to dry, a reading every 0.1 s.
    const sim = createSimulator({
      url: k.mqttUrl as string,
      sensors: [{ id: 'sim-01', username: mqtt.username, password: mqtt.password, kind: 'level', site: { peakRiseCm: 45, timeToPeakS: 3600 } }],
      scenario: 'heavy-rain',
      timeScale: 1200,
      intervalS: 0.1,
      seed: 14,
    });
    await sim.start();
    try {
      await waitFor(() => steps.some((s) => s.event === 'resolved'), { timeoutMs: 60_000, intervalMs: 50, what: 'the storm to pass' });
    } finally {
      await sim.stop();
    }
    await k.line?.idle();

    expect(steps.map((s) => s.peak)).toContain('danger');
    const title = (s: (typeof steps)[number]) => (s.event === 'resolved' ? '【解除】' : `【${{ caution: '注意', warning: '警戒', danger: '危険' }[s.severity]}】`);
    let total = 0;
    for (let i = 0; i < N; i++) {
      const u = lineUserId(0x5000 + i);
      const level = LEVELS[i % 3] as AlertSeverity;
      const expected = steps.filter((s) => RANK[s.peak] >= RANK[level]).map(title);
      const got = (line.inbox.get(u) ?? []).slice(before.get(u) ?? 0).map((m) => m.slice(0, 4));
      expect(got, `resident ${i} (${level})`).toEqual(expected);
      total += got.length;
    }
    // Every step reaches the 注意 residents, so each step is exactly one multicast (30 ids, one language).
    expect(line.multicasts.length).toBe(steps.length);
    expect(total).toBe(line.multicasts.reduce((n, c) => n + c.json.to.length, 0));
    mkdirSync('test-results', { recursive: true });
    writeFileSync('test-results/line-simulator-storm.txt', `${steps.map((s) => `${s.event} ${s.severity} (peak ${s.peak})`).join('\n')}\nmessages: ${total} for ${N} residents (10 per level)\n`);
  }, 90_000);
});
