import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.ts';
import { TEST_PASSWORD, consoleFetch, createTestToken, createTestUser } from '../helpers/console.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { waitFor } from '../helpers/wait.ts';
import { runAxe } from '../helpers/map-page.ts';

describe('console in real Chromium: a technician provisions a sensor end to end', () => {
  let k: TestKansui;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    k = await startTestKansui();
    await createTestUser(k, 'yamada', 'technician');
    await createTestUser(k, 'kimura', 'staff');
    await createTestUser(k, 'admin1', 'admin');
    browser = await launchBrowser();
    context = await browser.newContext({ locale: 'ja-JP' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: k.httpUrl });
    page = await context.newPage();
    // CSP violations and script errors show up as console errors / page errors.
    page.on('console', (m) => {
      if (m.type() === 'error' && !/tile|Failed to load resource/i.test(m.text())) pageErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await browser?.close();
    await k?.dispose();
  });

  it('signs in, registers by clicking the map, copies the password; the sensor publishes and shows on the public map; rotating cuts it off', async () => {
    await page.goto(`${k.httpUrl}/console/`);
    expect(await runAxe(page), 'axe on the sign-in page').toEqual([]);
    await page.fill('#username', 'yamada');
    await page.fill('#password', 'wrong password entirely');
    await page.click('#sign-in');
    await page.waitForSelector('#login-error:has-text("ユーザー名またはパスワードが違います")');
    await page.fill('#password', TEST_PASSWORD);
    await page.click('#sign-in');
    await page.waitForSelector('#sensor-table');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'kansui_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

    await page.click('nav a[href="#/sensors/new"]');
    await page.fill('#f-id', 'e2e-underpass-1');
    await page.fill('#f-name', '打田アンダーパス');
    await page.fill('#f-nameEn', 'Uchita underpass');
    await page.selectOption('#f-preset', 'road_underpass');
    await page.waitForSelector('#map-picker[data-ready="true"]');
    expect(await runAxe(page), 'axe on the register form').toEqual([]);
    await page.click('#map-picker', { position: { x: 120, y: 90 } });
    const lat = Number(await page.inputValue('#f-lat'));
    const lon = Number(await page.inputValue('#f-lon'));
    expect(lat).toBeGreaterThan(33);
    expect(lat).toBeLessThan(36);
    expect(lon).toBeGreaterThan(134);
    expect(lon).toBeLessThan(137);
    await page.click('#register');

    const shown = (await page.textContent('[data-testid="mqtt-password"]'))!.trim();
    expect(await page.textContent('[data-testid="mosquitto-pub"]')).toContain(`-P '${shown}'`);
    await page.click('#copy-password');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(shown);

    // A simulated sensor uses what was copied.
    const sensor = await connectMqtt(k.mqttUrl!, { username: 'e2e-underpass-1', password: copied });
    clients.push(sensor);
    await publishReading(sensor, 'e2e-underpass-1', { level_cm: 14, battery_v: 3.5 });
    const collection = await (await fetch(`${k.httpUrl}/api/sensors`)).json();
    const feature = collection.features.find((f: { id: string }) => f.id === 'e2e-underpass-1');
    expect(feature.geometry.coordinates).toEqual([lon, lat]);
    expect(feature.properties).toMatchObject({ name: '打田アンダーパス', level_cm: 14, status: 'caution' });
    expect((await (await fetch(`${k.httpUrl}/api/sensors/e2e-underpass-1/alert-settings`)).json()).preset).toBe('road_underpass');

    // The public map page lists it (its markers and list items carry data-sensor-id).
    const publicPage = await context.newPage();
    publicPage.on('pageerror', (e) => pageErrors.push(`public: ${e.message}`));
    // The CSP applies to the public page too: it must not block any of its own scripts or styles.
    publicPage.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) pageErrors.push(`public: ${m.text()}`);
    });
    await publicPage.goto(`${k.httpUrl}/`, { waitUntil: 'domcontentloaded' });
    await publicPage.waitForSelector('[data-sensor-id="e2e-underpass-1"]');
    await publicPage.close();

    // The console's list shows its health.
    await page.click('nav a[href="#/sensors"]');
    const row = page.locator('tr[data-sensor-id="e2e-underpass-1"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('14 cm');

    // Rotate: the connected sensor is cut off and the old password stops working.
    await page.click('a[href="#/sensor/e2e-underpass-1"]');
    page.once('dialog', (d) => void d.accept());
    const closed = new Promise<void>((r) => sensor.once('close', () => r()));
    await page.click('#rotate');
    const rotated = (await page.locator('[data-testid="mqtt-password"]').textContent())!.trim();
    expect(rotated).not.toBe(copied);
    await closed;
    await expect(connectMqtt(k.mqttUrl!, { username: 'e2e-underpass-1', password: copied })).rejects.toThrow();
    clients.push(await connectMqtt(k.mqttUrl!, { username: 'e2e-underpass-1', password: rotated }));

    expect(pageErrors).toEqual([]);
  });

  it('moves the sensor and puts it into maintenance from the edit form; a technician has no audit-log link', async () => {
    await page.goto(`${k.httpUrl}/console/#/sensor/e2e-underpass-1`);
    await page.waitForSelector('#sensor-edit');
    await page.fill('#f-lat', '34.2700');
    await page.fill('#f-lon', '135.4000');
    await page.selectOption('#f-state', 'maintenance');
    await page.click('#save');
    await waitFor(async () => (await (await fetch(`${k.httpUrl}/api/sensors/e2e-underpass-1`)).json()).properties.state === 'maintenance', { what: 'edit saved' });
    const f = await (await fetch(`${k.httpUrl}/api/sensors/e2e-underpass-1`)).json();
    expect(f.geometry.coordinates).toEqual([135.4, 34.27]);
    expect(await page.locator('nav a[href="#/audit"]').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
  async function signInAs(username: string): Promise<Page> {
    const ctx = await browser.newContext({ locale: 'ja-JP' });
    const p = await ctx.newPage();
    p.on('pageerror', (e) => pageErrors.push(`${username}: ${e.message}`));
    await p.goto(`${k.httpUrl}/console/`);
    await p.fill('#username', username);
    await p.fill('#password', TEST_PASSWORD);
    await p.click('#sign-in');
    await p.waitForSelector('#sensor-table');
    return p;
  }

  it('staff see no sensor-editing controls and acknowledge an alert with a note', async () => {
    const tech = createTestToken(k, 'alert-tech', 'technician');
    const created = await (await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'e2e-alert-1', name: '警報テスト', lat: 34.27, lon: 135.39 } })).json();
    const sensor = await connectMqtt(k.mqttUrl!, { username: 'e2e-alert-1', password: created.mqtt.password });
    clients.push(sensor);
    await publishReading(sensor, 'e2e-alert-1', { level_cm: 35 });
    const alertId = await waitFor(async () => {
      const { alerts } = await (await fetch(`${k.httpUrl}/api/alerts?active=true`)).json();
      return alerts.find((a: { sensor_id: string }) => a.sensor_id === 'e2e-alert-1')?.id as string | undefined;
    }, { what: 'an alert for e2e-alert-1' });

    const p = await signInAs('kimura');
    expect(await p.locator('nav a[href="#/sensors/new"]').count()).toBe(0);
    await p.click('nav a[href="#/alerts"]');
    const row = p.locator(`tr[data-alert-id="${alertId}"]`);
    await row.locator('input[name="note"]').fill('現地確認中');
    await row.locator('button').click();
    await waitFor(async () => {
      const { alerts } = await (await consoleFetch(k, 'GET', '/api/alerts?active=true', { token: tech })).json();
      const a = alerts.find((x: { id: string }) => x.id === alertId);
      return a?.acknowledged_by === 'kimura' && a.ack_note === '現地確認中';
    }, { what: 'the acknowledgement' });
    await p.context().close();
    expect(pageErrors).toEqual([]);
  });

  it('an admin adds a user, issues an API token and reads the audit log in the console', async () => {
    const p = await signInAs('admin1');
    await p.click('nav a[href="#/users"]');
    await p.fill('#f-new-username', 'new-tech');
    await p.fill('#f-new-password', 'another long passphrase here');
    await p.click('form button[type="submit"]');
    const row = p.locator('tr', { hasText: 'new-tech' });
    await row.waitFor();
    await row.locator('select').selectOption('technician');
    await waitFor(() => k.users.get('new-tech')?.role === 'technician', { what: 'role change saved' });
    await p.locator('tr', { hasText: 'new-tech' }).locator('button', { hasText: 'トークン発行' }).click();
    const token = (await p.locator('[data-testid="api-token"]').textContent())!.trim();
    expect(await runAxe(p), 'axe on the users page').toEqual([]);
    expect((await consoleFetch(k, 'GET', '/api/console/sensors', { token, origin: null })).status).toBe(200);

    await p.click('nav a[href="#/audit"]');
    const audit = p.locator('#audit-table');
    await audit.waitFor();
    const text = await audit.textContent();
    for (const action of ['user.create', 'user.update', 'token.create', 'sensor.create', 'sensor.credentials.rotate', 'session.login']) expect(text).toContain(action);
    expect(text).not.toContain('another long passphrase');
    await p.context().close();
    expect(pageErrors).toEqual([]);
  });
});
