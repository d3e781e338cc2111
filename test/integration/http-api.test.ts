import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';
import { openSse } from '../helpers/sse.ts';

describe('HTTP API', () => {
  let k: TestKansui;
  const NOW = Date.now();
  const HOUR = 3_600_000;

  beforeAll(async () => {
    k = await startTestKansui();
    registerSensor(k.registry, { id: 'a1', name: '甲', nameEn: 'Alpha', lat: 34.27, lon: 135.4, intervalS: 60 }, NOW);
    registerSensor(k.registry, { id: 'b2', name: '乙', lat: 34.28, lon: 135.41 }, NOW);
    await k.store.write(
      Array.from({ length: 48 }, (_, i) => ({ sensorId: 'a1', observedAt: NOW - 48 * HOUR + i * HOUR, levelCm: i })),
    );
  });
  afterAll(async () => {
    await k?.dispose();
  });

  const get = (path: string, init?: RequestInit) => k.app.request(path, init);

  it('GET /api/sensors is a GeoJSON FeatureCollection with [lon, lat] (RFC 7946) and an ETag', async () => {
    const res = await get('/api/sensors');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.type).toBe('FeatureCollection');
    const a1 = body.features.find((f: { id: string }) => f.id === 'a1');
    expect(a1.geometry).toEqual({ type: 'Point', coordinates: [135.4, 34.27] });
    expect(a1.properties).toMatchObject({ name: '甲', name_en: 'Alpha', thresholds: { caution: 10, warning: 20, danger: 30 }, interval_s: 60 });
    expect(body.features.find((f: { id: string }) => f.id === 'b2').properties).toMatchObject({ status: 'offline', level_cm: null, observed_at: null });
    const etag = res.headers.get('ETag');
    expect(etag).toBeTruthy();
    expect((await get('/api/sensors', { headers: { 'If-None-Match': etag! } })).status).toBe(304);
  });

  it('serves the site from web/, but not the type-checker settings kept there', async () => {
    expect((await get('/manifest.webmanifest')).status).toBe(200);
    for (const path of ['/tsconfig.json', '/tsconfig.sw.json']) expect((await get(path)).status, path).toBe(404);
  });

  it('GET /api/sensors/{id}: one feature, or 404 with a JSON error', async () => {
    expect((await (await get('/api/sensors/a1')).json()).id).toBe('a1');
    const res = await get('/api/sensors/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'unknown sensor nope' } });
  });

  it('GET /api/sensors/{id}/readings: time order, default last 24 h, from/to as ISO with offset or epoch ms', async () => {
    const day = await (await get(`/api/sensors/a1/readings?to=${NOW}`)).json();
    expect(day.sensor_id).toBe('a1');
    expect(day.readings.map((r: { level_cm: number }) => r.level_cm)).toEqual(Array.from({ length: 24 }, (_, i) => 24 + i));
    const from = new Date(NOW - 10 * HOUR).toISOString().replace('Z', '+00:00');
    const to = encodeURIComponent(new Date(NOW - 8 * HOUR + 1).toISOString());
    const slice = await (await get(`/api/sensors/a1/readings?from=${encodeURIComponent(from)}&to=${to}`)).json();
    expect(slice.readings.map((r: { level_cm: number }) => r.level_cm)).toEqual([38, 39, 40]);
    expect(slice.readings[0].ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+09:00$/);
  });

  it('downsamples with ?bucket= (seconds), keeping the peak of each bucket', async () => {
    const body = await (await get(`/api/sensors/a1/readings?from=${NOW - 48 * HOUR}&to=${NOW}&bucket=${6 * 3600}`)).json();
    expect(body.bucket_s).toBe(6 * 3600);
    expect(body.aggregate).toBe('max');
    const levels = body.readings.map((r: { level_cm: number }) => r.level_cm);
    expect(Math.max(...levels)).toBe(47);
    expect(levels.length).toBeLessThanOrEqual(9);
  });

  it.each([
    ['from=yesterday', 'from'],
    ['to=2026-01-01T00:00:00', 'to'],
    [`from=${Date.now()}&to=${Date.now() - 1000}`, 'from'],
    ['bucket=0', 'bucket'],
    ['colour=red', 'colour'],
  ])('400 with a JSON error naming the parameter for ?%s', async (query, param) => {
    const res = await get(`/api/sensors/a1/readings?${query}`);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('invalid_input');
    expect(body.error.message).toContain(param);
  });

  it('GET /healthz is 200 with every part up; GET /metrics is Prometheus text', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', checks: { store: true, broker: true, http: true } });
    const metrics = await get('/metrics');
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    for (const name of ['kansui_readings_accepted_total', 'kansui_readings_rejected_total{reason="malformed_json"}', 'kansui_connected_sensors', 'kansui_store_write_seconds_bucket']) {
      expect(text).toContain(name);
    }
  });

  it('SSE: a client reconnecting with Last-Event-ID gets what it missed; an unknown id gets a resync', async () => {
    const sensor = registerSensor(k.registry, { id: 'c3', name: '丙', lat: 34.29, lon: 135.42 }, NOW).mqtt;
    const mqtt = await connectMqtt(k.mqttUrl!, { username: sensor.username, password: sensor.password });
    const first = openSse(`${k.httpUrl}/api/events`);
    await first.ready;
    await publishReading(mqtt, 'c3', { ts: NOW - 3000, level_cm: 1 });
    const seen = await first.waitFor((e) => e.event === 'reading' && JSON.parse(e.data).sensor_id === 'c3');
    await first.close();

    await publishReading(mqtt, 'c3', { ts: NOW - 2000, level_cm: 2 });
    await publishReading(mqtt, 'c3', { ts: NOW - 1000, level_cm: 3 });
    const again = openSse(`${k.httpUrl}/api/events`, { 'Last-Event-ID': seen.id! });
    await again.waitFor((e) => e.event === 'reading' && JSON.parse(e.data).level_cm === 3);
    expect(again.events.filter((e) => e.event === 'reading').map((e) => JSON.parse(e.data).level_cm)).toEqual([2, 3]);
    await again.close();

    // A fresh client is told its position before any event, so it can resume after an early drop.
    const fresh = openSse(`${k.httpUrl}/api/events`);
    const position = await fresh.waitFor((e) => e.id !== undefined && e.data === '');
    await fresh.close();
    await publishReading(mqtt, 'c3', { ts: NOW - 500, level_cm: 4 });
    const resumed = openSse(`${k.httpUrl}/api/events`, { 'Last-Event-ID': position.id! });
    const caught = await resumed.waitFor((e) => e.event === 'reading');
    expect(JSON.parse(caught.data).level_cm).toBe(4);
    expect(resumed.events.some((e) => e.event === 'resync')).toBe(false);
    await resumed.close();

    const stale = openSse(`${k.httpUrl}/api/events`, { 'Last-Event-ID': 'old-boot-12' });
    await stale.waitFor((e) => e.event === 'resync');
    await stale.close();
    await mqtt.endAsync();
  });

  it('unknown routes answer a JSON 404', async () => {
    const res = await get('/api/nothing-here');
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('not_found');
  });
});
