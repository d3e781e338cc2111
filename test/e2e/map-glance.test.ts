import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { artifactPath, DESKTOP, ingestReading, newMapContext, openMap, PHONE, runAxe, seedSensors, TEST_TILE_URL } from '../helpers/map-page.ts';

// Issue 12, "what a resident needs at a glance": the page's "as of" time, the list first on a
// phone when something is serious, and the city's links in the footer and the panel.
const LINKS = [
  { kind: 'evacuation', url: 'https://city.example/evacuation' },
  { kind: 'hazard_map', url: '/hazard-map.pdf' },
  { kind: 'shelters', url: 'https://city.example/shelters' },
  { kind: 'disaster_page', url: 'https://city.example/bousai' },
];
const SENSORS = [
  { id: 'g-calm', name: '打田駅前', nameEn: 'Uchita Station', address: '紀の川市打田', lat: 34.271, lon: 135.395 },
  { id: 'g-wet', name: '粉河橋南', nameEn: 'Kokawa Bridge south', address: '紀の川市粉河', lat: 34.275, lon: 135.405 },
];

/** HH:MM in Tokyo for `ms`. */
const tokyoClock = (ms: number) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms);

describe('public map at a glance: as-of time, list first when serious, city links (real Chromium)', { timeout: 120_000 }, () => { // several browser contexts per test on a loaded 2-core machine
  let k: TestKansui;
  let browser: Browser;

  beforeAll(async () => {
    k = await startTestKansui({ MAP_TILE_URL: TEST_TILE_URL, PUBLIC_LINKS: JSON.stringify(LINKS) });
    seedSensors(k, SENSORS);
    await ingestReading(k, 'g-calm', { ts: Date.now() - 60_000, level_cm: 1 });
    await ingestReading(k, 'g-wet', { ts: Date.now() - 60_000, level_cm: 3 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await k?.dispose();
  });

  async function asOfText(page: Page): Promise<string> {
    await page.waitForSelector('#as-of:not([hidden])');
    return (await page.textContent('#as-of')) ?? '';
  }

  it('shows "HH:MM 現在" / "as of HH:MM" in the header, in view on a phone, and a date for a time before today', async () => {
    const context = await newMapContext(browser);
    const page = await context.newPage();
    const before = Date.now();
    await openMap(page, k.httpUrl, SENSORS.length);
    const ja = await asOfText(page);
    expect([tokyoClock(before), tokyoClock(Date.now())].map((c) => `${c} 現在`)).toContain(ja);
    // In the first screen, where a screenshot takes it.
    const box = await page.locator('#as-of').boundingBox();
    expect(box && box.y + box.height).toBeLessThan(PHONE.height / 3);
    await page.screenshot({ path: artifactPath('glance-phone-asof-ja.png') });

    await page.click('#lang-btn');
    await page.waitForFunction(() => /^as of \d\d:\d\d$/.test(document.getElementById('as-of')?.textContent ?? ''));

    // Older than today (Asia/Tokyo): with its date, in both languages.
    // As a string: the test runner would rewrite a dynamic import inside a function.
    const formatted = (await page.evaluate(`(async () => {
      const m = await import('/js/as-of.js');
      const i18n = await import('/js/i18n.js');
      const then = Date.parse('2026-07-01T16:05:00+09:00');
      const sameDay = Date.parse('2026-07-01T23:59:00+09:00');
      const nextDay = Date.parse('2026-07-02T00:01:00+09:00');
      const en = [m.formatAsOf(then, sameDay), m.formatAsOf(then, nextDay)];
      i18n.setLang('ja');
      return { en, ja: [m.formatAsOf(then, sameDay), m.formatAsOf(then, nextDay)] };
    })()`)) as { ja: string[]; en: string[] };
    expect(formatted.ja).toEqual(['16:05 現在', '7/1 16:05 現在']);
    expect(formatted.en).toEqual(['as of 16:05', 'as of 01/07, 16:05']);
    await context.close();
  });

  it('a phone opens on the list, worst first, when a sensor is at 警戒 or above; calm, or on a desktop, it opens as left', async () => {
    const calm = await newMapContext(browser);
    const calmPage = await calm.newPage();
    await openMap(calmPage, k.httpUrl, SENSORS.length);
    await calmPage.waitForFunction(() => document.body.dataset.map === 'ready');
    expect(await calmPage.getAttribute('#main', 'data-view')).toBe('map');
    await calm.close();

    await ingestReading(k, 'g-wet', { ts: Date.now(), level_cm: 24 });
    const phone = await newMapContext(browser);
    const page = await phone.newPage();
    await openMap(page, k.httpUrl, SENSORS.length);
    await page.waitForFunction(() => document.getElementById('main')?.dataset.view === 'list');
    expect(await page.isVisible('#list [data-sensor-id="g-wet"]')).toBe(true);
    expect(await page.$eval('#list', (l) => (l.querySelector('[data-sensor-id]') as HTMLElement).dataset.sensorId)).toBe('g-wet');
    expect(await page.getAttribute('[data-view-btn="list"]', 'aria-pressed')).toBe('true');
    // Not remembered: the choice stays the resident's.
    expect(await page.evaluate(() => localStorage.getItem('kansui.view'))).toBeNull();
    await page.screenshot({ path: artifactPath('glance-phone-list-warning-ja.png') });
    // A shared link to one sensor still opens that sensor.
    const linked = await phone.newPage();
    await openMap(linked, k.httpUrl, SENSORS.length, '/#sensor=g-calm');
    await linked.waitForSelector('#panel[data-sensor-id="g-calm"]', { state: 'visible' });
    expect(await linked.getAttribute('#main', 'data-view')).toBe('map');
    await phone.close();

    const desktop = await newMapContext(browser, { viewport: DESKTOP });
    const dPage = await desktop.newPage();
    await openMap(dPage, k.httpUrl, SENSORS.length);
    await dPage.waitForFunction(() => document.body.dataset.map === 'ready');
    expect(await dPage.getAttribute('#main', 'data-view')).toBe('map'); // list and map side by side already
    await desktop.close();
  });

  it('the legend gives each level its shared depth and what to do, in plain words, in both languages', async () => {
    const context = await newMapContext(browser, { viewport: DESKTOP });
    const page = await context.newPage();
    await openMap(page, k.httpUrl, SENSORS.length);
    await page.click('.foot-details summary');
    await page.waitForSelector('#legend li[data-kind="road"][data-status="danger"]');
    expect(await page.textContent('#legend .legend-kind')).toBe('道路の冠水センサー');
    // The level's name is the status wording's (the river-gauge work may change it); depth and action are the legend's.
    expect(await page.textContent('#legend li[data-status="danger"] strong')).toMatch(/^危険.*（目安 30 cm）$/);
    expect(await page.textContent('#legend li[data-status="danger"] .legend-action')).toBe('進入しないでください。車が止まってしまう深さです。');
    expect(await page.textContent('#legend li[data-status="caution"] strong')).toContain('（目安 10 cm）');
    expect(await page.textContent('#legend li[data-status="offline"] .legend-action')).toBe('データが届いていません。現地の状況はわかりません。');
    await page.click('#lang-btn');
    await page.waitForFunction(() => document.querySelector('#legend .legend-kind')?.textContent === 'Road flood sensors');
    expect(await page.textContent('#legend li[data-status="warning"] .legend-action')).toBe('Drivers: use another road. On foot: keep out of the water.');
    expect(await page.textContent('#legend li[data-status="warning"] strong')).toContain(' (about 20 cm)');
    expect(await runAxe(page)).toEqual([]);
    await context.close();
  });

  for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
    it(`shows the city's links in the footer and the panel, in Japanese and English, with 0 axe violations (${size})`, async () => {
      const context = await newMapContext(browser, { viewport });
      const page = await context.newPage();
      await openMap(page, k.httpUrl, SENSORS.length);
      await page.waitForSelector('#foot-city-links:not([hidden]) a');
      const footer = await page.$$eval('#foot-city-links a', (as) => as.map((a) => [a.textContent, a.getAttribute('href')]));
      expect(footer).toEqual([
        ['避難情報', 'https://city.example/evacuation'],
        ['ハザードマップ', '/hazard-map.pdf'],
        ['避難所', 'https://city.example/shelters'],
        ['市の防災情報', 'https://city.example/bousai'],
      ]);
      expect(await page.isVisible('#foot-city-links a[data-kind="evacuation"]')).toBe(true);
      await page.click('#list [data-sensor-id="g-calm"]');
      await page.waitForSelector('#panel[data-sensor-id="g-calm"] .panel-links a[data-kind="shelters"]');
      await page.waitForFunction(() => document.body.dataset.map === 'ready');
      expect(await runAxe(page)).toEqual([]);
      await page.screenshot({ path: artifactPath(`glance-${size}-panel-links-ja.png`) });
      await page.click('#lang-btn');
      await page.waitForFunction(() => document.querySelector('#foot-city-links a')?.textContent === 'Evacuation information');
      expect(await page.$$eval('#panel .panel-links a', (as) => as.map((a) => a.textContent))).toEqual(['Evacuation information', 'Hazard map', 'Shelters', 'City disaster information']);
      expect(await runAxe(page)).toEqual([]);
      await context.close();
    });
  }
});
