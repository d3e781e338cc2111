import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { artifactPath, DESKTOP, ingestReading, newMapContext, openMap, PHONE, runAxe, seedSensors, TEST_TILE_URL } from '../helpers/map-page.ts';

const SENSORS = [
  { id: 'rise', name: '岩出橋下アンダーパス', nameEn: 'Iwade Bridge underpass', address: '和歌山県紀の川市打田 1234', lat: 34.265, lon: 135.39 },
  { id: 'calm', name: '打田駅前', nameEn: 'Uchita Station', lat: 34.271, lon: 135.395 },
  { id: 'wet', name: '粉河橋南', lat: 34.275, lon: 135.405 },
  { id: 'mid', name: '名手市場交差点', lat: 34.268, lon: 135.41 },
  { id: 'quiet', name: '貴志川線高架下', lat: 34.28, lon: 135.385 },
  { id: 'fix', name: '那賀町道', lat: 34.262, lon: 135.42, state: 'maintenance' as const },
];

describe('public map: sensor panel, share link, language, accessibility (real Chromium)', () => {
  let k: TestKansui;
  let browser: Browser;

  beforeAll(async () => {
    k = await startTestKansui({ MAP_TILE_URL: TEST_TILE_URL });
    seedSensors(k, SENSORS);
    const now = Date.now();
    // 'rise': a day of quiet, then a flood rising 3 cm every 10 minutes over the last 2 hours → danger.
    for (let i = 143; i >= 0; i--) {
      const ts = now - i * 600_000 - 30_000;
      await ingestReading(k, 'rise', { ts, level_cm: i > 12 ? 1 + (i % 3) * 0.5 : 1 + (12 - i) * 3 });
    }
    await ingestReading(k, 'calm', { ts: now - 120_000, level_cm: 0.5 });
    await ingestReading(k, 'wet', { ts: now - 300_000, level_cm: 12.5 });
    await ingestReading(k, 'mid', { ts: now - 60_000, level_cm: 21 });
    await ingestReading(k, 'fix', { ts: now - 60_000, level_cm: 0 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await k?.dispose();
  });

  async function openPanelByShareLink(page: Page, id: string): Promise<void> {
    await openMap(page, k.httpUrl, SENSORS.length, `/#sensor=${id}`);
    await page.waitForSelector(`#panel[data-sensor-id="${id}"]`, { state: 'visible' });
    await page.waitForSelector('#panel .chart path.level');
  }

  it('a share link opens the panel: name, address, level against thresholds, rising trend, 24 h chart with threshold lines; 7 d on request', async () => {
    const context = await newMapContext(browser);
    const page = await context.newPage();
    await openPanelByShareLink(page, 'rise');

    expect(await page.textContent('#panel-title')).toBe('岩出橋下アンダーパス');
    expect(await page.textContent('#panel .f-addr')).toBe('和歌山県紀の川市打田 1234');
    expect(await page.textContent('#panel .f-level')).toBe('37.0 cm');
    expect(await page.textContent('#panel .panel-status')).toBe('危険（冠水・進入しないで）');
    expect(await page.getAttribute('#panel .f-trend', 'data-trend')).toBe('rising');
    expect((await page.textContent('#panel .f-trend'))?.replace(/[\u00a0\u2060]/g, (c) => (c === '\u00a0' ? ' ' : ''))).toContain('+18.0 cm/時'); // issue 12: the server's least-squares trend per hour (3 cm every 10 min)
    expect(await page.getAttribute('#panel .gauge', 'aria-label')).toBe('水位 37.0 cm（注意 10 cm、警戒 20 cm、危険 30 cm）');
    // The chart: one line, three dashed thresholds, labelled, and described for screen readers.
    expect(await page.$$eval('#panel .chart line.thr', (ls) => ls.map((l) => l.getAttribute('class')))).toEqual(['thr thr-caution', 'thr thr-warning', 'thr thr-danger']);
    expect(await page.getAttribute('#panel .chart', 'aria-label')).toMatch(/過去24時間の水位.*最高 37\.0 cm/);
    const points = await page.$eval('#panel .chart path.level', (p) => (p.getAttribute('d') ?? '').split(/[ML]/).filter(Boolean).length);
    expect(points).toBe(144);
    // The map is centred on the shared sensor.
    await page.waitForFunction(() => document.body.dataset.map === 'ready');
    expect(await page.isVisible('.mk[data-sensor-id="rise"]')).toBe(true);
    await page.screenshot({ path: artifactPath('phone-panel-ja.png') });

    await page.click('#panel [data-range="7d"]');
    await page.waitForFunction(() => /過去7日間/.test(document.querySelector('#panel .chart')?.getAttribute('aria-label') ?? ''));
    expect(await page.getAttribute('#panel [data-range="7d"]', 'aria-pressed')).toBe('true');
    expect(await page.$$eval('#panel .chart line.thr', (ls) => ls.length)).toBe(3);

    await page.click('#panel [data-act="close"]');
    await page.waitForSelector('#panel', { state: 'hidden' });
    expect(new URL(page.url()).hash).toBe('');
    // Choosing from the list puts the share link in the address bar.
    await page.click('[data-view-btn="list"]');
    await page.click('#list [data-sensor-id="wet"]');
    await page.waitForSelector('#panel[data-sensor-id="wet"]', { state: 'visible' });
    expect(new URL(page.url()).hash).toBe('#sensor=wet');
    await context.close();
  });

  it('switches to English and back, and remembers the choice across a reload', async () => {
    const context = await newMapContext(browser);
    const page = await context.newPage();
    await openMap(page, k.httpUrl, SENSORS.length);
    expect(await page.getAttribute('html', 'lang')).toBe('ja');
    expect(await page.textContent('#list [data-sensor-id="rise"] .row-status')).toBe('危険');
    expect(await page.textContent('#lang-btn')).toBe('English');

    await page.click('#lang-btn');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    expect(await page.textContent('#list [data-sensor-id="rise"] .row-status')).toBe('Danger');
    expect(await page.textContent('#list [data-sensor-id="rise"] .row-name')).toBe('Iwade Bridge underpass');
    expect(await page.textContent('#list [data-sensor-id="quiet"] .row-status')).toBe('Offline');
    expect(await page.textContent('#list [data-sensor-id="fix"] .row-status')).toBe('Maintenance');
    expect(await page.textContent('[data-view-btn="list"]')).toBe('List');
    expect(await page.textContent('#list [data-sensor-id="calm"] .row-time')).toBe('2 min ago');

    await page.reload();
    await openMap(page, k.httpUrl, SENSORS.length);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('#list [data-sensor-id="mid"] .row-status')).toBe('Warning');
    await page.screenshot({ path: artifactPath('phone-map-en.png') });

    await page.click('#lang-btn');
    await page.waitForFunction(() => document.documentElement.lang === 'ja');
    expect(await page.textContent('#list [data-sensor-id="mid"] .row-status')).toBe('警戒');
    await context.close();
  });

  for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
    it(`passes an axe-core WCAG 2.1 AA audit with zero violations (${size}: map, list, panel; ja and en) and saves screenshots`, async () => {
      const context = await newMapContext(browser, { viewport });
      const page = await context.newPage();
      await openMap(page, k.httpUrl, SENSORS.length);
      await page.waitForFunction(() => document.body.dataset.map === 'ready');
      const report = async (label: string) => {
        const violations = await runAxe(page);
        expect(violations.map((v) => `${label}: ${v.id} (${v.impact}) ${v.help} → ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`)).toEqual([]);
      };
      await page.screenshot({ path: artifactPath(`${size}-map-ja.png`) });
      await report('map');
      if (size === 'phone') {
        await page.click('[data-view-btn="list"]');
        await page.screenshot({ path: artifactPath(`${size}-list-ja.png`) });
        await report('list');
      }
      await page.click('#list [data-sensor-id="rise"]');
      await page.waitForSelector('#panel .chart path.level');
      await page.screenshot({ path: artifactPath(`${size}-panel-ja.png`) });
      await report('panel');
      await page.click('#lang-btn');
      await page.waitForFunction(() => document.documentElement.lang === 'en');
      await page.screenshot({ path: artifactPath(`${size}-panel-en.png`) });
      await report('panel en');
      await context.close();
    });
  }
});
