import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, ConsoleMessage } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../services/config.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { ingestReading, newMapContext, runAxe, seedSensors, TEST_TILE_URL } from '../helpers/map-page.ts';
import { waitFor } from '../helpers/wait.ts';

// Issue 12: /embed shows chosen sensors for the city's website and map portal, framable only by
// the origins in EMBED_ORIGINS; every other page keeps frame-ancestors 'none'.

/** A loopback "city website" whose page frames `src()` (known only once kansui runs). */
async function startParentSite(src: () => string): Promise<{ origin: string; close: () => Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="ja"><title>市のサイト</title><main><h1>紀の川市</h1><iframe id="kansui" title="冠水センサー" width="400" height="300" src="${src()}"></iframe></main>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

describe('/embed: chosen sensors, framable only by EMBED_ORIGINS (real Chromium, real iframes)', { timeout: 120_000 }, () => { // several browser contexts per test on a loaded 2-core machine
  let k: TestKansui;
  let browser: Browser;
  let allowed: Awaited<ReturnType<typeof startParentSite>>;
  let other: Awaited<ReturnType<typeof startParentSite>>;
  let portal: Awaited<ReturnType<typeof startParentSite>>;
  const embedUrl = () => `${k.httpUrl}/embed?sensors=e-wet,e-calm`;

  beforeAll(async () => {
    allowed = await startParentSite(embedUrl);
    other = await startParentSite(embedUrl);
    // The city's map portal frames the small map of the same sensors (&view=map).
    portal = await startParentSite(() => `${embedUrl()}&view=map`);
    k = await startTestKansui({ EMBED_ORIGINS: `${allowed.origin},https://portal.city.example,${portal.origin}`, MAP_TILE_URL: TEST_TILE_URL });
    seedSensors(k, [
      { id: 'e-calm', name: '打田駅前', nameEn: 'Uchita Station', address: '紀の川市打田', lat: 34.271, lon: 135.395 },
      { id: 'e-wet', name: '粉河橋南', nameEn: 'Kokawa Bridge south', address: '紀の川市粉河', lat: 34.275, lon: 135.405 },
      { id: 'e-old', name: '名手市場', address: '紀の川市名手', lat: 34.27, lon: 135.41 },
    ]);
    const now = Date.now();
    await ingestReading(k, 'e-calm', { ts: now - 60_000, level_cm: 1 });
    await ingestReading(k, 'e-wet', { ts: now - 60_000, level_cm: 32 });
    await ingestReading(k, 'e-old', { ts: now - 45 * 60_000, level_cm: 25 }); // 3 × 10 min silent: 欠測, not its old 警戒
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await k?.dispose();
    await allowed?.close();
    await other?.close();
    await portal?.close();
  });

  it('answers /embed with frame-ancestors of EMBED_ORIGINS only; the map and the console keep none', async () => {
    const embed = await fetch(`${k.httpUrl}/embed?sensors=e-wet`);
    expect(embed.status).toBe(200);
    expect(embed.headers.get('content-security-policy')).toMatch(new RegExp(`frame-ancestors ${allowed.origin} https://portal\\.city\\.example ${portal.origin}$`));
    // The small map (&view=map) is the same page: the same framing rule.
    expect((await fetch(`${k.httpUrl}/embed?sensors=e-wet&view=map`)).headers.get('content-security-policy')).toBe(embed.headers.get('content-security-policy'));
    expect(embed.headers.get('x-frame-options')).toBeNull();
    for (const path of ['/', '/console/']) {
      const res = await fetch(`${k.httpUrl}${path}`);
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
    // Without EMBED_ORIGINS nobody may frame it; a value that is not an origin stops the start.
    expect(() => loadConfig({ EMBED_ORIGINS: 'https://city.example/path' })).toThrow(/EMBED_ORIGINS/);
    expect(() => loadConfig({ EMBED_ORIGINS: '*' })).toThrow(/EMBED_ORIGINS/);
    expect(loadConfig({ EMBED_ORIGINS: 'https://a.example, http://127.0.0.1:8000' }).EMBED_ORIGINS).toEqual(['https://a.example', 'http://127.0.0.1:8000']);
  });

  it('an allowed site frames the compact list with the same freshness rules; another site is refused by the browser', async () => {
    const context = await newMapContext(browser, { viewport: { width: 800, height: 600 } });
    const page = await context.newPage();
    await page.goto(allowed.origin);
    const frame = await waitFor(() => page.frames().find((f) => f.url().startsWith(`${k.httpUrl}/embed`)), { what: 'embed frame' });
    await frame.waitForSelector('body[data-ready="true"]');
    expect(await frame.$$eval('#rows [data-sensor-id]', (rows) => rows.map((r) => [(r as HTMLElement).dataset.sensorId, (r as HTMLElement).dataset.status]))).toEqual([
      ['e-wet', 'danger'],
      ['e-calm', 'normal'],
    ]);
    expect(await frame.textContent('#rows [data-sensor-id="e-wet"] .badge')).toContain('危険');
    expect(await frame.textContent('#rows [data-sensor-id="e-wet"] .level')).toBe('32.0 cm');
    expect(await frame.textContent('#as-of')).toMatch(/^\d\d:\d\d 現在$/);
    // No page chrome: no header, no footer, no map.
    expect(await frame.$$eval('header, footer, #map', (els) => els.length)).toBe(0);
    expect(await runAxe(page)).toEqual([]);

    const blocked: string[] = [];
    const other2 = await context.newPage();
    other2.on('console', (m: ConsoleMessage) => blocked.push(m.text()));
    await other2.goto(other.origin);
    await waitFor(() => blocked.some((m) => /frame-ancestors/.test(m)), { what: 'the CSP refusal' });
    const refused = other2.frames().find((f) => f.url().startsWith(`${k.httpUrl}/embed`));
    expect(refused ? await refused.$('#rows').catch(() => null) : null).toBeNull();
    await context.close();
  });

  it('chooses by area over names and addresses, in English, silent sensors 欠測 not their last level', async () => {
    const context = await newMapContext(browser, { viewport: { width: 400, height: 400 } });
    const page = await context.newPage();
    await page.goto(`${k.httpUrl}/embed?area=${encodeURIComponent('紀の川市')}&lang=en`);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.$$eval('#rows [data-sensor-id]', (rows) => rows.map((r) => [(r as HTMLElement).dataset.sensorId, (r as HTMLElement).dataset.status]))).toEqual([
      ['e-wet', 'danger'],
      ['e-old', 'offline'],
      ['e-calm', 'normal'],
    ]);
    expect(await page.textContent('#rows [data-sensor-id="e-calm"] .name')).toBe('Uchita Station');
    expect(await page.textContent('#as-of')).toMatch(/^as of \d\d:\d\d$/);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await runAxe(page)).toEqual([]);
    await context.close();
  });

  it('&view=map: a small map of the chosen sensors above the list, framed by an allowed portal; 欠測 and live updates as on the map', async () => {
    const context = await newMapContext(browser, { viewport: { width: 800, height: 600 } });
    const page = await context.newPage();
    await page.goto(portal.origin);
    const frame = await waitFor(() => page.frames().find((f) => f.url().startsWith(`${k.httpUrl}/embed`)), { what: 'embed frame' });
    await frame.waitForSelector('body[data-map="ready"]');
    await frame.waitForFunction(() => document.querySelectorAll('#map .mk[data-sensor-id]').length === 2);
    const markers = () => frame.$$eval('#map .mk[data-sensor-id]', (els) => els.map((e) => [(e as HTMLElement).dataset.sensorId, (e as HTMLElement).dataset.status]).sort());
    expect(await markers()).toEqual([['e-calm', 'normal'], ['e-wet', 'danger']]); // only the chosen ones
    expect(await frame.getAttribute('#map .mk[data-sensor-id="e-wet"]', 'aria-label')).toBe('粉河橋南：危険、32.0 cm');
    // The list stays below the map as its text alternative.
    expect(await frame.$$eval('#rows [data-sensor-id]', (rows) => rows.length)).toBe(2);
    expect(await frame.evaluate(() => document.querySelector('#map')!.compareDocumentPosition(document.querySelector('#rows')!) & Node.DOCUMENT_POSITION_FOLLOWING)).toBeTruthy();
    // Live, over the same stream: a new reading moves the marker and the row.
    await ingestReading(k, 'e-calm', { ts: Date.now(), level_cm: 24 });
    await frame.waitForSelector('#map .mk[data-sensor-id="e-calm"][data-status="warning"]');
    await frame.waitForSelector('#rows [data-sensor-id="e-calm"][data-status="warning"]');
    await context.close();

    // Not framed, by area, in English: the silent sensor's marker is 欠測, not its last level; axe finds nothing.
    const direct = await newMapContext(browser, { viewport: { width: 400, height: 520 } });
    const p2 = await direct.newPage();
    await p2.goto(`${k.httpUrl}/embed?area=${encodeURIComponent('紀の川市')}&lang=en&view=map`);
    await p2.waitForSelector('body[data-map="ready"]');
    await p2.waitForFunction(() => document.querySelectorAll('#map .mk[data-sensor-id]').length === 3);
    expect(await p2.getAttribute('#map .mk[data-sensor-id="e-old"]', 'data-status')).toBe('offline');
    expect(await p2.getAttribute('#map .mk[data-sensor-id="e-old"]', 'aria-label')).toBe('名手市場: Offline, 25.0 cm');
    expect(await runAxe(p2)).toEqual([]);
    await direct.close();
  });
});
