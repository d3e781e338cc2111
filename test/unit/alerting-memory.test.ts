import { describe, expect, it } from 'vitest';
import { createAlerting } from '../../services/alerting/create-alerting.ts';
import type { Reading } from '../../services/core/reading.ts';
import { createSensor } from '../../services/core/sensor.ts';
import { createMemoryAlerts } from '../../services/storage/memory-alerts.ts';
import { createMemoryRecipients } from '../../services/storage/memory-recipients.ts';
import { createMemorySensorRegistry } from '../../services/storage/memory-sensor-registry.ts';

/** Issue 16: the alert runner takes its repositories, so its rules run without a database. */
describe('alert runner over the memory adapters', () => {
  it('raises, escalates and resolves a flood alert, with its timeline, and keeps a stored recipient', async () => {
    let t = 1_000_000;
    const registry = createMemorySensorRegistry();
    const sensor = createSensor({ id: 'm-1', name: '内田', lat: 34.2, lon: 135.1 }, t);
    registry.create(sensor, { passwordHash: 'h' });
    const latest = new Map<string, Reading>();
    const store = createMemoryAlerts();
    const recipientStore = createMemoryRecipients();
    recipientStore.add({ id: 'rc_1', channel: 'webhook', target: 'https://city.example/hook', sensors: ['*'], minSeverity: 'warning', kinds: ['flood'], lang: 'ja', source: 'api' }, { now: t });
    const published: unknown[] = [];
    const alerting = createAlerting({ store, recipientStore, registry, latest, publish: (_e, d) => published.push(d), channels: [], timeZone: 'Asia/Tokyo', now: () => t, sweepMs: 3_600_000 });
    try {
      expect(alerting.recipients().map((r) => r.id)).toEqual(['rc_1']);
      const read = (levelCm: number) => {
        t += 60_000;
        const r: Reading = { sensorId: 'm-1', observedAt: t, levelCm };
        latest.set('m-1', r);
        alerting.onReading(r, sensor);
      };
      read(5);
      for (let i = 0; i < 5 && store.active().length === 0; i++) read(22);
      const raised = store.active();
      expect(raised).toHaveLength(1);
      expect(raised[0]).toMatchObject({ sensorId: 'm-1', kind: 'flood', severity: 'warning', state: 'raised' });
      for (let i = 0; i < 5 && store.active()[0]?.severity !== 'danger'; i++) read(35);
      expect(store.active()[0]?.severity).toBe('danger');
      // Down in steps (a sudden drop may be a spike), then it must stay low for the hold time (ALERT_HOLD_S).
      for (const level of [28, 20, 12, 5]) read(level);
      for (let i = 0; i < 120 && store.active().length > 0; i++) read(0);
      expect(store.active()).toEqual([]);
      const types = store.events(raised[0]!.id).map((e) => e.type);
      expect(types[0]).toBe('raised');
      expect(types).toContain('escalated');
      expect(types.at(-1)).toBe('resolved');
      expect(published.length).toBeGreaterThanOrEqual(3);
    } finally {
      await alerting.close();
    }
  });
});
