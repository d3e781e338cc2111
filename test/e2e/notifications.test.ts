import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver } from '../helpers/alert-receivers.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { TEST_PASSWORD, createTestUser } from '../helpers/console.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { runAxe } from '../helpers/map-page.ts';
import { waitFor } from '../helpers/wait.ts';

/** Issue 13: a member of staff sets their notifications in the console; an admin sees and sets everyone's. */
describe('notification preferences in the console', () => {
  let k: TestKansui;
  let browser: Browser;
  let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    k = await startTestKansui({ SMTP_URL: smtp.url, ALERT_ALLOW_PRIVATE_TARGETS: new URL(smtp.url).host });
    await createTestUser(k, 'sato', 'staff');
    await createTestUser(k, 'boss', 'admin');
    browser = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await k?.dispose();
    await smtp?.close();
  });

  async function signIn(username: string): Promise<Page> {
    const p = await (await browser.newContext({ locale: 'ja-JP' })).newPage();
    p.on('pageerror', (e) => pageErrors.push(e.message));
    await p.goto(`${k.httpUrl}/console/`);
    await p.fill('#username', username);
    await p.fill('#password', TEST_PASSWORD);
    await p.click('#sign-in');
    await p.waitForSelector('#sensor-table');
    await p.click('nav a[href="#/notifications"]');
    await p.waitForSelector('#notifications-form');
    return p;
  }

  it('staff choose e-mail, 危険 only and quiet hours; an admin changes it', async () => {
    const p = await signIn('sato');
    await p.fill('#n-email', 'sato@city.test');
    await p.selectOption('#n-severity', 'danger');
    await p.check('#n-quiet');
    await p.fill('#n-quiet-start', '23:00');
    await p.fill('#n-quiet-end', '05:30');
    await p.fill('#n-areas', '打田、粉河');
    await p.click('#n-save');
    await waitFor(() => k.alerting.recipients().find((r) => r.id === 'user:sato:email'), { what: 'sato’s e-mail recipient' });
    expect(k.alerting.recipients().find((r) => r.id === 'user:sato:email')).toMatchObject({ target: 'sato@city.test', minSeverity: 'danger', areas: ['打田', '粉河'], quietHours: { start: '23:00', end: '05:30' } });
    expect(await runAxe(p), 'axe on the notifications page').toEqual([]);

    const a = await signIn('boss');
    const row = a.locator('#n-users tr[data-username="sato"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('e-mail');
    await row.locator('button').click();
    expect(await a.inputValue('#n-email')).toBe('sato@city.test');
    await a.selectOption('#n-severity', 'warning');
    await a.click('#n-save');
    await waitFor(() => k.alerting.recipients().find((r) => r.id === 'user:sato:email')?.minSeverity === 'warning', { what: 'the admin’s change' });
    expect(pageErrors).toEqual([]);
  });
});
