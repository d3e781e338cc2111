import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { TEST_PASSWORD, createTestUser } from '../helpers/console.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { newMapContext, openMap, runAxe, TEST_TILE_URL } from '../helpers/map-page.ts';
import { waitFor } from '../helpers/wait.ts';

// Issue 12 in the console form: the English address, publishing a sensor before its first
// reading, and maintenance with a reason and an expected end; residents see them on the map.
describe('console form: address_en, publish now, maintenance reason and end (real Chromium)', () => {
  let k: TestKansui;
  let browser: Browser;

  beforeAll(async () => {
    k = await startTestKansui({ MAP_TILE_URL: TEST_TILE_URL });
    await createTestUser(k, 'yamada', 'technician');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await k?.dispose();
  });

  it('registers with an English address and publishes at once; maintenance with reason and end reaches the public API', async () => {
    const context = await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
    const page = await context.newPage();
    await page.goto(`${k.httpUrl}/console/`);
    await page.fill('#username', 'yamada');
    await page.fill('#password', TEST_PASSWORD);
    await page.click('#sign-in');
    await page.waitForSelector('#sensor-table');

    await page.click('nav a[href="#/sensors/new"]');
    await page.fill('#f-id', 'pub-1');
    await page.fill('#f-name', '打田アンダーパス');
    await page.fill('#f-nameEn', 'Uchita underpass');
    await page.fill('#f-address', '紀の川市打田 1234');
    await page.fill('#f-addressEn', '1234 Uchita, Kinokawa');
    await page.fill('#f-lat', '34.2711');
    await page.fill('#f-lon', '135.3952');
    expect(await runAxe(page)).toEqual([]);
    await page.check('#f-publish');
    await page.click('#register');
    await page.waitForSelector('[data-testid="mqtt-password"]');
    expect(k.registry.get('pub-1')).toMatchObject({ addressEn: '1234 Uchita, Kinokawa', commissioning: false });
    const feature = (await (await fetch(`${k.httpUrl}/api/sensors/pub-1`)).json()) as { properties: Record<string, unknown> };
    expect(feature.properties).toMatchObject({ address: '紀の川市打田 1234', address_en: '1234 Uchita, Kinokawa', status: 'offline' });

    // Another, registered without "publish now": the console says it is not public yet.
    await page.goto(`${k.httpUrl}/console/#/sensors`);
    await page.waitForSelector('#sensor-table');
    await page.click('nav a[href="#/sensors/new"]');
    await page.fill('#f-id', 'pending-1');
    await page.fill('#f-name', '粉河橋南');
    await page.fill('#f-lat', '34.275');
    await page.fill('#f-lon', '135.405');
    await page.click('#register');
    await page.waitForSelector('[data-testid="mqtt-password"]');
    expect(k.registry.get('pending-1')?.commissioning).toBe(true);
    expect((await fetch(`${k.httpUrl}/api/sensors/pending-1`)).status).toBe(404);
    await page.click('nav a[href="#/sensors"]');
    await page.waitForSelector('tr[data-sensor-id="pending-1"] [data-commissioning="true"]');
    expect(await page.textContent('tr[data-sensor-id="pending-1"] [data-commissioning="true"]')).toBe('公開前（最初の測定値を待っています）');
    expect(await page.locator('tr[data-sensor-id="pub-1"] [data-commissioning]').count()).toBe(0);

    await page.goto(`${k.httpUrl}/console/#/sensor/pub-1`);
    await page.waitForSelector('#sensor-edit');
    expect(await page.isVisible('#f-maintenanceReason')).toBe(false);
    await page.selectOption('#f-state', 'maintenance');
    await page.fill('#f-maintenanceReason', '排水ポンプ交換');
    await page.fill('#f-maintenanceUntil', '2030-07-01T18:00');
    await page.click('#save');
    await waitFor(() => k.registry.get('pub-1')?.state === 'maintenance', { what: 'maintenance saved' });
    expect(k.registry.get('pub-1')).toMatchObject({ maintenanceReason: '排水ポンプ交換', maintenanceUntil: Date.parse('2030-07-01T18:00:00+09:00') });
    await context.close();

    // The public map in English shows the English address.
    const map = await newMapContext(browser);
    const mapPage = await map.newPage();
    await openMap(mapPage, k.httpUrl, 1);
    await mapPage.click('#lang-btn');
    await mapPage.waitForFunction(() => document.querySelector('#list [data-sensor-id="pub-1"] .row-addr')?.textContent === '1234 Uchita, Kinokawa');
    // In maintenance: the reason and the expected end with the last reading, in the resident's language.
    await mapPage.click('[data-view-btn="list"]');
    await mapPage.click('#list [data-sensor-id="pub-1"]');
    await mapPage.waitForSelector('#panel[data-sensor-id="pub-1"] .panel-note:not([hidden])');
    expect(await mapPage.textContent('#panel .panel-note')).toBe('This sensor is under maintenance. Values are for reference only. Reason: 排水ポンプ交換 / Expected to end: 01/07, 18:00');
    await mapPage.click('#lang-btn');
    await mapPage.waitForFunction(() => document.querySelector('#panel .panel-note')?.textContent?.includes('終了予定：7/1 18:00'));
    expect(await mapPage.textContent('#panel .panel-note')).toBe('このセンサーは点検中です。表示中の値は参考です。 理由：排水ポンプ交換 / 終了予定：7/1 18:00');
    await map.close();
  }, 180_000); // two browsers, a sign-in (scrypt) and two pages on a loaded 2-core machine

  it('a river gauge: the road defaults are cleared and required; 水防団待機水位 and 計画高水位 where set', async () => {
    const context = await browser.newContext({ locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
    const page = await context.newPage();
    await page.goto(`${k.httpUrl}/console/`);
    await page.fill('#username', 'yamada');
    await page.fill('#password', TEST_PASSWORD);
    await page.click('#sign-in');
    await page.waitForSelector('#sensor-table');
    await page.click('nav a[href="#/sensors/new"]');
    expect(await page.isVisible('#f-planHighWater')).toBe(false); // a road sensor has neither
    await page.fill('#f-id', 'river-1');
    await page.fill('#f-name', '紀の川 竹房');
    await page.fill('#f-lat', '34.28');
    await page.fill('#f-lon', '135.4');
    await page.selectOption('#f-site', 'river');
    expect(await page.inputValue('#f-caution')).toBe('');
    expect(await page.isVisible('#f-planHighWater')).toBe(true);
    // Without the station's levels the browser refuses to submit (required), so nothing is registered.
    await page.click('#register');
    expect(await page.evaluate(() => (document.querySelector('#f-caution') as HTMLInputElement).validity.valueMissing)).toBe(true);
    expect(k.registry.get('river-1')).toBeUndefined();
    await page.fill('#f-standby', '200');
    await page.fill('#f-caution', '250');
    await page.fill('#f-warning', '330');
    await page.fill('#f-danger', '380');
    await page.fill('#f-planHighWater', '860');
    expect(await runAxe(page)).toEqual([]);
    await page.click('#register');
    await page.waitForSelector('[data-testid="mqtt-password"]');
    expect(k.registry.get('river-1')).toMatchObject({ site: 'river', thresholds: { standby: 200, caution: 250, warning: 330, danger: 380, planHighWater: 860 } });
    await context.close();
  }, 120_000);
});
