import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { createTestToken, createTestUser, TEST_PASSWORD } from '../helpers/console.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { newMapContext, openMap, TEST_TILE_URL } from '../helpers/map-page.ts';
import { startNetworkServerBroker, type NetworkServerBroker } from '../helpers/network-server-broker.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * Issue 11 end to end: a technician registers a Milesight EM500-UDL by its
 * DevEUI; its first uplink arrives from The Things Stack (Debian Mosquitto
 * playing TTN's MQTT server, message as TTN documents it) and is on the
 * public map in real Chromium with its level and status, and raises the alert.
 * A stage sensor beside it shows "20 cm 以上", not a false exact level.
 */
describe('LoRaWAN sensor: first uplink to the map and an alert (issue 11)', () => {
  let k: TestKansui;
  let broker: NetworkServerBroker;
  let browser: Browser;

  beforeAll(async () => {
    broker = await startNetworkServerBroker();
    k = await startTestKansui({ MAP_TILE_URL: TEST_TILE_URL, TTN_MQTT_URL: broker.url, TTN_MQTT_USERNAME: broker.ttnUser.username, TTN_MQTT_PASSWORD: broker.ttnUser.password });
    await waitFor(() => k.integrations.mqtt.every((m) => m.subscribed()), { what: 'TTN subscription' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await k?.dispose();
    await broker?.stop();
  });

  it('registers by DevEUI, takes the uplink, shows it on the map and raises the flood alert', async () => {
    const token = createTestToken(k, 'e2e-tech', 'technician');
    // The technician registers the device in the console's form: DevEUI as printed on the box, the codec, the mount height.
    await createTestUser(k, 'lw-tech', 'technician');
    const consoleContext = await browser.newContext({ locale: 'ja-JP' });
    const form = await consoleContext.newPage();
    await form.goto(`${k.httpUrl}/console/`);
    await form.fill('#username', 'lw-tech');
    await form.fill('#password', TEST_PASSWORD);
    await form.click('#sign-in');
    await form.waitForSelector('#sensor-table');
    // The sensor list shows the configured integration, silent so far: a silent integration is noticed.
    await form.waitForSelector('#integrations tr[data-source="ttn-mqtt"]');
    expect(await form.textContent('#integrations tr[data-source="ttn-mqtt"]')).toContain('まだ受信なし');
    await form.click('nav a[href="#/sensors/new"]');
    await form.fill('#f-id', 'udl-1');
    await form.fill('#f-name', '打田駅前アンダーパス');
    await form.fill('#f-lat', '34.271');
    await form.fill('#f-lon', '135.395');
    await form.selectOption('#f-kind', 'distance');
    await form.fill('#f-mountHeightMm', '2000');
    expect(await form.isVisible('#f-jsonField')).toBe(false);
    await form.fill('#f-devEui', '24e124713b123456');
    await form.selectOption('#f-codec', 'milesight-em500-udl');
    await form.click('#register');
    await form.waitForSelector('[data-testid="mqtt-password"]');
    await consoleContext.close();
    expect(k.registry.get('udl-1')).toMatchObject({ devEui: '24E124713B123456', codec: 'milesight-em500-udl', kind: 'distance', mountHeightMm: 2000 });
    await k.ingest.submit('stage-1', Buffer.from('{}')); // unknown yet: refused, nothing shown
    const stage = await fetch(`${k.httpUrl}/api/sensors`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, Origin: k.httpUrl },
      body: JSON.stringify({ id: 'stage-1', name: '粉河橋南', lat: 34.275, lon: 135.405, kind: 'stage', stages: [10, 20, 30] }),
    });
    expect(stage.status).toBe(201);
    for (const [minutesAgo, wet] of [[30, []], [20, [10]], [0, [10, 20]]] as const) {
      expect(await k.ingest.submit('stage-1', Buffer.from(JSON.stringify({ ts: Date.now() - minutesAgo * 60_000, wet_cm: wet })))).toMatchObject({ ok: true });
    }

    // First uplink: 01 75 55 (battery 85 %) 03 82 E8 03 (1000 mm) → 2000 − 1000 = 100 cm of water: danger.
    const receivedAt = new Date().toISOString();
    await broker.publish(`v3/${broker.ttnUser.username}/devices/em500-udl-1/up`, {
      end_device_ids: { device_id: 'em500-udl-1', application_ids: { application_id: 'kansui-app' }, dev_eui: '24E124713B123456', dev_addr: '260B1234' },
      correlation_ids: ['as:up:01J0000000000000000000E2E1'],
      received_at: receivedAt,
      uplink_message: {
        f_port: 85,
        f_cnt: 1,
        frm_payload: Buffer.from([0x01, 0x75, 0x55, 0x03, 0x82, 0xe8, 0x03]).toString('base64'),
        rx_metadata: [{ gateway_ids: { gateway_id: 'city-hall' }, rssi: -101, snr: 6.25 }],
        received_at: receivedAt,
      },
    });
    // A new sensor is public from its first valid reading (issue 12): open the map once the uplink is stored.
    await waitFor(() => k.ingest.latest.get('udl-1'), { what: 'the first uplink stored' });
    const context = await newMapContext(browser);
    const page = await context.newPage();
    await openMap(page, k.httpUrl, 2);
    expect(await page.textContent('#list [data-sensor-id="stage-1"] .row-level')).toBe('20 cm 以上');
    expect(await page.getAttribute('#list [data-sensor-id="stage-1"]', 'data-status')).toBe('warning');
    // Its panel: a lower bound in words and on the gauge, and a chart of steps (a level holds until the next report).
    await page.click('#list [data-sensor-id="stage-1"]');
    await page.waitForSelector('#panel[data-sensor-id="stage-1"] .chart path.level');
    expect(await page.textContent('#panel .f-level')).toBe('20 cm 以上');
    expect(await page.getAttribute('#panel .gauge', 'aria-label')).toBe('水位 20 cm 以上（注意 10 cm、警戒 20 cm、危険 30 cm）');
    const d = (await page.getAttribute('#panel .chart path.level', 'd'))!;
    const xy = [...d.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => [m[1], m[2]]);
    // M x0 y0 · L x1 y0 · L x1 y1 · L x2 y1 · L x2 y2: every rise is vertical.
    expect(xy).toHaveLength(5);
    expect(xy[1]![1]).toBe(xy[0]![1]);
    expect(xy[2]![0]).toBe(xy[1]![0]);
    expect(xy[4]![0]).toBe(xy[3]![0]);
    await page.keyboard.press('Escape');

    await page.waitForFunction(() => document.querySelector('#list [data-sensor-id="udl-1"]')?.getAttribute('data-status') === 'danger', undefined, { timeout: 30_000 });
    expect(await page.textContent('#list [data-sensor-id="udl-1"] .row-level')).toBe('100.0 cm');
    expect(await page.textContent('#list [data-sensor-id="udl-1"] .row-status')).toBe('危険');
    await page.waitForFunction(() => document.querySelector('.mk[data-sensor-id="udl-1"]')?.getAttribute('data-status') === 'danger', undefined, { timeout: 30_000 });

    const alert = await waitFor(() => k.alerting.activeFor('udl-1').flood, { what: 'the flood alert' });
    expect(alert.severity).toBe('danger');
    const alerts = await (await fetch(`${k.httpUrl}/api/alerts`, { headers: { Authorization: `Bearer ${token}` } })).json();
    expect(JSON.stringify(alerts)).toContain('udl-1');
    const reading = k.ingest.latest.get('udl-1')!;
    expect(reading).toMatchObject({ levelCm: 100, batteryPct: 85, rssiDbm: -101, snrDb: 6.25, observedAt: Date.parse(receivedAt) });

    // The next uplink reaches the open map live: 1750 mm → 25 cm.
    const nextAt = new Date().toISOString();
    await broker.publish(`v3/${broker.ttnUser.username}/devices/em500-udl-1/up`, {
      end_device_ids: { device_id: 'em500-udl-1', dev_eui: '24E124713B123456' },
      correlation_ids: ['as:up:01J0000000000000000000E2E2'],
      received_at: nextAt,
      uplink_message: { f_port: 85, f_cnt: 2, frm_payload: Buffer.from([0x03, 0x82, 0xd6, 0x06]).toString('base64'), rx_metadata: [{ rssi: -99, snr: 7 }] },
    });
    await page.waitForFunction(() => document.querySelector('#list [data-sensor-id="udl-1"] .row-level')?.textContent === '25.0 cm', undefined, { timeout: 30_000 });
    await context.close();
  }, 150_000); // a console sign-in (scrypt), two pages and a broker on a loaded 2-core machine; every wait has its own deadline
});
