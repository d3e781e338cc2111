import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../firmware-sim/simulator.ts';
import { registerSensor } from '../../services/sensors/provision.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { TEST_PASSWORD, createTestUser } from '../helpers/console.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { runAxe } from '../helpers/map-page.ts';
import { waitFor } from '../helpers/wait.ts';
import { startLineApiServer, type LineApiServer } from '../helpers/line-api-server.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

/**
 * Issue 13, "done when": the simulator drives a storm and the staff board
 * (desktop) follows it without a reload — levels, the new 危険 alert with its
 * cue, a reminder while nobody answers; a second member of staff
 * acknowledges from a phone with one tap plus a note; a road closure set on
 * the phone appears on the public map; the wall-screen map shows the same
 * sensors.
 */
describe('staff situation board in real Chromium (desktop and phone) during a simulated storm', () => {
  let k: TestKansui;
  let browser: Browser;
  let sim: Simulator | undefined;
  let line: LineApiServer;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // LINE on, so the board shows its quota and consumption (issue 14's gap on this board).
    line = await startLineApiServer('board-line-token');
    line.quota.totalUsage = 820;
    line.quota.value = 1000;
    k = await startTestKansui({ ALERT_REMIND_S: '2', LINE_CHANNEL_TOKEN: 'board-line-token', LINE_CHANNEL_SECRET: 'board-line-secret', LINE_API_BASE: line.baseUrl, ALERT_ALLOW_PRIVATE_TARGETS: `127.0.0.1:${line.port}` }, { sweepMs: 500 });
    await k.line?.readQuota();
    await createTestUser(k, 'sato', 'staff');
    await createTestUser(k, 'suzuki', 'staff');
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await sim?.stop();
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await k?.dispose();
    await line?.close();
  });

  async function openBoard(username: string, options: Parameters<Browser['newContext']>[0] = {}, base = k.httpUrl): Promise<Page> {
    const ctx = await browser.newContext({ locale: 'ja-JP', ...options });
    contexts.push(ctx);
    const p = await ctx.newPage();
    // Record what the board asks of the browser: notifications shown, tones started (headless Chromium plays no sound).
    await p.addInitScript(() => {
      const w = window as unknown as { shown: string[]; tones: number };
      w.shown = [];
      w.tones = 0;
      class FakeNotification {
        static permission = 'granted';
        static requestPermission = async () => 'granted';
        constructor(title: string) {
          w.shown.push(title);
        }
      }
      (window as unknown as { Notification: unknown }).Notification = FakeNotification;
      const Real = window.AudioContext;
      (window as unknown as { AudioContext: unknown }).AudioContext = class extends Real {
        override createOscillator() {
          w.tones++;
          return super.createOscillator();
        }
      };
    });
    p.on('pageerror', (e) => pageErrors.push(`${username}: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error' && !/tile|Failed to load resource/i.test(m.text())) pageErrors.push(`${username}: ${m.text()}`);
    });
    await p.goto(`${base}/console/`);
    await p.fill('#username', username);
    await p.fill('#password', TEST_PASSWORD);
    await p.click('#sign-in');
    await p.waitForSelector('#sensor-table');
    await p.click('nav a[href="#/board"]');
    await p.waitForSelector('#board-live[data-state="live"]');
    // Marks this document: if the page reloaded, the mark would be gone.
    await p.evaluate(() => ((window as unknown as { boardMark: number }).boardMark = 42));
    return p;
  }

  it('follows the storm live, acknowledges from a phone, shows a closure on the public map', async () => {
    const { mqtt } = registerSensor(k.registry, { id: 'sim-uchita', name: '打田駅前アンダーパス', address: '紀の川市打田', lat: 34.2711, lon: 135.3952, intervalS: 60 }, Date.now());
    registerSensor(k.registry, { id: 'sim-dry', name: '乾いた交差点', lat: 34.28, lon: 135.4, intervalS: 3600 }, Date.now());

    const desk = await openBoard('sato');
    await desk.check('#board-notify'); // sound is on by default; notifications are asked for
    expect(await desk.textContent('#board-empty')).toContain('ありません');
    // LINE quota and consumption (GET /api/line/status), with the short-quota warning at 82 % of 1,000.
    await desk.locator('#board-line[data-short="true"]').waitFor();
    expect(await desk.textContent('#board-line')).toMatch(/LINE 今月の送信数 820 \/ 1000（82%）.*危険 以上のみ配信中/);
    // A health alert shows battery and signal.
    await k.ingest.submit('sim-dry', Buffer.from(JSON.stringify({ ts: Date.now(), level_cm: 0, battery_v: 3.1, rssi_dbm: -101 })));
    const dry = desk.locator('article[data-sensor-id="sim-dry"]');
    await dry.waitFor({ timeout: 10_000 });
    expect(await dry.locator('.board-alert').textContent()).toMatch(/電池低下.*電池 3\.1 V · 電波 -101 dBm/);

    // 80 cm at the peak an hour into the storm, 120× faster: 危険 (30 cm) within about 15 s, and for well over a minute.
    sim = createSimulator({
      url: k.mqttUrl as string,
      sensors: [{ id: 'sim-uchita', username: mqtt.username, password: mqtt.password, kind: 'level', site: { peakRiseCm: 80, timeToPeakS: 3600 } }],
      scenario: 'heavy-rain',
      timeScale: 120,
      intervalS: 0.25,
      seed: 13,
    });
    await sim.start();

    const card = desk.locator('article[data-sensor-id="sim-uchita"]');
    await card.waitFor({ timeout: 30_000 });
    expect(await card.locator('.board-name').textContent()).toBe('打田駅前アンダーパス'); // the name, not the id
    expect(await card.textContent()).toContain('紀の川市打田');
    const first = await card.locator('.board-level').textContent();
    await waitFor(async () => (await card.locator('.board-level').textContent()) !== first, { timeoutMs: 10_000, what: 'the level to move without reload' });
    await desk.locator('article[data-sensor-id="sim-uchita"][data-status="danger"]').waitFor({ timeout: 40_000 });
    const dangerAlert = await waitFor(() => k.alerting.store.active().find((a) => a.sensorId === 'sim-uchita' && a.severity === 'danger'), { timeoutMs: 10_000, what: 'the danger alert' });
    // The storm has done its part; stop it so the water stays at 危険 however slowly the rest runs on a loaded machine.
    await sim.stop();
    sim = undefined;
    // The cue (sound / notification) counted for a new and an escalated alert.
    await waitFor(async () => Number(await desk.locator('#view').getAttribute('data-cues')) >= 1, { what: 'a cue for the new alert' });
    const asked = await desk.evaluate(() => {
      const w = window as unknown as { shown: string[]; tones: number };
      return { shown: w.shown, tones: w.tones };
    });
    expect(asked.shown.some((x) => /^(新しい警報|警報の引き上げ): /.test(x))).toBe(true);
    expect(asked.tones).toBeGreaterThan(0);
    // Muted per user, remembered in this browser.
    await desk.uncheck('#board-sound');
    expect(await desk.evaluate(() => localStorage.getItem('kansui-board-sound'))).toBe('off');
    expect(await card.locator('.board-alert').first().textContent()).toContain('危険');
    expect(await card.textContent()).toMatch(/今回のピーク\d+(\.\d+)? cm（\d\d:\d\d）/);
    // Nobody acknowledged: a reminder goes out after ALERT_REMIND_S and the board says so.
    await card.locator('.board-reminded').waitFor({ timeout: 15_000 });
    expect(await card.locator('.board-reminded').first().textContent()).toMatch(/再通知 \d+ 回/);
    expect(k.alerting.store.events(dangerAlert.id).some((e) => e.type === 'reminded')).toBe(true);

    // A colleague on a phone: one tap on 確認 after typing the note.
    const phone = await openBoard('suzuki', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const phoneCard = phone.locator('article[data-sensor-id="sim-uchita"]');
    await phoneCard.waitFor();
    const box = (await phoneCard.boundingBox())!;
    expect(box.width).toBeLessThanOrEqual(390); // not cut off
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const ackButton = phoneCard.locator(`button.board-ack[data-alert-id="${dangerAlert.id}"]`);
    expect((await ackButton.boundingBox())!.height).toBeGreaterThanOrEqual(44); // a finger-sized target
    await phoneCard.locator(`input.board-note[data-alert-id="${dangerAlert.id}"]`).fill('現地確認に向かう');
    await ackButton.tap();
    await waitFor(() => k.alerting.store.get(dangerAlert.id)?.acknowledgedBy === 'suzuki', { what: 'the acknowledgement from the phone' });
    expect(k.alerting.store.get(dangerAlert.id)?.ackNote).toBe('現地確認に向かう');
    // The desk sees who acknowledged and the note, live.
    await card.locator('.board-acked', { hasText: 'suzuki' }).waitFor({ timeout: 10_000 });
    expect(await card.locator('.board-acked').first().textContent()).toContain('現地確認に向かう');

    // The phone closes the road; the public map shows it as the city's decision.
    await phoneCard.locator('button.board-close-road').tap();
    await phoneCard.locator('input.board-closure-reason').fill('冠水のため通行止め');
    await phoneCard.locator('button.board-close-confirm').tap();
    await card.locator('.board-closure').waitFor({ timeout: 10_000 });
    const publicCtx = await browser.newContext({ locale: 'ja-JP' });
    contexts.push(publicCtx);
    const map = await publicCtx.newPage();
    map.on('pageerror', (e) => pageErrors.push(`public: ${e.message}`));
    await map.goto(`${k.httpUrl}/`, { waitUntil: 'domcontentloaded' });
    const row = map.locator('.row-btn[data-sensor-id="sim-uchita"]');
    await row.waitFor();
    await row.locator('.row-closure', { hasText: '通行止め（市が設定）' }).waitFor();
    await row.click();
    await map.locator('#panel .panel-closure', { hasText: '冠水のため通行止め' }).waitFor();
    expect(await map.locator('#panel .panel-status').textContent()).not.toContain('通行止め'); // the sensor's status says what it measured
    // A drawn road segment: a red line on the map and the same as text above the list, live from the stream.
    const staffToken = k.users.issueToken(k.users.get('sato')!.id).token;
    const seg = await fetch(`${k.httpUrl}/api/closures`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${staffToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ segment: { name: '県道打田線 打田駅前〜東田中', path: [[135.395, 34.271], [135.4, 34.2725]] }, reason: '法面崩落' }),
    });
    expect(seg.status).toBe(201);
    const segId = ((await seg.json()) as { id: string }).id;
    await map.locator(`#closure-segments li[data-closure-id="${segId}"]`, { hasText: '県道打田線 打田駅前〜東田中' }).waitFor({ timeout: 10_000 });
    await map.waitForFunction(() => document.body.dataset.map === 'ready');
    await map.locator(`path.closure-segment[data-closure-id="${segId}"]`).waitFor({ state: 'attached', timeout: 10_000 });
    // The desk lists it and lifts it with one tap; the public map follows.
    await desk.locator(`#board-segments li[data-closure-id="${segId}"]`, { hasText: '法面崩落' }).waitFor({ timeout: 10_000 });
    await desk.locator(`#board-segments li[data-closure-id="${segId}"] button.board-lift`).click();
    await map.locator('#closure-segments').waitFor({ state: 'hidden', timeout: 10_000 });
    await desk.locator('#board-segments').waitFor({ state: 'hidden', timeout: 10_000 });

    // That public page was one map view for the plan indicators; the staff consoles, signed in, are none.
    const plan = (await (await fetch(`${k.httpUrl}/api/plan/indicators`, { headers: { Authorization: `Bearer ${k.users.issueToken(k.users.get('sato')!.id).token}` } })).json()) as { rows: { map_views: number }[] };
    expect(plan.rows.at(-1)?.map_views).toBe(1);

    // The wall screen: the same sensors on a map.
    await desk.click('#board-view-toggle');
    await waitFor(async () => Number(await desk.locator('#board-map').getAttribute('data-markers')) >= 1, { what: 'markers on the wall map' });
    expect(await desk.locator('.board-tip').first().textContent()).toContain('打田駅前アンダーパス');

    // Never reloaded.
    for (const p of [desk, phone]) expect(await p.evaluate(() => (window as unknown as { boardMark?: number }).boardMark)).toBe(42);
    await desk.click('#board-view-toggle');
    expect(await runAxe(desk), 'axe on the board').toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('closes a stretch of road drawn on the map', async () => {
    const p = await openBoard('suzuki');
    await p.click('#board-close-segment');
    await p.locator('#segment-map[data-ready="true"]').waitFor();
    await p.click('#segment-map', { position: { x: 80, y: 60 } });
    await p.click('#segment-map', { position: { x: 160, y: 90 } });
    await p.click('#segment-map', { position: { x: 240, y: 100 } });
    expect(await p.textContent('#segment-count')).toBe('3 点');
    await p.fill('#segment-name', '県道打田線 打田駅前〜東田中');
    await p.fill('#segment-reason', '倒木');
    await p.click('#segment-submit');
    await p.locator('#board-segments li', { hasText: '倒木' }).waitFor({ timeout: 10_000 });
    const { closures } = (await (await fetch(`${k.httpUrl}/api/closures`)).json()) as { closures: { segment?: { name: string; geometry: { coordinates: number[][] } } }[] };
    const drawn = closures.find((c) => c.segment?.name === '県道打田線 打田駅前〜東田中')!;
    expect(drawn.segment!.geometry.coordinates).toHaveLength(3);
    for (const [lon, lat] of drawn.segment!.geometry.coordinates) {
      expect(lon).toBeGreaterThan(134);
      expect(lat).toBeGreaterThan(33);
    }
    expect(await runAxe(p), 'axe on the segment form').toEqual([]);
  }, 120_000);

  it('says when it is not live and since when, and comes back by itself', async () => {
    // Through a proxy the test can cut, as a carrier drops a long-lived stream.
    const proxy = await startTcpProxy(k.httpPort);
    try {
      const p = await openBoard('sato', {}, proxy.url);
      proxy.cut();
      await p.locator('#board-live[data-state="down"]').waitFor({ timeout: 15_000 });
      expect(await p.textContent('#board-live')).toMatch(/ライブではありません（\d\d:\d\d から）/);
      proxy.restore();
      await p.locator('#board-live[data-state="live"]').waitFor({ timeout: 40_000 });
      expect(await p.evaluate(() => (window as unknown as { boardMark?: number }).boardMark)).toBe(42);
      expect(pageErrors.filter((e) => !/ERR_|net::|EventSource/i.test(e))).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 120_000);
});
