import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { registerSensor } from '../../services/sensors/provision.ts';
import type { TestKansui } from './kansui.ts';

/** Tiles can never load here (no internet): the tests point the map at this host and answer every tile with a blank PNG. */
export const TEST_TILE_URL = 'https://tiles.invalid/{z}/{x}/{y}.png';
/** 1×1 transparent PNG. */
export const BLANK_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64');

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/** Where screenshots go (gitignored; CI keeps it as an artifact). */
export const ARTIFACTS = fileURLToPath(new URL('../../test-results/map/', import.meta.url));

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return `${ARTIFACTS}${name}`;
}

/**
 * A browser context as a resident's phone would have it (Japanese, Tokyo
 * time), with tile requests answered locally. Service workers are blocked
 * unless asked for, so `page.route` sees every request.
 */
export async function newMapContext(browser: Browser, options: BrowserContextOptions & { serviceWorkers?: 'allow' | 'block' } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: PHONE,
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
    serviceWorkers: 'block',
    ...options,
  });
  await context.route('https://tiles.invalid/**', (route) => route.fulfill({ status: 200, contentType: 'image/png', body: BLANK_PNG }));
  return context;
}

export interface SeedSensor {
  id: string;
  name: string;
  nameEn?: string;
  address?: string;
  lat: number;
  lon: number;
  intervalS?: number;
  state?: 'active' | 'maintenance' | 'retired';
  thresholds?: { caution: number; warning: number; danger: number };
}

/** Register sensors straight in the running service's registry; returns their MQTT passwords. */
export function seedSensors(k: TestKansui, sensors: SeedSensor[]): Map<string, string> {
  const passwords = new Map<string, string>();
  for (const s of sensors) passwords.set(s.id, registerSensor(k.registry, s, Date.now()).mqtt.password);
  return passwords;
}

/** Store a reading through the real ingest (parse → group commit → events), as the broker would. */
export async function ingestReading(k: TestKansui, sensorId: string, payload: { ts: number | string; level_cm: number }): Promise<void> {
  const outcome = await k.ingest.submit(sensorId, Buffer.from(JSON.stringify(payload)));
  if (!outcome.ok) throw new Error(`reading for ${sensorId} rejected: ${outcome.reason} ${outcome.detail}`);
}

/** Open the map and wait until the list shows `count` sensors. */
export async function openMap(page: Page, baseUrl: string, count: number, path = '/'): Promise<void> {
  await page.goto(`${baseUrl}${path}`);
  await page.waitForFunction((n) => document.querySelectorAll('#list [data-sensor-id]').length === n, count, { timeout: 15_000 });
}

let axeSource: string | undefined;

/**
 * Inject the repo's axe-core and run it; returns the violations. Injected
 * with page.evaluate (DevTools protocol) rather than addScriptTag: the page's
 * CSP forbids inline scripts, and the audit must run on the page as served.
 */
export async function runAxe(page: Page): Promise<{ id: string; impact: string; help: string; nodes: { target: string[]; html: string }[] }[]> {
  axeSource ??= readFileSync(fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url)), 'utf8');
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: unknown[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations as never;
  });
}
