import { describe, expect, it } from 'vitest';
import type { Reading } from '../../services/core/reading.ts';
import { createSensor } from '../../services/core/sensor.ts';
import { createStatusTracker } from '../../services/ingest/status-tracker.ts';
import { createRateLimitedLog } from '../../services/logger.ts';
import { createMemorySensorRegistry } from '../../services/storage/memory-sensor-registry.ts';

describe('status tracker', () => {
  it('reports a change once, and notices silence (offline) on the sweep', () => {
    let now = 1_000_000;
    const registry = createMemorySensorRegistry();
    registry.create(createSensor({ id: 's1', name: 's', lat: 0, lon: 0, intervalS: 60 }, now), { passwordHash: 'x' });
    const latest = new Map<string, Reading>();
    const tracker = createStatusTracker({ registry, latest, now: () => now });
    expect(tracker.sweep()).toEqual([{ sensorId: 's1', status: 'offline', previous: undefined }]);

    latest.set('s1', { sensorId: 's1', observedAt: now, levelCm: 12 });
    expect(tracker.check('s1')).toEqual({ sensorId: 's1', status: 'caution', previous: 'offline' });
    expect(tracker.check('s1')).toBeUndefined();
    now += 3 * 60_000 - 1;
    expect(tracker.sweep()).toEqual([]);
    now += 1;
    expect(tracker.sweep()).toEqual([{ sensorId: 's1', status: 'offline', previous: 'caution' }]);
    expect(tracker.current('s1')).toBe('offline');
  });
});

describe('rate-limited log', () => {
  it('logs at most N lines a minute per key, then says how many it suppressed', () => {
    let now = 0;
    const lines: string[] = [];
    const log = createRateLimitedLog((key, msg) => lines.push(`${key}: ${msg}`), { perMinute: 3, now: () => now });
    for (let i = 0; i < 100; i++) log('bad:s1', 'reading rejected');
    log('bad:s2', 'reading rejected');
    expect(lines).toEqual(['bad:s1: reading rejected', 'bad:s1: reading rejected', 'bad:s1: reading rejected', 'bad:s2: reading rejected']);
    now += 60_000;
    log('bad:s1', 'reading rejected');
    expect(lines.slice(4)).toEqual(['bad:s1: 97 similar messages suppressed', 'bad:s1: reading rejected']);
  });
});
