import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { artifactPath, ingestReading, newMapContext, openMap, seedSensors, TEST_TILE_URL } from '../helpers/map-page.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/wait.ts';

/** Wait until the service worker controls the page (it claims clients on activate: sw.js). */
async function waitForServiceWorker(page: Page): Promise<void> {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 });
}

describe('installable map: service worker, offline copy, push notifications (real Chromium)', () => {
  let k: TestKansui;
  let browser: Browser;
  let proxy: TcpProxy;

  beforeAll(async () => {
    k = await startTestKansui({ MAP_TILE_URL: TEST_TILE_URL });
    seedSensors(k, [
      { id: 'off-1', name: '打田駅前アンダーパス', lat: 34.271, lon: 135.395 },
      { id: 'off-2', name: '粉河橋南', lat: 34.275, lon: 135.405 },
    ]);
    await ingestReading(k, 'off-1', { ts: Date.now() - 60_000, level_cm: 24 });
    await ingestReading(k, 'off-2', { ts: Date.now() - 60_000, level_cm: 1 });
    // Through a proxy the test can cut: the phone loses its connection, the server keeps running.
    proxy = await startTcpProxy(k.httpPort);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await k?.dispose();
  });

  it('opens with no connection from the cached shell and last-known data, says it is not live, and goes live again when the connection returns', async () => {
    const context: BrowserContext = await newMapContext(browser, { serviceWorkers: 'allow' });
    try {
      const page = await context.newPage();
      await openMap(page, proxy.url, 2);
      await waitForServiceWorker(page);
      expect(await page.evaluate(async () => (await caches.keys()).length)).toBe(1);

      proxy.cut();
      await page.reload();
      await page.waitForFunction(() => document.querySelectorAll('#list [data-sensor-id]').length === 2, null, { timeout: 15_000 });
      await page.waitForSelector('#banner[data-mode="offline-copy"]', { state: 'visible' });
      expect(await page.textContent('#banner')).toMatch(/オフライン表示：\d\d:\d\d 時点の保存データです。ライブではありません。/);
      expect(await page.getAttribute('#list [data-sensor-id="off-1"]', 'data-status')).toBe('warning');
      // Leaflet itself came from the cache too: the map still draws the markers.
      await page.waitForSelector('.mk[data-sensor-id="off-1"][data-status="warning"]', { state: 'attached' });
      await page.screenshot({ path: artifactPath('phone-offline-copy-ja.png') });

      // While away, the sensor rose; back online, the page must replace the old copy by itself.
      await ingestReading(k, 'off-1', { ts: Date.now(), level_cm: 33 });
      proxy.restore();
      await page.waitForSelector('#list [data-sensor-id="off-1"][data-status="danger"]', { state: 'attached', timeout: 20_000 });
      await page.waitForSelector('#banner', { state: 'hidden', timeout: 10_000 });
    } finally {
      proxy.restore();
      await context.close();
    }
  });

  it('the service worker shows a pushed alert as a notification that links to the sensor', async () => {
    const context = await newMapContext(browser, { serviceWorkers: 'allow' });
    try {
      await context.grantPermissions(['notifications'], { origin: proxy.url });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      const registrations: { registrationId: string; scopeURL: string }[] = [];
      cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
      await cdp.send('ServiceWorker.enable');
      await openMap(page, proxy.url, 2);
      await waitForServiceWorker(page);
      const reg = await waitFor(() => registrations.find((r) => r.scopeURL.startsWith(proxy.url)), { what: 'service worker registration' });

      // The payload the alerts module sends (services/alerting/channels/web-push.ts pushPayload).
      const payload = { title: '危険：打田駅前アンダーパス', body: '水位 33 cm', tag: 'kansui-a1', url: null, sensor_id: 'off-1', severity: 'danger' };
      await cdp.send('ServiceWorker.deliverPushMessage', { origin: proxy.url, registrationId: reg.registrationId, data: JSON.stringify(payload) });
      const shown = await waitFor(
        () =>
          page.evaluate(async () => {
            const list = await (await navigator.serviceWorker.ready).getNotifications();
            return list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }))[0];
          }),
        { what: 'the notification' },
      );
      expect(shown).toEqual({ title: payload.title, body: payload.body, tag: 'kansui-a1', data: { url: '/#sensor=off-1' } });
    } finally {
      await context.close();
    }
  });

  it('"notify me" explains itself, asks for permission, and registers the picked sensor with the alerts API', async () => {
    const context = await newMapContext(browser, { serviceWorkers: 'allow' });
    try {
      const page = await context.newPage();
      // Headless Chromium has no push service: stand in for the browser's PushManager and the permission prompt.
      await page.addInitScript(() => {
        const fake = {
          endpoint: 'https://push.example/sub/abc',
          toJSON: () => ({ endpoint: 'https://push.example/sub/abc', expirationTime: null, keys: { p256dh: 'BPk', auth: 'au' } }),
          unsubscribe: async () => true,
        };
        let subscribed = false;
        PushManager.prototype.subscribe = async function () {
          subscribed = true;
          return fake as unknown as PushSubscription;
        };
        PushManager.prototype.getSubscription = async () => (subscribed ? (fake as unknown as PushSubscription) : null);
        Notification.requestPermission = async () => 'granted';
      });
      const posted: unknown[] = [];
      await page.route('**/api/push/vapid-public-key', (r) => r.fulfill({ json: { key: 'BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U' } }));
      await page.route('**/api/push/subscriptions', (r) => {
        posted.push({ method: r.request().method(), body: r.request().postDataJSON() });
        return r.fulfill({ status: 201, json: { id: 'sub-1', unsubscribe_token: 'tok' } });
      });
      await openMap(page, proxy.url, 2, '/#sensor=off-1');
      await page.waitForSelector('#panel [data-act="notify"]', { state: 'visible' });
      await page.click('#panel [data-act="notify"]');
      await page.waitForSelector('#notify-dialog[open]');
      expect(await page.textContent('#notify-dialog')).toContain('アカウントや個人情報は不要です');
      expect(await page.isChecked('#notify-dialog input[name="sensor"][value="off-1"]')).toBe(true);
      await page.check('#notify-dialog input[name="min"][value="danger"]');
      await page.click('#notify-dialog [data-act="save"]');
      await page.waitForSelector('#notify-dialog .notify-msg:text("通知の設定を保存しました")');
      expect(posted).toEqual([
        {
          method: 'POST',
          body: {
            subscription: { endpoint: 'https://push.example/sub/abc', expirationTime: null, keys: { p256dh: 'BPk', auth: 'au' } },
            sensors: ['off-1'],
            min_status: 'danger',
            lang: 'ja',
          },
        },
      ]);
      await page.click('#notify-dialog [data-act="stop"]');
      await page.waitForSelector('#notify-dialog .notify-msg:text("通知を止めました")');
      expect(posted[1]).toEqual({ method: 'DELETE', body: { endpoint: 'https://push.example/sub/abc' } });
    } finally {
      await context.close();
    }
  });
});
