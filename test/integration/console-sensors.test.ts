import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { consoleFetch, createTestToken } from '../helpers/console.ts';
import { connectMqtt, publishReading } from '../helpers/mqtt.ts';

describe('console sensor API: provision, rotate, revoke, edit, set zero, health, audit (embedded broker)', () => {
  let k: TestKansui;
  let tech: string;
  let admin: string;
  let staff: string;
  const clients: MqttClient[] = [];
  const connect = async (username: string, password: string) => {
    const c = await connectMqtt(k.mqttUrl!, { username, password });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    k = await startTestKansui();
    tech = createTestToken(k, 'field-tech', 'technician');
    admin = createTestToken(k, 'boss', 'admin');
    staff = createTestToken(k, 'desk', 'staff');
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await k?.dispose();
  });

  it('registers with credentials (201), the sensor publishes; rotation cuts the live connection and the old password at once; revoke locks it out', async () => {
    const res = await consoleFetch(k, 'POST', '/api/sensors', {
      token: tech,
      body: { id: 'wakayama-7', name: '紀の川市役所前', nameEn: 'Kinokawa City Hall', lat: 34.2683, lon: 135.3626, address: '県道13号', thresholds: { caution: 5, warning: 15, danger: 25 }, intervalS: 300 },
    });
    expect(res.status).toBe(201);
    const created = await res.json();
    expect(created).toMatchObject({ id: 'wakayama-7', name: '紀の川市役所前', kind: 'level', intervalS: 300, state: 'active' });
    expect(created.mqtt).toMatchObject({ username: 'wakayama-7', topic: 'flood/wakayama-7/reading', port: k.mqttPort });
    expect(created.mqtt.password).toMatch(/^[A-Za-z0-9_-]{32}$/);

    const sensor = await connect('wakayama-7', created.mqtt.password);
    await publishReading(sensor, 'wakayama-7', { level_cm: 16, battery_v: 3.7, rssi_dbm: -85 });
    const feature = await (await fetch(`${k.httpUrl}/api/sensors/wakayama-7`)).json();
    expect(feature.properties).toMatchObject({ level_cm: 16, status: 'warning' });
    const live = async () =>
      (await (await consoleFetch(k, 'GET', '/api/console/sensors', { token: staff })).json()).sensors.find((s: { id: string }) => s.id === 'wakayama-7').connected;
    expect(await live()).toBe(true);

    const closed = new Promise<void>((r) => sensor.once('close', () => r()));
    const rotated = await consoleFetch(k, 'POST', '/api/sensors/wakayama-7/credentials', { token: tech });
    expect(rotated.status).toBe(200);
    const fresh = (await rotated.json()).mqtt.password as string;
    expect(fresh).not.toBe(created.mqtt.password);
    await closed; // the connected sensor was cut off
    await expect(connectMqtt(k.mqttUrl!, { username: 'wakayama-7', password: created.mqtt.password })).rejects.toThrow(/Bad username or password|Not authorized/i);
    const again = await connect('wakayama-7', fresh);

    const gone = new Promise<void>((r) => again.once('close', () => r()));
    expect((await consoleFetch(k, 'DELETE', '/api/sensors/wakayama-7/credentials', { token: tech })).status).toBe(204);
    await gone;
    await expect(connectMqtt(k.mqttUrl!, { username: 'wakayama-7', password: fresh })).rejects.toThrow();

    const health = (await (await consoleFetch(k, 'GET', '/api/console/sensors', { token: staff })).json()).sensors.find((s: { id: string }) => s.id === 'wakayama-7');
    expect(health).toMatchObject({ readingsLastHour: 1, batteryV: 3.7, rssiDbm: -85, hasCredentials: false, levelCm: 16, connected: false });
    expect(health.lastSeen).toMatch(/\+09:00$/);
  });

  it('refuses bad input with a 400 naming the field, and a duplicate id with 409', async () => {
    const bad = await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'a/b', name: 'x', lat: 34, lon: 135 } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/^id:/);
    const noLat = await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'ok-1', name: 'x', lon: 135 } });
    expect((await noLat.json()).error.message).toMatch(/^lat:/);
    const dup = await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'wakayama-7', name: 'x', lat: 34, lon: 135 } });
    expect(dup.status).toBe(409);
    const patchBad = await consoleFetch(k, 'PATCH', '/api/sensors/wakayama-7', { token: tech, body: { thresholds: { caution: 30, warning: 20, danger: 10 } } });
    expect(patchBad.status).toBe(400);
    const unknownField = await consoleFetch(k, 'PATCH', '/api/sensors/wakayama-7', { token: tech, body: { colour: 'red' } });
    expect(unknownField.status).toBe(400);
  });

  it('edits, moves and retires (retiring cuts the sensor off); staff may read but not edit', async () => {
    const { mqtt } = await (await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'move-me', name: '旧名', lat: 34.1, lon: 135.1, commissioning: false } })).json(); // public before its first reading (issue 12), so the move shows on the map
    const c = await connect('move-me', mqtt.password);
    expect((await consoleFetch(k, 'PATCH', '/api/sensors/move-me', { token: staff, body: { name: 'x' } })).status).toBe(403);
    const moved = await consoleFetch(k, 'PATCH', '/api/sensors/move-me', { token: tech, body: { name: '新名', nameEn: 'New name', lat: 34.2, lon: 135.2, state: 'maintenance' } });
    expect(moved.status).toBe(200);
    expect(await moved.json()).toMatchObject({ name: '新名', nameEn: 'New name', lat: 34.2, lon: 135.2, state: 'maintenance' });
    const cleared = await (await consoleFetch(k, 'PATCH', '/api/sensors/move-me', { token: tech, body: { nameEn: null } })).json();
    expect(cleared.nameEn).toBeUndefined();
    const feature = await (await fetch(`${k.httpUrl}/api/sensors/move-me`)).json();
    expect(feature.geometry.coordinates).toEqual([135.2, 34.2]);

    const closed = new Promise<void>((r) => c.once('close', () => r()));
    expect((await consoleFetch(k, 'PATCH', '/api/sensors/move-me', { token: tech, body: { state: 'retired' } })).status).toBe(200);
    await closed;
    await expect(connectMqtt(k.mqttUrl!, { username: 'move-me', password: mqtt.password })).rejects.toThrow();
  });

  it('"set zero now" takes the current distance as mount height, versioned; earlier readings keep their level', async () => {
    const { mqtt } = await (await consoleFetch(k, 'POST', '/api/sensors', { token: tech, body: { id: 'dist-1', name: '距離センサ', lat: 34, lon: 135, kind: 'distance', minRangeMm: 200 } })).json();
    const c = await connect('dist-1', mqtt.password);
    // Not calibrated yet: refused and counted, but the distance is remembered for zeroing.
    await publishReading(c, 'dist-1', { distance_mm: 1500 });
    const zero = await consoleFetch(k, 'POST', '/api/sensors/dist-1/calibration/zero', { token: tech });
    expect(zero.status).toBe(200);
    expect((await zero.json()).sensor.mountHeightMm).toBe(1500);

    await publishReading(c, 'dist-1', { distance_mm: 1300, ts: Date.now() - 1000 });
    const first = await (await fetch(`${k.httpUrl}/api/sensors/dist-1`)).json();
    expect(first.properties.level_cm).toBe(20);

    // The road surface was resurfaced: new zero at 1450 mm.
    await publishReading(c, 'dist-1', { distance_mm: 1450 });
    expect((await consoleFetch(k, 'POST', '/api/sensors/dist-1/calibration/zero', { token: tech })).status).toBe(200);
    const history = await (await fetch(`${k.httpUrl}/api/sensors/dist-1/readings`)).json();
    expect(history.readings.map((r: { level_cm: number }) => r.level_cm)).toEqual([20, 5]);

    const cal = await (await consoleFetch(k, 'GET', '/api/sensors/dist-1/calibrations', { token: staff })).json();
    expect(cal.versions.map((v: { version: number; mountHeightMm: number; source: string; setBy: string }) => [v.version, v.mountHeightMm, v.source, v.setBy])).toEqual([
      [3, 1450, 'zero', 'field-tech'],
      [2, 1500, 'zero', 'field-tech'],
      [1, null, 'registered', 'field-tech'],
    ]);
    const health = (await (await consoleFetch(k, 'GET', '/api/console/sensors', { token: tech })).json()).sensors.find((s: { id: string }) => s.id === 'dist-1');
    expect(health.rejected).toEqual({ not_calibrated: 1 });
    expect(health.lastRejected).toMatchObject({ reason: 'not_calibrated', detail: 'distance_mm 1500' });

    // Only a distance sensor can be zeroed.
    expect((await consoleFetch(k, 'POST', '/api/sensors/wakayama-7/calibration/zero', { token: tech })).status).toBe(409);
  });

  it('keeps an audit log of every change with who, what, when, before/after and no secrets; admins only', async () => {
    expect((await consoleFetch(k, 'GET', '/api/audit', { token: tech })).status).toBe(403);
    const { entries } = await (await consoleFetch(k, 'GET', '/api/audit?limit=1000', { token: admin })).json();
    const actions = entries.map((e: { action: string }) => e.action);
    for (const a of ['sensor.create', 'sensor.credentials.rotate', 'sensor.credentials.revoke', 'sensor.update', 'sensor.calibration.zero']) expect(actions).toContain(a);
    expect(actions, 'a route with a detailed entry gets no generic one as well').not.toContain('http.write');
    const move = entries.find((e: { action: string; targetId: string; after: { state: string } }) => e.action === 'sensor.update' && e.targetId === 'move-me' && e.after.state === 'retired');
    expect(move).toMatchObject({ actor: 'field-tech', targetType: 'sensor', before: { state: 'maintenance' } });
    expect(typeof move.at).toBe('number');
    expect(JSON.stringify(entries)).not.toMatch(/password"|sha256:/);
  });

  // The generic `http.write` entry for a route that records nothing itself is
  // tested on the app-wide policy alone (test/unit/http-policy.test.ts); every
  // route the app has now records its own entry in words (issue 13).
  it('audits writes of routes other modules own (alert settings, in words), once, but not refused ones', async () => {
    const ok = await consoleFetch(k, 'PUT', '/api/sensors/wakayama-7/alert-settings', { token: tech, body: { preset: 'road_underpass' } });
    expect(ok.status).toBe(200);
    expect((await consoleFetch(k, 'PUT', '/api/sensors/wakayama-7/alert-settings', { token: staff, body: { preset: 'road_underpass' } })).status).toBe(403);
    const { entries } = await (await consoleFetch(k, 'GET', '/api/audit?target=wakayama-7', { token: admin })).json();
    const settings = entries.filter((e: { action: string }) => e.action === 'alert.settings' || e.action === 'http.write');
    expect(settings).toHaveLength(1);
    expect(settings[0]).toMatchObject({ actor: 'field-tech', action: 'alert.settings', targetType: 'sensor', targetId: 'wakayama-7', after: { preset: 'road_underpass' } });
  });
});
