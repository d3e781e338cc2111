/**
 * Screenshots of the public map's sensor panel for docs/map.md (issue 12): a road sensor and a river
 * gauge at every level, in Japanese and English, on a phone. Run with `npm run docs:screenshots`;
 * the test suite does not run it (test/unit/docs-images.test.ts only checks that what the docs show exists).
 *
 * Everything is real: the whole kansui on ephemeral loopback ports with a temp DATA_DIR, readings
 * published by each sensor over MQTT with its own credentials (QoS 1, so stored when acknowledged),
 * and Debian's Chromium through playwright-core. Map tiles are answered with a blank image (no
 * internet here). Each image is the open panel only, at 1 CSS px per pixel, so it stays a few tens of KB;
 * one more shows the embeddable view with its small map.
 */
import { mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { registerSensor } from '../services/sensors/provision.ts';
import { launchBrowser } from '../test/helpers/browser.ts';
import { startTestKansui } from '../test/helpers/kansui.ts';
import { newMapContext, openMap, TEST_TILE_URL } from '../test/helpers/map-page.ts';
import { connectMqtt, publishReading } from '../test/helpers/mqtt.ts';

const OUT = fileURLToPath(new URL('../docs/img/', import.meta.url));
const MIN = 60_000;
/** Tall enough that the panel (at most 72 % of the viewport) shows whole, without scrolling. */
const VIEWPORT = { width: 390, height: 1300 };

/**
 * Example river levels (cm above the gauge datum), in MLIT's order; a real gauge takes its
 * station's from the river administrator (川の防災情報 lists them per 観測所).
 */
const RIVER_LEVELS = { standby: 250, caution: 330, warning: 420, danger: 480, planHighWater: 560 };

interface Shot {
  /** File name part and what the docs' table calls the level. */
  key: string;
  site: 'road' | 'river';
  name: string;
  nameEn: string;
  /** The last reading, cm. */
  levelCm: number;
  /** No reading for the last 40 min (the sensor reports every 10 min: 欠測 after 30). */
  offline?: boolean;
}

const SHOTS: Shot[] = [
  { key: 'road-normal', site: 'road', name: '打田駅前アンダーパス', nameEn: 'Uchita Station underpass', levelCm: 3 },
  { key: 'road-caution', site: 'road', name: '粉河駅東の市道', nameEn: 'Kokawa Station east road', levelCm: 13 },
  { key: 'road-warning', site: 'road', name: '名手橋北交差点', nameEn: 'Nate Bridge north junction', levelCm: 24 },
  { key: 'road-danger', site: 'road', name: '西三谷アンダーパス', nameEn: 'Nishimitani underpass', levelCm: 36 },
  { key: 'road-offline', site: 'road', name: '貴志川町丸栖', nameEn: 'Maruzu, Kishigawa', levelCm: 8, offline: true },
  { key: 'river-below-standby', site: 'river', name: '紀の川 船戸', nameEn: 'Kinokawa at Funato', levelCm: 180 },
  { key: 'river-standby', site: 'river', name: '紀の川 竹房', nameEn: 'Kinokawa at Takefusa', levelCm: 275 },
  { key: 'river-caution', site: 'river', name: '紀の川 三谷', nameEn: 'Kinokawa at Mitani', levelCm: 352 },
  { key: 'river-warning', site: 'river', name: '貴志川 諸井橋', nameEn: 'Kishigawa at Moroi Bridge', levelCm: 436 },
  { key: 'river-danger', site: 'river', name: '紀の川 藤崎', nameEn: 'Kinokawa at Fujisaki', levelCm: 497 },
  { key: 'river-plan-high-water', site: 'river', name: '紀の川 岩出橋', nameEn: 'Kinokawa at Iwade Bridge', levelCm: 571 },
  { key: 'river-offline', site: 'river', name: '紀の川 名手', nameEn: 'Kinokawa at Nate', levelCm: 210, offline: true },
];

/**
 * Readings every 10 min over 6 h rising to the level (a storm's shape), then three 2 min apart
 * rising gently (0.30 m/h on a river, 15 cm/h on a road), which the trend and its time to the next level use.
 */
function history(shot: Shot, now: number): { ts: number; level_cm: number }[] {
  const end = shot.offline ? now - 40 * MIN : now - MIN;
  const step = shot.site === 'river' ? 1 : 0.5;
  const start = shot.site === 'river' ? shot.levelCm - 220 : 0;
  const top = shot.levelCm - 3 * step;
  const out: { ts: number; level_cm: number }[] = [];
  for (let i = 35; i >= 0; i--) {
    const f = 1 - i / 35;
    out.push({ ts: end - 6 * MIN - i * 10 * MIN, level_cm: Math.round((start + (top - start) * f * f) * 10) / 10 });
  }
  for (let i = 2; i >= 0; i--) out.push({ ts: end - i * 2 * MIN, level_cm: shot.levelCm - i * step });
  return out;
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const k = await startTestKansui({ MAP_TILE_URL: TEST_TILE_URL });
  const browser = await launchBrowser();
  try {
    const now = Date.now();
    for (const [i, shot] of SHOTS.entries()) {
      const id = `doc-${shot.key}`;
      const { mqtt } = registerSensor(k.registry, {
        id, name: shot.name, nameEn: shot.nameEn, lat: 34.27 + i * 0.003, lon: 135.36 + i * 0.004, intervalS: 600, site: shot.site,
        ...(shot.site === 'river' && { thresholds: RIVER_LEVELS }),
      }, now);
      const client = await connectMqtt(k.mqttUrl!, { username: mqtt.username, password: mqtt.password });
      try {
        for (const reading of history(shot, now)) await publishReading(client, id, reading);
      } finally {
        await client.endAsync();
      }
    }
    for (const lang of ['ja', 'en'] as const) {
      const context = await newMapContext(browser, { viewport: VIEWPORT, deviceScaleFactor: 1 });
      await context.addInitScript((l) => localStorage.setItem('kansui.lang', l), lang);
      const page = await context.newPage();
      await openMap(page, k.httpUrl, SHOTS.length);
      for (const shot of SHOTS) {
        const id = `doc-${shot.key}`;
        await page.goto(`${k.httpUrl}/#sensor=${id}`);
        await page.waitForSelector(`#panel[data-sensor-id="${id}"] .chart path.level`, { state: 'attached', timeout: 15_000 });
        if (shot.offline) await page.waitForSelector(`#panel[data-status="offline"]`, { timeout: 15_000 });
        // No focus ring on the title (the panel focuses it on opening, for screen readers).
        await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
        // The panel up to and including the chart: the share button and the city's links add nothing per level.
        const box = await page.evaluate(() => {
          const panel = document.querySelector('#panel')!.getBoundingClientRect();
          const chart = document.querySelector('#panel .chart-box')!.getBoundingClientRect();
          return { x: panel.x, y: panel.y, width: panel.width, height: chart.bottom - panel.y + 8 };
        });
        const file = `${OUT}map-panel-${shot.key}-${lang}.png`;
        await page.screenshot({ path: file, clip: box, animations: 'disabled', caret: 'hide' });
        process.stdout.write(`${file.slice(OUT.length)}  ${Math.round(statSync(file).size / 1024)} KB\n`);
      }
      await context.close();
    }
    // The embeddable view with its small map (/embed?…&view=map), as a city's map portal frames it.
    const embed = await newMapContext(browser, { viewport: { width: 360, height: 560 }, deviceScaleFactor: 1 });
    const page = await embed.newPage();
    await page.goto(`${k.httpUrl}/embed?area=${encodeURIComponent('紀の川')}&view=map&limit=5`);
    await page.waitForSelector('body[data-map="ready"]', { timeout: 15_000 });
    await page.waitForFunction(() => document.querySelectorAll('#map .mk[data-sensor-id]').length === 5, null, { timeout: 15_000 });
    const file = `${OUT}embed-map-ja.png`;
    await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
    process.stdout.write(`${file.slice(OUT.length)}  ${Math.round(statSync(file).size / 1024)} KB\n`);
    await embed.close();
  } finally {
    await browser.close();
    await k.dispose();
  }
}

await main();
