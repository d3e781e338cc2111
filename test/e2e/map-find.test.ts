import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { artifactPath, DESKTOP, ingestReading, newMapContext, openMap, PHONE, runAxe, seedSensors, TEST_TILE_URL } from '../helpers/map-page.ts';

// Issue 12, finding one's own place: search over names and addresses, 現在地 (with and without
// permission), marker labels at street zooms, "show all", sharing, and dark mode.
const SENSORS = [
  { id: 'f-uchita', name: '打田駅前アンダーパス', nameEn: 'Uchita Station underpass', address: '紀の川市打田 1234', lat: 34.2711, lon: 135.3952 },
  { id: 'f-kokawa', name: '粉河橋南', nameEn: 'Kokawa Bridge south', address: '紀の川市粉河 55', lat: 34.275, lon: 135.405 },
  { id: 'f-nate', name: '名手市場交差点', lat: 34.268, lon: 135.41 },
];

describe('public map: search, 現在地, labels, show all, share, dark mode (real Chromium)', { timeout: 120_000 }, () => { // several browser contexts per test on a loaded 2-core machine
  let k: TestKansui;
  let browser: Browser;

  beforeAll(async () => {
    k = await startTestKansui({ MAP_TILE_URL: TEST_TILE_URL });
    seedSensors(k, SENSORS);
    const now = Date.now();
    for (const s of SENSORS) await ingestReading(k, s.id, { ts: now - 60_000, level_cm: 2 });
    await ingestReading(k, 'f-kokawa', { ts: now - 30_000, level_cm: 12 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await k?.dispose();
  });

  const visibleRows = (page: Page) => page.$$eval('#list li:not([hidden]) [data-sensor-id]', (els) => els.map((e) => (e as HTMLElement).dataset.sensorId));

  it('searches names and addresses as typed (full-width too), and Enter opens the first match', async () => {
    const context = await newMapContext(browser, { viewport: DESKTOP });
    const page = await context.newPage();
    await openMap(page, k.httpUrl, SENSORS.length);
    await page.waitForSelector('#search[placeholder="例：打田、粉河駅"]');
    await page.fill('#search', '粉河');
    await page.waitForFunction(() => document.getElementById('search-count')?.textContent === '1か所');
    expect(await visibleRows(page)).toEqual(['f-kokawa']);
    await page.fill('#search', '１２３４'); // full-width digits of an address
    await page.waitForFunction(() => document.querySelectorAll('#list li:not([hidden])').length === 1);
    expect(await visibleRows(page)).toEqual(['f-uchita']);
    await page.fill('#search', '那智');
    await page.waitForFunction(() => document.getElementById('search-count')?.textContent === '見つかりません');
    await page.fill('#search', 'uchita');
    await page.press('#search', 'Enter');
    await page.waitForSelector('#panel[data-sensor-id="f-uchita"]', { state: 'visible' });
    // After looking at one sensor, "show all" brings the whole city back.
    await page.waitForFunction(() => document.body.dataset.map === 'ready');
    await page.waitForSelector('#show-all-btn:not([hidden])');
    await page.click('#show-all-btn');
    await page.waitForSelector('#panel', { state: 'hidden' });
    expect(await page.isHidden('#show-all-btn')).toBe(true);
    await page.fill('#search', '');
    await page.waitForFunction((n) => document.querySelectorAll('#list li:not([hidden])').length === n, SENSORS.length);
    expect(await runAxe(page)).toEqual([]);
    await context.close();
  });

  it('現在地 centres the map on the resident with permission, names the markers at that zoom, and says so plainly without it', async () => {
    const context = await newMapContext(browser, { geolocation: { latitude: 34.2712, longitude: 135.3953 }, permissions: ['geolocation'] });
    const page = await context.newPage();
    await openMap(page, k.httpUrl, SENSORS.length);
    await page.waitForFunction(() => document.body.dataset.map === 'ready');
    await page.click('#locate-btn');
    await page.waitForFunction(() => document.getElementById('map')?.dataset.labels === 'true');
    expect(await page.isVisible('.mk[data-sensor-id="f-uchita"] .mk-label')).toBe(true);
    expect(await page.textContent('.mk[data-sensor-id="f-uchita"] .mk-label')).toBe('打田駅前アンダーパス');
    expect(await page.isHidden('#map-note')).toBe(true);
    await page.screenshot({ path: artifactPath('find-phone-locate-ja.png') });
    // Zoomed out to the city: no labels over each other.
    await page.click('#show-all-btn');
    await page.click('.leaflet-control-zoom-out');
    await page.click('.leaflet-control-zoom-out');
    await page.waitForFunction(() => document.getElementById('map')?.dataset.labels === 'false');
    expect(await page.isHidden('.mk[data-sensor-id="f-uchita"] .mk-label')).toBe(true);
    await context.close();

    const denied = await newMapContext(browser); // no permission granted: the browser refuses
    const page2 = await denied.newPage();
    await openMap(page2, k.httpUrl, SENSORS.length);
    await page2.waitForFunction(() => document.body.dataset.map === 'ready');
    await page2.click('#locate-btn');
    await page2.waitForSelector('#map-note:has-text("現在地がわかりませんでした")');
    expect(await page2.$$eval('#list [data-sensor-id]', (els) => els.length)).toBe(SENSORS.length); // the page still works
    await denied.close();
  });

  it('shares with the Web Share API where the browser has it, and copies the link where it does not', async () => {
    const context = await newMapContext(browser);
    await context.addInitScript(() => {
      (window as unknown as { shared: unknown[] }).shared = [];
      Object.defineProperty(navigator, 'share', { configurable: true, value: async (data: unknown) => void (window as unknown as { shared: unknown[] }).shared.push(data) });
    });
    const page = await context.newPage();
    await openMap(page, k.httpUrl, SENSORS.length, '/#sensor=f-kokawa');
    await page.waitForSelector('#panel[data-sensor-id="f-kokawa"]', { state: 'visible' });
    expect(await page.textContent('#panel [data-act="share"]')).toBe('共有');
    await page.click('#panel [data-act="share"]');
    await page.waitForFunction(() => (window as unknown as { shared: unknown[] }).shared.length === 1);
    expect(await page.evaluate(() => (window as unknown as { shared: unknown[] }).shared[0])).toEqual({ title: '粉河橋南 の冠水状況', url: `${k.httpUrl}/#sensor=f-kokawa` });
    await context.close();

    const plain = await newMapContext(browser);
    await plain.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: k.httpUrl });
    const page2 = await plain.newPage();
    await openMap(page2, k.httpUrl, SENSORS.length, '/#sensor=f-kokawa');
    await page2.waitForSelector('#panel[data-sensor-id="f-kokawa"]', { state: 'visible' });
    expect(await page2.evaluate(() => typeof navigator.share)).toBe('undefined'); // Chromium on Linux has no share sheet
    expect(await page2.textContent('#panel [data-act="share"]')).toBe('リンクをコピー');
    await page2.click('#panel [data-act="share"]');
    await page2.waitForSelector('#panel .toast:has-text("リンクをコピーしました")');
    expect(await page2.evaluate(() => navigator.clipboard.readText())).toBe(`${k.httpUrl}/#sensor=f-kokawa`);
    await plain.close();
  });

  for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
    it(`follows prefers-color-scheme: dark, with 0 axe violations in both languages (${size})`, async () => {
      const context = await newMapContext(browser, { viewport, colorScheme: 'dark' });
      const page = await context.newPage();
      await openMap(page, k.httpUrl, SENSORS.length, '/#sensor=f-kokawa');
      await page.waitForSelector('#panel .chart path.level', { state: 'attached' }); // two readings a minute apart: a line with no width
      await page.waitForFunction(() => document.body.dataset.map === 'ready');
      expect(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)).toBe('rgb(18, 18, 18)');
      expect(await runAxe(page)).toEqual([]);
      await page.screenshot({ path: artifactPath(`find-${size}-dark-ja.png`) });
      await page.click('#lang-btn');
      await page.waitForFunction(() => document.documentElement.lang === 'en');
      if (size === 'phone') await page.click('[data-view-btn="list"]');
      expect(await runAxe(page)).toEqual([]);
      await page.screenshot({ path: artifactPath(`find-${size}-dark-en.png`) });
      await context.close();
    });
  }
});
