import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { ingestReading, newMapContext, openMap, seedSensors, TEST_TILE_URL } from '../helpers/map-page.ts';

/** How old the CDN's copy is: stale-if-error keeps one up to 300 s (services/api/cache-policy.ts). */
const AGE_S = 300;

/**
 * Issue 15: with a CDN in front, the map may get a copy of /api/sensors made
 * minutes ago (stale-if-error while kansui is unreachable). The copy keeps the
 * Date it was made with and says its age in Age (RFC 9111 §5.1). The map must
 * not take that Date for the server's clock now, or a sensor that has since
 * gone silent would look fresh.
 *
 * The copy is made for real: kansui runs with its clock AGE_S in the past, so
 * its body says what it said then (the sensor reported a second before, status
 * normal). The browser's request interception plays the CDN: it keeps the
 * body and gives the copy the Date of when it was made and its Age.
 */
describe('the map and a CDN copy of /api/sensors (real Chromium)', () => {
  let k: TestKansui;
  let browser: Browser;
  const madeAt = () => Date.now() - AGE_S * 1000;

  beforeAll(async () => {
    k = await startTestKansui({ MAP_TILE_URL: TEST_TILE_URL }, { now: madeAt });
    // Reports every 10 s: offline 30 s after its last reading (LIMITS.offlineAfterIntervals = 3).
    seedSensors(k, [{ id: 'cdn-1', name: '打田駅前アンダーパス', lat: 34.271, lon: 135.395, intervalS: 10 }]);
    await ingestReading(k, 'cdn-1', { ts: madeAt() - 1000, level_cm: 3 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await k?.dispose();
  });

  it('adds the copy’s Age to its Date, so a sensor silent since the copy was made shows as offline, not as fresh', async () => {
    const context = await newMapContext(browser);
    try {
      await context.route(/\/api\/(sensors|config)$/, async (route) => {
        const response = await route.fetch();
        const made = new Date(Date.now() - AGE_S * 1000).toUTCString();
        await route.fulfill({ response, headers: { ...response.headers(), date: made, age: String(AGE_S) } });
      });
      const page = await context.newPage();
      await openMap(page, k.httpUrl, 1);
      // The copy itself says the sensor was fine when it was made.
      const body = await (await fetch(`${k.httpUrl}/api/sensors`)).json();
      expect(body.features[0].properties.status).toBe('normal');
      // A string, so the test runner does not rewrite the page's own dynamic import.
      const offsetMs = (await page.evaluate("import('/js/api.js').then((api) => api.serverNow() - Date.now())")) as number;
      expect(Math.abs(offsetMs)).toBeLessThan(5_000); // not -300 s
      await page.waitForFunction(() => document.querySelector('#list [data-sensor-id="cdn-1"]')?.getAttribute('data-status') === 'offline', null, { timeout: 15_000 });
    } finally {
      await context.close();
    }
  });
});
