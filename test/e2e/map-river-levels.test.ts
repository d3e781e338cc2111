import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { DESKTOP, ingestReading, newMapContext, openMap, PHONE, runAxe, TEST_TILE_URL } from '../helpers/map-page.ts';

// Issue 12: a river gauge's chart reads in metres with two decimals, and MLIT's 水防団待機水位 and
// 計画高水位 appear (status words, gauge, chart lines, legend) only for a gauge that has them.
const MIN = 60_000;

describe('public map: river levels where set, the chart in metres (real Chromium)', () => {
  let k: TestKansui;
  let browser: Browser;

  beforeAll(async () => {
    k = await startTestKansui({ MAP_TILE_URL: TEST_TILE_URL });
    const now = Date.now();
    const levels = { standby: 200, caution: 250, warning: 330, danger: 380, planHighWater: 860 };
    registerSensor(k.registry, { id: 'hwl', name: '紀の川 船戸', nameEn: 'Kinokawa at Funato', lat: 34.27, lon: 135.36, site: 'river', intervalS: 300, thresholds: levels }, now);
    registerSensor(k.registry, { id: 'standby', name: '紀の川 竹房', nameEn: 'Kinokawa at Takefusa', lat: 34.28, lon: 135.4, site: 'river', intervalS: 300, thresholds: levels }, now);
    registerSensor(k.registry, { id: 'plain', name: '貴志川 諸井橋', nameEn: 'Kishigawa at Moroi Bridge', lat: 34.22, lon: 135.32, site: 'river', intervalS: 300, thresholds: { caution: 250, warning: 330, danger: 380 } }, now);
    registerSensor(k.registry, { id: 'rising', name: '紀の川 藤崎', nameEn: 'Kinokawa at Fujisaki', lat: 34.25, lon: 135.34, site: 'river', intervalS: 300, thresholds: levels }, now);
    registerSensor(k.registry, { id: 'road', name: '打田駅前アンダーパス', nameEn: 'Uchita Station underpass', lat: 34.271, lon: 135.395, intervalS: 600 }, now);
    await ingestReading(k, 'hwl', { ts: now - 10 * MIN, level_cm: 850 });
    await ingestReading(k, 'hwl', { ts: now - 30_000, level_cm: 872 });
    await ingestReading(k, 'standby', { ts: now - 30_000, level_cm: 215 });
    await ingestReading(k, 'plain', { ts: now - 10 * MIN, level_cm: -40 });
    await ingestReading(k, 'plain', { ts: now - 30_000, level_cm: 120 });
    await ingestReading(k, 'road', { ts: now - 30_000, level_cm: 12 });
    // Above 氾濫危険水位, rising 40 cm/h to 8.20 m: 計画高水位 (8.60 m) in about an hour.
    for (const [i, cm] of [813.33, 816.67, 820].entries()) await ingestReading(k, 'rising', { ts: now - (2 - i) * 5 * MIN - 10_000, level_cm: cm });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await k?.dispose();
  });

  const clean = (s: string | null) => (s ?? '').replace(/\u00a0/g, ' ');
  async function open(page: Page, id: string) {
    await page.goto(`${k.httpUrl}/#sensor=${id}`);
    await page.waitForSelector(`#panel[data-sensor-id="${id}"] .chart path.level`, { state: 'attached' });
    return {
      status: clean(await page.textContent('#panel .panel-status')),
      gauge: clean(await page.getAttribute('#panel .gauge', 'aria-label')),
      axis: await page.$$eval('#panel .chart text.axis:not(.unit)', (ts) => ts.map((x) => x.textContent).filter((x) => !/:|\//.test(x ?? ''))),
      unit: await page.textContent('#panel .chart text.unit'),
      lines: await page.$$eval('#panel .chart line.thr', (ls) => ls.map((l) => l.getAttribute('class'))),
      lineLabels: await page.$$eval('#panel .chart text.thr-label', (ts) => ts.map((x) => x.textContent)),
      chartLabel: clean(await page.getAttribute('#panel .chart', 'aria-label')),
    };
  }

  for (const [device, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
    it(`${device}, ja and en: 計画高水位 and 水防団待機水位 named where set; chart axes in m (river) and cm (road)`, async () => {
      const context = await newMapContext(browser, { viewport });
      const page = await context.newPage();
      await openMap(page, k.httpUrl, 5);

      const hwl = await open(page, 'hwl');
      expect(hwl.status).toBe('危険（計画高水位以上：堤防の設計を超える水位。命を守る行動を）');
      expect(hwl.gauge).toBe('水位 8.72 m（水防団待機水位 2.00 m、氾濫注意水位 2.50 m、避難判断水位 3.30 m、氾濫危険水位 3.80 m、計画高水位 8.60 m）');
      expect(hwl.unit).toBe('m');
      expect(hwl.axis.length).toBeGreaterThanOrEqual(3);
      for (const label of hwl.axis) expect(label).toMatch(/^−?\d+\.\d\d$/); // metres, two decimals
      expect(hwl.axis[0]).toBe('0.00');
      expect(hwl.lines).toEqual(['thr thr-standby', 'thr thr-caution', 'thr thr-warning', 'thr thr-danger', 'thr thr-planHighWater']);
      expect(hwl.lineLabels).toEqual(['水防団待機', '注意', '警戒', '危険', '計画高水位']);
      expect(hwl.chartLabel).toContain('最高 8.72 m');
      expect(await runAxe(page)).toEqual([]);

      await open(page, 'rising');
      expect(clean(await page.textContent('#panel .panel-eta'))).toBe('計画高水位まで約1時間');

      const standby = await open(page, 'standby');
      expect(standby.status).toBe('平常（水防団待機水位以上：水防団が待機する水位）');

      // A gauge without them: neither named anywhere; a stage below the datum takes the axis below 0.00.
      const plain = await open(page, 'plain');
      expect(plain.status).toBe('平常（氾濫注意水位未満）');
      expect(plain.gauge).toBe('水位 1.20 m（氾濫注意水位 2.50 m、避難判断水位 3.30 m、氾濫危険水位 3.80 m）');
      expect(plain.lines).toEqual(['thr thr-caution', 'thr thr-warning', 'thr thr-danger']);
      expect(plain.axis[0]).toMatch(/^−\d\.\d\d$/);
      for (const label of plain.axis) expect(label).toMatch(/^−?\d+\.\d\d$/);

      // A road sensor: cm, whole numbers, as before.
      const road = await open(page, 'road');
      expect(road.unit).toBe('cm');
      expect(road.axis).toEqual(['0', '10', '20', '30', '40']);
      expect(road.chartLabel).toContain('最高 12.0 cm');

      // The legend lists the river's extra levels with their shared heights, in MLIT's words.
      await page.click('#panel [data-act="close"]');
      const legend = async (sel: string) => clean(await page.textContent(`#legend ${sel} strong`));
      await page.waitForSelector('#legend li[data-kind="river"][data-level="planHighWater"]', { state: 'attached' });
      expect(await legend('li[data-kind="river"][data-status="danger"]:not([data-level])')).toBe('危険（氾濫危険水位以上：川に近づかないで）（目安 3.80 m）');
      expect(await legend('li[data-kind="river"][data-level="planHighWater"]')).toBe('危険（計画高水位以上：堤防の設計を超える水位。命を守る行動を）');
      expect(await legend('li[data-kind="river"][data-level="standby"]')).toBe('平常（水防団待機水位以上：水防団が待機する水位）');

      await page.click('#lang-btn');
      await page.waitForFunction(() => document.documentElement.lang === 'en');
      const hwlEn = await open(page, 'hwl');
      expect(hwlEn.status).toBe('Danger (above the design high-water level the levees are built for: act now to save your life)');
      expect(hwlEn.gauge).toBe('Stage 8.72 m (flood-fighting standby level 2.00 m, flood caution level 2.50 m, evacuation decision level 3.30 m, flood danger level 3.80 m, design high-water level 8.60 m)');
      expect(hwlEn.lineLabels).toEqual(['Standby', 'Caution', 'Warning', 'Danger', 'HWL']);
      expect(hwlEn.chartLabel).toContain('Highest 8.72 m');
      await open(page, 'rising');
      expect(clean(await page.textContent('#panel .panel-eta'))).toBe('Design high-water level in about 1 h');
      expect(await runAxe(page)).toEqual([]);
      await context.close();
    }, 120_000);
  }
});
