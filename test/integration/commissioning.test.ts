import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleFetch, createTestToken } from '../helpers/console.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';

// Issue 12: a new sensor is not public until commissioned. Registered through the
// API (as the console and the CLI do), it stays off /api/sensors, /api/sensors/{id}
// and its readings, and raises no offline alert, until its first valid reading
// arrives or a technician sets `commissioning: false`; signed-in staff see it throughout.
describe('commissioning: new sensors stay off the public map until their first valid reading', () => {
  let k: TestKansui;
  let tech: string;
  let clock = Date.now();
  const MIN = 60_000;

  beforeAll(async () => {
    k = await startTestKansui({}, { now: () => clock, sweepMs: 3_600_000 });
    tech = createTestToken(k, 'field-tech', 'technician');
  });
  afterAll(async () => {
    await k?.dispose();
  });

  const publicIds = async () => ((await (await fetch(`${k.httpUrl}/api/sensors`)).json()) as { features: { id: string }[] }).features.map((f) => f.id);
  const consoleSensor = async (id: string) =>
    ((await (await consoleFetch(k, 'GET', '/api/console/sensors', { token: tech })).json()) as { sensors: { id: string; commissioning?: boolean; status: string }[] }).sensors.find((s) => s.id === id);
  const offlineAlerts = (id: string) => k.alerting.store.active().filter((a) => a.sensorId === id && a.kind === 'offline');
  const submit = (id: string, body: unknown) => k.ingest.submit(id, Buffer.from(JSON.stringify(body)));

  it('hides a fresh registration from the public API, shows it to staff, raises no offline alert, and publishes it with its first valid reading', async () => {
    const res = await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'new-1', name: '粉河駅東', lat: 34.28, lon: 135.41, intervalS: 600 } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ id: 'new-1', state: 'active', commissioning: true });

    expect(await publicIds()).not.toContain('new-1');
    expect((await fetch(`${k.httpUrl}/api/sensors/new-1`)).status).toBe(404);
    expect((await fetch(`${k.httpUrl}/api/sensors/new-1/readings`)).status).toBe(404);
    expect((await fetch(`${k.httpUrl}/api/sensors.geojson`)).ok).toBe(true);
    expect(((await (await fetch(`${k.httpUrl}/api/sensors.geojson`)).json()) as { features: { id: string }[] }).features.map((f) => f.id)).not.toContain('new-1');
    // Signed in: the console and the authenticated API see it throughout.
    expect(await consoleSensor('new-1')).toMatchObject({ commissioning: true });
    expect((await consoleFetch(k, 'GET', '/api/sensors/new-1', { token: tech })).status).toBe(200);

    // Hours of silence during installation: no offline alert.
    clock += 5 * 60 * MIN;
    k.alerting.sweep();
    expect(offlineAlerts('new-1')).toEqual([]);

    // An invalid reading does not commission it.
    expect((await submit('new-1', { ts: clock, level_cm: 'deep' })).ok).toBe(false);
    expect(await publicIds()).not.toContain('new-1');

    // The first valid reading does: public at once, with its level.
    expect((await submit('new-1', { ts: clock, level_cm: 4 })).ok).toBe(true);
    expect(k.registry.get('new-1')?.commissioning).toBeUndefined();
    expect(await publicIds()).toContain('new-1');
    const feature = (await (await fetch(`${k.httpUrl}/api/sensors/new-1`)).json()) as { properties: { level_cm: number; status: string } };
    expect(feature.properties).toMatchObject({ level_cm: 4, status: 'normal' });

    // From now on silence is an outage like any other sensor's.
    clock += 31 * MIN;
    k.alerting.sweep();
    expect(offlineAlerts('new-1')).toHaveLength(1);
  });

  it('a technician can make a sensor public before it reports, or register it public at once', async () => {
    expect((await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'new-2', name: '打田中学校前', lat: 34.272, lon: 135.396 } })).status).toBe(201);
    expect(await publicIds()).not.toContain('new-2');
    const patched = await consoleFetch(k, 'PATCH', '/api/sensors/new-2', { token: tech, body: { commissioning: false } });
    expect(patched.status).toBe(200);
    expect(await publicIds()).toContain('new-2');
    const feature = (await (await fetch(`${k.httpUrl}/api/sensors/new-2`)).json()) as { properties: { status: string } };
    expect(feature.properties.status).toBe('offline'); // public and honest: no reading yet is 欠測

    const direct = await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'new-3', name: '那賀', lat: 34.27, lon: 135.45, commissioning: false } });
    expect(direct.status).toBe(201);
    expect(await publicIds()).toContain('new-3');
  });
});
