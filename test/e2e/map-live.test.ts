import type { Browser, Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { ingestReading, newMapContext, openMap, seedSensors, TEST_TILE_URL } from '../helpers/map-page.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

/** Sensors in every state the map must tell apart. */
const SENSORS = [
  { id: 'n1', name: '打田駅前アンダーパス', lat: 34.271, lon: 135.395 },
  { id: 'c1', name: '粉河橋南', lat: 34.275, lon: 135.405 },
  { id: 'w1', name: '名手市場交差点', lat: 34.268, lon: 135.41 },
  { id: 'd1', name: '岩出橋下', lat: 34.265, lon: 135.39 },
  { id: 'never', name: '貴志川線高架下', lat: 34.28, lon: 135.385 },
  { id: 'silent', name: '桃山町道', lat: 34.259, lon: 135.43 },
  { id: 'm1', name: '那賀町道', lat: 34.262, lon: 135.42, state: 'maintenance' as const },
  { id: 'gone', name: '廃止センサー', lat: 34.27, lon: 135.44, state: 'retired' as const },
  { id: 'live1', name: '紀の川大橋北', lat: 34.273, lon: 135.4 },
  { id: 'fast', name: '20秒間隔センサー', lat: 34.276, lon: 135.39, intervalS: 20 },
];
const EXPECTED: Record<string, string> = {
  n1: 'normal', c1: 'caution', w1: 'warning', d1: 'danger', never: 'offline', silent: 'offline', m1: 'maintenance', live1: 'normal', fast: 'normal',
};

describe('public map: statuses and live updates in real Chromium', () => {
  let k: TestKansui;
  let browser: Browser;
  let mqtt: MqttClient;

  beforeAll(async () => {
    k = await startTestKansui({ MAP_TILE_URL: TEST_TILE_URL });
    const passwords = seedSensors(k, SENSORS);
    const now = Date.now();
    await ingestReading(k, 'n1', { ts: now - 60_000, level_cm: 2 });
    await ingestReading(k, 'c1', { ts: now - 60_000, level_cm: 12 });
    await ingestReading(k, 'w1', { ts: now - 60_000, level_cm: 24 });
    await ingestReading(k, 'd1', { ts: now - 60_000, level_cm: 41 });
    // 35 min ago with a 10 min interval: past 3 × interval, so offline although its last level was dangerous.
    await ingestReading(k, 'silent', { ts: now - 35 * 60_000, level_cm: 45 });
    await ingestReading(k, 'm1', { ts: now - 60_000, level_cm: 1 });
    await ingestReading(k, 'live1', { ts: now - 60_000, level_cm: 3 });
    mqtt = await connectMqtt(k.mqttUrl!, { username: 'live1', password: passwords.get('live1')! });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await mqtt?.endAsync();
    await browser?.close();
    await k?.dispose();
  });

  async function statusesOf(page: Page, selector: string): Promise<Record<string, string>> {
    return page.$$eval(selector, (els) => Object.fromEntries(els.map((e) => [(e as HTMLElement).dataset.sensorId, (e as HTMLElement).dataset.status])));
  }

  it('shows every public sensor on the map and in the list with the right status, words and order', async () => {
    await ingestReading(k, 'fast', { ts: Date.now(), level_cm: 1 }); // 20 s interval: fresh for a minute
    const context = await newMapContext(browser);
    const page = await context.newPage();
    await openMap(page, k.httpUrl, Object.keys(EXPECTED).length);
    await page.waitForFunction((n) => document.querySelectorAll('.mk[data-sensor-id]').length === n, Object.keys(EXPECTED).length);

    expect(await statusesOf(page, '#list [data-sensor-id]')).toEqual(EXPECTED);
    expect(await statusesOf(page, '.mk[data-sensor-id]')).toEqual(EXPECTED);
    // Status by text too, and grey symbol for offline (not its last, dangerous colour).
    expect(await page.textContent('#list [data-sensor-id="silent"] .row-status')).toBe('欠測');
    expect(await page.textContent('#list [data-sensor-id="m1"] .row-status')).toBe('点検中');
    expect(await page.textContent('#list [data-sensor-id="d1"] .row-status')).toBe('危険');
    // The symbol is a CSS background per status: the silent sensor wears the offline one, not danger's.
    const symbol = (id: string) => page.$eval(`.mk[data-sensor-id="${id}"]`, (el) => getComputedStyle(el).backgroundImage);
    expect(await symbol('silent')).toBe(await symbol('never'));
    expect(await symbol('silent')).not.toBe(await symbol('d1'));
    expect(await symbol('d1')).toMatch(/^url\("data:image\/svg\+xml/);
    expect(await page.getAttribute('.mk[data-sensor-id="d1"]', 'aria-label')).toContain('危険');
    // Most severe first: danger, warning, then offline before caution.
    const order = await page.$$eval('#list [data-sensor-id]', (els) => els.map((e) => (e as HTMLElement).dataset.status));
    expect(order.slice(0, 4)).toEqual(['danger', 'warning', 'offline', 'offline']);
    expect(order.indexOf('caution')).toBeGreaterThan(order.lastIndexOf('offline'));
    expect(await page.textContent('#list [data-sensor-id="n1"] .row-time')).toBe('1分前');
    await context.close();
  });

  it('with no map tiles reachable, every marker and the list still show, and the page says why the background is blank', async () => {
    const context = await newMapContext(browser);
    await context.route('https://tiles.invalid/**', (route) => route.abort('internetdisconnected')); // overrides the blank tiles
    const page = await context.newPage();
    await openMap(page, k.httpUrl, Object.keys(EXPECTED).length);
    await page.waitForFunction((n) => document.querySelectorAll('.mk[data-sensor-id]').length === n, Object.keys(EXPECTED).length);
    expect(await statusesOf(page, '.mk[data-sensor-id]')).toEqual(EXPECTED);
    await page.waitForSelector('#map-note', { state: 'visible' });
    expect(await page.textContent('#map-note')).toBe('背景地図を読み込めません。センサーの位置と状態は表示されています。');
    await context.close();
  });

  it('a reading published over MQTT changes the marker and the list row live, without a reload', async () => {
    const context = await newMapContext(browser);
    const page = await context.newPage();
    await openMap(page, k.httpUrl, Object.keys(EXPECTED).length);
    await page.waitForSelector('.mk[data-sensor-id="live1"][data-status="normal"]', { state: 'attached' });
    await page.waitForFunction(() => document.body.dataset.live === 'live');
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));

    await publishReading(mqtt, 'live1', { level_cm: 33.5 });
    await page.waitForSelector('.mk[data-sensor-id="live1"][data-status="danger"]', { state: 'attached', timeout: 5000 });
    await page.waitForSelector('#list [data-sensor-id="live1"][data-status="danger"]', { state: 'attached', timeout: 5000 });
    expect(await page.textContent('#list [data-sensor-id="live1"] .row-level')).toBe('33.5 cm');
    expect(await page.getAttribute('.mk[data-sensor-id="live1"]', 'aria-label')).toContain('33.5 cm');
    expect(navigations).toEqual([]);

    await publishReading(mqtt, 'live1', { level_cm: 3 });
    await page.waitForSelector('.mk[data-sensor-id="live1"][data-status="normal"]', { state: 'attached', timeout: 5000 });
    await context.close();
  });

  it('shows a banner when the live stream is cut, reconnects by itself, and catches up on what it missed', async () => {
    // The browser talks to the service through a proxy the test can cut, as a carrier drops a long-lived stream.
    const proxy: TcpProxy = await startTcpProxy(k.httpPort);
    const context = await newMapContext(browser);
    try {
      const page = await context.newPage();
      await openMap(page, proxy.url, Object.keys(EXPECTED).length);
      await page.waitForFunction(() => document.body.dataset.live === 'live' && document.body.dataset.map === 'ready');
      // One event first, so the stream has an id to resume from (Last-Event-ID).
      await publishReading(mqtt, 'live1', { level_cm: 4 });
      await page.waitForSelector('#list [data-sensor-id="live1"] .row-level:text-is("4.0 cm")', { state: 'attached' });
      expect(await page.isHidden('#banner')).toBe(true);

      proxy.cut();
      await page.waitForSelector('#banner[data-mode="down"]', { state: 'visible', timeout: 10_000 });
      expect(await page.textContent('#banner')).toContain('ライブ更新が途切れています');

      // Missed while disconnected: must arrive by Last-Event-ID replay after the reconnect.
      await publishReading(mqtt, 'live1', { level_cm: 22 });
      expect(await page.getAttribute('.mk[data-sensor-id="live1"]', 'data-status')).toBe('normal');
      expect(await page.isVisible('#banner')).toBe(true);

      proxy.restore();
      await page.waitForSelector('.mk[data-sensor-id="live1"][data-status="warning"]', { state: 'attached', timeout: 15_000 });
      await page.waitForFunction(() => document.body.dataset.live === 'live');
      await page.waitForSelector('#banner', { state: 'hidden', timeout: 10_000 });
      await publishReading(mqtt, 'live1', { level_cm: 3 });
      await page.waitForSelector('.mk[data-sensor-id="live1"][data-status="normal"]', { state: 'attached', timeout: 5000 });
    } finally {
      await context.close();
      await proxy.close();
    }
  });

  it('shows a silent sensor as offline on its own clock, even with no status event from the server', async () => {
    const context = await newMapContext(browser);
    const page = await context.newPage();
    // The page's clock is fake from here on; the server's is not, so only the page's own rule can turn it grey.
    await ingestReading(k, 'fast', { ts: Date.now(), level_cm: 1 });
    await page.clock.install();
    await openMap(page, k.httpUrl, Object.keys(EXPECTED).length);
    await page.waitForSelector('#list [data-sensor-id="fast"][data-status="normal"]', { state: 'attached' });
    await page.clock.fastForward(65_000); // > 3 × 20 s interval
    await page.waitForSelector('#list [data-sensor-id="fast"][data-status="offline"]', { state: 'attached', timeout: 5000 });
    await page.waitForSelector('.mk[data-sensor-id="fast"][data-status="offline"]', { state: 'attached', timeout: 5000 });
    expect(await page.textContent('#list [data-sensor-id="fast"] .row-status')).toBe('欠測');
    await context.close();
  });
});

