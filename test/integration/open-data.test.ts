import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { ingestReading, seedSensors } from '../helpers/map-page.ts';

describe('open data routes, the cached /api/sensors body and static caching headers', () => {
  let k: TestKansui;
  /** The service's clock, moved by the test to cross offline boundaries without waiting. */
  let clock = Date.now();
  const t0 = clock;

  beforeAll(async () => {
    k = await startTestKansui({}, { now: () => clock, sweepMs: 3_600_000 });
    seedSensors(k, [
      { id: 'od-1', name: '打田駅前', lat: 34.271, lon: 135.395 },
      { id: 'od-2', name: '粉河, "橋" 南', lat: 34.275, lon: 135.405 },
    ]);
    await ingestReading(k, 'od-1', { ts: t0 - 3 * 600_000, level_cm: 5 });
    await ingestReading(k, 'od-1', { ts: t0 - 2 * 600_000, level_cm: 12.5 });
    await ingestReading(k, 'od-1', { ts: t0 - 600_000, level_cm: 21 });
    await ingestReading(k, 'od-2', { ts: t0 - 60_000, level_cm: 3 });
  });
  afterAll(async () => {
    await k?.dispose();
  });

  it('GET /api/sensors.geojson: the same FeatureCollection as /api/sensors, as application/geo+json, CORS-open, with ETag, Last-Modified and 304', async () => {
    const res = await fetch(`${k.httpUrl}/api/sensors.geojson`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/geo+json; charset=utf-8');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    // Reusers keep it a minute; shared caches (CDN, nginx) only seconds (issue 15, services/api/cache-policy.ts).
    expect(res.headers.get('cache-control')).toBe('public, max-age=60, s-maxage=2, stale-while-revalidate=8, stale-if-error=300');
    expect(res.headers.get('last-modified')).toBeTruthy();
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const geo = await res.json();
    const api = await (await fetch(`${k.httpUrl}/api/sensors`)).json();
    expect(geo).toEqual(api);
    expect(geo.features.map((f: { id: string }) => f.id).sort()).toEqual(['od-1', 'od-2']);

    const again = await fetch(`${k.httpUrl}/api/sensors.geojson`, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
  });

  it('GET /api/sensors is compressed for clients that accept it, and answers 304 to its own ETag', async () => {
    for (const encoding of ['br', 'gzip']) {
      const res = await fetch(`${k.httpUrl}/api/sensors`, { headers: { 'Accept-Encoding': encoding } });
      expect(res.headers.get('content-encoding')).toBe(encoding);
      expect(res.headers.get('vary')).toBe('Accept-Encoding');
      expect((await res.json()).type).toBe('FeatureCollection'); // fetch decodes it
    }
    const first = await fetch(`${k.httpUrl}/api/sensors`);
    await first.arrayBuffer();
    const res = await fetch(`${k.httpUrl}/api/sensors`, { headers: { 'If-None-Match': first.headers.get('etag')! } });
    expect(res.status).toBe(304);
  });

  it('the cached body changes with a new reading, a registry edit, and at the offline boundary with no event at all', async () => {
    const get = async () => {
      const res = await fetch(`${k.httpUrl}/api/sensors`);
      const body = await res.json();
      return { etag: res.headers.get('etag'), od1: body.features.find((f: { id: string }) => f.id === 'od-1').properties };
    };
    const a = await get();
    expect(a.od1).toMatchObject({ status: 'warning', level_cm: 21 });
    expect((await get()).etag).toBe(a.etag); // nothing changed: same snapshot

    clock += 1000;
    await ingestReading(k, 'od-1', { ts: clock - 500, level_cm: 31 });
    const b = await get();
    expect(b.etag).not.toBe(a.etag);
    expect(b.od1).toMatchObject({ status: 'danger', level_cm: 31 });

    k.registry.update('od-1', { address: '紀の川市打田 1', updatedAt: clock });
    const c = await get();
    expect(c.etag).not.toBe(b.etag);
    expect(c.od1.address).toBe('紀の川市打田 1');

    // 3 × 600 s after the last reading the sensor is offline, though no reading or sweep happened.
    clock = Date.parse(c.od1.offline_at) + 1;
    const d = await get();
    expect(d.etag).not.toBe(c.etag);
    expect(d.od1.status).toBe('offline');
    clock = t0 + 2000;
  });

  it('GET /api/readings.csv: RFC 4180 rows in time order with times in +09:00, validators, 304, and several sensors', async () => {
    const url = `${k.httpUrl}/api/readings.csv?sensor=od-1&from=${t0 - 3_600_000}&to=${t0}`;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toBe('public, max-age=60');
    expect(Date.parse(res.headers.get('last-modified')!)).toBe(Math.floor((t0 - 600_000) / 1000) * 1000);
    const text = await res.text();
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('sensor_id,ts,level_cm');
    expect(lines.slice(1).map((l) => l.split(',')[2])).toEqual(['5', '12.5', '21']);
    expect(lines[1]).toMatch(/^od-1,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+09:00,5$/);

    const cached = await fetch(url, { headers: { 'If-None-Match': res.headers.get('etag')! } });
    expect(cached.status).toBe(304);

    const both = await (await fetch(`${k.httpUrl}/api/readings.csv?sensor=od-1,od-2&from=${t0 - 3_600_000}&to=${t0}`)).text();
    expect(both.trimEnd().split('\r\n')).toHaveLength(5);
  });

  it('GET /api/readings.csv refuses bad input with a 400 (or 404) that names the parameter', async () => {
    const cases: [string, number, string][] = [
      ['', 400, 'sensor'],
      ['sensor=', 400, 'sensor'],
      ['sensor=od-1&from=yesterday', 400, 'from'],
      [`sensor=od-1&from=${t0}&to=${t0 - 1}`, 400, 'from'],
      [`sensor=od-1&from=${t0 - 40 * 86_400_000}&to=${t0}`, 400, 'from'],
      ['sensor=od-1&extra=1', 400, 'extra'],
      ['sensor=nope', 404, 'sensor'],
      ['sensor=a/b', 400, 'sensor'],
    ];
    for (const [query, status, param] of cases) {
      const res = await fetch(`${k.httpUrl}/api/readings.csv?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status });
      const body = await res.json();
      expect(body.error.message, query).toContain(param);
    }
  });

  it('static files: HTML and JS revalidate in the browser (max-age=0 + ETag → 304), shared caches keep them a minute; the versioned Leaflet is cached for a year', async () => {
    for (const path of ['/', '/js/main.js', '/sw.js', '/manifest.webmanifest']) {
      const res = await fetch(`${k.httpUrl}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control'), path).toBe('public, max-age=0, s-maxage=60, stale-while-revalidate=60');
      const etag = res.headers.get('etag');
      expect(etag, path).toMatch(/^W\/"/);
      await res.arrayBuffer();
      const again = await fetch(`${k.httpUrl}${path}`, { headers: { 'If-None-Match': etag! } });
      expect(again.status, path).toBe(304);
    }
    const js = await fetch(`${k.httpUrl}/js/main.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const manifest = await fetch(`${k.httpUrl}/manifest.webmanifest`);
    expect(manifest.headers.get('content-type')).toBe('application/manifest+json');
    expect((await manifest.json()).start_url).toBe('/');

    const leaflet = await fetch(`${k.httpUrl}/vendor/leaflet-1.9.4/leaflet.js`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(leaflet.status).toBe(200);
    expect(leaflet.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(leaflet.headers.get('content-encoding')).toBe('gzip');
    expect((await fetch(`${k.httpUrl}/vendor/leaflet-9.9.9/leaflet.js`)).status).toBe(404);
    expect((await fetch(`${k.httpUrl}/vendor/leaflet-1.9.4/../../package.json`)).status).not.toBe(200);
  });
});
