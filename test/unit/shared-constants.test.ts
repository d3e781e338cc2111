import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIME_ZONE } from '../../services/core/time.ts';
import * as shared from '../../web/shared/messages.js';

// Issue 16: the constants the pages used to copy from the server have one source, web/shared/messages.js.
describe('constants shared by the pages and the server', () => {
  it("Leaflet: the pages' version is the one package.json pins and the one installed (the server refuses to start otherwise)", () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    const installed = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('leaflet/package.json'), 'utf8')) as { version: string };
    expect(pkg.dependencies.leaflet).toBe(shared.LEAFLET_VERSION);
    expect(installed.version).toBe(shared.LEAFLET_VERSION);
    expect(shared.leafletUrl('leaflet.js')).toBe(`/vendor/leaflet-${shared.LEAFLET_VERSION}/leaflet.js`);
    expect(shared.SERVICE_WORKER_URL).toBe(`/sw.js?leaflet=${shared.LEAFLET_VERSION}`);
  });

  it('the time zone is the core\'s', () => {
    expect(DEFAULT_TIME_ZONE).toBe(shared.DEFAULT_TIME_ZONE);
    expect(shared.DEFAULT_TIME_ZONE).toBe('Asia/Tokyo');
  });

  it('no page keeps its own copy of them', () => {
    const pages = ['web/js/map-view.js', 'web/sw.js', 'web/console/dom.js', 'web/console/board-view.js', 'web/console/report-view.js', 'web/console/presets.js'];
    for (const page of pages) {
      const src = readFileSync(new URL(`../../${page}`, import.meta.url), 'utf8');
      expect(src, page).not.toContain(`leaflet-${shared.LEAFLET_VERSION}`);
      expect(src, page).not.toContain(`'${shared.DEFAULT_TIME_ZONE}'`);
    }
    // The console's preset levels come from GET /api/alert-presets (services/core/alerts/policy.ts PRESETS).
    expect(readFileSync(new URL('../../web/console/presets.js', import.meta.url), 'utf8')).toContain("'/api/alert-presets'");
  });
});
