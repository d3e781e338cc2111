import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { artifactPath, DESKTOP, ingestReading, newMapContext, openMap, PHONE, runAxe, TEST_TILE_URL } from '../helpers/map-page.ts';

// Issue 12: a river gauge speaks of MLIT's stages in metres, not of water on a road;
// the trend and the time to the next level come from the server (services/core/trend.ts)
// and read the same in the panel and the list, on a phone and a desktop, in Japanese and English.
const MIN = 60_000;

describe('public map: river gauge wording and metres, trend and time to the next level (real Chromium)', () => {
  let k: TestKansui;
  let browser: Browser;

  beforeAll(async () => {
    k = await startTestKansui({ MAP_TILE_URL: TEST_TILE_URL });
    const now = Date.now();
    registerSensor(k.registry, { id: 'funato', name: '紀の川 船戸', nameEn: 'Kinokawa at Funato', lat: 34.27, lon: 135.36, site: 'river', intervalS: 300, thresholds: { caution: 250, warning: 330, danger: 380 } }, now);
    // Reports every 10 min (readings a minute apart in a rise): 欠測 only after 30 min, however slow the machine.
    registerSensor(k.registry, { id: 'uchita', name: '打田駅前アンダーパス', nameEn: 'Uchita Station underpass', lat: 34.271, lon: 135.395, intervalS: 600 }, now);
    registerSensor(k.registry, { id: 'low', name: '紀の川 竹房', nameEn: 'Kinokawa at Takefusa', lat: 34.28, lon: 135.4, site: 'river', intervalS: 300, thresholds: { caution: 250, warning: 330, danger: 380 } }, now);
    // River: rising 40 cm/h to 3.70 m, 10 cm below 氾濫危険水位 (3.80 m): about 15 min.
    for (const [i, cm] of [363.33, 366.67, 370].entries()) await ingestReading(k, 'funato', { ts: now - (2 - i) * 5 * MIN - 10_000, level_cm: cm });
    // Road: 1 cm a minute to 22 cm, 8 cm below 危険 (30 cm): about 8 min.
    for (const [i, cm] of [20, 21, 22].entries()) await ingestReading(k, 'uchita', { ts: now - (2 - i) * MIN - 10_000, level_cm: cm });
    // A stage below the gauge datum: negative, in metres.
    await ingestReading(k, 'low', { ts: now - 30_000, level_cm: -35 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await k?.dispose();
  });

  const clean = (s: string | null) => (s ?? '').replace(/\u00a0/g, ' ').replace(/\u2060/g, '');
  async function panel(page: Page, id: string) {
    await page.goto(`${k.httpUrl}/#sensor=${id}`);
    await page.waitForSelector(`#panel[data-sensor-id="${id}"]`, { state: 'visible' });
    return {
      status: clean(await page.textContent('#panel .panel-status')),
      level: clean(await page.textContent('#panel .f-level')),
      trend: clean(await page.textContent('#panel .f-trend')),
      eta: clean(await page.textContent('#panel .panel-eta')),
    };
  }

  for (const [device, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
    it(`${device}, ja then en: stages in metres with MLIT's names, the road in cm, times to the next level in the panel and the list`, async () => {
      const context = await newMapContext(browser, { viewport });
      const page = await context.newPage();
      await openMap(page, k.httpUrl, 3);

      const river = await panel(page, 'funato');
      expect(river.level).toBe('3.70 m');
      expect(river.status).toBe('警戒（避難判断水位以上：避難の準備を）');
      expect(river.status).not.toMatch(/冠水|路面|通行止め/);
      expect(river.trend).toBe('↑ 上昇中 +0.40 m/時');
      expect(river.eta).toBe('氾濫危険水位まで約15分');
      expect(clean(await page.getAttribute('#panel .gauge', 'aria-label'))).toBe('水位 3.70 m（氾濫注意水位 2.50 m、避難判断水位 3.30 m、氾濫危険水位 3.80 m）');
      await page.screenshot({ path: artifactPath(`${device}-river-ja.png`) });

      const road = await panel(page, 'uchita');
      expect(road.level).toBe('22.0 cm');
      expect(road.status).toBe('警戒（通行注意）');
      expect(road.trend).toBe('↑ 上昇中 +60.0 cm/時');
      expect(road.eta).toBe('危険（30 cm）まで約8分');
      await page.screenshot({ path: artifactPath(`${device}-road-eta-ja.png`) });

      const low = await panel(page, 'low');
      expect(low.level).toBe('−0.35 m');
      expect(low.status).toBe('平常（氾濫注意水位未満）');
      expect(low.eta).toBe('');
      expect(await page.isHidden('#panel .panel-eta')).toBe(true);

      // The list carries the same times.
      await page.click('#panel [data-act="close"]');
      await page.waitForSelector('#panel', { state: 'hidden' });
      if (await page.isVisible('[data-view-btn="list"]')) await page.click('[data-view-btn="list"]');
      expect(clean(await page.textContent('#list [data-sensor-id="funato"] .row-eta'))).toBe('氾濫危険水位まで約15分');
      expect(clean(await page.textContent('#list [data-sensor-id="funato"] .row-level'))).toBe('3.70 m');
      expect(clean(await page.textContent('#list [data-sensor-id="uchita"] .row-eta'))).toBe('危険（30 cm）まで約8分');
      expect(await page.isHidden('#list [data-sensor-id="low"] .row-eta')).toBe(true);

      await page.click('#lang-btn');
      await page.waitForFunction(() => document.documentElement.lang === 'en');
      const riverEn = await panel(page, 'funato');
      expect(riverEn.status).toBe('Warning (evacuation decision level: get ready to evacuate)');
      expect(riverEn.trend).toBe('↑ Rising +0.40 m/h');
      expect(riverEn.eta).toBe('Flood danger level in about 15 min');
      await page.screenshot({ path: artifactPath(`${device}-river-en.png`) });
      const roadEn = await panel(page, 'uchita');
      expect(roadEn.eta).toBe('Danger (30 cm) in about 8 min');
      await page.screenshot({ path: artifactPath(`${device}-road-eta-en.png`) });
      expect(await runAxe(page)).toEqual([]);
      await context.close();
    });
  }
});
