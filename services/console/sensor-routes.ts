import type { Context, Hono } from 'hono';
import { createError } from '../core/errors.ts';
import { SensorId, SensorInputSchema, type Sensor } from '../core/sensor.ts';
import { SensorPatchSchema, applySensorPatch, calibrationChanged, zeroCalibration } from '../core/sensor-patch.ts';
import { computeStatus } from '../core/status.ts';
import { readingTopic } from '../core/topic.ts';
import { formatIso } from '../core/time.ts';
import { requireRole, type AuthEnv } from '../auth/middleware.ts';
import { clientAddress } from '../api/client-info.ts';
import type { ConsoleContext } from './context.ts';
import { readJson } from './request.ts';

/**
 * Sensor administration for technicians (issue 5): register with
 * credentials, edit/move/retire, rotate or revoke credentials, "set zero
 * now", calibration history, health. Sensor JSON is the same camelCase shape
 * the CLI prints (`kansui sensor add`).
 */
export function mountSensorRoutes(app: Hono<AuthEnv>, ctx: ConsoleContext): void {
  const { registry, audit, calibrations, health, sink, now, trustProxy, sensorAdmin } = ctx;
  const actor = (c: Context<AuthEnv>) => c.get('principal')!;
  const address = (c: Context) => clientAddress(c, trustProxy);

  function find(id: string): Sensor {
    const sensor = SensorId.safeParse(id).success ? (registry.get(id) ?? (registry.refresh() ? registry.get(id) : undefined)) : undefined;
    if (!sensor) throw createError('not_found', `unknown sensor ${id}`);
    return sensor;
  }

  function mqttInfo(username: string, password: string) {
    return { username, password, topic: readingTopic(username), host: ctx.mqtt.host ?? null, port: ctx.mqtt.port ?? null };
  }

  app.post('/api/sensors', requireRole('technician'), async (c) => {
    const input = await readJson(c, SensorInputSchema);
    // Issue 12: off the public map until its first valid reading, unless the technician says `commissioning: false`.
    // The same application function as `kansui sensor add` (issue 16): broker-reserved ids refused, calibration v1, audit.
    const { sensor, mqtt } = await sensorAdmin.register({ ...input, commissioning: input.commissioning ?? true }, { actor: actor(c), request: c.req.raw, address: address(c) });
    return c.json({ ...sensor, mqtt: mqttInfo(mqtt.username, mqtt.password) }, 201);
  });

  app.patch('/api/sensors/:id', requireRole('technician'), async (c) => {
    const before = find(c.req.param('id'));
    const patch = await readJson(c, SensorPatchSchema);
    const next = applySensorPatch(before, patch, now());
    // A DevEUI names one device: another sensor holding it would split its uplinks (issue 11).
    const holder = next.devEui !== undefined ? registry.list().find((s) => s.id !== before.id && s.devEui === next.devEui) : undefined;
    if (holder) throw createError('conflict', `dev_eui ${next.devEui} is already registered to sensor ${holder.id}`, { param: 'devEui' });
    const { id: _id, createdAt: _c, ...rest } = next as Record<string, unknown> & Sensor;
    // A cleared field must be sent as undefined, or the registry's merge would keep the old value.
    for (const [key, value] of Object.entries(patch)) if (value === null) (rest as Record<string, unknown>)[key] = undefined;
    const after = registry.update(before.id, rest);
    if (calibrationChanged(before, after)) calibrations.record(after, 'edited', after.updatedAt, actor(c).username);
    if (after.state === 'retired' && before.state !== 'retired') await sink.disconnect(after.id);
    audit.recordFor(c.req.raw, { actor: actor(c), action: 'sensor.update', targetType: 'sensor', targetId: after.id, before, after, address: address(c) });
    return c.json(after);
  });

  app.post('/api/sensors/:id/credentials', requireRole('technician'), async (c) => {
    const sensor = find(c.req.param('id'));
    const mqtt = await sensorAdmin.rotate(sensor.id, { actor: actor(c), request: c.req.raw, address: address(c) });
    return c.json({ id: sensor.id, mqtt: mqttInfo(mqtt.username, mqtt.password) });
  });

  app.delete('/api/sensors/:id/credentials', requireRole('technician'), async (c) => {
    const sensor = find(c.req.param('id'));
    registry.setCredential(sensor.id, null);
    await sink.revoked(sensor.id);
    audit.recordFor(c.req.raw, { actor: actor(c), action: 'sensor.credentials.revoke', targetType: 'sensor', targetId: sensor.id, address: address(c) });
    return c.body(null, 204);
  });

  app.post('/api/sensors/:id/calibration/zero', requireRole('technician'), async (c) => {
    const before = find(c.req.param('id'));
    const observed = health.lastDistance(before.id, ctx.latest.get(before.id));
    const result = zeroCalibration(before, observed, now());
    if (!result.ok) throw createError('conflict', result.message);
    const after = registry.update(before.id, { mountHeightMm: result.mountHeightMm, updatedAt: now() });
    const version = calibrations.record(after, 'zero', after.updatedAt, actor(c).username, observed?.distanceMm);
    audit.recordFor(c.req.raw, {
      actor: actor(c),
      action: 'sensor.calibration.zero',
      targetType: 'sensor',
      targetId: after.id,
      before: { mountHeightMm: before.mountHeightMm ?? null },
      after: { mountHeightMm: after.mountHeightMm, version, distanceMm: observed?.distanceMm },
      address: address(c),
    });
    return c.json({ sensor: after, calibration: calibrations.list(after.id)[0] });
  });

  app.get('/api/sensors/:id/calibrations', requireRole('staff', 'technician'), (c) => {
    const sensor = find(c.req.param('id'));
    return c.json({ sensor_id: sensor.id, current: { mountHeightMm: sensor.mountHeightMm ?? null, minRangeMm: sensor.minRangeMm ?? null }, versions: calibrations.list(sensor.id) });
  });

  /** Every sensor with what a technician needs at a glance (issue 5 "health at a glance"). */
  app.get('/api/console/sensors', requireRole('staff', 'technician'), async (c) => {
    registry.refresh();
    const sensors = registry.list();
    await health.seed(sensors.map((s) => s.id));
    const t = now();
    const hasCredential = (id: string) => registry.getCredential(id) !== undefined;
    const connected = ctx.connectedSensorIds?.();
    c.header('Cache-Control', 'no-store');
    return c.json({
      sensors: sensors.map((s) => {
        const latest = ctx.latest.get(s.id);
        return {
          ...s,
          status: computeStatus(s, latest, t),
          lastSeen: latest ? formatIso(latest.observedAt, ctx.timeZone) : null,
          levelCm: latest?.levelCm ?? null,
          distanceMm: latest?.distanceMm ?? null,
          batteryV: latest?.batteryV ?? null,
          rssiDbm: latest?.rssiDbm ?? null,
          // LoRaWAN devices (issue 11): battery as reported in percent, SNR of the best gateway.
          batteryPct: latest?.batteryPct ?? null,
          snrDb: latest?.snrDb ?? null,
          connected: connected ? connected.has(s.id) : null,
          hasCredentials: hasCredential(s.id),
          ...health.get(s.id),
        };
      }),
    });
  });
}
