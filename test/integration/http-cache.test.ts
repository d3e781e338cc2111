import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE_POLICY } from '../../services/api/cache-policy.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';

/** Cache-Control directives as a map (RFC 9111 §5.2: comma-separated, `name` or `name=value`). */
function directives(header: string | null): Map<string, string | true> {
  const out = new Map<string, string | true>();
  for (const part of (header ?? '').split(',')) {
    const [name, value] = part.trim().split('=');
    if (name) out.set(name.toLowerCase(), value ?? true);
  }
  return out;
}

/**
 * Issue 15: what a CDN or nginx in front of kansui may share, and for how
 * long. Browsers always revalidate the map's data; only shared caches keep it,
 * for seconds; the live stream is never cached.
 */
describe('HTTP caching for a CDN', () => {
  let k: TestKansui;
  beforeAll(async () => {
    k = await startTestKansui();
  });
  afterAll(() => k?.dispose());

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${k.httpUrl}${path}`, { headers });

  it('/api/sensors: browsers revalidate (max-age=0), shared caches keep it 2 s and may serve it 8 s stale while refreshing; a 304 says the same', async () => {
    const res = await get('/api/sensors');
    const cc = directives(res.headers.get('cache-control'));
    expect(cc.get('public')).toBe(true);
    expect(cc.get('max-age')).toBe('0');
    expect(cc.get('s-maxage')).toBe('2');
    expect(cc.get('stale-while-revalidate')).toBe('8');
    expect(cc.has('private') || cc.has('no-store')).toBe(false);
    expect(res.headers.get('vary')).toMatch(/Accept-Encoding/i);
    expect(res.headers.get('set-cookie')).toBeNull(); // a shared cache must be able to store it
    const etag = res.headers.get('etag')!;
    await res.arrayBuffer();
    const again = await get('/api/sensors', { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(again.headers.get('cache-control')).toBe(res.headers.get('cache-control'));
  });

  it('the open-data GeoJSON: reusers a minute, shared caches as /api/sensors', async () => {
    const cc = directives((await get('/api/sensors.geojson')).headers.get('cache-control'));
    expect(Object.fromEntries(cc)).toMatchObject({ public: true, 'max-age': '60', 's-maxage': '2', 'stale-while-revalidate': '8' });
  });

  it('static files: shared caches keep them a minute and a minute stale; browsers revalidate with the ETag; no cookies on them', async () => {
    for (const path of ['/', '/js/main.js', '/console/', '/console/main.js']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(Object.fromEntries(directives(res.headers.get('cache-control'))), path).toMatchObject({ public: true, 'max-age': '0', 's-maxage': '60', 'stale-while-revalidate': '60' });
      expect(res.headers.get('set-cookie'), path).toBeNull();
      const etag = res.headers.get('etag')!;
      await res.arrayBuffer();
      const again = await get(path, { 'If-None-Match': etag });
      expect(again.status, path).toBe(304);
      expect(directives(again.headers.get('cache-control')).get('s-maxage'), path).toBe('60');
    }
  });

  it('the live stream is never shared: no s-maxage, and nginx is told not to buffer it', async () => {
    const res = await get('/api/events');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    await res.body?.cancel();
  });

  it('docs/scaling.md states the policy as it is', () => {
    const doc = readFileSync(new URL('../../docs/scaling.md', import.meta.url), 'utf8');
    for (const value of [CACHE_POLICY.sensors, CACHE_POLICY.openGeoJson, CACHE_POLICY.staticFiles]) expect(doc).toContain(value);
  });
});
