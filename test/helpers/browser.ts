import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium; never a downloaded browser (DEVELOPERS.md). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Launch headless Chromium with the flags this machine needs: no sandbox as
 * root, and no background networking (its connections are refused here and
 * would only add noise and delay).
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
