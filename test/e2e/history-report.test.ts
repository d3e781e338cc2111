import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startWebhookReceiver } from '../helpers/alert-receivers.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { TEST_PASSWORD, createTestUser } from '../helpers/console.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { runAxe } from '../helpers/map-page.ts';
import { waitFor } from '../helpers/wait.ts';

const MIN = 60_000;
const SECRET = 'history-webhook-secret-0123456789';
const LEVELS = [0, 8, 14, 22, 31, 36, 33, 25, 18, 9, 2];

/** Issue 13, after the storm: alert history with filters and delivery log, and the printable event report, in Chromium. */
describe('alert history and event report in the console', () => {
  let k: TestKansui;
  let browser: Browser;
  let page: Page;
  let webhook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const pageErrors: string[] = [];
  let t0: number;

  beforeAll(async () => {
    webhook = await startWebhookReceiver(SECRET);
    k = await startTestKansui({ ALERT_HOLD_S: '0', ALERT_WEBHOOK_URLS: webhook.url, ALERT_WEBHOOK_SECRET: SECRET, ALERT_ALLOW_PRIVATE_TARGETS: new URL(webhook.url).host }, { sweepMs: 60_000 });
    await createTestUser(k, 'sato', 'staff');
    registerSensor(k.registry, { id: 'hist-01', name: '打田駅前アンダーパス', lat: 34.27, lon: 135.39, intervalS: 60 }, Date.now());
    t0 = Math.floor((Date.now() - 30 * MIN) / 1000) * 1000;
    for (const [i, level_cm] of LEVELS.entries()) await k.ingest.submit('hist-01', Buffer.from(JSON.stringify({ ts: t0 + i * MIN, level_cm })));
    await k.alerting.idle();
    browser = await launchBrowser();
    const ctx = await browser.newContext({ locale: 'ja-JP' });
    page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${k.httpUrl}/console/`);
    await page.fill('#username', 'sato');
    await page.fill('#password', TEST_PASSWORD);
    await page.click('#sign-in');
    await page.waitForSelector('#sensor-table');
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await k?.dispose();
    await webhook?.close();
  });

  it('filters the history by severity and shows every delivery attempt of an alert', async () => {
    await page.click('nav a[href="#/history"]');
    await page.waitForSelector('#history-table tbody tr[data-alert-id]');
    const row = page.locator('#history-table tbody tr[data-alert-id]').first();
    expect(await row.textContent()).toContain('打田駅前アンダーパス');
    await page.selectOption('#h-severity', 'danger');
    await page.click('#history-search');
    await waitFor(async () => (await page.locator('#history-table tbody tr[data-alert-id]').count()) === 1, { what: 'one danger alert' });
    await page.fill('#h-ack-by', 'nobody');
    await page.click('#history-search');
    await waitFor(async () => (await page.locator('#history-table tbody tr[data-alert-id]').count()) === 0, { what: 'no alert acknowledged by nobody' });
    await page.fill('#h-ack-by', '');
    await page.click('#history-search');
    await page.locator('#history-table tbody tr[data-alert-id]').first().locator('.deliveries-btn').click();
    const log = page.locator('table.deliveries');
    await log.waitFor();
    const text = await log.textContent();
    expect(text).toContain('webhook');
    expect(text).toMatch(/raised/);
    expect(text).toMatch(/\d+(\.\d+)? ms/);
    expect(await runAxe(page), 'axe on the history').toEqual([]);
  });

  it('makes the event report with the readings’ numbers, as CSV and a printable A4 page', async () => {
    const local = (ms: number) => new Date(ms + 9 * 3600_000).toISOString().slice(0, 16);
    await page.goto(`${k.httpUrl}/console/#/report?from=${local(t0 - MIN)}&to=${local(Date.now() + MIN)}`);
    const row = page.locator('#report-table tr[data-sensor-id="hist-01"]');
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).toBe('36 cm'); // the highest reading
    // Minutes at or above 10 / 20 / 30 cm, one reading a minute: 14 22 31 36 33 25 18 → 7; 22 31 36 33 25 → 5; 31 36 33 → 3.
    expect(cells.slice(2, 5)).toEqual(['7', '5', '3']);
    const csvHref = await page.getAttribute('#report-csv', 'href');
    const csv = await page.evaluate(async (href) => (await fetch(href!)).text(), csvHref);
    expect(csv).toContain('hist-01,打田駅前アンダーパス,11,36,');
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('header.bar').isVisible()).toBe(false);
    expect(await page.locator('#report-doc').isVisible()).toBe(true);
    const pdf = await page.pdf({ format: 'A4', preferCSSPageSize: true });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await page.emulateMedia({ media: 'screen' });
    expect(pageErrors).toEqual([]);
  });
});
